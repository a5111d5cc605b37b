"""The sockets claims' judges (pylab/tour/sockets.py), each fed observations leading to
every verdict it can give. (The experiments and the live verdicts: test_sockets_seed.py.)"""
from __future__ import annotations

import json

import pytest

from pylab.sockets import spin
from pylab.tour import sockets as S


def _spin(cpu, lines, empty, back):
    return {"while the observer worked: server CPU ns": cpu, "while the observer worked: new empty recv lines": lines,
            "empty recv lines after the disconnect": empty, "back in accept ('waiting for a connection' again)": back}


SPINNING = _spin(9_000_000, 1500, spin.SPIN_LINES + 1, False)
BLOCKED = {**_spin(0, 0, 0, True), "second client reply": "AGAIN"}


def test_recv_spins_judge_gives_each_verdict():
    assert S.judge_recv_spins({"seed server": SPINNING, "fixed server": BLOCKED}).verdict == "confirmed"
    assert S.judge_recv_spins({"seed server": BLOCKED, "fixed server": BLOCKED}).verdict == "refuted"
    assert S.judge_recv_spins({"seed server": SPINNING, "fixed server": SPINNING}).verdict == "refuted"
    blind = S.judge_recv_spins({"seed server": _spin(None, 10, 2000, False), "fixed server": BLOCKED})
    assert blind.verdict == "unverified"
    # CPU time moved but no empty receives: no clear sample either way
    assert S.judge_recv_spins({"seed server": _spin(5, 0, 0, False), "fixed server": BLOCKED}).verdict == "unverified"


def test_tcp_server_first_judge_gives_each_verdict():
    ev = {"connect before the server": "ConnectionRefusedError: ECONNREFUSED", "connect once it listens": "connected to port 1"}
    assert S.judge_tcp_server_first(ev).verdict == "confirmed"
    assert S.judge_tcp_server_first({**ev, "connect before the server": "connected"}).verdict == "refuted"


CONNECT = {"connect_ex returned": 111, "connect_ex errno name": "ECONNREFUSED", "send after ignoring it": "BrokenPipeError: EPIPE"}


def test_connect_ex_judge_gives_each_verdict():
    assert S.judge_connect_ex({**CONNECT, "connect_ex with a port out of range": "returned 22"}).verdict == "confirmed"
    q = S.judge_connect_ex({**CONNECT, "connect_ex with a port out of range": "raised OverflowError"})
    assert q.verdict == "qualified" and "a port out of range still raised OverflowError" in q.condition
    assert S.judge_connect_ex({**CONNECT, "connect_ex errno name": "0 (connected)"}).verdict == "refuted"


def _cases(server_nn, server_yy, server_ny, client_nn):
    rows = []
    for first, old, new, res in (("server", False, False, server_nn), ("server", True, True, server_yy),
                                 ("server", False, True, server_ny), ("server", True, False, "EADDRINUSE"),
                                 ("client", False, False, client_nn)):
        rows.append({"closes first": first, "old server SO_REUSEADDR": old, "new server SO_REUSEADDR": new, "restart": res})
    return {"cases": rows}


def test_a_restart_over_fin_wait2_succeeds_when_both_servers_set_so_reuseaddr():
    seen = S.stopped_mid_connection_both_reuse()
    assert seen == {"states": ["FIN_WAIT2"], "restart": "ok"}


def test_time_wait_judge_gives_each_verdict():
    assert S.judge_time_wait(_cases("EADDRINUSE", "ok", "ok", "EADDRINUSE")).verdict == "confirmed"
    today = S.judge_time_wait({**_cases("EADDRINUSE", "ok", "EADDRINUSE", "ok"), "other causes": {
        "a live connection of the stopped server (FIN_WAIT)": {"states": ["FIN_WAIT2"], "restart": "EADDRINUSE"},
        "a child still holding the listener": {"restart with SO_REUSEADDR": "EADDRINUSE"}}})
    assert today.verdict == "qualified"
    assert "FIN_WAIT2" in today.condition and "forked child" in today.condition and "closed first" in today.condition
    assert "when the old server had not set SO_REUSEADDR" in today.condition and "on both servers" not in today.condition
    fin_wait = {"states": ["FIN_WAIT2"], "restart": "EADDRINUSE", "restart with SO_REUSEADDR": "EADDRINUSE"}
    full = S.judge_time_wait({**_cases("EADDRINUSE", "ok", "EADDRINUSE", "ok"),
                              "other causes": {S.FIN_WAIT: fin_wait},
                              S.BOTH_REUSE: {"states": ["FIN_WAIT2"], "restart": "ok"}})
    assert full.verdict == "qualified"
    assert ("restart fails before any TIME_WAIT when the old server had not set SO_REUSEADDR (with it on the new "
            "server only: EADDRINUSE); with it on both servers the restart was ok") in full.condition
    shown = full.evidence["other causes"]  # each says which server had the option
    assert shown["a server stopped mid-connection (FIN_WAIT), the old server without SO_REUSEADDR"] == {
        "states": ["FIN_WAIT2"], "restart, no SO_REUSEADDR": "EADDRINUSE",
        "restart with SO_REUSEADDR on the new server only": "EADDRINUSE"}
    assert shown["a server stopped mid-connection (FIN_WAIT), both servers with SO_REUSEADDR"]["restart"] == "ok"
    assert S.judge_time_wait(_cases("ok", "ok", "ok", "ok")).verdict == "refuted"


