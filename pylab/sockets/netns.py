"""The seed's TCP sysctls at their defaults and changed, in a private network namespace.

Run as `python -m pylab.sockets.netns` inside `unshare --net` (as root, or as root of a
new user namespace): the namespace has its own loopback and its own net.ipv4 settings,
so they can be read at their defaults and written without touching the host. Prints
one JSON object: the defaults, TIME_WAIT and FIN_WAIT_2 timers under tcp_fin_timeout=30,
connect() onto a TIME_WAIT 4-tuple under tcp_tw_reuse 0 and 1, and a server's restart
with the seed's whole sysctl advice applied.
"""
from __future__ import annotations

import os
import subprocess

from pylab.core.output import emit_json
from pylab.sockets import tcp_facts

SEED_ADVICE = {"tcp_syncookies": "1", "tcp_tw_reuse": "1", "tcp_fin_timeout": "30"}  # the seed's sysctl.conf
REUSE_DELAY_MS = "50"  # shortened here (Linux 6.13+) so the reuse is seen quickly


def write_sysctl(name: str, value: str) -> None:
    with open(os.path.join(tcp_facts.SYSCTL_DIR, name), "w") as f:
        f.write(value)


def loopback_up() -> str:
    """A new network namespace starts with lo down."""
    r = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True, timeout=10)
    return "up" if r.returncode == 0 else f"ip link failed: {r.stderr.strip()}"


def observe() -> dict:
    ev = {"loopback": loopback_up()}
    ev["defaults"] = {n: tcp_facts.read_sysctl(n) for n in
                      ("tcp_syncookies", "tcp_tw_reuse", "tcp_fin_timeout", "tcp_tw_reuse_delay", "tcp_timestamps")}
    write_sysctl("tcp_fin_timeout", "30")
    tw = tcp_facts.time_wait()
    ev["tcp_fin_timeout=30"] = {
        "a fresh TIME_WAIT's timer (s)": max(r["timer_left_s"] or 0 for r in tw["time_wait seen"]["/proc/net/tcp"]),
        "an orphaned FIN_WAIT_2's timer (s)": tcp_facts.fin_wait2()["timer_left_s"]}
    if ev["defaults"]["tcp_tw_reuse_delay"] is not None:
        write_sysctl("tcp_tw_reuse_delay", REUSE_DELAY_MS)
    ev["tcp_tw_reuse_delay ms used"] = tcp_facts.read_sysctl("tcp_tw_reuse_delay")
    ev["connect() onto a TIME_WAIT 4-tuple"] = {}
    for value in ("0", "1"):
        write_sysctl("tcp_tw_reuse", value)
        r = tcp_facts.tw_reuse(grace=0.3)
        ev["connect() onto a TIME_WAIT 4-tuple"][f"tcp_tw_reuse={value}"] = {
            "reused": r["connect() reused the 4-tuple"], "refused with": r["refused with"], "after s": r.get("after s")}
    for name, value in SEED_ADVICE.items():
        write_sysctl(name, value)
    ev["the seed's advice applied"] = {n: tcp_facts.read_sysctl(n) for n in SEED_ADVICE}
    tw = tcp_facts.time_wait()
    ev["with it, a server restart on its port in TIME_WAIT (no SO_REUSEADDR)"] = next(
        c["restart"] for c in tw["cases"] if c["closes first"] == "server"
        and not c["old server SO_REUSEADDR"] and not c["new server SO_REUSEADDR"])
    return ev


if __name__ == "__main__":
    emit_json(observe())  # read by the parent outside the namespace
