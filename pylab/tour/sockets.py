"""The claims of seeds/sockets.md (seed "sockets"), then the sockets lab's own claims
from its issue (seed "lab:sockets": not in the seed). The experiments live in the
sockets lab (pylab.sockets); here each claim is an observe (one of them, returning its
evidence) and a judge registered in CLAIMS, as in every other claim module."""
from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from pylab.sockets import forking, load, spin, tcp_facts, udp_unix_facts
from pylab.tour import memo, probes
from pylab.tour.shape import ClaimList, Finding, unverified

CLAIMS = ClaimList()

SEED = "sockets"
LAB = "lab:sockets"  # the lab's own claims; registered last so the tour shows them apart

# experiments several observations share: run once per tour (pylab.tour.memo)
time_wait = memo.shared(tcp_facts.time_wait)
udp_order = memo.shared(udp_unix_facts.udp_order)
udp_connected_refused = memo.shared(udp_unix_facts.udp_connected_refused)


@memo.shared  # recv-empty-spins and socket-facade judge one run
def observe_spin() -> dict:
    """Both servers, watched the same way (alone: CPU samples need the machine quiet); and
    TCP's merging of three sends, which the socket-facade claim judges with them."""
    return {"seed server": spin.observe(fixed=False), "fixed server": spin.observe(fixed=True),
            "tcp: three sends, one recv(1024)": udp_order()["tcp: the same three sends, one recv(1024)"]}


def spins(ev: dict) -> bool | None:
    """True: the loop spins (empty receives and CPU time both grew while we watched);
    False: blocked (back in accept, neither grew); None: undecided."""
    cpu = ev["while the observer worked: server CPU ns"]
    lines = ev["while the observer worked: new empty recv lines"]
    if cpu is None:
        return None
    if lines > 0 and cpu > 0 and ev["empty recv lines after the disconnect"] >= spin.SPIN_LINES:
        return True
    if lines == 0 and cpu == 0 and ev["back in accept ('waiting for a connection' again)"]:
        return False
    return None


@CLAIMS.claim("recv-empty-spins", SEED, "Without `if len(msg) == 0: break`, when the client disconnects "
              "recv no longer blocks and the server's communication loop spins forever",
              observe=observe_spin, alone=True)
def judge_recv_spins(seen: dict) -> Finding:
    seed, fixed = spins(seen["seed server"]), spins(seen["fixed server"])
    evidence = {"seed server": seen["seed server"], "fixed server": seen["fixed server"],
                "seed server spins": seed, "fixed server spins": fixed}
    if seed is None or fixed is None:
        return unverified("a clear sample: the server's CPU time (schedstat) and its empty receives did not "
                          "agree, or /proc/PID/schedstat is missing", evidence)
    if seed and not fixed and seen["fixed server"].get("second client reply") == "AGAIN":
        return Finding("confirmed", evidence)
    return Finding("refuted", evidence)


@CLAIMS.claim("tcp-server-first", SEED, "TCP is connection-based: the server must be started before a "
              "client connects", observe=tcp_facts.connect_refused)
def judge_tcp_server_first(ev: dict) -> Finding:
    ok = (ev["connect before the server"].endswith("ECONNREFUSED")
          and ev["connect once it listens"].startswith("connected"))
    return Finding("confirmed" if ok else "refuted", ev)


@CLAIMS.claim("connect-ex-errno", SEED, "connect_ex() is connect() that returns an error code instead of "
              "raising an exception", observe=tcp_facts.connect_refused)
def judge_connect_ex(seen: dict) -> Finding:
    ev = {k: seen[k] for k in ("connect_ex returned", "connect_ex errno name", "send after ignoring it")
          if k in seen}
    ev.update({k: v for k, v in seen.items() if k.startswith("connect_ex with")})
    ev["note"] = "the seed's client ignores the code: its first send fails instead"
    if seen["connect_ex errno name"] != "ECONNREFUSED":
        return Finding("refuted", ev)
    raised = {k: v for k, v in seen.items() if k.startswith("connect_ex with") and v.startswith("raised")}
    if raised:
        return Finding("qualified", ev, "only errors of the C connect() come back as codes: "
                       + "; ".join(f"{k[len('connect_ex with '):]} still {v}" for k, v in raised.items()))
    return Finding("confirmed", ev)


def restart(ev: dict, first: str, old: bool, new: bool) -> str:
    return next(c["restart"] for c in ev["cases"] if c["closes first"] == first
                and c["old server SO_REUSEADDR"] == old and c["new server SO_REUSEADDR"] == new)


