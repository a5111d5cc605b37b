"""pytest plugin (entry point pytest11 "pylab"): fixtures for instructors' extra checks.

`pylab grade DIR --tests EXTRA_DIR` runs the pytest files in EXTRA_DIR with
--pylab-submission=DIR; each test becomes a graded check (1 point unless marked
@pytest.mark.points(N); visible unless @pytest.mark.visibility("hidden"), or
"after_due_date", "after_published"). The fixtures run student code the way the
grader does, under the same supervisor and limits:

    def test_child_exits_3(lab_compile, lab_run):
        binary = lab_compile("wait_status.c")      # the submission's file
        result = lab_run(binary, "3")               # a pylab.run.runner.RunResult
        assert result.exit_code == 0

    lab_start(binary, *args, mode=)  a live handle (pid, write, expect), killed at teardown
    lab_procstate                    pylab.observe.procstate: read_stat, wait_for_state, children
    lab_submission                   the submission folder (a Path)
    lab_sandbox                      the Sandbox itself (its uid, limits, dir)
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pylab.grading.files import write_atomic


def registered_by_entry_point() -> bool:
    """Whether pytest will load this plugin by itself (the package is installed)."""
    from importlib.metadata import entry_points

    return any(ep.value == __name__ for ep in entry_points(group="pytest11"))


def pytest_addoption(parser):
    group = parser.getgroup("pylab", "pylab grading")
    group.addoption("--pylab-submission", default=None, help="the submission folder (default: $PYLAB_SUBMISSION or .)")
    group.addoption("--pylab-report", default=None, help="write each test's outcome, points and visibility here (JSON)")
    group.addoption("--pylab-wall", type=float, default=None, help="seconds per run of student code")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points this instructor check is worth (default 1)")
    config.addinivalue_line("markers", "visibility(v): visible, hidden, after_due_date or after_published")
    if config.getoption("--pylab-report", default=None):
        config._pylab_outcomes = {}


def _marker_arg(item, name, default):
    mark = item.get_closest_marker(name)
    return mark.args[0] if mark and mark.args else default


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    table = getattr(item.config, "_pylab_outcomes", None)
    if table is None:
        return
    entry = table.setdefault(item.nodeid, {
        "nodeid": item.nodeid, "name": item.name, "outcome": "passed", "message": "",
        "points": float(_marker_arg(item, "points", 1.0)),
        "visibility": str(_marker_arg(item, "visibility", "visible")),
    })
    if rep.failed or (rep.skipped and rep.when == "call") or (rep.skipped and rep.when == "setup"):
        if entry["outcome"] == "passed":
            entry["outcome"] = "failed" if rep.failed else "skipped"
            text = getattr(rep, "longreprtext", "") or str(rep.longrepr or "")
            entry["message"] = text[-2000:]


def pytest_sessionfinish(session):
    table = getattr(session.config, "_pylab_outcomes", None)
    path = session.config.getoption("--pylab-report", default=None)
    if table is None or not path:
        return
    write_atomic(path, json.dumps(list(table.values()), indent=1))


# -- fixtures --------------------------------------------------------------------------
@pytest.fixture
def lab_submission(request) -> Path:
    opt = request.config.getoption("--pylab-submission", default=None)
    return Path(opt or os.environ.get("PYLAB_SUBMISSION") or ".").resolve()


@pytest.fixture
def lab_sandbox(request):
    from pylab.grading.sandbox import Limits, Sandbox

    wall = request.config.getoption("--pylab-wall", default=None)
    with Sandbox(Limits(wall=wall) if wall else Limits()) as sandbox:
        yield sandbox


@pytest.fixture
def lab_compile(lab_sandbox, lab_submission):
    """compile(name_or_path) -> binary path; a bare name is looked up in the submission.
    Raises pylab.run.toolchain.CompileError (its .output is the compiler's)."""
    def compile_(source):
        path = Path(source)
        if not path.is_absolute():
            path = lab_submission / path
        if not path.is_file():
            pytest.fail(f"the submission has no file {path.name}", pytrace=False)
        return lab_sandbox.compile(path)
    return compile_


@pytest.fixture
def lab_run(lab_sandbox):
    """run(binary, *args, mode="pipe", stdin=None, timeout=None) -> RunResult, supervised."""
    def run(binary, *args, mode="pipe", stdin=None, timeout=None):
        result, _ = lab_sandbox.run([binary, *args], mode=mode, stdin=stdin, timeout=timeout)
        return result
    return run


@pytest.fixture
def lab_start(lab_sandbox):
    """start(binary, *args, mode="pipe") -> a live pylab.run.runner.Process, killed at teardown."""
    live = []

    def start(binary, *args, mode="pipe", timeout=None):
        proc, _ = lab_sandbox.start([binary, *args], mode=mode, timeout=timeout)
        live.append(proc)
        return proc
    yield start
    for proc in live:
        proc.__exit__(None, None, None)


@pytest.fixture
def lab_procstate():
    from pylab.observe import procstate

    return procstate
