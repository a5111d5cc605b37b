"""Thin, typed wrappers over pylab.bindings._native (the C library in csrc/lib/).

Every failing call raises OSError(errno, strerror), read from ffi.errno right after
the call. Functions that fork return only in the parent; the child never runs Python.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from pylab.core.status import describe_status

try:
    from pylab.bindings._native import ffi, lib
except ImportError as e:  # the usual cause: importing the source tree, not the install
    raise ImportError(
        f"pylab's C extension is not built here ({e}). If you are in pylab's source folder, "
        "Python is importing the unbuilt source: run from another folder, use 'python -P', "
        "or install with 'pip install -e .'"
    ) from e

WNOHANG = lib.LAB_WNOHANG
WUNTRACED = lib.LAB_WUNTRACED
WCONTINUED = lib.LAB_WCONTINUED
BUFFERING = {"none": 0, "line": 1, "full": 2}
_BUFFERING_NAMES = {v: k for k, v in BUFFERING.items()}


def check(result: int) -> int:
    """Raise OSError from errno when a lab_ call reports failure (-1): the one errno ->
    OSError helper for every wrapper over pylab.bindings._native."""
    if result == -1:
        err = ffi.errno
        raise OSError(err, os.strerror(err))
    return result


@dataclass(frozen=True)
class WaitStatus:
    """A wait status as the W* macros decode it."""

    pid: int
    raw: int
    exited: bool
    exit_code: int | None
    signaled: bool
    signal: int | None
    core_dumped: bool
    stopped: bool
    stop_signal: int | None
    continued: bool

    @classmethod
    def _from_c(cls, st) -> "WaitStatus":
        return cls(
            pid=st.pid,
            raw=st.raw,
            exited=bool(st.exited),
            exit_code=st.exit_code if st.exited else None,
            signaled=bool(st.signaled),
            signal=st.signal if st.signaled else None,
            core_dumped=bool(st.core_dumped),
            stopped=bool(st.stopped),
            stop_signal=st.stop_signal if st.stopped else None,
            continued=bool(st.continued),
        )

    def describe(self) -> str:
        return describe_status(self.raw)


def getpid() -> int:
    return lib.lab_getpid()


def getppid() -> int:
    return lib.lab_getppid()


def exit(code: int) -> None:  # noqa: A001 - the C name is the point
    """C exit(): runs C atexit handlers and flushes C stdio, then ends the process
    without running Python's own shutdown (Python buffers and atexit are skipped)."""
    lib.lab_exit(code)


def _exit(code: int) -> None:
    """C _exit(): ends the process at once; nothing is flushed, no handler runs."""
    lib.lab__exit(code)


def decode_status(raw: int) -> WaitStatus:
    st = ffi.new("lab_status *")
    lib.lab_decode_status(raw, st)
    return WaitStatus._from_c(st)


def waitpid(pid: int, options: int = 0) -> WaitStatus | None:
    """waitpid(2) with the status decoded; None when WNOHANG finds nothing yet."""
    st = ffi.new("lab_status *")
    got = check(lib.lab_waitpid(pid, options, st))
    return None if got == 0 else WaitStatus._from_c(st)


def fork_child(message: str | None = None, how: str = "exit", code: int = 0) -> int:
    """fork(); the child printf()s `message` and leaves by C exit or _exit.

    Returns the child's pid; the caller must reap it (waitpid)."""
    modes = {"exit": 0, "_exit": 1}
    if how not in modes:
        raise ValueError(f"how must be one of {sorted(modes)}, not {how!r}")
    msg = ffi.NULL if message is None else message.encode()
    return check(lib.lab_fork_child(msg, modes[how], code))


def make_zombie(code: int = 0) -> int:
    """The pid of a child that has exited with `code` and is not yet reaped."""
    return check(lib.lab_make_zombie(code))


def print_(text: str) -> int:
    """printf("%s", text) into C's stdout buffer; returns the bytes printf counted."""
    return check(lib.lab_print(text.encode()))


def fflush() -> None:
    check(lib.lab_fflush())


def setvbuf(mode: str) -> None:
    """Set C stdout's buffering: "none", "line" or "full"."""
    if mode not in BUFFERING:
        raise ValueError(f"mode must be one of {sorted(BUFFERING)}, not {mode!r}")
    check(lib.lab_setvbuf(BUFFERING[mode]))


def stdout_buffering() -> str | None:
    """C stdout's current buffering ("none", "line", "full"), None if unknowable."""
    return _BUFFERING_NAMES.get(lib.lab_stdout_buffering())


def stdout_pending() -> int | None:
    """Bytes waiting in C stdout's buffer, None if unknowable."""
    n = lib.lab_stdout_pending()
    return None if n < 0 else n


def atexit_print(message: str) -> None:
    """Register a C atexit handler that printf()s `message` when C exit() runs."""
    check(lib.lab_atexit_print(message.encode()))


def set_subreaper(on: bool = True) -> None:
    check(lib.lab_set_subreaper(1 if on else 0))


def is_subreaper() -> bool:
    return bool(check(lib.lab_is_subreaper()))
