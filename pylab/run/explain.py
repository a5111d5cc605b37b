"""Plain sentences about a traced run: why each line came out as often as it did.

Every sentence is read off the run's trace (pylab.run.tracer): who forked whom with
what still in stdout's buffer, which copies of it were written and which were thrown
away by exec or _exit, who set its own buffering, who was a zombie for how long, who
outlived its parent and who adopted it. Nothing here guesses from the source.

    for line in sentences(result.trace, program=result.pid, supervisor=result.supervisor):
        print(line)
"""
from __future__ import annotations

from pylab.run.tracer import Event, Trace

MODE_WORDS = {"none": "unbuffered", "line": "line-buffered", "full": "fully buffered"}
ZOMBIE_MIN = 0.001  # seconds: a shorter zombie is just the moment before its parent's wait
# What an explanation without a sentence still says: the zombies it does not name too
NOTHING_SHOWN = (f"no line duplicated or lost, no orphan, no zombie that lasted {ZOMBIE_MIN * 1000:g} ms or more "
                 "(each child is one for a moment, until its parent's wait)")


def _ms(t: float) -> str:
    return f"t={t * 1000:.1f} ms"


def _quote(data: bytes) -> str:
    lines = data.decode(errors="replace").splitlines()
    shown = " / ".join(repr(ln)[1:-1] for ln in lines[:3])
    return f"'{shown}'" + (f" (and {len(lines) - 3} more lines)" if len(lines) > 3 else "")


class _Names:
    def __init__(self, trace: Trace, program: int | None, supervisor: int | None):
        self.program, self.supervisor = program, supervisor
        self.parent = {p.pid: p.parent for p in trace.processes().values()}

    def __call__(self, pid: int | None) -> str:
        if pid is None:
            return "an unknown process"
        if pid == self.program:
            return f"{pid} (the program)"
        if pid == self.supervisor:
            return f"the supervisor {pid} (the run's subreaper)"
        parent = self.parent.get(pid)
        if parent == self.program:
            return f"{pid} (the program's child)"
        return f"{pid} (child of {parent})" if parent else str(pid)


def _next(events: list[Event], after: Event, pid: int, kinds: tuple[str, ...]) -> Event | None:
    started = False
    for e in events:
        if e is after:
            started = True
        elif started and e.pid == pid and e.kind in kinds:
            return e
    return None


def _wrote(trace: Trace, pid: int, data: bytes, since: float, kind: str = "write") -> Event | None:
    """The write by pid to fd 1, at or after `since`, whose bytes hold `data` (a flushed
    copy): to the run's stdout, or (kind="elsewhere") to where pid had pointed its fd 1."""
    out = b""
    for e in trace.events:
        if e.kind == kind and e.fd == 1 and e.pid == pid and e.t >= since:
            out += e.data
            if data in out:
                return e
    return None


def _made_by(flags: str) -> str:
    """What made a process, from its spawn event's text: vfork (also clone with
    CLONE_VFORK, as posix_spawn and system() do), clone (other flags), or fork."""
    if flags == "vfork" or "CLONE_VFORK" in flags:
        return "vfork"
    # glibc's fork() is clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD): still a fork
    shared = {"CLONE_VM", "CLONE_FILES", "CLONE_FS", "CLONE_SIGHAND", "CLONE_NEWPID", "CLONE_NEWNS", "CLONE_NEWUSER"}
    return "clone" if shared & set(flags.split("|")) else "fork"


def _shared_memory(trace: Trace) -> dict[int, tuple[int, float, str]]:
    """{child: (parent, until, made by)} for each process made by vfork, or by clone with
    CLONE_VM (not a thread): it runs in its parent's memory, stdout's buffer included,
    until it execs or ends, so what stdio shows it holding then is its parent's."""
    shared = {}
    for e in trace.events:
        flags = e.text or ""
        if e.kind == "spawn" and e.other is not None and "CLONE_THREAD" not in flags and \
                (_made_by(flags) == "vfork" or "CLONE_VM" in flags):
            done = next((x.t for x in trace.events if x.pid == e.other and x.kind in ("exec", "end")), float("inf"))
            made = "vfork" if _made_by(flags) == "vfork" else "clone with CLONE_VM"
            shared[e.other] = (e.pid, done, made)
    return shared


