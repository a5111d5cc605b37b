"""What the grading sandbox costs a run, for `pylab bench`'s "sandbox" group.

Three ways of running tiny, round-robin so each sees the same load: supervised with no
sandbox, supervised inside the grading sandbox (bubblewrap), and the same traced from
outside (strace -f around the sandbox, as a check that watches forks is).

When the grader offers its own measurement (pylab.grading.sandbox.containment_costs:
its Sandbox, with the jail, the pool uid and the cgroups), that is what is reported.
Until then the bench makes the sandbox's walls itself: the same bubblewrap arguments
as pylab.grading's Jail (branch `sandbox`: namespaces, read-only system, hidden
package, private sized /tmp and /dev/shm, /box the only writable place, the supervisor
as pid 1), without the jail tool (hard limits, uid, cgroups), which is not here yet.
report["sandbox_source"] says which one measured.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pylab
from pylab.grading import sandbox
from pylab.run import toolchain, tracer

KEYS = {"bare": "sandbox_bare", "sandboxed": "sandboxed", "traced": "sandboxed_traced"}
GRADER = "pylab.grading.sandbox.containment_costs"
OWN = "the bench's bubblewrap run (the grading sandbox's bwrap arguments, no jail)"
# as pylab.grading.bwrap (branch sandbox) has them
SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
ETC = ("ld.so.cache", "alternatives")
MASKED = ("/usr/local",)
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": "/box/work", "TMPDIR": "/tmp",
       "USER": "student", "LOGNAME": "student"}
TMP_SIZE = 16 << 20
INSIDE_UID = 1000


def sample(binary: str | os.PathLike, runs: int) -> tuple[dict[str, list[float]], str, str | None]:
    """({figure key: seconds per run}, source, None), or ({}, source, why) when this
    machine cannot make the sandbox (no bubblewrap, no user namespaces, no free uid)."""
    grader = getattr(sandbox, "containment_costs", None)  # the grader's, once it has one
    if grader is not None:
        try:
            got = grader(binary, runs=runs)
        except sandbox.SandboxError as e:
            return {}, GRADER, str(e)
        return {KEYS[way]: seconds for way, seconds in got.items()}, GRADER, None
    return own_costs(binary, runs)


def bwrap_args(box: Path, tools: Path) -> list[str]:
    """bubblewrap's part of a sandboxed run: what the grading sandbox gives student code."""
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL",
            "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--hostname", "sandbox", "--clearenv"]
    for k, v in ENV.items():
        args += ["--setenv", k, v]
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for hidden in _hidden():
        args += ["--tmpfs", hidden, "--remount-ro", hidden]
    return args + ["--proc", "/proc", "--dev", "/dev",
                   "--size", str(TMP_SIZE), "--tmpfs", "/tmp", "--size", str(TMP_SIZE), "--tmpfs", "/dev/shm",
                   "--bind", str(box), "/box", "--ro-bind", str(tools), "/.pylab", "--chdir", "/box/work", "--"]


def _hidden() -> list[str]:
    """The grader's folders a system bind would show (a pip install into /usr): masked."""
    roots = [s for s in SYSTEM if os.path.isdir(s) and not os.path.islink(s)]
    mine = {*MASKED, str(Path(pylab.__file__).resolve().parent), str(toolchain.csrc_dir()), str(toolchain.cache_dir())}
    return sorted(h for h in mine if os.path.isdir(h) and any(h == r or h.startswith(r + "/") for r in roots))


def own_costs(binary: str | os.PathLike, runs: int) -> tuple[dict[str, list[float]], str, str | None]:
    """The three ways, with the supervisor exec'd directly (status fd and stdio to
    /dev/null) so the ratios are the sandbox's cost alone."""
    if shutil.which("bwrap") is None:
        return {}, OWN, "bubblewrap is not installed (apt-get install bubblewrap)"
    supervisor = str(toolchain.tool("supervise"))
    args = ["3", "10000", "-1", "0", "-1", "-1", "--"]  # status fd, timeout ms, linger, pipe, uid, gid
    top = Path(tempfile.mkdtemp(prefix="pylab-bench-box-"))
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        box, tools = top / "box", top / "tools"
        (box / "work").mkdir(parents=True)
        tools.mkdir()
        shutil.copy(binary, box / "prog")
        shutil.copy(supervisor, tools / "supervise")
        inside = [*bwrap_args(box, tools), "/.pylab/supervise", *args, "/box/prog"]
        probe = subprocess.run(inside, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        if probe.returncode != 0:
            why = (probe.stderr.decode(errors="replace").strip().splitlines() or [f"exit {probe.returncode}"])[-1]
            return {}, OWN, f"bubblewrap cannot make the sandbox here: {why}"
        log = top / "strace.log"
        ways = {"sandbox_bare": [supervisor, *args, str(binary)], "sandboxed": inside,
                "sandboxed_traced": tracer.command(log, inside, stdio=False)}
        quiet = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (1, 2, 3)]

        def once(cmd) -> float:
            t0 = time.perf_counter()
            pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=quiet)
            _, status = os.waitpid(pid, 0)
            took = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                raise OSError(f"{os.path.basename(cmd[0])} exited with status {os.waitstatus_to_exitcode(status)}")
            return took

        samples: dict[str, list[float]] = {k: [] for k in ways}
        for cmd in ways.values():  # warm: page cache full
            once(cmd)
        for _ in range(runs):
            for key, cmd in ways.items():
                samples[key].append(once(cmd))
        return samples, OWN, None
    finally:
        os.close(devnull)
        shutil.rmtree(top, ignore_errors=True)
