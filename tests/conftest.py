"""Suite-wide guards: nothing a test starts may outlive it.

The pytest process makes itself a child subreaper, so every orphan a test creates is
re-parented here instead of to PID 1 (which, on some machines, reaps late). After
each test, this process must have no child left, running or zombie; a test that
leaves one fails, and what it left is killed and reaped so the next test starts clean.

And what keeps the suite's time down: the xdist scheduler (whole files per worker, a
few files spread test by test), fixtures computed once for the whole run however many
workers ask (the tour, the compare matrix), and the CLI called in this process where a
test needs no process of its own (pylab_cli).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from pylab.bindings import native
from pylab.cli.main import main as pylab_main
from pylab.observe import procstate

from support import once_per_run


# Files whose tests share nothing costly (no module fixture or cache) and take long in
# all: under --dist loadfile their tests are spread over the workers one by one (the
# scheduler below); every other file stays whole on one worker, so its module fixtures
# run once. (xdist's own loadgroup cannot do this here: it renames nodeids through an
# attribute this pytest no longer reads.)
# (test_sockets_echo.py is not one: its tests compare the pylab-echo-* files in /tmp
# before and after, which another of them running at the same time would change.)
SPREAD = {"test_grading_cli.py", "test_run_cli.py", "test_cli.py", "test_assign_feedback.py",
          "test_grading_examples.py", "test_grading_attacks_live.py", "test_sockets_demos.py",
          "test_runner.py", "test_assign_per_process.py", "test_assign_loading.py", "test_grading_reports.py"}


# Files whose tests share a per-process cache keyed by their parameter: one unit per
# parameter value (test_notebooks.py runs each notebook once, on the worker that holds
# that notebook's tests).
BY_PARAMETER = {"test_notebooks.py"}


class _FilesButSpread(LoadScopeScheduling):
    """loadscope's scheduler (work units in order of size, biggest first) with a whole
    file as the unit, except a SPREAD file's tests, each a unit of its own, and a
    BY_PARAMETER file's, a unit per parameter."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        name = Path(path).name
        if name in SPREAD:
            return nodeid
        if name in BY_PARAMETER and nodeid.endswith("]"):
            return f"{path}[{nodeid.rsplit('[', 1)[1]}"
        return path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return _FilesButSpread(config, log)
    return None


def pytest_configure(config):
    native.set_subreaper(True)
    config._pylab_baseline = set(procstate.children(os.getpid()))
    if not hasattr(config, "workerinput") and config.getoption("numprocesses", None):
        _write_rewritten(config)


