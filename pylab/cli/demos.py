"""The sockets lab's demos for `pylab run NAME` (listed by `pylab list`).

Each demo runs live and prints what it observed (`--json`: as JSON). Demos of a seed
claim print the claim's verdict too, as `pylab tour` does."""
from __future__ import annotations

import argparse
import os

from pylab.cli import run_args
from pylab.core.errors import EXIT_FAILED, EXIT_OK, UsageError
from pylab.core.output import emit_json, settle
from pylab.run import toolchain
from pylab.sockets import echo, forking, load, socat
from pylab.sockets.forking import PORT_LINE
from pylab.sockets.serverproc import ServerProcess, lab_command
from pylab.tour import registry


def _report(args, title: str, evidence: dict, ok: bool = True) -> int:
    code = settle(EXIT_OK if ok else EXIT_FAILED)
    if getattr(args, "json", False):
        emit_json({"demo": title, "evidence": evidence})
    else:
        print(f"== {title} ==")
        print("\n".join(registry.evidence_lines(evidence, indent=2)))  # as the tour shows evidence
    return code


def _claims(*ids):
    """A demo that runs seed claims and shows them as the tour does (the tour's renderer)."""
    def demo(args) -> int:
        return registry.main(argparse.Namespace(json=getattr(args, "json", False), only=list(ids)))
    return demo


def _echo(kind: str):
    def demo(args) -> int:
        messages = [m.encode() for m in (args.args or ["hello", "Upper-casing echo"])]
        with ServerProcess(lab_command("serve", kind)) as srv:
            where = srv.address
            file_while_serving = os.path.exists(where) if kind == "unix" else None
            replies = echo.exchange(kind, where, messages)
            res = srv.stop()
        ev = {"server": " ".join(res.lines[0].split()[2:]),
              "exchange": [f"{m.decode()!r} -> {r.decode()!r}" for m, r in zip(messages, replies)],
              "server log": res.lines, "server exit": res.describe()}
        if kind == "unix":
            ev["socket file while serving"] = file_while_serving
            ev["socket file after the server stopped"] = os.path.exists(where)
        ok = replies == [m.upper() for m in messages] and res.exit_code == 0
        return _report(args, f"echo over {kind}", ev, ok)
    return demo


def _fork_zombies(args) -> int:
    ev = {"C, no reaping": forking.c_server("noreap", 5), "C, SIGCHLD handler reaping": forking.c_server("reap", 5),
          "ForkingTCPServer, poll_interval 60 s": forking.python_server(3, 60.0),
          "ForkingTCPServer, poll_interval 0.1 s": forking.python_server(2, 0.1)}
    ok = ev["C, no reaping"]["zombies"] == 5 and ev["C, SIGCHLD handler reaping"]["zombies"] == 0
    return _report(args, "forking servers: who reaps the children", ev, ok)


def _socat(args) -> int:
    try:
        socat.socat_path()
    except socat.SocatMissing as e:
        raise UsageError(str(e)) from None
    data = b"hello from socat\nsecond line\n"
    ev, ok = {}, True
    servers = [("lab echo server, tcp", lab_command("serve", "tcp"), None),
               ("lab echo server, unix", lab_command("serve", "unix"), None),
               ("C fork_server reap", [toolchain.find("fork_server").build(), "reap", "1", "-"], PORT_LINE)]
    for name, argv, ready in servers:
        with ServerProcess(argv, **({"ready": ready} if ready else {})) as srv:
            addr = ("127.0.0.1", int(srv.match.group(1))) if ready else srv.address
            r = socat.exchange(addr, data)
            ev[name] = {"socat": " ".join(r.argv[1:]), "sent": data.decode(), "got": r.stdout_text,
                        "socat exit": r.describe()}
            ok = ok and r.stdout == data.upper()
            if ready:
                srv.proc.write("stop\n")
    return _report(args, "a real client: socat", ev, ok)


