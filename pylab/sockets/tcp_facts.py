"""The seed's TCP claims, observed on this machine: connection refused before the
server exists, connect_ex, TIME_WAIT and SO_REUSEADDR, the sysctl advice, send vs
sendall, timeouts and non-blocking sockets. Each function returns the evidence."""
from __future__ import annotations

import errno
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

from pylab.observe import procstate
from pylab.sockets import LOCALHOST, errname, outcome


def reserved_port(kind=socket.SOCK_STREAM) -> socket.socket:
    """A socket bound to 127.0.0.1:0 and not listening: nothing accepts on its port,
    and no other program can take the port while we hold it."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind((LOCALHOST, 0))
    return s


def connect_refused() -> dict:
    """Connect before the server exists; connect_ex; then start the server, connect again."""
    ev = {}
    with reserved_port() as hold:
        addr = hold.getsockname()
        with socket.socket() as c:
            ev["connect before the server"] = outcome(lambda: c.connect(addr), "connected")
        with socket.socket() as c:
            code = c.connect_ex(addr)  # the seed's client: the errno comes back, nothing raised
            ev["connect_ex returned"] = code
            ev["connect_ex errno name"] = errno.errorcode.get(code, "0 (connected)")
            # the seed's client goes on as if connected
            ev["send after ignoring it"] = outcome(lambda: c.send(b"hi"), "sent")
        # errors that come before the C connect(): does connect_ex return them as codes too?
        for what, where in (("a port out of range", (LOCALHOST, 70000)),
                            ("a name the resolver does not know", ("no such host", 80))):
            with socket.socket() as c:
                try:
                    ev[f"connect_ex with {what}"] = f"returned {c.connect_ex(where)}"
                except Exception as e:  # noqa: BLE001 - what it raises is the observation
                    ev[f"connect_ex with {what}"] = f"raised {type(e).__name__}"
        hold.listen()  # now the server exists on that port
        with socket.create_connection(addr, timeout=5) as c:
            ev["connect once it listens"] = "connected to port %d" % c.getpeername()[1]
    return ev


# -- TIME_WAIT --------------------------------------------------------------------------
TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
              "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}


def proc_net_tcp(port: int, remote_port: int | None = None) -> list[dict]:
    """Sockets of /proc/net/tcp whose local port is `port` (and remote port, if given;
    state 06 is TIME_WAIT, 05 FIN_WAIT2)."""
    rows = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fld = line.split()
            if int(fld[1].split(":")[1], 16) == port and (
                    remote_port is None or int(fld[2].split(":")[1], 16) == remote_port):
                timer, when = fld[5].split(":")
                rows.append({"local": fld[1], "remote": fld[2], "state": fld[3],
                             "name": TCP_STATES.get(fld[3], fld[3]),
                             # for a LISTEN socket: the connections in its accept queue
                             "rx_queue": int(fld[4].split(":")[1], 16),
                             # timer 3: the timewait timer (TIME_WAIT, and an orphaned
                             # FIN_WAIT2's); `when`: clock ticks left
                             "timer_left_s": round(int(when, 16) / os.sysconf("SC_CLK_TCK"), 1)
                             if timer == "03" else None})
    return rows


def ss_time_wait(port: int) -> list[str]:
    ss = shutil.which("ss")
    if ss is None:
        return ["(ss is not installed)"]
    out = subprocess.run([ss, "-tano", "state", "time-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True, timeout=10)
    return [" ".join(ln.split()) for ln in out.stdout.splitlines()[1:]]


def _listener(reuse: bool, port: int = 0) -> socket.socket:
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LOCALHOST, port))
    s.listen()
    return s


def _one_connection(old_reuse: bool, server_closes_first: bool) -> int:
    """A server serves one client and stops; returns its port. The side that closes
    first goes through TIME_WAIT."""
    ls = _listener(old_reuse)
    port = ls.getsockname()[1]
    with ls, socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        conn, _ = ls.accept()
        first, second = (conn, c) if server_closes_first else (c, conn)
        first.close()
        second.recv(16)  # sees EOF
        second.close()
        conn.close()
    return port


def _restart(port: int, reuse: bool) -> str:
    try:
        _listener(reuse, port).close()
        return "ok"
    except OSError as e:
        return errname(e)


def time_wait() -> dict:
    """Restart a server on its port with connections in TIME_WAIT, with and without
    SO_REUSEADDR, on both servers (the old one and the new one)."""
    cases = []
    observed = None
    for closes_first in ("server", "client"):
        for old in (False, True):
            for new in (False, True):
                port = _one_connection(old, closes_first == "server")
                if closes_first == "server":  # the server's side holds TIME_WAIT
                    rows = procstate.call_until(lambda: proc_net_tcp(port),
                                                lambda r: any(x["state"] == "06" for x in r),
                                                5, f"TIME_WAIT on port {port}")
                else:  # the client's side holds it; the server's side ends at once
                    rows = procstate.call_until(lambda: proc_net_tcp(port), lambda r: not r, 5, f"port {port} free")
                cases.append({"closes first": closes_first, "old server SO_REUSEADDR": old,
                              "new server SO_REUSEADDR": new, "restart": _restart(port, new),
                              "states on the port": [r["name"] for r in rows]})
                if observed is None and rows:
                    observed = {"port": port, "/proc/net/tcp": rows, "ss": ss_time_wait(port)}
    return {"cases": cases, "time_wait seen": observed, "tcp_tw_reuse": read_sysctl("tcp_tw_reuse"),
            "other causes": {"a live connection of the stopped server (FIN_WAIT)": stopped_mid_connection(),
                             "a child still holding the listener": _child_holds_listener()}}


def stopped_mid_connection(old_reuse: bool = False) -> dict:
    """A server (with SO_REUSEADDR if old_reuse) stops - closes everything, as a kill
    does - while its client stays connected: the server's side goes to FIN_WAIT, never
    TIME_WAIT yet; restart it without SO_REUSEADDR and with it."""
    ls = _listener(old_reuse)
    port = ls.getsockname()[1]
    with socket.create_connection((LOCALHOST, port), timeout=5):  # the client, never closed while we look
        conn, _ = ls.accept()
        conn.close()
        ls.close()  # the client never closes while we look
        rows = procstate.call_until(lambda: proc_net_tcp(port), lambda r: any(x["name"] == "FIN_WAIT2" for x in r),
                                    5, f"FIN_WAIT2 on port {port}")
        out = {"states": sorted({r["name"] for r in rows}), "restart": _restart(port, False),
               "restart with SO_REUSEADDR": _restart(port, True)}
    return out


def _child_holds_listener() -> dict:
    """The server's listening socket inherited by a child (as a forking server's children
    inherit it): the server closes its copy, the child still holds one; restart."""
    ls = _listener(True)
    port = ls.getsockname()[1]
    child = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(ls.fileno(),))
    try:
        ls.close()
        out = {"child": child.pid, "restart with SO_REUSEADDR": _restart(port, True)}
    finally:
        child.stdin.close()  # cat ends at EOF and its copy of the listener goes with it
        child.wait(10)
    out["after the child ended, restart with SO_REUSEADDR"] = _restart(port, True)
    return out


# -- tcp_tw_reuse, observed (read only) ------------------------------------------------
IP_LOCAL_PORT_RANGE = getattr(socket, "IP_LOCAL_PORT_RANGE", 51)  # Linux 6.3+: per-socket ephemeral range


def _connect_from(port: int, server_port: int) -> socket.socket:
    """connect() whose ephemeral port the kernel must pick from [port, port]: the
    kernel's own choice (no bind), as for any outgoing connection, so tcp_tw_reuse
    decides whether a TIME_WAIT on that 4-tuple may be taken over."""
    s = socket.socket()
    try:
        s.setsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE, struct.pack("I", port | port << 16))
        s.connect((LOCALHOST, server_port))
        return s
    except OSError:
        s.close()
        raise


def tw_reuse(grace: float = 2.0) -> dict:
    """A client closes first, so its 4-tuple waits in TIME_WAIT on the client's side;
    then a new connect() to the same server, confined to that same local port: does the
    kernel reuse the 4-tuple (tcp_tw_reuse), or refuse with EADDRNOTAVAIL?"""
    delay = read_sysctl("tcp_tw_reuse_delay")  # ms (Linux 6.13+); reuse needs a TIME_WAIT this old
    ev = {"tcp_tw_reuse": read_sysctl("tcp_tw_reuse"), "tcp_tw_reuse_delay ms": delay,
          "tcp_timestamps": read_sysctl("tcp_timestamps")}
    with _listener(False) as ls:
        server_port = ls.getsockname()[1]
        with socket.create_connection((LOCALHOST, server_port), timeout=5) as c:
            port = c.getsockname()[1]
            conn, _ = ls.accept()
        with conn:  # the client closed first
            conn.recv(16)
        ev["4-tuple"] = f"127.0.0.1:{port} -> 127.0.0.1:{server_port}"
        ev["client side of it after close"] = [r["name"] for r in procstate.call_until(
            lambda: proc_net_tcp(port, server_port), lambda r: [x["name"] for x in r] == ["TIME_WAIT"],
            5, "the client's TIME_WAIT")]
        refused: list[str] = []
        started = time.monotonic()

        def attempt():
            try:
                return _connect_from(port, server_port)
            except OSError as e:
                refused.append(errname(e))
                return None

        try:  # tried until the reuse delay has surely passed
            new = procstate.call_until(attempt, lambda s: s is not None, int(delay or 1000) / 1000 + grace,
                                       "connect() reusing the 4-tuple")
        except TimeoutError:
            new = None
        ev["connect() from that port, attempts refused"] = len(refused)
        ev["refused with"] = sorted(set(refused))
        if new is None:
            ev["connect() reused the 4-tuple"] = False
        else:
            with new:
                ev["connect() reused the 4-tuple"] = new.getsockname()[1] == port
                ev["after s"] = round(time.monotonic() - started, 2)
                ev["the 4-tuple's states now"] = [r["name"] for r in proc_net_tcp(port, server_port)]
                ls.accept()[0].close()
    return ev


def fin_wait2() -> dict:
    """An orphaned FIN_WAIT_2: the client closes, the server never sends its FIN. Its
    timer (what tcp_fin_timeout sets) as /proc/net/tcp shows it."""
    with _listener(False) as ls:
        server_port = ls.getsockname()[1]
        with socket.create_connection((LOCALHOST, server_port), timeout=5) as c:
            port = c.getsockname()[1]
            conn, _ = ls.accept()
        with conn:  # kept open: the client's side stays in FIN_WAIT2, owned by no process
            rows = procstate.call_until(lambda: proc_net_tcp(port, server_port),
                                        lambda r: [x["name"] for x in r] == ["FIN_WAIT2"], 5, "FIN_WAIT2")
    return {"state": rows[0]["name"], "timer_left_s": rows[0]["timer_left_s"]}


# -- sysctls (read only) ----------------------------------------------------------------
SYSCTL_DIR = "/proc/sys/net/ipv4"


def read_sysctl(name: str) -> str | None:
    try:
        with open(os.path.join(SYSCTL_DIR, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def sysctls() -> dict:
    """The seed's /etc/sysctl.conf advice, read (never written) on this kernel."""
    ev = {"kernel": os.uname().release}
    for name in ("tcp_syncookies", "tcp_tw_reuse", "tcp_tw_recycle", "tcp_fin_timeout"):
        value = read_sysctl(name)
        ev[name] = value if value is not None else f"absent ({SYSCTL_DIR}/{name} does not exist)"
    tool = shutil.which("sysctl") or next((p for p in ("/sbin/sysctl", "/usr/sbin/sysctl") if os.path.exists(p)), None)
    if tool:
        out = subprocess.run([tool, "-n", "net.ipv4.tcp_tw_recycle"], capture_output=True, text=True, timeout=10)
        ev["sysctl -n net.ipv4.tcp_tw_recycle"] = (out.stdout + out.stderr).strip() or f"exit {out.returncode}"
    return ev