def _write_rewritten(config) -> None:
    """Every xdist worker collects the whole suite and rewrites the asserts of every test
    module it imports, and of every pylab module too where pylab is installed as a
    package (pytest rewrites the whole distribution of a plugin, and pylab's pytest
    plugin is an entry point): ~2.5 s of CPU a worker here, unless pytest's rewritten
    .pyc is there to read. pytest writes none where PYTHONDONTWRITEBYTECODE is set (as
    on this machine), and on a fresh clone the workers all miss it at once. So the
    controller, which collects nothing, writes them first, once. This is pytest's
    internal API: where it differs (another pytest), nothing is written and the workers
    rewrite as before."""
    if config.getoption("assertmode", "rewrite") != "rewrite":
        return
    sources = _test_files(config)
    if type(getattr(native, "__loader__", None)).__name__ == "AssertionRewritingHook":
        sources += sorted(Path(native.__file__).resolve().parent.parent.rglob("*.py"))
    try:
        from types import SimpleNamespace
        from _pytest.assertion import rewrite
        quiet = SimpleNamespace(trace=lambda *a: None)
        for source in sources:
            cache = rewrite.get_cache_dir(source)
            pyc = cache / (source.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(source, pyc) is not None or not rewrite.try_makedirs(cache):
                continue
            stamp, code = rewrite._rewrite_test(source, config)
            if not isinstance(stamp, bytes):  # an older pytest checks its .pyc by mtime and
                return                        # size: an edit within a second could be missed
            rewrite._write_pyc(quiet, code, stamp, pyc)
    except Exception:  # (an internal API that moved: the workers rewrite for themselves)
        return


def _test_files(config) -> list[Path]:
    """The test modules this run collects: those its arguments name, or under them."""
    found = set()
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::", 1)[0])
        if path.is_dir():
            found.update(path.rglob("test_*.py"))
        elif path.name.startswith("test_") and path.suffix == ".py":
            found.add(path)
    return sorted(p.resolve() for p in found)


def _leftovers(baseline) -> list[int]:
    return [p for p in procstate.children(os.getpid()) if p not in baseline]


def _kill_and_reap(pids) -> list[str]:
    described = []
    for pid in pids:
        try:
            st = procstate.read_stat(pid)
            described.append(f"{pid} ({st.comm}, state {st.state})")
            os.kill(pid, signal.SIGKILL)
        except (procstate.NoSuchProcess, ProcessLookupError):
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return described


@pytest.fixture(autouse=True)
def no_process_left_behind(request):
    baseline = request.config._pylab_baseline
    yield
    try:
        # An orphan is re-parented when its parent dies, a moment after that parent's
        # own wait returned: give the kernel a short deadline, never a fixed sleep.
        procstate.call_until(lambda: _leftovers(baseline), lambda left: not left, timeout=2.0)
    except TimeoutError:
        left = _kill_and_reap(_leftovers(baseline))
        pytest.fail(f"test left processes behind: {', '.join(left)}", pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    baseline = getattr(session.config, "_pylab_baseline", set())
    left = _leftovers(baseline)
    if left:
        described = _kill_and_reap(left)
        session.config._pylab_leak = described
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    leak = getattr(config, "_pylab_leak", None)
    if leak:
        terminalreporter.write_line(f"FAILED: processes outlived the suite: {', '.join(leak)}", red=True)


@pytest.fixture(scope="session")
def tour_run(tmp_path_factory, worker_id):
    """`pylab tour --json` run once for the whole test run (all xdist workers share it),
    as a user runs it (several test modules read its report). -P: import the installed
    pylab, never a source tree's."""
    def produce():
        out = subprocess.run([sys.executable, "-P", "-m", "pylab", "tour", "--json"],
                             capture_output=True, text=True, timeout=300)
        return {"returncode": out.returncode, "stdout": out.stdout, "stderr": out.stderr}
    got = once_per_run(tmp_path_factory, worker_id, "tour", produce)
    return subprocess.CompletedProcess(["pylab", "tour", "--json"], got["returncode"], got["stdout"], got["stderr"])


@pytest.fixture(scope="session")
def compare_run(tmp_path_factory, worker_id):
    """`pylab compare --format json` run once for the whole test run, end to end in a fresh
    process (the matrix starts ~170 programs: a few seconds of CPU each time)."""
    def produce():
        out = subprocess.run([sys.executable, "-P", "-m", "pylab", "compare", "--format", "json"],
                             capture_output=True, text=True, timeout=300)
        return {"returncode": out.returncode, "stdout": out.stdout, "stderr": out.stderr}
    got = once_per_run(tmp_path_factory, worker_id, "compare", produce)
    return subprocess.CompletedProcess(["pylab", "compare", "--format", "json"], got["returncode"],
                                       got["stdout"], got["stderr"])


@pytest.fixture
def pylab_cli(capfd, monkeypatch):
    """`pylab ARGS` run in this process, as the console script runs it: main(), its return
    or SystemExit (argparse's usage errors) as the exit status, stdout and stderr captured
    at the fds. Returns (returncode, stdout, stderr) as a CompletedProcess. A real
    `python -m pylab` costs ~0.2 s of CPU to start: tests of the real process (the console
    script, signals to pylab, pylab's own terminal, the exit-2 contract) still start one."""
    def run(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capfd.readouterr()
        try:
            rc = pylab_main([str(a) for a in args])
        except SystemExit as e:
            rc = e.code
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["pylab", *map(str, args)], rc, out, err)
    return run
