"""What a socket is, observed: a byte stream with no framing, ports per protocol and
connections as 4-tuples, the families in use, the handshake done before accept, the
listen backlog, makefile, and how a sudden disconnect looks to recv. Each function
returns the evidence."""
from __future__ import annotations

import os
import shutil
import socket
import stat
import struct
import subprocess

from pylab.observe import procstate
from pylab.sockets import LOCALHOST, outcome, queued
from pylab.sockets.tcp_facts import proc_net_tcp


def shared_ports() -> dict:
    """The same port number held by a TCP and a UDP socket at once; two SO_REUSEPORT
    listeners on one port (both bound and listening); accepted connections on the
    listener's port."""
    ev = {}
    with socket.socket() as t:
        t.bind((LOCALHOST, 0))
        port = t.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            ev["TCP and UDP bind the same port"] = outcome(lambda: u.bind((LOCALHOST, port)))
    a, b = socket.socket(), socket.socket()
    with a, b:
        for s in (a, b):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        a.bind((LOCALHOST, 0))
        a.listen()
        ev["a second SO_REUSEPORT listener on that port"] = outcome(lambda: (b.bind(a.getsockname()), b.listen()))
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen()
        clients = [socket.create_connection(ls.getsockname(), timeout=5) for _ in range(2)]
        conns = [ls.accept()[0] for _ in clients]
        ev["accepted connections: (local, remote)"] = [f"{c.getsockname()[1]} <- {c.getpeername()[1]}" for c in conns]
        ev["listener port"] = ls.getsockname()[1]
        for s in (*clients, *conns):
            s.close()
    return ev


def families() -> dict:
    """Sockets on this machine by family, from /proc/net (this network namespace; TCP
    sockets in TIME_WAIT, left by the lab's own experiments, are not counted)."""
    counts = {}
    for name, path in (("AF_INET tcp", "tcp"), ("AF_INET udp", "udp"), ("AF_INET6 tcp", "tcp6"),
                       ("AF_INET6 udp", "udp6"), ("AF_UNIX", "unix"), ("AF_NETLINK", "netlink")):
        try:
            with open(f"/proc/net/{path}") as f:
                rows = [ln.split() for ln in f.readlines()[1:]]
            counts[name] = sum(1 for r in rows if not (path.startswith("tcp") and r[3] == "06"))
        except OSError:
            counts[name] = None
    return counts


def handshake_before_accept() -> dict:
    """connect() returns and both ends are ESTABLISHED before anyone calls accept()."""
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen()
        port = ls.getsockname()[1]
        with socket.create_connection((LOCALHOST, port), timeout=5) as c:
            ev = {"connect() returned": "connected", "client port": c.getsockname()[1]}
            rows = procstate.call_until(lambda: proc_net_tcp(port), lambda r: any(x["name"] == "ESTABLISHED" for x in r),
                                        5, "the server side established")
            ev["states on the server port before accept"] = sorted(r["name"] for r in rows)
            ev["the client sends before accept"] = outcome(lambda: c.sendall(b"early"), "sent")
            conn, _ = ls.accept()
            with conn:
                conn.settimeout(5)
                ev["accept() then returns the connection, and recv"] = conn.recv(16).decode()
    return ev


def read_somaxconn() -> int | None:
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return int(f.read())
    except OSError:
        return None


def backlog(n: int = 2, clients: int = 6) -> dict:
    """listen(n), nobody accepts, `clients` non-blocking connects: how many complete?"""
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen(n)
        port = ls.getsockname()[1]
        socks = []
        try:
            for _ in range(clients):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((LOCALHOST, port))
                socks.append(s)
            ports = {s.getsockname()[1] for s in socks}

            def client_states():
                return sorted(r["name"] for r in _rows_from(ports, port))
            states = procstate.call_until(client_states, lambda st: st.count("ESTABLISHED") >= n + 1, 5,
                                          "the accept queue to fill")
            accept_queue = [r["rx_queue"] for r in proc_net_tcp(port) if r["name"] == "LISTEN"]
        finally:
            for s in socks:
                s.close()
    return {"listen backlog": n, "clients connecting": clients, "client sides, states": states,
            "completed (ESTABLISHED)": states.count("ESTABLISHED"),
            "the listener's accept queue (rx_queue of its LISTEN row in /proc/net/tcp)": accept_queue[0] if accept_queue else None,
            "somaxconn": read_somaxconn(), "a listen() above somaxconn": _capped(read_somaxconn())}


