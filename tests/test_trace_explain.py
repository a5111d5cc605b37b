"""pylab.run.explain: each kind of sentence from a trace that leads to it, and none from
a trace that does not (logs written as strace -f -ttt -xx writes them)."""
from __future__ import annotations

from pylab.run import explain, tracer


def hexed(data: bytes) -> str:
    return "".join(f"\\x{b:02x}" for b in data)


def marker(pid: int, t: str, event: str, mode: str, pending: bytes) -> str:
    head = f"pylab-stdio {event} {mode} {len(pending)} (nil) (nil) ?\n".encode()
    body = head + pending
    return f'{pid} {t} write(-1, "{hexed(body)}", {len(body)}) = -1 EBADF (Bad file descriptor)\n'


def write(pid: int, t: str, data: bytes) -> str:
    return f'{pid} {t} write(1, "{hexed(data)}", {len(data)}) = {len(data)}\n'


def sentences(log: str) -> list[str]:
    trace = tracer.parse(text=log, where=lambda *a: None)
    return explain.sentences(trace, program=10, supervisor=1)


def test_a_copy_written_by_both_is_written_twice():
    log = (marker(10, "1.000", "fork", "full", b"hi\n") + "10 1.001 fork() = 11\n"
           + write(11, "1.002", b"hi\nkid\n") + write(10, "1.003", b"hi\nparent\n"))
    said = sentences(log)
    assert any(s.startswith("'hi' was written by 10 (the program)") and "a copy each" in s for s in said)
    assert "The line 'hi' came out 2 times, written by 2 processes (10, 11)." in said


def test_a_copy_one_side_threw_away_is_said_to_be_written_once():
    log = (marker(10, "1.000", "fork", "full", b"hi\n") + "10 1.001 fork() = 11\n"
           + marker(11, "1.002", "_exit", "full", b"hi\n") + "11 1.003 exit_group(0) = ?\n"
           + write(10, "1.004", b"hi\n"))
    said = sentences(log)
    assert not [s for s in said if "a copy each" in s]
    assert any("fork copied it into the child; only 10 (the program) wrote its copy" in s for s in said)
    assert any(s.startswith("11 (the program's child)'s 'hi' never reached stdout") and "_exit" in s for s in said)


def test_an_exec_that_failed_lost_nothing():
    failed = ('11 1.003 execve("\\x2f\\x6e\\x6f", ["\\x6e\\x6f"], 0x0 /* 1 var */) = -1 ENOENT '
              '(No such file or directory)\n')
    lost = marker(11, "1.002", "exec", "full", b"bye\n")
    assert not [s for s in sentences(lost + failed) if "never reached stdout" in s]
    done = '11 1.004 execve("\\x2f\\x62\\x69\\x6e\\x2f\\x74\\x72\\x75\\x65", ["\\x74\\x72\\x75\\x65"], 0x0) = 0\n'
    (s,) = [s for s in sentences(lost + done) if "never reached stdout" in s]
    assert "'bye'" in s and "with 'true'" in s


def test_a_zombie_interval_and_an_adoption_are_told():
    log = ("10 1.000 fork() = 11\n10 1.001 fork() = 12\n"
           "11 1.002 +++ exited with 0 +++\n"
           "10 1.302 wait4(11, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11\n"
           "10 1.303 +++ exited with 0 +++\n"
           "12 1.400 +++ killed by SIGKILL +++\n"
           "1 1.402 wait4(-1, NULL, 0, NULL) = 12\n")
    said = sentences(log)
    assert "11 (the program's child) was a zombie from t=2.0 ms until its parent's wait at t=302.0 ms." in said
    assert "12 (the program's child) was a zombie from t=400.0 ms until the supervisor 1 (the run's subreaper) " \
           "reaped it at t=402.0 ms." in said
    assert any(s.startswith("12 (the program's child) outlived its parent 10") and
               "re-parented to the supervisor 1 (the run's subreaper)" in s for s in said)
    assert "12 (the program's child) was killed by SIGKILL (t=400.0 ms)." in said


def test_a_quick_reap_is_no_zombie_worth_a_sentence():
    log = ("10 1.000 fork() = 11\n11 1.0001 +++ exited with 0 +++\n"
           "10 1.0002 wait4(11, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11\n")
    assert not [s for s in sentences(log) if "zombie" in s]


def test_setvbuf_and_forks_with_nothing_pending():
    log = (marker(10, "1.000", "setvbuf", "none", b"") + marker(10, "1.001", "fork", "none", b"")
           + "10 1.002 fork() = 11\n" + marker(10, "1.003", "fork", "none", b"") + "10 1.004 fork() = 12\n")
    said = sentences(log)
    assert said[0].startswith("10 (the program) set stdout unbuffered itself (setvbuf)")
    assert "At each of the 2 forks stdout's buffer was empty (stdout was unbuffered), so fork copied no " \
           "pending output." in said


def test_a_signal_sent_by_another_process_names_the_sender():
    log = "10 1.000 fork() = 11\n10 1.001 kill(11, SIGTERM) = 0\n11 1.002 +++ killed by SIGTERM +++\n"
    assert "11 (the program's child) was killed by SIGTERM, sent by 10 (the program) (t=2.0 ms)." in sentences(log)
