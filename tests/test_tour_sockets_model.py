"""The claims of pylab/tour/sockets_model.py: the experiments of pylab.sockets.model_facts,
the live verdicts, and every judge fed observations leading to each verdict it can give."""
from __future__ import annotations

import json
import os
import shutil
import socket

import pytest

from pylab.sockets import model_facts, spin
from pylab.tour import sockets_model as M

SPINNING = {"while the observer worked: server CPU ns": 9_000_000, "while the observer worked: new empty recv lines": 1500,
            "empty recv lines after the disconnect": spin.SPIN_LINES + 1,
            "back in accept ('waiting for a connection' again)": False}
BLOCKED = {"while the observer worked: server CPU ns": 0, "while the observer worked: new empty recv lines": 0,
           "empty recv lines after the disconnect": 0, "back in accept ('waiting for a connection' again)": True}


@pytest.fixture
def rows(tour_run):
    assert tour_run.returncode == 0, tour_run.stderr or [r for r in json.loads(tour_run.stdout)["claims"] if r["verdict"] == "error"]
    return {r["id"]: r for r in json.loads(tour_run.stdout)["claims"]}


def test_socket_model_experiments_and_live_verdicts(rows):
    ports = model_facts.shared_ports()
    assert ports["TCP and UDP bind the same port"] == "ok"
    assert ports["a second SO_REUSEPORT listener on that port"] == "ok"
    assert rows["ip-port-identifies"]["verdict"] == "qualified"
    hs = model_facts.handshake_before_accept()
    assert "ESTABLISHED" in hs["states on the server port before accept"]
    assert hs["accept() then returns the connection, and recv"] == "early"
    assert rows["connection-at-accept"]["verdict"] == "refuted"
    bl = model_facts.backlog(n=1, clients=4)
    assert bl["completed (ESTABLISHED)"] == 2 and bl["client sides, states"].count("SYN_SENT") == 2
    assert bl["the listener's accept queue (rx_queue of its LISTEN row in /proc/net/tcp)"] == 2
    assert bl["a listen() above somaxconn"]["kept (ss Send-Q)"] == bl["somaxconn"]
    assert rows["listen-backlog"]["verdict"] == "qualified"
    mf = model_facts.makefile_files()
    assert mf["descriptors opened by makefile"] == 0 and mf["that descriptor is"].startswith("a socket")
    assert rows["makefile-creates-file"]["verdict"] == "qualified"
    dis = model_facts.sudden_disconnect()
    assert dis["peer close(): recv"] == "b''" and dis["peer close() with SO_LINGER 0 (RST): recv"] == "ConnectionResetError"
    assert dis[M.KILLED] == "b''" and dis[M.KILLED_UNREAD] == "ConnectionResetError"
    assert rows["disconnect-recv-empty"]["verdict"] == "qualified"
    # the families in use shift while other tests run; one machine never decides the world's usage
    families = rows["af-inet-most-used"]["evidence"]
    assert rows["af-inet-most-used"]["verdict"] == "unverified"
    assert "one machine's sockets cannot show it" in rows["af-inet-most-used"]["missing"]
    assert families["not counted"][M.OURS] == 0  # observed alone: the tour held no socket meanwhile
    assert rows["socket-facade"]["verdict"] in ("refuted", "unverified")
    if rows["socket-facade"]["verdict"] == "refuted":
        assert "what does not: 'we need not understand TCP'" in rows["socket-facade"]["evidence"]["so"]


ONE_CONNECTION = {"loopback": "up", "the program's calls": ["connect", "accept", "send", "send", "send", "recv",
                                                            "close", "recv"],
                  "received": "abbccc", "then recv": "b''",
                  "TCP counters meanwhile (/proc/net/snmp)": {"ActiveOpens": 1, "PassiveOpens": 1, "OutSegs": 10,
                                                              "InSegs": 10, "RetransSegs": 0}}