FIN_WAIT = "a live connection of the stopped server (FIN_WAIT)"  # pylab.sockets.tcp_facts' key
CHILD = "a child still holding the listener"
BOTH_REUSE = "the same, both servers with SO_REUSEADDR"


def stopped_mid_connection_both_reuse() -> dict:
    """tcp_facts' server stopped mid-connection (its side in FIN_WAIT2, its client still
    connected), but with SO_REUSEADDR on the old server too; then a restart with it."""
    seen = tcp_facts.stopped_mid_connection(old_reuse=True)
    return {"states": seen["states"], "restart": seen["restart with SO_REUSEADDR"]}


def observe_time_wait() -> dict:
    """The restarts over TIME_WAIT and the other causes (tcp_facts.time_wait, shared with the
    sysctl claims), and a restart over FIN_WAIT2 with SO_REUSEADDR on both servers."""
    return {**time_wait(), BOTH_REUSE: stopped_mid_connection_both_reuse()}


def _other_causes(ev: dict) -> dict:
    """The other causes as evidence, each saying which server had SO_REUSEADDR."""
    other = ev.get("other causes", {})
    shown = {}
    if FIN_WAIT in other:
        fw = other[FIN_WAIT]
        shown["a server stopped mid-connection (FIN_WAIT), the old server without SO_REUSEADDR"] = {
            "states": fw.get("states"), "restart, no SO_REUSEADDR": fw.get("restart"),
            "restart with SO_REUSEADDR on the new server only": fw.get("restart with SO_REUSEADDR")}
    if BOTH_REUSE in ev:
        shown["a server stopped mid-connection (FIN_WAIT), both servers with SO_REUSEADDR"] = ev[BOTH_REUSE]
    if CHILD in other:
        shown["a forked child still holding the listener (both servers with SO_REUSEADDR)"] = other[CHILD]
    return shown


@CLAIMS.claim("time-wait-reuseaddr", SEED, "Restarting the server fails with 'Address already in use' "
              "because of connections in TIME_WAIT; setsockopt(SO_REUSEADDR) before bind fixes it",
              observe=observe_time_wait)
def judge_time_wait(seen: dict) -> Finding:
    ev = {k: v for k, v in seen.items() if k not in ("other causes", BOTH_REUSE)}
    if "other causes" in seen or BOTH_REUSE in seen:
        ev["other causes"] = _other_causes(seen)
    fails = restart(ev, "server", False, False) == "EADDRINUSE"
    fixed = restart(ev, "server", True, True) == "ok"
    only_old = restart(ev, "server", False, True) == "EADDRINUSE"
    client_first_ok = restart(ev, "client", False, False) == "ok"
    if not (fails and fixed):
        return Finding("refuted", ev)
    cond = []
    if client_first_ok:
        cond.append("the restart fails only if the server's side closed first (TIME_WAIT stays "
                    "with the side that closes first; when clients close first the port is free)")
    if only_old:
        cond.append("SO_REUSEADDR helps only if the old server had set it too: it works from the next "
                    "restart on")
    other = seen.get("other causes", {})
    fin_wait = other.get(FIN_WAIT, {})
    if fin_wait.get("restart") == "EADDRINUSE":
        both = seen.get(BOTH_REUSE, {}).get("restart")
        cond.append("TIME_WAIT is not the only cause: a server stopped mid-connection leaves "
                    f"{'/'.join(fin_wait['states'])} on its port, and while it is there a restart fails "
                    "before any TIME_WAIT when the old server had not set SO_REUSEADDR"
                    + (f" (with it on the new server only: {fin_wait['restart with SO_REUSEADDR']})"
                       if fin_wait.get("restart with SO_REUSEADDR") else "")
                    + (f"; with it on both servers the restart was {both}" if both else ""))
    if other.get(CHILD, {}).get("restart with SO_REUSEADDR") == "EADDRINUSE":
        cond.append("and while another process (a forked child) still holds the listening socket, "
                    "bind fails even with SO_REUSEADDR")
    if cond:
        return Finding("qualified", ev, "; ".join(cond), documentation="socket(7) SO_REUSEADDR: bind may reuse a "
                       "local address unless a listening socket holds it; both sockets need the option, and a "
                       "TIME_WAIT socket keeps the one its connection had")
    return Finding("confirmed", ev)


