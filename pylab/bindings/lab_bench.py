"""Process-creation costs timed in C: thin typed wrappers over csrc/lib/lab_bench.c.

Each loop runs n rounds and returns each round's nanoseconds, timed in C around the
calls themselves (the cffi call and the interpreter are not in the figures). A program
a loop execs gets /dev/null as stdout and must exit 0. Failing calls raise
OSError(errno, strerror) (pylab.bindings.native's one helper). As everywhere in the
lab, a child leaves with _exit and never runs Python code.
"""
from __future__ import annotations

import os

from pylab.bindings.native import check, ffi, lib


def _loop(fn, n: int, *args) -> list[int]:
    ns = ffi.new("long long[]", max(n, 1))
    check(fn(n, *args, ns))
    return list(ns[0:n])


def _path(path: str | os.PathLike):
    return ffi.new("char[]", os.fsencode(path))


def fork_loop(n: int) -> list[int]:
    """fork, the child _exit(0)s, waitpid: ns per round."""
    return _loop(lib.lab_bench_fork, n)


def vfork_loop(n: int) -> list[int]:
    """vfork, the child _exit(0)s, waitpid: ns per round."""
    return _loop(lib.lab_bench_vfork, n)


def posix_spawn_loop(n: int, path: str | os.PathLike) -> list[int]:
    """posix_spawn(path), waitpid: ns per round."""
    return _loop(lib.lab_bench_posix_spawn, n, _path(path))


def fork_exec_loop(n: int, path: str | os.PathLike) -> list[int]:
    """fork, execv(path), waitpid: ns per round."""
    return _loop(lib.lab_bench_fork_exec, n, _path(path))


def forked_supervisor_loop(n: int, path: str | os.PathLike) -> list[int]:
    """A supervisor forked in C (session leader, subreaper) that vforks + execs path:
    ns per round, from the fork to the supervisor's reaping (docs/performance.md)."""
    return _loop(lib.lab_bench_forked_supervisor, n, _path(path))


def now_ns() -> int:
    """CLOCK_MONOTONIC in ns, read in C (time.monotonic_ns() reads the same clock)."""
    return lib.lab_bench_now()


def stamped_child(fd: int) -> int:
    """Fork a child that writes its now_ns() (8 bytes, native order) to fd and _exit(0)s
    at once; its pid (the caller reaps it)."""
    return check(lib.lab_bench_stamped_child(fd))


def zombie_seen_ns() -> int:
    """The floor for "how soon is an exit seen": ns from a stamped child's stamp to the
    read of /proc/PID/stat, polled in a tight loop in C, that shows it as Z (reaped)."""
    return check(lib.lab_bench_zombie_seen())
