"""The seed server's missing empty-recv check, observed: it spins after a disconnect.

Run the seed's server as written, talk to it once, disconnect, and watch it from
outside: `print(msg, type(msg))` lines of b'' pour out and its CPU time climbs. The
spin is detected by a count with a deadline (SPIN_LINES empty receives within
DETECT_TIMEOUT seconds), then the server is killed. The fixed server, same steps, goes
back to `accept` (it prints `waiting for a connection` again, sleeps, serves again).
"""
from __future__ import annotations

import time

from pylab.observe import procstate
from pylab.sockets.echo import stream_exchange
from pylab.sockets.serverproc import ServerProcess, lab_command

EMPTY = r"^b'' <class 'bytes'>$"
SPIN_LINES = 1000      # empty receives that prove the loop no longer blocks
DETECT_TIMEOUT = 5.0   # the bound on detection; spinning is usually seen in milliseconds


def cpu_ticks(pid: int) -> int:
    st = procstate.read_stat(pid)
    return st.utime + st.stime


def observe(fixed: bool) -> dict:
    """Serve one client, disconnect it, and report what the server does next."""
    with ServerProcess(lab_command("seed-server", *(["--fixed"] if fixed else [])), timeout=30) as srv:
        reply = stream_exchange(srv.address, [b"hello"])[0]  # connect, talk, close
        started = time.monotonic()
        ev = {"server": "fixed (empty-recv check in)" if fixed else "the seed's, as written",
              "reply": reply.decode()}
        if not fixed:
            n = srv.wait_for_count(EMPTY, SPIN_LINES, DETECT_TIMEOUT)
            ev["empty recv lines"] = n
            ev["detected within ms"] = round((time.monotonic() - started) * 1000, 1)
            ev["state while spinning"] = procstate.state_proc(srv.pid)
            ev["cpu ticks used"] = cpu_ticks(srv.pid)
            res = srv.kill()
            ev["stopped by"] = res.describe()
            ev["stdout bytes written"] = res.stdout_bytes_seen
            ev["spins"] = True
        else:
            srv.wait_for_count(r"^waiting for a connection$", 2)  # back in accept
            ev["state after disconnect"] = procstate.wait_for_state(srv.pid, "S")
            ev["empty recv lines"] = srv.count(EMPTY)
            ev["second client reply"] = stream_exchange(srv.address, [b"again"])[0].decode()
            srv.wait_for_count(r"^waiting for a connection$", 3)
            res = srv.kill()  # the seed's server has no way to stop but a signal
            ev["stopped by"] = res.describe()
            ev["spins"] = False
        ev["left behind"] = [p for p in res.stragglers if procstate.exists(p)]
    return ev