def test_facade_judge_gives_each_verdict():
    seen = {"tcp: three sends, one recv(1024)": "abbccc", "seed server": SPINNING,
            "one connection in a private network namespace": ONE_CONNECTION}
    both = M.judge_facade(seen)
    # refuted, saying what holds (the mechanics are hidden) and what does not (framing, end-of-file)
    assert both.verdict == "refuted"
    assert both.evidence["so"].startswith("what holds: the socket hides TCP's mechanics")
    assert "sent 10 TCP segments for its 3 sends" in both.evidence["so"]
    assert "what does not: 'we need not understand TCP'" in both.evidence["so"]
    assert "three sends came out as one recv" in both.evidence["so"] and "spins" in both.evidence["so"]
    blind = M.judge_facade({**seen, "one connection in a private network namespace": {"unavailable": "unshare failed"}})
    assert blind.verdict == "refuted" and "was not observed: unshare failed" in blind.evidence["so"]
    assert "hides TCP's mechanics:" not in blind.evidence["so"]
    quiet = M.judge_facade({**seen, "seed server": BLOCKED, "tcp: three sends, one recv(1024)": "a"})
    assert quiet.verdict == "confirmed" and quiet.evidence["so"].startswith("what holds")
    unclear = {**SPINNING, "while the observer worked: server CPU ns": None}
    assert M.judge_facade({**seen, "seed server": unclear}).verdict == "refuted"  # the merged sends decide it
    kept_apart = {**seen, "tcp: three sends, one recv(1024)": "a"}
    assert M.judge_facade({**kept_apart, "seed server": unclear}).verdict == "unverified"
    assert M.judge_facade({**kept_apart, "seed server": SPINNING}).verdict == "refuted"


def test_hidden_mechanics_needs_the_kernels_segments_to_outnumber_the_sends():
    assert M.hidden_mechanics(ONE_CONNECTION).startswith("for the program's calls (connect, accept, send")
    counters = ONE_CONNECTION["TCP counters meanwhile (/proc/net/snmp)"]
    as_many = {**ONE_CONNECTION, "TCP counters meanwhile (/proc/net/snmp)": {**counters, "OutSegs": 3}}
    assert M.hidden_mechanics(as_many) is None
    no_handshake = {**ONE_CONNECTION, "TCP counters meanwhile (/proc/net/snmp)": {**counters, "ActiveOpens": 0}}
    assert M.hidden_mechanics(no_handshake) is None
    assert M.hidden_mechanics({"unavailable": "unshare failed"}) is None


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare is not installed")
def test_one_connection_in_a_private_namespace_counts_only_its_own_segments():
    m = M.observe_tcp_mechanics()
    if "unavailable" in m:
        pytest.skip(m["unavailable"])
    assert m["received"] == "abbccc" and m["then recv"] == "b''"
    counters = m["TCP counters meanwhile (/proc/net/snmp)"]
    assert counters["ActiveOpens"] == counters["PassiveOpens"] == 1  # this connection and no other
    assert counters["OutSegs"] == counters["InSegs"] > 3  # loopback: every segment sent is received


def test_ip_port_judge_gives_each_verdict():
    ev = {"TCP and UDP bind the same port": "ok", "a second SO_REUSEPORT listener on that port": "ok",
          "accepted connections: (local, remote)": ["5 <- 6", "5 <- 7"], "listener port": 5}
    q = M.judge_ip_port(ev)
    assert q.verdict == "qualified" and "4-tuple" in q.condition
    apart = {"TCP and UDP bind the same port": "OSError: EADDRINUSE", "a second SO_REUSEPORT listener on that port":
             "OSError: EADDRINUSE", "accepted connections: (local, remote)": ["5 <- 6", "8 <- 7"]}
    assert M.judge_ip_port(apart).verdict == "confirmed"


def _families(**counts):
    base = {"AF_INET tcp": 0, "AF_INET udp": 0, "AF_INET6 tcp": 0, "AF_INET6 udp": 0, "AF_UNIX": 0, "AF_NETLINK": 0}
    return {"by family": {**base, **counts}, "not counted": {M.NOT_HELD: 0, M.KERNELS: 0, M.OURS: 0}}


def test_families_judge_is_unverified_whatever_this_machine_holds():
    """The seed's claim is about the world's programs: no count of one machine's sockets
    confirms, qualifies or refutes it; the counts are the evidence and the 'missing' says
    what was seen here."""
    many = {"AF_INET tcp": 40, "AF_INET udp": 10, "AF_UNIX": 30, "AF_INET6 tcp": 5}
    for counts in (many, {"AF_INET tcp": 1, "AF_UNIX": 8}, {"AF_INET tcp": 3, "AF_NETLINK": 3},
                   {"AF_INET tcp": 2, "AF_INET6 tcp": 1, "AF_INET6 udp": 1}, {"AF_UNIX": 9}):
        f = M.judge_families(_families(**counts))
        assert f.verdict == "unverified" and "one machine's sockets cannot show it" in f.missing, counts
        assert f.condition is None
    top = M.judge_families(_families(**many))
    assert top.missing.endswith("programs held AF_INET 50, AF_UNIX 30, AF_INET6 5, AF_NETLINK 0")
    assert top.evidence["by family, protocols added up"]["AF_INET"] == 50
    none = M.judge_families(_families())
    assert none.verdict == "unverified" and "no program but the tour held a socket" in none.missing
    blind = M.judge_families(_families(**{"AF_INET tcp": None, "AF_INET udp": None, "AF_UNIX": 4}))
    assert blind.verdict == "unverified" and "/proc/net/tcp and udp" in blind.missing


