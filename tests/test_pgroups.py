"""Process groups and sessions: pgroup_signal (setpgid on both sides, one kill(-pgid) for
every member), setsid (who may make a new session) and ctty (a new session has no
controlling terminal); the ids they print checked against the runner and /proc; the same
calls in-process."""
from __future__ import annotations

import os
import re
import signal

import pytest

from pylab.bindings import lab_exec as lifecycle_exec

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

from support import assert_line, expect

CHILD = re.compile(r"child (\d+): pgid (\d+), sid (\d+)")


def members(lines) -> dict[int, tuple[int, int]]:
    return {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
            for ln in lines if (m := CHILD.fullmatch(ln))}


@pytest.mark.parametrize("mode", MODES)
def test_one_kill_of_the_group_ends_every_member(mode):
    r = run_program("pgroup_signal", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    # the runner put the program in a group of its own, in the supervisor's session
    assert r.lines[0] == f"parent pid {r.pid}: pgid {r.pid}, sid {r.supervisor}"
    kids = members(r.lines)
    assert len(kids) == 3
    (leader,) = [pid for pid, (pgid, _) in kids.items() if pid == pgid]  # one leads
    assert set(kids.values()) == {(leader, r.supervisor)}
    assert_line(r, f"kill(-{leader}, SIGTERM)")
    # reaped in whatever order wait() returns them: a set
    killed = {int(m.group(1)) for ln in r.lines if (m := re.fullmatch(r"child (\d+): killed by SIGTERM", ln))}
    assert killed == set(kids)


@pytest.mark.parametrize("mode", ["tty", "pipe"])
def test_the_printed_ids_match_proc_while_the_group_is_alive(mode):
    with runner.start([toolchain.find("pgroup_signal").build(), "-"], mode=mode) as proc:
        proc.expect(r"holding; send a line")
        lines = proc.output().decode().replace("\r\n", "\n").splitlines()
        kids = members(lines)
        assert len(kids) == 3
        for pid, (pgid, sid) in kids.items():
            st = procstate.read_stat(pid)
            assert (st.ppid, st.pgrp, st.session) == (proc.pid, pgid, sid)
        target = procstate.read_stat(proc.pid)
        assert (target.pgrp, target.session) == (proc.pid, proc.supervisor)
        proc.write("go\n")
        r = proc.wait(timeout=10)
    assert r.exit_code == 0
    assert r.match().count("child *: killed by SIGTERM") == 3


IDS = re.compile(r"(parent|child before setsid\(\)|child after setsid\(\)):? pid (\d+), pgid (\d+), sid (\d+)")


def ids(lines) -> dict[str, tuple[int, int, int]]:
    """who -> (pid, pgid, sid) as setsid printed them."""
    return {m[1]: (int(m[2]), int(m[3]), int(m[4])) for m in map(IDS.fullmatch, lines) if m}


@pytest.mark.parametrize("mode", MODES)
def test_a_group_leader_may_not_setsid_but_its_child_may(mode):
    r = run_program("setsid", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    seen = ids(r.lines)
    expect(list(seen) == ["parent", "child before setsid()", "child after setsid()"],
           "pid/pgid/sid lines of the parent, then of the child before and after setsid()", r)
    assert seen["parent"] == (r.pid, r.pid, r.supervisor)           # it leads its group
    assert_line(r, f"parent setsid(): EPERM (pid {r.pid} leads group {r.pid}: a group leader may not)")
    child = seen["child before setsid()"][0]
    assert child != r.pid
    assert seen["child before setsid()"] == (child, r.pid, r.supervisor)  # the parent's group and session
    assert_line(r, f"child setsid(): new session {child}")
    assert seen["child after setsid()"] == (child, child, child)   # it leads both now


def test_a_parent_that_leads_no_group_may_setsid_and_says_so():
    # a shell without job control runs a command that is not its last in its own group
    binary = toolchain.find("setsid").build()
    r = runner.run(["sh", "-c", '"$0"; exit $?', binary], mode="tty")
    assert r.exit_code == 0, r.stderr_text
    seen = ids(r.lines)
    parent, pgid, sid = seen["parent"]
    assert parent != r.pid and pgid == r.pid                        # sh leads the group, not setsid
    assert sid == r.supervisor
    assert_line(r, f"parent setsid(): new session {parent} (pid {parent} led no group, so it may)")
    child = seen["child before setsid()"][0]
    assert seen["child before setsid()"] == (child, parent, parent)  # born in the parent's new session
    assert seen["child after setsid()"] == (child, child, child)


CTTY = re.compile(r"(before|after) setsid\(\): pid (\d+), sid (\d+); /dev/tty: (\w+); tcgetsid\(1\): (\w+)")


@pytest.mark.parametrize("mode", MODES)
def test_a_new_session_has_no_controlling_terminal_yet_stdout_still_reaches_it(mode):
    r = run_program("ctty", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    seen = {m[1]: (int(m[2]), int(m[3]), m[4], m[5]) for m in map(CTTY.fullmatch, r.lines) if m}
    expect(list(seen) == ["before", "after"], f"a line matching {CTTY.pattern!r} before setsid(), then after", r)
    child = seen["before"][0]
    assert child != r.pid and seen["after"][0] == child
    if mode == "tty":  # the supervisor's session has the terminal: the child can open it
        assert seen["before"][1:] == (r.supervisor, "opened", str(r.supervisor))
    else:              # a pipe or a file: no controlling terminal to lose
        assert seen["before"][1:] == (r.supervisor, "ENXIO", "ENOTTY")
    # after setsid: its own session, no terminal; the line itself came through fd 1
    assert seen["after"][1:] == (child, "ENXIO", "ENOTTY")


def test_in_process_group_kill_reaches_every_member():
    leader = lifecycle_exec.fork_paused(0)
    kids = [leader, lifecycle_exec.fork_paused(leader), lifecycle_exec.fork_paused(leader)]
    outsider = lifecycle_exec.fork_paused(None)  # stays in our group: not hit
    alive = [*kids, outsider]
    try:
        for pid in kids:
            # setpgid ran on both sides, so this holds the moment fork_paused returns
            assert lifecycle_exec.getpgid(pid) == os.getpgid(pid) == procstate.read_stat(pid).pgrp == leader
            assert lifecycle_exec.getsid(pid) == os.getsid(0)
        assert lifecycle_exec.getpgid(outsider) == os.getpgid(0)
        os.kill(-leader, signal.SIGTERM)
        for pid in kids:
            assert os.waitpid(pid, 0)[1] == signal.SIGTERM  # raw status: killed by SIGTERM
            alive.remove(pid)
        assert os.waitpid(outsider, os.WNOHANG) == (0, 0)  # still running
    finally:
        for pid in alive:  # never signal a pid already reaped: it may be someone else's now
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_setpgid_of_an_unknown_pid_raises_esrch():
    with pytest.raises(ProcessLookupError):
        lifecycle_exec.setpgid(2**22 + 1, 0)  # above any pid_max: no such process
