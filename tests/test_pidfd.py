"""pidfd: waiting for and signalling a process through a descriptor that names it for
good (no pid-reuse race); the C program, the native helpers and Python's os/signal."""
from __future__ import annotations

import os
import select
import signal

import pytest

from pylab.bindings import lab_exec as lifecycle_exec, native

from pylab.observe import procstate
from pylab.run.runner import MODES, run_program

from support import expect, line_matching


@pytest.mark.parametrize("mode", MODES)
def test_pidfd_waits_and_signals_and_refuses_a_reaped_process(mode):
    r = run_program("pidfd", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    expect(len(r.lines) == 6, "exactly six lines", r)
    first = line_matching(r, r"child 1 pid (\d+): pidfd (\d+)", at=0)
    second = line_matching(r, r"child 2 pid (\d+): poll on its pidfd: POLLIN \(it has exited\)", at=3)
    one, two = int(first.group(1)), int(second.group(1))
    assert one != two and r.pid not in (one, two)
    assert r.lines[1:3] == ["pidfd_send_signal(SIGTERM): 0", f"waitid(P_PIDFD): pid {one} killed by SIGTERM"]
    assert r.lines[4:] == [f"waitid(P_PIDFD): pid {two} exited with 7",
                           "after reaping, pidfd_send_signal: ESRCH, not a signal to a reused pid"]


@pytest.fixture
def paused_child():
    """A C child waiting for a signal, and a pidfd for it; killed and reaped if left."""
    pid = lifecycle_exec.fork_paused(None)
    fd = lifecycle_exec.pidfd_open(pid)
    state = {"reaped": False}
    yield pid, fd, state
    if not state["reaped"]:
        lifecycle_exec.pidfd_send_signal(fd, signal.SIGKILL)  # the pidfd: never a reused pid
        os.waitpid(pid, 0)
    os.close(fd)


def test_native_pidfd_signal_and_wait(paused_child):
    pid, fd, state = paused_child
    assert lifecycle_exec.pidfd_wait(fd, native.WNOHANG) is None  # still running
    lifecycle_exec.pidfd_send_signal(fd, signal.SIGTERM)
    st = lifecycle_exec.pidfd_wait(fd)
    state["reaped"] = True
    assert (st.pid, st.signaled, st.signal, st.exited) == (pid, True, signal.SIGTERM, False)
    with pytest.raises(ProcessLookupError):  # ESRCH: the pidfd still names the dead child
        lifecycle_exec.pidfd_send_signal(fd, signal.SIGKILL)


def test_native_pidfd_wait_sees_stop_and_continue(paused_child):
    pid, fd, _ = paused_child
    lifecycle_exec.pidfd_send_signal(fd, signal.SIGSTOP)
    st = lifecycle_exec.pidfd_wait(fd, lifecycle_exec.WSTOPPED)
    assert (st.pid, st.stopped, st.stop_signal) == (pid, True, signal.SIGSTOP)
    assert native.decode_status(st.raw).stopped  # the rebuilt raw status decodes the same
    lifecycle_exec.pidfd_send_signal(fd, signal.SIGCONT)
    st = lifecycle_exec.pidfd_wait(fd, native.WCONTINUED)
    assert (st.pid, st.continued) == (pid, True)


def test_native_pidfd_wait_with_wnowait_leaves_a_zombie(paused_child):
    pid, fd, state = paused_child
    lifecycle_exec.pidfd_send_signal(fd, signal.SIGKILL)
    st = lifecycle_exec.pidfd_wait(fd, lifecycle_exec.WNOWAIT)
    assert st.signal == signal.SIGKILL
    assert procstate.read_stat(pid).state == "Z"  # seen, not reaped
    assert lifecycle_exec.pidfd_wait(fd).signal == signal.SIGKILL
    state["reaped"] = True
    with pytest.raises(ChildProcessError):  # reaped now: nothing left to wait for
        os.waitpid(pid, os.WNOHANG)


def test_python_os_pidfd_open_poll_and_waitid(paused_child):
    pid, _, state = paused_child
    fd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        assert poller.poll(0) == []  # alive: not readable
        signal.pidfd_send_signal(fd, signal.SIGTERM)
        assert poller.poll(10_000) == [(fd, select.POLLIN)]  # readable once it has exited
        info = os.waitid(os.P_PIDFD, fd, os.WEXITED)
        state["reaped"] = True
        assert (info.si_pid, info.si_code, info.si_status) == (pid, os.CLD_KILLED, signal.SIGTERM)
        with pytest.raises(ProcessLookupError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    finally:
        os.close(fd)


def test_pidfd_open_of_a_missing_pid_raises_esrch():
    with pytest.raises(ProcessLookupError):
        lifecycle_exec.pidfd_open(2**22 + 1)
