"""What a sandboxed program did, seen from outside: who forked whom, what each process
executed, how each ended, what it wrote, from strace -f (pylab.run.tracer) run around
the whole sandbox, outside its namespaces.

The submission cannot reach the tracer (another pid namespace: it cannot see, signal
or trace it) nor its log (a file of the grader's, in a folder the sandbox does not
see). strace names each process by its pid here; with --pidns-translation it also
says, for each fork, the child's pid here next to the one the parent got back (its
namespace's). So every event is told in the sandbox's own pids, the ones the program
prints: Watch.forks, Watch.unreaped_at_exit, Watch.events.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pylab.run import tracer

LOG_CAP = 32 << 20  # bytes of strace log read at most; past it the evidence is incomplete


def command(log: Path, argv: list[str]) -> list[str]:
    """strace -f around argv: the tracer's own command (pid namespace translation, process
    calls and writes: which process wrote which line, and why a line came out twice or not
    at all) with no library preloaded, since nothing from inside is trusted. Run it under a
    file-size limit of LOG_CAP (the jail's -r fsize=): a loop of failing forks cannot fill
    the grader's disk, it only cuts the evidence short. The output as scored still comes
    through the grader's own pipes."""
    return tracer.command(log, argv, stdio=False)


@dataclass
class Watch:
    """Who forked whom (child, parent) and, per process that ended by exit/_exit, how
    many of its children it had not reaped: in the sandbox's pids. stdout(pid): the
    bytes pid wrote to fd 1 (the tracer's record, not the grader's pipe)."""

    forks: list = field(default_factory=list)
    unreaped_at_exit: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # tracer Events, pids translated
    complete: bool = True  # False when the log was cut at LOG_CAP

    def trace(self) -> tracer.Trace:
        """The events as a tracer Trace (for pylab.run.explain's sentences)."""
        return tracer.Trace(list(self.events), self.events[0].pid if self.events else None)

    def stdout(self, pid: int) -> bytes:
        return b"".join(e.data for e in self.events if e.kind == "write" and e.fd == 1 and e.pid == pid)

    def tree(self, root: int) -> list[int]:
        """root and every process descending from it, in fork order."""
        return tree_of(self.forks, root)


def tree_of(forks, root: int) -> list[int]:
    """root and every process descending from it by the (child, parent) pairs of forks,
    in the order the pairs give them (whatever that order is)."""
    out, grew = [root], True
    while grew:
        grew = False
        for child, parent in forks:
            if parent in out and child not in out:
                out.append(child)
                grew = True
    return out


def read_log(path: Path) -> tuple[str, bool]:
    """The log's text (never through a link, regular file only, at most LOG_CAP)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return "", False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "", False
        chunks, size = [], 0
        while size <= LOG_CAP and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        complete = len(data) < LOG_CAP  # at the cap, the tracer was cut off mid-run
        # whole lines only: one cut at the cap, or (read while the run goes on, as a hold
        # check does) one the tracer has not finished writing ("= 12" of "= 123 ...")
        data = data[:LOG_CAP]
        data = data[:data.rfind(b"\n") + 1]
        return data.decode(errors="replace"), complete
    finally:
        os.close(fd)


def _no_source_line(path: str, addr: str, base: str) -> None:
    return None


def watch(path: Path | None, namespaces: bool = True, streams: dict[int, str] | None = None) -> Watch:
    """The evidence of one traced run (an empty Watch when there is none). namespaces:
    the run was in a sandbox of its own (else pids are this machine's, and the first
    process traced, the jail that became the supervisor, is left out). streams: the run's
    stdout and stderr as /proc names them (RunResult.streams): a write to an fd 1 the
    program pointed elsewhere is then not its stdout."""
    if path is None:
        return Watch(complete=False)
    text, complete = read_log(path)
    if not text:
        return Watch(complete=False)
    # no library was preloaded (command()): a stdio marker in this log was written by the
    # submission itself, so it is dropped, and its "binary" is never handed to addr2line
    trace = tracer.parse(text=text, where=_no_source_line, streams=streams)
    trace.events = [e for e in trace.events if e.kind != "stdio"]
    if namespaces:  # the tracer names everyone by host pid; nspid is what each one saw
        inner = {pid: p.nspid for pid, p in trace.processes().items() if p.nspid is not None}
        if not inner:  # not even the sandbox's pid 1 (its CLONE_NEWPID): no pid can be told
            return Watch(complete=False)
    else:
        inner = {e.pid: e.pid for e in trace.events}
        inner[trace.root] = 1  # the supervisor, as inside a sandbox
    events = []
    for e in trace.events:
        if e.pid not in inner:
            continue  # the reaper jail, strace's own, bwrap: outside the sandbox
        e.pid = inner[e.pid]
        if e.other is not None and e.other in inner:
            e.other = inner[e.other]
        events.append(e)
    result = Watch(events=events, complete=complete)
    children: dict[int, set] = {}
    for e in events:
        if e.kind == "spawn" and "CLONE_THREAD" not in (e.text or "") and e.other:
            result.forks.append((e.other, e.pid))
            children.setdefault(e.pid, set()).add(e.other)
        elif e.kind == "reap" and e.other:
            children.setdefault(e.pid, set()).discard(e.other)
        elif e.kind == "exit" and e.pid != 1:  # the supervisor is not the program
            result.unreaped_at_exit[e.pid] = len(children.get(e.pid, ()))
    return result
