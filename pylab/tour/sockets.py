"""The claims of seeds/sockets.md (seed "sockets"), then the sockets lab's own claims
from its issue (seed "lab:sockets": not in the seed), each checked live and registered
into pylab.tour.registry for `pylab tour`. Verdicts follow the evidence."""
from __future__ import annotations

from pylab.tour.registry import Finding, claim
from pylab.sockets import forking, load, spin, tcp_facts, udp_unix_facts

SEED = "sockets"
LAB = "lab:sockets"  # the lab's own claims; registered last so the tour shows them apart


@claim("recv-empty-spins", SEED, "Without `if len(msg) == 0: break`, when the client disconnects "
       "recv no longer blocks and the server's communication loop spins forever")
def recv_empty_spins() -> Finding:
    seed, fixed = spin.observe(fixed=False), spin.observe(fixed=True)
    ok = seed["spins"] and not fixed["spins"] and fixed["second client reply"] == "AGAIN"
    return Finding("confirmed" if ok else "refuted", {"seed server": seed, "fixed server": fixed})


@claim("tcp-server-first", SEED, "TCP is connection-based: the server must be started before a "
       "client connects")
def tcp_server_first() -> Finding:
    ev = tcp_facts.connect_refused()
    ok = (ev["connect before the server"].endswith("ECONNREFUSED")
          and ev["connect once it listens"].startswith("connected"))
    return Finding("confirmed" if ok else "refuted", ev)


@claim("connect-ex-errno", SEED, "connect_ex() is connect() that returns an error code instead of "
       "raising an exception")
def connect_ex_errno() -> Finding:
    ev = tcp_facts.connect_refused()
    ok = ev["connect_ex errno name"] == "ECONNREFUSED"
    ev = {k: ev[k] for k in ("connect_ex returned", "connect_ex errno name", "send after ignoring it")}
    ev["note"] = "the seed's client ignores the code: its first send fails instead"
    return Finding("confirmed" if ok else "refuted", ev)


@claim("time-wait-reuseaddr", SEED, "Restarting the server fails with 'Address already in use' "
       "because of connections in TIME_WAIT; setsockopt(SO_REUSEADDR) before bind fixes it")
def time_wait_reuseaddr() -> Finding:
    ev = tcp_facts.time_wait()

    def restart(first, old, new):
        return next(c["restart"] for c in ev["cases"] if c["closes first"] == first
                    and c["old server SO_REUSEADDR"] == old and c["new server SO_REUSEADDR"] == new)

    fails = restart("server", False, False) == "EADDRINUSE"
    fixed = restart("server", True, True) == "ok"
    only_old = restart("server", False, True) == "EADDRINUSE"
    client_first_ok = restart("client", False, False) == "ok"
    if not (fails and fixed):
        return Finding("refuted", ev)
    if only_old or client_first_ok:
        cond = []
        if client_first_ok:
            cond.append("the restart fails only if the server's side closed first (TIME_WAIT stays "
                        "with the side that closes first; when clients close first the port is free)")
        if only_old:
            cond.append("SO_REUSEADDR helps only if the old server had set it too (its TIME_WAIT "
                        "sockets keep the old flag): it works from the next restart on")
        return Finding("qualified", ev, "; ".join(cond))
    return Finding("confirmed", ev)


@claim("sysctl-tw-recycle", SEED, "Set net.ipv4.tcp_tw_recycle=1 in /etc/sysctl.conf for fast "
       "recycling of TIME-WAIT sockets")
def sysctl_tw_recycle() -> Finding:
    ev = tcp_facts.sysctls()
    if ev["tcp_tw_recycle"].startswith("absent"):
        ev["so"] = ("the setting does not exist on this kernel: the file is absent and sysctl cannot read it "
                    "(documentation, not observed: it was removed in Linux 4.12)")
        return Finding("refuted", ev)
    return Finding("qualified", ev, "only on kernels before 4.12, and it broke clients behind NAT")


@claim("sysctl-tw-reuse", SEED, "net.ipv4.tcp_tw_reuse=1 lets TIME-WAIT sockets be reused for new "
       "TCP connections (default 0), which relieves many TIME_WAITs")
