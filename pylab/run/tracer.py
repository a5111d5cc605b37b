"""The outside tracer: what every process of a run did, from strace -f.

strace (ptrace) follows the traced command and every process it creates and logs, to a
file the caller chooses (keep it where the traced program cannot write), each
process-management system call and each write. parse() turns that log into Events,
one list for the whole tree in time order:

    spawn   a fork, vfork or clone made `other` (flags in `text`)
    exec    an execve that succeeded (argv; text: the path)
    write   a write/writev to fd 1 or 2 (`data`: the exact bytes that went out)
    exit    the process called exit_group/_exit (code)
    end     the process is gone: exited (code) or killed (signal, core)
    signal  a signal was delivered (signal; other: the sender, when known)
    kill    the process sent a signal to `other`
    reap    the process collected child `other` (wait4/waitpid/waitid; text: status)
    reparent  derived: `pid` outlived its parent and was adopted by `other` (the one
            who later reaped it, or the subreaper the caller names)
    stdio   a marker from csrc/tools/stdiowatch.c (preloaded when stdio=True): what
            stdout's buffer held (`data`) at a fork, exec or _exit, or a setvbuf call
            (text: the event, mode: the buffering, where: the source line)

The API the rest of the lab uses (the runner, `pylab trace`, the grading sandbox):

    argv = command(log, ["./prog", "arg"], stdio=True)        # run this yourself
    trace = parse(log, subreaper=sup_pid)                       # then read the log
    trace.events, trace.processes()[pid].writes, trace.root

Markers come from inside the program (it could forge them): grading must trust only
the system-call events (stdio=False skips the library altogether).

PID namespaces: strace prints pids as strace's own namespace sees them. When the
program runs in a PID namespace of its own (bwrap --unshare-pid), run strace outside
it: the trace then names host pids while the program prints its namespace's. ns_pids()
reads the mapping (the NSpid line of /proc/PID/status) while a process lives; strace's
--pidns-translation prints both in the log for the calls that return a pid.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.run import toolchain

SYSCALLS = ("fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group",
            "wait4", "waitid", "kill", "tkill", "tgkill", "write", "writev")
STRING_LIMIT = 1 << 16  # bytes of each write kept in the log (-s)
MARKER = b"pylab-stdio "


class TracerMissing(UsageError):
    """strace is not installed (one line, exit 2)."""


@dataclass
class Event:
    t: float  # seconds since the first event of the trace
    pid: int
    kind: str
    other: int | None = None
    fd: int | None = None
    data: bytes = b""
    text: str = ""
    argv: list[str] | None = None
    code: int | None = None
    signal: str | None = None
    core: bool = False
    mode: str | None = None
    where: str | None = None

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if v is not None and v != b"" and v != "" and v is not False}
        if self.data:
            d["data"] = self.data.decode(errors="replace")
        d["t"] = round(self.t, 6)
        return d


@dataclass
class Proc:
    """One process of the trace, summed up from its events."""

    pid: int
    parent: int | None = None
    born: float | None = None
    argv: list[str] | None = None
    ended: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    reaped_by: int | None = None
    reaped_at: float | None = None
    adopted_by: int | None = None
    writes: list[Event] = field(default_factory=list)


@dataclass
class Trace:
    events: list[Event]
    root: int | None  # the first process traced: the command strace started
    t0: float = 0.0  # the first event's wall-clock time (seconds since the epoch)

    def processes(self) -> dict[int, Proc]:
        procs: dict[int, Proc] = {}

        def get(pid: int) -> Proc:
            return procs.setdefault(pid, Proc(pid))

        for e in self.events:
            p = get(e.pid)
            if p.born is None:
                p.born = e.t
            if e.kind == "spawn":
                child = get(e.other)
                child.parent, child.born = e.pid, e.t
            elif e.kind == "exec":
                p.argv = e.argv
            elif e.kind == "write":
                p.writes.append(e)
            elif e.kind == "end":
                p.ended, p.exit_code, p.signal = e.t, e.code, e.signal
            elif e.kind == "reap":
                child = get(e.other)
                child.reaped_by, child.reaped_at = e.pid, e.t
            elif e.kind == "reparent":
                p.adopted_by = e.other
        return procs

    def of(self, pid: int) -> list[Event]:
        return [e for e in self.events if e.pid == pid]

    def stdout(self, pid: int | None = None) -> bytes:
        """The bytes written to fd 1, by one process or all of them, in time order."""
        return b"".join(e.data for e in self.events if e.kind == "write" and e.fd == 1
                        and (pid is None or e.pid == pid))

    def to_dict(self) -> dict:
        return {"root": self.root, "events": [e.to_dict() for e in self.events]}


# -- running ---------------------------------------------------------------------------
def strace_path() -> str:
    path = shutil.which("strace")
    if path is None:
        raise TracerMissing("tracing needs strace, which is not installed (Debian: apt-get install strace)")
    return path


def stdiowatch() -> Path:
    """The stdio marker library (csrc/tools/stdiowatch.c), built once and cached."""
    return toolchain.build(toolchain.csrc_dir() / "tools" / "stdiowatch.c",
                           flags=("-O2", "-Wall", "-Wextra", "-std=gnu11", "-shared", "-fPIC"), libs=["dl"])


def command(log: str | os.PathLike, argv, *, stdio: bool = True, env: dict | None = None) -> list[str]:
    """The argv that runs `argv` under strace -f, logging to `log`; run it yourself (in a
    sandbox, around the supervisor), then parse(log).

    stdio: preload the marker library into the traced program (strace -E, so strace
    itself does not load it), after any LD_PRELOAD of `env` (default: os.environ)."""
    cmd = [strace_path(), "-f", "-q", "-ttt", "-xx", "-s", str(STRING_LIMIT), "-o", str(log),
           "-e", "trace=" + ",".join(SYSCALLS), "-e", "signal=all"]
    if stdio:
        lib, have = str(stdiowatch()), (os.environ if env is None else env).get("LD_PRELOAD")
        cmd += ["-E", f"LD_PRELOAD={have}:{lib}" if have else f"LD_PRELOAD={lib}"]
    return [*cmd, "--", *[str(a) for a in argv]]


def ns_pids(pid: int) -> list[int]:
    """The pid in each PID namespace it belongs to, outermost first (NSpid); [pid] on a
    kernel without the line."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except FileNotFoundError:
        return []
    return [pid]


