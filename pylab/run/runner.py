"""Run a program supervised, and say what happened.

Every run goes through csrc/tools/supervise.c: a small C supervisor that becomes a
session leader and a child subreaper (PR_SET_CHILD_SUBREAPER), forks the program into
its own process group, enforces the timeout and limits, and at the end SIGKILLs and
reaps everything the run created, orphans and daemons included. It watches this
process through a pidfd: if pylab dies, the whole run is killed at once. stdout goes
to a terminal (a pty: `tty`), a `pipe` or a `file`; stderr to a pipe of its own, or,
with terminal=True in tty mode, stdin, stdout and stderr are all the pty.

    result = run(["./_exit1"], mode="tty")
    result.exit_code, result.stdout_text, result.stragglers, result.outlived

`start()` gives a live handle for drivers that must look at a process while it runs
(its pid, `expect()` on its output, a line on its stdin as a handshake, `stop()` to end
the whole tree at once). trace=True runs it under the outside tracer (pylab.run.tracer:
the lab's own ptrace tracer, csrc/tools/tracelog.c, or strace -f where that cannot
serve) and gives the events in `result.trace`.
"""
from __future__ import annotations

import errno
import math
import os
import re
import select
import signal
import tempfile
import termios
import threading
from pathlib import Path
from typing import Sequence

from pylab.core.errors import LabError
from pylab.core.targets import MODES
from pylab.run import toolchain, tracer
from pylab.run.result import RunResult

DEFAULT_TIMEOUT = 10.0
DEFAULT_OUTPUT_LIMIT = 1 << 20  # bytes kept per stream; the rest is counted, not kept
TRUNCATION_MARKER = b"\n[pylab: output truncated]\n"
STATUS_FD = 3  # where the supervisor finds its status pipe
TRACE_FD = 4  # where a traced run's tracer finds its log (an anonymous memfd)
RLIMITS = ("cpu", "as", "fsize", "nofile", "nproc", "core", "stack", "data")


class RunError(LabError):
    """The run itself could not be set up (bad mode, bad limit)."""