NETNS = {"defaults": {"tcp_syncookies": "1", "tcp_tw_reuse": "2", "tcp_fin_timeout": "60"},
         "tcp_fin_timeout=30": {"a fresh TIME_WAIT's timer (s)": 60.0, "an orphaned FIN_WAIT_2's timer (s)": 30.0},
         "tcp_tw_reuse_delay ms used": "50",
         "connect() onto a TIME_WAIT 4-tuple": {"tcp_tw_reuse=0": {"reused": False, "refused with": ["EADDRNOTAVAIL"]},
                                               "tcp_tw_reuse=1": {"reused": True, "refused with": [], "after s": 0.06}},
         "the seed's advice applied": {"tcp_tw_reuse": "1"},
         "with it, a server restart on its port in TIME_WAIT (no SO_REUSEADDR)": "EADDRINUSE"}
NO_NS = {"unavailable": "unshare --net failed"}


def _advice(netns=NETNS, recycle="absent (no file)", bind="EADDRINUSE", fin=60, tw_left=59.9, fw2=60.0):
    return {"host": {"tcp_tw_recycle": recycle}, "bind": bind, "netns": netns, "fin_timeout": fin,
            "time_wait left": tw_left, "fin_wait2 left": fw2,
            "reuse": {"tcp_tw_reuse": "2", "connect() reused the 4-tuple": True, "refused with": ["EADDRNOTAVAIL"]}}


def test_tw_recycle_judge_gives_each_verdict():
    gone = S.judge_tw_recycle(_advice())
    assert gone.verdict == "refuted" and "4.12" in gone.documentation
    old_kernel = S.judge_tw_recycle(_advice(recycle="0"))
    # a kernel that still has it: what it does was not observed, which is never a qualification
    assert old_kernel.verdict == "unverified" and "tcp_tw_recycle = 0" in old_kernel.missing
    assert "NAT" not in old_kernel.missing and "NAT" in old_kernel.documentation  # read, not observed


def _tried(off, on):
    return {**NETNS, "connect() onto a TIME_WAIT 4-tuple": {"tcp_tw_reuse=0": {"reused": off, "refused with": []},
                                                           "tcp_tw_reuse=1": {"reused": on, "refused with": [], "after s": 0.1}}}


def test_tw_reuse_judge_gives_each_verdict():
    q = S.judge_tw_reuse(_advice())
    assert q.verdict == "qualified" and "outgoing connect() only" in q.condition and "default is 2" in q.condition
    assert q.documentation and "tcp_tw_reuse_delay" in q.documentation
    seed_world = {**NETNS, "defaults": {**NETNS["defaults"], "tcp_tw_reuse": "0"}}
    assert S.judge_tw_reuse(_advice(netns=seed_world, bind="ok")).verdict == "confirmed"
    # a condition says only what was seen: a bind that succeeded is not reported as failing
    bind_ok = S.judge_tw_reuse(_advice(bind="ok"))
    assert bind_ok.verdict == "qualified" and "bind()" not in bind_ok.condition and "default is 2" in bind_ok.condition
    default_0 = S.judge_tw_reuse(_advice(netns=seed_world))
    assert "still failed (EADDRINUSE)" in default_0.condition and "default is" not in default_0.condition
    never = S.judge_tw_reuse(_advice(netns=_tried(False, True)))
    assert "after 0.1 s" in never.condition and "with 0 it got no reuse" in never.condition
    assert S.judge_tw_reuse(_advice(netns=_tried(True, True))).verdict == "refuted"
    assert S.judge_tw_reuse(_advice(netns=_tried(False, False))).verdict == "refuted"
    assert S.judge_tw_reuse(_advice(netns=NO_NS)).verdict == "unverified"


