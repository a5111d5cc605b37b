"""The outside tracer: what every process of a run did, seen with ptrace.

Two tracers write the same log, in strace -f -ttt -xx's form: the lab's own
(csrc/tools/ptrace_core.h: PTRACE_SEIZE and a seccomp filter that stops only the calls
read here; the supervisor runs it for its own run, supervisor_options(), and
csrc/tools/tracelog.c around any command, run_command()), on x86-64; and strace -f
(command()), which the grading sandbox uses (it translates PID namespaces) and any
machine the lab's cannot serve. Each follows the traced command and every process it
creates and logs each process-management system call and each write, to a log the
traced program cannot open. parse() turns that log into Events, one list for the
whole tree in time order:

    spawn   a fork, vfork or clone made `other` (flags in `text`; `code`: the child's
            pid in its own PID namespace, when it has one)
    exec    an execve that succeeded (argv; text: the path)
    write   a write/writev to fd 1 or 2 (`data`: the exact bytes that went out) that
            reached the run's stdout or stderr
            (`fd`: the stream it reached, 1 stdout, 2 stderr; `text` "via fd 2" when
            the process had pointed its fd 2 at the run's stdout, 2>&1, or the reverse)
    elsewhere  a write/writev to fd 1 or 2 after the process pointed that fd somewhere
            else (closed and reopened it, dup2): `text` names where (a path,
            pipe:[inode]); known when the log names the run's streams (the lab's
            tracer does; strace -y's, given parse(streams=)). /dev/tty is the run's
            terminal for a process whose controlling terminal it is (the lab's tracer
            checks; under strace, whenever the run's stdout or stderr is a terminal)
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

    result = runner.run(argv, trace=True)      # the supervisor traces its run; or, by hand:
    argv = run_command(log, ["./prog", "arg"], stdio=True)    # run this yourself (command(): strace)
    trace = parse(log, subreaper=sup_pid)                       # then read the log
    trace.events                      # [Event], time order; Event.to_dict() for JSON
    trace.processes()                 # {pid: Proc(parent, argv, exit_code, signal,
                                      #   reaped_by, reaped_at, adopted_by, nspid, writes)}
    trace.stdout(pid)                 # the bytes pid wrote to fd 1 (None: everyone's)
    pylab.run.explain.sentences(trace, program=pid, supervisor=sup_pid)   # in words

`log` must be a path the traced program cannot write (a folder of the caller's, or of
another uid): the runner uses a fresh 0700 folder and deletes it after parsing.

Markers come from inside the program (it could forge them): grading must trust only
the system-call events (stdio=False skips the library altogether).

PID namespaces: run strace outside the namespace (around bwrap --unshare-pid). Every
event then names processes by strace's pids (the host's), also where a call inside the
namespace returned or reported the namespace's number (wait4, waitid, si_pid, kill):
--pidns-translation logs both pids of each new process, and parse() maps the numbers
back. Proc.nspid is the pid the program itself saw (what it prints with getpid);
pylab.observe.procstate.ns_pids() reads the same from /proc/PID/status (NSpid) while a
process lives.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.run import dwarf, toolchain

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
    nspid: int | None = None  # its pid inside its PID namespace, when it has one of its own
    writes: list[Event] = field(default_factory=list)


@dataclass
class Trace:
    events: list[Event]
    root: int | None  # the first process traced: the command strace started
    t0: float = 0.0  # the first event's wall-clock time (seconds since the epoch)

    _procs: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def processes(self) -> dict[int, Proc]:
        """{pid: Proc}, summed up from the events; built once for a given list of events
        (`pylab trace` and the sentences ask for it many times). Read it, do not change it."""
        if self._procs is not None and self._procs[0] is self.events and self._procs[1] == len(self.events):
            return self._procs[2]
        procs = self._build()
        self._procs = (self.events, len(self.events), procs)
        return procs

    def _build(self) -> dict[int, Proc]:
        procs: dict[int, Proc] = {}

        def get(pid: int) -> Proc:
            return procs.setdefault(pid, Proc(pid))

        for e in self.events:
            p = get(e.pid)
            if p.born is None:
                p.born = e.t
            if e.kind == "spawn":
                child = get(e.other)
                # the child may have run on another CPU before its parent's clone returned
                # (strace logs the fork there): it began at whichever came first
                child.parent, child.nspid = e.pid, e.code
                child.born = e.t if child.born is None else min(child.born, e.t)
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

    def stdout(self, pid: int | None = None, since: float = float("-inf"), until: float = float("inf")) -> bytes:
        """The bytes written to fd 1, by one process or all of them, in time order (those
        written from `since` up to, not including, `until`)."""
        return b"".join(e.data for e in self.events if e.kind == "write" and e.fd == 1
                        and (pid is None or e.pid == pid) and since <= e.t < until)

    def to_dict(self) -> dict:
        return {"root": self.root, "events": [e.to_dict() for e in self.events]}


# -- running ---------------------------------------------------------------------------
def strace_path() -> str:
    path = shutil.which("strace")
    if path is None:
        raise TracerMissing("tracing needs strace, which is not installed (Debian: apt-get install strace)")
    return path


def stdiowatch() -> Path:
    """The stdio marker library (csrc/tools/stdiowatch.c), built once and cached. Asked
    for on every traced run: remembered in this process as the supervisor is
    (toolchain.remembered)."""
    return toolchain.remembered("stdiowatch.so", lambda: toolchain.csrc_dir() / "tools" / "stdiowatch.c",
                                lambda source: toolchain.build(source, libs=["dl"], flags=(
                                    "-O2", "-Wall", "-Wextra", "-std=gnu11", "-shared", "-fPIC")))


def lab_tracer() -> Path | None:
    """The lab's own tracer (csrc/tools/tracelog.c: ptrace and a seccomp filter, built
    static), or None where it cannot serve: it reads x86-64 registers, and a machine
    without a compiler for it falls back to strace."""
    if platform.machine() != "x86_64":
        return None
    try:
        return toolchain.tool("tracelog")
    except toolchain.ToolchainError:
        return None


def supervisor_options(log_fd: int, *, stdio: bool = True, env: dict | None = None) -> list[str] | None:
    """The supervisor's options (csrc/tools/supervise.c -t) that make it trace its own run:
    after it makes the run's session it forks the lab's tracer (ptrace_core.h, as in
    tracelog), which logs to `log_fd`, so the run's ptrace stops go back and forth in one
    session and scheduling group, with no tracer of its own to exec. None where the lab's
    tracer cannot serve: then the runner puts run_command()'s tracer around the supervisor."""
    if lab_tracer() is None:
        return None
    opts = ["-t", str(log_fd)]
    if stdio:
        opts += ["-e", _preload(env), "-e", "PYLAB_STDIO_SLOT=1"]
    return opts