def _running(trace: Trace, pid: int, t: float, name) -> str:
    """', running PROG,' when pid had exec'd another program by t (the program's own
    first exec is the program itself), else ''."""
    execs = [e for e in trace.events if e.pid == pid and e.kind == "exec" and e.t <= t]
    if pid == name.program:
        execs = execs[1:]
    return f", running {(execs[-1].argv or [execs[-1].text])[0]!r}," if execs else ""


def buffer_sentences(trace: Trace, name) -> list[str]:
    """Fork copies, exec and _exit losses, setvbuf: one sentence each."""
    out: list[str] = []
    events = trace.events
    shared = _shared_memory(trace)
    empty_forks: dict[str, int] = {}
    copies: dict[bytes, list[tuple[Event, Event]]] = {}  # pending bytes -> (marker, spawn) per fork
    for e in events:
        if e.kind == "stdio" and e.text == "fork" and e.data:
            spawn = _next(events, e, e.pid, ("spawn",))
            if spawn is not None:
                copies.setdefault(e.data, []).append((e, spawn))
    many = {data for data, forks in copies.items() if len(forks) > 2}
    for data in many:
        forks = copies[data]
        writers = {p for m, s in forks for p in (m.pid, s.other) if _wrote(trace, p, data, m.t)}
        pairs = ", ".join(f"{m.pid}->{s.other}" for m, s in forks)
        out.append(f"{_quote(data)} was still in the {MODE_WORDS.get(forks[0][0].mode, forks[0][0].mode)} stdout "
                   f"buffer at each of {len(forks)} forks ({pairs}): every fork copied it, and {len(writers)} "
                   f"processes each wrote their copy.")
    for e in events:
        if e.kind != "stdio":
            continue
        if e.text == "setvbuf":
            where = f" at {e.where}" if e.where else ""
            out.append(f"{name(e.pid)}{_running(trace, e.pid, e.t, name)} set stdout "
                       f"{MODE_WORDS.get(e.mode, e.mode)} itself (setvbuf){where}, "
                       f"so the default buffering for this target did not apply from then on.")
        elif e.text == "fork":
            spawn = _next(events, e, e.pid, ("spawn",))
            if spawn is None:
                continue
            if not e.data:
                empty_forks[e.mode] = empty_forks.get(e.mode, 0) + 1
                continue
            if e.data in many:
                continue
            child = spawn.other  # (the child may run, and write, before its parent's fork returns)
            writers = [(p, w) for p in (e.pid, child) if (w := _wrote(trace, p, e.data, e.t))]
            text = _quote(e.data)
            if len(writers) == 2:
                out.append(f"{text} was written by {name(e.pid)} at {_ms(writers[0][1].t)} and by its child "
                           f"{child} at {_ms(writers[1][1].t)}, a copy each: it was still in the "
                           f"{MODE_WORDS.get(e.mode, e.mode)} stdout buffer when fork copied the buffer into the "
                           f"child ({_ms(spawn.t)}).")
            else:
                who = f"only {name(writers[0][0])} wrote its copy to stdout" if writers else \
                      "neither wrote its copy to stdout"
                away = [f"{name(p)} wrote its copy to {_target(w.text)}, where it had pointed its fd 1"
                        for p in (e.pid, child) if (w := _wrote(trace, p, e.data, e.t, "elsewhere"))]
                out.append(f"{text} was in {name(e.pid)}'s stdout buffer when it forked {child} ({_ms(spawn.t)}): "
                           f"fork copied it into the child; {'; '.join([who, *away])}.")
        elif e.text in ("exec", "_exit") and e.data:
            done = _next(events, e, e.pid, ("exec", "stdio")) if e.text == "exec" else None
            if e.text == "exec" and (done is None or done.kind != "exec"):
                continue  # the exec failed: the buffer is still there (an _exit marker may tell the rest)
            if e.pid in shared and e.t <= shared[e.pid][1]:  # not a copy: the parent's own buffer
                parent, made = shared[e.pid][0], shared[e.pid][2]
                later = _wrote(trace, parent, e.data, e.t)
                kept = (f"{name(parent)} wrote it at {_ms(later.t)}" if later
                        else f"it stayed in {name(parent)}'s buffer")
                until = "exec'd" if e.text == "exec" else "ended"
                out.append(f"{name(e.pid)} was made by {made}, so it ran in {name(parent)}'s memory until it {until}: "
                           f"the {_quote(e.data)} pending in stdout's buffer at its {e.text} was in {name(parent)}'s "
                           f"buffer (it has none of its own: what it printed itself went there too), and was not "
                           f"lost: {kept}.")
            elif e.text == "exec":
                prog = (done.argv or [done.text])[0]
                where = f" (at {e.where})" if e.where else ""
                out.append(f"{name(e.pid)}'s {_quote(e.data)} never reached stdout: it was still buffered when "
                           f"exec replaced the program with {prog!r} at {_ms(done.t)}{where}, and exec keeps no "
                           "buffer.")
            else:
                where = f" at {e.where}" if e.where else ""
                out.append(f"{name(e.pid)}'s {_quote(e.data)} never reached stdout: it was still buffered when "
                           f"_exit{where} ended the process without flushing ({_ms(e.t)}).")
    for mode, n in empty_forks.items():
        out.append(f"At {'each of the ' + str(n) + ' forks' if n > 1 else 'the fork'} stdout's buffer was empty "
                   f"(stdout was {MODE_WORDS.get(mode, mode)}), so fork copied no pending output.")
    return out


