"""Upper-casing echo servers and clients, done right: TCP and AF_UNIX stream sockets
with the seed's accept loop and communication loop, and UDP.

The communication loop keeps the check the seed left commented out: `recv` returning
b'' means the peer closed, so the loop ends and the server goes back to `accept`. Each
connection's communication loop runs in a thread, so one slow or silent client does
not hold up the others; a connection idle for `idle_timeout` seconds is closed. Every
connection's end is logged as `closed eof|reset|timeout` (the drivers count them).

A server stops when a line or end-of-file arrives on stdin, on SIGTERM/SIGINT, or after
`max_conns` connections; it then closes its sockets and removes its socket file. A stdin
that cannot be polled (a regular file, /dev/null: under nohup or CI) is not used as a
stop signal, and the server says so on stderr: /dev/null is always at end-of-file, and
stopping on it would stop the server at once.
"""
from __future__ import annotations

import os
import select
import selectors
import signal
import socket
import sys
import tempfile
import threading

from pylab.sockets import LOCALHOST

BUFSIZE = 1024
BACKLOG = 128  # the seed's listen(5) drops the SYNs of a burst of 50 clients


_log_lock = threading.Lock()


def log(line: str) -> None:
    with _log_lock:  # one whole line at a time: the connection threads log concurrently
        print(line, flush=True)


def communicate(conn: socket.socket, idle_timeout: float | None) -> str:
    """The communication loop for one connection; returns how it ended."""
    conn.settimeout(idle_timeout)
    try:
        while True:
            msg = conn.recv(BUFSIZE)
            if not msg:             # the peer closed: without this check the loop spins
                return "eof"
            conn.sendall(msg.upper())
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    finally:
        conn.close()


class StreamServer:
    """The accept loop; one thread per connection runs the communication loop."""

    def __init__(self, listener: socket.socket, idle_timeout: float | None):
        self.listener = listener
        self.idle_timeout = idle_timeout
        self.active: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.served = 0

    def _handle(self, conn):
        how = communicate(conn, self.idle_timeout)
        with self.lock:
            self.active.discard(conn)
        log(f"closed {how}")

    def serve(self, stop_fd: int | None, max_conns: int | None, announce: str, wakeup_fd: int) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.listener, selectors.EVENT_READ)
            sel.register(wakeup_fd, selectors.EVENT_READ)
            if stop_fd is not None:
                sel.register(stop_fd, selectors.EVENT_READ)
            log(announce)  # after every descriptor of the idle server exists: a fd baseline
            while max_conns is None or self.served < max_conns:
                ready = [key.fileobj for key, _ in sel.select()]
                if stop_fd in ready:
                    break
                if wakeup_fd in ready:  # a signal: its handler runs now, in this thread
                    os.read(wakeup_fd, 512)
                    continue
                try:
                    conn, _ = self.listener.accept()
                except ConnectionAbortedError:  # the client gave up while queued
                    continue
                self.served += 1
                with self.lock:
                    self.active.add(conn)
                t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
                self.threads = [x for x in self.threads if x.is_alive()] + [t]
                t.start()

    def close(self, abort: bool) -> None:
        """Stop accepting; abort (stop asked for): end the open connections now,
        else (max_conns reached): let them finish their conversations."""
        self.listener.close()
        if abort:
            with self.lock:
                for conn in self.active:  # wakes their communication loops with EOF
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        for t in self.threads:
            t.join(5 if abort else None)


def serve_udp(sock: socket.socket, stop_fd: int | None, max_datagrams: int | None, announce: str,
              wakeup_fd: int) -> int:
    """Each datagram is answered upper-cased to its sender; boundaries are kept."""
    n = 0
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        sel.register(wakeup_fd, selectors.EVENT_READ)
        if stop_fd is not None:
            sel.register(stop_fd, selectors.EVENT_READ)
        log(announce)
        while max_datagrams is None or n < max_datagrams:
            ready = [key.fileobj for key, _ in sel.select()]
            if stop_fd in ready:
                break
            if wakeup_fd in ready:  # a signal: its handler runs now, in this thread
                os.read(wakeup_fd, 512)
                continue
            msg, peer = sock.recvfrom(65535)
            n += 1
            log(f"datagram {len(msg)} bytes")
            sock.sendto(msg.upper(), peer)
    return n


