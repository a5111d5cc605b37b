"""Where the bubblewrap sandbox cannot be made, `pylab grade` refuses in one line (exit 2)
unless told `--containment uid`, and the containment a grade ran under is in its results."""
import json
import os
import shutil
import subprocess
import sys

from pylab.grading import exercises


def _pylab(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-P", "-m", "pylab", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, cwd=cwd)


def _submission(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(exercises.find("getpid_test").reference_source(), sub / "getpid_test.c")
    return sub


def test_without_namespaces_grade_refuses_in_one_line_and_still_writes_a_zero_result(tmp_path):
    sub, res = _submission(tmp_path), tmp_path / "results.json"
    r = _pylab("grade", str(sub), "getpid_test", "--results", str(res),
               env={"PYLAB_BWRAP": str(tmp_path / "no-bwrap")})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot grade untrusted code here" in lines[0] and "--containment uid" in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""
    doc = json.loads(res.read_text())
    assert doc["score"] == 0 and "cannot grade untrusted code here" in doc["output"]


def test_with_containment_uid_it_grades_and_records_the_containment(tmp_path):
    sub, res = _submission(tmp_path), tmp_path / "results.json"
    r = _pylab("grade", str(sub), "getpid_test", "--results", str(res), "--containment", "uid", "--json",
               env={"PYLAB_BWRAP": str(tmp_path / "no-bwrap")})
    assert r.returncode == 0, r.stdout + r.stderr
    expected = "uid" if os.geteuid() == 0 else "none"
    assert json.loads(r.stdout)["containment"] == expected
    doc = json.loads(res.read_text())
    assert doc["score"] == exercises.find("getpid_test").max_score
    assert doc["extra_data"]["containment"] == expected
    assert "without the namespace sandbox" in doc["output"]


def test_with_the_sandbox_the_results_say_namespaces(tmp_path):
    sub, res = _submission(tmp_path), tmp_path / "results.json"
    r = _pylab("grade", str(sub), "getpid_test", "--results", str(res))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(res.read_text())
    assert doc["extra_data"]["containment"] == "namespaces"
    assert "without the namespace sandbox" not in doc["output"]


def test_check_says_in_one_line_when_it_ran_without_the_sandbox(tmp_path):
    """A student's own work may run without namespaces, and check says so; where the
    sandbox can be made, check uses it and says nothing."""
    sub = _submission(tmp_path)
    bare = _pylab("check", str(sub), "getpid_test", env={"PYLAB_BWRAP": str(tmp_path / "no-bwrap")})
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert len([ln for ln in bare.stdout.splitlines() if "without the grading sandbox" in ln]) == 1
    boxed = _pylab("check", str(sub), "getpid_test")
    assert boxed.returncode == 0, boxed.stdout + boxed.stderr
    assert "without the grading sandbox" not in boxed.stdout