def duplicate_sentences(trace: Trace, name) -> list[str]:
    """Lines that came out more than once in all, and from how many processes (each
    process's stdout read as one stream: an unbuffered line may take several writes)."""
    counts: dict[str, list[int]] = {}
    for pid in dict.fromkeys(e.pid for e in trace.events if e.kind == "write" and e.fd == 1):
        for line in trace.stdout(pid).decode(errors="replace").splitlines():
            counts.setdefault(line, []).append(pid)
    out = []
    for line, pids in counts.items():
        if len(pids) > 1 and len(set(pids)) > 1:
            out.append(f"The line {line!r} came out {len(pids)} times, written by {len(set(pids))} processes "
                       f"({', '.join(str(p) for p in sorted(set(pids)))}).")
    return out


def elsewhere_sentences(trace: Trace, name) -> list[str]:
    """Writes to fd 1 or 2 that did not reach the run's stdout or stderr: the process had
    pointed the fd elsewhere (closed and reopened it, or dup2'd a file onto it)."""
    out, seen = [], {}
    for e in trace.events:
        if e.kind == "elsewhere":
            seen.setdefault((e.pid, e.fd, e.text), []).append(e)
    for (pid, fd, target), writes in seen.items():
        stream = "stdout" if fd == 1 else "stderr"
        data = b"".join(w.data for w in writes)
        out.append(f"{name(pid)} had pointed its fd {fd} at {_target(target)}: its {len(writes)} write(s) to fd {fd} "
                   f"({_quote(data)}) went there, not to the run's {stream}.")
    return out


def _stdout_lines(trace: Trace, pid: int, since: float = float("-inf"), until: float = float("inf")) -> list[str]:
    return trace.stdout(pid, since, until).decode(errors="replace").splitlines()


