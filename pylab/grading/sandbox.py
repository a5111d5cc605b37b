"""The limits policy for student code, on top of pylab.run.runner.

Every compile and every run of a submission goes through the runner (its own session,
a subreaper supervisor, the whole tree killed and reaped at the end, stragglers
included) with these limits: wall time per check, CPU seconds, address space, file
size, open files, a process count, and stdout/stderr capped (the run is stopped once
a stream passes the cap, and the output ends with the runner's truncation marker).
stdin is /dev/null unless a check feeds it.

The process count is RLIMIT_NPROC, which counts every process of the *real uid*
machine-wide and which root ignores. So:
- as root, student code runs as an unprivileged uid taken from a pool
  (PYLAB_GRADE_UIDS, default 64000-64063): one uid per sandbox, locked with a file
  lock so parallel jobs (and parallel graders) never share one, and checked to own no
  process. The limit then counts exactly that sandbox's processes. Binaries, sources
  and the working directory live in a temp dir that uid owns.
- as a normal user, the limit is the user's current task count plus the allowance:
  parallel jobs share that user's budget (documented in docs/grading.md).
"""
from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pylab.observe import procstate

from pylab.run import runner, toolchain

DEFAULT_UIDS = "64000-64063"
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C"}


class SandboxError(Exception):
    """The grader cannot set up a place to run student code (an environment error)."""


@dataclass(frozen=True)
class Limits:
    wall: float = 5.0            # seconds for one check (all its runs together)
    cpu: int = 2                 # CPU seconds per process
    memory: int = 256 << 20      # address space per process, bytes
    fsize: int = 8 << 20         # largest file a process may write, bytes
    nofile: int = 64             # open files per process
    nproc: int = 32              # processes at once (see the module note)
    output: int = 1 << 20        # bytes kept per stream; past it the run is stopped
    linger: float | None = None  # after the program ends, its leftovers may run this long
    compile_wall: float = 30.0   # seconds for the compiler

    def with_(self, **kw) -> "Limits":
        return replace(self, **kw)


COMPILE_LIMITS = {"cpu": 30, "as": 1 << 30, "fsize": 64 << 20, "nofile": 256}


def _uid_range() -> range:
    spec = os.environ.get("PYLAB_GRADE_UIDS", DEFAULT_UIDS)
    try:
        lo, hi = (int(x) for x in spec.split("-"))
    except ValueError:
        raise SandboxError(f"PYLAB_GRADE_UIDS must look like 64000-64063, not {spec!r}") from None
    if lo <= 0 or hi < lo:
        raise SandboxError(f"PYLAB_GRADE_UIDS: bad range {spec!r}")
    return range(lo, hi + 1)


