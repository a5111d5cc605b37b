"""Wait statuses decoded, and collecting children: wait_status, reap_all, waitid_peek,
and the same from Python (pylab.bindings.lab_wait)."""
from __future__ import annotations

import os
import re
import signal
import sys

import pytest

from pylab.bindings import lab_wait as lifecycle, native
from pylab.compare import statuses

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

from support import assert_line, line_matching

LINE = re.compile(r"(\S+)\s+raw=0x([0-9a-f]+) (.*)")


def decoded(result) -> dict[str, tuple[int, str]]:
    """wait_status's lines by case: (raw status, what the macros said)."""
    return {m[1]: (int(m[2], 16), m[3]) for m in map(LINE.fullmatch, result.lines) if m}


@pytest.mark.parametrize("mode", MODES)
def test_each_ending_is_decoded_as_the_w_macros_say(mode, tmp_path):
    r = run_program("wait_status", mode=mode, limits={"core": None}, cwd=tmp_path)
    assert r.exit_code == 0, r.stderr_text
    got = decoded(r)
    assert got["return7"][1] == "WIFEXITED WEXITSTATUS=7"
    assert got["exit3"][1] == "WIFEXITED WEXITSTATUS=3"
    assert got["exit256"][1] == "WIFEXITED WEXITSTATUS=0"      # only the low 8 bits travel
    assert got["exit-1"][1] == "WIFEXITED WEXITSTATUS=255"
    assert got["SIGTERM"][1] == "WIFSIGNALED WTERMSIG=15 (Terminated) WCOREDUMP=0"
    assert got["SIGSEGV"][1].startswith("WIFSIGNALED WTERMSIG=11 ")
    assert got["SIGSTOP"][1].startswith("WIFSTOPPED WSTOPSIG=19 ")
    assert got["SIGCONT"][1] == "WIFCONTINUED"
    # the raw words read the same through Python's os.W* functions
    assert os.WEXITSTATUS(got["exit-1"][0]) == 255 and os.WIFEXITED(got["exit256"][0])
    assert os.WTERMSIG(got["SIGTERM"][0]) == signal.SIGTERM
    assert os.WSTOPSIG(got["SIGSTOP"][0]) == signal.SIGSTOP
    assert os.WIFCONTINUED(got["SIGCONT"][0])
    assert list(tmp_path.iterdir()) == []                      # no core left in the cwd either


@pytest.mark.parametrize("soft", [0, None], ids=["soft-core-limit-0", "unlimited"])
def test_the_core_bit_is_reported_as_observed_or_explained(soft, tmp_path):
    # soft 0: the program raises it to the hard limit itself, in its scratch directory
    r = run_program("wait_status", limits={"core": soft}, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
    raw, words = decoded(r)["SIGSEGV"]
    obstacle = statuses.core_obstacle()
    if obstacle is None:  # this machine writes plain core files: the bit must be there
        assert words.endswith("WCOREDUMP=1") and os.WCOREDUMP(raw), words
        assert_line(r, "a core file was written (and removed)")
    else:                 # the program must say why, not stay silent
        assert words.endswith("WCOREDUMP=0")
        line_matching(r, r"core bit not observed:.*")


def test_the_sigsegv_case_leaves_the_core_to_the_callers_limit_and_none_in_its_cwd(tmp_path):
    # `pylab run wait_status -- SIGSEGV` from a shell whose soft core limit is 0 (the usual)
    r = run_program("wait_status", ["SIGSEGV"], limits={"core": 0}, cwd=tmp_path)
    assert r.signal == signal.SIGSEGV and not r.core_dumped, r.describe()
    assert list(tmp_path.iterdir()) == []


def test_a_zero_hard_core_limit_is_said_not_hidden(tmp_path):
    binary = toolchain.find("wait_status").build()
    lower = ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
             "os.execv(sys.argv[1], sys.argv[1:])")
    r = runner.run([sys.executable, "-c", lower, binary], cwd=tmp_path)
    assert r.exit_code == 0, r.stderr_text
    assert decoded(r)["SIGSEGV"][1].endswith("WCOREDUMP=0")
    line_matching(r, r"core bit not observed: RLIMIT_CORE hard limit 0,.*")


def test_python_sees_the_same_statuses_as_c():
    c_side = decoded(run_program("wait_status", limits={"core": None}))
    rows = {row["case"]: row for row in statuses.side_by_side()}
    expect = {"return7": 7, "exit3": 3, "exit256": 0, "exit-1": 255, "SIGTERM": -15, "SIGSEGV": -11}
    for case, code in expect.items():
        row = rows[case]
        assert row["waitstatus_to_exitcode"] == code, row
        assert row["subprocess_returncode"] == code, row        # negative: killed by that signal
        words = re.sub(r" \([^)]*\)", "", c_side[case][1])     # drop strsignal's text
        if case != "SIGSEGV":
            assert row["raw"] == c_side[case][0] and row["c"] == words, (row, c_side[case])
    assert rows["SIGSEGV"]["core_dumped"] == (statuses.core_obstacle() is None)
    assert rows["SIGSTOP"]["c"] == "WIFSTOPPED WSTOPSIG=19"
    assert rows["SIGCONT"]["c"] == "WIFCONTINUED" and rows["SIGCONT"]["raw"] == c_side["SIGCONT"][0]
    for case in ("SIGSTOP", "SIGCONT"):  # not endings: os.waitstatus_to_exitcode refuses them
        assert str(rows[case]["waitstatus_to_exitcode"]).startswith("ValueError")