def run_command(log: str | os.PathLike | int, argv, *, stdio: bool = True, env: dict | None = None) -> list[str]:
    """The argv that traces `argv` (the supervisor and everything below it) for a run:
    the lab's tracer when it serves here, else strace -f (command()). Both write the log
    parse() reads. `log`: a path, or a file descriptor number the spawned command is
    given (the runner passes an anonymous memfd, so no other process can find the log)."""
    own = lab_tracer()
    if own is None:
        return command(f"/proc/self/fd/{log}" if isinstance(log, int) else log, argv, stdio=stdio, env=env)
    cmd = [str(own), f"@{log}" if isinstance(log, int) else str(log), str(STRING_LIMIT)]
    if stdio:  # (the markers wait in the library's memory for the call that follows: no stop of their own)
        cmd += ["-E", _preload(env), "-E", "PYLAB_STDIO_SLOT=1"]
    return [*cmd, "--", *[str(a) for a in argv]]


def _preload(env: dict | None) -> str:
    lib, have = str(stdiowatch()), (os.environ if env is None else env).get("LD_PRELOAD")
    return f"LD_PRELOAD={have}:{lib}" if have else f"LD_PRELOAD={lib}"


def command(log: str | os.PathLike, argv, *, stdio: bool = True, env: dict | None = None) -> list[str]:
    """The argv that runs `argv` under strace -f, logging to `log`; run it yourself (in a
    sandbox, around the supervisor), then parse(log).

    stdio: preload the marker library into the traced program (strace -E, so strace
    itself does not load it), after any LD_PRELOAD of `env` (default: os.environ)."""
    cmd = [strace_path(), "-f", "--seccomp-bpf", "--pidns-translation", "-q", "-y", "-ttt", "-xx", "-s", str(STRING_LIMIT), "-o", str(log),
           "-e", "trace=" + ",".join(SYSCALLS), "-e", "signal=all"]
    if stdio:
        cmd += ["-E", _preload(env)]
    return [*cmd, "--", *[str(a) for a in argv]]


