"""The claims of pylab/tour/sockets_model.py: the experiments of pylab.sockets.model_facts,
the live verdicts, and every judge fed observations leading to each verdict it can give."""
from __future__ import annotations

import json
import os
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
    assert rows["makefile-creates-file"]["verdict"] == "refuted"
    dis = model_facts.sudden_disconnect()
    assert dis["peer close(): recv"] == "b''" and dis["peer close() with SO_LINGER 0 (RST): recv"] == "ConnectionResetError"
    assert dis[M.KILLED] == "b''" and dis[M.KILLED_UNREAD] == "ConnectionResetError"
    assert rows["disconnect-recv-empty"]["verdict"] == "qualified"
    # the families in use shift while other tests run: the verdict follows the counts the tour saw
    counts = rows["af-inet-most-used"]["evidence"]["sockets in this network namespace, by family"]
    inet = sum(v for k, v in counts.items() if k.startswith("AF_INET ") and v)
    others = max(v for k, v in counts.items() if not k.startswith("AF_INET ") and v is not None)
    assert rows["af-inet-most-used"]["verdict"] == "qualified"
    assert ("not on this machine" in rows["af-inet-most-used"]["condition"]) == (others > inet)
    assert set(model_facts.families()) == set(counts)
    a, b = socket.socketpair()
    with a, b, socket.socket() as t:
        t.bind(("127.0.0.1", 0))
        t.listen()
        now = model_facts.families()
        assert now["AF_UNIX"] >= 2 and now["AF_INET tcp"] >= 1  # ours are among those counted
    assert rows["socket-facade"]["verdict"] in ("refuted", "unverified")


def test_facade_judge_gives_each_verdict():
    seen = {"tcp: three sends, one recv(1024)": "abbccc", "seed server": SPINNING}
    assert M.judge_facade(seen).verdict == "refuted"
    assert M.judge_facade({**seen, "seed server": BLOCKED, "tcp: three sends, one recv(1024)": "a"}).verdict == "confirmed"
    unclear = {**SPINNING, "while the observer worked: server CPU ns": None}
    assert M.judge_facade({**seen, "seed server": unclear}).verdict == "refuted"  # the merged sends decide it
    kept_apart = {**seen, "tcp: three sends, one recv(1024)": "a"}
    assert M.judge_facade({**kept_apart, "seed server": unclear}).verdict == "unverified"
    assert M.judge_facade({**kept_apart, "seed server": SPINNING}).verdict == "refuted"


def test_ip_port_judge_gives_each_verdict():
    ev = {"TCP and UDP bind the same port": "ok", "a second SO_REUSEPORT listener on that port": "ok",
          "accepted connections: (local, remote)": ["5 <- 6", "5 <- 7"], "listener port": 5}
    q = M.judge_ip_port(ev)
    assert q.verdict == "qualified" and "4-tuple" in q.condition
    apart = {"TCP and UDP bind the same port": "OSError: EADDRINUSE", "a second SO_REUSEPORT listener on that port":
             "OSError: EADDRINUSE", "accepted connections: (local, remote)": ["5 <- 6", "8 <- 7"]}
    assert M.judge_ip_port(apart).verdict == "confirmed"


def test_families_judge_gives_each_verdict():
    """One machine's sockets cannot decide what the world uses most: qualified either way,
    with a condition that says which family leads here; unverified without /proc/net."""
    top_here = M.judge_families({"AF_INET tcp": 50, "AF_UNIX": 10})
    assert top_here.verdict == "qualified" and top_here.condition.startswith("on this machine it is")
    behind = M.judge_families({"AF_INET tcp": 5, "AF_UNIX": 100})
    assert behind.verdict == "qualified" and "not on this machine: AF_UNIX" in behind.condition
    assert M.judge_families({"AF_INET tcp": None, "AF_UNIX": None}).verdict == "unverified"


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


def test_makefile_judge_gives_each_verdict():
    ev = {"makefile('rwb') returned": "BufferedRWPair", "descriptors opened by makefile": 0,
          "that descriptor is": "a socket (S_ISSOCK), not a file"}
    assert M.judge_makefile(ev).verdict == "refuted"
    assert M.judge_makefile({**ev, "descriptors opened by makefile": 1}).verdict == "confirmed"
    assert M.judge_makefile({**ev, "that descriptor is": "not a socket (mode -rw-r--r--)"}).verdict == "confirmed"


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