def copied_sentences(trace: Trace, name) -> list[str]:
    """From system calls alone (no marker): each line that a process and the child it
    forked both wrote after that fork, the child before any exec, each copy at the
    start of a write and the parent's in its first write after the fork (where a flush
    of what was pending starts): a copy of what was still in the parent's stdout
    buffer (fork copies the buffer), written by each.
    No times: grading feedback must read the same on every run of the same program."""
    out = []
    for s in trace.events:
        if s.kind != "spawn" or s.other is None or "CLONE_THREAD" in (s.text or ""):
            continue
        parent, child = s.pid, s.other
        execd = next((e.t for e in trace.events if e.pid == child and e.kind == "exec"), float("inf"))
        theirs = _stdout_lines(trace, parent, since=s.t)
        before = _stdout_lines(trace, parent, until=s.t)
        writes = [e for e in trace.events if e.kind == "write" and e.fd == 1]
        # a flush starts with what was pending
        first = next((e.data for e in writes if e.pid == parent and e.t >= s.t), b"")
        # the child's own writes, even those logged before its parent's clone returned
        starts = [e.data for e in writes if e.pid == child and e.t < execd]
        for line in dict.fromkeys(_stdout_lines(trace, child, until=execd)):
            data = line.encode()
            if line not in theirs or not first.startswith(data) or not any(w.startswith(data) for w in starts):
                continue
            empty = f"; {name(parent)} had written nothing to stdout before that fork" if not before else ""
            out.append(f"{_quote(line.encode())} was written by {name(parent)} and by its child {child}, a copy "
                       f"each, both after the fork{empty}: the line was still in stdout's buffer when fork copied the "
                       f"buffer into the child, and each process wrote its copy.")
    return out


def unwritten_sentences(trace: Trace, name, pids) -> list[str]:
    """From system calls alone: each of `pids` that exec'd, or ended, having written
    nothing to stdout since it began (or since its first exec, for a process that
    began as a copy of another program: the supervisor execs the program)."""
    out = []
    procs = trace.processes()
    for pid in pids:
        p = procs.get(pid)
        if p is None:
            continue
        mine = [e for e in trace.events if e.pid == pid]
        execs = [e for e in mine if e.kind == "exec"]
        start = p.born if p.born is not None else float("-inf")
        if pid == name.program and execs:  # its first exec made it the program
            start, execs = execs[0].t, execs[1:]
        for e in execs:
            if not _stdout_lines(trace, pid, since=start, until=e.t):
                prog = (e.argv or [e.text])[0]
                away = _away(mine, start, e.t)
                out.append(f"{name(pid)} wrote nothing to stdout before exec replaced it with {prog!r}: " + (
                    away or "whatever it had printed and not flushed was lost, as exec keeps no buffer."))
            start = e.t
        end = next((e for e in mine if e.kind == "exit"), None)
        if end is not None and end.t >= start and not _stdout_lines(trace, pid, since=start, until=end.t + 1e-9):
            away = _away(mine, start, end.t + 1e-9)
            out.append(f"{name(pid)} ended (exit) without writing anything to stdout: " + (
                away or "either it printed nothing, or what it printed was still in stdio's buffer when it ended "
                        "with _exit, which does not flush (exit does)."))
    return out


def _away(events: list[Event], since: float, until: float) -> str:
    """'its writes to fd 1 went to TARGET, ...' for a process's writes to fd 1 in [since,
    until) that did not reach the run's stdout, or ''."""
    targets = list(dict.fromkeys(_target(e.text) for e in events if e.kind == "elsewhere" and e.fd == 1
                                 and since <= e.t < until))
    if any(e.kind == "write" and e.text == "via fd 1" and since <= e.t < until for e in events):
        targets.append("the run's stderr")  # (its fd 1 pointed at stderr: 1>&2)
    return (f"its writes to fd 1 went to {' and '.join(targets)}, where it had pointed fd 1, not to the run's "
            "stdout.") if targets else ""


def _target(text: str) -> str:
    """Where an fd pointed, quoted as a file name may need (a newline cannot end a sentence)."""
    return repr(text)


