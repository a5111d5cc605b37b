"""A real third-party client: socat (Debian package `socat`) talks to the lab's servers.

`socat -t 5 - TCP:HOST:PORT` copies its stdin to the connection and the replies to its
stdout; at the end of its stdin it shuts down its sending side and waits (at most 5 s)
for the server to close: the lab's servers close on that EOF, so socat ends at once.
"""
from __future__ import annotations

import shutil

from pylab.run import runner


class SocatMissing(RuntimeError):
    pass


def socat_path() -> str:
    path = shutil.which("socat")
    if path is None:
        raise SocatMissing("socat is not installed (Debian: apt-get install socat)")
    return path


def address_spec(address) -> str:
    if isinstance(address, tuple):
        return f"TCP:{address[0]}:{address[1]}"
    if address.startswith("\0"):
        return f"ABSTRACT-CONNECT:{address[1:]}"
    return f"UNIX-CONNECT:{address}"


def exchange(address, data: bytes, timeout: float = 10.0) -> runner.RunResult:
    """Send `data` through socat to a stream server; the result's stdout is the reply."""
    return runner.run([socat_path(), "-t", "5", "-", address_spec(address)], stdin=data, timeout=timeout)