# -- parsing ---------------------------------------------------------------------------
_LINE = re.compile(r"(\d+) +(\d+\.\d+) (.*)")
_CALL = re.compile(r"(\w+)\((.*)\) += (-?\d+|\?|0x[0-9a-f]+)(?: (E\w+))?.*$", re.S)
_STR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_EXITED = re.compile(r"\+\+\+ exited with (\d+) \+\+\+")
_KILLED = re.compile(r"\+\+\+ killed by (\w+)( \(core dumped\))? \+\+\+")
_SIGNAL = re.compile(r"--- (\w+) \{(.*)\} ---")


def _bytes(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr.replace("\\x", ""))


def _strings(args: str) -> list[bytes]:
    return [_bytes(m) for m in _STR.findall(args)]


def _spawned(name: str, args: str) -> str:
    if name in ("fork", "vfork"):
        return name
    m = re.search(r"flags=([\w|]+)", args)
    return m.group(1) if m else name


def _status_text(args: str) -> str:
    m = re.search(r"\[\{(.*?)\}\]", args)
    return m.group(1) if m else ""


def _marker(pid: int, t: float, data: bytes, addr2line) -> Event:
    head, _, pending = data.partition(b"\n")
    words = head.decode(errors="replace").split(" ", 6)
    _, event, mode, n, addr, base, path = (words + [""] * 7)[:7]
    where = addr2line(path, addr, base) if event != "fork" else None
    return Event(t, pid, "stdio", data=pending[: int(n) if n.isdigit() else None], text=event,
                 mode=mode, where=where)


def _where(path: str, addr: str, base: str) -> str | None:
    """file:line of a return address, by addr2line on the (-g) object; None when unknown."""
    if not path or path == "?" or not addr.startswith("0x") or not shutil.which("addr2line"):
        return None
    try:
        with open(path, "rb") as f:
            pie = f.read(18)[16] == 3  # ELF e_type ET_DYN: addresses are relative to the base
        at = int(addr, 16) - 1 - (int(base, 16) if pie and base.startswith("0x") else 0)
        out = subprocess.run(["addr2line", "-e", path, hex(at)], capture_output=True, text=True, timeout=10)
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None
    text = out.stdout.strip().split(" ")[0]
    return None if not text or text.startswith("??") else f"{os.path.basename(text.split(':')[0])}:{text.split(':')[-1]}"


