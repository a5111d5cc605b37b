"""A grade stopped while the instructor's pytest checks run leaves nothing behind: not the
plugin's sandbox folder (TOP, /tmp/pylab-grade-*, which other users can read into), not
its cgroups, not a process, not the uid it leased; whatever stopped it (Ctrl-C, SIGTERM,
SIGHUP to pylab; the instructor checks' own time running out; a pytest that will not stop
when told; the grader killed outright).

Each test learns what the plugin's sandbox made from the instructor check itself (a
handshake file it writes once its program runs), and stops pylab only then."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pylab.grading import exercises
from pylab.observe import procstate

from support import pylab_argv
from test_grading_interrupt_sandbox import UIDS, made_by_the_run, own_tmpdir

# The instructor's check: it starts the submission's program, says what its sandbox made
# (the handshake), then waits until it is stopped. HANDSHAKE and EXTRA are filled in.
HOLDING_CHECK = '''
import json, os, signal, threading
import pytest

@pytest.mark.time_limit(600)
def test_holds_a_program_running(lab_compile, lab_start, lab_sandbox):
    EXTRA
    said = {"top": str(lab_sandbox.top), "cgroups": [str(d) for d in lab_sandbox.cgroups.dirs],
            "uid": lab_sandbox.uid, "containment": lab_sandbox.containment, "pytest": os.getpid(),
            "cwd": os.getcwd()}
    first = HANDSHAKE + ".sandbox"  # before the program: what the fixture alone made
    with open(first + ".part", "w") as f:
        json.dump(said, f)
    os.rename(first + ".part", first)
    proc = lab_start(lab_compile("pause.c"))
    said["program"] = proc.pid
    with open(HANDSHAKE + ".part", "w") as f:
        json.dump(said, f)
    os.rename(HANDSHAKE + ".part", HANDSHAKE)
    threading.Event().wait(600)
'''
PAUSE = "#include <unistd.h>\nint main(void) { for (;;) pause(); }\n"


def holding_checks(folder: Path, handshake: Path, extra: str = "pass") -> Path:
    folder.mkdir()
    (folder / "test_hold.py").write_text(HOLDING_CHECK.replace("HANDSHAKE", repr(str(handshake)))
                                         .replace("EXTRA", extra))
    return folder


def submission(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(exercises.find("getpid_test").reference_source(), folder / "getpid_test.c")
    (folder / "pause.c").write_text(PAUSE)
    return folder


def grading_env(tmp: Path, **extra) -> dict:
    return {**os.environ, "TMPDIR": str(tmp), "PYLAB_GRADE_UIDS": UIDS, **extra}


def snapshot(root: int) -> dict[int, int]:
    """root's descendants now: pid -> start time (a pid alone may be reused)."""
    return procstate.descendants_started(root)


def still_there(seen: dict[int, int]) -> list[str]:
    """Those of `seen` that still exist (running or a zombie: either is not collected)."""
    left = []
    for pid, start in seen.items():
        try:
            st = procstate.read_stat(pid)
        except procstate.NoSuchProcess:
            continue
        if st.starttime == start:
            left.append(f"{pid} ({st.comm}, {st.state})")
    return left


def reap_orphans(seen: dict[int, int]) -> None:
    """Reap those of `seen` that ended as this process's children: orphans re-parented
    here, as to init (the suite is a subreaper). One still running is not touched."""
    for pid, start in seen.items():
        try:
            st = procstate.read_stat(pid)
        except procstate.NoSuchProcess:
            continue
        if st.starttime == start and st.state == "Z" and st.ppid == os.getpid():
            os.waitpid(pid, 0)


def assert_nothing_left(said: dict, tree: dict[int, int], tmp: Path, leaves: list[str] = ()) -> None:
    assert not os.path.exists(said["top"]), f"the plugin's sandbox folder {said['top']} is still there"
    if said["cwd"] is not None:
        assert not os.path.exists(said["cwd"]), f"the grader's folder for pytest {said['cwd']} is still there"
    left = [d for d in said["cgroups"] if os.path.exists(d)]
    assert not left, f"cgroups left: {left}"
    assert not still_there(tree), f"processes left: {still_there(tree)}"
    if said["uid"] is not None:
        assert procstate.processes_of_uid(said["uid"]) == []
    assert made_by_the_run(tmp) == sorted(leaves), made_by_the_run(tmp)


