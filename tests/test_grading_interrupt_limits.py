"""The instructor's pytest checks run student code as the grader's own checks do: under
every limit of the course (PYLAB_GRADE_LIMITS), not only the wall, and under the
containment pylab grade was told (--containment uid where namespaces cannot be made)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from pylab.grading import exercises
from pylab.grading.bwrap import INSIDE_UID
from pylab.grading.sandbox import Limits

# every limit away from its default (Limits()), so that one left at the default shows
COURSE = Limits(wall=4.0, cpu=3, memory=200 << 20, fsize=3 << 20, nofile=40, nproc=20, output=64 << 10,
                linger=0.5, compile_wall=25.0, tmp=8 << 20)
SPEC = ",".join(f"{k}={v}" for k, v in COURSE.__dict__.items())

SHOW_LIMITS = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>
static void show(const char *name, int res)
{
    struct rlimit r;
    getrlimit(res, &r);
    printf("%s %llu %llu\n", name, (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
}
int main(int argc, char **argv)
{
    struct statvfs v;
    if (argc > 1) {                       /* past the output cap */
        for (int i = 0; i < 100000; i++)
            fputs("0123456789", stdout);
        return 0;
    }
    show("cpu", RLIMIT_CPU);
    show("as", RLIMIT_AS);
    show("fsize", RLIMIT_FSIZE);
    show("nofile", RLIMIT_NOFILE);
    show("nproc", RLIMIT_NPROC);
    printf("uid %d %d\n", (int)getuid(), (int)getuid());
    if (statvfs("/tmp", &v) == 0)
        printf("tmp %llu %llu\n", (unsigned long long)v.f_blocks * v.f_frsize, 0ULL);
    return 0;
}
"""

# The instructor's check: what its sandbox and the program under it saw, to OBSERVED.
RECORDING_CHECK = '''
import dataclasses, json, os

def test_records_what_student_code_runs_under(lab_compile, lab_run, lab_sandbox):
    binary = lab_compile("show_limits.c")
    shown = lab_run(binary).stdout_text
    flood = lab_run(binary, "flood", clean=False)
    said = {"limits": dataclasses.asdict(lab_sandbox.limits), "containment": lab_sandbox.containment,
            "uid": lab_sandbox.uid, "grader_uid": os.getuid(), "flood_truncated": flood.truncated,
            "flood_bytes": len(flood.stdout),
            "seen": {w[0]: [int(w[1]), int(w[2])] for w in (ln.split() for ln in shown.splitlines())}}
    with open(OBSERVED, "w") as f:
        json.dump(said, f)
'''


def _pylab(*args, env):
    return subprocess.run([sys.executable, "-P", "-m", "pylab", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


@pytest.mark.parametrize("containment", ["namespaces", "uid"])
def test_instructor_checks_run_under_every_course_limit_and_the_containment_asked(containment, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(exercises.find("getpid_test").reference_source(), sub / "getpid_test.c")
    (sub / "show_limits.c").write_text(SHOW_LIMITS)
    observed = tmp_path / "observed.json"
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_limits.py").write_text(f"OBSERVED = {str(observed)!r}\n" + RECORDING_CHECK)
    env = {"PYLAB_GRADE_LIMITS": SPEC}
    flags = []
    if containment == "uid":  # where namespaces cannot be made
        env["PYLAB_BWRAP"] = str(tmp_path / "no-bwrap")
        flags = ["--containment", "uid"]
    res = tmp_path / "results.json"
    r = _pylab("grade", sub, "getpid_test", "--tests", extra, "--results", res, *flags, env=env)
    assert r.returncode == 0, r.stdout + r.stderr  # full marks: the check ran and passed
    doc = json.loads(res.read_text())
    assert observed.exists(), doc
    said = json.loads(observed.read_text())

    # the sandbox the check ran in: the course's limits, every one, and the grade's containment
    assert said["limits"] == COURSE.__dict__
    assert said["containment"] == doc["extra_data"]["containment"]
    assert said["containment"] == (containment if containment == "namespaces" or os.geteuid() == 0 else "none")

    # and what the program saw there
    seen = said["seen"]
    for name, value in (("cpu", COURSE.cpu), ("as", COURSE.memory), ("fsize", COURSE.fsize),
                        ("nofile", COURSE.nofile)):
        assert seen[name] == [value, value], (name, seen)  # hard = soft: it cannot raise them
    if said["containment"] == "none":  # counted on top of what the user runs (docs/grading.md)
        assert seen["nproc"][0] > COURSE.nproc, seen
    else:  # the supervisor's process on top of the course's
        assert seen["nproc"] == [COURSE.nproc + 1, COURSE.nproc + 1], seen
    if said["containment"] == "namespaces":
        assert seen["uid"][0] == INSIDE_UID
        assert seen["tmp"][0] == COURSE.tmp, seen  # its own /tmp, of the course's size
    elif said["containment"] == "uid":
        assert seen["uid"][0] == said["uid"] and said["uid"] != 0  # the pool uid, never root
    else:
        assert seen["uid"][0] == said["grader_uid"]
    assert said["flood_truncated"] and said["flood_bytes"] <= COURSE.output + 65536, said


def test_a_check_whose_sandbox_cannot_be_made_is_the_grader_s_error_not_a_failure(tmp_path, monkeypatch):
    """--containment namespaces where they cannot be made: the check could not be carried
    out (error: the grade is not the student's to lose), in one line that says why."""
    from pylab.grading.grader import extra_checks

    tests = tmp_path / "extra"
    tests.mkdir()
    (tests / "test_one.py").write_text("def test_needs_a_sandbox(lab_sandbox):\n    pass\n")
    monkeypatch.setenv("PYLAB_BWRAP", str(tmp_path / "no-bwrap"))
    (result,) = extra_checks(tests, tmp_path, Limits(), 2, containment="namespaces")
    assert result.error and result.score == 0
    assert result.observed.startswith("the check could not be carried out: bubblewrap is not installed")
    assert "\n" not in result.observed
