"""The claims of seeds/sockets.md about what a socket is: a facade over TCP/IP, ip+port
as an application's identity, AF_INET's share, the connection made at accept, listen's
backlog, makefile, and recv after a sudden disconnect. The experiments are in
pylab.sockets.model_facts, but for the count of sockets by family, which is here, as it
leaves out the tour's own; same claim shape as every module."""
from __future__ import annotations

import io
import json
import os
import re
import socket
import sys

from pylab.sockets import model_facts
from pylab.tour import probes
from pylab.tour.shape import ClaimList, Finding, unverified
from pylab.tour.sockets import SEED, observe_spin, spins

CLAIMS = ClaimList()


# One TCP connection on the loopback of a private network namespace, whose counters
# (/proc/net/snmp) count only it: the calls the program made against the segments the
# kernel exchanged for them.
TCP_MECHANICS = r"""
import json, socket
from pylab.sockets.netns import loopback_up

def tcp():
    with open("/proc/net/snmp") as f:
        rows = [ln.split() for ln in f if ln.startswith("Tcp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))

lo = loopback_up()
before = tcp()
with socket.socket() as ls:
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    c = socket.create_connection(ls.getsockname(), timeout=5)
    s, _ = ls.accept()
    s.settimeout(5)
    calls = ["connect", "accept"]
    for m in (b"a", b"bb", b"ccc"):
        c.sendall(m)
        calls.append("send")
    got = b""
    while len(got) < 6:
        got += s.recv(1024)
        calls.append("recv")
    c.close()
    calls.append("close")
    end = s.recv(1024)
    calls.append("recv")
    after = tcp()
    s.close()
print(json.dumps({"loopback": lo, "the program's calls": calls, "received": got.decode(), "then recv": repr(end),
                  "TCP counters meanwhile (/proc/net/snmp)": {k: after[k] - before[k] for k in
                  ("ActiveOpens", "PassiveOpens", "OutSegs", "InSegs", "RetransSegs")}}))
"""


def observe_tcp_mechanics() -> dict:
    r = probes.in_namespaces([sys.executable, "-I", "-c", TCP_MECHANICS], ("net",))
    return json.loads(r["stdout"]) if r["ran"] else {"unavailable": r["why"]}


def observe_facade() -> dict:
    """The spinning servers and TCP's merged sends (observe_spin, shared with
    recv-empty-spins), and what the kernel did for one connection's calls."""
    return {**observe_spin(), "one connection in a private network namespace": observe_tcp_mechanics()}


def hidden_mechanics(m: dict) -> str | None:
    """What the kernel did that the program never saw, in words; None when not observed."""
    counters = m.get("TCP counters meanwhile (/proc/net/snmp)")
    if not counters:
        return None
    calls = m["the program's calls"]
    sends = calls.count("send")
    if not (counters["ActiveOpens"] >= 1 and counters["PassiveOpens"] >= 1 and counters["OutSegs"] > sends):
        return None
    return (f"for the program's calls ({', '.join(calls)}) the kernel made the handshake "
            f"(ActiveOpens {counters['ActiveOpens']}, PassiveOpens {counters['PassiveOpens']}) and sent "
            f"{counters['OutSegs']} TCP segments for its {sends} sends, none of which the program saw")


@CLAIMS.claim("socket-facade", SEED, "A socket is a facade that hides TCP/IP and organises the data to fit the "
              "protocol, so we need not understand TCP/UDP: a program that follows the socket's rules follows TCP's",
              observe=observe_facade, alone=True)