def pylab(*args, env: dict, stop_grace: float | None = None) -> subprocess.Popen:
    """`python -m pylab ARGS` with SIGINT at its default whatever this test inherited
    (a suite run in the background inherits it ignored, and Python never raises
    KeyboardInterrupt then). stop_grace: the grader's EXTRA_STOP_GRACE in that process
    (a test of a pytest that will not stop need not wait the real 10 s)."""
    if stop_grace is None:
        argv = pylab_argv(*args)
    else:
        argv = [sys.executable, "-P", "-c", "import signal, sys\n"
                "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
                f"from pylab.grading import grader; grader.EXTRA_STOP_GRACE = {stop_grace!r}\n"
                "from pylab.cli import main\n"
                "sys.exit(main.main(sys.argv[1:]))", *[str(a) for a in args]]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 180) -> dict:
    """The handshake: path's JSON once the check wrote it (pylab ending first fails)."""
    procstate.call_until(lambda: path.exists() or proc.poll() is not None, bool, timeout=timeout,
                         what=f"the instructor check's handshake {path.name}")
    if not path.exists():
        out, err = proc.communicate()
        pytest.fail(f"pylab ended (status {proc.returncode}) before the check ran:\n{out}\n{err}")
    return json.loads(path.read_text())


CONTAINMENTS = {"namespaces": [], "uid": ["--containment", "uid"]}
SAID = {signal.SIGINT: "pylab: interrupted", signal.SIGTERM: "pylab: terminated (SIGTERM)",
        signal.SIGHUP: "pylab: hung up (SIGHUP)"}


# each signal once (they take one path: cli.main's StopSignals), and the other containment's
# clean-up once: a grade each is ~2 s
@pytest.mark.parametrize("sig, containment", [(signal.SIGINT, "namespaces"), (signal.SIGTERM, "namespaces"),
                                              (signal.SIGHUP, "namespaces"), (signal.SIGTERM, "uid")],
                         ids=lambda v: v.name if isinstance(v, signal.Signals) else v)