# -- parsing ---------------------------------------------------------------------------
_CALL = re.compile(r"(\w+)\((.*)\) += (-?\d+|\?|0x[0-9a-f]+)(?: (E\w+))?.*$", re.S)
_STR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_EXITED = re.compile(r"\+\+\+ exited with (\d+) \+\+\+")
_KILLED = re.compile(r"\+\+\+ killed by (\w+)( \(core dumped\))? \+\+\+")
_SIGNAL = re.compile(r"--- (\w+) \{(.*)\} ---")
_SI_PID = re.compile(r"si_pid=(\d+)")
_NSPID = re.compile(r"/\* (\d+) in strace's PID NS \*/")


_STREAMS = re.compile(r"--- pylab-streams 1<(.*)> 2<(.*)> ---$")
_HEXED = re.compile(r"(?:\\x[0-9a-f]{2})+")


def _fd(args: str, start: int = 0) -> tuple[int, str | None, int]:
    """A write's fd at args[start:], with the target strace -y (or the lab's tracer, for
    a redirected fd) names after it: (fd, target or None, the index after them)."""
    end = start
    while end < len(args) and (args[end].isdigit() or (end == start and args[end] == "-")):
        end += 1
    fd = int(args[start:end])
    if end < len(args) and args[end] == "<":
        close = args.find(">", end)  # a path comes \xHH-quoted (strace -xx; the lab's tracer likewise)
        if close > 0:
            target = _unquoted(args[end + 1:close])
            if args.startswith("(deleted)", close + 1):  # strace's mark of an unlinked file
                target, close = f"{target} (deleted)", close + len("(deleted)")
            return fd, target, close + 1
    return fd, None, end


def _unquoted(target: str) -> str:
    """A target as /proc names it (readlink): \\xHH-quoted paths decoded; pipe:[N] as it is."""
    return _bytes(target).decode(errors="surrogateescape") if _HEXED.fullmatch(target) else target


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


def _marker(pid: int, t: float, data: bytes, addr2line, lookups: list | None = None) -> Event:
    """A stdiowatch marker as an event. Its source line is asked of `addr2line` at once, or,
    with `lookups`, left for _resolve to ask once per binary (addr2line's start-up, per
    address, was most of a traced run's parse)."""
    head, _, pending = data.partition(b"\n")
    words = head.decode(errors="replace").split(" ", 6)
    _, event, mode, n, addr, base, path = (words + [""] * 7)[:7]
    e = Event(t, pid, "stdio", data=pending[: int(n) if n.isdigit() else None], text=event, mode=mode)
    if event != "fork":
        if lookups is None:
            e.where = addr2line(path, addr, base)
        else:
            lookups.append((e, path, addr, base))
    return e


def _resolve(lookups: list) -> None:
    """Fill in each marker's file:line, reading each binary's line table once
    (pylab.run.dwarf), or with one addr2line run for a binary that reader does not handle."""
    by_path: dict[str, list] = {}
    for e, path, addr, base in lookups:
        by_path.setdefault(path, []).append((e, addr, base))
    for path, items in by_path.items():
        pie = _is_pie(path)
        offsets = [_offset(path, addr, base, pie) for _, addr, base in items]
        asked = sorted({o for o in offsets if o is not None})
        if not asked:
            continue
        try:
            found = dwarf.where(path, asked)
        except (dwarf.Unsupported, OSError):
            found = _addr2line(path, asked)
        for (e, _, _), o in zip(items, offsets):
            e.where = found.get(o)


