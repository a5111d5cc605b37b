"""The walls around student code: bubblewrap namespaces, hard limits, cgroups.

Every compile and every run of a submission is the runner's supervisor started
inside bubblewrap (bwrap, the sandbox Flatpak uses):

    [jail -C CGROUP.. -u UID -g UID --]          as root only: cgroups, then the pool uid
    bwrap --unshare-all --disable-userns ...      new user, pid, net, ipc, uts, cgroup ns
          --die-with-parent --new-session --as-pid-1 --cap-drop ALL --clearenv
          (read-only: /usr, /lib*, /bin, a few files of /etc; new /proc, /dev;
           /tmp and /dev/shm private tmpfs with a size; the scratch folder at /box
           the only writable place; the two tools, read-only, at /.pylab/)
      /.pylab/jail -r cpu=.. -r as=.. -r nproc=.. --   hard = soft, inside the user ns
        /.pylab/supervise ...                     pid 1 of the sandbox: the subreaper

The supervisor is the sandbox's pid 1: when it ends, the kernel kills whatever is
left in the pid namespace; signals from inside cannot stop or kill it (an init only
receives the signals it handles, never SIGKILL or SIGSTOP from its own namespace).
The program sees its namespace's pids; Jail.outer_pid() maps one to the pid seen from
outside (NSpid in /proc/PID/status).

RLIMIT_NPROC is set inside the user namespace on purpose: since Linux 5.14 it counts
per (user namespace, uid), so inside a fresh namespace it counts exactly this
sandbox's processes, for root (through the pool uid) and for a normal user alike. Set
before the namespace exists it would also cap the grader's own user.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pylab
from pylab.observe import procstate
from pylab.run import toolchain
from pylab.grading import evidence

INSIDE_UID = 1000          # the program's uid inside its user namespace
BOX = "/box"               # the scratch folder, seen from inside
TOOLS = "/.pylab"          # jail and supervise, read-only, seen from inside
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": f"{BOX}/work", "TMPDIR": "/tmp",
       "USER": "student", "LOGNAME": "student"}
# What of /etc the compiler and a dynamically linked program need (read-only): the
# loader's cache, and the alternatives behind /usr/bin/cc. (Each bind costs a mount.)
ETC = ("ld.so.cache", "alternatives")
SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
# Never visible, even where it lies inside a system folder that is (a pip install into /usr).
MASKED_SYSTEM = ("/usr/local",)
CGROUP_V1 = Path("/sys/fs/cgroup")
LEVELS = ("namespaces", "uid", "none")


class JailError(Exception):
    """No sandbox can be made here (bwrap missing, namespaces refused, ...)."""


def bwrap_path() -> str | None:
    """bubblewrap: $PYLAB_BWRAP if set (a test points it at a missing file to see the
    fallback), else bwrap on PATH."""
    return os.environ.get("PYLAB_BWRAP") or shutil.which("bwrap")


_probed: dict[tuple, str | None] = {}  # (as a pool uid?, bwrap) -> what the probe said


def problem(probe_uid: int | None = None) -> str | None:
    """Why namespaces cannot be made on this machine, or None when they can. Probed once
    per bwrap as this user, and once as a pool uid (root leases a different one for each
    submission; each is an unprivileged uid like the others, so one probe tells for all)."""
    key = (probe_uid is not None, bwrap_path())
    if key not in _probed:
        _probed[key] = _problem(probe_uid, key[1])
    return _probed[key]


def _problem(probe_uid: int | None, bwrap: str | None) -> str | None:
    """bwrap runs /bin/true with every namespace the real sandbox uses, as probe_uid when
    given: root probes as a pool uid, the way it will run bwrap."""
    if bwrap is None or not os.access(bwrap, os.X_OK):
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--as-pid-1",
           "--cap-drop", "ALL", *_system_binds(), "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    if probe_uid is not None:
        cmd = [str(toolchain.tool("jail")), "-u", str(probe_uid), "-g", str(probe_uid), "--", *cmd]
    # its own process group, so a probe that does not answer (a loaded machine) is killed
    # whole, bwrap and what it started together, and reaped here: nothing is orphaned
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={"PATH": ENV["PATH"]}, start_new_session=True)
    except OSError as e:
        return f"bubblewrap could not run: {e}"
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "bubblewrap did not answer within 60 s"
    if proc.returncode != 0:
        first = (stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return f"bubblewrap cannot make namespaces here: {first}"
    return None


def _system_binds() -> list[str]:
    """Read-only binds of the system folders, symlinks kept as symlinks (/lib -> usr/lib)."""
    args = []
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _hidden_inside_system() -> list[str]:
    """Folders of the grader's that a system bind would show: masked by empty tmpfs."""
    hidden = set(MASKED_SYSTEM)
    for p in (Path(pylab.__file__).resolve().parent, toolchain.csrc_dir(), toolchain.cache_dir()):
        hidden.add(str(p))
    roots = [s for s in SYSTEM if os.path.isdir(s) and not os.path.islink(s)]
    found = []
    for h in sorted(hidden):
        if os.path.isdir(h) and any(h == r or h.startswith(r + "/") for r in roots):
            found.append(h)
    return found


