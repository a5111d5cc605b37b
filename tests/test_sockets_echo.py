"""Item 1: the upper-casing echo servers and clients over TCP, UDP and AF_UNIX."""
from __future__ import annotations

import ctypes
import glob
import os
import signal
import socket
import sys
import tempfile

import pytest

from pylab.cli import main as cli

from pylab.observe import procstate

from pylab.run import runner
from pylab.sockets import echo, tcp_facts
from pylab.sockets.serverproc import ServerProcess, lab_command


def _echo_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "pylab-echo-*")))


@pytest.mark.parametrize("kind", ["tcp", "udp", "unix"])
def test_echo_server_upper_cases_every_message_and_stops_on_stdin_eof(kind):
    messages = [b"hello", b"Mixed Case 123", "caf\u00e9".encode()]
    with ServerProcess(lab_command("serve", kind)) as srv:
        replies = echo.exchange(kind, srv.address, messages)
        res = srv.stop()
    assert replies == [b"HELLO", b"MIXED CASE 123", "CAF\u00e9".encode()]  # bytes.upper(): ASCII only
    assert res.exit_code == 0
    assert res.lines[-1].startswith("stopped:")


def test_tcp_server_binds_localhost_and_an_ephemeral_port():
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        host, port = srv.address
    assert host == "127.0.0.1"
    assert port != 0


def test_tcp_server_goes_back_to_accept_after_each_client():
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        for i in range(3):
            assert echo.stream_exchange(srv.address, [b"round %d" % i]) == [b"ROUND %d" % i]
        srv.wait_for_count(r"^closed eof$", 3)
        res = srv.stop()
    assert res.lines[-1] == "stopped: served 3"


def test_one_connection_carries_many_messages_in_its_communication_loop():
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        replies = echo.stream_exchange(srv.address, [b"one", b"two", b"three"])
        res = srv.stop()
    assert replies == [b"ONE", b"TWO", b"THREE"]
    assert res.lines.count("closed eof") == 1


def test_unix_socket_file_exists_while_serving_and_is_removed_on_stop():
    before = _echo_dirs()
    with ServerProcess(lab_command("serve", "unix")) as srv:
        path = srv.address
        assert os.path.exists(path)
        assert echo.stream_exchange(path, [b"x"]) == [b"X"]
    assert not os.path.exists(path)
    assert not os.path.exists(os.path.dirname(path))
    assert _echo_dirs() == before


def test_unix_socket_file_is_removed_when_the_server_gets_sigterm():
    with ServerProcess(lab_command("serve", "unix")) as srv:
        path = srv.address
        os.kill(srv.pid, signal.SIGTERM)
        res = srv.proc.wait(10)
    assert res.exit_code == 0
    assert not os.path.exists(path)


@pytest.mark.parametrize("stdin", ["/dev/null", "file"])
def test_server_with_an_unpollable_stdin_keeps_serving_says_so_and_stops_on_sigterm(stdin, tmp_path):
    if stdin == "file":  # a regular file, as under `nohup ... < file`
        stdin = tmp_path / "in.txt"
        stdin.write_text("a line that must not stop the server\n")
    argv = ["sh", "-c", 'exec "$0" -P -m pylab sockets serve tcp < "$1"', sys.executable, str(stdin)]
    with ServerProcess(argv) as srv:
        assert os.readlink(f"/proc/{srv.pid}/fd/0") == str(stdin)  # the server itself has that stdin
        assert echo.exchange("tcp", srv.address, [b"one"]) == [b"ONE"]
        assert procstate.state_proc(srv.pid) in {"S", "R"}  # still there after reading stdin's EOF
        assert echo.exchange("tcp", srv.address, [b"two"]) == [b"TWO"]
        os.kill(srv.pid, signal.SIGTERM)
        res = srv.proc.wait(10)
    assert res.exit_code == 0  # its SIGTERM handler ran: a plain SIGTERM death is a signal
    assert res.lines.count("closed eof") == 2
    assert res.stderr_text.splitlines() == [
        "stdin cannot be polled (Operation not permitted): not watching it; stop the server with SIGTERM or --max-conns"]


def test_a_sigterm_taken_by_a_connections_thread_still_stops_the_server():
    """The kernel may give a process's SIGTERM to any of its threads; Python runs the
    handler in the main thread only, so the main thread's select() must be woken (the
    server's signal wake-up pipe) or the server sleeps on. The signal goes, with tgkill,
    to the thread serving an open connection."""
    libc = ctypes.CDLL(None, use_errno=True)
    with ServerProcess(lab_command("serve", "tcp")) as srv, \
            socket.create_connection(srv.address, timeout=5) as held:
        held.sendall(b"held\n")
        assert echo.recv_exactly(held, 5) == b"HELD\n"  # its thread is in the communication loop
        (thread,) = [int(t) for t in os.listdir(f"/proc/{srv.pid}/task") if int(t) != srv.pid]
        assert libc.tgkill(srv.pid, thread, signal.SIGTERM) == 0, os.strerror(ctypes.get_errno())
        res = srv.proc.wait(10)
    assert res.exit_code == 0  # the handler ran: SystemExit(0), not a death by SIGTERM
    assert res.lines[1:] == ["closed eof"]  # the held connection, ended by the stop


def test_idle_timeout_is_accepted_as_a_fraction_of_a_second():
    with ServerProcess(lab_command("serve", "tcp", "--idle-timeout", "0.5", "--max-conns", "1")) as srv:
        assert echo.exchange("tcp", srv.address, [b"ok"]) == [b"OK"]
        res = srv.proc.wait(10)
    assert res.exit_code == 0 and res.lines[-1] == "stopped: served 1"


