"""The Gradescope and GitHub Classroom examples, run end to end in a simulated layout."""
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from pylab.grading import exercises
from test_grading_reports import validate_gradescope

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PYLAB = str(Path(sys.executable).with_name("pylab"))


def _reference(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ex in exercises.all_exercises():
        shutil.copy(ex.reference_source(), folder / ex.source)
    return folder


def _autograder(root: Path, pylab: str = PYLAB) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(EXAMPLES / "gradescope" / "run_autograder")], capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root),
                                                       "PYLAB": pylab})


def test_gradescope_setup_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(EXAMPLES / "gradescope" / "setup.sh")], check=True)


def test_gradescope_run_autograder_writes_results_json_for_a_submission(tmp_path):
    _reference(tmp_path / "submission")
    (tmp_path / "source" / "tests").mkdir(parents=True)
    (tmp_path / "source" / "tests" / "test_extra.py").write_text(
        "import pytest\n\n@pytest.mark.visibility('after_due_date')\n"
        "def test_fork_test_compiles(lab_compile):\n    assert lab_compile('fork_test.c').exists()\n")
    proc = _autograder(tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(doc)
    assert all(t["status"] == "passed" for t in doc["tests"])
    assert any(t["visibility"] == "after_due_date" for t in doc["tests"])


def test_gradescope_run_autograder_writes_a_zero_result_when_pylab_cannot_run(tmp_path):
    (tmp_path / "submission").mkdir()
    proc = _autograder(tmp_path, pylab="/bin/false")
    assert proc.returncode == 0
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    assert doc["score"] == 0.0 and doc["tests"] == [] and "could not run" in doc["output"]


def _workflow_steps(text: str) -> dict:
    """{step id or name: its run command} from the workflow (a small reader, enough
    for this file: single-line `run:` values)."""
    steps, current = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*- (?:name|id): (.+)", line) or re.match(r"\s+(?:id): (.+)", line)
        if m:
            current = m.group(1).strip()
        m = re.match(r"\s+run: (.+)", line)
        if m and current:
            steps[current] = m.group(1).strip()
    return steps


def test_github_classroom_workflow_grades_a_student_repo_and_writes_the_junit_it_publishes(tmp_path):
    text = (EXAMPLES / "github-classroom" / ".github" / "workflows" / "classroom.yml").read_text()
    steps = _workflow_steps(text)
    command = shlex.split(steps["grade"])
    assert command[0] == "sudo"  # student code then runs as an unprivileged uid of its own
    grade = command[command.index("grade") - 1:]
    assert grade[1:3] == ["grade", "."]
    junit_name = grade[grade.index("--junit") + 1]
    assert re.search(rf"report_paths: {re.escape(junit_name)}", text)
    repo = _reference(tmp_path / "student-repo")
    shutil.copytree(EXAMPLES / "github-classroom" / ".github", repo / ".github")
    proc = subprocess.run([PYLAB, *grade[1:]], cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(repo / junit_name).getroot()
    assert int(root.get("tests")) > 0 and root.get("failures") == "0"
    validate_gradescope(json.loads((repo / grade[grade.index("--results") + 1]).read_text()))
