"""`pylab sockets ...`: run the lab's servers and clients by hand.

    pylab sockets serve tcp|udp|unix [--port N] [--path P | --abstract NAME] ...
    pylab sockets client tcp|udp|unix (--port N | --path P | --abstract NAME) [MSG ...]
    pylab sockets seed-server [--fixed]     the seed's server (spins without --fixed)
    pylab sockets pyfork-server [--poll-interval S]   socketserver.ForkingTCPServer

The demos that check the seed's claims are `pylab run NAME` (see `pylab list`).
"""
from __future__ import annotations

import argparse
import sys

from pylab.cli.parsing import MAX_SECONDS, Parser
from pylab.core.errors import UsageError
from pylab.sockets import LOCALHOST, echo, pyfork_server, seed_server

KINDS = ("tcp", "udp", "unix")


def _check_positive(a) -> None:
    """Numbers that must be > 0 (a timeout of 0 or less would make the sockets
    non-blocking or invalid; 0 connections would serve nobody), and times no longer
    than `pylab run`'s (parsing.MAX_SECONDS: socket.settimeout overflows on 1e10)."""
    for opt, value, most in (("--idle-timeout", getattr(a, "idle_timeout", None), MAX_SECONDS),
                             ("--max-conns", getattr(a, "max_conns", None), float("inf")),
                             ("--timeout", getattr(a, "timeout", None), MAX_SECONDS),
                             ("--poll-interval", getattr(a, "poll_interval", None), MAX_SECONDS)):
        if value is not None and not 0 < value <= most:
            raise UsageError(f"bad {opt} {value}: it must be a number greater than 0"
                             + (f" and at most {most} seconds (a year)" if most != float("inf") else ""))


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="pylab sockets", description="The sockets lab's servers and clients.")
    # required: a bare `pylab sockets` is a usage error, one line on stderr and exit 2, as
    # a bare `pylab assignment` is (the lab's other command group)
    sub = p.add_subparsers(dest="what", metavar="COMMAND", parser_class=Parser, required=True)

    s = sub.add_parser("serve", help="an upper-casing echo server (stops on a line or EOF on stdin, "
                       "if stdin can be polled; on SIGTERM; after --max-conns)")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--host", default=LOCALHOST, help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=0, help="port (default 0: an ephemeral port)")
    s.add_argument("--path", help="unix: socket file (default: a new temporary directory)")
    s.add_argument("--abstract", metavar="NAME", help="unix: bind in the abstract namespace")
    s.add_argument("--idle-timeout", type=float, default=10.0, metavar="S",
                   help="close a connection idle this long (default 10)")
    s.add_argument("--max-conns", type=int, metavar="N", help="stop after N connections (udp: datagrams)")
    s.add_argument("--ignore-stdin", action="store_true", help="do not stop on EOF on stdin")

    s = sub.add_parser("client", help="send messages (or stdin's lines) and print the replies")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--host", default=LOCALHOST)
    s.add_argument("--port", type=int)
    s.add_argument("--path")
    s.add_argument("--abstract", metavar="NAME")
    s.add_argument("--timeout", type=float, default=5.0)
    s.add_argument("messages", nargs="*")

    s = sub.add_parser("seed-server", help="the seed's TCP server as written (spins on disconnect)")
    s.add_argument("--fixed", action="store_true", help="with the empty-recv check")

    s = sub.add_parser("pyfork-server", help="socketserver.ForkingTCPServer, upper-casing")
    s.add_argument("--poll-interval", type=float, default=0.5, metavar="S")
    return p


def _address(a):
    if a.kind == "unix":
        if bool(a.path) == bool(a.abstract):
            raise UsageError("a unix client needs exactly one of --path or --abstract")
        return a.path or "\0" + a.abstract
    if a.port is None or not 0 < a.port < 65536:
        raise UsageError("a tcp or udp client needs --port N (1-65535)")
    return (a.host, a.port)


def main(args) -> int:
    # parse_known_args: argparse cannot take messages after options ("tcp --port 5 hi")
    a, extra = _parser().parse_known_args(args.sockargs)
    if extra and (a.what != "client" or any(x.startswith("-") for x in extra)):
        raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see 'pylab sockets --help')")
    if a.what == "client":
        a.messages += extra
    _check_positive(a)
    if a.what == "serve":
        if a.kind != "unix" and (a.path or a.abstract):
            raise UsageError("--path and --abstract are for unix servers")
        if a.path and a.abstract:
            raise UsageError("give --path or --abstract, not both")
        if not 0 <= a.port < 65536:
            raise UsageError(f"bad port {a.port}: use 0-65535 (0: an ephemeral port)")
        try:
            return echo.serve(a.kind, a.host, a.port, a.path, a.abstract, a.idle_timeout,
                              a.max_conns, not a.ignore_stdin)
        except OSError as e:
            raise UsageError(f"cannot serve: {e}") from None
        except KeyboardInterrupt:
            return 0
    if a.what == "client":
        address = _address(a)
        messages = [m.encode() for m in a.messages] or [
            ln.strip().encode() for ln in sys.stdin if ln.strip()]  # the seed skips empty input
        try:
            for reply in echo.exchange(a.kind, address, messages, a.timeout):
                print(reply.decode(errors="replace"))
        except BrokenPipeError:  # our own stdout closed (`| head`): pylab.cli.main's quiet end
            raise
        except OSError as e:
            raise UsageError(f"{a.kind} client: {e}") from None
        return 0
    if a.what == "seed-server":
        seed_server.main(fixed=a.fixed)
        return 0
    if a.what == "pyfork-server":
        return pyfork_server.serve(a.poll_interval)
    raise UsageError(f"unknown command {a.what!r} (see 'pylab sockets --help')")  # (the parser allows none)