def test_a_grade_stopped_during_the_instructor_checks_leaves_nothing_behind(sig, containment, tmp_path):
    tmp = own_tmpdir()
    try:
        handshake = tmp_path / "running.json"
        extra = holding_checks(tmp_path / "extra", handshake)
        env = grading_env(tmp, PYLAB_GRADE_LIMITS="wall=300")  # the program outlives the test
        if containment == "uid":  # where namespaces cannot be made
            env["PYLAB_BWRAP"] = str(tmp_path / "no-bwrap")
        proc = pylab("grade", submission(tmp_path / "sub"), "getpid_test", "--tests", extra,
                     "--results", tmp_path / "results.json", *CONTAINMENTS[containment], env=env)
        try:
            said = wait_for(handshake, proc)
            tree = snapshot(proc.pid)
            assert said["program"] in tree and said["pytest"] in tree, (said, tree)
            assert os.path.isdir(said["top"])  # (the check did run in a sandbox of its own)
            expected = containment if os.geteuid() == 0 or containment == "namespaces" else "none"
            assert said["containment"] == expected
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 128 + sig, (out, err)
        assert err.strip().splitlines()[-1:] == [SAID[sig]] and "Traceback" not in err, err
        assert not (tmp_path / "results.json").exists()  # an interrupted grade writes nothing
        assert_nothing_left(said, tree, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


IGNORES_STOPS = ("signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.signal(signal.SIGINT, signal.SIG_IGN); "
                 "signal.signal(signal.SIGHUP, signal.SIG_IGN)")


@pytest.mark.parametrize("containment", sorted(CONTAINMENTS))
def test_a_pytest_that_will_not_stop_is_killed_and_what_its_sandbox_made_is_removed(containment, tmp_path):
    """The check ignores the grader's SIGTERM (its lifeline's end too, which the plugin
    makes a SIGTERM): its sandbox is never closed there; after EXTRA_STOP_GRACE the
    grader kills pytest and all it started, and removes what the ledger says it made."""
    tmp = own_tmpdir()
    try:
        handshake = tmp_path / "running.json"
        extra = holding_checks(tmp_path / "extra", handshake, extra=IGNORES_STOPS)
        env = grading_env(tmp, PYLAB_GRADE_LIMITS="wall=300")
        if containment == "uid":
            env["PYLAB_BWRAP"] = str(tmp_path / "no-bwrap")
        proc = pylab("grade", submission(tmp_path / "sub"), "getpid_test", "--tests", extra,
                     *CONTAINMENTS[containment], env=env, stop_grace=0.5)
        try:
            said = wait_for(handshake, proc)
            tree = snapshot(proc.pid)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 143 and err.strip().splitlines()[-1:] == [SAID[signal.SIGTERM]], (out, err)
        # Killed, pytest's children (the reaper jail, bwrap, the supervisor) are orphans the
        # moment they die: their reaper is init, which this test is (the suite is a subreaper)
        reap_orphans(tree)
        assert_nothing_left(said, tree, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_instructor_checks_that_run_out_of_time_leave_nothing_behind(tmp_path, monkeypatch):
    """The instructor checks' own time running out stops their pytest the same way (and
    what finished still counts: the held check is one that did not finish)."""
    from pylab.cli import main as cli

    tmp = own_tmpdir()
    try:
        handshake = tmp_path / "running.json"
        extra = holding_checks(tmp_path / "extra", handshake)
        (extra / "test_a_quick.py").write_text("def test_a_quick_one():\n    pass\n")  # (collected before test_hold.py)
        for name, value in grading_env(tmp, PYLAB_GRADE_LIMITS="wall=300").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # (this process's temp dir, read once)
        # the checks' time runs out once the held check runs its program (it says so
        # first): the time the grader gives them, after a wait for that handshake
        from pylab.grading import grader
        collected = grader._until_collected

        def collected_then_held(proc, fd, timeout):
            early = collected(proc, fd, timeout)
            procstate.call_until(lambda: handshake.exists() or proc.poll() is not None, bool, timeout=180,
                                 what="the held check's handshake")
            return early
        monkeypatch.setattr(grader, "_until_collected", collected_then_held)
        monkeypatch.setattr(grader, "EXTRA_TIMEOUT", 0.05)
        res = tmp_path / "results.json"
        assert cli.main(["grade", str(submission(tmp_path / "sub")), "getpid_test", "--tests", str(extra),
                         "--results", str(res)]) == 1
        sandbox_said = Path(str(handshake) + ".sandbox")
        assert sandbox_said.exists(), "the held check never ran: nothing was tested"
        said = json.loads((handshake if handshake.exists() else sandbox_said).read_text())
        assert_nothing_left({**said}, {}, tmp)
        assert "program" not in said or not procstate.exists(said["program"])
        assert not procstate.exists(said["pytest"])
        by = {t["name"].rsplit(": ", 1)[-1]: t for t in json.loads(res.read_text())["tests"]}
        assert by["test_a_quick_one"]["status"] == "passed"
        held = by["test_holds_a_program_running"]
        assert held["score"] == 0 and "did not finish" in held["output"], held
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_grader_killed_outright_leaves_its_pytest_to_stop_by_itself(tmp_path):
    """SIGKILL to pylab: no clean-up of its own runs; the instructor checks' pytest sees
    its lifeline end and stops as if told, closing its sandbox (only the dead grader's
    temp folder stays, as for its own checks)."""
    tmp = own_tmpdir()
    try:
        handshake = tmp_path / "running.json"
        extra = holding_checks(tmp_path / "extra", handshake)
        proc = pylab("grade", submission(tmp_path / "sub"), "getpid_test", "--tests", extra,
                     env=grading_env(tmp, PYLAB_GRADE_LIMITS="wall=300"))
        try:
            said = wait_for(handshake, proc)
            tree = snapshot(proc.pid)
            proc.kill()
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        # pytest, orphaned, is this test's child now (the suite is a subreaper): it ends by itself
        procstate.call_until(lambda: still_there({p: s for p, s in tree.items() if _running(p)}), lambda left: not left,
                             timeout=60, what="pytest and all it started ending by themselves")
        reap_orphans(tree)
        stays = Path(said["cwd"]).name  # the dead grader's folder for pytest
        assert_nothing_left({**said, "cwd": None}, tree, tmp, leaves=[stays])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        return procstate.read_stat(pid).state != "Z"
    except procstate.NoSuchProcess:
        return False
