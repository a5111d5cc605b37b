"""pytest plugin (entry point pytest11 "pylab"): instructors' checks written as pytest tests.

`pylab grade DIR --tests EXTRA_DIR` (or an assignment's own tests/ folder) runs the
pytest files there with --pylab-submission=DIR; each test becomes a graded check, with
the same feedback and partial credit as the lab's own checks:

    pytestmark = pytest.mark.exercise("zombie")    # listed under its exercise

    @pytest.mark.points(2)                          # default 1
    @pytest.mark.visibility("hidden")               # visible, hidden, after_due_date, after_published
    @pytest.mark.time_limit(10)                     # seconds for this test (default: 4x the run limit)
    def test_child_exits_3(lab_compile, lab_run, lab_credit):
        result = lab_run(lab_compile("wait_status.c"), "3")   # fails the check (with the reason)
        if result.exit_code != 0:                             # if it crashed, hung, forked away...
            raise Fail(expected="exit status 0", observed=result.describe(), hint="...")
        lab_credit(0.5)                                       # half the points, and why not all

Students never see a traceback or the test's source: a Fail gives its expected /
observed / hint; an assert its message (or "the check's assertion failed"); any other
error its type and message. The fixtures run student code the way the grader does:

    lab_compile(name)                compile a submission file in the sandbox -> binary
    lab_run(binary, *args, mode=, stdin=, timeout=, clean=True)   a RunResult; with clean,
                                     a run that timed out, crashed, flooded or left processes
                                     fails the check (the built-in checks' guard)
    lab_start(binary, *args, mode=)  a live handle (pid, write, expect), killed at teardown
    lab_procstate                    pylab.observe.procstate: read_stat, wait_for_state, children
    lab_submission                   the submission folder (a Path)
    lab_sandbox                      the Sandbox itself (its uid, limits, dir)
    lab_credit(fraction)             the share of the points this test earns

Run by the grader (pylab.grading.grader.extra_checks), the plugin is also told the
course's limits and the grade's containment (lab_sandbox is then a sandbox like the
grader's own), a ledger (where every sandbox records what it makes, for the grader to
remove if this pytest must be killed) and a lifeline: SIGTERM, or the end of the
lifeline (the grader stopped, or gone), stops the checks as Ctrl-C does, and pytest's
teardown closes their sandboxes.
"""
from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from pylab.grading.exercise import Fail, require_clean
from pylab.grading.files import write_atomic

# pytest loads this plugin in every session on the machine (entry point pytest11): the
# fixtures import the sandbox and /proc readers when a test asks for them, not at load.

NOT_RUN = "it did not finish: the time for all the instructor's checks ran out"


def registered_by_entry_point() -> bool:
    """Whether pytest will load this plugin by itself (the package is installed)."""
    from importlib.metadata import entry_points

    return any(ep.value == __name__ for ep in entry_points(group="pytest11"))


def pytest_addoption(parser):
    group = parser.getgroup("pylab", "pylab grading")
    group.addoption("--pylab-submission", default=None, help="the submission folder (default: $PYLAB_SUBMISSION or .)")
    group.addoption("--pylab-report", default=None, help="write each test's outcome, points and visibility here (JSON)")
    group.addoption("--pylab-wall", type=float, default=None, help="seconds per run of student code")
    group.addoption("--pylab-limits", default=None,
                    help="the course's limits for student code, as JSON (pylab.grading.sandbox.Limits's fields); "
                         "--pylab-wall, if given too, sets the wall")
    group.addoption("--pylab-containment", choices=("namespaces", "uid"), default="namespaces",
                    help="namespaces (default): the bubblewrap sandbox, or the check fails where it cannot be made; "
                         "uid: the strongest containment there is (as pylab grade --containment)")
    group.addoption("--pylab-ready-fd", type=int, default=None,
                    help="a pipe to write one byte to once the checks are collected (the grader's time limit starts then)")
    group.addoption("--pylab-lifeline", type=int, default=None,
                    help="the grader's pipe: at its end (the grader stopped or is gone) the checks stop, as on SIGTERM")
    group.addoption("--pylab-ledger", default=None,
                    help="a file where every sandbox records what it makes, for the grader to remove if this is killed")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points this instructor check is worth (default 1)")
    config.addinivalue_line("markers", "visibility(v): visible, hidden, after_due_date or after_published")
    config.addinivalue_line("markers", "exercise(name): the exercise this check is listed under")
    config.addinivalue_line("markers", "time_limit(s): seconds this check may take")
    if config.getoption("--pylab-report", default=None):
        config._pylab_outcomes = {}
        config._pylab_running = set()  # checks set up whose call has not reported (yet)
        config.option.continue_on_collection_errors = True  # one broken file costs its own checks only
    ledger = config.getoption("--pylab-ledger", default=None)
    if ledger:
        from pylab.grading import sandbox

        sandbox.keep_ledger(ledger)
    lifeline = config.getoption("--pylab-lifeline", default=None)
    if lifeline is not None:
        _stop_when_told(lifeline)