class Process:
    """A supervised program while it runs. Use as a context manager, or call wait()."""

    def __init__(self, argv: Sequence[str | os.PathLike], *, mode: str = "pipe",
                 stdin: bytes | str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                 linger: float | None = None, env: dict | None = None,
                 cwd: str | os.PathLike | None = None, limits: dict | None = None,
                 uid: int | None = None, gid: int | None = None,
                 output_limit: int | None = DEFAULT_OUTPUT_LIMIT, interactive: bool = False,
                 stop_on_overflow: bool = False, terminal: bool = False, trace: bool = False,
                 wrap=None):
        """The arguments are run()'s; interactive=True (start()) pumps the streams in a
        thread and keeps stdin open for write()."""
        if mode not in MODES:
            raise RunError(f"unknown stdout mode {mode!r}: choose one of {', '.join(MODES)}")
        for name in limits or {}:
            if name not in RLIMITS:
                raise RunError(f"unknown limit {name!r}: choose from {', '.join(RLIMITS)}")
        if cwd is not None and not Path(cwd).is_dir():
            raise RunError(f"no such directory: {cwd}")
        timeout_ms, linger_ms = _millis(timeout, "timeout"), _millis(linger, "linger", zero_ok=True)
        self.argv = [str(a) for a in argv]
        self.mode = mode
        self.output_limit = output_limit
        self._stop_on_overflow = stop_on_overflow
        self._wrap = wrap
        # a wrap that keeps the run in our pid namespace says so: its pids are ours
        self._wrapped = wrap is not None and getattr(wrap, "own_pid_namespace", True)
        self.pid: int | None = None
        self._supervisor: int | None = None
        self._status: int | None = None
        self._duration = 0.0
        self._ended_how = 0  # the supervisor's HOW: 0 ended, 1 timed out, 2 stopped
        self._exec_error: int | None = None
        self._stragglers: list[int] = []
        self._outlived: list[dict] = []
        self._reaped: list[tuple[int, int]] = []
        self._done = False
        self._bufs = {"stdout": bytearray(), "stderr": bytearray()}
        self._seen = {"stdout": 0, "stderr": 0}
        self._cond = threading.Condition()
        self._finished = threading.Event()
        self._stdin_data = None
        self._sent = False  # on a terminal: the last bytes written left a line unfinished
        self._file = None
        self._terminal = mode == "tty" and terminal
        self._trace_fd: int | None = None
        self._streams: dict[int, str] = {}  # what the run's stdout and stderr are, as /proc names them
        self._spawned_status: int | None = None

        supervisor = toolchain.tool("supervise")
        status_r, status_w = os.pipe()
        child_fds = [status_w]
        err_r = None
        if self._terminal:  # the pty is the whole terminal: stdin, stdout and stderr
            out_r, out_w = os.openpty()
            attrs = termios.tcgetattr(out_w)
            attrs[3] &= ~termios.ECHO  # input is not echoed into the output (a user's own terminal echoes)
            termios.tcsetattr(out_w, termios.TCSANOW, attrs)
            in_r, err_w = os.dup(out_w), os.dup(out_w)
            self._stdin_w = os.dup(out_r)
            if isinstance(stdin, str):
                stdin = stdin.encode()
            self._stdin_data = memoryview(stdin) if stdin else None
            child_fds += [out_w, in_r, err_w]
        else:
            err_r, err_w = os.pipe()
            child_fds.append(err_w)
            if mode == "tty":
                out_r, out_w = os.openpty()
            elif mode == "pipe":
                out_r, out_w = os.pipe()
            else:
                self._file = tempfile.TemporaryFile(prefix="pylab-stdout-")
                out_r, out_w = None, os.dup(self._file.fileno())
            child_fds.append(out_w)
            if stdin is None and not interactive:
                in_r, self._stdin_w = os.open(os.devnull, os.O_RDONLY), None
            else:
                in_r, self._stdin_w = os.pipe()
                if isinstance(stdin, str):
                    stdin = stdin.encode()
                self._stdin_data = memoryview(stdin) if stdin else None
            child_fds.append(in_r)

        cmd = [str(supervisor), str(STATUS_FD), str(timeout_ms), str(linger_ms), "1" if mode == "tty" else "0",
               str(-1 if uid is None else uid), str(-1 if gid is None else gid)]
        for name, value in (limits or {}).items():
            cmd += ["-r", f"{name}={'inf' if value is None else int(value)}"]
        if cwd is not None:
            cmd += ["-c", str(cwd)]
        cmd += ["-o", str(os.getpid())]
        ours = [fd for fd in (status_r, err_r, out_r, self._stdin_w) if fd is not None]
        try:
            # The trace's log is a memfd: a file no other process can open. The supervisor
            # traces the run itself (-t) where the lab's tracer serves; otherwise (another
            # machine; a sandbox, whose PID namespace needs strace) a tracer goes around it.
            opts = None
            if trace or wrap is not None:  # (a traced write to fd 1 or 2 that went elsewhere is told by its target)
                self._streams = {1: os.readlink(f"/proc/self/fd/{out_w}"), 2: os.readlink(f"/proc/self/fd/{err_w}")}
            if trace:
                self._trace_fd = os.memfd_create("pylab-trace", os.MFD_CLOEXEC)
                opts = tracer.supervisor_options(TRACE_FD, env=env) if wrap is None else None
                cmd += opts or []
            if not interactive and (not trace or opts):  # nobody looks at the run until it is over:
                cmd += ["-b", "1"]                       # one wake-up for all the supervisor's lines
            cmd += ["--", *self.argv]
            if wrap is not None:  # the supervisor runs inside a sandbox: see run()
                cmd = [str(c) for c in wrap(cmd)]
            if trace and not opts:
                cmd = (tracer.run_command(TRACE_FD, cmd, env=env) if wrap is None else
                       tracer.command(f"/proc/self/fd/{TRACE_FD}", cmd, env=env))
            self._sup_pid = _spawn(cmd, in_r, out_w, err_w, status_w, _environment() if env is None else env,
                                   self._trace_fd)
        except BaseException:
            for fd in ours:
                os.close(fd)
            if self._file is not None:
                self._file.close()
            self._drop_trace()
            raise
        finally:
            for fd in child_fds:
                os.close(fd)
        self._readers = {status_r: "status"}
        if err_r is not None:
            self._readers[err_r] = "stderr"
        if out_r is not None:
            self._readers[out_r] = "stdout"
        self._status_buf = b""
        if self._stdin_w is not None and self._stdin_data is None and not interactive:
            self.close_stdin()
        self._thread = None
        if interactive:
            self._thread = threading.Thread(target=self._pump, daemon=True)
            self._thread.start()
            self._wait_started(timeout=10)

    def _drop_trace(self) -> None:
        if self._trace_fd is not None:
            os.close(self._trace_fd)
            self._trace_fd = None

    def _read_trace(self) -> str:
        chunks, offset = [], 0
        while chunk := os.pread(self._trace_fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks).decode("latin-1")  # the log is ASCII: every byte written is quoted as \xHH

    # -- the pump: read every stream until the supervisor says the run is done --------
    def _pump(self):
        # poll(2), and each ready stream read until it has nothing more (non-blocking): an
        # end that came with the last bytes is seen at once, not after another wake-up.
        poller = select.poll()
        live = set(self._readers)
        for fd in live:
            os.set_blocking(fd, False)
            poller.register(fd, select.POLLIN)
        feeding = self._stdin_w is not None and self._stdin_data is not None
        if feeding:
            os.set_blocking(self._stdin_w, False)
            poller.register(self._stdin_w, select.POLLOUT)
        interrupted = False
        try:
            while live or feeding:
                try:
                    ready = poller.poll()
                except KeyboardInterrupt:  # Ctrl-C: stop the whole run at once, then collect it
                    interrupted = True
                    self.stop()
                    continue
                for fd, ev in ready:
                    if ev & select.POLLNVAL:  # closed under us (stdin, by a driver's close_stdin)
                        poller.unregister(fd)
                        live.discard(fd)
                        feeding = feeding and fd != self._stdin_w and self._stdin_w is not None
                        continue
                    if fd not in live:
                        if feeding and fd == self._stdin_w and not self._feed(poller):
                            feeding = False
                        continue
                    while True:
                        try:
                            data = os.read(fd, 65536)
                        except BlockingIOError:
                            break
                        except OSError as e:  # a pty's master says EIO once no slave is open
                            if e.errno != errno.EIO:
                                raise
                            data = b""
                        if not data:
                            poller.unregister(fd)
                            live.discard(fd)
                            os.close(fd)
                            break
                        self._take(self._readers[fd], data)
        except BaseException:
            self.stop()  # whatever went wrong here, the run must end, not be waited on
            for fd in live:
                os.close(fd)
            raise
        finally:
            if self._stdin_w is not None and self._stdin_data is not None:
                self.close_stdin()
            self._spawned_status = os.waitpid(self._sup_pid, 0)[1]  # the supervisor (or its wrap); the program's came by pipe
            if self._file is not None:
                self._file.seek(0)
                self._take("stdout", self._file.read())
                self._file.close()
            with self._cond:
                self._done = True
                self._cond.notify_all()
            self._finished.set()
        if interrupted:
            raise KeyboardInterrupt

    def _feed(self, poller) -> bool:
        """Write what stdin still has to give; False once it is all written (or refused)."""
        try:
            n = os.write(self._stdin_w, self._stdin_data[:65536])
        except BrokenPipeError:
            n = len(self._stdin_data)
        except BlockingIOError:
            return True
        if n:
            self._sent = bytes(self._stdin_data[n - 1:n]) != b"\n"
        self._stdin_data = self._stdin_data[n:]
        if not self._stdin_data:
            poller.unregister(self._stdin_w)
            self.close_stdin()
            return False
        return True

    def _take(self, stream, data):
        if stream == "status":
            self._status_buf += data
            *lines, self._status_buf = self._status_buf.split(b"\n")
            for line in lines:
                self._status_line(line.decode().split())
            return
        with self._cond:
            self._seen[stream] += len(data)
            buf = self._bufs[stream]
            room = (self.output_limit - len(buf)) if self.output_limit else len(data)
            buf += data[: max(room, 0)]
            self._cond.notify_all()
        if self._stop_on_overflow and self.output_limit and self._seen[stream] > self.output_limit:
            # End the run now rather than read a flood to its end: SIGALRM is the
            # supervisor's own timeout, so it kills and reaps the whole tree.
            self._stop_on_overflow = False
            self._signal_supervisor(signal.SIGALRM)

    def _status_line(self, words):
        with self._cond:
            if words[0] == "supervisor":
                self._supervisor = int(words[1])
            elif words[0] == "start":
                self.pid = int(words[1])
            elif words[0] == "execfail":
                self._exec_error = int(words[1])
            elif words[0] == "end" and self._status is None:  # (one end: the program's)
                self._status = int(words[2])
                self._ended_how = int(words[3])
                self._duration = int(words[4]) / 1e9
            elif words[0] == "outlived":
                pid, ppid, state, wchan = int(words[1]), int(words[2]), words[3], words[4]
                self._outlived.append({"pid": pid, "ppid": ppid, "state": state,
                                       "wchan": None if wchan == "-" else wchan, "comm": " ".join(words[5:])})
            elif words[0] == "reaped":
                self._reaped.append((int(words[1]), int(words[2])))
            elif words[0] == "straggler":
                pid = int(words[1])  # a dying process may be signalled by two sweeps
                if pid != self.pid and pid not in self._stragglers:
                    self._stragglers.append(pid)
            self._cond.notify_all()

    def _wait_started(self, timeout):
        with self._cond:
            self._cond.wait_for(lambda: self.pid is not None or self._done, timeout)

    # -- what drivers call --------------------------------------------------------------
    def write(self, data: bytes | str) -> None:
        """Write to the program's stdin (interactive runs)."""
        if isinstance(data, str):
            data = data.encode()
        os.write(self._stdin_w, data)
        self._sent = data[-1:] not in (b"", b"\n")  # a line left unfinished on a terminal

    def close_stdin(self) -> None:
        """Close the program's stdin (it reads EOF); safe to call more than once. On a
        whole terminal that is the EOF character (^D), as a user would type it."""
        fd, self._stdin_w = self._stdin_w, None  # (first: a signal mid-way must not close it twice)
        if fd is not None:
            try:
                if self._terminal:  # ^D ends a line being typed; a second ^D at a line's start is EOF
                    os.write(fd, b"\x04\x04" if self._sent else b"\x04")
            except OSError:
                pass
            finally:
                os.close(fd)

    def output(self, stream: str = "stdout") -> bytes:
        with self._cond:
            return bytes(self._bufs[stream])

    def expect(self, pattern: str | bytes, timeout: float = 5.0, stream: str = "stdout") -> re.Match:
        """Wait until `pattern` (a regex) appears in the output; raise TimeoutError if not."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern, re.M)
        found = None

        def seen():
            nonlocal found
            found = rx.search(self._bufs[stream])
            return found is not None or self._done

        with self._cond:
            self._cond.wait_for(seen, timeout)
        if found is None:
            raise TimeoutError(f"{pattern!r} did not appear on {stream} within {timeout}s; got {self.output(stream)[-200:]!r}")
        return found

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the program's whole process group (the supervisor then sweeps the rest).
        A wrapped run's pids are its sandbox's: there, the supervisor (the sandbox's pid 1)
        is SIGKILLed, which ends every process of the sandbox."""
        if self._wrapped:
            if not self._finished.is_set():
                self._signal_supervisor(signal.SIGKILL)
        elif self.pid is not None and not self._finished.is_set():
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """End the whole run at once: the supervisor SIGKILLs every process of it,
        whatever its group or session, and reaps them (as at the timeout)."""
        if not self._finished.is_set():
            self._signal_supervisor(signal.SIGTERM)

    def _signal_supervisor(self, sig: int) -> None:
        """A wrapped run's supervisor has its sandbox's pid: the wrap signals it
        (wrap.signal(pid spawned, sig)), or, without that, SIGKILL ends what was spawned."""
        try:
            if not self._wrapped:
                os.kill(self.supervisor, sig)
            elif hasattr(self._wrap, "signal"):
                self._wrap.signal(self._sup_pid, sig)
            else:
                os.kill(self._sup_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @property
    def running(self) -> bool:
        """True until the run is over (the program and everything it left behind)."""
        return not self._finished.is_set()

    @property
    def exec_error(self) -> int | None:
        """errno when the program could not be started (so far: a live run may learn it late)."""
        return self._exec_error

    @property
    def streams(self) -> dict[int, str]:
        """{1: stdout, 2: stderr} as /proc names the run's (a traced or wrapped run; else {}):
        what a tracer's log is told, to know a write to a redirected fd 1 or 2."""
        return dict(self._streams)

    @property
    def spawned(self) -> int:
        """pid of the process this run spawned: the supervisor, or what wraps it (the
        tracer, a sandbox), seen from here."""
        return self._sup_pid

    @property
    def supervisor(self) -> int:
        """pid of the supervisor: the target's parent, and the subreaper of its orphans.
        (With trace=True the process pylab started is the tracer, the supervisor's parent.)"""
        return self._supervisor if self._supervisor is not None else self._sup_pid

    def wait(self, timeout: float | None = None) -> RunResult:
        if self._thread is None:
            self._pump()
        elif not self._finished.wait(timeout):
            raise TimeoutError(f"{self.argv[0]} still running after {timeout}s")
        self.close_stdin()
        truncated = any(self._seen[s] > len(self._bufs[s]) for s in self._bufs)
        stdout, stderr = bytes(self._bufs["stdout"]), bytes(self._bufs["stderr"])
        if self._seen["stdout"] > len(stdout):
            stdout += TRUNCATION_MARKER
        if self._seen["stderr"] > len(stderr):
            stderr += TRUNCATION_MARKER
        trace = None
        if self._trace_fd is not None:
            try:
                text = self._read_trace()
                trace = tracer.parse(text=text, subreaper=self.supervisor, streams=self._streams) if text else None
            finally:
                self._drop_trace()
        return RunResult(
            argv=self.argv, mode=self.mode, pid=self.pid, status=self._status,
            stdout=stdout, stderr=stderr, duration=self._duration,
            timed_out=self._ended_how == 1, stopped=self._ended_how == 2, exec_error=self._exec_error,
            stragglers=list(self._stragglers), truncated=truncated, spawned_status=self._spawned_status,
            streams=dict(self._streams),
            stdout_bytes_seen=self._seen["stdout"], stderr_bytes_seen=self._seen["stderr"],
            supervisor=self.supervisor, outlived=list(self._outlived), reaped=list(self._reaped),
            terminal=self._terminal, trace=trace,
        )

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc) -> None:
        if not self._finished.is_set():
            self.stop()
            self.close_stdin()
            self._finished.wait(30)