def _stop_on_sigterm() -> int:
    """SIGTERM stops the server; returns the descriptor its select() must watch too.

    Python runs a signal's handler in the main thread, between bytecodes: a SIGTERM that
    lands just before the main thread enters select(), or on a connection's thread, would
    leave select() asleep. signal.set_wakeup_fd makes the C-level handler write a byte to
    a pipe, which wakes select() whichever thread took the signal."""
    def stop(signum, frame):
        raise SystemExit(0)  # unwinds through the finally blocks: sockets closed, file removed
    signal.signal(signal.SIGTERM, stop)
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    return r


def stdin_stop_fd(watch_stdin: bool) -> int | None:
    """stdin's descriptor if it can serve as a stop signal, else None (said on stderr)."""
    if not watch_stdin:
        return None
    fd = sys.stdin.fileno() if sys.stdin is not None else 0
    try:
        with select.epoll() as ep:  # epoll refuses regular files and /dev/null (EPERM)
            ep.register(fd, select.EPOLLIN)
        return fd
    except OSError as e:
        print(f"stdin cannot be polled ({os.strerror(e.errno)}): not watching it; "
              "stop the server with SIGTERM or --max-conns", file=sys.stderr, flush=True)
        return None


def serve(kind: str, host: str = LOCALHOST, port: int = 0, path: str | None = None,
          abstract: str | None = None, idle_timeout: float | None = 10.0,
          max_conns: int | None = None, watch_stdin: bool = True) -> int:
    """Run a server until stopped (see the module doc); prints `listening on ...`."""
    wakeup_fd = _stop_on_sigterm()
    tmpdir = None
    if kind == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
            n = serve_udp(sock, stdin_stop_fd(watch_stdin), max_conns, f"listening on udp {host} {sock.getsockname()[1]}",
                          wakeup_fd)
        finally:
            sock.close()
        log(f"stopped: {n} datagrams")
        return 0
    if kind == "tcp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart despite TIME_WAIT
        sock.bind((host, port))
        shown = f"tcp {host} {sock.getsockname()[1]}"
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if abstract:
            sock.bind("\0" + abstract)  # the abstract namespace: no file at all
            shown = f"unix @{abstract}"
        else:
            if path is None:
                tmpdir = tempfile.mkdtemp(prefix="pylab-echo-")
                path = os.path.join(tmpdir, "echo.sock")
            sock.bind(path)
            shown = f"unix {path}"
    server = StreamServer(sock, idle_timeout)
    finished = False
    try:
        sock.listen(BACKLOG)
        server.serve(stdin_stop_fd(watch_stdin), max_conns, f"listening on {shown}", wakeup_fd)
        finished = max_conns is not None and server.served >= max_conns
    finally:
        server.close(abort=not finished)
        if kind == "unix" and not abstract:
            os.unlink(path)  # the file outlives close(): remove it
            if tmpdir:
                os.rmdir(tmpdir)
    log(f"stopped: served {server.served}")
    return 0


# -- clients ---------------------------------------------------------------------------
def _family(address) -> int:
    return socket.AF_INET if isinstance(address, tuple) else socket.AF_UNIX


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """TCP is a byte stream: a reply may come in pieces; read until n bytes or EOF."""
    chunks, got = [], 0
    while got < n:
        piece = sock.recv(min(65536, n - got))
        if not piece:
            break
        chunks.append(piece)
        got += len(piece)
    return b"".join(chunks)


def stream_exchange(address, messages, timeout: float = 5.0) -> list[bytes]:
    """The seed's client, done right: connect (raising if refused), send each message,
    read its whole reply (upper-casing keeps the length), close."""
    with socket.socket(_family(address), socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(address)
        replies = []
        for msg in messages:
            s.sendall(msg)
            replies.append(recv_exactly(s, len(msg)))
        return replies


def udp_exchange(address, messages, timeout: float = 5.0) -> list[bytes]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        replies = []
        for msg in messages:
            s.sendto(msg, address)
            replies.append(s.recvfrom(65535)[0])
        return replies


def exchange(kind: str, address, messages, timeout: float = 5.0) -> list[bytes]:
    if kind == "udp":
        return udp_exchange(address, messages, timeout)
    return stream_exchange(address, messages, timeout)