def observe_netns() -> dict:
    """pylab.sockets.netns in a private network namespace (its own defaults, changed freely)."""
    r = probes.in_namespaces([sys.executable, "-P", "-m", "pylab.sockets.netns"], ("net",))
    return json.loads(r["stdout"]) if r["ran"] else {"unavailable": r["why"]}


def observe_sysctl_advice() -> dict:
    """Everything the seed's sysctl advice is judged on: the host's settings (read only),
    connect() onto a TIME_WAIT on the host, the timers, and the private namespace's run."""
    # aside: the namespace's run needs nothing of the host's, and connect() onto a TIME_WAIT
    # (which waits out the host's tcp_tw_reuse_delay, 1 s) has its own ports
    with ThreadPoolExecutor(max_workers=2) as aside:
        netns, reuse = aside.submit(observe_netns), aside.submit(tcp_facts.tw_reuse)
        tw = time_wait()
        return {"host": tcp_facts.sysctls(), "bind": restart(tw, "server", False, False), "reuse": reuse.result(),
                "fin_timeout": int(tcp_facts.read_sysctl("tcp_fin_timeout") or 0),
                "time_wait left": max(r["timer_left_s"] or 0 for r in tw["time_wait seen"]["/proc/net/tcp"]),
                "fin_wait2 left": tcp_facts.fin_wait2()["timer_left_s"], "netns": netns.result()}


@CLAIMS.claim("sysctl-tw-recycle", SEED, "Set net.ipv4.tcp_tw_recycle=1 in /etc/sysctl.conf for fast "
              "recycling of TIME-WAIT sockets", observe=observe_sysctl_advice)
def judge_tw_recycle(seen: dict) -> Finding:
    ev = seen["host"]
    if ev["tcp_tw_recycle"].startswith("absent"):
        ev = {**ev, "so": "the setting does not exist on this kernel: the file is absent and sysctl cannot read it"}
        return Finding("refuted", ev, documentation="tcp_tw_recycle was removed in Linux 4.12")
    return Finding("unverified", ev, missing=f"what the setting does: this kernel still has it (tcp_tw_recycle = "
                   f"{ev['tcp_tw_recycle']}), and the host's settings are never changed, so fast recycling was not "
                   "observed", documentation="ip-sysctl.rst of kernels before 4.12: it drops connections from clients "
                   "behind NAT (their timestamps disagree), and Linux 4.12 removed it")


TW_REUSE_MEANING = {"0": "off", "1": "on", "2": "on for loopback only"}


@CLAIMS.claim("sysctl-tw-reuse", SEED, "net.ipv4.tcp_tw_reuse=1 lets TIME-WAIT sockets be reused for new "
              "TCP connections (default 0), which relieves many TIME_WAITs", observe=observe_sysctl_advice)
def judge_tw_reuse(seen: dict) -> Finding:
    out, bind, ns = seen["reuse"], seen["bind"], seen["netns"]
    value = out["tcp_tw_reuse"]
    meaning = TW_REUSE_MEANING.get(value, "?")
    ev = {"tcp_tw_reuse on the host (read only)": f"{value} ({meaning})",
          "host: outgoing connect() onto a client-side TIME_WAIT": out,
          "host: a server's bind() on its port in TIME_WAIT, no SO_REUSEADDR": bind}
    doc = ("ip-sysctl.rst: tcp_tw_reuse (0 off, 1 on, 2 loopback only) lets a new outgoing connect() take "
           "over a TIME_WAIT 4-tuple when timestamps allow it, after tcp_tw_reuse_delay")
    if "unavailable" in ns:
        return unverified(f"tcp_tw_reuse 0 against 1: a private network namespace was not available "
                          f"({ns['unavailable']}) and the host's setting is never changed", ev)
    tried = ns["connect() onto a TIME_WAIT 4-tuple"]
    ev["private network namespace: connect() onto a TIME_WAIT 4-tuple"] = tried
    ev["private network namespace: default tcp_tw_reuse"] = ns["defaults"]["tcp_tw_reuse"]
    off, on = tried["tcp_tw_reuse=0"]["reused"], tried["tcp_tw_reuse=1"]["reused"]
    if off or not on:
        return Finding("refuted", ev, documentation=doc)
    default = ns["defaults"]["tcp_tw_reuse"]
    if bind == "ok" and default == "0":
        return Finding("confirmed", ev, documentation=doc)
    after = tried["tcp_tw_reuse=1"].get("after s")
    refused = "/".join(tried["tcp_tw_reuse=0"]["refused with"]) or "no reuse (and no error)"
    cond = ["for outgoing connect() only: with 1 a connect() took over a TIME_WAIT 4-tuple"
            + (f" (after {after} s; tcp_tw_reuse_delay set to {ns['tcp_tw_reuse_delay ms used']} ms)"
               if after is not None else "") + f", with 0 it got {refused}"]
    if bind != "ok":
        cond.append(f"a server's bind() on a port in TIME_WAIT still failed ({bind})")
    if default != "0":
        cond.append(f"the default is {default} ({TW_REUSE_MEANING.get(default, '?')}), not 0")
    return Finding("qualified", ev, "; ".join(cond), documentation=doc)