def sysctl_tw_reuse() -> Finding:
    tw = tcp_facts.time_wait()
    bind = next(c["restart"] for c in tw["cases"] if c["closes first"] == "server"
                and not c["old server SO_REUSEADDR"] and not c["new server SO_REUSEADDR"])
    out = tcp_facts.tw_reuse()
    value = out["tcp_tw_reuse"]
    meaning = {"0": "off", "1": "on", "2": "on for loopback only"}.get(value, "?")
    ev = {"tcp_tw_reuse here (read only)": value, "its meaning (kernel documentation)": meaning,
          "outgoing connect() onto a client-side TIME_WAIT (observed)": out,
          "a server's bind() on its port in TIME_WAIT, no SO_REUSEADDR (observed)": bind,
          "documentation, not observed": "ip-sysctl.rst: tcp_tw_reuse is for new outgoing connections; "
          "the lab does not change the setting, so what 0 or 1 would do is not observed here"}
    reused = out["connect() reused the 4-tuple"]
    if reused and bind != "ok":
        return Finding("qualified", ev, f"an outgoing connect() reused a TIME_WAIT here (after {out['after s']} s; "
                       f"{out['connect() from that port, attempts refused']} earlier attempts got "
                       f"{'/'.join(out['refused with']) or 'nothing'}); a server's bind() on a port in TIME_WAIT "
                       f"still failed ({bind}); the setting here is {value} ({meaning}), not 1")
    if reused:
        return Finding("confirmed", ev)
    if value in ("1", "2"):  # on (2: loopback, which the lab used) and yet no reuse
        return Finding("refuted", ev)
    return Finding("qualified", ev, f"not observable here: tcp_tw_reuse is {value} ({meaning}) and connect() "
                   f"did not reuse the TIME_WAIT ({'/'.join(out['refused with'])}); the lab never sets it to 1")


@claim("sysctl-fin-timeout", SEED, "net.ipv4.tcp_fin_timeout changes the system's default TIMEOUT "
       "(the seed names no state; the lab reads it as the TIME_WAIT timeout)")
def sysctl_fin_timeout() -> Finding:
    fin = int(tcp_facts.read_sysctl("tcp_fin_timeout") or 0)
    seen = tcp_facts.time_wait()["time_wait seen"]
    left = max(r["timer_left_s"] or 0 for r in seen["/proc/net/tcp"])
    fw2 = tcp_facts.fin_wait2()["timer_left_s"]
    ev = {"the seed says": "net.ipv4.tcp_fin_timeout修改系統默认的TIMEOUT时间 (changes the system's default TIMEOUT)",
          "the lab's reading (an interpretation)": "TIMEOUT = how long a connection stays in TIME_WAIT",
          "tcp_fin_timeout (read only)": fin,
          "a fresh TIME_WAIT's timer (s, /proc/net/tcp)": left,
          "an orphaned FIN_WAIT_2's timer (s, /proc/net/tcp)": fw2}
    follows = fw2 is not None and abs(fw2 - fin) <= 1
    governs = (f"it times FIN_WAIT_2: an orphaned FIN_WAIT_2 here starts at {fw2} s, as tcp_fin_timeout"
               if follows else f"an orphaned FIN_WAIT_2 here starts at {fw2} s, not at tcp_fin_timeout ({fin} s)")
    if left > fin + 1:  # TIME_WAIT outlasts the setting: it does not follow it
        ev["so"] = f"TIME_WAIT does not follow it; {governs}"
        return Finding("refuted", ev)
    cond = f"{governs}; a TIME_WAIT here starts at {left} s"
    if round(left) == fin:
        cond += (f"; both are {fin} s here, so whether TIME_WAIT follows the setting cannot be told "
                 "without changing it, which the lab never does")
    return Finding("qualified", ev, cond)


@claim("send-loses-data", SEED, "send() loses data when it is larger than the free space in the "
       "send buffer; sendall() loops over send and loses nothing")
def send_loses_data() -> Finding:
    ev = tcp_facts.send_vs_sendall()
    short = ev["send returned"] < ev["bytes offered"]
    lost = ev["received after send"] != ev["send returned"]
    all_sent = ev["received after sendall"] == ev["bytes offered"]
    if lost:
        return Finding("confirmed", ev)
    if short and all_sent:
        ev["so"] = ("send took only what fitted and said so in its return value; the rest was never "
                    "sent (the caller still has it), not lost; sendall delivered every byte")
        return Finding("refuted", ev)
    return Finding("qualified", ev, "send was not short here: the buffers took everything")