def _millis(seconds: float | None, what: str, zero_ok: bool = False) -> int:
    """Seconds as the supervisor's whole milliseconds, rounded up: a sub-millisecond
    timeout stays a timeout (1 ms), never 0, which the supervisor reads as "none".
    None: no timeout (0), or for linger "until the timeout" (-1)."""
    if seconds is None:
        return -1 if zero_ok else 0
    if seconds < 0 or (seconds == 0 and not zero_ok):
        raise RunError(f"{what} must be {'0 or more' if zero_ok else 'above 0'} seconds (None: no limit), not {seconds!r}")
    return math.ceil(seconds * 1000)


def _environment():
    """This process's environment for posix_spawn: os.environ's own dict of bytes, read
    as it is (posix_spawn copies it), rather than os.environ, which posix_spawn would
    read key by key through its str encoding (~30-60 us a run; subprocess passes none)."""
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else os.environ


def _spawn(cmd, stdin_fd, stdout_fd, stderr_fd, status_fd, env, trace_fd=None) -> int:
    """posix_spawn the supervisor with the given stdio and the status pipe kept open.

    posix_spawn (not fork) keeps a run cheap; the supervisor starts with default
    signal dispositions and an empty mask, whatever this process has set."""
    # Every fd of ours stays close-on-exec; only these dup2 copies reach the supervisor.
    # (Making status_fd inheritable instead would leak it into supervisors that other
    # threads spawn meanwhile, delaying this run's EOF until theirs end.)
    actions = [
        (os.POSIX_SPAWN_DUP2, stdin_fd, 0),
        (os.POSIX_SPAWN_DUP2, stdout_fd, 1),
        (os.POSIX_SPAWN_DUP2, stderr_fd, 2),
        (os.POSIX_SPAWN_DUP2, status_fd, STATUS_FD),
    ]
    if trace_fd is not None:  # the tracer's log; the supervisor closes it (it keeps fds 0-3 only)
        actions.append((os.POSIX_SPAWN_DUP2, trace_fd, TRACE_FD))
    return os.posix_spawn(cmd[0], cmd, env, file_actions=actions,
                          setsigdef=_RESETTABLE, setsigmask=())


