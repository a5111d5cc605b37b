"""The claims of seeds/sockets.md (and of the sockets lab's issue), each checked live
and registered into pylab.claims for `pylab tour`. Verdicts follow the evidence."""
from __future__ import annotations

from pylab.claims import Finding, claim
from pylab.sockets import forking, load, spin, tcp_facts, udp_unix_facts

SEED = "sockets"


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
        ev["so"] = ("the setting does not exist here (it was removed in Linux 4.12): sysctl cannot read "
                    "it, and a line for it in /etc/sysctl.conf makes `sysctl -p` report an error")
        return Finding("refuted", ev)
    return Finding("qualified", ev, "only on kernels before 4.12, and it broke clients behind NAT")


@claim("sysctl-tw-reuse", SEED, "net.ipv4.tcp_tw_reuse=1 lets TIME-WAIT sockets be reused for new "
       "TCP connections (default 0), which relieves many TIME_WAITs")
def sysctl_tw_reuse() -> Finding:
    values = tcp_facts.sysctls()
    tw = tcp_facts.time_wait()
    failed = next(c["restart"] for c in tw["cases"] if c["closes first"] == "server"
                  and not c["old server SO_REUSEADDR"] and not c["new server SO_REUSEADDR"])
    ev = {"tcp_tw_reuse here": values["tcp_tw_reuse"],
          "meaning": {"0": "off", "1": "on", "2": "on for loopback only"}.get(values["tcp_tw_reuse"], "?"),
          "server restart on a port in TIME_WAIT without SO_REUSEADDR": failed}
    return Finding("qualified", ev, "it applies to new outgoing connections (connect) only, never to a "
                   f"server's bind (still {failed} here); here it is {values['tcp_tw_reuse']} ({ev['meaning']})")


@claim("sysctl-fin-timeout", SEED, "net.ipv4.tcp_fin_timeout changes the system's default TIME_WAIT timeout")
def sysctl_fin_timeout() -> Finding:
    fin = int(tcp_facts.read_sysctl("tcp_fin_timeout") or 0)
    seen = tcp_facts.time_wait()["time_wait seen"]
    left = max(r["timer_left_s"] or 0 for r in seen["/proc/net/tcp"])
    ev = {"tcp_fin_timeout": fin, "a fresh TIME_WAIT's timer (s, /proc/net/tcp)": left}
    if left > fin + 1:  # TIME_WAIT outlasts the setting: it does not follow it
        return Finding("refuted", ev)
    cond = f"it is the timeout of FIN_WAIT_2 (orphaned connections); a TIME_WAIT here starts at {left} s"
    if round(left) == fin:
        cond += (f"; both are {fin} s here, so they cannot be told apart without changing the "
                 "setting, which the lab never does")
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
    ok = ev["client sends before the server exists"] == "no error" and ev["server started first, then a client"] == "late"
    return Finding("confirmed" if ok else "refuted", ev)


@claim("udp-boundaries", SEED, "UDP keeps message boundaries: each recvfrom returns one datagram "
       "(TCP is a byte stream)")
def udp_boundaries() -> Finding:
    ev = udp_unix_facts.udp_order()
    ok = ev["recvfrom(1024) calls returned"] == ev["datagrams sent"]
    keys = ("datagrams sent", "recvfrom(1024) calls returned", "tcp: the same three sends, one recv(1024)")
    return Finding("confirmed" if ok else "refuted", {k: ev[k] for k in keys})


@claim("udp-connected-refused", SEED, "A connected UDP socket learns that the port is closed "
       "(ECONNREFUSED); an unconnected one is not told")
def udp_connected_refused() -> Finding:
    ev = udp_unix_facts.udp_connected_refused()
    unconnected = ev["unconnected socket, sent to the same port, next recvfrom"]
    ok = ev["next call (recv)"].endswith("ECONNREFUSED") and unconnected.startswith("BlockingIOError")
    return Finding("confirmed" if ok else "refuted", ev)


@claim("unix-socket-file", SEED, "AF_UNIX sockets communicate through a file in the file system")
def unix_socket_file() -> Finding:
    ev = udp_unix_facts.unix_socket_file()
    outlives = ev["after close: the file exists"] and ev["bind again"].endswith("EADDRINUSE")
    abstract_no_file = (ev["abstract: in /proc/net/unix while open"]
                        and not ev["abstract: files by that name (cwd, temp dir)"])
    if outlives and abstract_no_file:
        return Finding("qualified", ev, "the file is only the socket's name: it outlives close() (the next "
                       "bind fails with EADDRINUSE) until unlinked, and an abstract-namespace socket has no file")
    return Finding("confirmed", ev)


@claim("settimeout-raises", SEED, "settimeout() sets a timeout on blocking operations and "
       "setblocking(False) makes them non-blocking")
def settimeout_raises() -> Finding:
    ev = tcp_facts.timeouts()
    ok = (ev["recv with settimeout"].startswith("TimeoutError") and ev["raised after s"] >= ev["timeout set s"]
          and ev["recv non-blocking"].startswith("BlockingIOError"))
    return Finding("confirmed" if ok else "refuted", ev)


@claim("fork-server-zombies", SEED, "A forking server that never waits leaves one zombie per finished "
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


@claim("echo-survives-faults", SEED, "The fixed echo server keeps serving through sequential and "
       "concurrent clients, resets and a silent client, and gives back every descriptor")
def echo_survives_faults() -> Finding:
    ev = load.run(n_seq=200, n_conc=50, n_reset=10)
    ok = ev["server fds at the end"] == ev["server fds at start"] and ev["server still serves"] == "STILL THERE?"
    return Finding("confirmed" if ok else "refuted", ev)
