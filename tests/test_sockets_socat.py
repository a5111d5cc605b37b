"""Item 4: a real third-party client, socat, drives the lab's servers."""
from __future__ import annotations

import shutil

from pylab.observe import procstate
from pylab.run import toolchain
from pylab.sockets import forking, socat
from pylab.sockets.serverproc import ServerProcess, lab_command

DATA = b"hello from socat\nline two\n"


def test_socat_is_installed():
    assert shutil.which("socat"), "socat is needed (Debian: apt-get install socat; .ci/run installs it)"


def test_socat_talks_to_the_tcp_echo_server():
    with ServerProcess(lab_command("serve", "tcp")) as srv:
        r = socat.exchange(srv.address, DATA)
        srv.wait_for_count(r"^closed eof$", 1)
        res = srv.stop()
    assert r.exit_code == 0
    assert r.stdout == DATA.upper()
    assert res.lines[-1] == "stopped: served 1"


def test_socat_talks_to_the_unix_echo_server_by_path_and_by_abstract_name():
    for args in (("serve", "unix"), ("serve", "unix", "--abstract", "pylab-socat-test")):
        with ServerProcess(lab_command(*args)) as srv:
            r = socat.exchange(srv.address, DATA)
        assert r.exit_code == 0, r.stderr_text
        assert r.stdout == DATA.upper()


def test_socat_talks_to_the_c_forking_server_whose_child_is_then_reaped():
    binary = toolchain.find("fork_server").build()
    with ServerProcess([binary, "reap", "1", "-"], ready=forking.PORT_LINE) as srv:
        r = socat.exchange(("127.0.0.1", int(srv.match.group(1))), DATA)
        srv.wait_for_count(r"^served 1", 1)
        # the child ends once socat has closed, and the handler reaps it: no child left
        procstate.call_until(srv.children, lambda c: not c, 10, "no children left")
        srv.proc.write("stop\n")
        res = srv.stop()
    assert r.stdout == DATA.upper()
    assert res.lines[-1] == "exiting: served 1, reaped 1"
