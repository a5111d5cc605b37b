"""Item 2: the seed's bugs and claims, observed (and the tour carries them)."""
from __future__ import annotations

import json
import os

from pylab import claims
from pylab.sockets import spin, tcp_facts, udp_unix_facts


def test_seed_server_spins_on_empty_recv_after_the_client_leaves_and_is_stopped():
    ev = spin.observe(fixed=False)
    assert ev["reply"] == "HELLO"
    assert ev["spins"] is True
    assert ev["empty recv lines"] >= spin.SPIN_LINES
    assert ev["stopped by"] == "killed by signal 9 (SIGKILL)"
    assert ev["left behind"] == []


def test_fixed_seed_server_goes_back_to_accept_and_serves_again():
    ev = spin.observe(fixed=True)
    assert ev["spins"] is False
    assert ev["empty recv lines"] == 0
    assert ev["state after disconnect"] == "S"  # asleep in accept, not spinning
    assert ev["second client reply"] == "AGAIN"


def test_connecting_before_the_server_exists_is_refused_and_works_once_it_listens():
    ev = tcp_facts.connect_refused()
    assert ev["connect before the server"] == "ConnectionRefusedError: ECONNREFUSED"
    assert ev["connect once it listens"].startswith("connected")


def test_connect_ex_returns_the_errno_and_the_seed_client_fails_later_at_send():
    ev = tcp_facts.connect_refused()
    assert ev["connect_ex returned"] == 111 and ev["connect_ex errno name"] == "ECONNREFUSED"
    assert ev["send after ignoring it"] == "BrokenPipeError: EPIPE"


def _case(cases, first, old, new):
    (c,) = [c for c in cases if c["closes first"] == first and c["old server SO_REUSEADDR"] == old
            and c["new server SO_REUSEADDR"] == new]
    return c


def test_restart_on_a_port_in_time_wait_needs_so_reuseaddr_on_both_servers():
    ev = tcp_facts.time_wait()
    cases = ev["cases"]
    assert _case(cases, "server", False, False)["restart"] == "EADDRINUSE"
    assert _case(cases, "server", False, False)["states on the port"] == ["TIME_WAIT"]
    assert _case(cases, "server", True, True)["restart"] == "ok"
    # the old server's TIME_WAIT socket keeps the old server's flag
    assert _case(cases, "server", False, True)["restart"] == "EADDRINUSE"
    assert _case(cases, "server", True, False)["restart"] == "EADDRINUSE"


def test_no_time_wait_on_the_server_port_when_clients_close_first():
    cases = tcp_facts.time_wait()["cases"]
    for old in (False, True):
        for new in (False, True):
            c = _case(cases, "client", old, new)
            assert c["restart"] == "ok" and c["states on the port"] == []


def test_time_wait_is_seen_in_proc_net_tcp_and_ss():
    seen = tcp_facts.time_wait()["time_wait seen"]
    rows = seen["/proc/net/tcp"]
    assert {r["state"] for r in rows} == {"06"}
    assert all(0 < r["timer_left_s"] <= 60 for r in rows)
    assert any(f":{seen['port']} " in line and "timewait" in line for line in seen["ss"])


def test_sysctls_are_only_read_and_tcp_tw_recycle_is_absent_here():
    before = {n: tcp_facts.read_sysctl(n) for n in ("tcp_tw_reuse", "tcp_fin_timeout", "tcp_syncookies")}
    ev = tcp_facts.sysctls()
    assert not os.path.exists("/proc/sys/net/ipv4/tcp_tw_recycle")
    assert ev["tcp_tw_recycle"].startswith("absent")
    assert "cannot stat" in ev["sysctl -n net.ipv4.tcp_tw_recycle"]
    assert ev["tcp_tw_reuse"] == before["tcp_tw_reuse"] and ev["tcp_fin_timeout"] == before["tcp_fin_timeout"]
    assert {n: tcp_facts.read_sysctl(n) for n in before} == before