# -- send vs sendall --------------------------------------------------------------------
SMALL_BUF = 4096  # the kernel doubles it and applies its minimum


def _receiver(sock: socket.socket, counted: list) -> None:
    got = 0
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        got += len(piece)
    counted.append(got)


def send_vs_sendall(size: int = 1 << 20) -> dict:
    """One non-blocking send of `size` bytes through small buffers (nobody reading yet),
    one blocking send (the seed's kind of socket) with a reader, then sendall of the same;
    a receiver counts what arrives on each connection."""
    ev = {"bytes offered": size}
    data = b"x" * size
    with socket.socket() as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUF)  # inherited by accept
        ls.bind((LOCALHOST, 0))
        ls.listen()
        for how in ("send", "blocking send", "sendall"):
            with socket.socket() as c:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUF)
                c.connect(ls.getsockname())
                conn, _ = ls.accept()
                counted: list[int] = []
                if how == "send":
                    ev["SO_SNDBUF"] = c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
                    c.setblocking(False)
                    sent = c.send(data)  # nobody reads yet: only what fits is taken
                    c.close()
                    _receiver(conn, counted)
                    ev["send returned"] = sent
                    ev["received after send"] = counted[0]
                elif how == "blocking send":  # the seed's socket: blocking, a reader draining it
                    t = threading.Thread(target=_receiver, args=(conn, counted))
                    t.start()
                    c.settimeout(None)
                    ev["blocking send (the seed's socket) returned"] = c.send(data)  # waits for room
                    c.close()
                    t.join(30)
                    ev["received after the blocking send"] = counted[0] if counted else None
                else:
                    t = threading.Thread(target=_receiver, args=(conn, counted))
                    t.start()
                    c.settimeout(30)
                    ev["sendall returned"] = repr(c.sendall(data))  # loops over send until done; Python's None
                    c.close()
                    t.join(30)
                    ev["received after sendall"] = counted[0] if counted else None
                conn.close()
    return ev


# -- timeouts and non-blocking ----------------------------------------------------------
def timeouts(seconds: float = 0.1) -> dict:
    ev = {}
    with socket.socket() as ls:
        ls.bind((LOCALHOST, 0))
        ls.listen()
        with socket.create_connection(ls.getsockname()) as c:
            conn, _ = ls.accept()
            with conn:
                c.settimeout(seconds)
                start = time.monotonic()
                ev["recv with settimeout"] = outcome(lambda: c.recv(16), "returned")
                ev["timeout set s"] = seconds
                ev["raised after s"] = round(time.monotonic() - start, 4)
                ev["socket.timeout is TimeoutError"] = socket.timeout is TimeoutError
                c.setblocking(False)
                ev["gettimeout after setblocking(False)"] = c.gettimeout()
                ev["recv non-blocking"] = outcome(lambda: c.recv(16), "returned")
        ls.setblocking(False)
        ev["accept non-blocking"] = outcome(ls.accept, "returned")
    return ev