def _load(args) -> int:
    ev = load.run()
    ok = (ev["server fds at the end"] == ev["server fds at start"]
          and "closed timeout" in ev["silent client"]["its server logged"])
    return _report(args, "load and faults, bounded", ev, ok)


DEMOS = {
    "echo-tcp": ("upper-casing TCP echo server and client (accept loop + communication loop, port 0)", _echo("tcp")),
    "echo-udp": ("upper-casing UDP echo server and client", _echo("udp")),
    "echo-unix": ("upper-casing echo over an AF_UNIX stream socket; its file is removed at the end", _echo("unix")),
    "seed-spin": ("the seed's server without the empty-recv check spins on disconnect; the fixed one does not",
                  _claims("recv-empty-spins")),
    "connect-refused": ("connecting before the server exists: ECONNREFUSED; connect_ex returns the errno",
                        _claims("tcp-server-first", "connect-ex-errno")),
    "time-wait": ("restart on a port in TIME_WAIT: EADDRINUSE without SO_REUSEADDR (both servers), ok with it",
                  _claims("time-wait-reuseaddr")),
    "sysctl-advice": ("the seed's sysctl advice, read only: tcp_tw_recycle, tcp_tw_reuse (on a connect), tcp_fin_timeout",
                      _claims("sysctl-tw-recycle", "sysctl-tw-reuse", "sysctl-fin-timeout")),
    "send-vs-sendall": ("a short send on a non-blocking socket loses nothing; sendall delivers every byte",
                        _claims("send-loses-data")),
    "udp-facts": ("UDP: either side first, boundaries kept, ECONNREFUSED on a connected socket (unconnected: IP_RECVERR)",
                  _claims("udp-either-first", "udp-boundaries", "udp-connected-refused")),
    "unix-socket-file": ("no data passes through an AF_UNIX socket's file (size 0); it outlives close(); abstract names have none",
                         _claims("unix-socket-file")),
    "socket-timeouts": ("settimeout raises socket.timeout after the time; non-blocking raises BlockingIOError",
                        _claims("settimeout-raises")),
    "fork-zombies": ("forking echo servers: N zombies without reaping, none with SIGCHLD; ForkingTCPServer",
                     _fork_zombies),
    "socat-client": ("socat, a real third-party client, talks to the lab's servers", _socat),
    "echo-load": ("1,000 sequential and 50 concurrent clients, resets, a silent client: fds come back", _load),
}


# What a demo takes from `pylab run`'s line: its name, the arguments after it (the echo
# demos' messages) and --json. Every other option of `pylab run` it cannot honour.
HONOURED = {"name", "args", "json"}


def _run_options() -> list[argparse.Action]:
    """`pylab run`'s options, from the definitions the command line itself is built from
    (pylab.cli.run_args): an option added there is refused by a demo until it is honoured."""
    p = argparse.ArgumentParser(add_help=False)
    run_args.add_run_arguments(p)
    return [a for a in p._actions if a.option_strings and a.dest not in HONOURED]


def refused_options(args) -> list[str]:
    """The options given on the line (each as the user may spell it: its longest name)
    that a demo does not honour: those whose value is not the parser's default."""
    return [max(a.option_strings, key=len) for a in _run_options()
            if getattr(args, a.dest, a.default) != a.default]


def run(name: str, args) -> int:
    """`pylab run NAME` for a demo. A demo runs its own servers and clients, with stdout to
    pipes it reads, and builds nothing of the user's: it cannot put the program's stdout on
    a tty or file, be watched or traced, take a time-out, a folder or compiler flags."""
    refused = refused_options(args)
    if refused:
        listed = refused[0] if len(refused) == 1 else f"{', '.join(refused[:-1])} or {refused[-1]}"
        raise UsageError(f"{name} is a Python demo that runs its own servers and clients: "
                         f"it cannot honour {listed} (C programs can: 'pylab list')")
    return DEMOS[name][1](args)