def syscall_sentences(trace: Trace, program: int | None = None, supervisor: int | None = None,
                      pids=None) -> list[str]:
    """The sentences that system calls alone support (no stdio marker: what grading may
    trust): lines written by a parent and its child, a copy each, after a fork, and processes
    of `pids` (default: every one but the supervisor) that exec'd or ended having
    written nothing to stdout."""
    name = _Names(trace, program, supervisor)
    if pids is None:
        pids = [p for p in trace.processes() if p != supervisor]
    return [*copied_sentences(trace, name), *unwritten_sentences(trace, name, pids)]


def life_sentences(trace: Trace, name) -> list[str]:
    """Zombie intervals, adoptions, deaths by signal."""
    out = []
    procs = trace.processes()
    for e in trace.events:
        if e.kind == "reparent":
            parent = procs[e.pid].parent
            adopter = "an adopter the trace does not show" if e.other is None else name(e.other)
            out.append(f"{name(e.pid)} outlived its parent {parent} (gone at {_ms(e.t)}) and was re-parented "
                       f"to {adopter}.")
    for p in procs.values():
        if p.pid == name.supervisor:
            continue
        if p.ended is not None and p.reaped_at is not None and p.reaped_at - p.ended >= ZOMBIE_MIN:
            until = (f"its parent's wait at {_ms(p.reaped_at)}" if p.reaped_by == p.parent
                     else f"{name(p.reaped_by)} reaped it at {_ms(p.reaped_at)}")
            out.append(f"{name(p.pid)} was a zombie from {_ms(p.ended)} until {until}.")
        if p.signal:
            sender = next((e.pid for e in trace.events if e.kind == "kill" and e.other == p.pid), None)
            by = f", sent by {name(sender)}" if sender is not None else ""
            out.append(f"{name(p.pid)} was killed by {p.signal}{by} ({_ms(p.ended)}).")
    return out


def sentences(trace: Trace, program: int | None = None, supervisor: int | None = None) -> list[str]:
    """Every sentence the trace supports, buffers first, then lives."""
    name = _Names(trace, program, supervisor)
    return [*buffer_sentences(trace, name), *duplicate_sentences(trace, name), *elsewhere_sentences(trace, name),
            *life_sentences(trace, name)]


def describe_event(e: Event) -> str | None:
    """One event in words; None for a SIGCHLD delivery (every reap has one; the reap says it)."""
    if e.kind == "signal" and e.signal == "SIGCHLD":
        return None
    what = {
        "spawn": lambda: f"{_made_by(e.text or '')} -> {e.other}" +
                         (f" ({e.text})" if e.text not in ("fork", "vfork") else ""),
        "exec": lambda: f"exec {' '.join(e.argv or [e.text])}",
        "exec_failed": lambda: f"exec failed: {e.text}",
        "write": lambda: f"write fd {e.fd}" + (f" ({e.text})" if e.text else "") +
                         f": {e.data.decode(errors='replace')!r}",
        "elsewhere": lambda: f"write fd {e.fd} (pointed at {_target(e.text)}): {e.data.decode(errors='replace')!r}",
        "exit": lambda: f"exit({e.code})",
        "end": lambda: f"ended: exit code {e.code}" if e.signal is None else
                       f"ended: killed by {e.signal}{' (core dumped)' if e.core else ''}",
        "signal": lambda: f"got {e.signal}" + (f" from {e.other}" if e.other else ""),
        "kill": lambda: f"sent {e.signal} to {e.other}",
        "reap": lambda: f"reaped {e.other}" + (f" ({e.text})" if e.text else ""),
        "reparent": lambda: f"re-parented to {e.other}",
        "stdio": lambda: f"stdio: {e.text}, stdout {MODE_WORDS.get(e.mode, e.mode)}, "
                         f"{len(e.data)} bytes pending" + (f" ({e.where})" if e.where else ""),
    }.get(e.kind, lambda: e.kind)()
    return f"{e.t * 1000:9.2f} ms  {e.pid:<7} {what}"


def timeline(trace: Trace) -> list[str]:
    """One line per event, in time order."""
    return [line for e in trace.events if (line := describe_event(e)) is not None]
