"""The instructor's and the student's commands on an assignment of the course's own:
defined from docs/assignments.md alone, graded, exported, sharded; --json everywhere."""
import csv
import difflib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pylab.cli import main as cli
from pylab.grading import exercises

DOCS = Path(__file__).resolve().parent.parent / "docs" / "assignments.md"


def files_from_docs(root: Path) -> Path:
    """Every block of docs/assignments.md marked `<!-- file: PATH -->`, written under root."""
    text = DOCS.read_text()
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    for rel, body in blocks:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root / "week2"


@pytest.fixture(scope="module")
def week2(tmp_path_factory):
    return files_from_docs(tmp_path_factory.mktemp("course"))


P2_WAITPID = r'''#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    printf("hello world (pid:%d)\n", getpid());
    pid_t rc = fork();
    if (rc == 0) { printf("hello, I am child (pid:%d)\n", getpid()); return 0; }
    pid_t wc = waitpid(rc, NULL, 0);
    printf("hello, I am parent of %d (wc:%d) (pid:%d)\n", rc, wc, getpid());
    return 0;
}
'''
# Never collects its child, yet prints in order: it reads a pipe the child's exit closes.
P2_NO_WAIT = r'''#include <stdio.h>
#include <unistd.h>
int main(void) {
    int fds[2]; char c;
    printf("hello world (pid:%d)\n", getpid());
    fflush(stdout);
    if (pipe(fds) < 0) return 1;
    pid_t rc = fork();
    if (rc == 0) { close(fds[0]); printf("hello, I am child (pid:%d)\n", getpid()); return 0; }
    close(fds[1]);
    while (read(fds[0], &c, 1) > 0) {}
    printf("hello, I am parent of %d (wc:%d) (pid:%d)\n", rc, rc, getpid());
    return 0;
}
'''
P2_WRONG_PID = P2_WAITPID.replace("(pid:%d)\\n\", rc, wc, getpid())", "(pid:%d)\\n\", rc, wc, getppid())")


def five_submissions(batch: Path, week2: Path) -> Path:
    texts = {"perfect": (week2 / "p2" / "reference.c").read_text(), "waitpid": P2_WAITPID,
             "no_wait": P2_NO_WAIT, "wrong_pid": P2_WRONG_PID, "broken": "int main(void) { return 0 }\n"}
    for name, text in texts.items():
        (batch / name).mkdir(parents=True)
        (batch / name / "p2.c").write_text(text)
    return batch


def test_p2_defined_from_the_docs_alone_grades_five_submissions_and_a_perfect_one_scores_100(week2, tmp_path):
    assert cli.main(["assignment", "verify", str(week2)]) == 0
    batch = five_submissions(tmp_path / "batch", week2)
    out = tmp_path / "out"
    assert cli.main(["grade", str(batch), "--assignment", str(week2), "--results", str(out), "--jobs", "2"]) == 1
    rows = {r["submission"]: r for r in csv.DictReader((out / "summary.csv").open())}
    feedback = {n: json.loads((out / f"{n}.json").read_text())["tests"] for n in rows}
    assert float(rows["perfect"]["percent"]) == 100.0, feedback["perfect"] and float(rows["perfect"]["max_score"]) == 10
    assert float(rows["waitpid"]["percent"]) == 100.0, feedback["waitpid"]  # correct, written differently
    assert float(rows["no_wait"]["p2/child_collected"]) == 0  # seen from outside: nothing collected it
    assert float(rows["no_wait"]["p2/parent_waits"]) == 6, feedback["no_wait"]  # though its lines were right
    assert float(rows["wrong_pid"]["p2/parent_waits"]) == 0
    assert float(rows["broken"]["score"]) == 0
    doc = json.loads((out / "broken.json").read_text())
    assert "does not compile" in doc["tests"][0]["output"]


