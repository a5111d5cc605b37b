"""A forking echo server, joined to the process half of the lab: who reaps the children?

- csrc/programs/fork_server.c `noreap`: nobody; N finished clients leave N zombies
  under the server (counted from /proc: its children in state Z);
- `reap`: a SIGCHLD handler reaps in a waitpid(-1, WNOHANG) loop; none are left;
- Python's socketserver.ForkingTCPServer reaps in `collect_children`, which
  `serve_forever` calls after each request and every `poll_interval` seconds (and
  `server_close` calls blocking): between two calls a finished child is a zombie.
"""
from __future__ import annotations

import socket
import time

from pylab.observe import procstate

from pylab.run import toolchain
from pylab.sockets.echo import stream_exchange
from pylab.sockets.serverproc import ServerProcess, lab_command

PORT_LINE = rb"port (\d+)\n"


def _port(srv: ServerProcess):
    return ("127.0.0.1", int(srv.match.group(1)))


def c_server(mode: str, n: int = 5) -> dict:
    """n sequential clients against fork_server MODE; count the zombies it keeps."""
    binary = toolchain.find("fork_server").build()
    with ServerProcess([binary, mode, str(n), "-"], ready=PORT_LINE, timeout=30) as srv:
        replies = [stream_exchange(_port(srv), [b"hello %d" % i])[0].decode() for i in range(n)]
        srv.wait_for_count(r"^served \d+", n)
        if mode == "noreap":  # each child exits once its client closed: wait for n zombies
            zombies = procstate.call_until(srv.zombies, lambda z: len(z) == n, 5, f"{n} zombies")
            children = srv.children()
        else:
            children = procstate.call_until(srv.children, lambda c: not c, 5, "no children left")
            zombies = []
        srv.proc.write("stop\n")
        res = srv.stop()
    return {"server": f"fork_server {mode}", "clients": n, "replies": replies,
            "children after the clients": len(children), "zombies": len(zombies),
            "zombie states": sorted(set(children.values())),
            "last line": res.lines[-1] if res.lines else "",
            "zombies left after the server ended": [z for z in zombies if procstate.exists(z)
                                                    and procstate.state_proc(z) == "Z"]}


# -- Python's ForkingTCPServer (the server itself: pylab.sockets.pyfork_server) ------
COLLECT = r"^collect_children: "


def python_server(n: int = 3, poll_interval: float = 60.0) -> dict:
    """n sequential clients against ForkingTCPServer; after each, see its child a zombie
    until the next collect_children (the next request, or the next poll tick)."""
    seen = []
    with ServerProcess(lab_command("pyfork-server", "--poll-interval", str(poll_interval)), timeout=60) as srv:
        known: set[int] = set()
        for i in range(n):
            collects = srv.count(COLLECT)
            with socket.create_connection(srv.address, timeout=5) as s:
                s.sendall(b"hi")
                reply = s.recv(16)
                # after the request, serve_forever runs collect_children, then waits in select
                srv.wait_for_count(COLLECT, collects + 1)
                child = procstate.call_until(lambda: set(srv.children()) - known, bool, 5, "the new child")
                known |= child
            (child,) = child
            closed = time.monotonic()
            state = procstate.wait_for_state(child, {"Z", "gone"}, 5)
            row = {"client": i + 1, "reply": reply.decode(), "child": child, "state after its client closed": state,
                   "other zombies": [z for z in srv.zombies() if z != child]}
            if poll_interval < 5:  # a short tick: the zombie goes without any new request
                procstate.wait_gone(child, 5)
                row["reaped after ms"] = round((time.monotonic() - closed) * 1000, 1)
            seen.append(row)
        zombies_at_end = srv.zombies()
        res = srv.stop()
    return {"server": "socketserver.ForkingTCPServer", "poll_interval": poll_interval,
            "clients": seen, "zombies after the last client": len(zombies_at_end),
            "collect_children lines": [ln for ln in res.lines if ln.startswith("collect")][-3:],
            "children left": [p for p in known if procstate.exists(p)]}
