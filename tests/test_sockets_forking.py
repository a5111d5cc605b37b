"""Item 3: a forking echo server in C (no reaping vs a SIGCHLD handler), beside
Python's socketserver.ForkingTCPServer."""
from __future__ import annotations

import socket

from pylab.observe import procstate

from pylab.run import toolchain
from pylab.sockets import forking
from pylab.sockets.echo import stream_exchange
from pylab.sockets.serverproc import ServerProcess


def test_fork_server_is_one_short_lesson_with_a_summary():
    prog = toolchain.find("fork_server")
    assert len(prog.source.read_text().splitlines()) < 100
    assert "zombie" in prog.summary


def test_no_reaping_leaves_one_zombie_per_finished_client():
    ev = forking.c_server("noreap", 4)
    assert ev["replies"] == [f"HELLO {i}" for i in range(4)]
    assert ev["zombies"] == 4
    assert ev["zombie states"] == ["Z"]
    assert ev["last line"] == "exiting: served 4, reaped 0"
    assert ev["zombies left after the server ended"] == []  # the runner's subreaper collected them


def test_sigchld_handler_with_a_wnohang_loop_leaves_no_zombie():
    ev = forking.c_server("reap", 4)
    assert ev["replies"] == [f"HELLO {i}" for i in range(4)]
    assert ev["children after the clients"] == 0
    assert ev["last line"] == "exiting: served 4, reaped 4"


def test_each_connection_gets_its_own_child_process():
    binary = toolchain.find("fork_server").build()
    with ServerProcess([binary, "noreap", "2", "-"], ready=forking.PORT_LINE) as srv:
        addr = ("127.0.0.1", int(srv.match.group(1)))
        with socket.create_connection(addr, timeout=5) as a, socket.create_connection(addr, timeout=5) as b:
            a.sendall(b"a")
            b.sendall(b"b")
            assert (a.recv(1), b.recv(1)) == (b"A", b"B")
            kids = procstate.call_until(srv.children, lambda c: len(c) == 2, 5, "two children")
            assert set(kids.values()) <= {"S", "R"}  # alive, serving their clients
        srv.proc.write("stop\n")
        assert srv.stop().exit_code == 0


def test_fork_server_stops_early_on_stdin_eof():
    binary = toolchain.find("fork_server").build()
    with ServerProcess([binary, "reap", "100", "-"], ready=forking.PORT_LINE) as srv:
        res = srv.stop()  # closes stdin
    assert res.exit_code == 0
    assert res.lines[-1] == "exiting: served 0, reaped 0"


def test_forking_tcp_server_child_is_a_zombie_until_the_next_collect_children():
    ev = forking.python_server(3, poll_interval=60.0)
    for row in ev["clients"]:
        assert row["reply"] == "HI"
        assert row["state after its client closed"] == "Z"
        assert row["other zombies"] == []  # the previous one went at this request's collect
    assert ev["zombies after the last client"] == 1
    # after requests 2 and 3, collect_children found 2 children and reaped the finished one;
    # server_close's blocking collect took the last
    assert ev["collect_children lines"] == ["collect_children: 2 -> 1 active"] * 2 + ["collect_children: 1 -> 0 active"]
    assert ev["children left"] == []


def test_forking_tcp_server_reaps_on_its_poll_tick_without_a_new_request():
    ev = forking.python_server(2, poll_interval=0.1)
    for row in ev["clients"]:
        assert "reaped after ms" in row  # gone with no other client arriving
    assert ev["zombies after the last client"] == 0
    assert ev["children left"] == []


def test_forking_tcp_server_upper_cases_like_the_others():
    from pylab.sockets.serverproc import lab_command
    with ServerProcess(lab_command("pyfork-server")) as srv:
        assert stream_exchange(srv.address, [b"forked", b"twice"]) == [b"FORKED", b"TWICE"]


def test_fork_server_bad_arguments_get_a_usage_line_and_exit_2():
    from pylab.run.runner import run_program
    for args in ([], ["sometimes"], ["reap", "0"]):
        r = run_program("fork_server", args)
        assert r.exit_code == 2, args
        assert r.stderr_text.startswith("usage: ") and len(r.stderr_text.splitlines()) == 1