def _addr2line(path: str, asked: list[int]) -> dict[int, str | None]:
    if not shutil.which("addr2line"):
        return {}
    try:
        out = subprocess.run(["addr2line", "-e", path, *map(hex, asked)], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(zip(asked, (_file_line(ln) for ln in out)))


def _is_pie(path: str) -> bool | None:
    """Is the object position-independent (ELF e_type ET_DYN: its addresses are relative
    to its load base)? None when it cannot be read. (Asked once per binary of a trace.)"""
    if not path or path == "?":
        return None
    try:  # a regular file only: a marker names its binary, and a FIFO would block the open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return f.read(18)[16] == 3
    except (OSError, IndexError):
        return None


def _offset(path: str, addr: str, base: str, pie: bool | None = None) -> int | None:
    """The address addr2line wants: a return address less one, relative to the load base
    for a position-independent (ET_DYN) object."""
    if pie is None:
        pie = _is_pie(path)
    if pie is None or not addr.startswith("0x"):
        return None
    try:
        return int(addr, 16) - 1 - (int(base, 16) if pie and base.startswith("0x") else 0)
    except ValueError:
        return None


def _file_line(text: str) -> str | None:
    text = text.strip().split(" ")[0]
    return None if not text or text.startswith("??") else f"{os.path.basename(text.split(':')[0])}:{text.split(':')[-1]}"


def parse(log: str | os.PathLike | None = None, text: str | None = None, *, subreaper: int | None = None,
          where=None, streams: dict[int, str] | None = None) -> Trace:
    """Events from an strace -f -ttt -xx log (a file, or its text).

    where: how a stdio marker's return address becomes file:line; by default the
    binary's DWARF line table (pylab.run.dwarf; addr2line for a binary it cannot read),
    read once per binary for all its markers once the log is read (a test passes its own).

    subreaper: who adopts an orphan whose adopter the trace cannot show (the runner's
    supervisor); an adopter seen reaping the orphan is named from the trace itself.

    streams: {1: stdout, 2: stderr} as /proc names the run's (readlink of /proc/PID/fd/N),
    for an strace -y log; the lab's tracer names them in the log itself. A write to an fd
    that named something else is an `elsewhere` event, not a write."""
    if text is None:
        text = Path(log).read_text(errors="replace")
    events: list[Event] = []
    pending: dict[int, str] = {}
    failed_exec: dict[int, Event] = {}
    lookups: list = []  # markers whose source line is asked of addr2line at the end
    # PID namespaces (bwrap --unshare-pid): the line's pid is strace's, but what a call
    # returns or reports inside a namespace is that namespace's pid. --pidns-translation
    # gives both for each new process; `inside` holds the processes in a namespace of
    # their own, `host` maps their pid numbers to strace's (one namespace level deep).
    inside: set[int] = set()
    host: dict[int, int] = {}

    def ours(caller: int, n: int) -> int:
        n = host.get(n, n) if caller in inside else n
        return thread_of.get(n, n)

    thread_of: dict[int, int] = {}  # a thread's id -> its process (what it does is the process's)
    named = dict(streams or {})
    lab_log = False  # the lab's tracer names the run's streams, and resolves /dev/tty itself

    def reached(fd: int, target: str | None) -> int | None:
        """The run's stream (1, 2) that fd's target is, or None: somewhere else. A target
        cannot be told without the run's streams (strace -y alone): the fd's own, then."""
        if target is None or fd not in named:
            return fd
        if target == "/dev/tty" and not lab_log:  # (strace: a controlling terminal, in tty mode the run's pty)
            target = next((named[k] for k in (fd, 3 - fd) if named.get(k, "").startswith("/dev/pts/")), target)
        return next((k for k in (fd, 3 - fd) if named.get(k) == target), None)

    def written(t: float, pid: int, fd: int, target: str | None, data: bytes) -> Event:
        stream = reached(fd, target)
        if stream is None:
            return Event(t, pid, "elsewhere", fd=fd, data=data, text=target)
        return Event(t, pid, "write", fd=stream, data=data, text="" if stream == fd else f"via fd {fd}")

    t0 = None
    for raw in text.splitlines():
        try:  # "PID SECONDS.MICROS BODY" (strace pads the pid)
            tid_s, stamp_s, body = raw.split(None, 2)
            tid, stamp = int(tid_s), float(stamp_s)
        except ValueError:
            continue
        if body.startswith("--- pylab-streams "):  # the lab's tracer names the run's streams
            lab_log = True
            if (x := _STREAMS.match(body)) and not streams:
                named = {1: _unquoted(x.group(1)), 2: _unquoted(x.group(2))}
            continue
        pid = thread_of.get(tid, tid)
        if t0 is None:
            t0 = stamp
        t = stamp - t0
        if body.endswith("<unfinished ...>"):
            pending[tid] = body[: -len("<unfinished ...>")].rstrip()
            continue
        if body.startswith("<... "):
            body = pending.pop(tid, "") + body.split(" resumed>", 1)[-1]
        if tid != pid and (body.startswith("+++") or body.startswith("exit(")):
            continue  # a thread ending is not its process ending
        first = body[:1]
        if first == "+":
            if (x := _EXITED.match(body)):
                events.append(Event(t, pid, "end", code=int(x.group(1))))
            elif (x := _KILLED.match(body)):
                events.append(Event(t, pid, "end", signal=x.group(1), core=bool(x.group(2))))
            continue
        if first == "-":
            if (x := _SIGNAL.match(body)):
                sender = _SI_PID.search(x.group(2))
                events.append(Event(t, pid, "signal", signal=x.group(1), text=x.group(2),
                                    other=ours(pid, int(sender.group(1))) if sender else None))
            continue
        if body.startswith("write("):  # the commonest line, read without the general pattern
            try:
                fd, target, comma = _fd(body, 6)
                q1 = body.index('"', comma)
                q2 = body.index('"', q1 + 1)
                data = bytes.fromhex(body[q1 + 1:q2].replace("\\x", ""))
                ret = body[body.rindex(") = ") + 4:].split(" ", 1)[0]
            except ValueError:
                continue
            if fd == -1 and data.startswith(MARKER):
                events.append(_marker(pid, t, data, where, lookups if where is None else None))
            elif fd in (1, 2) and ret.isdigit() and int(ret) > 0:
                events.append(written(t, pid, fd, target, data[:int(ret)]))
            continue
        c = _CALL.match(body)
        if not c:
            continue
        name, args, ret, err = c.group(1), c.group(2), c.group(3), c.group(4)
        value = int(ret, 0) if ret not in ("?",) else None
        if name in ("fork", "vfork", "clone", "clone3") and value and value > 0:
            flags = _spawned(name, args)
            translated = _NSPID.search(body)
            child, nspid = (int(translated.group(1)), value) if translated else (value, None)
            if "CLONE_THREAD" in flags:
                thread_of[child] = pid
                continue
            if translated or pid in inside:
                inside.add(child)
                host[value] = child
            if "CLONE_NEWPID" in flags:  # the first process of a new namespace: its pid 1
                inside.add(child)
                host[1], nspid = child, 1
            events.append(Event(t, pid, "spawn", other=child, text=flags, code=nspid))
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
            events.append(Event(t, pid, "reap", other=ours(pid, value), text=_status_text(args)))
        elif name == "waitid" and value == 0 and "WNOWAIT" not in args:
            reaped = re.search(r"si_pid=(\d+)", args)
            if reaped and int(reaped.group(1)) > 0:
                code = re.search(r"si_code=(\w+).*?si_status=(\w+)", args)
                events.append(Event(t, pid, "reap", other=ours(pid, int(reaped.group(1))),
                                    text=f"{code.group(1)} {code.group(2)}" if code else ""))
        elif name in ("kill", "tkill", "tgkill") and value == 0:
            parts = [a.strip() for a in args.split(",")]
            target = int(parts[-2]) if len(parts) >= 2 and parts[-2].lstrip("-").isdigit() else None
            events.append(Event(t, pid, "kill", signal=parts[-1],
                                other=ours(pid, target) if target is not None and target > 0 else target))
        elif name in ("write", "writev"):
            try:
                fd, target, rest = _fd(args)
            except ValueError:
                continue
            data = b"".join(_strings(args[rest:]))
            if fd == -1 and data.startswith(MARKER):
                events.append(_marker(pid, t, data, where, lookups if where is None else None))
            elif fd in (1, 2) and value and value > 0:
                events.append(written(t, pid, fd, target, data[:value]))
    for e in failed_exec.values():
        events.append(e)
    _resolve(lookups)
    events.sort(key=lambda e: e.t)
    root = events[0].pid if events else None
    trace = Trace(events, root, t0 or 0.0)
    _add_reparents(trace, subreaper, inside, host.get(1))
    return trace


def _add_reparents(trace: Trace, subreaper: int | None, inside: set[int], ns_init: int | None) -> None:
    """For each process whose parent ended before it: a reparent event at that moment,
    naming the adopter, and again if the adopter ends first. The kernel's rule: an
    orphan in a PID namespace goes to that namespace's init; otherwise to the nearest
    subreaper (the one seen reaping it, else `subreaper`)."""
    procs = trace.processes()
    extra = []
    for p in procs.values():
        parent, seen = procs.get(p.parent) if p.parent is not None else None, set()
        while parent is not None and parent.ended is not None and parent.pid not in seen and \
                (p.ended is None or p.ended > parent.ended):
            seen.add(parent.pid)
            init = procs.get(ns_init) if ns_init is not None else None
            if p.pid in inside and init is not None and init.pid not in (parent.pid, p.pid) and \
                    (init.ended is None or init.ended > parent.ended):
                adopter = init.pid
            else:
                adopter = p.reaped_by if p.reaped_by not in (None, parent.pid) else subreaper
            extra.append(Event(parent.ended, p.pid, "reparent", other=adopter))
            parent = procs.get(adopter) if adopter is not None else None
    trace.events = sorted(trace.events + extra, key=lambda e: e.t)
