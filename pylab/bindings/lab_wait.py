"""The end of a process, from Python: wait statuses, collecting children, waitid.

In-process counterparts of the C lessons wait_status, reap_all and waitid_peek
(csrc/programs/), over csrc/lib/lab_wait.c. Functions that fork return only in the
parent; the children end in C (_exit or a signal) and never run Python code. Every
child made here must be reaped by the caller; the functions that reap say which.

    statuses = side_by_side()      # one row per way to end: C macros, os, subprocess
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pylab.bindings import native

from pylab.run import toolchain
from pylab.bindings._native import ffi, lib
from pylab.bindings.native import check  # the one errno -> OSError helper

P_PID, P_ALL = lib.LAB_P_PID, lib.LAB_P_ALL
WEXITED, WSTOPPED, WNOWAIT = lib.LAB_WEXITED, lib.LAB_WSTOPPED, lib.LAB_WNOWAIT
CLD_NAMES = {lib.LAB_CLD_EXITED: "CLD_EXITED", lib.LAB_CLD_KILLED: "CLD_KILLED",
             lib.LAB_CLD_DUMPED: "CLD_DUMPED", lib.LAB_CLD_STOPPED: "CLD_STOPPED",
             lib.LAB_CLD_CONTINUED: "CLD_CONTINUED"}
# The ways a child ends in the wait_status lesson, by the name its CASE argument takes.
ENDINGS = ("return7", "exit3", "exit256", "exit-1", "SIGTERM", "SIGSEGV")


@dataclass(frozen=True)
class WaitInfo:
    """What waitid(2) filled in: si_pid (0: nothing yet, WNOHANG), si_code, si_status."""

    pid: int
    uid: int
    code: str
    status: int


def waitid(idtype: int, id: int, options: int) -> WaitInfo:
    """waitid(2) in C. With WNOWAIT the child is only looked at: a zombie stays a zombie."""
    out = ffi.new("lab_waitinfo *")
    check(lib.lab_waitid(idtype, id, options, out))
    return WaitInfo(out.pid, out.uid, CLD_NAMES.get(out.code, str(out.code)), out.status)


def fork_exits(codes: list[int]) -> list[int]:
    """Fork one child per code; child i _exit(codes[i]) at once. Their pids, in creation
    order; the caller reaps them (reap, reap_all)."""
    codes_c = ffi.new("int[]", list(codes))
    pids = ffi.new("int[]", max(len(codes), 1))
    check(lib.lab_fork_exits(len(codes), codes_c, pids))
    return list(pids[0:len(codes)])


def fork_ending(how: str, arg: int = 0, cwd: str | os.PathLike | None = None) -> int:
    """Fork a child that ends one way: how="exit" (_exit(arg)), "signal" (dies by signal
    arg; a core may be written in cwd), "block" (waits to be stopped, continued, killed)."""
    hows = {"exit": 0, "signal": 1, "block": 2}
    if how not in hows:
        raise ValueError(f"how must be one of {sorted(hows)}, not {how!r}")
    return check(lib.lab_fork_ending(hows[how], arg, ffi.NULL if cwd is None else str(cwd).encode()))


def reap(pids: list[int]) -> list[tuple[int, int]]:
    """waitpid(pid) for each pid in the order given: (pid, raw status) in that order,
    whichever child ended first."""
    return [os.waitpid(pid, 0) for pid in pids]


def reap_all() -> list[tuple[int, int]]:
    """wait() until ECHILD: (pid, raw status) in the order the kernel hands them over.
    It reaps EVERY child of this process: call it only where all children are yours."""
    got = []
    while True:
        try:
            got.append(os.wait())
        except ChildProcessError:  # ECHILD: nothing left to collect
            return got


def macros(raw: int) -> str:
    """A raw status as C's W* macros read it, in the words wait_status.c prints."""
    c = native.decode_status(raw)
    if c.exited:
        return f"WIFEXITED WEXITSTATUS={c.exit_code}"
    if c.signaled:
        return f"WIFSIGNALED WTERMSIG={c.signal} WCOREDUMP={int(c.core_dumped)}"
    if c.stopped:
        return f"WIFSTOPPED WSTOPSIG={c.stop_signal}"
    return "WIFCONTINUED" if c.continued else f"raw={raw:#x}"


def _row(case: str, raw: int, returncode: int | None) -> dict:
    try:
        exitcode: int | str = os.waitstatus_to_exitcode(raw)
    except ValueError as e:  # a stopped or continued status is not an ending
        exitcode = f"ValueError: {e}"
    return {"case": case, "raw": raw, "c": macros(raw), "core_dumped": native.decode_status(raw).core_dumped,
            "waitstatus_to_exitcode": exitcode, "subprocess_returncode": returncode}


def _allow_core() -> None:
    """In the child, before exec: the soft RLIMIT_CORE up to the hard one, as wait_status
    does itself only in its scratch directory (its CASE runs leave the choice to the caller)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)


def side_by_side() -> list[dict]:
    """Each ending of the wait_status lesson, observed three ways at once: the raw status
    from os.waitpid, read by C's W* macros and by os.waitstatus_to_exitcode, and the
    returncode subprocess gives (negative: killed by that signal). Then a stopped and a
    continued status, which only waitpid with WUNTRACED / WCONTINUED reports."""
    binary = toolchain.find("wait_status").build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pylab-wait-") as scratch:  # cores land here
        for case in ENDINGS:
            returncode = subprocess.run([binary, case], cwd=scratch, stderr=subprocess.DEVNULL,
                                        preexec_fn=_allow_core).returncode
            proc = subprocess.Popen([binary, case], cwd=scratch, stderr=subprocess.DEVNULL, preexec_fn=_allow_core)
            _, raw = os.waitpid(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(raw)  # reaped here: tell Popen
            rows.append(_row(case, raw, returncode))
        for core in Path(scratch).glob("core*"):
            core.unlink()
    pid = fork_ending("block")
    try:
        os.kill(pid, signal.SIGSTOP)
        rows.append(_row("SIGSTOP", os.waitpid(pid, os.WUNTRACED)[1], None))
        os.kill(pid, signal.SIGCONT)
        rows.append(_row("SIGCONT", os.waitpid(pid, os.WCONTINUED)[1], None))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return rows


def core_obstacle() -> str | None:
    """Why a crash here would leave no core bit, or None when nothing in sight stops it."""
    import resource

    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        return "RLIMIT_CORE's hard limit is 0 and cannot be raised"
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|"):
        return f"core_pattern pipes cores to a handler ({pattern}), which decides"
    return None
