"""The Gradescope, GitHub Classroom and sharded-course examples, run end to end in a
simulated layout, with a course assignment and instructor checks."""
import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from test_assign_cli import files_from_docs
from test_grading_reports import validate_gradescope

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PYLAB = str(Path(sys.executable).with_name("pylab"))

COURSE = EXAMPLES / "ostep-week2"  # docs/assignments.md's p2, with instructor checks in tests/


def _course(root: Path) -> Path:
    shutil.copytree(COURSE, root)
    return root


def test_the_course_example_is_exactly_what_the_docs_show(tmp_path):
    shown = files_from_docs(tmp_path)
    for path in shown.rglob("*"):
        if path.is_file():
            assert (COURSE / path.relative_to(shown)).read_text() == path.read_text(), path.name


def _autograder(root: Path, pylab: str = PYLAB) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(EXAMPLES / "gradescope" / "run_autograder")], capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root),
                                                       "PYLAB": pylab})


def test_gradescope_setup_installs_python_3_11_from_ubuntu_and_pytest(tmp_path):
    """setup.sh run with apt-get and python3.11 replaced by recorders (no network, no root)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    recorder = f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n'
    (bin_dir / "apt-get").write_text(recorder)
    (bin_dir / "python3.11").write_text(  # `python3.11 -m venv DIR` makes DIR/bin/{pip,pylab} recorders
        recorder + 'mkdir -p "$3/bin"\n'
        f'for t in pip pylab; do printf \'#!/bin/sh\\necho "%s $*" >> {log}\\n\' "$t" > "$3/bin/$t"; '
        'chmod +x "$3/bin/$t"; done\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    proc = subprocess.run(["bash", str(EXAMPLES / "gradescope" / "setup.sh")], capture_output=True, text=True,
                          timeout=60, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "AUTOGRADER_ROOT": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    install = next(c for c in calls if c.startswith("apt-get install"))
    assert {"python3.11", "python3.11-venv", "gcc"} <= set(install.split())
    assert f"python3.11 -m venv {tmp_path}/venv" in calls
    pip = next(c for c in calls if c.startswith("pip install"))
    assert f"{tmp_path}/source/pylab" in pip.split() and "pytest" in pip.split()


def test_gradescope_run_autograder_scores_a_reference_full_marks_with_instructor_checks(tmp_path):
    course = _course(tmp_path / "course")
    shutil.copytree(course, tmp_path / "source" / "assignment")
    (tmp_path / "submission").mkdir()
    shutil.copy(course / "p2" / "reference.c", tmp_path / "submission" / "p2.c")
    proc = _autograder(tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(doc)
    assert all(t["status"] == "passed" for t in doc["tests"]), [t for t in doc["tests"] if t["status"] != "passed"]
    mine = [t for t in doc["tests"] if "test_" in t["name"]]
    assert len(mine) == 2 and all(t["name"].startswith("p2: ") for t in mine)  # under their exercise
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "hidden", "after_due_date"}
    assert doc["score"] == 10 + 3


def test_gradescope_instructor_check_failures_read_as_feedback_not_tracebacks(tmp_path):
    course = _course(tmp_path / "course")
    shutil.copytree(course, tmp_path / "source" / "assignment")
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "p2.c").write_text("#include <stdlib.h>\nint main(void){ exit(3); }\n")
    assert _autograder(tmp_path).returncode == 0
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    by = {t["name"].split(": ", 1)[1]: t for t in doc["tests"]}
    pipe = by["test_the_parent_line_on_a_pipe_names_wait_s_return"]["output"]
    assert "**expected:** the parent's line last" in pipe and "**hint:** wait() blocks" in pipe
    hidden = by["test_hidden_instructor_check_sees_exit_status_0"]["output"]
    assert "exit status 0" in hidden
    for t in doc["tests"]:
        assert "Traceback" not in t["output"] and "def test_" not in t["output"] and "lab_compile =" not in t["output"]


def test_gradescope_run_autograder_writes_a_zero_result_when_pylab_cannot_run(tmp_path):
    (tmp_path / "submission").mkdir()
    proc = _autograder(tmp_path, pylab="/bin/false")
    assert proc.returncode == 0
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    assert doc["score"] == 0.0 and doc["tests"] == [] and "could not run" in doc["output"]


def _workflow_steps(text: str) -> dict:
    """{step id or name: its run command or its whole text} from a workflow (a small
    reader, enough for these files: single-line `run:` values)."""
    steps, current = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*- (?:name|id): (.+)", line) or re.match(r"\s+(?:id): (.+)", line)
        if m:
            current = m.group(1).strip()
        m = re.match(r"\s+run: (.+)", line)
        if m and current:
            steps[current] = m.group(1).strip()
    return steps


def test_github_classroom_workflow_gives_points_and_publishes_no_hidden_output(tmp_path):
    text = (EXAMPLES / "github-classroom" / ".github" / "workflows" / "classroom.yml").read_text()
    steps = _workflow_steps(text)
    command = shlex.split(steps["grade"])
    assert command[0] == "sudo"  # student code then runs as an unprivileged uid of its own
    grade = command[command.index("grade") - 1:]
    assert grade[1:3] == ["grade", "."]
    junit_name = grade[grade.index("--junit") + 1]
    points_name = grade[grade.index("--classroom") + 1]
    assert re.search(rf"report_paths: {re.escape(junit_name)}", text)
    assert f"base64 -w0 {points_name}" in steps["pylab"]
    assert re.search(r"PYLAB_RESULTS: .*steps\.pylab\.outputs\.result", text) and "runners: pylab" in text
    code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    assert "results" not in code.replace("_RESULTS", "") and "upload-artifact" not in code  # no hidden output leaves
    repo = tmp_path / "student-repo"
    repo.mkdir()
    course = _course(tmp_path / "course")
    shutil.copytree(course, repo / grade[grade.index("--assignment") + 1])
    shutil.copy(course / "p2" / "reference.c", repo / "p2.c")
    shutil.copytree(EXAMPLES / "github-classroom" / ".github", repo / ".github")
    proc = subprocess.run([PYLAB, *grade[1:]], cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(repo / junit_name).getroot()
    assert int(root.get("tests")) > 0 and root.get("failures") == "0"
    points = json.loads(base64.b64decode(base64.b64encode((repo / points_name).read_bytes())))
    assert points["max_score"] == 13 and sum(t["score"] for t in points["tests"]) == 13
    published = (repo / points_name).read_text() + (repo / junit_name).read_text() + proc.stdout
    for hidden in ("the same lines with stdout to a file", "test_hidden_instructor_check"):
        assert hidden not in published


def test_sharded_course_workflow_merges_to_what_one_machine_gives(tmp_path):
    from test_assign_cli import five_submissions

    text = (EXAMPLES / "github-actions-shards" / ".github" / "workflows" / "grade-course.yml").read_text()
    steps = _workflow_steps(text)
    shards = int(re.search(r"SHARDS: (\d+)", text).group(1))
    assert re.search(r"shard: \[" + ", ".join(str(k) for k in range(1, shards + 1)) + r"\]", text)
    course = tmp_path / "course"
    course.mkdir()
    shutil.copytree(files_from_docs(tmp_path / "docs"), course / "assignment")
    five_submissions(course / "submissions", course / "assignment")
    env = {**os.environ, "PATH": f"{Path(PYLAB).parent}:{os.environ['PATH']}"}
    for k in range(1, shards + 1):
        line = steps["Grade one shard"].replace("${{ matrix.shard }}", str(k)).replace("${{ env.SHARDS }}", str(shards))
        line = line.replace('sudo --preserve-env=PATH "$(command -v pylab)"', "pylab")
        proc = subprocess.run(["bash", "-c", line], cwd=course, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run(["bash", "-c", steps["Merge the shards"]], cwd=course, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    whole = subprocess.run([PYLAB, "grade", "submissions", "--assignment", "assignment", "--results", "whole"],
                           cwd=course, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 1  # not everyone has full marks
    assert (course / "results" / "summary.csv").read_text() == (course / "whole" / "summary.csv").read_text()


def test_check_runs_the_assignment_s_visible_pytest_checks_and_shows_no_hidden_one(tmp_path, capsys):
    from pylab.cli import main as cli

    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(COURSE / "p2" / "reference.c", sub / "p2.c")
    assert cli.main(["check", str(sub), "--assignment", str(COURSE), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [r["check"].rsplit("::", 1)[-1] for r in doc["results"]]
    assert "test_the_parent_line_on_a_pipe_names_wait_s_return" in names
    assert not [n for n in names if "hidden" in n]
