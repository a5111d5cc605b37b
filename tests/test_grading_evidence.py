"""The grader's evidence believes only system calls: a submission can write anything,
including the stdio markers that `pylab trace`'s preloaded library writes for itself."""
import os

from pylab.grading import evidence
from pylab.run import tracer


def _forged_log(tmp_path, named: str) -> os.PathLike:
    marker = f"{tracer.MARKER.decode()}setvbuf unbuffered 0 0x401136 0x400000 {named}\n".encode()
    hexed = "".join("\\x%02x" % b for b in marker)  # strace -xx writes every byte so
    log = tmp_path / "trace.log"
    log.write_text(
        '100 1.000000 execve("./p", ["./p"], 0x7ffd /* 1 var */) = 0\n'
        f'100 1.000100 write(-1, "{hexed}", {len(marker)}) = -1 EBADF (Bad file descriptor)\n'
        '100 1.000200 write(1, "\\x68\\x69\\x0a", 3) = 3\n'
        '100 1.000300 exit_group(0) = ?\n'
        '100 1.000310 +++ exited with 0 +++\n')
    return log


def test_a_forged_stdio_marker_is_dropped_and_its_file_never_given_to_addr2line(tmp_path, monkeypatch):
    fifo = tmp_path / "a-fifo"  # addr2line -e on it would block until its timeout
    os.mkfifo(fifo)
    ran = []
    monkeypatch.setattr(tracer.subprocess, "run", lambda *a, **k: ran.append(a) or (_ for _ in ()).throw(
        AssertionError(f"the grader ran {a}")))
    log = _forged_log(tmp_path, str(fifo))
    # the same log read as pylab trace reads its own: the marker is an event there
    assert [e.text for e in tracer.parse(text=log.read_text(), where=lambda *a: None).events
            if e.kind == "stdio"] == ["setvbuf"]
    seen = evidence.watch(log, namespaces=False)
    assert ran == []
    assert [e.kind for e in seen.events if e.kind == "stdio"] == []
    # what the program really wrote is still there (the first traced process is named 1, as
    # the supervisor is inside a sandbox)
    assert seen.stdout(1) == b"hi\n"


def test_a_line_the_tracer_is_still_writing_is_not_read(tmp_path):
    """A hold check reads the log while the run goes on: a fork's line cut mid-number
    ("= 12" of "= 123 ...") must not name a child that does not exist."""
    log = tmp_path / "log"
    whole = '100 1.000000 clone(child_stack=NULL, flags=SIGCHLD) = 101\n'
    log.write_text(whole + '100 1.000100 clone(child_stack=NULL, flags=SIGCHLD) = 12')
    text, complete = evidence.read_log(log)
    assert text == whole and complete
