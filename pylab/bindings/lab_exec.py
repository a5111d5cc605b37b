"""Exec, process groups and pidfds in-process: thin wrappers over csrc/lib/lab_exec.c.

The same calls the C programs exec_demo, spawn, pgroups and pidfd make, for Python to
make on itself. Failing calls raise OSError(errno, strerror) (pylab.bindings.native's one helper).
Functions that fork return only in the parent; the child never runs Python code.
"""
from __future__ import annotations

import os

from pylab.bindings.lab_wait import WEXITED, WNOWAIT, WSTOPPED  # noqa: F401 - the waitid options, one name each
from pylab.bindings.native import WaitStatus, check, ffi, lib


def _argv(argv) -> tuple:
    """A NULL-terminated char *[] for C, with the strings it points at kept alive."""
    if not argv:
        raise ValueError("argv must name a program")
    strings = [ffi.new("char[]", os.fsencode(a)) for a in argv]
    return ffi.new("char *[]", [*strings, ffi.NULL]), strings


def fork_exec(argv) -> tuple[int, int]:
    """fork + execvp with a close-on-exec pipe: (pid, exec_errno), exec_errno 0 when the
    exec happened. The child exists either way (it _exit(127)s when exec fails): reap it."""
    cargv, _keep = _argv(argv)
    err = ffi.new("int *")
    pid = check(lib.lab_fork_exec(cargv, err))
    return pid, err[0]


def spawn(argv) -> int:
    """posix_spawnp: the child's pid; a failed exec raises OSError (and leaves no child)."""
    cargv, _keep = _argv(argv)
    return check(lib.lab_spawn(cargv))


def fork_paused(pgid: int | None = None) -> int:
    """A child that waits until a signal ends it. pgid: None stays in our group, 0 leads
    a new group, else joins group pgid; set by both parent and child (no race)."""
    return check(lib.lab_fork_paused(-1 if pgid is None else pgid))


def getpgid(pid: int = 0) -> int:
    return check(lib.lab_getpgid(pid))


def setpgid(pid: int, pgid: int) -> None:
    check(lib.lab_setpgid(pid, pgid))


def getsid(pid: int = 0) -> int:
    return check(lib.lab_getsid(pid))


def pidfd_open(pid: int) -> int:
    """A pidfd for pid (close it with os.close)."""
    return check(lib.lab_pidfd_open(pid))


def pidfd_send_signal(pidfd: int, sig: int) -> None:
    check(lib.lab_pidfd_send_signal(pidfd, sig))


def pidfd_wait(pidfd: int, options: int = 0) -> WaitStatus | None:
    """waitid(P_PIDFD): the status decoded; None when WNOHANG finds nothing yet."""
    st = ffi.new("lab_status *")
    got = check(lib.lab_pidfd_wait(pidfd, options, st))
    return None if got == 0 else WaitStatus._from_c(st)
