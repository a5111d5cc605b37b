"""UDP and AF_UNIX, observed: either UDP side may start first, datagram boundaries are
kept (TCP's are not), a connected UDP socket hears ECONNREFUSED and an unconnected one
only with IP_RECVERR (its error queue shows the ICMP answer); no data passes through a
unix socket's file (its size stays 0), which outlives close() unless unlinked; the
abstract namespace leaves no file."""
from __future__ import annotations

import errno
import os
import select
import socket
import stat
import struct
import tempfile
import threading

from pylab.observe import procstate
from pylab.sockets import LOCALHOST, outcome, queued


def _closed_udp_port() -> int:
    """A UDP port nobody holds right now (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _bind_udp(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCALHOST, port))
    return s


def udp_order(messages=(b"a", b"bb", b"ccc"), tries: int = 5) -> dict:
    """The experiment below; again from the start (a new port) when another program took
    the free port between the look and the server's bind (EADDRINUSE), at most `tries` times."""
    for attempt in range(tries):
        try:
            return _udp_order(messages)
        except OSError as e:
            if e.errno != errno.EADDRINUSE or attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _udp_order(messages) -> dict:
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
            ev["server bound first, then a client sends b'late'"] = f"server received {server.recvfrom(1024)[0]!r}"
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
                procstate.call_until(lambda: queued(conn), lambda n: n == total, 5, "all bytes queued")
                ev["tcp: the same three sends, one recv(1024)"] = conn.recv(1024).decode()
    return ev


IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
SO_EE_ORIGIN_ICMP = 2


def _wait_pollerr(sock: socket.socket) -> bool:
    """Wait (bounded) until an error is pending on sock: POLLERR."""
    p = select.poll()
    p.register(sock, 0)  # POLLERR is always reported
    return bool(p.poll(5000))


def _error_queue(sock: socket.socket) -> str:
    """The next entry of sock's error queue (IP_RECVERR), decoded, or why there is none."""
    try:
        data, anc, _, _ = sock.recvmsg(64, 512, socket.MSG_ERRQUEUE)
    except BlockingIOError:
        return "empty"
    for level, kind, raw in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR:
            err, origin, icmp_type, code = struct.unpack("IBBB", raw[:7])
            what = "ICMP" if origin == SO_EE_ORIGIN_ICMP else f"origin {origin}"
            return (f"{what} type {icmp_type} code {code} ({errno.errorcode.get(err, err)}) "
                    f"for the datagram {data!r}")
    return f"an entry without IP_RECVERR data: {data!r}"


def udp_connected_refused() -> dict:
    """A connected UDP socket sends to a closed port: the ICMP port-unreachable comes
    back as ECONNREFUSED on its next call. An unconnected socket sends there too: its
    recvfrom has nothing to say; with IP_RECVERR on, the same socket's next datagram
    shows that the ICMP answer does arrive, and what the socket then does with it."""
    ev = {}
    port = _closed_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.connect((LOCALHOST, port))
        s.send(b"anyone?")
        ev["connected: first send"] = "no error"
        ev["connected: next call (recv)"] = outcome(lambda: s.recv(1024), "returned data")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.setblocking(False)
        u.sendto(b"first", (LOCALHOST, port))
        # the witness: the same socket asks for errors, sends again the same way, and
        # waits for the answer to that later datagram
        u.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        ev["unconnected: error queue after b'first' (IP_RECVERR off when it was sent)"] = _error_queue(u)
        u.sendto(b"second", (LOCALHOST, port))
        arrived = _wait_pollerr(u)
        ev["unconnected: after b'second' (IP_RECVERR on), an error pending (POLLERR)"] = arrived
        ev["unconnected: then recvfrom"] = outcome(lambda: u.recvfrom(1024), "returned data")
        ev["unconnected: then its error queue"] = _error_queue(u)
        ev["unconnected: and the error queue again"] = _error_queue(u)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        plain.setblocking(False)
        plain.sendto(b"plain", (LOCALHOST, port))
        # a witness socket with IP_RECVERR sends after it; once the witness's answer is in,
        # so is plain's (sent earlier, the same way)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as w:
            w.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            w.sendto(b"witness", (LOCALHOST, port))
            ev["a witness socket (IP_RECVERR, sent after b'plain'): error queue"] = (
                _error_queue(w) if _wait_pollerr(w) else "nothing within 5 s")
        ev["unconnected, IP_RECVERR never on, sent b'plain': recvfrom"] = outcome(
            lambda: plain.recvfrom(1024), "returned data")
        ev["unconnected, IP_RECVERR never on: SO_ERROR"] = plain.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return ev


def _proc_net_unix(name: str) -> bool:
    with open("/proc/net/unix") as f:
        return any(line.split()[-1] == name for line in f if len(line.split()) >= 8)


def _file(path: str) -> dict:
    st = os.stat(path)
    return {"type": "socket" if stat.S_ISSOCK(st.st_mode) else stat.filemode(st.st_mode),
            "st_size": st.st_size, "st_blocks": st.st_blocks}


def _transfer(s: socket.socket, path: str, size: int) -> int:
    """A client sends size bytes through the socket named by path; returns what arrived."""
    got = []

    def receive(conn):
        n = 0
        while piece := conn.recv(65536):
            n += len(piece)
        got.append(n)

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(10)
        c.connect(path)
        conn, _ = s.accept()
        with conn:
            conn.settimeout(10)
            t = threading.Thread(target=receive, args=(conn,))
            t.start()
            c.sendall(b"u" * size)
            c.shutdown(socket.SHUT_WR)
            t.join(10)
    return got[0]


def unix_socket_file(size: int = 1 << 20) -> dict:
    ev = {}
    with tempfile.TemporaryDirectory(prefix="pylab-unix-") as d:
        path = os.path.join(d, "echo.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen()
        ev["after bind: the file"] = stat.filemode(os.stat(path).st_mode)
        ev["the file before a transfer"] = _file(path)
        ev["bytes sent through the socket"] = size
        ev["bytes received"] = _transfer(s, path, size)
        ev["the file after the transfer"] = _file(path)
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
    # (polled: a copy of the socket in a child another thread forked lasts until it execs)
    ev["abstract: in /proc/net/unix after close"] = _still_listed("@" + name)
    ev["abstract: bind the name again after close"] = _bind_again(name)
    return ev


def _still_listed(name: str, timeout: float = 2.0) -> bool:
    """Whether /proc/net/unix still lists the name `timeout` seconds after its close."""
    try:
        procstate.call_until(lambda: not _proc_net_unix(name), timeout=timeout, what="the name gone")
        return False
    except TimeoutError:
        return True


def _bind_again(name: str, timeout: float = 2.0) -> str:
    """Bind the abstract name once more. A process forked by another thread at the moment
    the name was open holds a copy of the socket until it execs, so the name may stay
    taken a moment after close: polled with a deadline, and said how it went."""
    def attempt():
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as a2:
                a2.bind("\0" + name)
            return "ok"
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            return None
    try:
        return procstate.call_until(attempt, timeout=timeout, what="the abstract name free again")
    except TimeoutError:
        return f"EADDRINUSE for {timeout:g} s after close (a copy of the socket was still open elsewhere)"