def test_families_count_only_sockets_programs_hold_and_not_the_tours_own(tmp_path):
    """Synthetic tables: a TIME_WAIT (inode 0), the kernel's netlink socket (port id 0) and
    the lab's own inode are left out; a missing table counts None."""
    tcp_head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    (tmp_path / "tcp").write_text(
        tcp_head
        + "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 624 1 0 100\n"
        + "   1: 0100007F:C4C3 0100007F:89A0 06 00000000:00000000 03:000011BB 00000000     0        0 0 3 0\n"
        + "   2: 0100007F:C4C4 0100007F:89A0 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0\n")
    for t in ("udp", "tcp6"):
        (tmp_path / t).write_text(tcp_head)
    (tmp_path / "unix").write_text("Num       RefCount Protocol Flags    Type St Inode Path\n"
                                   "000000002b6fcf6e: 00000003 00000000 00000000 0001 03 37044941\n"
                                   "00000000d28f4322: 00000003 00000000 00010000 0001 01 1073 /run/x.sock\n")
    (tmp_path / "netlink").write_text(
        "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
        "0000000087c17564 0   0          00000000 0        0        0     2        0        4\n"
        "00000000bce78cb7 0   4242       00000000 0        0        0     2        0        99\n")
    got = M.count_families(str(tmp_path), own={777})
    assert got["by family"] == {"AF_INET tcp": 1, "AF_INET udp": 0, "AF_INET6 tcp": 0, "AF_INET6 udp": None,
                                "AF_UNIX": 2, "AF_NETLINK": 1}
    assert got["not counted"] == {M.NOT_HELD: 1, M.KERNELS: 1, M.OURS: 1}


def test_the_tours_own_sockets_are_found_by_their_descriptors():
    a, b = socket.socketpair()
    with a, b, socket.socket() as t:
        t.bind(("127.0.0.1", 0))
        t.listen()
        mine = {os.fstat(s.fileno()).st_ino for s in (a, b, t)}
        assert mine <= M.own_socket_inodes()
        seen = M.observe_families()
        assert seen["not counted"][M.OURS] >= 3  # ours were in the tables, and left out
    assert not mine & M.own_socket_inodes()


def test_makefile_counts_only_descriptors_on_its_socket():
    """Other threads open descriptors while the tour runs: the count follows the socket."""
    import threading
    stop, opened = threading.Event(), []

    def churn():
        while not stop.is_set():
            opened.append(os.open("/dev/null", os.O_RDONLY))
            if len(opened) > 50:
                os.close(opened.pop(0))
    t = threading.Thread(target=churn)
    t.start()
    try:
        seen = [model_facts.makefile_files()["descriptors opened by makefile"] for _ in range(20)]
    finally:
        stop.set()
        t.join()
        for fd in opened:
            os.close(fd)
    assert seen == [0] * 20


def test_accept_judge_gives_each_verdict():
    ev = {"states on the server port before accept": ["ESTABLISHED", "LISTEN"], "the client sends before accept": "sent"}
    assert M.judge_accept(ev).verdict == "refuted"
    assert M.judge_accept({**ev, "states on the server port before accept": ["LISTEN", "SYN_RECV"]}).verdict == "confirmed"


def test_backlog_judge_gives_each_verdict():
    ev = {"listen backlog": 2, "somaxconn": 4096}
    assert M.judge_backlog({**ev, "completed (ESTABLISHED)": 2}).verdict == "confirmed"
    q = M.judge_backlog({**ev, "completed (ESTABLISHED)": 3})
    assert q.verdict == "qualified" and "somaxconn" not in q.condition  # the cap was not observed
    cap = {"a listen() above somaxconn": {"asked": 4196, "kept (ss Send-Q)": 4096}}
    capped = M.judge_backlog({**ev, **cap, "completed (ESTABLISHED)": 3})
    assert "listen(4196) kept 4096" in capped.condition
    assert M.judge_backlog({**ev, "completed (ESTABLISHED)": 6}).verdict == "refuted"
    # the listener's own queue decides when it was read: the clients' count may include a dropped ACK
    queue = "the listener's accept queue (rx_queue of its LISTEN row in /proc/net/tcp)"
    assert M.judge_backlog({**ev, "completed (ESTABLISHED)": 4, queue: 3}).verdict == "qualified"
    assert M.judge_backlog({**ev, "completed (ESTABLISHED)": 3, queue: 2}).verdict == "confirmed"