def at_setting(timer: float, setting: float) -> bool:
    """A fresh timer read a moment after it started: at most 2 s under its start, never above."""
    return setting - 2 <= timer <= setting + 1


@CLAIMS.claim("sysctl-fin-timeout", SEED, "net.ipv4.tcp_fin_timeout changes the system's default TIMEOUT "
              "(the seed names no state; its section is about many connections in TIME_WAIT)",
              observe=observe_sysctl_advice)
def judge_fin_timeout(seen: dict) -> Finding:
    """Which timeout follows the setting: confirmed when TIME_WAIT's does (the seed's section
    is about TIME_WAIT); qualified when only an orphaned FIN_WAIT_2's does (a default
    timeout changes, not the one the section needs); refuted when neither does."""
    fin, left, fw2, ns = seen["fin_timeout"], seen["time_wait left"], seen["fin_wait2 left"], seen["netns"]
    ev = {"the seed says": "net.ipv4.tcp_fin_timeout修改系統默认的TIMEOUT时间 (changes the system's default TIMEOUT)",
          "the seed's section": "系统存在大量TIME_WAIT状态的连接 (the system has many connections in TIME_WAIT), "
                                "cured by kernel settings",
          "host: tcp_fin_timeout (read only)": fin,
          "host: a fresh TIME_WAIT's timer (s, /proc/net/tcp)": left,
          "host: an orphaned FIN_WAIT_2's timer (s, /proc/net/tcp)": fw2}
    if "unavailable" not in ns:
        ev["private network namespace, tcp_fin_timeout=30"] = changed = ns["tcp_fin_timeout=30"]
        setting, tw, fw = 30, changed["a fresh TIME_WAIT's timer (s)"], changed["an orphaned FIN_WAIT_2's timer (s)"]
        where = "in a private network namespace"
    elif not at_setting(left, fin):
        setting, tw, fw, where = fin, left, fw2, "on the host"
    else:
        return unverified(f"a private network namespace to change the setting in ({ns['unavailable']}); on the host "
                          f"both timers start at the setting, {fin} s, so which of them follows it cannot be told", ev)
    host = (f" (on the host, at {fin}: {fw2} s)" if where != "on the host" and fin != setting else "")
    if at_setting(tw, setting):
        ev["so"] = f"set to {setting} {where}, a fresh TIME_WAIT starts at {tw} s: it follows the setting"
        return Finding("confirmed", ev)
    if at_setting(fw, setting):
        return Finding("qualified", ev, "'TIMEOUT' is the orphaned FIN_WAIT_2 timeout, not TIME_WAIT's: set to "
                       f"{setting} {where}, an orphaned FIN_WAIT_2 started at {fw} s{host}, so the setting does change "
                       f"that default; a fresh TIME_WAIT started at {tw} s, so it does not shorten the TIME_WAITs the "
                       "seed's section is about",
                       documentation="ip-sysctl.rst: tcp_fin_timeout is how long an orphaned connection (no longer "
                       "referenced by any application) stays in FIN_WAIT_2; TIME_WAIT lasts TCP_TIMEWAIT_LEN (60 s)")
    ev["so"] = f"set to {setting} {where}, neither timer followed it: TIME_WAIT at {tw} s, FIN_WAIT_2 at {fw} s"
    return Finding("refuted", ev)


@CLAIMS.claim("sysctl-defaults", SEED, "tcp_syncookies and tcp_tw_reuse default to 0 (off)",
              observe=observe_sysctl_advice)
def judge_sysctl_defaults(seen: dict) -> Finding:
    ns = seen["netns"]
    if "unavailable" in ns:
        return unverified(f"a fresh network namespace to read the defaults in ({ns['unavailable']}); the host's "
                          "values may have been set by its administrator", {"host": seen["host"]})
    d = ns["defaults"]
    ev = {"a fresh network namespace's defaults": d, "host (read only)": seen["host"]}
    if d["tcp_syncookies"] == "0" and d["tcp_tw_reuse"] == "0":
        return Finding("confirmed", ev)
    return Finding("refuted", ev, documentation="tcp_tw_reuse 2 means on for loopback only (ip-sysctl.rst)")


