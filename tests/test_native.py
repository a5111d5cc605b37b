"""The cffi native library: process calls as C makes them, errors as OSError."""
from __future__ import annotations

import errno
import os
import signal

import pytest

from pylab.bindings import native

from pylab.observe import procstate
from support import run_python


def test_getpid_and_getppid_match_python():
    assert native.getpid() == os.getpid()
    assert native.getppid() == os.getppid()


def test_make_zombie_returns_an_unreaped_child_and_waitpid_collects_it():
    pid = native.make_zombie(5)
    assert procstate.state_proc(pid) == "Z"  # deterministic: waitid WNOWAIT saw it exit
    st = native.waitpid(pid)
    assert (st.pid, st.exited, st.exit_code, st.signaled) == (pid, True, 5, False)
    assert not procstate.exists(pid)


def test_waitpid_wnohang_returns_none_while_the_child_runs():
    r, w = os.pipe()
    pid = os.posix_spawn("/bin/cat", ["cat"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, r, 0)])
    os.close(r)
    try:
        assert native.waitpid(pid, native.WNOHANG) is None
    finally:
        os.close(w)  # cat sees EOF and exits
    assert native.waitpid(pid).exit_code == 0


def test_stopped_and_continued_are_decoded():
    r, w = os.pipe()
    pid = os.posix_spawn("/bin/cat", ["cat"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, r, 0)])
    os.close(r)
    try:
        os.kill(pid, signal.SIGSTOP)
        st = native.waitpid(pid, native.WUNTRACED)
        assert st.stopped and st.stop_signal == signal.SIGSTOP
        os.kill(pid, signal.SIGCONT)
        assert native.waitpid(pid, native.WCONTINUED).continued
    finally:
        os.kill(pid, signal.SIGKILL)
        os.close(w)
    st = native.waitpid(pid)
    assert st.signaled and st.signal == signal.SIGKILL and not st.core_dumped


@pytest.mark.parametrize("raw", [0, 3 << 8, 255 << 8, signal.SIGKILL, signal.SIGSEGV | 0x80,
                                 (signal.SIGSTOP << 8) | 0x7F, 0xFFFF])
def test_decode_status_agrees_with_pythons_w_macros(raw):
    st = native.decode_status(raw)
    assert st.exited == os.WIFEXITED(raw)
    assert st.signaled == os.WIFSIGNALED(raw)
    assert st.stopped == os.WIFSTOPPED(raw)
    assert st.continued == os.WIFCONTINUED(raw)
    if st.exited:
        assert st.exit_code == os.WEXITSTATUS(raw)
    if st.signaled:
        assert (st.signal, st.core_dumped) == (os.WTERMSIG(raw), os.WCOREDUMP(raw))


def test_errors_become_oserror_with_errno():
    with pytest.raises(OSError) as info:
        native.waitpid(1)  # not our child
    assert info.value.errno == errno.ECHILD
    with pytest.raises(ValueError):
        native.setvbuf("sometimes")


def test_this_process_is_a_subreaper_for_the_suite():
    assert native.is_subreaper()


@pytest.mark.parametrize("mode,unbuffered,expected", [
    ("pipe", False, "full"), ("file", False, "full"), ("tty", False, "line"),
    ("pipe", True, "none"), ("tty", True, "none"),
])
def test_c_stdout_buffering_in_a_python_process(mode, unbuffered, expected):
    # PYTHONUNBUFFERED reaches C stdio too: CPython setvbuf()s C's stdout at start-up
    r = run_python("from pylab.bindings import native; import sys; sys.stderr.write(native.stdout_buffering())",
                   mode=mode, unbuffered=unbuffered)
    assert r.stderr_text == expected


def test_c_printf_is_lost_by_c__exit_on_a_pipe_and_kept_by_fflush():
    lost = run_python('from pylab.bindings import native; native.print_("pending"); native._exit(0)')
    assert lost.exit_code == 0 and lost.stdout == b""
    kept = run_python('from pylab.bindings import native; native.print_("pending"); native.fflush(); native._exit(0)')
    assert kept.stdout == b"pending"


def test_setvbuf_none_makes_printf_immediate():
    r = run_python('from pylab.bindings import native; native.setvbuf("none"); native.print_("now"); native._exit(0)')
    assert r.stdout == b"now"


def test_c_atexit_handlers_run_in_reverse_on_c_exit_and_not_on__exit():
    code = 'from pylab.bindings import native; native.atexit_print("first\\n"); native.atexit_print("second\\n"); native.{}(0)'
    assert run_python(code.format("exit")).lines == ["second", "first"]
    assert run_python(code.format("_exit")).stdout == b""


@pytest.mark.parametrize("how,expected", [("exit", b"from child\n"), ("_exit", b"")])
def test_fork_child_leaves_by_exit_or__exit(how, expected):
    r = run_python(f"""
        from pylab.bindings import native
        pid = native.fork_child("from child\\n", how="{how}", code=9)
        st = native.waitpid(pid)
        import sys; sys.stderr.write(f"{{st.exit_code}}")
    """)
    assert r.stderr_text == "9"
    assert r.stdout == expected  # fully buffered on a pipe: only exit() flushes


def test_the_bench_loops_time_each_round_in_c():
    from pylab.bindings import lab_bench
    from pylab.run import toolchain

    forks = lab_bench.fork_loop(5)
    assert len(forks) == 5 and all(ns > 0 for ns in forks)
    tiny = toolchain.build(toolchain.csrc_dir() / "tools" / "tiny.c")
    spawned = lab_bench.posix_spawn_loop(3, tiny)
    assert len(spawned) == 3 and all(ns > 0 for ns in spawned)
    assert len(lab_bench.vfork_loop(2)) == 2
    with pytest.raises(OSError) as info:  # a program that cannot be exec'd is an error, not a figure
        lab_bench.fork_exec_loop(1, "/no/such/program")
    assert info.value.errno in (errno.ECHILD, errno.ENOENT)


def test_a_stamped_child_reports_the_clock_the_parent_reads():
    import sys

    from pylab.bindings import lab_bench

    before = lab_bench.now_ns()
    r, w = os.pipe()
    try:
        pid = lab_bench.stamped_child(w)
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        stamp = int.from_bytes(f.read(8), sys.byteorder, signed=True)
    assert os.waitpid(pid, 0)[1] == 0
    assert before <= stamp <= lab_bench.now_ns()
    assert lab_bench.zombie_seen_ns() > 0