def test_unix_server_at_a_given_path_removes_exactly_that_file(tmp_path):
    path = tmp_path / "mine.sock"
    with ServerProcess(lab_command("serve", "unix", "--path", str(path))) as srv:
        assert srv.address == str(path)
        assert echo.stream_exchange(str(path), [b"given"]) == [b"GIVEN"]
    assert list(tmp_path.iterdir()) == []


def _in_proc_net_unix(name: str) -> bool:
    with open("/proc/net/unix") as f:
        return any(line.split()[-1] == name for line in f)


def test_abstract_unix_server_creates_no_file():
    before = _echo_dirs()
    name = f"pylab-test-{os.getpid()}"
    with ServerProcess(lab_command("serve", "unix", "--abstract", name)) as srv:
        assert srv.address == "\0" + name
        assert echo.stream_exchange(srv.address, [b"abstract"]) == [b"ABSTRACT"]
        assert _in_proc_net_unix("@" + name)  # the kernel knows the name ...
        assert _echo_dirs() == before  # ... and no directory or file was made for it
        assert not glob.glob(os.path.join(tempfile.gettempdir(), f"*{name}*"))
    assert not _in_proc_net_unix("@" + name)


def test_server_stops_by_itself_after_max_conns_once_their_conversations_end():
    with ServerProcess(lab_command("serve", "tcp", "--max-conns", "2", "--ignore-stdin")) as srv:
        with socket.create_connection(srv.address, timeout=5) as a, \
                socket.create_connection(srv.address, timeout=5) as b:
            # the second accept was the last: the server stops listening ...
            procstate.call_until(lambda: tcp_facts.proc_net_tcp(srv.address[1]),
                                 lambda rows: "LISTEN" not in {r["name"] for r in rows}, 5, "listener closed")
            # ... and still serves both connections to their end
            for _ in range(2):
                a.sendall(b"a")
                b.sendall(b"b")
                assert (echo.recv_exactly(a, 1), echo.recv_exactly(b, 1)) == (b"A", b"B")
        res = srv.proc.wait(10)  # stdin still open: it ended on its own
    assert res.exit_code == 0
    assert res.lines[-1] == "stopped: served 2"


def test_udp_server_answers_each_datagram_to_its_sender():
    with ServerProcess(lab_command("serve", "udp")) as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
            a.settimeout(5)
            b.settimeout(5)
            a.sendto(b"from a", srv.address)
            b.sendto(b"from b", srv.address)
            assert b.recvfrom(100)[0] == b"FROM B"
            assert a.recvfrom(100)[0] == b"FROM A"


def test_client_command_prints_the_replies(capsys):
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        code = cli.main(["sockets", "client", "tcp", "--port", str(srv.address[1]), "hello", "world"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["HELLO", "WORLD"]


@pytest.mark.parametrize("argv, words", [
    (["sockets", "client", "tcp"], "needs --port"),
    (["sockets", "client", "unix"], "exactly one of --path or --abstract"),
    (["sockets", "serve", "tcp", "--port", "70000"], "bad port"),
    (["sockets", "serve", "tcp", "--path", "/tmp/x"], "for unix servers"),
    (["sockets", "serve", "sctp"], "invalid choice"),
    (["sockets", "bogus"], "invalid choice"),
    (["sockets", "serve", "tcp", "--idle-timeout", "-1"], "bad --idle-timeout"),
    (["sockets", "serve", "tcp", "--idle-timeout", "0"], "bad --idle-timeout"),
    (["sockets", "serve", "tcp", "--max-conns", "0"], "bad --max-conns"),
    (["sockets", "serve", "udp", "--max-conns", "-3"], "bad --max-conns"),
    (["sockets", "client", "tcp", "--port", "9", "--timeout", "-2", "hi"], "bad --timeout"),
    # socket.settimeout overflows past ~1e9 s: a traceback before the cap (a year)
    (["sockets", "client", "tcp", "--port", "9", "--timeout", "1e300", "hi"], "bad --timeout 1e+300"),
    (["sockets", "client", "tcp", "--port", "9", "--timeout", "inf", "hi"], "at most 31536000 seconds"),
    (["sockets", "serve", "tcp", "--idle-timeout", "1e10"], "bad --idle-timeout"),
    (["sockets", "serve", "tcp", "--idle-timeout", "nan"], "bad --idle-timeout"),
    (["sockets", "pyfork-server", "--poll-interval", "31536001"], "bad --poll-interval"),
])
def test_bad_input_gets_one_line_and_exit_2(capsys, argv, words):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert words in err


def test_client_to_a_closed_port_is_one_line_and_exit_2(capsys):
    with socket.socket() as hold:
        hold.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        code = cli.main(["sockets", "client", "tcp", "--port", str(hold.getsockname()[1]), "hi"])
    assert code == 2
    assert "Connection refused" in capsys.readouterr().err


def test_serve_on_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        res = runner.run(lab_command("serve", "tcp", "--port", str(taken.getsockname()[1])))
    assert res.exit_code == 2
    assert res.stderr_text.splitlines() == ["pylab: error: cannot serve: [Errno 98] Address already in use"]


def test_a_server_interrupted_while_it_starts_is_stopped_and_collected(monkeypatch):
    from pylab.sockets.serverproc import ServerProcess
    started = []

    def interrupted(self, *args, **kwargs):  # Ctrl-C (or SIGTERM, as pylab.cli.main makes it) at the handshake
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.Process, "expect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ServerProcess([sys.executable, "-c", "import time; time.sleep(60)"], ready=b"never")
    (proc,) = started
    assert not proc.running  # the supervisor ended it and everything it started, and was reaped
