"""The limits policy for student code, and the place where one submission runs.

Every compile and every run of a submission goes through the runner (a subreaper
supervisor, the whole tree killed and reaped at the end) started inside a bubblewrap
sandbox (pylab.grading.bwrap): its own user, pid, network, ipc, uts, cgroup and mount
namespaces, only the system's toolchain and libraries visible (read-only), the
submission's scratch folder the only writable place, a private size-bounded /tmp and
/dev/shm, no capabilities, a minimal environment, hard limits (CPU seconds, address
space, file size, open files, processes, core 0) that the program cannot raise, and
cgroup limits (pids, memory) where the machine offers them. stdout/stderr are capped
(the run is stopped once a stream passes the cap). stdin is /dev/null unless fed.

As root, the sandbox runs as an unprivileged uid from a pool (PYLAB_GRADE_UIDS,
default 64000-64063), one per sandbox, held with a file lock: root would ignore
RLIMIT_NPROC, and no file the sandbox writes is owned by root.

Where namespaces cannot be made, Sandbox(fallback=True) still runs code with the
strongest containment left ("uid": the pool uid and hard limits, as root; "none" for a
normal user), and says so in `containment`; without fallback it raises SandboxError.

The grader never follows a link or opens a special file the student controls:
read_submission_file() opens NAME in the submission folder with O_NOFOLLOW, regular
files only, size-capped, without blocking on a FIFO.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pylab.observe import procstate
from pylab.run import runner, toolchain
from pylab.grading import bwrap, compile_cache, evidence
from pylab.grading.evidence import Watch  # noqa: F401 (what ctx.watch() returns)
from pylab.grading.bwrap import BOX

DEFAULT_UIDS = "64000-64063"
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C"}
SOURCE_CAP = 256 << 10  # bytes: the largest submission file the grader reads


class SandboxError(Exception):
    """The grader cannot set up a place to run student code (an environment error)."""


class Refused(Exception):
    """A submission file the grader will not read (a link, a FIFO, a device, too big)."""


class Shortage(SandboxError):
    """A compile or a run could not start a process however often it was tried: the
    process limit it shares was used up at the time (by the submission's other runs,
    the user's other work without namespaces, or the machine). The checks it stops are
    the grader's errors (they could not be carried out), never a compile error."""


# Pauses between tries when a start finds no process to be had (fork's EAGAIN): the
# limit is shared, so it is often free again a moment later (bash retries fork alike).
START_PAUSES = (0.05, 0.2, 0.5)
# The compiler driver's own words when it could not fork. Only an output made of these
# lines alone counts: a file can make gcc print text of its choosing (#pragma message
# with a "\n", a #line file name, a .gnu.warning section for ld), but always with a
# diagnostic's own "NAME:LINE:COL:" or quote around it, which these lines cannot hold:
# the program's path is one word, and nothing but the message follows it.
_DRIVER_NO_PROCESS = re.compile(r"^(\S*/)?([\w.]+-)*(gcc|cc|c\+\+|g\+\+|collect2|lto-wrapper)(-[\d.]+)?: "
                                r"fatal error: (cannot execute ['\u2018][^\s'\u2019]+['\u2019]: )?"
                                r"(v?fork|posix_spawn|pex_run)?:? ?Resource temporarily unavailable$")
_DRIVER_TRAILER = {"compilation terminated."}
# The sandbox's own tools' words when they could not make a namespace or a process (a
# pids cgroup full, the pool uid over its limit): bubblewrap exits 1, the jail 126. They
# count only when the supervisor never reported (so the program never ran to print them),
# what the runner spawned exited with that code (a program that kills its supervisor to
# hide the report leaves a signal, or the jail's 128+signal) and nothing else was said.
_TOOL_NO_PROCESS = re.compile(r"^(bwrap|jail): .*(Resource temporarily unavailable|Cannot fork)$")
_TOOL_EXIT_CODES = {1, 126}


def _driver_said_no_process(text: str) -> str | None:
    """The driver's no-process line when the output is nothing else, else None."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and ln.strip() not in _DRIVER_TRAILER]
    if lines and all(_DRIVER_NO_PROCESS.match(ln) for ln in lines):
        return lines[0]
    return None


def _no_process(result, text: str = "") -> str | None:
    """What shows that this run (or the compiler it ran: `text` is its output) could
    not start a process for want of one, or None."""
    if result.exec_error == errno.EAGAIN:
        return result.describe()
    spawned = result.spawned_status
    if (result.pid is None and result.status is None and not result.stdout and spawned is not None
            and os.WIFEXITED(spawned) and os.WEXITSTATUS(spawned) in _TOOL_EXIT_CODES):
        said = result.stderr_text.strip().splitlines()
        if said and all(_TOOL_NO_PROCESS.match(ln) for ln in said):
            return said[0]
    if result.exit_code not in (0, None) and text:
        return _driver_said_no_process(text)
    return None


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
    tmp: int = 16 << 20          # bytes of the private /tmp (and of /dev/shm), per run

    def with_(self, **kw) -> "Limits":
        return replace(self, **kw)


COMPILE_LIMITS = {"cpu": 30, "as": 1 << 30, "fsize": 64 << 20, "nofile": 256, "nproc": 16}
PARALLEL_RUNS = 2  # runs of one submission at once (the grader checks 2 exercises together)
PARALLEL_COMPILES = 2


def cgroup_pids(limits: "Limits") -> int:
    """The submission's pids cgroup: room for its parallel runs and compiles at their own
    limits (each with its supervisor, bwrap and jail), never less than any one needs."""
    return (PARALLEL_RUNS * (limits.nproc + 3) + PARALLEL_COMPILES * (COMPILE_LIMITS["nproc"] + 3) + 4)
COMPILE_TMP = 128 << 20
CGROUP_MEMORY = 1536 << 20  # the whole sandbox (compiler included), where cgroups exist


def read_submission_file(folder: str | os.PathLike, name: str, cap: int = SOURCE_CAP) -> bytes:
    """The bytes of folder/name, read without following a link: a symlink, FIFO,
    device, folder or file over `cap` bytes raises Refused with a reason a student
    can act on. Raises FileNotFoundError when there is no such file."""
    if "/" in name or name in ("", ".", ".."):
        raise Refused(f"{name!r} is not a plain file name")
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                         dir_fd=dfd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise Refused(f"{name} is a symbolic link; submit the C file itself") from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                        or stat.S_ISBLK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                        else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
                raise Refused(f"{name} is {kind}, not a regular file; submit the C file itself")
            data = b""
            while len(data) <= cap:
                chunk = os.read(fd, cap + 1 - len(data))
                if not chunk:
                    break
                data += chunk
            if len(data) > cap:
                raise Refused(f"{name} is larger than {cap // 1024} KiB; a C file for this exercise is far smaller")
            return data
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _uid_range() -> range:
    spec = os.environ.get("PYLAB_GRADE_UIDS", DEFAULT_UIDS)
    try:
        lo, hi = (int(x) for x in spec.split("-"))
    except ValueError:
        raise SandboxError(f"PYLAB_GRADE_UIDS must look like 64000-64063, not {spec!r}") from None
    if lo <= 0 or hi < lo:
        raise SandboxError(f"PYLAB_GRADE_UIDS: bad range {spec!r}")
    return range(lo, hi + 1)


def pool_uids() -> range:
    """The uids student code may run as when the grader is root (PYLAB_GRADE_UIDS)."""
    return _uid_range()


UID_LOCKS = "/tmp"  # where every grader on the machine locks its pool uids, whatever its TMPDIR


class _UidLease:
    """An unused uid from the pool, held by a file lock until released.

    The lock is /tmp/pylab-grade-uid-UID.lock (UID_LOCKS, not the temp dir: two graders
    with different TMPDIRs would each lease the uid, and one's close would kill the
    other's runs), the name every pylab grader on the machine uses, so that two graders
    never share a uid. /tmp is everyone's: the file
    is opened without following a link, and used only if it is a regular file of ours
    with one name (a planted link or hard link makes that uid unusable, never followed)."""

    def __init__(self):
        self.uid = None
        self._lock = None
        for uid in _uid_range():
            try:
                pwd.getpwuid(uid)
                continue  # a real account: not ours to use
            except KeyError:
                pass
            fd = self._lock_of(uid)
            if fd is None:
                continue
            if procstate.processes_of_uid(uid):
                os.close(fd)
                continue
            self.uid, self._lock = uid, fd
            return
        raise SandboxError("no free uid to run student code (all of PYLAB_GRADE_UIDS are in use)")

    @staticmethod
    def _lock_of(uid: int) -> int | None:
        """uid's lock, taken (its fd), or None: held by another grader, or not a lock of ours."""
        path = os.path.join(UID_LOCKS, f"pylab-grade-uid-{uid}.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        except OSError:
            return None  # a link, or not ours to open
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink != 1:
            os.close(fd)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @classmethod
    def left_by_the_dead(cls, uid: int) -> "_UidLease | None":
        """The lease of this pool uid, whatever still runs as it, if no grader holds it:
        a sandbox's process that died without closing (killed) held it, and what it left
        running as the uid is now nobody's (no grader leases a uid with processes)."""
        if uid not in _uid_range():
            return None
        fd = cls._lock_of(uid)
        if fd is None:
            return None
        lease = cls.__new__(cls)
        lease.uid, lease._lock = uid, fd
        return lease

    def release(self):
        fd, self._lock = self._lock, None
        if fd is not None:
            os.close(fd)


# -- the ledger: what this process's sandboxes made, for the one that cleans up after it --
# The grader runs the instructor's pytest checks in a process of their own, whose
# sandboxes (the plugin's fixtures) close themselves when pytest is told to stop. If it
# must be killed instead (it would not stop), close() never runs there: so the plugin
# keeps a ledger (keep_ledger), where each sandbox writes what it is about to make
# before it makes it (its TOP folder, its cgroups, its uid) and that it closed, and the
# grader removes what was not closed once that pytest has ended (sweep).
_ledger: list[int] = []  # the ledger's fd, when this process keeps one


def keep_ledger(path: str | os.PathLike) -> None:
    """From now on, every sandbox of this process writes to the ledger at `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    _ledger[:] = [fd]


def _note(sandbox: str, **what) -> None:
    """One line of the ledger. What cannot be recorded could be left behind: it is not
    made (SandboxError), except for the line that says a sandbox closed."""
    if _ledger:
        try:
            os.write(_ledger[0], (json.dumps({"sandbox": sandbox, **what}) + "\n").encode())
        except OSError as e:
            if "closed" not in what:
                raise SandboxError(f"the grader cannot record what a sandbox makes: {os.strerror(e.errno)}") from None


def sweep(path: str | os.PathLike) -> list[int]:
    """Once the process that kept the ledger at `path` has ended: remove what its
    sandboxes made and did not close (it was killed): kill what runs in their cgroups
    and then remove them, kill what still runs as their uid if no grader holds it now,
    remove their folders. Only what a sandbox makes is touched (a TOP folder of ours in
    the temp dir, a pylab-* cgroup, a pool uid), whatever else a line may say. Returns
    the pids it killed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    with open(fd, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    made: dict[str, dict] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            book = made.setdefault(str(entry["sandbox"]),
                                   {"top": set(), "cgroup": set(), "uid": set(), "closed": False})
        except (ValueError, KeyError, TypeError):
            continue  # (a line cut short by the kill)
        for kind in ("top", "cgroup", "uid"):
            if kind in entry:
                (book[kind].add if entry.get("made", True) else book[kind].discard)(entry[kind])
        book["closed"] = book["closed"] or entry.get("closed") is True
    killed: list[int] = []
    for book in made.values():
        if book["closed"]:
            continue
        killed += bwrap.Cgroups.left_by(sorted(book["cgroup"])).remove()
        for uid in book["uid"]:
            lease = _UidLease.left_by_the_dead(uid) if isinstance(uid, int) else None
            if lease is not None:
                try:
                    killed += _kill_uid(uid)
                finally:
                    lease.release()
        for top in book["top"]:
            if _is_top(top):
                shutil.rmtree(top, ignore_errors=True)
    return sorted(set(killed))


def _is_top(path) -> bool:
    """Whether path is a sandbox's TOP folder: pylab-grade-* in the temp dir, ours, not a link."""
    if not isinstance(path, str):
        return False
    p = Path(path)
    try:
        st = os.lstat(p)
    except OSError:
        return False
    return (p.parent == Path(tempfile.gettempdir()) and p.name.startswith("pylab-grade-")
            and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid())


def _kill_uid(uid: int) -> list[int]:
    """SIGKILL every process running as uid; the pids it signalled."""
    killed = []
    for pid in procstate.processes_of_uid(uid):
        try:
            os.kill(pid, 9)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def namespaces_problem() -> str | None:
    """Why the bubblewrap sandbox cannot be made here (None: it can). Root probes as a pool
    uid it leases for the probe, the way grading runs bwrap: an unleased uid may be one a
    concurrent grader is clearing, whose sweep would kill the probe and read as a failure."""
    if os.geteuid() != 0:
        return bwrap.problem(None)
    try:
        lease = _UidLease()
    except SandboxError as e:
        return str(e)
    try:
        return bwrap.problem(lease.uid)
    finally:
        lease.release()


class Sandbox:
    """Where one submission's code is compiled and run. Use as a context manager;
    close() kills whatever is left, removes every file, frees the uid.

    Layout on the host: TOP/ (the grader's, unreadable to the sandbox) holds box/ (the
    scratch folder, /box inside: src, bin, include, work) and tools/ (the copies of
    jail and supervise the sandbox runs, read-only)."""

    def __init__(self, limits: Limits = Limits(), fallback: bool = False):
        self.limits = limits
        self._closed = False
        self._runs = 0
        self._kills = 0  # kill_runs() calls so far
        self._count_lock = threading.Lock()
        self._id = secrets.token_hex(8)  # its name in the ledger
        self.top = self.cgroups = self._lease = self.uid = self.gid = None
        self._procs = []
        self._stopped = False
        self._lock = threading.Lock()
        self.observed = {}  # Context.run's shared runs: (binary, its stat, run) -> (result, log)
        try:  # (whatever stops it, close() undoes what was made: this returns a sandbox, or nothing)
            self._lease = _UidLease() if os.geteuid() == 0 else None
            self.uid = self.gid = self._lease.uid if self._lease else None
            if self.uid is not None:
                _note(self._id, uid=self.uid)
            problem = bwrap.problem(self.uid)
            if problem and not fallback:
                raise SandboxError(f"{problem}; grading untrusted code needs it "
                                   "(--containment=uid grades with a separate uid and hard limits only)")
            self.containment = "namespaces" if not problem else ("uid" if self.uid is not None else "none")
            self.containment_problem = problem
            self._make_top()
            os.chmod(self.top, 0o711)  # the pool uid may pass through, not list
            self.dir = self.top / "box"
            self.work = self.dir / "work"
            for sub in ("", "src", "bin", "include", "work", "tmp"):
                (self.dir / sub).mkdir(mode=0o755)
                self._own(self.dir / sub)
            # the lab's headers, read once: copied here for runs' compiles, and what each
            # compile made apart is given (and keyed on)
            self.headers = {h.name: h.read_bytes() for h in sorted((toolchain.csrc_dir() / "include").glob("*.h"))}
            for name, data in self.headers.items():
                (self.dir / "include" / name).write_bytes(data)
            (self.top / "tools").mkdir(mode=0o755)
            self.walls = self.containment == "namespaces"
            self.cgroups = bwrap.Cgroups()
            bwrap.Cgroups.make(pids_max=cgroup_pids(limits), memory_max=CGROUP_MEMORY, into=self.cgroups,
                               note=lambda folder, made: _note(self._id, cgroup=str(folder), made=made))
            self.jail = bwrap.Jail(self.dir, self.top / "tools", self.uid, self.cgroups, limits.tmp,
                                   namespaces=self.walls)
        except BaseException:
            self.close()
            raise

    def _make_top(self) -> None:
        """TOP, as mkdtemp makes it (mode 0700, a new name in the temp dir), recorded in
        the ledger before it exists, and self.top before it exists too: close() then
        removes it, whenever a stop comes."""
        while True:
            path = Path(tempfile.gettempdir()) / f"pylab-grade-{secrets.token_hex(8)}"
            _note(self._id, top=str(path))
            self.top = path
            try:
                os.mkdir(path, 0o700)
                return
            except FileExistsError:  # another's: neither ours to remove nor to record
                self.top = None
                _note(self._id, top=str(path), made=False)

    # -- files ----------------------------------------------------------------------
    def _own(self, path: Path) -> None:
        """Hand a file or folder the grader just made to the sandbox uid (never follows)."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid, follow_symlinks=False)

    def put(self, name: str, data: bytes, sub: str = "src", mode: int = 0o644) -> Path:
        """Write a file into the scratch folder (replacing whatever is there, link or not)."""
        target = self.dir / sub / name
        tmp = self.top / f".put-{self._next()}"  # the grader's own folder
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        try:
            os.write(fd, data)
            if self.uid is not None:
                os.fchown(fd, self.uid, self.gid)
        finally:
            os.close(fd)
        # The sandbox owns box/ and may have swapped `sub` for a link: reach it without
        # following one (box/ itself sits in TOP, which only the grader can write), and
        # rename, which replaces whatever the sandbox left at the name, link or not.
        try:
            dfd = os.open(self.dir / sub, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            os.unlink(tmp)
            raise Refused(f"the program replaced the sandbox folder {sub}/ (with a link?): the grader will not write there") from None
        try:
            os.rename(tmp, name, dst_dir_fd=dfd)
        finally:
            os.close(dfd)
        return target

    def install(self, path: Path, sub: str = "bin") -> Path:
        """Copy a file (a binary, a library) where the sandbox can read and run it."""
        return self.put(Path(path).name, Path(path).read_bytes(), sub, 0o755)

    def inside(self, path) -> str:
        """A host path of the scratch folder as the sandbox sees it (others unchanged)."""
        text = str(path)
        if self.walls and (text == str(self.dir) or text.startswith(str(self.dir) + "/")):
            return BOX + text[len(str(self.dir)):]
        return text

    def env(self) -> dict:
        if self.walls:
            return dict(bwrap.ENV)
        return {**RUN_ENV, "HOME": str(self.work), "TMPDIR": str(self.dir / "tmp")}

    # -- compile --------------------------------------------------------------------
    def compile(self, source: Path, data: bytes | None = None) -> Path:
        """Compile a student's C file inside the sandbox, under the supervisor: `data`
        when the caller has read it already (read_submission_file), else read here.
        Raises Refused (a link or special file), toolchain.CompileError (with the
        compiler's output) or CompilerMissing."""
        source = Path(source)
        try:
            if data is None:
                data = read_submission_file(source.parent, source.name)
        except FileNotFoundError:
            raise toolchain.ToolchainError(f"no such C file: {source.name}") from None
        src = self.put(source.name, data)  # runs see it at /box/src, as they always have
        out = self.dir / "bin" / source.stem
        if self.walls:
            return self._compile_apart(source.name, data, src, out)
        argv = toolchain.command(self.inside(src), self.inside(out), lab_include=self.inside(self.dir / "include"))
        result, text = self._compile_run(argv, self.dir / "src", src, cwd=self.dir / "src")
        try:
            built = stat.S_ISREG(os.lstat(out).st_mode)
        except FileNotFoundError:
            built = False
        if result.exit_code != 0 or not built:
            raise toolchain.CompileError(src, text or result.describe())
        return out

    def _compile_run(self, argv, src_dir: Path, src: Path, **where):
        """The compiler's run and its text, tried again while it found no process to start
        (START_PAUSES), all within one compile_wall; Shortage when it never did, and
        CompileError when the compiler did not finish in time."""
        limits = dict(COMPILE_LIMITS)
        if not self.walls:
            # No namespace: the process limit counts every process of the uid (the user's,
            # or the pool uid's, which the submission's other runs share), so for the
            # compiler (no student code) it adds only a race, and gcc, refused a fork,
            # waits 1+2+4+8 s before it gives up (libiberty). The pids cgroup, where
            # there is one, still bounds the whole submission.
            del limits["nproc"]
        deadline = time.monotonic() + self.limits.compile_wall
        kills = self._kills
        first = None  # what showed the first shortage
        for tries, pause in enumerate((*START_PAUSES, None), 1):
            left = deadline - time.monotonic()
            result = self._run(argv, timeout=max(left, 0.001), limits=limits, tmp=COMPILE_TMP, retry=False, **where)
            text = self._compiler_text(result, src_dir)
            why = _no_process(result, text)
            if why is None and first and result.timed_out and left < self.limits.compile_wall / 2:
                # a retry cut short because the tries before it used most of the wall (gcc
                # waits 15 s on a refused fork): it says nothing about the file. (With most
                # of the wall left, a time-out is the file's own: "did not finish".)
                why = f"{first}; then a try ran out of what was left of its time"
            if why is None:
                if result.timed_out:
                    raise toolchain.CompileError(
                        src, f"the compiler did not finish within {self.limits.compile_wall:g} s\n{text}")
                return result, text
            first = first or why
            if pause is None or self._tries_over(kills) or deadline - time.monotonic() <= pause or result.timed_out:
                raise Shortage(f"the compiler could not start a process ({why}; tried {tries} "
                               f"time{'s' if tries > 1 else ''}): the process limit it shares was used up at "
                               f"the time; this is not an error in {src.name}")
            time.sleep(pause)

    def _tries_over(self, kills: int) -> bool:
        """Stop trying: the sandbox is closed or stopping, or the grader's watchdog
        (kill_runs) has ended runs since the tries began."""
        return self._closed or self._stopped or self._kills != kills

    def _compiler_text(self, result, src_dir: Path) -> str:
        text = (result.stdout_text + result.stderr_text)
        for prefix in (self.inside(self.dir / "src") + "/", str(src_dir) + "/"):
            text = text.replace(prefix, "")
        return text

    def _compile_apart(self, name: str, data: bytes, src: Path, out: Path) -> Path:
        """Inside namespaces: compile in a folder made for this compile alone (at /box:
        src/NAME.c, the lab's headers, an empty bin/ and work/), which nothing the
        submission runs can see or change; so the result is a function of what
        compile_cache keys on, and a repeat is taken from the cache."""
        files = {f"src/{name}": data, **{f"include/{h}": blob for h, blob in self.headers.items()}}
        argv = toolchain.command(f"{BOX}/src/{name}", f"{BOX}/bin/{out.name}", lab_include=f"{BOX}/include")
        settings = {"limits": COMPILE_LIMITS, "tmp": COMPILE_TMP, "wall": self.limits.compile_wall,
                    "linger": self.limits.linger, "output": self.limits.output, "env": bwrap.ENV}
        key = compile_cache.key(argv, files, settings)
        hit = compile_cache.lookup(key)
        if hit is not None:
            kind, blob = hit
            if kind == "binary":
                self.put(out.name, blob, "bin", 0o755)  # a fresh copy, the sandbox's own
                return out
            raise toolchain.CompileError(src, blob.decode(errors="replace"))
        folder = self.top / f"compile-{self._next()}"  # in TOP: never under /box of a run
        try:
            folder.mkdir(mode=0o755)
            for sub in ("src", "include", "bin", "work"):
                (folder / sub).mkdir(mode=0o755)
            for sub in ("bin", "work"):  # the compiler's to write; src/ and include/ stay the grader's
                self._own(folder / sub)
            for rel, blob in files.items():
                fd = os.open(folder / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
                try:
                    os.write(fd, blob)
                finally:
                    os.close(fd)
            result, text = self._compile_run(argv, folder / "src", src, root=folder)
            try:
                binary = read_submission_file(folder / "bin", out.name, cap=compile_cache.BINARY_CAP)
            except (OSError, Refused):
                binary = None
            if result.exit_code != 0 or binary is None:
                message = text or result.describe()
                if compile_cache.cacheable_error(result.exit_code, result.timed_out, result.truncated, message):
                    compile_cache.store(key, "error", message.encode())
                raise toolchain.CompileError(src, message)
            compile_cache.store(key, "binary", binary)
            self.put(out.name, binary, "bin", 0o755)
            return out
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- run ------------------------------------------------------------------------
    def rlimits(self, nproc: int | None = None) -> dict:
        lim = self.limits
        return {"cpu": lim.cpu, "as": lim.memory, "fsize": lim.fsize, "nofile": lim.nofile,
                "nproc": lim.nproc if nproc is None else nproc, "core": 0}

    def _run_options(self, limits: dict, tmp: int, env: dict | None, cwd, trace_log=None, root=None) -> dict:
        # +1 process for the supervisor: the sandbox's pid 1, or running as the pool uid
        if "nproc" in limits:
            limits = {**limits, "nproc": limits["nproc"] + 1}
        if self.walls:
            return dict(wrap=self.jail.wrap(limits, tmp, env, trace_log, root), env={"PATH": bwrap.ENV["PATH"]})
        if self.uid is None and "nproc" in limits:  # no namespace, no uid: the user's budget is shared (see docs)
            limits["nproc"] += procstate.nproc_count(os.getuid())
        # (under the pool uid the limit is the uid's total, which the submission's
        # parallel runs share: counting them on top would let each overlapping run raise
        # the ceiling; a run that finds it used up is retried, then is a Shortage)
        return dict(wrap=self.jail.wrap(limits, trace_log=trace_log), env={**self.env(), **(env or {})}, cwd=cwd)

    def _run(self, argv, timeout, limits, tmp, cwd=None, mode="pipe", stdin=None, env=None, live=False,
             trace_log=None, root=None, retry=True):
        """One run (a live handle when live); a run that could not start a process for
        want of one is tried again (START_PAUSES), then raises Shortage (retry=False: the
        caller decides)."""
        kills = self._kills
        for tries, pause in enumerate((*START_PAUSES, None), 1):
            got = self._run_once(argv, timeout, limits, tmp, cwd, mode, stdin, env, live, trace_log, root)
            if live:  # a live handle is back once the program started, or could not be
                if not retry or got.exec_error != errno.EAGAIN:
                    return got
                got = got.wait()  # (it never ran: the wait is at once)
            why = _no_process(got) if retry else None
            if why is None:
                return got
            if pause is None or self._tries_over(kills):
                raise Shortage(f"the program could not be started ({why}; tried {tries} time{'s' if tries > 1 else ''}): "
                               f"the process limit it shares was used up at the time ({self._sharing()})")
            time.sleep(pause)

    def _sharing(self) -> str:
        """Who shares a run's process limit, in words."""
        if self.walls:
            return "by this submission's other runs, within its pids cgroup, or by the machine"
        if self.uid is not None:
            return "with this submission's other runs, under the grader's uid for it"
        return "with everything this user runs: there are no namespaces here"

    def _run_once(self, argv, timeout, limits, tmp, cwd, mode, stdin, env, live, trace_log, root):
        kw = self._run_options(limits, tmp, env, cwd or self.work, trace_log, root)
        argv = [self.inside(a) for a in argv]
        common = dict(mode=mode, timeout=timeout, linger=self.limits.linger, output_limit=self.limits.output,
                      stop_on_overflow=True, **kw)
        with self._lock:  # started and listed at once: kill_runs() sees every run
            if self._closed or self._stopped:
                raise SandboxError("this sandbox is closed")
            if live:
                proc = runner.start(argv, **common)
            else:
                proc = runner.Process(argv, stdin=stdin, **common)
            self._procs = [p for p in self._procs if p.running] + [proc]
        return proc if live else proc.wait()

    def kill_runs(self, for_good: bool = False) -> None:
        """End every run of this sandbox that is still going (the grader's watchdog);
        for_good: and refuse any new one (the submission is over)."""
        with self._lock:
            self._stopped = self._stopped or for_good
            self._kills += 1  # a compile's or a run's tries stop here too
            procs = list(self._procs)
        for proc in procs:
            proc.kill()

    def _trace_log(self, watch_forks: bool) -> Path | None:
        """Where the tracer logs a watched run: a folder of the grader's that the sandbox
        never sees (TOP/traces), one file per run."""
        if not watch_forks:
            return None
        folder = self.top / "traces"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"run-{self._next()}.log"

    def _next(self) -> int:
        """A number no other thread of this sandbox gets (exercises run in parallel)."""
        with self._count_lock:
            self._runs += 1
            return self._runs

    def run(self, argv, mode="pipe", stdin=None, timeout=None, watch_forks=False):
        """Run to the end; returns (RunResult, trace log or None). The result's pids are
        the sandbox's (what the program prints); its supervisor is the sandbox's pid 1.
        watch_forks: trace the run from outside (pylab.grading.evidence.watch(log))."""
        log = self._trace_log(watch_forks)
        result = self._run(argv, timeout if timeout is not None else self.limits.wall, self.rlimits(),
                           self.limits.tmp, mode=mode, stdin=stdin, trace_log=log)
        return result, log

    def start(self, argv, mode="pipe", timeout=None, watch_forks=False):
        """A live handle (stdin a pipe the check writes); returns (Live, trace log)."""
        log = self._trace_log(watch_forks)
        proc = self._run(argv, timeout if timeout is not None else self.limits.wall, self.rlimits(),
                         self.limits.tmp, mode=mode, live=True, trace_log=log)
        return (Live(proc) if self.walls else proc), log

    # -- end ------------------------------------------------------------------------
    def close(self) -> list[int]:
        """Kill whatever is left (in the sandbox's cgroups, or running as its uid);
        remove every file; free the uid. Returns the pids it had to kill. Only the
        first call acts: once the uid is freed, another job may hold it. A stop
        (KeyboardInterrupt: Ctrl-C, or SIGTERM in pylab) that comes while it works
        cuts no step short: the step is done again, and the stop raised at the end."""
        if self._closed:
            return []
        self._closed = True
        killed: list[int] = []
        stop, done = None, 0
        steps = (self._end_runs, self._end_cgroups, self._end_uid, self._end_files, self._end_lease)
        for step in steps:
            for _ in range(2):  # (only the first signal raises: pylab.cli.main.StopSignals)
                try:
                    killed += step()
                    done += 1
                    break
                except KeyboardInterrupt as e:
                    stop = e
        if done == len(steps):
            _note(self._id, closed=True)
        if stop is not None:
            raise stop
        return sorted(set(killed))

    def _end_runs(self) -> list[int]:
        self.kill_runs(for_good=True)
        return []

    def _end_cgroups(self) -> list[int]:
        return self.cgroups.remove() if self.cgroups is not None else []

    def _end_uid(self) -> list[int]:
        return _kill_uid(self.uid) if self.uid is not None else []

    def _end_files(self) -> list[int]:
        if self.top is not None:
            shutil.rmtree(self.top, ignore_errors=True)
        return []

    def _end_lease(self) -> list[int]:
        if self._lease:
            self._lease.release()
        return []

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Live:
    """A live run inside the sandbox: the runner's Process, with `pid` the program's
    pid seen from outside (what /proc and procstate read here) and `inner_pid` the
    one the program sees and prints. Everything else is the Process's."""

    def __init__(self, proc):
        self._proc = proc
        self._outer = None

    @property
    def inner_pid(self):
        return self._proc.pid

    @property
    def pid(self):
        if self._outer is None and self._proc.pid is not None:
            self._outer = bwrap.Jail.outer_pid(self._proc.spawned, self._proc.pid)
        return self._outer

    def wait(self, timeout=None):
        return self._proc.wait(timeout)

    def socket(self) -> socket.socket:
        """An unconnected TCP socket inside this run's network namespace (its own
        loopback): connect it to ("127.0.0.1", port) to reach a server the program runs."""
        init = bwrap.Jail.outer_pid(self._proc.spawned, 1)  # the sandbox's pid 1, seen from here
        if init is None:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "the program's sandbox has ended")
        return socket_in(init)

    def __getattr__(self, name):
        return getattr(self._proc, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._proc.__exit__(*exc)


def socket_in(pid: int) -> socket.socket:
    """A TCP socket made in the network namespace of pid (by csrc/tools/netjoin.c)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proc = subprocess.run([str(toolchain.tool("netjoin")), str(pid), str(theirs.fileno())],
                              pass_fds=(theirs.fileno(),), capture_output=True, text=True, timeout=5)
        theirs.close()
        if proc.returncode != 0:
            raise ConnectionRefusedError(errno.ECONNREFUSED, proc.stderr.strip() or "netjoin failed")
        _, fds, _, _ = socket.recv_fds(ours, 1, 1)
        if not fds:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "netjoin sent no socket")
        return socket.socket(fileno=fds[0])
    finally:
        theirs.close()
        ours.close()


class Context:
    """What a check gets: the student's binary, run under the sandbox's limits, within
    the check's wall-time budget. Live handles it starts are killed at the end."""

    def __init__(self, sandbox: Sandbox, binary: Path):
        self.sandbox = sandbox
        self.binary = binary
        self.limits = sandbox.limits
        self.deadline = time.monotonic() + self.limits.wall
        self.fork_log: Path | None = None
        self._streams: dict[int, str] = {}  # the last run's stdout and stderr, for its log
        self._live = []
        self._watched: tuple = (None, None)  # (the log's identity when read, its Watch)
        self._asked: set = set()  # the runs this check has had: asked again, they run again

    def _budget(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            from pylab.grading.exercise import Fail
            raise Fail(expected=f"the check to finish within {self.limits.wall:g} s",
                       observed="the time for this check ran out")
        return left

    def run(self, *args, mode="pipe", stdin=None, watch_forks=False):
        """Run the binary to the end. Checks of one submission that ask for the same run
        (binary unchanged, same arguments, stdout target, stdin and tracing) share it: the
        first one's, if it ended by itself within the time this check has left. A check
        that asks again for a run it made itself gets a fresh one (it samples the program:
        the order of a parent's and a child's output, say, is not fixed)."""
        budget = self._budget()
        key = self._run_key(args, mode, stdin, watch_forks)
        seen = self.sandbox.observed.get(key) if key and key not in self._asked else None
        if key:
            self._asked.add(key)
        if seen is not None and seen[0].duration < budget:
            result, self.fork_log = seen
            self._streams = result.streams
            return result
        result, self.fork_log = self.sandbox.run([self.binary, *args], mode=mode, stdin=stdin,
                                                 timeout=budget, watch_forks=watch_forks)
        self._streams = result.streams
        if key and key not in self.sandbox.observed and _ended_by_itself(result):
            self.sandbox.observed[key] = (result, self.fork_log)
        return result

    def _run_key(self, args, mode, stdin, watch_forks):
        """What makes two runs the same run, or None: the binary by path and stat (the
        sandbox may have replaced its own binary: then it is another run), never followed."""
        try:
            st = os.lstat(self.binary)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if isinstance(stdin, str):
            data = stdin.encode()
        elif stdin is None or isinstance(stdin, (bytes, bytearray, memoryview)):
            data = None if stdin is None else bytes(stdin)
        else:
            return None  # something else the runner takes: not shared
        return (str(self.binary), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                tuple(str(a) for a in args), mode, data, bool(watch_forks))

    def start(self, *args, mode="pipe", watch_forks=False):
        proc, self.fork_log = self.sandbox.start([self.binary, *args], mode=mode, timeout=self._budget(),
                                                 watch_forks=watch_forks)
        self._streams = proc.streams
        self._live.append(proc)
        return proc

    def connect(self, address: tuple[str, int], timeout: float | None = None) -> socket.socket:
        """A TCP connection to `address` as the program's last live run sees it: inside
        its sandbox's own network namespace (a server it runs on 127.0.0.1 is only
        reachable there). Same arguments as socket.create_connection."""
        live = self._live[-1] if self._live else None
        if not isinstance(live, Live):
            return socket.create_connection(address, timeout=timeout)
        s = live.socket()
        try:
            s.settimeout(timeout)
            s.connect(address)
        except BaseException:
            s.close()
            raise
        return s

    def watch(self) -> Watch:
        """What the last run started with watch_forks=True recorded."""
        # read and parse the log again only when it changed: a check polls this while the
        # program holds (its log still), then asks once more after the run
        try:
            st = os.lstat(self.fork_log) if self.fork_log is not None else None
        except OSError:
            st = None
        key = (str(self.fork_log), st.st_size, st.st_mtime_ns, st.st_ino) if st else None
        if key is None or key != self._watched[0]:
            self._watched = (key, evidence.watch(self.fork_log, namespaces=self.sandbox.walls, streams=self._streams))
        return self._watched[1]

    def time_left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def close(self) -> None:
        for proc in self._live:
            proc.__exit__(None, None, None)
        self._live.clear()


def _ended_by_itself(result) -> bool:
    """A run another check may be shown: it ended on its own (an exit status), not cut short
    by a time-out, the output cap, the grader (a watchdog's kill, a stop) or a failed exec."""
    return (result.status is not None and not result.timed_out and not result.truncated and not result.stopped
            and result.exec_error is None)


def containment_costs(binary: str | os.PathLike, runs: int = 50, limits: Limits = Limits()) -> dict[str, list[float]]:
    """Seconds per run of `binary` (no arguments, stdout to a pipe), sampled round-robin
    so each figure sees the same load: "bare" (runner.run, the supervisor only),
    "sandboxed" (Sandbox.run: bubblewrap, the jail, the supervisor as pid 1) and
    "traced" (Sandbox.run with watch_forks: strace outside as well). For `pylab bench`.
    A run that did not end with exit status 0 raises SandboxError: a figure is only the
    time of runs that worked."""
    samples: dict[str, list[float]] = {"bare": [], "sandboxed": [], "traced": []}
    with Sandbox(limits) as sb:
        inside = sb.install(Path(binary))
        ways = {"bare": lambda: runner.run([str(binary)], timeout=limits.wall),
                "sandboxed": lambda: sb.run([inside])[0],
                "traced": lambda: sb.run([inside], watch_forks=True)[0]}
        for way in ways.values():  # warm: tools built, page cache full
            way()
        for _ in range(runs):
            for name, way in ways.items():
                t0 = time.perf_counter()
                result = way()
                samples[name].append(time.perf_counter() - t0)
                if result.exit_code != 0:
                    raise SandboxError(f"a {name} run of {Path(binary).name} did not succeed: {result.describe()}")
    return samples