def judge_facade(seen: dict) -> Finding:
    """Two halves: the facade hides TCP's mechanics (the kernel's segments and handshake
    against the program's calls); and 'we need not understand TCP', which a byte stream
    the program must frame, and the seed's own server spinning on end-of-file, refute."""
    merged = seen["tcp: three sends, one recv(1024)"] == "abbccc"
    spun = spins(seen["seed server"])
    mechanics = seen.get("one connection in a private network namespace", {"unavailable": "not observed"})
    hidden = hidden_mechanics(mechanics)
    evidence = {"three sends of a, bb, ccc; one recv(1024) got": seen["tcp: three sends, one recv(1024)"],
                "the seed's own server after its client left": {k: seen["seed server"][k] for k in
                ("empty recv lines after the disconnect", "while the observer worked: server CPU ns")},
                "one connection in a private network namespace": mechanics}
    holds = (f"what holds: the socket hides TCP's mechanics: {hidden}" if hidden else
             "whether the socket hides TCP's mechanics was not observed: "
             + mechanics.get("unavailable", "the kernel's counters did not show it"))
    if merged or spun:  # either one is the program's job the socket does not do
        evidence["so"] = (holds + "; what does not: 'we need not understand TCP': a socket hands over TCP's byte "
                          "stream, so message boundaries are the program's job"
                          + (" (three sends came out as one recv)" if merged else "")
                          + ", and so is end-of-file" + (" (the seed's own server, not checking for recv's b'', "
                                                          "spins)" if spun else ""))
        return Finding("refuted", evidence)
    if spun is None:
        return unverified("whether the seed's server spins (its sample was unclear), and TCP kept the three "
                          "sends apart this time", evidence)
    if hidden:
        evidence["so"] = holds
    return Finding("confirmed", evidence)


@CLAIMS.claim("ip-port-identifies", SEED, "An IP address and a port identify one application on the network "
              "uniquely", observe=model_facts.shared_ports)
def judge_ip_port(ev: dict) -> Finding:
    shared = [k for k in ("TCP and UDP bind the same port", "a second SO_REUSEPORT listener on that port")
              if ev[k] == "ok"]
    same_local = len({c.split(" <- ")[0] for c in ev["accepted connections: (local, remote)"]}) == 1
    if not shared and not same_local:
        return Finding("confirmed", ev)
    parts = [f"{k} (both succeeded here)" for k in shared]
    if same_local:
        parts.append("and one port serves many connections: each is a 4-tuple (local ip, local port, remote ip, "
                     "remote port)")
    return Finding("qualified", ev, "only per protocol and per socket option: " + "; ".join(parts))


FAMILY_TABLES = (("AF_INET tcp", "tcp"), ("AF_INET udp", "udp"), ("AF_INET6 tcp", "tcp6"),
                 ("AF_INET6 udp", "udp6"), ("AF_UNIX", "unix"), ("AF_NETLINK", "netlink"))
NOT_HELD = "no process holds them (TIME_WAIT, orphaned closing connections: inode 0)"
KERNELS = "the kernel's own netlink sockets (port id 0)"
OURS = "the tour's own (this process's descriptors)"


def own_socket_inodes(fd_dir: str = "/proc/self/fd") -> set[int]:
    """The inodes of the sockets this process holds (its descriptors that name a socket)."""
    inodes = set()
    for name in os.listdir(fd_dir):
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(os.path.join(fd_dir, name)))
        except OSError:  # closed meanwhile
            continue
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def count_families(proc_net: str = "/proc/net", own: set[int] | frozenset = frozenset()) -> dict:
    """Sockets by family in this network namespace's tables, counting only those some
    program holds: not TIME_WAIT or orphans (no inode), not the kernel's netlink sockets,
    not the inodes in `own` (the lab's). A table that cannot be read counts None."""
    counts, skipped = {}, {NOT_HELD: 0, KERNELS: 0, OURS: 0}
    for name, table in FAMILY_TABLES:
        try:
            with open(os.path.join(proc_net, table)) as f:
                rows = [ln.split() for ln in f.readlines()[1:] if ln.strip()]
        except OSError:
            counts[name] = None
            continue
        counts[name] = 0
        for r in rows:
            inode = int(r[6] if table == "unix" else r[9])
            why = (NOT_HELD if inode == 0 else KERNELS if table == "netlink" and r[2] == "0"
                   else OURS if inode in own else None)
            if why:
                skipped[why] += 1
            else:
                counts[name] += 1
    return {"by family": counts, "not counted": skipped}


def observe_families() -> dict:
    """Run alone (nothing else of the tour holds sockets meanwhile), and without the tour's
    own sockets even so."""
    return count_families(own=own_socket_inodes())