def _capped(somaxconn: int | None) -> dict:
    """listen(somaxconn + 100), and the backlog the kernel kept (ss shows a listener's
    maximum as its Send-Q); None where ss or somaxconn is missing."""
    ss = shutil.which("ss")
    if ss is None or somaxconn is None:
        return {"asked": None, "kept (ss Send-Q)": None, "why": "ss is not installed" if ss is None else "no somaxconn"}
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen(somaxconn + 100)
        out = subprocess.run([ss, "-ltnH", f"sport = :{ls.getsockname()[1]}"], capture_output=True, text=True,
                             timeout=10).stdout.split()
    return {"asked": somaxconn + 100, "kept (ss Send-Q)": int(out[2]) if len(out) > 2 else None}


def _rows_from(ports: set[int], server_port: int) -> list[dict]:
    return [r for p in ports for r in proc_net_tcp(p, server_port)]


def _fds_on(sock: socket.socket) -> list[str]:
    """This process's descriptors that refer to the same open socket as `sock`."""
    target = os.readlink(f"/proc/self/fd/{sock.fileno()}")
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                found.append(fd)
        except OSError:  # closed meanwhile by another thread
            pass
    return found


def makefile_files() -> dict:
    """sock.makefile(): what object, on which descriptor, and how many new descriptors.
    Nothing here changes the working directory: it is the whole process's, and the
    tour's other threads run meanwhile."""
    a, b = socket.socketpair()
    with a, b:
        # count only descriptors on this socket: other threads of the tour open fds meanwhile
        fds_before = _fds_on(a)
        f = a.makefile("rwb")
        r = a.makefile("rb")
        f.write(b"line\n")
        f.flush()
        got = b.recv(16)
        st = os.fstat(r.fileno())
        ev = {"makefile('rwb') returned": type(f).__name__,
              "makefile('rb') returned": f"{type(r).__name__} over {type(r.raw).__name__}",
              "its descriptor": f"{r.fileno()}, the socket's own ({a.fileno()})" if r.fileno() == a.fileno()
              else f"{r.fileno()}, not the socket's ({a.fileno()})",
              "that descriptor is": "a socket (S_ISSOCK), not a file" if stat.S_ISSOCK(st.st_mode)
              else f"not a socket (mode {stat.filemode(st.st_mode)})",
              "its name": f"{r.name!r} (a descriptor number, no path)",
              "descriptors opened by makefile": len(_fds_on(a)) - len(fds_before),
              "bytes written through it, received by the peer": got.decode()}
        f.close()
        r.close()
    return ev


def _recv_after(conn: socket.socket) -> str:
    conn.settimeout(5)
    try:
        return repr(conn.recv(16))
    except OSError as e:
        return type(e).__name__


def _killed_client(unread: bool) -> str:
    """The seed's sudden disconnect: the client's process is killed (SIGKILL) while
    connected; `unread`: with data the server sent still unread in its receive buffer.
    The kernel closes a killed process's sockets itself; what does the server's recv see?"""
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen()
        c = socket.create_connection(ls.getsockname(), timeout=5)
        conn, _ = ls.accept()
        with conn:
            child = subprocess.Popen(["sleep", "60"], pass_fds=(c.fileno(),))  # the client process holds it
            try:
                if unread:
                    conn.sendall(b"unread")
                    procstate.call_until(lambda: queued(c), lambda n: n > 0, 5, "the data in the client's buffer")
                c.close()  # now only the child holds the client's socket
            finally:
                child.kill()
                child.wait(10)
            return _recv_after(conn)


def sudden_disconnect() -> dict:
    """The peer closes normally (FIN), then a peer resets (close with SO_LINGER 0: RST);
    then the peer's process is killed, without and with data it had not read."""
    ev = {}
    for how in ("close()", "close() with SO_LINGER 0 (RST)"):
        with socket.socket() as ls:
            ls.bind((LOCALHOST, 0))
            ls.listen()
            with socket.create_connection(ls.getsockname(), timeout=5) as c:
                conn, _ = ls.accept()
                if "LINGER" in how:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                ev[f"peer {how}: recv"] = _recv_after(c)
    ev["peer's process killed (SIGKILL): recv"] = _killed_client(unread=False)
    ev["peer's process killed with data it had not read: recv"] = _killed_client(unread=True)
    return ev
