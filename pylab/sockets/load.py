"""Load and faults, bounded in count and time, against the lab's TCP echo server:
sequential clients, concurrent ones, clients that reset mid-message (SO_LINGER 0 then
close sends RST), a client that connects and says nothing (the server's idle timeout).
The server must keep serving, and its open descriptors (/proc/PID/fd) must come back
to where they started."""
from __future__ import annotations

import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from pylab.observe import procstate
from pylab.sockets.echo import recv_exactly, stream_exchange
from pylab.sockets.serverproc import ServerProcess, lab_command

CLOSED = r"^closed (eof|reset|timeout)$"


class Deadline(Exception):
    pass


def sequential(address, n: int, time_limit: float) -> int:
    """n clients one after another: connect, one exchange, close. Stops at the limit."""
    end = time.monotonic() + time_limit
    for i in range(n):
        if time.monotonic() > end:
            raise Deadline(f"only {i} of {n} sequential clients within {time_limit}s")
        with socket.create_connection(address, timeout=5) as s:
            msg = b"client %d" % i
            s.sendall(msg)
            if recv_exactly(s, len(msg)) != msg.upper():
                raise RuntimeError(f"client {i}: wrong reply")
    return n


def concurrent(address, n: int, srv: ServerProcess, baseline_fds: int) -> dict:
    """n connections open at once (the server holds n descriptors more), each served."""
    socks = [socket.create_connection(address, timeout=5) for _ in range(n)]
    try:
        peak = procstate.call_until(srv.open_fds, lambda k: k == baseline_fds + n, 5,
                                    f"{n} connections open in the server")
        for i, s in enumerate(socks):
            s.sendall(b"c%d" % i)
        ok = sum(recv_exactly(s, len(b"c%d" % i)) == b"C%d" % i for i, s in enumerate(socks))
    finally:
        for s in socks:
            s.close()
    return {"open at once": n, "server fds at the peak": peak, "right replies": ok}


def resets(address, n: int, size: int = 65536) -> int:
    """n clients send part of a big message and reset (RST) without reading a reply."""
    for _ in range(n):
        s = socket.create_connection(address, timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.setblocking(False)
        try:
            s.send(b"m" * size)  # as much as fits: the server is mid-message
        except BlockingIOError:
            pass
        s.close()  # linger on, 0 s: the kernel sends RST instead of FIN
    return n


def silent(address, idle_timeout: float) -> dict:
    """A client that connects and sends nothing; meanwhile another one is served."""
    with socket.create_connection(address, timeout=idle_timeout + 10) as s:
        other = None
        with socket.create_connection(address, timeout=5) as t:
            t.sendall(b"meanwhile")
            other = recv_exactly(t, 9).decode()
        start = time.monotonic()
        eof = s.recv(16)  # the server gives up on us: EOF
        return {"served meanwhile": other, "silent client got": repr(eof),
                "closed by the server after s": round(time.monotonic() - start, 2)}


def fds_back(srv: ServerProcess, base: int) -> int:
    """The server's open descriptors, once back to `base` (its threads close late)."""
    return procstate.call_until(srv.open_fds, lambda k: k == base, 10, f"server fds back to {base}")


def silent_phase(idle_timeout: float) -> tuple[dict, list[int]]:
    """The silent client against a server of its own with the short `idle_timeout`;
    returns its evidence and what that server left behind."""
    with ServerProcess(lab_command("serve", "tcp", "--idle-timeout", str(idle_timeout))) as quiet:
        ev = {"its own server's idle timeout s": idle_timeout, **silent(quiet.address, idle_timeout)}
        quiet.wait_for_count(r"^closed timeout$", 1, idle_timeout + 10)
        ev["its server logged"] = [ln for ln in quiet.output().splitlines() if ln.startswith("closed")]
        quiet_res = quiet.stop()
    ev["its server's exit"] = quiet_res.describe()
    return ev, quiet_res.stragglers


def run(n_seq: int = 1000, n_conc: int = 50, n_reset: int = 20, idle_timeout: float = 1.0,
        time_limit: float = 20.0, load_idle_timeout: float = 120.0) -> dict:
    """The load phase against a server whose idle timeout (`load_idle_timeout`) no client
    of a slow, shared machine can reach; meanwhile (two servers, nothing shared: its
    idle wait need not add to the load's time) the silent client against a second server
    of its own with the short `idle_timeout`, which it must reach."""
    ev = {}
    argv = lab_command("serve", "tcp", "--idle-timeout", str(load_idle_timeout))
    with ThreadPoolExecutor(max_workers=1) as aside:
        quiet = aside.submit(silent_phase, idle_timeout)
        with ServerProcess(argv, timeout=time_limit + 30) as srv:
            addr = srv.address
            base = ev["server fds at start"] = srv.open_fds()
            started = time.monotonic()
            ev["load server idle timeout s"] = load_idle_timeout
            ev["sequential clients served"] = sequential(addr, n_seq, time_limit)
            ev["server fds after the sequential clients"] = fds_back(srv, base)
            ev["concurrent"] = concurrent(addr, n_conc, srv, base)
            ev["resetting clients"] = resets(addr, n_reset)
            total = n_seq + n_conc + n_reset
            srv.wait_for_count(CLOSED, total, 10)
            ev["server still serves"] = stream_exchange(addr, [b"still there?"])[0].decode()
            srv.wait_for_count(CLOSED, total + 1, 10)
            ev["connection ends logged"] = {k: srv.count(rf"^closed {k}$") for k in ("eof", "reset", "timeout")}
            ev["server fds at the end"] = fds_back(srv, base)
            ev["seconds"] = round(time.monotonic() - started, 2)
            res = srv.stop()
        ev["server exit"] = res.describe()
        ev["silent client"], quiet_left = quiet.result()
    ev["left behind"] = res.stragglers + quiet_left
    return ev