# alone: the tour's other observations open sockets (5 AF_INET tcp ones in a full tour
# where an idle machine had 1): the counts are the verdict's evidence
@CLAIMS.claim("af-inet-most-used", SEED, "AF_INET is the most widely used address family",
              observe=observe_families, alone=True)
def judge_families(seen: dict) -> Finding:
    """The seed means the world's programs ("of all address families, AF_INET is the most
    widely used"): not observable from one machine, whatever its own sockets are, so the
    verdict is always unverified; what this machine's programs hold, family by family, is
    its evidence, and its `missing` says what was seen here instead."""
    counts = seen["by family"]
    evidence = {"sockets programs hold in this network namespace, by family": counts,
                "not counted": seen["not counted"],
                "scope": "this machine's sockets at one moment; the world's programs are not observable from one"}
    world = ("which address family the world's programs use most (the seed's claim): one machine's sockets "
             "cannot show it")
    if counts.get("AF_INET tcp") is None and counts.get("AF_INET udp") is None:
        return unverified(world + "; and here AF_INET's socket tables (/proc/net/tcp and udp) could not be read",
                          evidence)
    families = {}
    for k, v in counts.items():
        if v is not None:
            families[k.split()[0]] = families.get(k.split()[0], 0) + v
    evidence["by family, protocols added up"] = families
    if not any(families.values()):
        return unverified(world + "; and here no program but the tour held a socket at all", evidence)
    held = ", ".join(f"{fam} {n}" for fam, n in sorted(families.items(), key=lambda kv: -kv[1]))
    return unverified(f"{world}; here, in this network namespace at one moment, programs held {held}", evidence)


@CLAIMS.claim("connection-at-accept", SEED, "The connection between client and server is established when "
              "the server's accept() returns", observe=model_facts.handshake_before_accept)
def judge_accept(ev: dict) -> Finding:
    before = ev["states on the server port before accept"]
    if "ESTABLISHED" in before and ev["the client sends before accept"] == "sent":
        ev = {**ev, "so": "the kernel completed the handshake after listen(): connect() returned, the connection "
              "was ESTABLISHED and took data before accept(), which only took it off the queue"}
        return Finding("refuted", ev)
    return Finding("confirmed", ev)


@CLAIMS.claim("listen-backlog", SEED, "listen(5): the backlog is how many connection requests may wait",
              observe=model_facts.backlog)
def judge_backlog(ev: dict) -> Finding:
    n = ev["listen backlog"]
    # the server's own count when /proc/net/tcp gives it: a client may count as ESTABLISHED
    # a connection whose last ACK the full queue dropped
    queued = ev.get("the listener's accept queue (rx_queue of its LISTEN row in /proc/net/tcp)")
    done = queued if queued is not None else ev["completed (ESTABLISHED)"]
    if done == n:
        return Finding("confirmed", ev)
    if done == n + 1:
        cap = ev.get("a listen() above somaxconn", {})
        capped = (f"; and the kernel caps it at net.core.somaxconn: listen({cap['asked']}) kept {cap['kept (ss Send-Q)']}"
                  if cap.get("kept (ss Send-Q)") == ev["somaxconn"] else "")
        return Finding("qualified", ev, f"it bounds the queue of completed connections: with listen({n}) and nobody "
                       f"accepting, {done} completed and waited in its accept queue (Linux allows backlog + 1), the other "
                       f"clients got no answer to their SYN ({ev.get('client sides, states', []).count('SYN_SENT')} "
                       "stayed SYN_SENT)" + capped,
                       documentation="listen(2): since Linux 2.2 the backlog is the queue of completely "
                       "established sockets waiting to be accepted; a larger value is truncated to somaxconn")
    return Finding("refuted", ev)


# makefile() in a fresh Python process, traced: between two getppid() markers, every call
# of the file and descriptor classes it makes (a file on disk needs open, creat, mknod...)
MAKEFILE_TRACED = r"""
import os, socket
a, b = socket.socketpair()
os.getppid()
f, r, w = a.makefile("rwb"), a.makefile("rb"), a.makefile("w")
f.write(b"line\n")
f.flush()
os.getppid()
"""
MAKES_FILES = {"open", "openat", "openat2", "creat", "mknod", "mknodat", "mkdir", "mkdirat", "link", "linkat",
               "symlink", "symlinkat", "rename", "renameat", "renameat2", "memfd_create"}


