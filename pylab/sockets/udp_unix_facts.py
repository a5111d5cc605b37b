"""UDP and AF_UNIX, observed: either UDP side may start first, datagram boundaries are
kept (TCP's are not), a connected UDP socket hears ECONNREFUSED; a unix socket file
outlives close() unless unlinked, the abstract namespace leaves no file."""
from __future__ import annotations

import fcntl
import os
import socket
import stat
import struct
import tempfile
import termios

from pylab import procstate
from pylab.sockets import LOCALHOST, outcome


def _closed_udp_port() -> int:
    """A UDP port nobody holds right now (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _bind_udp(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCALHOST, port))
    return s


def _queued(sock: socket.socket) -> int:
    """Bytes waiting to be read (FIONREAD; for UDP: the size of the next datagram)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def udp_order(messages=(b"a", b"bb", b"ccc")) -> dict:
    ev = {}
    # the client first: send to a port where no server is yet; no error
    port = _closed_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(5)
        ev["client sends before the server exists"] = outcome(
            lambda: client.sendto(b"early", (LOCALHOST, port)), "no error")
        with _bind_udp(port) as server:  # the server starts second
            server.settimeout(5)
            for m in messages:
                client.sendto(m, (LOCALHOST, port))
            got = []
            for _ in messages:
                data, peer = server.recvfrom(1024)  # one datagram per call, whatever the size asked
                got.append(data.decode())
            ev["datagrams sent"] = [m.decode() for m in messages]
            ev["recvfrom(1024) calls returned"] = got
            ev["the early datagram"] = "received" if "early" in got else "lost (no one was bound)"
            # a server started first: waits in recvfrom without error until a client sends
            client.sendto(b"late", (LOCALHOST, port))
            ev["server started first, then a client"] = server.recvfrom(1024)[0].decode()
    # TCP for contrast: three sends, all arrived, one recv
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen()
        with socket.create_connection(ls.getsockname(), timeout=5) as c:
            conn, _ = ls.accept()
            with conn:
                for m in messages:
                    c.sendall(m)
                total = sum(map(len, messages))
                procstate.call_until(lambda: _queued(conn), lambda n: n == total, 5, "all bytes queued")
                ev["tcp: the same three sends, one recv(1024)"] = conn.recv(1024).decode()
    return ev


def udp_connected_refused() -> dict:
    """connect() a UDP socket to a closed port: the ICMP port-unreachable comes back
    as ECONNREFUSED on the next call; an unconnected socket is not told."""
    ev = {}
    port = _closed_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        u.sendto(b"anyone?", (LOCALHOST, port))  # unconnected: sent first
        s.settimeout(5)
        s.connect((LOCALHOST, port))
        s.send(b"anyone?")
        ev["first send on the connected socket"] = "no error"
        ev["next call (recv)"] = outcome(lambda: s.recv(1024), "returned data")  # or TimeoutError
        # the ICMP answer to u's earlier datagram has come back too by now (in order)
        u.setblocking(False)
        ev["unconnected socket, sent to the same port, next recvfrom"] = outcome(
            lambda: u.recvfrom(1024), "returned data")
    return ev


def _proc_net_unix(name: str) -> bool:
    with open("/proc/net/unix") as f:
        return any(line.split()[-1] == name for line in f if len(line.split()) >= 8)


def unix_socket_file() -> dict:
    ev = {}
    with tempfile.TemporaryDirectory(prefix="pylab-unix-") as d:
        path = os.path.join(d, "echo.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen()
        ev["after bind: the file"] = stat.filemode(os.stat(path).st_mode)
        s.close()
        ev["after close: the file exists"] = os.path.exists(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s2:
            ev["bind again"] = outcome(lambda: s2.bind(path))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            ev["connect to the stale file"] = outcome(lambda: c.connect(path), "connected")
        os.unlink(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s3:
            s3.bind(path)
            ev["after unlink, bind"] = "ok"
        os.unlink(path)
        ev["files left in the directory"] = os.listdir(d)
    name = f"pylab-abstract-{os.getpid()}-{id(ev)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as a:
        a.bind("\0" + name)
        a.listen()
        ev["abstract: in /proc/net/unix while open"] = _proc_net_unix("@" + name)
        ev["abstract: files by that name (cwd, temp dir)"] = [
            p for d in (os.getcwd(), tempfile.gettempdir()) for p in os.listdir(d) if name in p]
    ev["abstract: in /proc/net/unix after close"] = _proc_net_unix("@" + name)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as a2:
        a2.bind("\0" + name)
        ev["abstract: bind the name again after close"] = "ok"
    return ev