# Signals that stop the checks under the grader: the grader's SIGTERM (it was itself
# stopped, or the checks' time ran out), and SIGINT and SIGHUP alike.
STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _stop_when_told(lifeline: int) -> None:
    """Run by the grader: one of STOPPING, or the end of the grader's lifeline pipe (the
    grader is gone, even killed), stops pytest as Ctrl-C does: KeyboardInterrupt, after
    which pytest tears down every fixture, so the sandboxes the checks made are closed
    (their runs killed, their cgroups and folders removed, their uids freed). Only the
    first raises: a repeat must not cut that clean-up short."""
    came = []

    def stop(signum, frame):
        if not came:
            came.append(signum)
            raise KeyboardInterrupt

    for sig in STOPPING:
        signal.signal(sig, stop)
    os.set_inheritable(lifeline, False)  # no run of student code gets a copy

    def watch():
        try:
            while os.read(lifeline, 64):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="pylab-lifeline").start()


def _marker_arg(item, name, default):
    mark = item.get_closest_marker(name)
    return mark.args[0] if mark and mark.args else default


def _save(config) -> None:
    """Written after every test: if the whole run is cut short, what finished counts (a
    check that was running when it was stopped did not finish)."""
    table = getattr(config, "_pylab_outcomes", None)
    path = config.getoption("--pylab-report", default=None)
    if table is not None and path:
        running = getattr(config, "_pylab_running", set())
        entries = [_not_run(e) if e["nodeid"] in running else e for e in table.values()]
        write_atomic(path, json.dumps(entries, indent=1))


def _not_run(entry: dict) -> dict:
    return {**entry, "outcome": "failed", "message": NOT_RUN, "credit": 0.0}


def pytest_collection_modifyitems(session, config, items):
    table = getattr(config, "_pylab_outcomes", None)
    if table is None:
        return
    for entry in _COLLECT_ERRORS:
        table[entry["nodeid"]] = entry
    for item in items:  # every check counts from the start, as not run until it has
        table[item.nodeid] = {
            "nodeid": item.nodeid, "name": item.name, "outcome": "failed", "message": NOT_RUN,
            "points": float(_marker_arg(item, "points", 1.0)),
            "visibility": str(_marker_arg(item, "visibility", "visible")),
            "exercise": _marker_arg(item, "exercise", None),
            "credit": 0.0,
        }
    _save(config)
    ready = config.getoption("--pylab-ready-fd", default=None)
    if ready is not None:
        try:
            os.write(ready, b"1")
            os.close(ready)
        except OSError:
            pass  # the grader is gone: its own limits end this run


def pytest_collectreport(report):
    """A test file that does not import becomes one failed, pointless entry that says so,
    never pytest's output (which would show the file's source to students). It is the
    grader's error (error), and the grade is incomplete without its checks (unloaded):
    the grader says so for the whole report."""
    if not report.failed:
        return
    _COLLECT_ERRORS.append({"nodeid": report.nodeid, "name": f"{report.nodeid} loads", "outcome": "failed",
                            "message": "this instructor check file could not be loaded; tell your instructor",
                            "points": 0.0, "visibility": "visible", "exercise": None, "credit": 0.0,
                            "error": True, "unloaded": True})


_COLLECT_ERRORS: list[dict] = []