def observe_makefile() -> dict:
    """model_facts' count of descriptors, whether what makefile returns is a Python file
    object (io.IOBase), and the calls strace saw it make (none expected)."""
    ev = model_facts.makefile_files()
    a, b = socket.socketpair()
    with a, b:
        objects = [a.makefile(m) for m in ("rwb", "rb", "w")]
        ev["a Python file object (io.IOBase)"] = all(isinstance(o, io.IOBase) for o in objects)
        for o in objects:
            o.close()
    t = probes.strace([sys.executable, "-I", "-c", MAKEFILE_TRACED], trace="%file,%desc,getppid")
    if not t.available:
        ev["strace: file and descriptor calls while makefile ran"] = {"unavailable": t.why}
    else:
        marks = [i for i, c in enumerate(t.calls) if c == "getppid"]
        ev["strace: file and descriptor calls while makefile ran"] = (
            t.calls[marks[-2] + 1:marks[-1]] if len(marks) >= 2 else {"unavailable": "the markers were not seen"})
    return ev


@CLAIMS.claim("makefile-creates-file", SEED, "makefile() creates a file associated with the socket",
              observe=observe_makefile)
def judge_makefile(ev: dict) -> Finding:
    """What makefile makes: a new descriptor, one that is not the socket, or a call that
    makes a file on disk confirm; a Python file object over the socket's own descriptor,
    and nothing else, qualifies ('a file' is then Python's file object: its documentation's
    'a file object associated with the socket'); no file object at all refutes."""
    traced = ev.get("strace: file and descriptor calls while makefile ran", {"unavailable": "not traced"})
    made = sorted({c for c in traced if c in MAKES_FILES}) if isinstance(traced, list) else []
    if ev["descriptors opened by makefile"] > 0 or not ev["that descriptor is"].startswith("a socket") or made:
        return Finding("confirmed", ev)
    if not ev.get("a Python file object (io.IOBase)"):
        return Finding("refuted", ev)
    wrapper, reader = ev["makefile('rwb') returned"], ev["makefile('rb') returned"]
    disk = ((f"; and it made no file on disk: strace saw {'no file or descriptor call at all' if not traced else ', '.join(traced)}"
             " while it ran") if isinstance(traced, list) else
            f"; whether it touched the file system was not traced ({traced['unavailable']})")
    return Finding("qualified", ev, "'a file' means a Python file object: makefile returned an io object "
                   f"(io.IOBase: {wrapper}; 'rb' a {reader}) over the socket's own "
                   f"descriptor ({ev['its descriptor'].split(',')[0]}), and opened no descriptor" + disk,
                   documentation="Python's socket.makefile(): 'Return a file object associated with the socket'")


KILLED = "peer's process killed (SIGKILL): recv"
KILLED_UNREAD = "peer's process killed with data it had not read: recv"


@CLAIMS.claim("disconnect-recv-empty", SEED, "When the client disconnects suddenly, the server's recv "
              "returns b'' (empty)", observe=model_facts.sudden_disconnect)
def judge_disconnect(ev: dict) -> Finding:
    fin, rst = ev["peer close(): recv"], ev["peer close() with SO_LINGER 0 (RST): recv"]
    killed, killed_unread = ev[KILLED], ev[KILLED_UNREAD]
    if fin != "b''" or killed != "b''":
        return Finding("refuted", ev)
    resets = {"a peer that resets the connection (close with SO_LINGER 0)": rst,
              "a peer killed with data it had not read (its kernel resets the connection)": killed_unread}
    raised = {k: v for k, v in resets.items() if v != "b''"}
    if not raised:
        return Finding("confirmed", ev)
    return Finding("qualified", ev, "the peer's side closed normally (FIN): after close(), and "
                   "after its process was killed by SIGKILL, recv returned b''; but "
                   + "; ".join(f"{k} makes recv raise {v}" for k, v in raised.items()))
