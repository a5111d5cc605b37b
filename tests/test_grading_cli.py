"""pylab starter / check / grade: files, exit codes, batch grading, instructor checks."""
import csv
import io
import json
import os
import sys
import shutil
import time
from pathlib import Path

import pytest

from pylab.cli import main as cli
from pylab.grading import exercises
from pylab.cli.grading import Progress
from pylab.grading.grader import Report
from pylab.grading.sandbox import SandboxError
from test_grading_reports import validate_gradescope
from support import into_a_closed_pipe, process_room, pylab_argv


def _reference(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for ex in exercises.all_exercises():
        shutil.copy(ex.reference_source(), folder / ex.source)
    return folder


def test_starter_writes_statements_and_starters_and_keeps_student_files(tmp_path, capsys):
    (tmp_path / "fork_test.c").write_text("/* mine */\n")
    assert cli.main(["starter", str(tmp_path)]) == 0
    for ex in exercises.all_exercises():
        assert (tmp_path / f"{ex.name}.md").read_text() == ex.statement
    assert (tmp_path / "fork_test.c").read_text() == "/* mine */\n"
    assert (tmp_path / "zombie.c").read_text() == exercises.find("zombie").starter
    out = capsys.readouterr().out
    assert "kept your existing files: fork_test.c" in out and "(README.md lists them)" in out
    readme = (tmp_path / "README.md").read_text()
    assert all(f"- [{ex.name}]({ex.name}.md)" in readme for ex in exercises.all_exercises())


def test_starter_keeps_a_readme_the_student_already_has_and_says_so(tmp_path, capsys):
    (tmp_path / "README.md").write_text("my notes\n")
    assert cli.main(["starter", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_text() == "my notes\n"
    out = capsys.readouterr().out
    assert "kept your existing files: README.md" in out and "README.md lists them" not in out
    assert (tmp_path / "zombie.c").read_text() == exercises.find("zombie").starter  # the rest is written
    assert cli.main(["starter", str(tmp_path), "--json"]) == 0  # again: every file is now the student's
    doc = json.loads(capsys.readouterr().out)
    assert doc["written"] == [] and "README.md" in doc["kept"] and len(doc["kept"]) == 2 * len(doc["exercises"]) + 1
    assert (tmp_path / "README.md").read_text() == "my notes\n"


def test_starter_never_writes_through_a_link_the_folder_holds(tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    work = tmp_path / "work"
    work.mkdir()
    (work / "README.md").symlink_to(outside)  # dangling: writing README.md would create outside.txt
    assert cli.main(["starter", str(work)]) == 0
    assert not outside.exists() and (work / "README.md").is_symlink()
    assert "kept your existing files: README.md" in capsys.readouterr().out


def test_check_shows_expected_observed_and_hint_and_exits_1_on_the_starter(tmp_path, capsys):
    cli.main(["starter", str(tmp_path)])
    capsys.readouterr()
    assert cli.main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] getpid_test: prints its own PID" in out
    assert "expected: " in out and "observed: " in out and "hint: " in out
    assert "hidden" not in out  # students see visible checks only


def test_check_exits_0_when_every_visible_check_passes(tmp_path, capsys):
    assert cli.main(["check", str(_reference(tmp_path))]) == 0
    assert "[FAIL]" not in capsys.readouterr().out


def test_grade_writes_results_and_junit_and_exits_0_on_full_marks(tmp_path, capsys):
    sub = _reference(tmp_path / "sub")
    res, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    assert cli.main(["grade", str(sub), "--results", str(res), "--junit", str(junit)]) == 0
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    assert all(t["status"] == "passed" for t in doc["tests"])
    assert junit.read_text().startswith("<?xml")
    assert "hidden checks not shown" in capsys.readouterr().out


def test_grade_exits_1_below_full_marks(tmp_path, capsys):
    sub = _reference(tmp_path / "sub")
    (sub / "exit2.c").write_text("#include <stdio.h>\nint main(void){ printf(\"output begin\\n\"); return 0; }\n")
    # two exercises, one of them short of full marks (the other nine would only pass)
    assert cli.main(["grade", str(sub), "getpid_test", "exit2", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert 0 < doc["score"] < doc["max_score"]
    assert {r["exercise"] for r in doc["results"] if not r["passed"]} == {"exit2"}


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_a_grade_below_full_marks_keeps_exit_1_when_its_reader_goes_away(tmp_path, unbuffered):
    """`pylab grade DIR | head -1` in a CI with pipefail: the broken pipe is no pass."""
    sub = _reference(tmp_path / "sub")
    (sub / "exit2.c").write_text("#include <stdio.h>\nint main(void){ printf(\"output begin\\n\"); return 0; }\n")
    out = into_a_closed_pipe([sys.executable, "-P", "-m", "pylab", "grade", str(sub), "getpid_test", "exit2"],
                             unbuffered)
    assert (out.returncode, out.stderr) == (1, ""), out.stderr


@pytest.mark.parametrize("argv, message", [
    (["grade", "/no/such/dir"], "no such directory"),
    (["check", "/no/such/dir"], "no such directory"),
    (["grade", ".", "--jobs", "0"], "--jobs must be at least 1"),
    (["grade", ".", "--tests", "/no/such/tests"], "--tests: no such directory"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_results_are_written_even_when_the_grader_cannot_run(tmp_path, monkeypatch):
    def no_sandbox(*a, **kw):
        raise SandboxError("no free uid to run student code")
    monkeypatch.setattr("pylab.grading.grader.Sandbox", no_sandbox)
    res = tmp_path / "results.json"
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "--results", str(res)]) == 2
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    assert doc["score"] == 0
    assert all("no free uid" in t["output"] for t in doc["tests"])


def test_batch_grades_each_student_in_parallel_with_a_csv_summary(tmp_path, capsys):
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    bob = _reference(batch / "bob")
    (bob / "zombie.c").unlink()
    (batch / "carol").mkdir()
    out = tmp_path / "out"
    # two exercises: bob has one of the two files, carol none
    rc = cli.main(["grade", str(batch), "getpid_test", "zombie", "--results", str(out), "--junit", str(tmp_path / "junit"),
                   "--jobs", "2"])
    assert rc == 1  # not everyone has full marks
    rows = {r["submission"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert set(rows) == {"alice", "bob", "carol"}
    assert rows["alice"]["score"] == rows["alice"]["max_score"]
    assert float(rows["carol"]["score"]) == 0
    assert 0 < float(rows["bob"]["score"]) < float(rows["bob"]["max_score"])
    for name in rows:
        validate_gradescope(json.loads((out / f"{name}.json").read_text()))
        assert (tmp_path / "junit" / f"{name}.xml").exists()
    err = capsys.readouterr().err  # not a terminal here: plain lines
    assert sorted(ln.split(":")[0] for ln in err.splitlines() if ln.startswith("graded ")) == [
        "graded 1/3", "graded 2/3", "graded 3/3"]


def test_progress_is_a_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    stream = Tty()
    p = Progress(2, stream)
    p.step("alice", Report("alice"))
    p.step("bob", Report("bob"))
    text = stream.getvalue()
    assert text.startswith("\r[") and "2/2" in text and text.endswith("\n")
    assert "graded" not in text


INSTRUCTOR_TESTS = '''
import pytest

@pytest.mark.points(2)
def test_getpid_line_with_stdout_to_a_file(lab_compile, lab_run):
    binary = lab_compile("getpid_test.c")
    result = lab_run(binary, mode="file")
    assert result.stdout_text == f"The current process ID is {result.pid}\\n"

@pytest.mark.visibility("hidden")
def test_zombie_child_is_in_state_z(lab_compile, lab_start, lab_procstate):
    proc = lab_start(lab_compile("zombie.c"), "-")
    kid = lab_procstate.call_until(lambda: lab_procstate.children(proc.pid), bool, timeout=5)[0]
    assert lab_procstate.wait_for_state(kid, "Z", timeout=5) == "Z"
    proc.write("\\n")
    assert proc.wait(timeout=10).exit_code == 0

def test_that_fails(lab_submission):
    assert not (lab_submission / "getpid_test.c").exists(), "instructor says no"
'''


def test_instructor_pytest_checks_join_the_grade_through_the_plugin(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_more.py").write_text(INSTRUCTOR_TESTS)
    res = tmp_path / "results.json"
    # the two exercises whose files the instructor's checks build
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "zombie", "--results", str(res),
                     "--tests", str(extra)]) == 1
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    mine = {t["name"].split(": ", 1)[1]: t for t in doc["tests"] if t["name"].startswith("instructor")}
    assert mine["test_getpid_line_with_stdout_to_a_file"]["score"] == 2.0
    assert mine["test_zombie_child_is_in_state_z"]["visibility"] == "hidden"
    assert mine["test_zombie_child_is_in_state_z"]["status"] == "passed"
    assert mine["test_that_fails"]["status"] == "failed"
    assert "instructor says no" in mine["test_that_fails"]["output"]


MORE_INSTRUCTOR_TESTS = '''
import pytest
from pylab.grading.checks import Fail

pytestmark = pytest.mark.exercise("getpid_test")


@pytest.mark.points(4)
def test_partial_credit(lab_credit):
    lab_credit(0.25)


@pytest.mark.points(2)
def test_a_fail_gives_its_three_parts(lab_compile):
    raise Fail(expected="E-part", observed="O-part", hint="H-part", credit=0.5)


@pytest.mark.time_limit(0.5)
def test_over_its_own_time_limit(lab_compile, lab_start):
    proc = lab_start(lab_compile("quiet.c"))
    proc.wait()
    import time
    while True:
        time.sleep(0.05)  # the instructor's own code runs away: only this test is lost


def test_the_guard_fails_a_fork_bomb(lab_compile, lab_run):
    result = lab_run(lab_compile("getpid_test.c"))
    assert result.exit_code == 0


def test_after_the_runaway_still_runs(lab_submission):
    assert (lab_submission / "getpid_test.c").exists()
'''
FORK_BOMB = "#include <unistd.h>\nint main(void){ for (;;) fork(); }\n"


def test_instructor_checks_get_partial_credit_feedback_time_limits_and_the_guard(tmp_path, monkeypatch,
                                                                                tmp_path_factory):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_more.py").write_text(MORE_INSTRUCTOR_TESTS)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "getpid_test.c").write_text(FORK_BOMB)
    (sub / "quiet.c").write_text("int main(void) { return 0; }\n")  # the runaway check's program: the bomb runs once
    res = tmp_path / "results.json"
    monkeypatch.chdir(tmp_path)  # --tests as a relative path
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", "wall=0.5")  # the bomb is held by the process limit, not the wall
    with process_room(tmp_path_factory):  # a fork bomb
        assert cli.main(["grade", str(sub), "getpid_test", "--results", str(res), "--tests", "extra", "--text"]) == 1
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    mine = {t["name"].split(": ", 1)[1]: t for t in doc["tests"] if "test_" in t["name"]}
    assert all(t["name"].startswith("getpid_test: ") for t in doc["tests"])  # under their exercise
    assert mine["test_partial_credit"]["score"] == 1.0
    assert mine["test_a_fail_gives_its_three_parts"]["score"] == 1.0
    assert mine["test_a_fail_gives_its_three_parts"]["output"] == "expected: E-part\nobserved: O-part\nhint: H-part"
    assert "within 0.5 s" in mine["test_over_its_own_time_limit"]["output"]
    guard = mine["test_the_guard_fails_a_fork_bomb"]
    assert guard["score"] == 0 and ("fork loop" in guard["output"] or "process" in guard["output"]), guard
    assert mine["test_after_the_runaway_still_runs"]["status"] == "passed"
    for t in mine.values():
        assert "Traceback" not in t["output"] and "def test_" not in t["output"]


def test_an_instructor_file_that_does_not_load_is_reported_without_its_source(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_broken.py").write_text("SECRET_HIDDEN_ANSWER = 42\nimport no_such_module_at_all\n")
    (extra / "test_fine.py").write_text("def test_fine():\n    pass\n")
    res = tmp_path / "results.json"
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(res),
                     "--tests", str(extra)]) == 2  # the grader's error: the grade is incomplete
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    broken = [t for t in doc["tests"] if "test_broken.py" in t["name"]]
    assert len(broken) == 1 and "could not be loaded" in broken[0]["output"] and broken[0]["max_score"] == 0
    assert "SECRET_HIDDEN_ANSWER" not in json.dumps(doc) and "no_such_module_at_all" not in json.dumps(doc)
    assert any(t["name"].endswith("test_fine") and t["status"] == "passed" for t in doc["tests"])


def test_when_all_instructor_checks_run_out_of_time_the_finished_ones_still_count(tmp_path, monkeypatch):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_slow.py").write_text(
        "import pytest, threading\n\n"
        "def test_quick_one():\n    pass\n\n"
        "@pytest.mark.time_limit(600)\n"
        "def test_runs_past_the_whole_budget():\n    threading.Event().wait(600)\n\n"
        "def test_never_reached():\n    pass\n")
    # the budget counts from the plugin's word that the checks are collected: pytest's own
    # start on a loaded machine does not eat it
    monkeypatch.setattr("pylab.grading.grader.EXTRA_TIMEOUT", 1.0)
    res = tmp_path / "results.json"
    t0 = time.monotonic()
    cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(res), "--tests", str(extra)])
    assert time.monotonic() - t0 < 60  # ended by the budget, not by the check's own 600 s
    by = {t["name"].rsplit(": ", 1)[-1]: t for t in json.loads(res.read_text())["tests"]}
    assert by["test_quick_one"]["status"] == "passed"
    for name in ("test_runs_past_the_whole_budget", "test_never_reached"):
        assert by[name]["score"] == 0 and "did not finish" in by[name]["output"], by[name]


def test_instructor_checks_that_do_not_start_within_the_startup_bound_all_fail_as_not_finished(tmp_path, monkeypatch):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_one.py").write_text("def test_would_pass():\n    pass\n")
    monkeypatch.setattr("pylab.grading.grader.EXTRA_STARTUP", 0.0)  # no time to start at all
    res = tmp_path / "results.json"
    cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(res), "--tests", str(extra)])
    doc = json.loads(res.read_text())["tests"]
    mine = [t for t in doc if "test_would_pass" in t["name"] or t["name"].startswith("instructor")]
    assert mine and all(t["score"] == 0 for t in mine), mine
    assert not any(t["name"].endswith("test_would_pass") and t["status"] == "passed" for t in doc)


@pytest.mark.parametrize("spec, named", [
    ("wall=-1", "wall"), ("wall=0", "wall"), ("wall=nan", "wall"), ("compile_wall=inf", "compile_wall"),
    ("linger=-0.5", "linger"), ("nproc=0", "nproc"), ("cpu=-3", "cpu"), ("memory=0", "memory"),
    ("wall=2,nofile=0", "nofile"),
])
@pytest.mark.parametrize("command", ["check", "grade", "verify"])
def test_limits_out_of_range_are_a_usage_error_before_anything_runs(spec, named, command, tmp_path, monkeypatch,
                                                                    capsys):
    def never(*a, **kw):
        raise AssertionError("a check ran under limits that should have been refused")
    monkeypatch.setattr("pylab.cli.grading.grade_submission", never)
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", spec)
    sub = _reference(tmp_path / "sub")
    argv = {"check": ["check", str(sub), "getpid_test"], "grade": ["grade", str(sub), "getpid_test"],
            "verify": ["assignment", "verify", str(exercises.find("getpid_test").folder.parent), "getpid_test"]}
    assert cli.main(argv[command]) == 2
    out, err = capsys.readouterr()
    value = spec.split(",")[-1].split("=")[1]
    assert err.startswith("pylab: error: PYLAB_GRADE_LIMITS: ") and len(err.strip().splitlines()) == 1, err
    assert f"{named} must be" in err and repr(value) in err, err
    assert out == ""


def test_limits_in_range_are_taken(monkeypatch):
    from pylab.cli.grading import limits_from_env
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", "wall=0.5, nproc=16,linger=0,cpu=3")
    got = limits_from_env()
    assert (got.wall, got.nproc, got.linger, got.cpu) == (0.5, 16, 0.0, 3)


def test_an_instructor_file_with_a_syntax_error_means_no_full_marks_and_exit_2_naming_the_file(tmp_path, capsys):
    extra = tmp_path / "bad_tests"
    extra.mkdir()
    (extra / "test_b.py").write_text("def test_a(:\n    pass\n")
    (extra / "test_ok.py").write_text("def test_ok():\n    pass\n")
    sub = _reference(tmp_path / "sub")
    res, classroom = tmp_path / "results.json", tmp_path / "classroom.json"
    # every point the submission could earn, but not every check of the grade ran
    assert cli.main(["grade", str(sub), "getpid_test", "--tests", str(extra), "--results", str(res),
                     "--classroom", str(classroom)]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and err.startswith("pylab: error: ") and "test_b.py" in err, err
    assert "could not be loaded" in err and "incomplete" in err
    row = next(ln for ln in out.splitlines() if "test_b.py loads" in ln)
    assert row.split()[-1] == "ERROR", row  # the grader's error, not a failure of the student's
    assert "grading incomplete: " in out and "test_b.py" in out
    doc = json.loads(res.read_text())
    validate_gradescope(doc)
    assert doc["score"] == 5.0 and "Grading incomplete" in doc["output"]  # what did run still counts
    assert json.loads(classroom.read_text())["status"] == "error"
    assert cli.main(["grade", str(sub), "getpid_test", "--tests", str(extra), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["full_marks"] is False and "test_b.py" in doc["env_error"]
    assert [r["error"] for r in doc["results"] if r["title"] == "test_b.py loads"] == [True]


def test_instructor_checks_that_report_nothing_are_not_full_marks(tmp_path, capsys):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "conftest.py").write_text("raise RuntimeError('the instructor broke conftest')\n")
    (extra / "test_ok.py").write_text("def test_ok():\n    pass\n")
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--tests", str(extra),
                     "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["full_marks"] is False and "pytest reported no test" in doc["env_error"]
    assert doc["score"] == doc["max_score"]  # no point lost: it is the grade that is incomplete


def test_a_result_that_is_the_graders_error_is_never_full_marks_even_at_0_points():
    from pylab.grading.grader import CheckResult
    report = Report("sub", results=[CheckResult("e", "c", "t", "1.1", 1.0, score=1.0),
                                    CheckResult("instructor", "x.py", "x.py loads", "2.1", 0.0,
                                                observed="could not be loaded", error=True)])
    assert report.score == report.max_score and not report.full_marks
    assert Report("sub", results=report.results[:1]).full_marks  # without it: full marks


def _pylab(*args, env=None, cwd=None, timeout=120):
    """A real `python -m pylab` (-P: the installed pylab, never a source tree's)."""
    import os
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-P", "-m", "pylab", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", ["check", "verify"])
def test_an_environment_error_in_check_and_verify_is_one_line_on_stderr_and_exit_2(command, tmp_path):
    sub = _reference(tmp_path / "sub")
    practice = exercises.find("getpid_test").folder.parent
    argv = {"check": ["check", sub, "getpid_test"], "verify": ["assignment", "verify", practice, "getpid_test"]}
    for json_flag in ([], ["--json"]):
        proc = _pylab(*argv[command], *json_flag, env={"PATH": "/nonexistent"})  # no compiler, no bubblewrap
        assert proc.returncode == 2, proc
        err = proc.stderr.strip()
        assert err.startswith("pylab: error: ") and "\n" not in err, err
        assert ("gcc" in err or "bubblewrap" in err) and "Traceback" not in err, err
        assert proc.stdout == "", proc.stdout  # no check reported as failed that never ran, no "(containment: None)"


def test_check_reports_a_grader_that_cannot_run_in_one_line(tmp_path, monkeypatch, capsys):
    def no_sandbox(*a, **kw):
        raise SandboxError("no free uid to run student code")
    monkeypatch.setattr("pylab.grading.grader.Sandbox", no_sandbox)
    assert cli.main(["check", str(_reference(tmp_path / "sub")), "getpid_test"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "pylab: error: no free uid to run student code\n"


def _descendants_named(pid: int, comm: str) -> list[int]:
    from pylab.observe import procstate
    found = []
    for p in procstate.descendants(pid):
        try:
            if procstate.read_stat(p).comm == comm:
                found.append(p)
        except procstate.NoSuchProcess:
            pass
    return found


def _interruptible_pylab(*args, env: dict):
    """`python -m pylab ARGS`, a real process, with SIGINT at its default whatever this
    test inherited (a suite run as a background job inherits it ignored, and Python then
    never raises KeyboardInterrupt)."""
    import subprocess
    return subprocess.Popen(pylab_argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def _interrupted_once_running(*args, env: dict):
    """_interruptible_pylab(ARGS), sent SIGINT once a submission's program (getpid_test)
    runs under it (the handshake); returns (returncode, stdout, stderr)."""
    import signal
    from pylab.observe import procstate
    proc = _interruptible_pylab(*args, env=env)
    try:
        procstate.call_until(lambda: _descendants_named(proc.pid, "getpid_test"), bool, timeout=90,
                             what="a submission's program running under pylab grade")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, stdout, stderr


def test_an_interrupted_grade_leaves_existing_result_files_as_they_were(tmp_path):
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "getpid_test.c").write_text("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    out = tmp_path / "out"
    out.mkdir()
    keep_json, keep_xml = out / "keep.json", out / "keep.xml"
    keep_json.write_text('{"score": 55.0, "tests": []}\n')
    keep_xml.write_text('<?xml version="1.0"?>\n<testsuites tests="31"/>\n')
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    rc, stdout, stderr = _interrupted_once_running("grade", slow, "getpid_test", "--results", keep_json, "--junit",
                                                   keep_xml, env={"PYLAB_GRADE_LIMITS": "wall=120"})  # outlasts the test
    assert rc == 130, (stdout, stderr)
    assert "pylab: interrupted" in stderr and "Traceback" not in stderr, stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the same files, byte for byte, no temp file


def test_an_interrupted_batch_grades_no_submission_it_had_not_started(tmp_path):
    batch = tmp_path / "batch"
    for name in ("a1", "b2", "c3"):  # graded in this order, one at a time (--jobs 1)
        (batch / name).mkdir(parents=True)
        (batch / name / "getpid_test.c").write_text("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    out = tmp_path / "out"
    rc, stdout, stderr = _interrupted_once_running("grade", batch, "getpid_test", "--jobs", "1", "--results", out,
                                                   env={"PYLAB_GRADE_LIMITS": "wall=1"})  # a1's program runs
    assert rc == 130 and "pylab: interrupted" in stderr, (stdout, stderr)
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    # nothing: not the ones not started, nor the one the stop cut short (a1: its grade would be wrong)
    assert written == [], written


def test_an_environment_error_writes_this_run_s_zero_result_over_an_older_file(tmp_path):
    # a course's CI reads the file whatever the exit status: it must be this run's result,
    # never an older grade nor one a student committed to the repository
    sub = _reference(tmp_path / "sub")
    keep, new = tmp_path / "keep.json", tmp_path / "new.xml"
    keep.write_text('{"score": 55.0, "tests": []}\n')
    proc = _pylab("grade", sub, "--results", keep, "--junit", new, env={"PATH": "/nonexistent"})  # no bubblewrap
    assert proc.returncode == 2, proc
    err = proc.stderr.strip()
    assert err.startswith("pylab: error: ") and "\n" not in err and "Traceback" not in err, err
    doc = json.loads(keep.read_text())
    assert doc["score"] == 0 and "cannot grade untrusted code here" in doc["output"]
    assert 'tests="0"' in new.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json", "new.xml", "sub"]  # no temp file left


@pytest.mark.parametrize("where", ["before grading", "while grading"])
def test_a_zero_result_is_written_over_any_file_there_was(where, tmp_path, monkeypatch, capsys):
    if where == "before grading":
        monkeypatch.setattr("pylab.cli.grading.namespaces_problem", lambda: "no user namespaces here")
    else:
        def no_sandbox(*a, **kw):
            raise SandboxError("no free uid to run student code")
        monkeypatch.setattr("pylab.grading.grader.Sandbox", no_sandbox)
    sub = _reference(tmp_path / "sub")
    new, classroom = tmp_path / "new.json", tmp_path / "classroom.json"
    classroom.write_text('{"forged": "13/13"}\n')  # e.g. committed in a student's repository
    assert cli.main(["grade", str(sub), "getpid_test", "--results", str(new), "--junit", str(tmp_path / "j.xml"),
                     "--classroom", str(classroom)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "forged" not in classroom.read_text() and json.loads(classroom.read_text())["status"] == "error"
    doc = json.loads(new.read_text())
    if where == "while grading":  # (before it, there are no tests to list)
        validate_gradescope(doc)
    assert doc["score"] == 0 and ("namespaces" in doc["output"] or "no free uid" in doc["output"])
    assert (tmp_path / "j.xml").exists()


def test_an_assignment_tests_folder_without_test_files_is_no_instructor_check(tmp_path):
    from pylab.grading.grader import extra_checks
    from pylab.grading.sandbox import Limits
    tests = tmp_path / "tests"
    (tests / "__pycache__").mkdir(parents=True)  # as a shipped example's folder may be
    (tests / "conftest.py").write_text("")
    incomplete: list[str] = []
    assert extra_checks(tests, tmp_path, Limits(wall=5.0), 1, incomplete) == [] and incomplete == []


def _never_grade(monkeypatch):
    def never(*a, **kw):
        raise AssertionError("graded before the output paths were checked")
    monkeypatch.setattr("pylab.cli.grading.grade_submission", never)


@pytest.mark.parametrize("flag", ["--results", "--junit", "--classroom", "--prairielearn"])
def test_an_output_path_that_is_a_directory_is_a_usage_error_before_any_grading(flag, tmp_path, monkeypatch,
                                                                                capsys):
    _never_grade(monkeypatch)
    taken = tmp_path / "taken"
    (taken / "inside").mkdir(parents=True)
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", flag, str(taken)]) == 2
    out, err = capsys.readouterr()
    assert err == f"pylab: error: {flag} {taken}: is a directory: name the file to write\n" and out == ""
    assert [p.name for p in taken.iterdir()] == ["inside"]


@pytest.mark.parametrize("bad, message", [
    ("afile/results.json", "afile is not a directory"),
    ("afile/deeper/results.json", "afile is not a directory"),
])
def test_an_output_path_below_a_file_is_a_usage_error_before_any_grading(bad, message, tmp_path, monkeypatch,
                                                                         capsys):
    _never_grade(monkeypatch)
    (tmp_path / "afile").write_text("mine\n")
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "--results", str(tmp_path / bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pylab: error: --results ") and message in err and len(err.splitlines()) == 1, err
    assert (tmp_path / "afile").read_text() == "mine\n"


def test_two_reports_into_one_file_is_a_usage_error(tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    same = tmp_path / "r.json"
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "--results", str(same), "--classroom",
                     str(tmp_path / "." / "r.json")]) == 2
    assert "the same file as --results" in capsys.readouterr().err and not same.exists()


@pytest.mark.parametrize("flag", ["--results", "--junit"])
def test_a_batch_output_folder_that_is_a_file_is_a_usage_error_before_any_grading(flag, tmp_path, monkeypatch,
                                                                                  capsys):
    _never_grade(monkeypatch)
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    argv = ["grade", str(batch), "getpid_test", "--results", str(tmp_path / "R"), flag, str(afile)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pylab: error: {flag} {afile}: exists and is not a directory") and err.count("\n") == 1
    assert afile.read_text() == "mine\n" and not (tmp_path / "R").exists()


def _failing_write(monkeypatch, name_to_fail):
    """write_atomic failing, as on a full disk, for the one file named: what no check
    beforehand can tell."""
    import errno
    from pylab.grading import files
    real = files.write_atomic

    def write(path, text):
        if Path(path).name == name_to_fail:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, text)
    monkeypatch.setattr("pylab.grading.reporters.write_atomic", write)


def test_a_results_file_that_cannot_be_written_still_shows_the_grade_and_writes_the_others(tmp_path, monkeypatch,
                                                                                            capsys):
    _failing_write(monkeypatch, "junit.xml")
    res, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(res),
                     "--junit", str(junit)]) == 2
    out, err = capsys.readouterr()
    assert "total 4/4" in out  # the grade made is shown
    assert err == f"pylab: error: the grade is made, but could not write {junit}: No space left on device\n"
    assert json.loads(res.read_text())["score"] == 4.0 and not junit.exists()


def test_a_batch_goes_on_past_a_file_it_cannot_write_and_says_so_at_the_end(tmp_path, monkeypatch, capsys):
    _failing_write(monkeypatch, "bob.json")
    batch = tmp_path / "batch"
    for name in ("alice", "bob", "carol"):
        _reference(batch / name)
    out_dir = tmp_path / "out"
    assert cli.main(["grade", str(batch), "getpid_test", "--results", str(out_dir)]) == 2
    out, err = capsys.readouterr()
    assert "3 submissions graded" in out and "bob " in out
    assert f"could not write {out_dir / 'bob.json'}: No space left on device" in err.splitlines()[-1]
    assert sorted(p.name for p in out_dir.iterdir()) == ["alice.json", "carol.json", "summary.csv"]
    rows = list(csv.DictReader((out_dir / "summary.csv").open()))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]  # the summary still holds every grade


@pytest.mark.parametrize("where", ["/proc/no-such-folder-pylab", "/sys/kernel/no-such-folder-pylab"])
def test_starter_into_a_folder_that_cannot_be_made_is_one_line(where, capsys):
    assert cli.main(["starter", where]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"pylab: error: cannot make the folder {where}: ") and err.count("\n") == 1, err
    assert out == ""


def _as_a_user_without_dac_override(*args, cwd):
    """`pylab ARGS` as a process that file modes bind: this user, or root without
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (util-linux's setpriv)."""
    import shutil
    import subprocess
    import sys
    cmd = [sys.executable, "-P", "-m", "pylab", *map(str, args)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("as root this needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        cmd = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
               "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("argv, message", [
    (["check", "locked"], "cannot read your folder locked: Permission denied"),
    (["grade", "locked"], "cannot read the submission folder locked: Permission denied"),
    (["starter", "locked"], "cannot read the folder locked: Permission denied"),
    (["starter", "readonly"], "cannot write readonly/"),
    (["check", "pointed"], "pointed/.pylab-assignment: Permission denied"),
    (["starter", "new", "--assignment", "course"], "course/zombie/statement.md: Permission denied"),
    (["grade", "sub", "--results", "readonly/results.json"], "--results readonly/results.json: cannot write in "
                                                             "readonly (permission denied)"),
])
def test_what_cannot_be_read_or_written_is_one_line_and_exit_2(argv, message, tmp_path):
    (tmp_path / "locked").mkdir(mode=0o000)
    (tmp_path / "readonly").mkdir()
    (tmp_path / "pointed").mkdir()
    (tmp_path / "pointed" / ".pylab-assignment").write_text(str(tmp_path / "course") + "\n")
    shutil.copytree(exercises.find("zombie").folder.parent, tmp_path / "course")
    _reference(tmp_path / "sub")
    try:
        for path in ("readonly", "pointed/.pylab-assignment", "course/zombie/statement.md"):
            (tmp_path / path).chmod(0o555 if path == "readonly" else 0o000)
        proc = _as_a_user_without_dac_override(*argv, cwd=tmp_path)
    finally:
        for path in ("locked", "readonly", "pointed/.pylab-assignment", "course/zombie/statement.md"):
            (tmp_path / path).chmod(0o755)  # so that pytest can remove them
    err = proc.stderr
    assert proc.returncode == 2, (proc.stdout, err)
    assert err.startswith("pylab: error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not list((tmp_path / "readonly").iterdir())