@pytest.mark.parametrize("how, arg, seen", [
    ("exit", 256, ("exit_code", 0)), ("exit", -1, ("exit_code", 255)),
    ("signal", signal.SIGTERM, ("signal", signal.SIGTERM)), ("signal", signal.SIGKILL, ("signal", signal.SIGKILL)),
])
def test_a_child_forked_in_process_ends_as_asked(how, arg, seen):
    pid = lifecycle.fork_ending(how, arg)
    st = native.waitpid(pid, 0)
    assert st.pid == pid and getattr(st, seen[0]) == seen[1], st


def reaped(result, pattern):
    return [tuple(int(x) for x in m.groups()) for m in map(re.compile(pattern).fullmatch, result.lines) if m]


def created(result) -> dict[int, int]:
    return {n: pid for n, pid in reaped(result, r"created child (\d+): pid (\d+)")}


@pytest.mark.parametrize("mode", MODES)
def test_wait_returns_whichever_child_ended_then_echild(mode):
    r = run_program("reap_all", ["any"], mode=mode)
    assert r.exit_code == 0, r.stderr_text
    kids = created(r)
    got = reaped(r, r"wait\(\) -> pid (\d+) exit (\d+)")
    assert [code for _, code in got] == [3, 2, 1]              # the order the parent released them
    assert all(kids[code] == pid for pid, code in got)
    assert r.lines[-1] == "then: No child processes (ECHILD: every child collected)"


def test_waitpid_collects_in_creation_order_although_the_last_ended_first():
    r = run_program("reap_all", ["order", "4"])
    kids = created(r)
    assert r.match().in_order([f"child {n} ended (a zombie until reaped)" for n in (4, 3, 2, 1)])
    got = reaped(r, r"waitpid\((\d+)\) -> exit (\d+)")
    assert got == [(kids[n], n) for n in (1, 2, 3, 4)]
    assert r.lines[-1].endswith("(ECHILD: every child collected)")


def test_wnohang_returns_zero_while_children_run_and_polls_to_echild():
    r = run_program("reap_all", ["poll"])
    assert r.match().in_order(["waitpid(-1, WNOHANG) returned 0: children still running",
                               "waitpid(-1, WNOHANG) -> pid * exit *", "polls that found nothing: *"])
    got = reaped(r, r"waitpid\(-1, WNOHANG\) -> pid (\d+) exit (\d+)")
    assert sorted(got) == sorted((pid, n) for n, pid in created(r).items())  # any order, each once
    (empty,) = reaped(r, r"polls that found nothing: (\d+) \(each followed by 1 ms of other work\)")
    # not a busy spin: every empty poll cost at least 1 ms, so they cannot outnumber the run's ms
    assert empty[0] <= r.duration * 1000, (empty, r.duration)
    assert r.lines[-1].endswith("(ECHILD: every child collected)")


def test_waitid_wnowait_peeks_at_a_zombie_without_reaping_it():
    with runner.start([toolchain.find("waitid_peek").build(), "42"]) as p:
        p.expect(r"peek 2 .*\n")
        child = int(re.search(rb"child (\d+)", p.output()).group(1))
        assert procstate.state_proc(child) == "Z"               # seen from outside, twice peeked
        assert procstate.read_stat(child).ppid == p.pid
        p.write("\n")
        r = p.wait(timeout=10)
    assert r.exit_code == 0
    r.match().assert_in_order([f"peek 1 (WNOWAIT): pid {child} si_code CLD_EXITED si_status 42; /proc says state Z",
                               f"peek 2 (WNOWAIT): pid {child} si_code CLD_EXITED si_status 42; /proc says state Z",
                               f"reap: pid {child} si_code CLD_EXITED si_status 42; /proc says state -",
                               "waitid again: No child processes"])
    assert not procstate.exists(child)


def test_python_peeks_reaps_in_creation_order_and_finds_echild():
    pids = lifecycle.fork_exits([5, 6, 7])
    for pid, code in zip(pids, (5, 6, 7)):
        info = lifecycle.waitid(lifecycle.P_PID, pid, lifecycle.WEXITED | lifecycle.WNOWAIT)
        assert (info.pid, info.code, info.status) == (pid, "CLD_EXITED", code)
        assert procstate.state_proc(pid) == "Z"                 # peeked, still there
    assert [(pid, os.waitstatus_to_exitcode(raw)) for pid, raw in lifecycle.reap(pids)] == list(zip(pids, (5, 6, 7)))
    assert lifecycle.reap_all() == []                           # ECHILD at once: nothing left
    assert not any(procstate.exists(pid) for pid in pids)


def test_waitid_wnohang_reports_nothing_while_the_child_runs():
    pid = lifecycle.fork_ending("block")
    try:
        assert lifecycle.waitid(lifecycle.P_PID, pid, lifecycle.WEXITED | os.WNOHANG).pid == 0
    finally:
        os.kill(pid, signal.SIGKILL)
        info = lifecycle.waitid(lifecycle.P_PID, pid, lifecycle.WEXITED)
    assert (info.code, info.status) == ("CLD_KILLED", signal.SIGKILL)


LESSONS = ["wait_status", "reap_all", "waitid_peek", "zombie_kill", "orphan", "sigchld_reap",
           "sigchld_ignore", "fork_stdio"]


def test_every_lesson_is_listed_with_a_one_line_summary():
    progs = toolchain.programs()
    for name in LESSONS:
        assert name in progs and progs[name].summary and "\n" not in progs[name].summary, name


@pytest.mark.parametrize("name", ["reap_all", "zombie_kill", "orphan", "sigchld_ignore", "fork_stdio"])
def test_a_lesson_given_a_bad_mode_says_how_to_call_it_and_exits_2(name):
    r = run_program(name, ["no-such-mode"])
    assert r.exit_code == 2 and r.stderr_text.startswith(f"usage: {name}"), r.stderr_text
    assert r.stdout == b""