@CLAIMS.claim("sysctls-cure-bind", SEED, "These sysctl settings (syncookies, tw_reuse, fin_timeout 30) cure "
              "the server's 'Address already in use' on restart", observe=observe_sysctl_advice)
def judge_sysctls_cure_bind(seen: dict) -> Finding:
    ns = seen["netns"]
    if "unavailable" in ns:
        return unverified(f"a private network namespace to apply the advice in ({ns['unavailable']}); the host's "
                          "settings are never changed", {"host": seen["host"]})
    key = "with it, a server restart on its port in TIME_WAIT (no SO_REUSEADDR)"
    ev = {"the seed's advice applied in a private network namespace": ns["the seed's advice applied"], key: ns[key]}
    return Finding("refuted" if ns[key] == "EADDRINUSE" else "confirmed", ev)


@CLAIMS.claim("send-loses-data", SEED, "send() loses data when it is larger than the free space in the "
              "send buffer; sendall() loops over send and loses nothing", observe=tcp_facts.send_vs_sendall)
def judge_send(ev: dict) -> Finding:
    short = ev["send returned"] < ev["bytes offered"]
    lost = ev["received after send"] != ev["send returned"]
    all_sent = ev["received after sendall"] == ev["bytes offered"]
    if lost:
        return Finding("confirmed", ev)
    if short and all_sent:
        ev = {**ev, "so": "a non-blocking send took only what fitted and said so in its return value; the rest "
              "was never sent (the caller still has it), not lost; sendall delivered every byte"}
        blocking = ev.get("blocking send (the seed's socket) returned")
        if blocking is not None:
            ev["and"] = (f"on the seed's blocking socket, send of {ev['bytes offered']} bytes returned {blocking}: "
                         "it waited for room instead")
        return Finding("refuted", ev)
    return unverified(f"a short send: the buffers took all {ev['bytes offered']} bytes at once, so what send "
                      "does with more than fits was not seen", ev)


@CLAIMS.claim("udp-either-first", SEED, "UDP is connectionless: whichever side starts first, no error",
              observe=lambda: {**udp_order(), "connected": udp_connected_refused()})
def judge_udp_first(seen: dict) -> Finding:
    late = "server bound first, then a client sends b'late'"
    ev = {k: seen[k] for k in ("client sends before the server exists", "the early datagram", late)}
    if not (seen["client sends before the server exists"] == "no error" and seen[late] == "server received b'late'"):
        return Finding("refuted", ev)
    cond = []
    if seen["the early datagram"].startswith("lost"):
        cond.append("no error is reported, but a datagram sent before the server exists is lost, silently")
    refused = seen["connected"]["connected: next call (recv)"]
    ev["a connected client, no server: its next call"] = refused
    if refused.endswith("ECONNREFUSED"):
        cond.append(f"and a connected client does get an error: {refused}")
    if cond:
        return Finding("qualified", ev, "; ".join(cond))
    return Finding("confirmed", ev)


@CLAIMS.claim("unix-socket-file", SEED, "AF_UNIX sockets fetch their data through the file system: two "
              "processes communicate by accessing the same file", observe=udp_unix_facts.unix_socket_file)
def judge_unix_file(ev: dict) -> Finding:
    before, after = ev["the file before a transfer"], ev["the file after the transfer"]
    moved = ev["bytes received"] == ev["bytes sent through the socket"] > 0
    no_data_in_file = (after["type"] == "socket" and after["st_size"] == 0 and after["st_blocks"] == 0
                       and before == after)
    if not moved:
        raise RuntimeError(f"the transfer failed: {ev['bytes received']} of {ev['bytes sent through the socket']} bytes")
    if not no_data_in_file:
        return Finding("confirmed", ev)
    ev = {**ev, "so": f"{ev['bytes received']} bytes went through the socket and none through its file: a socket "
          "file (S_ISSOCK) of size 0 before and after, only the socket's name"}
    if ev["after close: the file exists"] and ev["bind again"].endswith("EADDRINUSE"):
        ev["and"] = "the name outlives close() (the next bind fails with EADDRINUSE) until unlinked"
    if ev["abstract: in /proc/net/unix while open"] and not ev["abstract: files by that name (cwd, temp dir)"]:
        ev["and an abstract-namespace socket"] = "has no file at all"
    return Finding("refuted", ev)


