"""The end of a process, from Python: wait statuses, collecting children, waitid.

In-process counterparts of the C lessons wait_status, reap_all and waitid_peek
(csrc/programs/), over csrc/lib/lab_wait.c. Functions that fork return only in the
parent; the children end in C (_exit or a signal) and never run Python code. Every
child made here must be reaped by the caller; the functions that reap say which.
The wait_status lesson's endings read three ways side by side: pylab.compare.statuses.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from pylab.bindings import native
from pylab.bindings.native import check, ffi, lib  # check: the one errno -> OSError helper

P_PID, P_ALL = lib.LAB_P_PID, lib.LAB_P_ALL
WEXITED, WSTOPPED, WNOWAIT = lib.LAB_WEXITED, lib.LAB_WSTOPPED, lib.LAB_WNOWAIT
CLD_NAMES = {lib.LAB_CLD_EXITED: "CLD_EXITED", lib.LAB_CLD_KILLED: "CLD_KILLED",
             lib.LAB_CLD_DUMPED: "CLD_DUMPED", lib.LAB_CLD_STOPPED: "CLD_STOPPED",
             lib.LAB_CLD_CONTINUED: "CLD_CONTINUED"}


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