def _explain(excinfo) -> dict:
    """Feedback from an exception, without a traceback or the test's source."""
    err = excinfo.value
    if isinstance(err, Fail):
        return {"expected": err.expected, "message": err.observed, "hint": err.hint, "credit": err.credit}
    if isinstance(err, AssertionError):
        text = str(err).split("\nassert ", 1)[0].strip()
        said = text.splitlines()[0] if text and not text.startswith("assert ") else ""
        return {"message": said or "the check's assertion failed"}
    if excinfo.typename in ("Failed", "Skipped"):  # pytest.fail(...) / pytest.skip(...)
        return {"message": str(getattr(err, "msg", "") or err).strip() or excinfo.typename.lower()}
    from pylab.grading.sandbox import SandboxError  # (loaded with the fixtures, not at the plugin's load)
    if isinstance(err, SandboxError):  # no sandbox, no process to be had (Shortage): it could not be
        return {"message": f"the check could not be carried out: {err}", "error": True}  # carried out
    return {"message": f"the check hit an error: {excinfo.typename}: {err}"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    table = getattr(item.config, "_pylab_outcomes", None)
    if table is None or item.nodeid not in table:
        return
    entry = table[item.nodeid]
    running = item.config._pylab_running
    if rep.when == "setup" and entry["message"] == NOT_RUN:
        entry.update(outcome="passed", message="")
        if rep.passed:
            running.add(item.nodeid)  # until its call reports (a stop during it: no report)
    if rep.when != "setup":
        running.discard(item.nodeid)
    if rep.failed or rep.skipped:
        if entry["outcome"] == "passed" and entry["message"] == "":
            entry["outcome"] = "failed" if rep.failed else "skipped"
            entry.update(_explain(call.excinfo) if call.excinfo else {"message": entry["outcome"]})
            entry["credit"] = entry.get("credit", 0.0) if rep.failed else 0.0
    elif rep.when == "call" and entry["outcome"] == "passed":
        credit = getattr(item, "_pylab_credit", None)
        entry["credit"] = 1.0 if credit is None else credit
        if credit is not None and credit < 1.0:
            entry.update(expected="full marks", message=f"partial credit: {credit:.0%}")
    if rep.when == "teardown":
        _save(item.config)


def _checking(item) -> bool:
    """Whether this test is an instructor check of a submission: the grader runs pytest
    with --pylab-submission and --pylab-report; an instructor by hand with one of them
    (or $PYLAB_SUBMISSION); or the test uses the plugin's lab_ fixtures or says its own
    time_limit. Any other suite on a machine where pylab is installed (the plugin loads
    by entry point) is left alone: its tests get no alarm."""
    config = item.config
    return bool(config.getoption("--pylab-submission", default=None) or config.getoption("--pylab-report", default=None)
                or os.environ.get("PYLAB_SUBMISSION") or item.get_closest_marker("time_limit")
                or any(name.startswith("lab_") for name in getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The check's own time limit: SIGALRM in the main thread becomes a Fail."""
    if not _checking(item):
        yield
        return
    limit = float(_marker_arg(item, "time_limit", 4 * limits_of(item.config).wall))

    def expired(signum, frame):
        raise Fail(expected=f"the check to finish within {limit:g} s", observed="it was still running; it was stopped")
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def pytest_sessionfinish(session):
    _save(session.config)


# -- fixtures --------------------------------------------------------------------------
@pytest.fixture
def lab_submission(request) -> Path:
    opt = request.config.getoption("--pylab-submission", default=None)
    return Path(opt or os.environ.get("PYLAB_SUBMISSION") or ".").resolve()


def limits_of(config):
    """The course's limits the grader gave (--pylab-limits, --pylab-wall), else the defaults."""
    from pylab.grading.sandbox import Limits

    given = config.getoption("--pylab-limits", default=None)
    limits = Limits(**json.loads(given)) if given else Limits()
    wall = config.getoption("--pylab-wall", default=None)
    return limits.with_(wall=wall) if wall else limits


@pytest.fixture
def lab_sandbox(request):
    """The sandbox, as the grader's own checks have it: the course's limits, and the
    containment pylab grade was told (--containment uid: the strongest there is)."""
    from pylab.grading.sandbox import Sandbox

    fallback = request.config.getoption("--pylab-containment", default="namespaces") != "namespaces"
    with Sandbox(limits_of(request.config), fallback=fallback) as sandbox:
        yield sandbox


@pytest.fixture
def lab_compile(lab_sandbox, lab_submission):
    """compile(name_or_path) -> binary path; a bare name is looked up in the submission.
    A missing file or a compile error fails the check with the compiler's first lines."""
    from pylab.run import toolchain

    def compile_(source):
        path = Path(source)
        if not path.is_absolute():
            path = lab_submission / path
        if not path.is_file():
            raise Fail(expected=f"a file {path.name} in your submission", observed=f"{path.name} is missing")
        try:
            return lab_sandbox.compile(path)
        except toolchain.CompileError as e:
            raise Fail(expected=f"{path.name} to compile", observed="it does not compile; the compiler said:\n"
                       + e.output[:2000], hint="fix the first error the compiler reports, then the next") from None
    return compile_


@pytest.fixture
def lab_run(lab_sandbox):
    """run(binary, *args, mode="pipe", stdin=None, timeout=None, clean=True) -> RunResult."""
    def run(binary, *args, mode="pipe", stdin=None, timeout=None, clean=True):
        if isinstance(stdin, str):
            stdin = stdin.encode()
        result, _ = lab_sandbox.run([binary, *args], mode=mode, stdin=stdin, timeout=timeout)
        if clean:
            require_clean(result, lab_sandbox.limits)
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


@pytest.fixture
def lab_credit(request):
    """credit(fraction): this test, if it passes, earns that share of its points."""
    def credit(fraction: float):
        request.node._pylab_credit = min(max(float(fraction), 0.0), 1.0)
    return credit