@CLAIMS.claim("settimeout-raises", SEED, "settimeout() sets a timeout on blocking operations and "
              "setblocking(False) makes them non-blocking", observe=tcp_facts.timeouts)
def judge_timeouts(ev: dict) -> Finding:
    ok = (ev["recv with settimeout"].startswith("TimeoutError") and ev["raised after s"] >= ev["timeout set s"]
          and ev["recv non-blocking"].startswith("BlockingIOError"))
    return Finding("confirmed" if ok else "refuted", ev)


# -- the lab's own claims (its issue), not the seed's --------------------------------
@CLAIMS.claim("udp-boundaries", LAB, "UDP keeps message boundaries: each recvfrom returns one datagram "
              "(TCP is a byte stream)", observe=udp_order)
def judge_udp_boundaries(ev: dict) -> Finding:
    ok = ev["recvfrom(1024) calls returned"] == ev["datagrams sent"]
    keys = ("datagrams sent", "recvfrom(1024) calls returned", "tcp: the same three sends, one recv(1024)")
    return Finding("confirmed" if ok else "refuted", {k: ev[k] for k in keys})


@CLAIMS.claim("udp-connected-refused", LAB, "A connected UDP socket learns that the port is closed "
              "(ECONNREFUSED); an unconnected one is not told", observe=udp_connected_refused)
def judge_udp_refused(ev: dict) -> Finding:
    connected = ev["connected: next call (recv)"].endswith("ECONNREFUSED")
    icmp = "ICMP type 3 code 3"  # destination unreachable: port unreachable
    arrived = (ev["a witness socket (IP_RECVERR, sent after b'plain'): error queue"].startswith(icmp)
               and ev["unconnected: then its error queue"].startswith(icmp))
    silent = (ev["unconnected, IP_RECVERR never on, sent b'plain': recvfrom"].startswith("BlockingIOError")
              and ev["unconnected, IP_RECVERR never on: SO_ERROR"] == 0
              and ev["unconnected: error queue after b'first' (IP_RECVERR off when it was sent)"] == "empty")
    told_with_recverr = ev["unconnected: then recvfrom"].endswith("ECONNREFUSED")
    if not (connected and arrived and silent):
        return Finding("refuted", ev)
    if told_with_recverr:
        return Finding("qualified", ev, "an unconnected socket is not told by default, although ICMP "
                       "port-unreachable answers do come back to unconnected sockets (IP_RECVERR error queues "
                       "hold them); with IP_RECVERR on, it is told too: its recvfrom raised ECONNREFUSED")
    return Finding("confirmed", ev)


def observe_fork_servers(n: int = 3) -> dict:
    return {"clients each": n, "noreap": forking.c_server("noreap", n), "reap": forking.c_server("reap", n),
            "python": forking.python_server(2, poll_interval=60.0)}


@CLAIMS.claim("fork-server-zombies", LAB, "A forking server that never waits leaves one zombie per finished "
              "client; a SIGCHLD handler reaping with WNOHANG leaves none; ForkingTCPServer reaps in collect_children",
              observe=observe_fork_servers)
def judge_fork_servers(seen: dict) -> Finding:
    n, noreap, reap, py = seen["clients each"], seen["noreap"], seen["reap"], seen["python"]
    ev = {"fork_server noreap zombies": noreap["zombies"], "fork_server reap zombies": reap["zombies"],
          "clients each": n, "ForkingTCPServer (poll_interval 60 s)": py["clients"],
          "ForkingTCPServer collect_children": py["collect_children lines"]}
    ok = noreap["zombies"] == n and reap["zombies"] == 0 and py["zombies after the last client"] == 1
    return Finding("confirmed" if ok else "refuted", ev)


@CLAIMS.claim("echo-survives-faults", LAB, "The fixed echo server keeps serving through sequential and "
              "concurrent clients and resets and gives back every descriptor; a silent client is dropped after the "
              "idle timeout while others are served", observe=lambda: load.run(n_seq=200, n_conc=50, n_reset=10))
def judge_echo_faults(ev: dict) -> Finding:
    ok = (ev["server fds at the end"] == ev["server fds at start"] and ev["server still serves"] == "STILL THERE?"
          and ev["silent client"]["served meanwhile"] == "MEANWHILE"
          and "closed timeout" in ev["silent client"]["its server logged"])
    return Finding("confirmed" if ok else "refuted", ev)