def parse(log: str | os.PathLike | None = None, text: str | None = None, *, subreaper: int | None = None,
          where=_where) -> Trace:
    """Events from an strace -f -ttt -xx log (a file, or its text).

    subreaper: who adopts an orphan whose adopter the trace cannot show (the runner's
    supervisor); an adopter seen reaping the orphan is named from the trace itself."""
    if text is None:
        text = Path(log).read_text(errors="replace")
    events: list[Event] = []
    pending: dict[int, str] = {}
    failed_exec: dict[int, Event] = {}
    t0 = None
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        pid, stamp, body = int(m.group(1)), float(m.group(2)), m.group(3)
        if t0 is None:
            t0 = stamp
        t = stamp - t0
        if body.endswith("<unfinished ...>"):
            pending[pid] = body[: -len("<unfinished ...>")].rstrip()
            continue
        if body.startswith("<... "):
            body = pending.pop(pid, "") + body.split(" resumed>", 1)[-1]
        if (x := _EXITED.match(body)):
            events.append(Event(t, pid, "end", code=int(x.group(1))))
            continue
        if (x := _KILLED.match(body)):
            events.append(Event(t, pid, "end", signal=x.group(1), core=bool(x.group(2))))
            continue
        if (x := _SIGNAL.match(body)):
            sender = re.search(r"si_pid=(\d+)", x.group(2))
            events.append(Event(t, pid, "signal", signal=x.group(1), other=int(sender.group(1)) if sender else None,
                                text=x.group(2)))
            continue
        c = _CALL.match(body)
        if not c:
            continue
        name, args, ret, err = c.group(1), c.group(2), c.group(3), c.group(4)
        value = int(ret, 0) if ret not in ("?",) else None
        if name in ("fork", "vfork", "clone", "clone3") and value and value > 0:
            events.append(Event(t, pid, "spawn", other=value, text=_spawned(name, args)))
        elif name in ("execve", "execveat"):
            strs = _strings(args)
            path = strs[0].decode(errors="replace") if strs else ""
            argv = [s.decode(errors="replace") for s in strs[1:]]
            if value == 0:
                failed_exec.pop(pid, None)
                events.append(Event(t, pid, "exec", text=path, argv=argv))
            else:  # execvp tries each PATH entry: only a last failure is the program's
                failed_exec[pid] = Event(t, pid, "exec_failed", text=f"{path}: {err}", argv=argv)
        elif name in ("exit", "exit_group"):
            events.append(Event(t, pid, "exit", code=int(args.strip() or 0)))
        elif name == "wait4" and value and value > 0:
            events.append(Event(t, pid, "reap", other=value, text=_status_text(args)))
        elif name == "waitid" and value == 0 and "WNOWAIT" not in args:
            reaped = re.search(r"si_pid=(\d+)", args)
            if reaped and int(reaped.group(1)) > 0:
                code = re.search(r"si_code=(\w+).*?si_status=(\w+)", args)
                events.append(Event(t, pid, "reap", other=int(reaped.group(1)),
                                    text=f"{code.group(1)} {code.group(2)}" if code else ""))
        elif name in ("kill", "tkill", "tgkill") and value == 0:
            parts = [a.strip() for a in args.split(",")]
            events.append(Event(t, pid, "kill", other=int(parts[-2]) if len(parts) >= 2 and parts[-2].lstrip("-").isdigit() else None,
                                signal=parts[-1]))
        elif name in ("write", "writev"):
            fd = int(args.split(",", 1)[0])
            data = b"".join(_strings(args))
            if fd == -1 and data.startswith(MARKER):
                events.append(_marker(pid, t, data, where))
            elif fd in (1, 2) and value and value > 0:
                events.append(Event(t, pid, "write", fd=fd, data=data[:value]))
    for e in failed_exec.values():
        events.append(e)
    events.sort(key=lambda e: e.t)
    root = events[0].pid if events else None
    trace = Trace(events, root, t0 or 0.0)
    _add_reparents(trace, subreaper)
    return trace


def _add_reparents(trace: Trace, subreaper: int | None) -> None:
    """For each process whose parent ended before it: a reparent event at the parent's
    end, naming the adopter (its reaper when seen, else `subreaper`)."""
    procs = trace.processes()
    extra = []
    for p in procs.values():
        parent = procs.get(p.parent) if p.parent is not None else None
        if parent is None or parent.ended is None:
            continue
        if p.ended is not None and p.ended <= parent.ended:
            continue
        adopter = p.reaped_by if p.reaped_by not in (None, parent.pid) else subreaper
        extra.append(Event(parent.ended, p.pid, "reparent", other=adopter))
    trace.events = sorted(trace.events + extra, key=lambda e: e.t)