def test_fin_timeout_judge_gives_each_verdict():
    # set to 30, the orphaned FIN_WAIT_2's timer follows (60 -> 30), TIME_WAIT's stays at 60
    q = S.judge_fin_timeout(_advice())
    assert q.verdict == "qualified" and q.condition.startswith("'TIMEOUT' is the orphaned FIN_WAIT_2 timeout")
    assert "FIN_WAIT_2 started at 30.0 s (on the host, at 60: 60.0 s)" in q.condition
    assert "a fresh TIME_WAIT started at 60.0 s" in q.condition and "TCP_TIMEWAIT_LEN" in q.documentation
    follows = {**NETNS, "tcp_fin_timeout=30": {"a fresh TIME_WAIT's timer (s)": 30.0, "an orphaned FIN_WAIT_2's timer (s)": 30.0}}
    assert S.judge_fin_timeout(_advice(netns=follows)).verdict == "confirmed"  # TIME_WAIT followed the setting
    neither = {**NETNS, "tcp_fin_timeout=30": {"a fresh TIME_WAIT's timer (s)": 60.0, "an orphaned FIN_WAIT_2's timer (s)": 60.0}}
    assert S.judge_fin_timeout(_advice(netns=neither)).verdict == "refuted"
    # no namespace: the host alone tells only when its setting is not the TIME_WAIT's 60 s
    same = S.judge_fin_timeout(_advice(netns=NO_NS))
    assert same.verdict == "unverified" and "60 s" in same.missing
    admin = S.judge_fin_timeout(_advice(netns=NO_NS, fin=30, tw_left=59.0, fw2=29.9))
    assert admin.verdict == "qualified" and "on the host" in admin.condition and "(on the host, at" not in admin.condition
    assert S.judge_fin_timeout(_advice(netns=NO_NS, fin=30, tw_left=59.0, fw2=59.9)).verdict == "refuted"


def test_sysctl_defaults_and_cure_judges_give_each_verdict():
    assert S.judge_sysctl_defaults(_advice()).verdict == "refuted"
    zeros = {**NETNS, "defaults": {"tcp_syncookies": "0", "tcp_tw_reuse": "0"}}
    assert S.judge_sysctl_defaults(_advice(netns=zeros)).verdict == "confirmed"
    assert S.judge_sysctl_defaults(_advice(netns=NO_NS)).verdict == "unverified"
    assert S.judge_sysctls_cure_bind(_advice()).verdict == "refuted"
    cured = {**NETNS, "with it, a server restart on its port in TIME_WAIT (no SO_REUSEADDR)": "ok"}
    assert S.judge_sysctls_cure_bind(_advice(netns=cured)).verdict == "confirmed"
    assert S.judge_sysctls_cure_bind(_advice(netns=NO_NS)).verdict == "unverified"


def test_private_network_namespace_shows_the_defaults_and_what_the_settings_change(tour_run):
    ns = S.observe_netns()
    assert "unavailable" not in ns, ns  # root and unprivileged users both get one here
    assert ns["loopback"] == "up"
    assert ns["defaults"]["tcp_tw_reuse"] == "2" and ns["defaults"]["tcp_syncookies"] == "1"
    timers = ns["tcp_fin_timeout=30"]
    assert timers["a fresh TIME_WAIT's timer (s)"] > 55 and abs(timers["an orphaned FIN_WAIT_2's timer (s)"] - 30) <= 1
    # so the live verdict: the setting changes FIN_WAIT_2's default timeout, not TIME_WAIT's
    fin = next(r for r in json.loads(tour_run.stdout)["claims"] if r["id"] == "sysctl-fin-timeout")
    assert fin["verdict"] == "qualified" and "FIN_WAIT_2 started at 30" in fin["condition"]
    tried = ns["connect() onto a TIME_WAIT 4-tuple"]
    assert tried["tcp_tw_reuse=0"]["reused"] is False and tried["tcp_tw_reuse=1"]["reused"] is True
    assert ns["with it, a server restart on its port in TIME_WAIT (no SO_REUSEADDR)"] == "EADDRINUSE"


SEND = {"bytes offered": 100, "send returned": 10, "received after send": 10, "received after sendall": 100,
        "blocking send (the seed's socket) returned": 100}


def test_send_judge_gives_each_verdict():
    refuted = S.judge_send(SEND)
    assert refuted.verdict == "refuted" and "non-blocking" in refuted.evidence["so"]
    assert "returned 100" in refuted.evidence["and"]  # the seed's blocking socket, shown too
    assert S.judge_send({**SEND, "received after send": 5}).verdict == "confirmed"
    whole = S.judge_send({**SEND, "send returned": 100, "received after send": 100})
    assert whole.verdict == "unverified" and "a short send" in whole.missing  # could not observe: never qualified


