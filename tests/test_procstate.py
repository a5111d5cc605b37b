"""Process states from /proc, ps and psutil: they agree, and waiting has a deadline."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from pylab.bindings import native

from pylab.observe import procstate

from pylab.run import runner


def _agree_on(pid: int, letter: str) -> dict:
    return procstate.call_until(lambda: procstate.states(pid),
                                lambda s: set(s.values()) == {letter}, timeout=5,
                                what=f"all three sources to say {letter}")


def test_three_sources_agree_on_a_sleeping_process():
    with runner.start(["cat"]) as proc:  # blocked reading its stdin pipe
        assert _agree_on(proc.pid, "S") == {"proc": "S", "ps": "S", "psutil": "S"}


def test_three_sources_agree_on_a_running_process():
    with runner.start(["sh", "-c", "while :; do :; done"]) as proc:
        assert _agree_on(proc.pid, "R")["ps"] == "R"


def test_three_sources_agree_on_a_stopped_process():
    with runner.start(["cat"]) as proc:
        os.kill(proc.pid, signal.SIGSTOP)
        assert _agree_on(proc.pid, "T")["psutil"] == "T"
        os.kill(proc.pid, signal.SIGCONT)


def test_three_sources_agree_on_a_zombie_and_it_holds_no_memory():
    pid = native.make_zombie(7)
    try:
        assert procstate.states(pid) == {"proc": "Z", "ps": "Z", "psutil": "Z"}
        held = procstate.holdings(pid)
        assert held["vm_rss"] is None and held["vm_size"] is None
        if os.geteuid() == 0:
            assert held["open_fds"] == 0
        else:  # a zombie has no memory map, so /proc gives its fd/ to root (task_dump_owner)
            assert held["open_fds"] is None
        assert held["exit_code_field"] == 7 << 8  # the status wait() will collect
    finally:
        assert native.waitpid(pid).exit_code == 7
    assert procstate.states(pid) == {"proc": "gone", "ps": "gone", "psutil": "gone"}


def test_stat_is_parsed_after_the_last_parenthesis(tmp_path):
    # a command name may hold spaces and parentheses: "a) (b c" must not shift the fields
    odd = tmp_path / "a) (b c"
    shutil.copy(shutil.which("cat"), odd)
    with runner.start([odd]) as proc:
        procstate.wait_for_state(proc.pid, "S")
        st = procstate.read_stat(proc.pid)
        assert st.comm == "a) (b c"
        assert st.state == "S"
        assert st.ppid == proc.supervisor
        assert st.pgrp == proc.pid  # the runner put it in a group of its own


def test_wait_for_state_gives_up_at_the_deadline():
    with runner.start(["cat"]) as proc:
        with pytest.raises(TimeoutError, match="state Z"):
            procstate.wait_for_state(proc.pid, "Z", timeout=0.2)


def test_children_and_descendants():
    with runner.start(["sh", "-c", "cat | cat"]) as proc:
        kids = procstate.call_until(lambda: procstate.children(proc.pid),
                                    lambda k: len(k) == 2, timeout=5)
        assert set(kids) <= set(procstate.descendants(proc.supervisor))
        assert procstate.children(proc.supervisor) == [proc.pid]


def test_no_such_process():
    pid = native.make_zombie(0)
    native.waitpid(pid)
    with pytest.raises(procstate.NoSuchProcess):
        procstate.read_stat(pid)
    with pytest.raises(procstate.NoSuchProcess):
        procstate.state_ps(pid)


def test_a_uids_processes_and_its_nproc_count_are_two_different_numbers():
    me = os.getuid()
    # a Python process with an extra thread: one more process, two more tasks
    code = "import threading, sys; threading.Thread(target=sys.stdin.read).start(); print('ready', flush=True)"
    before_pids = set(procstate.processes_of_uid(me))
    with runner.start([sys.executable, "-c", code]) as proc:
        proc.expect("ready")
        pids = procstate.processes_of_uid(me)
        assert proc.pid in pids and proc.pid not in before_pids
        threads = procstate.read_stat(proc.pid).num_threads
        assert threads == 2
        # every listed process counts its threads: nproc_count is at least that much bigger
        assert procstate.nproc_count(me) >= len(pids) + threads - 1
        proc.close_stdin()
    assert proc.pid not in procstate.processes_of_uid(me)


def test_no_process_runs_as_an_unused_uid():
    unused = 64999
    assert procstate.processes_of_uid(unused) == [] and procstate.nproc_count(unused) == 0


def test_ns_pids_gives_the_host_pid_and_the_one_inside_a_pid_namespace():
    assert procstate.ns_pids(os.getpid()) == [os.getpid()]
    argv = ["bwrap", "--unshare-user", "--unshare-pid", "--dev-bind", "/", "/", "--proc", "/proc",
            "sh", "-c", "echo $$; exec cat"]
    with runner.start(argv) as proc:
        inner = int(proc.expect(rb"^(\d+)$").group(1))  # what the shell sees as its own pid
        cat = procstate.call_until(lambda: [p for p in procstate.descendants(proc.pid)
                                            if procstate.read_stat(p).comm == "cat"], timeout=5)[0]
        assert procstate.ns_pids(cat) == [cat, inner] and inner < cat
        proc.close_stdin()


def test_descendants_started_pairs_each_live_descendant_with_its_start_time():
    with subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE) as child:
        seen = procstate.descendants_started(os.getpid())
        assert seen[child.pid] == procstate.read_stat(child.pid).starttime > 0
        child.stdin.close()
    assert child.pid not in procstate.descendants_started(os.getpid())  # reaped: gone


def test_a_process_that_ends_as_its_children_are_read_has_none(monkeypatch):
    """/proc answers ESRCH (ProcessLookupError, not FileNotFoundError) for a task that is
    ending while it is read: the grader's hold check read that as its own error."""
    real_open = open

    def ending(path, *a, **kw):
        if str(path).endswith("/children"):
            raise ProcessLookupError(3, "No such process")
        return real_open(path, *a, **kw)
    monkeypatch.setattr("builtins.open", ending)
    monkeypatch.setattr(procstate, "exists", lambda pid: False)
    assert procstate.children(os.getpid()) == []
    with pytest.raises(procstate.NoSuchProcess):
        monkeypatch.setattr("builtins.open", lambda *a, **kw: (_ for _ in ()).throw(ProcessLookupError(3, "x")))
        procstate.status_fields(os.getpid())
