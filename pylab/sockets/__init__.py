"""The sockets lab (seeds/sockets.md): upper-casing echo servers and clients over TCP,
UDP and AF_UNIX, the seed's claims observed live, a forking server in C beside
Python's ForkingTCPServer, a real third-party client (socat), and bounded load and
faults. Servers bind 127.0.0.1 and port 0 (an ephemeral port) unless told otherwise.
"""
import fcntl
import socket
import struct
import termios

LOCALHOST = "127.0.0.1"


def errname(e: OSError) -> str:
    """ECONNREFUSED rather than 111."""
    import errno
    return errno.errorcode.get(e.errno, str(e.errno))


def outcome(call, ok: str = "ok") -> str:
    """What a socket call did, in words: `ok`, or the exception and its errno name."""
    try:
        call()
        return ok
    except OSError as e:
        return f"{type(e).__name__}: {errname(e)}" if e.errno else f"{type(e).__name__} ({e})"


def queued(sock: socket.socket) -> int:
    """Bytes waiting in sock's receive buffer (FIONREAD; for UDP: the size of the next datagram)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