@claim("udp-either-first", SEED, "UDP is connectionless: whichever side starts first, no error")
def udp_either_first() -> Finding:
    ev = udp_unix_facts.udp_order()
    late = "server bound first, then a client sends b'late'"
    ok = ev["client sends before the server exists"] == "no error" and ev[late] == "server received b'late'"
    return Finding("confirmed" if ok else "refuted",
                   {k: ev[k] for k in ("client sends before the server exists", "the early datagram", late)})


@claim("unix-socket-file", SEED, "AF_UNIX sockets fetch their data through the file system: two "
       "processes communicate by accessing the same file")
def unix_socket_file() -> Finding:
    ev = udp_unix_facts.unix_socket_file()
    before, after = ev["the file before a transfer"], ev["the file after the transfer"]
    moved = ev["bytes received"] == ev["bytes sent through the socket"] > 0
    no_data_in_file = (after["type"] == "socket" and after["st_size"] == 0 and after["st_blocks"] == 0
                       and before == after)
    if not moved:
        raise RuntimeError(f"the transfer failed: {ev['bytes received']} of {ev['bytes sent through the socket']} bytes")
    if not no_data_in_file:
        return Finding("confirmed", ev)
    ev["so"] = (f"{ev['bytes received']} bytes went through the socket and none through its file: a socket "
                "file (S_ISSOCK) of size 0 before and after, only the socket's name")
    outlives = ev["after close: the file exists"] and ev["bind again"].endswith("EADDRINUSE")
    if outlives:
        ev["and"] = "the name outlives close() (the next bind fails with EADDRINUSE) until unlinked"
    if ev["abstract: in /proc/net/unix while open"] and not ev["abstract: files by that name (cwd, temp dir)"]:
        ev["and an abstract-namespace socket"] = "has no file at all"
    return Finding("refuted", ev)


@claim("settimeout-raises", SEED, "settimeout() sets a timeout on blocking operations and "
       "setblocking(False) makes them non-blocking")
def settimeout_raises() -> Finding:
    ev = tcp_facts.timeouts()
    ok = (ev["recv with settimeout"].startswith("TimeoutError") and ev["raised after s"] >= ev["timeout set s"]
          and ev["recv non-blocking"].startswith("BlockingIOError"))
    return Finding("confirmed" if ok else "refuted", ev)


# -- the lab's own claims (its issue), not the seed's --------------------------------
@claim("udp-boundaries", LAB, "UDP keeps message boundaries: each recvfrom returns one datagram "
       "(TCP is a byte stream)")
def udp_boundaries() -> Finding:
    ev = udp_unix_facts.udp_order()
    ok = ev["recvfrom(1024) calls returned"] == ev["datagrams sent"]
    keys = ("datagrams sent", "recvfrom(1024) calls returned", "tcp: the same three sends, one recv(1024)")
    return Finding("confirmed" if ok else "refuted", {k: ev[k] for k in keys})


@claim("udp-connected-refused", LAB, "A connected UDP socket learns that the port is closed "
       "(ECONNREFUSED); an unconnected one is not told")
def udp_connected_refused() -> Finding:
    ev = udp_unix_facts.udp_connected_refused()
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


@claim("fork-server-zombies", LAB, "A forking server that never waits leaves one zombie per finished "
       "client; a SIGCHLD handler reaping with WNOHANG leaves none; ForkingTCPServer reaps in collect_children")
def fork_server_zombies() -> Finding:
    n = 3
    noreap, reap = forking.c_server("noreap", n), forking.c_server("reap", n)
    py = forking.python_server(2, poll_interval=60.0)
    ev = {"fork_server noreap zombies": noreap["zombies"], "fork_server reap zombies": reap["zombies"],
          "clients each": n, "ForkingTCPServer (poll_interval 60 s)": py["clients"],
          "ForkingTCPServer collect_children": py["collect_children lines"]}
    ok = noreap["zombies"] == n and reap["zombies"] == 0 and py["zombies after the last client"] == 1
    return Finding("confirmed" if ok else "refuted", ev)


@claim("echo-survives-faults", LAB, "The fixed echo server keeps serving through sequential and "
       "concurrent clients and resets and gives back every descriptor; a silent client is dropped after the "
       "idle timeout while others are served")
def echo_survives_faults() -> Finding:
    ev = load.run(n_seq=200, n_conc=50, n_reset=10)
    ok = (ev["server fds at the end"] == ev["server fds at start"] and ev["server still serves"] == "STILL THERE?"
          and ev["silent client"]["served meanwhile"] == "MEANWHILE"
          and "closed timeout" in ev["silent client"]["its server logged"])
    return Finding("confirmed" if ok else "refuted", ev)