UDP = {"client sends before the server exists": "no error", "the early datagram": "lost (no one was bound)",
       "server bound first, then a client sends b'late'": "server received b'late'",
       "connected": {"connected: next call (recv)": "ConnectionRefusedError: ECONNREFUSED"}}


def test_udp_first_judge_gives_each_verdict():
    q = S.judge_udp_first(UDP)
    assert q.verdict == "qualified" and "lost, silently" in q.condition and "ECONNREFUSED" in q.condition
    assert S.judge_udp_first({**UDP, "the early datagram": "received",
                              "connected": {"connected: next call (recv)": "returned data"}}).verdict == "confirmed"
    assert S.judge_udp_first({**UDP, "client sends before the server exists": "OSError: EHOSTUNREACH"}).verdict == "refuted"


def _unix(size):
    f = {"type": "socket", "st_size": size, "st_blocks": 0}
    return {"the file before a transfer": f, "the file after the transfer": f, "bytes received": 10,
            "bytes sent through the socket": 10, "after close: the file exists": True, "bind again": "OSError: EADDRINUSE",
            "abstract: in /proc/net/unix while open": True, "abstract: files by that name (cwd, temp dir)": []}


def test_unix_file_judge_gives_each_verdict():
    assert S.judge_unix_file(_unix(0)).verdict == "refuted"
    assert S.judge_unix_file(_unix(10)).verdict == "confirmed"
    with pytest.raises(RuntimeError):
        S.judge_unix_file({**_unix(0), "bytes received": 3})


def test_timeouts_judge_gives_each_verdict():
    ev = {"recv with settimeout": "TimeoutError (timed out)", "raised after s": 0.11, "timeout set s": 0.1,
          "recv non-blocking": "BlockingIOError: EAGAIN"}
    assert S.judge_timeouts(ev).verdict == "confirmed"
    assert S.judge_timeouts({**ev, "recv non-blocking": "returned"}).verdict == "refuted"


def test_udp_boundaries_judge_gives_each_verdict():
    ev = {"datagrams sent": ["a", "bb"], "recvfrom(1024) calls returned": ["a", "bb"], "tcp: the same three sends, one recv(1024)": "abb"}
    assert S.judge_udp_boundaries(ev).verdict == "confirmed"
    assert S.judge_udp_boundaries({**ev, "recvfrom(1024) calls returned": ["abb"]}).verdict == "refuted"


REFUSED = {"connected: next call (recv)": "ConnectionRefusedError: ECONNREFUSED",
           "a witness socket (IP_RECVERR, sent after b'plain'): error queue": "ICMP type 3 code 3 (ECONNREFUSED)",
           "unconnected: then its error queue": "ICMP type 3 code 3 (ECONNREFUSED)",
           "unconnected, IP_RECVERR never on, sent b'plain': recvfrom": "BlockingIOError: EAGAIN",
           "unconnected, IP_RECVERR never on: SO_ERROR": 0,
           "unconnected: error queue after b'first' (IP_RECVERR off when it was sent)": "empty",
           "unconnected: then recvfrom": "ConnectionRefusedError: ECONNREFUSED"}


def test_udp_refused_judge_gives_each_verdict():
    assert S.judge_udp_refused(REFUSED).verdict == "qualified"
    assert S.judge_udp_refused({**REFUSED, "unconnected: then recvfrom": "BlockingIOError: EAGAIN"}).verdict == "confirmed"
    assert S.judge_udp_refused({**REFUSED, "connected: next call (recv)": "returned data"}).verdict == "refuted"


def test_fork_servers_judge_gives_each_verdict():
    seen = {"clients each": 3, "noreap": {"zombies": 3}, "reap": {"zombies": 0},
            "python": {"clients": [], "collect_children lines": [], "zombies after the last client": 1}}
    assert S.judge_fork_servers(seen).verdict == "confirmed"
    assert S.judge_fork_servers({**seen, "reap": {"zombies": 2}}).verdict == "refuted"


def test_echo_faults_judge_gives_each_verdict():
    ev = {"server fds at the end": 4, "server fds at start": 4, "server still serves": "STILL THERE?",
          "silent client": {"served meanwhile": "MEANWHILE", "its server logged": ["closed timeout"]}}
    assert S.judge_echo_faults(ev).verdict == "confirmed"
    assert S.judge_echo_faults({**ev, "server fds at the end": 9}).verdict == "refuted"