_RESETTABLE = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))


def start(argv: Sequence[str | os.PathLike], **options) -> Process:
    """Start a supervised run and return its live handle (stdin is a pipe you write).
    Takes run()'s keyword options."""
    return Process(argv, interactive=True, **options)


def run(argv: Sequence[str | os.PathLike], *, mode: str = "pipe", stdin: bytes | str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT, linger: float | None = None,
        env: dict | None = None, cwd: str | os.PathLike | None = None,
        limits: dict | None = None, uid: int | None = None, gid: int | None = None,
        output_limit: int | None = DEFAULT_OUTPUT_LIMIT, stop_on_overflow: bool = False,
        terminal: bool = False, trace: bool = False, wrap=None) -> RunResult:
    """Run a program to its end under supervision and return what was observed.

    mode: where stdout goes (tty, pipe, file). timeout: seconds for the whole run
    (None: no limit; a fraction of a millisecond is rounded up, never dropped); on
    expiry the whole tree is killed. linger: how long, after the program ends, what it
    left running may go on before it is killed (None: until the timeout). limits:
    rlimits by name (cpu, as, fsize, nofile, nproc, core, stack, data; None means
    unlimited). stop_on_overflow: end the run (as at its timeout) once a stream
    exceeds output_limit. terminal (tty mode): the pty is the program's whole terminal,
    stdin and stderr too (stderr then arrives in stdout, interleaved as a user sees it;
    stdin data is typed in, then ^D). trace: follow every process of the run from
    outside (pylab.run.tracer.run_command; strace -f under a wrap); the result's
    `trace` holds the events. wrap: a
    function given the supervisor's command line that returns the one to spawn instead
    (a sandbox around the supervisor: pylab.grading.bwrap); the pids reported are then
    the sandbox's, and the supervisor is signalled through wrap.signal(spawned pid, sig)
    (unless wrap.own_pid_namespace is False: then the run is signalled as usual)."""
    return Process(argv, mode=mode, stdin=stdin, timeout=timeout, linger=linger, env=env, cwd=cwd,
                   limits=limits, uid=uid, gid=gid, output_limit=output_limit,
                   stop_on_overflow=stop_on_overflow, terminal=terminal, trace=trace, wrap=wrap).wait()


def run_program(name: str, args: Sequence[str] = (), **kwargs) -> RunResult:
    """Build the reference program `name` (csrc/programs/) and run it."""
    binary = toolchain.find(name).build()
    return run([binary, *args], **kwargs)