def test_grade_json_and_check_json_are_the_report_check_shows_visible_checks_only(week2, tmp_path, capsys):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(week2 / "p2" / "reference.c", sub / "p2.c")
    assert cli.main(["grade", str(sub), "--assignment", str(week2), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["score"] == doc["max_score"] == 10 and doc["full_marks"] is True
    assert {r["visibility"] for r in doc["results"]} == {"visible", "after_due_date"}
    assert cli.main(["check", str(sub), "--assignment", str(week2), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["check"] for r in doc["results"]] == ["parent_waits", "child_collected"]
    assert doc["checks_when_graded"] == 1  # counted, never shown


def test_starter_json_lists_what_it_wrote_and_kept(week2, tmp_path, capsys):
    (tmp_path / "p2.c").write_text("/* mine */\n")
    assert cli.main(["starter", str(tmp_path), "--assignment", str(week2), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"dir": str(tmp_path), "assignment": "Week 2: process API", "exercises": ["p2"],
                   "written": ["p2.md", "README.md"], "kept": ["p2.c"]}
    assert (tmp_path / "p2.c").read_text() == "/* mine */\n"


def test_grading_a_subset_of_the_practice_assignment_by_name(tmp_path, capsys):
    zombie = exercises.find("zombie")
    shutil.copy(zombie.reference_source(), tmp_path / "zombie.c")
    assert cli.main(["grade", str(tmp_path), "zombie", "--json"]) == 0  # the other ten are not asked for
    doc = json.loads(capsys.readouterr().out)
    assert {r["exercise"] for r in doc["results"]} == {"zombie"} and doc["score"] == zombie.max_score
    assert cli.main(["check", str(tmp_path), "zombie"]) == 0
    assert cli.main(["grade", str(tmp_path), "zombie", "nope"]) == 2
    assert "no exercise 'nope'" in capsys.readouterr().err


def test_check_takes_exercises_without_a_folder_and_uses_the_current_one(tmp_path, monkeypatch, capsys):
    shutil.copy(exercises.find("getpid_test").reference_source(), tmp_path / "getpid_test.c")
    monkeypatch.chdir(tmp_path)
    rc, out = cli.main(["check", "getpid_test"]), capsys.readouterr().out
    assert rc == 0, out
    assert "[PASS] getpid_test: prints its own PID" in out


def test_new_exercise_scaffolds_a_passing_reference_and_a_failing_starter(tmp_path, capsys):
    assert cli.main(["new-exercise", str(tmp_path / "course" / "p3")]) == 0
    assert (tmp_path / "course" / "assignment.toml").read_text().count('name = "p3"') == 1
    capsys.readouterr()
    assert cli.main(["assignment", "verify", str(tmp_path / "course"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["exercises"]
    assert row["reference"] == row["max_score"] > 0 and row["starter"] == 0 and doc["ok"]
    assert cli.main(["new-exercise", str(tmp_path / "course" / "p3")]) == 2  # not over an existing one


def test_verify_reports_a_reference_that_fails_its_checks(tmp_path, capsys):
    cli.main(["new-exercise", str(tmp_path / "course" / "p3")])
    ref = tmp_path / "course" / "p3" / "reference.c"
    ref.write_text(ref.read_text().replace("waitpid(pid, NULL, 0) < 0", "0"))
    capsys.readouterr()
    assert cli.main(["assignment", "verify", str(tmp_path / "course")]) == 1
    assert "reference fails p3: the parent collects its child" in capsys.readouterr().out


def test_the_student_bundle_holds_no_reference_no_hidden_check_and_no_instructor_test(tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(exercises.find("zombie").folder.parent, course)
    (course / "tests").mkdir()
    (course / "tests" / "test_secret.py").write_text("def test_secret_instructor_check(): pass\n")
    (course / "zombie" / "reference.c").write_text("/* SECRET-REFERENCE */\n")
    (course / "zombie" / "exercise.toml").write_text(
        (course / "zombie" / "exercise.toml").read_text().replace('lesson = "zombie"', 'reference = "reference.c"'))
    bundle = tmp_path / "bundle"
    assert cli.main(["assignment", "export-student", str(course), str(bundle)]) == 0
    from pylab.grading import assignment as assignments
    full = assignments.load(course)
    # every file, bytecode too (where Python writes it, loading the bundle leaves __pycache__): a secret in it shows
    text = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    hidden = [c.title for e in full.exercises for c in e.checks if c.visibility != "visible"]
    assert len(hidden) == 11
    for secret in ["SECRET-REFERENCE", "test_secret_instructor_check", "lesson =", *hidden]:
        assert secret not in text, secret
    assert not list(bundle.rglob("hidden.py")) and not list(bundle.rglob("reference*"))
    assert not (bundle / "tests").exists()
    shown = assignments.load(bundle)  # the bundle is an assignment of visible checks only
    assert shown.names == full.names
    assert all(c.visibility == "visible" for e in shown.exercises for c in e.checks)
    assert sum(len(e.checks) for e in shown.exercises) == sum(len(e.checks) for e in full.exercises) - 11
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(exercises.find("zombie").reference_source(), sub / "zombie.c")
    assert cli.main(["check", str(sub), "zombie", "--assignment", str(bundle)]) == 0


def test_shards_merged_equal_the_unsharded_run(tmp_path, week2):
    batch = five_submissions(tmp_path / "batch", week2)
    whole = tmp_path / "whole"
    cli.main(["grade", str(batch), "--assignment", str(week2), "--results", str(whole), "--jobs", "2"])
    shards = []
    for k in (1, 2, 3):
        shards.append(tmp_path / f"shard{k}")
        cli.main(["grade", str(batch), "--assignment", str(week2), "--results", str(shards[-1]),
                  "--shard", f"{k}/3"])
    assert sorted(p.name for p in shards[0].glob("*.json")) == ["broken.json", "shard.json", "waitpid.json"]
    merged = tmp_path / "merged"
    assert cli.main(["assignment", "merge", str(merged), *map(str, shards)]) == 0
    assert (merged / "summary.csv").read_text() == (whole / "summary.csv").read_text()
    for name in ("perfect", "waitpid", "no_wait", "wrong_pid", "broken"):
        # the same but for timings and the PIDs that feedback names (each run has its own)
        a, b = (json.loads((d / f"{name}.json").read_text()) for d in (merged, whole))
        a.pop("execution_time"), b.pop("execution_time")
        a, b = (re.sub(r"\d{3,}", "N", json.dumps(d, indent=1)) for d in (a, b))
        assert a == b, name + "\n" + "".join(difflib.unified_diff(b.splitlines(True), a.splitlines(True),
                                                                 "unsharded", "merged"))
    assert cli.main(["assignment", "merge", str(tmp_path / "m2"), str(shards[0]), str(shards[2])]) == 2


@pytest.mark.parametrize("argv, message", [
    (["grade", ".", "--shard", "4/3"], "--shard must look like K/N"),
    (["grade", ".", "--assignment", "/no/such/assignment"], "no such directory"),
    (["starter", "/tmp/x", "--assignment", "/"], "is not an assignment"),
    (["new-exercise", "/tmp/bad name!"], "not a usable exercise name"),
])
def test_instructor_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_broken_exercise_stops_the_command_with_one_line_naming_it(week2, tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(week2, course)
    (course / "p2" / "checks.py").write_text("from pylab.grading.checks import chekc\n")
    assert cli.main(["check", str(tmp_path), "--assignment", str(course)]) == 2
    err = capsys.readouterr().err.strip()
    assert "p2/checks.py: its checks cannot be loaded (line 1): ImportError" in err and "\n" not in err


def test_the_command_line_works_through_the_installed_entry_point(week2, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(week2 / "p2" / "reference.c", sub / "p2.c")
    proc = subprocess.run([sys.executable, "-P", "-m", "pylab", "grade", str(sub), "--assignment", str(week2)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "total 10/10" in proc.stdout


def test_check_in_a_folder_started_from_an_assignment_needs_no_assignment_option(week2, tmp_path, capsys):
    work = tmp_path / "work"
    assert cli.main(["starter", str(work), "--assignment", str(week2)]) == 0
    shutil.copy(week2 / "p2" / "reference.c", work / "p2.c")
    capsys.readouterr()
    assert cli.main(["check", str(work)]) == 0
    assert "[PASS] p2: the parent collects its child before it exits" in capsys.readouterr().out


def test_classroom_and_prairielearn_results_are_for_one_submission(week2, tmp_path, capsys):
    batch = five_submissions(tmp_path / "batch", week2)
    assert cli.main(["grade", str(batch), "--assignment", str(week2), "--classroom", str(tmp_path / "c.json")]) == 2
    assert "--classroom is for one submission" in capsys.readouterr().err


def test_merge_refuses_shards_of_different_batches(week2, tmp_path, capsys):
    for batch, names in (("b1", ("a", "b")), ("b2", ("a", "c"))):
        for name in names:
            (tmp_path / batch / name).mkdir(parents=True)
            shutil.copy(week2 / "p2" / "reference.c", tmp_path / batch / name / "p2.c")
    cli.main(["grade", str(tmp_path / "b1"), "--assignment", str(week2), "--shard", "1/2", "--results",
              str(tmp_path / "r1")])
    cli.main(["grade", str(tmp_path / "b2"), "--assignment", str(week2), "--shard", "2/2", "--results",
              str(tmp_path / "r2")])
    capsys.readouterr()
    assert cli.main(["assignment", "merge", str(tmp_path / "m"), str(tmp_path / "r1"), str(tmp_path / "r2")]) == 2
    assert "different batches" in capsys.readouterr().err
    assert cli.main(["assignment", "merge", str(tmp_path / "m"), str(tmp_path / "b1")]) == 2
    assert "not the results of a shard" in capsys.readouterr().err


def test_export_refuses_a_folder_that_is_not_empty_or_inside_the_assignment(week2, tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    assert cli.main(["assignment", "export-student", str(week2), str(tmp_path / "full")]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert cli.main(["assignment", "export-student", str(week2), str(week2 / "bundle")]) == 2
    assert "inside the assignment folder" in capsys.readouterr().err


def test_new_exercise_takes_the_submission_file_name(tmp_path, capsys):
    assert cli.main(["new-exercise", str(tmp_path / "course" / "q1"), "--source", "answer.c", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == ["statement.md", "starter.c", "reference.c", "exercise.toml"]
    from pylab.grading import assignment as assignments
    assert assignments.load(tmp_path / "course").find("q1").source == "answer.c"
    assert "answer.c" in (tmp_path / "course" / "q1" / "statement.md").read_text()


def test_the_docs_python_check_example_works_as_written(week2, tmp_path, capsys):
    course = tmp_path / "week2"
    shutil.copytree(week2, course)
    block = re.search(r"```python\n(# week2/p2/checks.py.*?)```", DOCS.read_text(), re.S).group(1)
    (course / "p2" / "checks.py").write_text(block)
    assert cli.main(["assignment", "verify", str(course)]) == 0, capsys.readouterr().out
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(week2 / "p2" / "reference.c", sub / "p2.c")
    capsys.readouterr()
    assert cli.main(["check", str(sub), "--assignment", str(course)]) == 0
    assert "[PASS] p2: on a pipe, the hello line comes twice" in capsys.readouterr().out


def test_merge_and_export_into_an_existing_file_are_one_line_and_leave_it_as_it_was(week2, tmp_path, capsys):
    batch = tmp_path / "batch"
    for name in ("a", "b"):
        (batch / name).mkdir(parents=True)
        shutil.copy(week2 / "p2" / "reference.c", batch / name / "p2.c")
    for k in (1, 2):
        assert cli.main(["grade", str(batch), "--assignment", str(week2), "--shard", f"{k}/2", "--results",
                         str(tmp_path / f"r{k}")]) == 0
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    capsys.readouterr()
    for argv in (["assignment", "merge", str(afile), str(tmp_path / "r1"), str(tmp_path / "r2")],
                 ["assignment", "merge", str(afile / "below"), str(tmp_path / "r1"), str(tmp_path / "r2")],
                 ["assignment", "export-student", str(week2), str(afile)],
                 ["assignment", "export-student", str(week2), str(afile / "below")]):
        assert cli.main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert err.startswith("pylab: error: ") and err.count("\n") == 1 and out == "", (argv, err)
        assert "is not a directory" in err, err
        assert afile.read_text() == "mine\n"
    assert cli.main(["assignment", "merge", str(tmp_path / "m"), str(tmp_path / "r1"), str(tmp_path / "r2")]) == 0
    assert (tmp_path / "m" / "summary.csv").exists()  # the same shards merge into a folder


def test_starter_never_writes_the_assignment_pointer_through_a_link(week2, tmp_path, capsys):
    work, victim = tmp_path / "work", tmp_path / "victim"
    work.mkdir()
    victim.write_text("mine\n")
    (work / ".pylab-assignment").symlink_to(victim)
    assert cli.main(["starter", str(work), "--assignment", str(week2)]) == 2
    err = capsys.readouterr().err
    assert victim.read_text() == "mine\n" and "cannot write" in err and ".pylab-assignment" in err
    (work / ".pylab-assignment").unlink()
    assert cli.main(["starter", str(work), "--assignment", str(week2)]) == 0  # a file of its own: written
    assert (work / ".pylab-assignment").read_text().strip() == str(week2)
