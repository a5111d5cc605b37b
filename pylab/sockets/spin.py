"""The seed server's missing empty-recv check, observed: does it spin after a disconnect?

Run a server (the seed's as written, or fixed), talk to it once, disconnect, and watch
it from outside, the same way for both: wait (with a deadline) until it either prints
SPIN_LINES `b'' <class 'bytes'>` lines (recv returning b'' over and over) or prints
`waiting for a connection` again (back in accept). Then sample it twice, with work of
ours in between: its CPU time (/proc/PID/schedstat, ns) and its count of empty receives.
A spinning loop grows both; a server blocked in accept grows neither. Nothing here
decides the verdict: the tour's judge does, from these numbers.
"""
from __future__ import annotations

import time

from pylab.observe import procstate
from pylab.sockets.echo import stream_exchange
from pylab.sockets.serverproc import ServerProcess, lab_command

EMPTY = r"^b'' <class 'bytes'>$"
WAITING = r"^waiting for a connection$"
SPIN_LINES = 1000      # empty receives that show the loop no longer blocks
DETECT_TIMEOUT = 5.0   # the bound on deciding; either outcome is usually seen in milliseconds
SAMPLE_CPU = 0.01      # CPU seconds the observer works between the two samples, at least
SAMPLE_MOST = 0.08     # and at most, while the server has neither run nor printed


def cpu_ns(pid: int) -> int | None:
    """Nanoseconds pid has run on a CPU (/proc/PID/schedstat), None without schedstat."""
    stat = procstate.schedstat(pid)
    return stat[0] if stat else None


def _work(moved, cpu_seconds: float, most: float, cap: int = 50_000_000) -> float:
    """Burn our own CPU: at least `cpu_seconds`, and on (up to `most`) until moved() says
    the server did something: on a busy machine a spinning server may wait a while for a
    CPU (and its lines for our reader), a blocked one never moves. Returns the CPU
    seconds we worked."""
    start = time.process_time()
    for i in range(cap):
        spent = time.process_time() - start
        if spent >= most or (spent >= cpu_seconds and i % 1000 == 0 and moved()):  # /proc read now and then
            break
    return round(time.process_time() - start, 4)


def observe(fixed: bool) -> dict:
    """Serve one client, disconnect it, and report what the server does next."""
    with ServerProcess(lab_command("seed-server", *(["--fixed"] if fixed else [])), timeout=30) as srv:
        reply = stream_exchange(srv.address, [b"hello"])[0]  # connect, talk, close
        started = time.monotonic()
        ev = {"server": "fixed (empty-recv check in)" if fixed else "the seed's, as written",
              "reply": reply.decode()}
        try:
            empty, waits = procstate.call_until(lambda: (srv.count(EMPTY), srv.count(WAITING)),
                                                lambda c: c[0] >= SPIN_LINES or c[1] >= 2, DETECT_TIMEOUT,
                                                "the server to spin or to go back to accept")
            ev["decided within ms"] = round((time.monotonic() - started) * 1000, 1)
        except TimeoutError:
            empty, waits = srv.count(EMPTY), srv.count(WAITING)
            ev["decided within ms"] = None
        ev["empty recv lines after the disconnect"] = empty
        ev["back in accept ('waiting for a connection' again)"] = waits >= 2
        if waits >= 2:  # it printed the line just before accept(): let it get there (asleep) first
            try:
                procstate.wait_for_state(srv.pid, "S", timeout=2)
            except TimeoutError:
                pass  # never asleep: the samples below will show it running
        before = {"cpu ns": cpu_ns(srv.pid), "empty recv lines": srv.count(EMPTY)}
        ev["observer worked (CPU s)"] = _work(
            lambda: cpu_ns(srv.pid) != before["cpu ns"] and srv.count(EMPTY) > before["empty recv lines"],
            SAMPLE_CPU, SAMPLE_MOST)
        after = {"cpu ns": cpu_ns(srv.pid), "empty recv lines": srv.count(EMPTY)}
        ev["state"] = procstate.state_proc(srv.pid)
        ev["while the observer worked: server CPU ns"] = (
            None if None in (before["cpu ns"], after["cpu ns"]) else after["cpu ns"] - before["cpu ns"])
        ev["while the observer worked: new empty recv lines"] = after["empty recv lines"] - before["empty recv lines"]
        if ev["back in accept ('waiting for a connection' again)"]:
            ev["second client reply"] = stream_exchange(srv.address, [b"again"])[0].decode()
            srv.wait_for_count(WAITING, 3)
        res = srv.kill()  # the seed's server has no way to stop but a signal
        ev["stopped by"] = res.describe()
        ev["stdout bytes written"] = res.stdout_bytes_seen
        ev["left behind"] = [p for p in res.stragglers if procstate.exists(p)]
    return ev

