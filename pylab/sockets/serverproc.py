"""A server under test as a supervised process: start it, read the address it printed,
look at it from /proc (open descriptors, children, states), stop it, nothing left.

Every lab server prints one line `listening on KIND ADDRESS` (the C forking server:
`port N`) and stops when a line or end-of-file arrives on its stdin, so a driver
never sleeps: it reads the address, talks, and closes stdin.
"""
from __future__ import annotations

import os
import re
import sys

from pylab.observe import procstate

from pylab.run import runner

LISTENING = rb"listening on (tcp|udp|unix) (\S+)(?: (\d+))?\n"


def lab_command(*args: str) -> list[str]:
    """argv for `pylab sockets ARGS` run by this Python (the same installed lab)."""
    return [sys.executable, "-P", "-m", "pylab", "sockets", *args]  # -P: never a source tree's pylab


def server_env() -> dict:
    # stdout is a pipe: make Python write each line at once whatever the caller's env
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}


class ServerProcess:
    """A running server. Use as a context manager: on exit it is stopped (stdin closed)
    and, if it does not end within `stop_timeout`, killed with everything it started."""

    def __init__(self, argv, ready: bytes = LISTENING, timeout: float = 60.0, env=None,
                 start_timeout: float = 10.0):
        self.proc = runner.start(argv, mode="pipe", timeout=timeout, env=env or server_env())
        self.result: runner.RunResult | None = None
        try:
            m = self.proc.expect(ready, timeout=start_timeout)
        except TimeoutError:
            self.proc.kill()
            res = self.proc.wait(10)
            raise RuntimeError(f"server did not start: {res.describe()}; stderr: {res.stderr_text[-500:]}") from None
        except BaseException:  # Ctrl-C, SIGTERM (pylab.cli.main) while it starts: stop it and collect it
            self.proc.__exit__(None, None, None)
            raise
        self.match = m
        self.pid = self.proc.pid

    @property
    def address(self):
        """(host, port) for tcp/udp, the path (or '\\0name') for unix."""
        kind, where, port = (g.decode() if g else None for g in self.match.groups())
        if kind == "unix":
            return "\0" + where[1:] if where.startswith("@") else where
        return (where, int(port))

    def output(self) -> str:
        return self.proc.output().decode(errors="replace")

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.output(), re.M))

    def wait_for_count(self, pattern: str, n: int, timeout: float = 5.0) -> int:
        return procstate.call_until(lambda: self.count(pattern), lambda c: c >= n, timeout,
                                    f"{n} lines matching {pattern!r} from the server")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def threads(self) -> int:
        return procstate.read_stat(self.pid).num_threads

    def children(self) -> dict[int, str]:
        """The server's children and their state letters (Z: a zombie)."""
        out = {}
        for pid in procstate.children(self.pid):
            try:
                out[pid] = procstate.state_proc(pid)
            except procstate.NoSuchProcess:
                pass
        return out

    def zombies(self) -> list[int]:
        return sorted(p for p, s in self.children().items() if s == "Z")

    def stop(self, timeout: float = 10.0) -> runner.RunResult:
        """Close its stdin (the lab servers' stop signal) and wait for its end."""
        if self.result is None:
            self.proc.close_stdin()
            try:
                self.result = self.proc.wait(timeout)
            except TimeoutError:
                self.proc.kill()
                self.result = self.proc.wait(timeout)
        return self.result

    def kill(self) -> runner.RunResult:
        if self.result is None:
            self.proc.kill()
            self.result = self.proc.wait(10)
        return self.result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