def test_makefile_never_changes_the_working_directory_other_threads_share():
    """The working directory is the whole process's: the tour's other threads must never
    see it move while makefile's experiment runs."""
    import threading
    home, seen, stop, runs = os.getcwd(), set(), threading.Event(), []

    def experiment():
        while not stop.is_set():
            model_facts.makefile_files()
            runs.append(1)
    t = threading.Thread(target=experiment)
    t.start()
    try:
        samples = 0
        while len(runs) < 30 or samples < 100:  # sample all through 30 experiments, 100 times at least
            seen.add(os.getcwd())
            samples += 1
    finally:
        stop.set()
        t.join()
    assert seen == {home}


MAKEFILE = {"makefile('rwb') returned": "BufferedRWPair", "makefile('rb') returned": "BufferedReader over SocketIO",
            "its descriptor": "4, the socket's own (4)", "descriptors opened by makefile": 0,
            "that descriptor is": "a socket (S_ISSOCK), not a file", "a Python file object (io.IOBase)": True,
            "strace: file and descriptor calls while makefile ran": []}


def test_makefile_judge_gives_each_verdict():
    # Python's file object over the socket's own descriptor, and no file anywhere: qualified, not refuted
    q = M.judge_makefile(MAKEFILE)
    assert q.verdict == "qualified" and "'a file' means a Python file object" in q.condition
    assert "socket's own descriptor (4)" in q.condition and "no file on disk" in q.condition
    assert "a file object associated with the socket" in q.documentation
    untraced = M.judge_makefile({**MAKEFILE, "strace: file and descriptor calls while makefile ran":
                                 {"unavailable": "strace is not installed"}})
    assert untraced.verdict == "qualified" and "no file on disk" not in untraced.condition
    assert "not traced (strace is not installed)" in untraced.condition
    assert M.judge_makefile({**MAKEFILE, "a Python file object (io.IOBase)": False}).verdict == "refuted"
    assert M.judge_makefile({**MAKEFILE, "descriptors opened by makefile": 1}).verdict == "confirmed"
    assert M.judge_makefile({**MAKEFILE, "that descriptor is": "not a socket (mode -rw-r--r--)"}).verdict == "confirmed"
    opened = {**MAKEFILE, "strace: file and descriptor calls while makefile ran": ["openat", "close"]}
    assert M.judge_makefile(opened).verdict == "confirmed"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_makefile_trace_sees_a_file_opened_between_its_markers(monkeypatch):
    """The trace could have shown a file being made: an open() between the markers is seen."""
    seen = M.observe_makefile()
    assert seen["strace: file and descriptor calls while makefile ran"] == []
    monkeypatch.setattr(M, "MAKEFILE_TRACED", M.MAKEFILE_TRACED.replace(
        'f.flush()\n', 'f.flush()\nopen(os.devnull).close()\n'))
    opened = M.observe_makefile()["strace: file and descriptor calls while makefile ran"]
    assert "openat" in opened and M.judge_makefile(M.observe_makefile()).verdict == "confirmed"


def test_disconnect_judge_gives_each_verdict():
    fin, rst = "peer close(): recv", "peer close() with SO_LINGER 0 (RST): recv"
    seen = {fin: "b''", rst: "ConnectionResetError", M.KILLED: "b''", M.KILLED_UNREAD: "ConnectionResetError"}
    q = M.judge_disconnect(seen)
    assert q.verdict == "qualified" and "killed by SIGKILL, recv returned b''" in q.condition and "(FIN)" in q.condition
    assert "data it had not read" in q.condition and "SO_LINGER 0" in q.condition
    only_linger = M.judge_disconnect({**seen, M.KILLED_UNREAD: "b''"})
    assert only_linger.verdict == "qualified" and "data it had not read" not in only_linger.condition
    assert M.judge_disconnect({k: "b''" for k in seen}).verdict == "confirmed"
    assert M.judge_disconnect({**seen, fin: "ConnectionResetError"}).verdict == "refuted"
    assert M.judge_disconnect({**seen, M.KILLED: "ConnectionResetError"}).verdict == "refuted"


def test_a_killed_client_closes_with_fin_unless_it_left_data_unread():
    """SIGKILL is the seed's sudden disconnect: the kernel closes the dead process's socket,
    normally (recv gets b'') unless data sat unread in it (then it resets the connection)."""
    ev = model_facts.sudden_disconnect()
    assert ev[M.KILLED] == "b''"
    assert ev[M.KILLED_UNREAD] == "ConnectionResetError"