def tasks_of(uid: int) -> list[int]:
    """Pids whose owner is uid (what RLIMIT_NPROC counts, threads aside)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    found.append(int(name))
            except FileNotFoundError:
                pass
    return found


def _task_count(uid: int) -> int:
    total = 0
    for pid in tasks_of(uid):
        try:
            total += procstate.read_stat(pid).num_threads
        except procstate.NoSuchProcess:
            pass
    return total


class _UidLease:
    """An unused uid from the pool, held by a file lock until released."""

    def __init__(self):
        self.uid = None
        self._lock = None
        for uid in _uid_range():
            try:
                pwd.getpwuid(uid)
                continue  # a real account: not ours to use
            except KeyError:
                pass
            fd = os.open(os.path.join(tempfile.gettempdir(), f"pylab-grade-uid-{uid}.lock"),
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if tasks_of(uid):
                os.close(fd)
                continue
            self.uid, self._lock = uid, fd
            return
        raise SandboxError("no free uid to run student code (all of PYLAB_GRADE_UIDS are in use)")

    def release(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


class Sandbox:
    """A temp dir, an uid (as root) and limits: where one submission's code runs.

    Use as a context manager; close() kills anything the uid still runs (belt and
    braces: the runner's supervisor already swept the tree) and removes the dir."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self._lease = _UidLease() if os.geteuid() == 0 else None
        self.uid = self._lease.uid if self._lease else None
        self.gid = self.uid
        self.dir = Path(tempfile.mkdtemp(prefix="pylab-grade-"))
        self.work = self.dir / "work"
        for sub in ("src", "bin", "include", "work", "tmp"):
            (self.dir / sub).mkdir()
        for header in (toolchain.csrc_dir() / "include").glob("*.h"):
            shutil.copy(header, self.dir / "include" / header.name)
        self._forkwatch = None
        self._runs = 0
        self._own(self.dir)

    # -- files ----------------------------------------------------------------------
    def _own(self, path: Path) -> None:
        """Hand path (recursively) to the sandbox uid, readable by it."""
        paths = [path, *path.rglob("*")] if path.is_dir() else [path]
        for p in paths:
            if self.uid is not None:
                os.chown(p, self.uid, self.gid, follow_symlinks=False)
            if p.is_dir():
                os.chmod(p, 0o755)

    def install(self, path: Path, sub: str = "bin") -> Path:
        """Copy a file (a binary, a library) where the sandbox uid can read and run it."""
        target = self.dir / sub / Path(path).name
        shutil.copy(path, target)
        os.chmod(target, 0o755)
        self._own(target)
        return target

    def env(self) -> dict:
        return {**RUN_ENV, "HOME": str(self.work), "TMPDIR": str(self.dir / "tmp")}

    # -- compile --------------------------------------------------------------------
    def compile(self, source: Path) -> Path:
        """Compile a student's C file as the sandbox uid, under the supervisor.
        Raises toolchain.CompileError (with the compiler's output) or CompilerMissing."""
        cc, _ = toolchain.compiler()
        src = self.dir / "src" / Path(source).name
        shutil.copy(source, src)
        self._own(src)
        out = self.dir / "bin" / Path(source).stem
        argv = [cc, *toolchain.FLAGS, "-I", str(self.dir / "include"), "-o", str(out), str(src)]
        result = runner.run(argv, timeout=self.limits.compile_wall, env=self.env(), cwd=self.dir / "src",
                            limits={**COMPILE_LIMITS, "nproc": self._nproc(16)}, uid=self.uid,
                            gid=self.gid, stop_on_overflow=True)
        text = (result.stdout_text + result.stderr_text).replace(str(self.dir / "src") + "/", "")
        if result.timed_out:
            raise toolchain.CompileError(src, f"the compiler did not finish within {self.limits.compile_wall:g} s\n{text}")
        if result.exit_code != 0 or not out.exists():
            raise toolchain.CompileError(src, text or result.describe())
        return out

    # -- run ------------------------------------------------------------------------
    def _nproc(self, allowance: int) -> int:
        if self.uid is not None:
            return allowance
        return _task_count(os.getuid()) + allowance

    def rlimits(self) -> dict:
        lim = self.limits
        return {"cpu": lim.cpu, "as": lim.memory, "fsize": lim.fsize, "nofile": lim.nofile,
                "nproc": self._nproc(lim.nproc), "core": 0}

    def _prepare(self, argv, watch_forks: bool, timeout: float | None):
        env = self.env()
        log = None
        if watch_forks:
            if self._forkwatch is None:
                lib = toolchain.build(toolchain.csrc_dir() / "tools" / "forkwatch.c",
                                      flags=("-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-pthread"))
                self._forkwatch = self.install(lib)
            self._runs += 1
            log = self.dir / "tmp" / f"forks.{self._runs}"
            log.touch(mode=0o600)
            self._own(log)
            env.update(LD_PRELOAD=str(self._forkwatch), PYLAB_FORKWATCH=str(log))
        kw = dict(timeout=timeout if timeout is not None else self.limits.wall, linger=self.limits.linger,
                  env=env, cwd=self.work, limits=self.rlimits(), uid=self.uid, gid=self.gid,
                  output_limit=self.limits.output, stop_on_overflow=True)
        return [str(a) for a in argv], kw, log

    def run(self, argv, mode="pipe", stdin=None, timeout=None, watch_forks=False):
        """Run to the end; returns (RunResult, fork log path or None)."""
        argv, kw, log = self._prepare(argv, watch_forks, timeout)
        return runner.run(argv, mode=mode, stdin=stdin, **kw), log

    def start(self, argv, mode="pipe", timeout=None, watch_forks=False):
        """A live handle (stdin a pipe the check writes); returns (Process, fork log)."""
        argv, kw, log = self._prepare(argv, watch_forks, timeout)
        return runner.start(argv, mode=mode, **kw), log

    # -- end ------------------------------------------------------------------------
    def close(self) -> list[int]:
        """Kill whatever the sandbox uid still runs; remove the dir; free the uid.
        Returns the pids it had to kill. Only the first call acts: once the uid is
        freed, another job may hold it."""
        if getattr(self, "_closed", False):
            return []
        self._closed = True
        killed = []
        if self.uid is not None:
            for pid in tasks_of(self.uid):
                try:
                    os.kill(pid, 9)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._lease:
            self._lease.release()
        return killed

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Watch:
    """What csrc/tools/forkwatch.c recorded: (child, parent) per fork, and per process
    that left through exit() how many children it had not reaped."""

    forks: list
    unreaped_at_exit: dict


def read_watch(log: Path | None) -> Watch:
    watch = Watch([], {})
    if log is None or not log.exists():
        return watch
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        a, b = int(parts[1]), int(parts[2])
        if parts[0] == "fork":
            watch.forks.append((a, b))
        elif parts[0] == "exit":
            watch.unreaped_at_exit[a] = b
    return watch


class Context:
    """What a check gets: the student's binary, run under the sandbox's limits, within
    the check's wall-time budget. Live handles it starts are killed at the end."""

    def __init__(self, sandbox: Sandbox, binary: Path):
        self.sandbox = sandbox
        self.binary = binary
        self.limits = sandbox.limits
        self.deadline = time.monotonic() + self.limits.wall
        self.fork_log: Path | None = None
        self._live = []

    def _budget(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            from pylab.grading.exercise import Fail
            raise Fail(expected=f"the check to finish within {self.limits.wall:g} s",
                       observed="the time for this check ran out")
        return left

    def run(self, *args, mode="pipe", stdin=None, watch_forks=False):
        result, self.fork_log = self.sandbox.run([self.binary, *args], mode=mode, stdin=stdin,
                                                 timeout=self._budget(), watch_forks=watch_forks)
        return result

    def start(self, *args, mode="pipe", watch_forks=False):
        proc, self.fork_log = self.sandbox.start([self.binary, *args], mode=mode, timeout=self._budget(),
                                                 watch_forks=watch_forks)
        self._live.append(proc)
        return proc

    def watch(self) -> Watch:
        """What the last run started with watch_forks=True recorded."""
        return read_watch(self.fork_log)

    def time_left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def close(self) -> None:
        for proc in self._live:
            proc.__exit__(None, None, None)
        self._live.clear()
