"""The seed's six programs, observed from outside under each stdout target."""
from __future__ import annotations

import subprocess
import time

import pytest

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

from support import expect, line_matching

SEED = ["getpid_test", "fork_test", "exit_test1", "exit2", "_exit1", "zombie"]


def test_all_six_seed_programs_are_listed_with_a_summary():
    progs = toolchain.programs()
    for name in SEED:
        assert name in progs, name
        assert progs[name].summary, f"{name} has no summary comment"


@pytest.mark.parametrize("mode", MODES)
def test_getpid_prints_the_pid_the_runner_started(mode):
    r = run_program("getpid_test", mode=mode)
    assert r.exit_code == 0
    m = line_matching(r, r"The current process ID is (\d+)", at=0)
    expect(len(r.lines) == 1, "that one line alone", r)
    assert int(m.group(1)) == r.pid


def test_getpid_differs_between_runs():
    pids = {run_program("getpid_test").pid for _ in range(3)}
    assert len(pids) == 3


@pytest.mark.parametrize("mode", MODES)
def test_fork_test_prints_one_line_per_process_in_any_order(mode):
    r = run_program("fork_test", mode=mode)
    assert r.exit_code == 0
    # the order of the two lines is the scheduler's: match them as a set
    r.match().assert_as_set(["I am the parent process, my process ID is *",
                             "I am the child process, my process ID is *"])
    pids = {ln.split()[3]: int(ln.rsplit(" ", 1)[1]) for ln in r.lines}
    assert pids["parent"] == r.pid
    assert pids["child"] != r.pid


@pytest.mark.parametrize("mode", MODES)
def test_exit_test1_never_prints_after_exit(mode):
    r = run_program("exit_test1", mode=mode)
    assert r.exit_code == 0
    assert r.lines == ["this process will exit!"]


@pytest.mark.parametrize("mode", MODES)
def test_exit_flushes_the_unfinished_line_under_every_target(mode):
    r = run_program("exit2", mode=mode)
    assert r.exit_code == 0
    assert r.stdout_text == "output begin\ncontent in buffer"


def test__exit_on_a_tty_keeps_only_the_finished_line():
    # line-buffered on a terminal: the newline already wrote "output begin"
    r = run_program("_exit1", mode="tty")
    assert r.exit_code == 0
    assert r.stdout_text == "output begin\n"
    assert r.stdout == b"output begin\r\n"  # the raw bytes carry the terminal's CRLF


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test__exit_on_a_pipe_or_file_loses_everything(mode):
    # fully buffered: both printf calls are still in the buffer that _exit discards
    r = run_program("_exit1", mode=mode)
    assert r.exit_code == 0
    assert r.stdout == b""


def zombie_child(proc_pid: int) -> int:
    """The zombie program's one child, once it has exited (state Z, still its parent's)."""
    (child,) = procstate.call_until(lambda: procstate.children(proc_pid), timeout=5,
                                    what="zombie's child to appear")
    procstate.wait_for_state(child, "Z", timeout=5)
    assert procstate.read_stat(child).ppid == proc_pid
    return child


# These two run zombie without the runner: its supervisor is a subreaper and would reap a
# child the program forgot to wait for. pytest is one too (conftest), but it never reaps
# an adopted child by itself: had the program not waited, the child would still be here.

def test_zombie_child_is_in_state_z_until_the_parent_waits():
    binary = toolchain.find("zombie").build()
    with subprocess.Popen([binary, "-"], stdin=subprocess.PIPE) as proc:
        child = zombie_child(proc.pid)
        assert procstate.states(child) == {"proc": "Z", "ps": "Z", "psutil": "Z"}
        assert procstate.holdings(child)["vm_rss"] is None  # a zombie holds no memory
        procstate.wait_for_state(proc.pid, "S")            # the parent holds, in fgets
        assert procstate.state_proc(child) == "Z"          # ...and the child stays a zombie
        proc.stdin.write(b"release\n")  # the handshake: the parent now calls wait()
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    assert not procstate.exists(child)  # reaped by its parent, not left to us


def test_zombie_holds_for_the_seconds_given_and_reaps():
    hold = 0.5
    binary = toolchain.find("zombie").build()
    t0 = time.monotonic()
    with subprocess.Popen([binary, str(hold)], stdin=subprocess.DEVNULL) as proc:
        child = zombie_child(proc.pid)
        # polled until gone (it is never slept on): a zombie until the hold ends, then reaped
        procstate.wait_gone(child, timeout=10)
        held = time.monotonic() - t0
        assert proc.wait(timeout=10) == 0
    assert held >= hold, f"the child was reaped after {held:.3f}s, before the {hold}s hold ended"


def test_zombie_default_hold_is_cut_short_by_the_runner_timeout():
    # the seed's 60 s hold is never waited out: the timeout kills the whole tree
    with runner.start([toolchain.find("zombie").build()], timeout=0.5) as proc:
        child = zombie_child(proc.pid)          # the hold has begun
        r = proc.wait(timeout=30)
    assert r.timed_out and r.signal == 9
    assert 0.5 <= r.duration < 30
    # the parent died holding it; the supervisor adopted and reaped the zombie: gone, and
    # no straggler, since there was nothing left to kill
    assert not procstate.exists(child)
    assert r.stragglers == []