def test_non_blocking_send_returns_a_short_count_and_loses_nothing():
    ev = tcp_facts.send_vs_sendall()
    assert 0 < ev["send returned"] < ev["bytes offered"]
    assert ev["received after send"] == ev["send returned"]


def test_sendall_delivers_every_byte():
    ev = tcp_facts.send_vs_sendall()
    assert ev["sendall returned"] is None
    assert ev["received after sendall"] == ev["bytes offered"]


def test_udp_either_side_may_start_first_and_keeps_datagram_boundaries():
    ev = udp_unix_facts.udp_order()
    assert ev["client sends before the server exists"] == "no error"
    assert ev["the early datagram"].startswith("lost")
    assert ev["server started first, then a client"] == "late"
    assert ev["recvfrom(1024) calls returned"] == ["a", "bb", "ccc"]
    assert ev["tcp: the same three sends, one recv(1024)"] == "abbccc"


def test_connected_udp_socket_sees_econnrefused_and_an_unconnected_one_does_not():
    ev = udp_unix_facts.udp_connected_refused()
    assert ev["next call (recv)"] == "ConnectionRefusedError: ECONNREFUSED"
    assert ev["unconnected socket, sent to the same port, next recvfrom"].startswith("BlockingIOError")


def test_unix_socket_file_outlives_close_until_unlinked():
    ev = udp_unix_facts.unix_socket_file()
    assert ev["after bind: the file"].startswith("s")  # a socket in ls -l
    assert ev["after close: the file exists"] is True
    assert ev["bind again"] == "OSError: EADDRINUSE"
    assert ev["connect to the stale file"] == "ConnectionRefusedError: ECONNREFUSED"
    assert ev["after unlink, bind"] == "ok"
    assert ev["files left in the directory"] == []


def test_abstract_namespace_socket_has_no_file_and_its_name_goes_with_close():
    ev = udp_unix_facts.unix_socket_file()
    assert ev["abstract: in /proc/net/unix while open"] is True
    assert ev["abstract: files by that name (cwd, temp dir)"] == []
    assert ev["abstract: in /proc/net/unix after close"] is False
    assert ev["abstract: bind the name again after close"] == "ok"


def test_settimeout_raises_after_the_time_and_non_blocking_raises_blocking_io_error():
    ev = tcp_facts.timeouts(0.05)
    assert ev["recv with settimeout"].startswith("TimeoutError")
    assert ev["raised after s"] >= 0.05
    assert ev["gettimeout after setblocking(False)"] == 0.0
    assert ev["recv non-blocking"] == "BlockingIOError: EAGAIN"
    assert ev["accept non-blocking"] == "BlockingIOError: EAGAIN"


SOCKET_CLAIMS = {"recv-empty-spins", "tcp-server-first", "connect-ex-errno", "time-wait-reuseaddr",
                 "sysctl-tw-recycle", "sysctl-tw-reuse", "sysctl-fin-timeout", "send-loses-data",
                 "udp-either-first", "udp-boundaries", "udp-connected-refused", "unix-socket-file",
                 "settimeout-raises", "fork-server-zombies", "echo-survives-faults"}


def test_tour_json_carries_every_sockets_claim_with_a_verdict_and_evidence(tour_run):
    assert tour_run.returncode == 0, tour_run.stderr
    report = json.loads(tour_run.stdout)
    rows = {r["id"]: r for r in report["claims"] if r["seed"] == "sockets"}
    assert set(rows) == SOCKET_CLAIMS
    for r in rows.values():
        assert r["seed"] == "sockets"
        assert r["verdict"] in claims.VERDICTS, r
        assert r["evidence"], r["id"]
        assert (r["condition"] is not None) == (r["verdict"] == "qualified"), r["id"]
    assert rows["sysctl-tw-recycle"]["verdict"] == "refuted"  # absent on this kernel (tested above)
    assert rows["send-loses-data"]["verdict"] == "refuted"
    assert rows["recv-empty-spins"]["verdict"] == "confirmed"
    assert rows["time-wait-reuseaddr"]["verdict"] == "qualified"
    assert rows["fork-server-zombies"]["verdict"] == "confirmed"
