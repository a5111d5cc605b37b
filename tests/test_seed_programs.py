"""The seed's six programs, observed from outside under each stdout target."""
from __future__ import annotations

import re

import pytest

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

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
    m = re.fullmatch(r"The current process ID is (\d+)", r.stdout_text.strip())
    assert m, r.stdout_text
    assert int(m.group(1)) == r.pid


def test_getpid_differs_between_runs():
    pids = {run_program("getpid_test").pid for _ in range(3)}
    assert len(pids) == 3


@pytest.mark.parametrize("mode", MODES)
def test_fork_test_prints_one_line_per_process_in_any_order(mode):
    r = run_program("fork_test", mode=mode)
    assert r.exit_code == 0
    # the order of the two lines is the scheduler's: match them as a set
    assert r.match().as_set(["I am the parent process, my process ID is *",
                             "I am the child process, my process ID is *"]), r.lines
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


def test_zombie_child_is_in_state_z_until_the_parent_waits():
    binary = toolchain.find("zombie").build()
    with runner.start([binary, "-"], timeout=20) as proc:
        child = procstate.call_until(lambda: procstate.children(proc.pid), timeout=5,
                                     what="zombie's child to appear")[0]
        procstate.wait_for_state(child, "Z", timeout=5)
        assert procstate.states(child) == {"proc": "Z", "ps": "Z", "psutil": "Z"}
        assert procstate.read_stat(child).ppid == proc.pid
        assert procstate.holdings(child)["vm_rss"] is None  # a zombie holds no memory
        proc.write("release\n")  # the handshake: the parent now calls wait()
        result = proc.wait(10)
    assert result.exit_code == 0
    assert not procstate.exists(child) or procstate.state_proc(child) != "Z"
    assert result.stragglers == []


def test_zombie_holds_for_the_seconds_given_and_reaps():
    r = run_program("zombie", ["0"])
    assert r.exit_code == 0
    assert r.stragglers == []


def test_zombie_default_hold_is_cut_short_by_the_runner_timeout():
    # the seed's 60 s hold is never waited out: the timeout kills the whole tree
    r = run_program("zombie", timeout=0.5)
    assert r.timed_out
    assert r.signal == 9
    assert r.duration < 30
    for pid in r.stragglers:
        assert not procstate.exists(pid)
