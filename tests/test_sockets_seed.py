"""Item 2: the seed's bugs and claims, observed (and the tour carries them)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from pylab.tour import registry as claims
from pylab.tour import sockets as sockets_claims
from pylab.sockets import spin, tcp_facts, udp_unix_facts


def test_seed_server_burns_cpu_in_empty_recvs_after_the_client_leaves_and_is_stopped():
    ev = spin.observe(fixed=False)
    assert ev["reply"] == "HELLO"
    assert ev["empty recv lines after the disconnect"] >= spin.SPIN_LINES
    assert ev["back in accept ('waiting for a connection' again)"] is False
    # while we watched, it ran and kept receiving b''
    assert ev["while the observer worked: server CPU ns"] > 0
    assert ev["while the observer worked: new empty recv lines"] > 0
    assert ev["stopped by"] == "killed by signal 9 (SIGKILL)"
    assert ev["left behind"] == []
    assert sockets_claims.spins(ev) is True


def test_fixed_seed_server_goes_back_to_accept_uses_no_cpu_and_serves_again():
    ev = spin.observe(fixed=True)
    assert ev["empty recv lines after the disconnect"] == 0
    assert ev["back in accept ('waiting for a connection' again)"] is True
    assert ev["state"] == "S"  # asleep in accept
    assert ev["while the observer worked: server CPU ns"] == 0
    assert ev["second client reply"] == "AGAIN"
    assert sockets_claims.spins(ev) is False


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


def _sysctl_tool():
    return shutil.which("sysctl") or next((p for p in ("/sbin/sysctl", "/usr/sbin/sysctl") if os.path.exists(p)), None)


def test_sysctls_are_only_read_and_report_tcp_tw_recycle_as_the_file_system_has_it():
    names = ("tcp_tw_reuse", "tcp_fin_timeout", "tcp_syncookies")
    before = {n: tcp_facts.read_sysctl(n) for n in names}
    ev = tcp_facts.sysctls()
    present = os.path.exists("/proc/sys/net/ipv4/tcp_tw_recycle")
    assert ev["tcp_tw_recycle"].startswith("absent") == (not present)
    tool = _sysctl_tool()
    if tool:  # the lab reports what sysctl said; absent: sysctl fails (its wording is procps')
        own = subprocess.run([tool, "-n", "net.ipv4.tcp_tw_recycle"], capture_output=True, text=True, timeout=10)
        assert (own.returncode == 0) == present
        assert "sysctl -n net.ipv4.tcp_tw_recycle" in ev
    else:
        assert "sysctl -n net.ipv4.tcp_tw_recycle" not in ev
    assert {n: ev[n] for n in names} == {n: v if v is not None else ev[n] for n, v in before.items()}
    assert {n: tcp_facts.read_sysctl(n) for n in names} == before  # nothing was written


def test_connect_confined_to_a_client_side_time_wait_port_is_reused_as_tcp_tw_reuse_allows(tour_run):
    # tcp_facts.tw_reuse as the session's one tour ran it (it waits out the host's 1 s
    # tcp_tw_reuse_delay): its whole observation is the claim's evidence
    assert tour_run.returncode == 0, tour_run.stderr
    row = next(r for r in json.loads(tour_run.stdout)["claims"] if r["id"] == "sysctl-tw-reuse")
    ev = row["evidence"]["host: outgoing connect() onto a client-side TIME_WAIT"]
    assert ev["client side of it after close"] == ["TIME_WAIT"]
    assert ev["tcp_tw_reuse"] == tcp_facts.read_sysctl("tcp_tw_reuse")
    if ev["connect() reused the 4-tuple"]:
        # the same 4-tuple is a live connection now, its TIME_WAIT taken over
        assert ev["the 4-tuple's states now"] == ["ESTABLISHED"]
        assert set(ev["refused with"]) <= {"EADDRNOTAVAIL"}
    else:
        assert ev["refused with"] == ["EADDRNOTAVAIL"]
    # loopback counts for 1 and 2; whatever the value, the verdict follows it
    assert ev["connect() reused the 4-tuple"] == (ev["tcp_tw_reuse"] in ("1", "2"))


def test_an_orphaned_fin_wait_2_times_out_after_tcp_fin_timeout():
    ev = tcp_facts.fin_wait2()
    assert ev["state"] == "FIN_WAIT2"
    assert abs(ev["timer_left_s"] - int(tcp_facts.read_sysctl("tcp_fin_timeout"))) <= 1


def test_non_blocking_send_returns_a_short_count_and_loses_nothing():
    ev = tcp_facts.send_vs_sendall()
    assert 0 < ev["send returned"] < ev["bytes offered"]
    assert ev["received after send"] == ev["send returned"]


def test_blocking_send_as_the_seed_uses_it_takes_the_whole_mebibyte():
    ev = tcp_facts.send_vs_sendall()
    assert ev["blocking send (the seed's socket) returned"] == ev["bytes offered"] == 1 << 20
    assert ev["received after the blocking send"] == ev["bytes offered"]


def test_bind_fails_with_a_stopped_server_s_live_connection_and_with_a_child_holding_the_listener():
    other = tcp_facts.time_wait()["other causes"]
    live = other["a live connection of the stopped server (FIN_WAIT)"]
    assert "FIN_WAIT2" in live["states"] and "TIME_WAIT" not in live["states"]
    assert live["restart"] == "EADDRINUSE"
    child = other["a child still holding the listener"]
    assert child["restart with SO_REUSEADDR"] == "EADDRINUSE"
    assert child["after the child ended, restart with SO_REUSEADDR"] == "ok"


def test_connect_ex_still_raises_for_errors_before_the_c_connect():
    ev = tcp_facts.connect_refused()
    assert ev["connect_ex with a port out of range"] == "raised OverflowError"
    assert ev["connect_ex with a name the resolver does not know"] == "raised gaierror"


def test_sendall_delivers_every_byte():
    ev = tcp_facts.send_vs_sendall()
    assert ev["sendall returned"] == "None"  # shown as Python writes it, not as JSON's null
    assert ev["received after sendall"] == ev["bytes offered"]


def test_udp_either_side_may_start_first_and_keeps_datagram_boundaries():
    ev = udp_unix_facts.udp_order()
    assert ev["client sends before the server exists"] == "no error"
    assert ev["the early datagram"].startswith("lost")
    assert ev["server bound first, then a client sends b'late'"] == "server received b'late'"
    assert ev["recvfrom(1024) calls returned"] == ["a", "bb", "ccc"]
    assert ev["tcp: the same three sends, one recv(1024)"] == "abbccc"


def test_connected_udp_socket_sees_econnrefused_and_an_unconnected_one_only_with_ip_recverr():
    ev = udp_unix_facts.udp_connected_refused()
    assert ev["connected: next call (recv)"] == "ConnectionRefusedError: ECONNREFUSED"
    # the ICMP port-unreachable does come back to unconnected sockets ...
    unreachable = "ICMP type 3 code 3 (ECONNREFUSED) for the datagram "
    assert ev["a witness socket (IP_RECVERR, sent after b'plain'): error queue"] == unreachable + "b'witness'"
    assert ev["unconnected: then its error queue"] == unreachable + "b'second'"
    assert ev["unconnected: and the error queue again"] == "empty"  # b'first''s answer was not kept
    # ... and a socket that never asked for errors is not told
    assert ev["unconnected, IP_RECVERR never on, sent b'plain': recvfrom"] == "BlockingIOError: EAGAIN"
    assert ev["unconnected, IP_RECVERR never on: SO_ERROR"] == 0
    assert ev["unconnected: then recvfrom"] == "ConnectionRefusedError: ECONNREFUSED"


def test_no_data_passes_through_a_unix_socket_file():
    ev = udp_unix_facts.unix_socket_file(size=300_000)
    assert ev["bytes received"] == ev["bytes sent through the socket"] == 300_000
    for when in ("the file before a transfer", "the file after the transfer"):
        assert ev[when] == {"type": "socket", "st_size": 0, "st_blocks": 0}


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


SEED_CLAIMS = {"recv-empty-spins", "tcp-server-first", "connect-ex-errno", "time-wait-reuseaddr",
               "sysctl-tw-recycle", "sysctl-tw-reuse", "sysctl-fin-timeout", "sysctl-defaults", "sysctls-cure-bind",
               "send-loses-data", "socket-facade", "ip-port-identifies", "af-inet-most-used", "connection-at-accept",
               "listen-backlog", "makefile-creates-file", "disconnect-recv-empty",
               "udp-either-first", "unix-socket-file", "settimeout-raises"}
LAB_CLAIMS = {"udp-boundaries", "udp-connected-refused", "fork-server-zombies", "echo-survives-faults"}


def test_tour_json_carries_every_sockets_claim_with_a_verdict_and_evidence(tour_run):
    assert tour_run.returncode == 0, tour_run.stderr or [r for r in json.loads(tour_run.stdout)["claims"] if r["verdict"] == "error"]
    report = json.loads(tour_run.stdout)
    seeds = {r["id"]: r["seed"] for r in report["claims"] if r["seed"] in ("sockets", "lab:sockets")}
    assert seeds == {**{i: "sockets" for i in SEED_CLAIMS}, **{i: "lab:sockets" for i in LAB_CLAIMS}}
    rows = {r["id"]: r for r in report["claims"] if r["id"] in seeds}
    for r in rows.values():
        assert r["verdict"] in claims.VERDICTS, r
        assert r["evidence"], r["id"]
        assert bool(r["condition"]) == (r["verdict"] == "qualified"), r["id"]
        assert bool(r["missing"]) == (r["verdict"] == "unverified"), r["id"]
    # each verdict follows an observation made here, in this test
    recycle = os.path.exists("/proc/sys/net/ipv4/tcp_tw_recycle")
    assert (rows["sysctl-tw-recycle"]["verdict"] == "refuted") == (not recycle)
    send = tcp_facts.send_vs_sendall()
    lost = send["received after send"] != send["send returned"]
    assert (rows["send-loses-data"]["verdict"] == "confirmed") == lost
    unix = udp_unix_facts.unix_socket_file(size=100_000)
    assert (rows["unix-socket-file"]["verdict"] == "refuted") == (unix["the file after the transfer"]["st_size"] == 0)
    tw = tcp_facts.time_wait()
    fails = sockets_claims.restart(tw, "server", False, False) == "EADDRINUSE"
    fixed = sockets_claims.restart(tw, "server", True, True) == "ok"
    assert rows["time-wait-reuseaddr"]["verdict"] == ("qualified" if fails and fixed else "refuted")
    if fails and fixed:  # the conditions name what this test saw
        other = tw["other causes"]
        assert ("FIN_WAIT2" in rows["time-wait-reuseaddr"]["condition"]) == (
            other["a live connection of the stopped server (FIN_WAIT)"]["restart"] == "EADDRINUSE")
    # the tour watched both servers alone; this test watches them again, with other tests running.
    # The verdict follows the tour's own samples; where both samples decide, they agree.
    ev = rows["recv-empty-spins"]["evidence"]
    theirs = (sockets_claims.spins(ev["seed server"]), sockets_claims.spins(ev["fixed server"]))
    mine = (sockets_claims.spins(spin.observe(fixed=False)), sockets_claims.spins(spin.observe(fixed=True)))
    if None in theirs:
        assert rows["recv-empty-spins"]["verdict"] == "unverified"
    else:
        assert rows["recv-empty-spins"]["verdict"] == ("confirmed" if theirs == (True, False) else "refuted")
    if None not in theirs and None not in mine:
        assert mine == theirs
    assert True in (theirs[0], mine[0])  # the seed's server was seen to spin
    # a private network namespace (root, or a user namespace) starts with tcp_tw_reuse=2, not 0
    ns = sockets_claims.observe_netns()
    assert rows["sysctl-tw-reuse"]["verdict"] == ("unverified" if "unavailable" in ns else "qualified")
    assert rows["sysctl-defaults"]["verdict"] == ("unverified" if "unavailable" in ns else "refuted")
    assert rows["sysctls-cure-bind"]["verdict"] == ("unverified" if "unavailable" in ns else "refuted")
    assert rows["sysctl-fin-timeout"]["verdict"] == ("qualified" if "unavailable" not in ns else "unverified")
    connect = tcp_facts.connect_refused()
    assert connect["connect_ex with a port out of range"] == "raised OverflowError"
    assert rows["connect-ex-errno"]["verdict"] == "qualified"
    udp = udp_unix_facts.udp_order()
    assert rows["udp-either-first"]["verdict"] == ("qualified" if udp["the early datagram"].startswith("lost") else "confirmed")


def test_tour_prints_the_lab_s_own_claims_under_their_own_header(pylab_cli):
    out = pylab_cli("tour", "--only", "udp-either-first", "--only", "udp-boundaries")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    seed_at = lines.index("== seed: sockets.md ==")
    lab_at = lines.index("== the sockets lab's own claims (not in a seed) ==")
    at = {i: n for n, ln in enumerate(lines) for i in ("udp-either-first", "udp-boundaries") if f"] {i}:" in ln}
    assert seed_at < at["udp-either-first"] < lab_at < at["udp-boundaries"]
