"""Item 5: load and faults, bounded in count and time: the server keeps serving and
its open descriptors come back to where they started."""
from __future__ import annotations

import json

from pylab.sockets import load
from pylab.sockets.echo import stream_exchange
from pylab.sockets.serverproc import ServerProcess, lab_command


def test_echo_load_demo_serves_a_thousand_sequential_fifty_concurrent_resets_and_a_silent_client(pylab_cli):
    """`pylab run echo-load`, end to end (test_sockets_demos leaves this demo to this test:
    one run of the load, asserted whole). The load phase's server has a long idle timeout:
    a client stalled on a busy machine must not be dropped; the silent client gets a server
    of its own with the demo's short one (1 s), which it must reach."""
    out = pylab_cli("run", "echo-load", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["demo"] == "load and faults, bounded"
    ev = report["evidence"]
    assert ev["sequential clients served"] == 1000
    assert ev["concurrent"] == {"open at once": 50, "server fds at the peak": ev["server fds at start"] + 50,
                                "right replies": 50}
    assert ev["resetting clients"] == 20
    assert ev["server still serves"] == "STILL THERE?"
    ends = ev["connection ends logged"]
    assert ends == {"eof": 1000 + 50 + 1, "reset": 20, "timeout": 0}
    assert ev["server fds at the end"] == ev["server fds at start"]
    assert ev["server exit"] == "exited with code 0"
    silent = ev["silent client"]
    assert silent["served meanwhile"] == "MEANWHILE"
    assert silent["silent client got"] == "b''"  # the server closed it, not the client
    assert sorted(silent["its server logged"]) == ["closed eof", "closed timeout"]  # two threads: any order
    assert silent["its server's exit"] == "exited with code 0"
    assert ev["left behind"] == []


def test_a_reset_mid_message_does_not_stop_the_server():
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        base = srv.open_fds()
        load.resets(srv.address, 3, size=200_000)
        srv.wait_for_count(r"^closed reset$", 3)
        assert stream_exchange(srv.address, [b"next"]) == [b"NEXT"]
        assert load.fds_back(srv, base) == base


def test_a_silent_client_is_dropped_after_the_idle_timeout():
    with ServerProcess(lab_command("serve", "tcp", "--idle-timeout", "0.2")) as srv:
        ev = load.silent(srv.address, 0.2)
        srv.wait_for_count(r"^closed timeout$", 1)
    assert ev["silent client got"] == "b''"  # the server closed it, not the client
    assert ev["served meanwhile"] == "MEANWHILE"  # and served another client in between