@dataclass
class Cgroups:
    """A cgroup per sandbox in each controller the machine offers (pids, memory; v1 or
    v2), when this process may create one (root). Empty where it may not."""

    dirs: list[Path] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, pids_max: int, memory_max: int, note=None, into: "Cgroups | None" = None) -> "Cgroups":
        """note(folder, made): told of each cgroup before it is made (made=True), and
        again if making it failed (made=False): a ledger another process can clean up
        from if this one is killed (pylab.grading.sandbox). into: the (empty) Cgroups to
        fill, which lists each folder before it is made, so that its owner's remove()
        finds every one, whenever a stop (KeyboardInterrupt) came; a stop while they
        are made removes those made so far."""
        cg = cls() if into is None else into
        if os.geteuid() != 0:
            return cg
        try:
            cls._make(cg, pids_max, memory_max, note or (lambda folder, made: None))
        except BaseException:
            cg.remove()
            raise
        return cg

    @staticmethod
    def _make(cg: "Cgroups", pids_max: int, memory_max: int, note) -> None:
        name = f"pylab-{uuid.uuid4().hex[:12]}"
        ours = _own_cgroups()  # nested under the grader's own: its limits hold too
        v2 = CGROUP_V1 / "cgroup.controllers"
        if v2.exists():  # unified hierarchy: one folder, both controllers
            want = {"pids": ("pids.max", pids_max), "memory": ("memory.max", memory_max)}
            here = CGROUP_V1 / ours.get("", "/").lstrip("/")
            offered = (here / "cgroup.subtree_control").read_text().split() if here.is_dir() else []
            plan = [(here / name, [want[c] for c in want if c in offered], [c for c in want if c in offered])]
        else:
            plan = [(CGROUP_V1 / c / ours.get(c, "/").lstrip("/") / name, [(f, v)], [c])
                    for c, f, v in (("pids", "pids.max", pids_max), ("memory", "memory.limit_in_bytes", memory_max))]
        for folder, settings, controllers in plan:
            if not settings:
                continue
            note(folder, True)
            cg.dirs.append(folder)  # (listed first: a stop right after mkdir still removes it)
            try:
                folder.mkdir()
            except OSError:
                cg.dirs.remove(folder)
                note(folder, False)
                continue
            try:
                for file, value in settings:
                    (folder / file).write_text(str(value))
            except OSError:
                cg.dirs.remove(folder)
                _remove(folder)
                continue
            cg.offered += controllers

    @classmethod
    def left_by(cls, folders) -> "Cgroups":
        """The cgroups among `folders` that are still there and are a sandbox's: a folder
        named pylab-* in this machine's cgroup tree, never a link. What a ledger names
        (pylab.grading.sandbox.sweep) is trusted only that far."""
        cg = cls()
        root = str(CGROUP_V1) + "/"
        for folder in folders:
            path = Path(folder)
            if (path.is_absolute() and str(path).startswith(root) and ".." not in path.parts
                    and path.name.startswith("pylab-") and path.is_dir() and not path.is_symlink()):
                cg.dirs.append(path)
        return cg

    def join_args(self) -> list[str]:
        return [a for d in self.dirs for a in ("-C", str(d / "cgroup.procs"))]

    def pids(self) -> list[int]:
        found = set()
        for d in self.dirs:
            try:
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return sorted(found)

    def remove(self) -> list[int]:
        """Kill what is still in the cgroups, then remove them; returns what was killed."""
        killed = []
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, 9)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
            _wait_empty(self, 0.2)
        for d in self.dirs:
            _remove(d)
        self.dirs = []
        return sorted(set(killed))


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per controller (v1), "" for the unified hierarchy (v2)."""
    found = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                found[c] = path
    except (OSError, ValueError):
        pass
    return found


def _wait_empty(cg: Cgroups, timeout: float) -> None:
    try:
        procstate.call_until(cg.pids, lambda p: not p, timeout=timeout, what="an empty cgroup")
    except TimeoutError:
        pass


def _remove(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


class Jail:
    """How to start one supervised command inside the sandbox of one submission.

    root: the scratch folder (the only writable place, /box inside); tools: a folder
    the sandbox cannot write holding the copies of jail and supervise; uid: the pool
    uid to drop to first (root only)."""

    def __init__(self, root: Path, tools: Path, uid: int | None, cgroups: Cgroups,
                 tmp_size: int = 16 << 20, namespaces: bool = True):
        self.root, self.tools, self.uid, self.cgroups = Path(root), Path(tools), uid, cgroups
        self.namespaces = namespaces
        self.tmp_size = tmp_size
        self.stamps = {}
        for name in ("jail", "supervise"):
            target = self.tools / name
            shutil.copyfile(toolchain.tool(name), target)
            if _digest(target) != _digest(toolchain.tool(name)):
                raise JailError(f"the copy of {name} differs from the one built")
            # execute-only: a process running an unreadable file is not dumpable, so the
            # program (same uid inside) cannot ptrace its supervisor
            os.chmod(target, 0o111)
            self.stamps[name] = _stamp(target)
        self._hidden = _hidden_inside_system()

    def check_tools(self) -> None:
        """Before each exec: the copies are still ours, unchanged (a sandbox must not
        have swapped the program the grader runs)."""
        for name, stamp in self.stamps.items():
            if _stamp(self.tools / name) != stamp:
                raise JailError(f"the sandbox's copy of {name} changed: refusing to run it")

    def command(self, supervisor_cmd: list[str], limits: dict, tmp_size: int | None = None,
                env: dict | None = None, trace_log: Path | None = None, root: Path | None = None) -> list[str]:
        """The command line that runs supervisor_cmd (the runner's, whose first word is
        the supervisor's host path) as pid 1 of a new sandbox, under hard `limits`;
        with trace_log, all of it under strace -f, outside (pylab.grading.evidence).
        root: the folder shown at /box instead of the scratch folder (a compile's own)."""
        cmd = self._command(supervisor_cmd, limits, tmp_size, env, reaper=trace_log is None, root=root)
        if trace_log is None:
            return cmd
        # the tracer under a file-size cap (its log cannot fill the disk), in the reaper
        # (cut off at the cap, strace takes its tracees along: the jail reaps them)
        return [str(self.tools / "jail"), "-S", "-r", f"fsize={evidence.LOG_CAP}", "--",
                *evidence.command(trace_log, cmd)]

    def _command(self, supervisor_cmd, limits, tmp_size, env, reaper=True, root=None) -> list[str]:
        self.check_tools()
        if not self.namespaces:  # the fallback: hard limits and the pool uid, no walls
            outer = [str(self.tools / "jail"), *self.cgroups.join_args()]
            if self.uid is not None:
                outer += ["-u", str(self.uid), "-g", str(self.uid)]
            for name, value in limits.items():
                outer += ["-r", f"{name}={int(value)}"]
            return [*outer, "--", str(self.tools / "supervise"), *supervisor_cmd[1:]]
        size = tmp_size or self.tmp_size
        # Outside: the jail joins the cgroups, drops to the pool uid and stays as the
        # subreaper of the run (-S): whatever outlives its parent out here (bwrap killed
        # while it sets up, say) is reaped by it, never left to the grader.
        outer = [str(self.tools / "jail"), *(["-S"] if reaper else []), *self.cgroups.join_args()]
        if self.uid is not None:
            outer += ["-u", str(self.uid), "-g", str(self.uid)]
        outer.append("--")
        args = [bwrap_path() or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
                "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL",
                "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--hostname", "sandbox", "--clearenv"]
        for k, v in {**ENV, **(env or {})}.items():
            args += ["--setenv", k, v]
        args += _system_binds()
        for h in self._hidden:
            args += ["--tmpfs", h, "--remount-ro", h]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(size), "--tmpfs", "/tmp", "--size", str(size), "--tmpfs", "/dev/shm",
                 "--bind", str(root or self.root), BOX,
                 "--ro-bind", str(self.tools), TOOLS,
                 "--chdir", f"{BOX}/work", "--"]
        inner = [f"{TOOLS}/jail"]
        for name, value in limits.items():
            inner += ["-r", f"{name}={int(value)}"]
        inner += ["--", f"{TOOLS}/supervise", *_without_owner(supervisor_cmd[1:])]
        return outer + args + inner

    def wrap(self, limits: dict, tmp_size: int | None = None, env: dict | None = None,
             trace_log: Path | None = None, root: Path | None = None) -> "Wrap":
        """The runner's `wrap` for one run under these limits."""
        wrap = Wrap(lambda cmd: self.command(cmd, limits, tmp_size, env, trace_log, root))
        wrap.own_pid_namespace = self.namespaces
        return wrap

    @staticmethod
    def outer_pid(sandbox_init: int, inner: int) -> int | None:
        """The pid, seen from here, of the process that is `inner` in the sandbox whose
        outermost process (bwrap, the runner's supervisor pid) is sandbox_init: a
        descendant one pid namespace below ours (NSpid: one more entry than ours)."""
        level = len(procstate.ns_pids(os.getpid())) + 1
        for pid in procstate.descendants(sandbox_init):
            try:
                ns = procstate.ns_pids(pid)
            except procstate.NoSuchProcess:
                continue
            if len(ns) == level and ns[-1] == inner:
                return pid
        return None


def _without_owner(args: list[str]) -> list[str]:
    """The supervisor's arguments without "-o PID" (die with that pid): inside the
    sandbox the grader's pid does not exist, and --die-with-parent does that job."""
    out, i = [], 0
    end = args.index("--") if "--" in args else len(args)
    while i < len(args):
        if i < end and args[i] == "-o" and i + 1 < end:
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


class Wrap:
    """The runner's wrap: builds the command line, and signals the sandbox's pid 1 (the
    supervisor), seen from outside as bwrap's child. (Killing bwrap itself would orphan
    that pid 1 to the grader's subreaper for a moment.)"""

    def __init__(self, build):
        self._build = build

    def __call__(self, cmd):
        return self._build(cmd)

    @staticmethod
    def signal(spawned: int, sig: int) -> None:
        """Signal the sandbox's pid 1 (the supervisor) from outside: from an ancestor
        namespace every signal reaches it (SIGTERM: stop the run, SIGALRM: as at its
        timeout, SIGKILL: the kernel ends the whole namespace). Before the sandbox
        exists, or after, SIGKILL goes to what was spawned."""
        init = Jail.outer_pid(spawned, 1)
        if init is not None:
            os.kill(init, sig)
        elif sig == 9:  # no sandbox (yet, or any more): end what runs below the reaper jail,
            for pid in procstate.descendants(spawned):  # which then reaps it and exits
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass


def _stamp(path: Path) -> tuple:
    """What must not change about a tool's copy between its check and each exec: a
    regular file, the same inode, size, time, mode and owner (never through a link)."""
    st = os.lstat(path)
    if not os.path.isfile(path) or os.path.islink(path):
        raise JailError(f"{path} is no longer a regular file")
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid)


def _digest(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        h = hashlib.sha256()
        while chunk := os.read(fd, 1 << 16):
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)
