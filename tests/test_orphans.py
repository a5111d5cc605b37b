"""Zombies that outlive SIGKILL, and orphans adopted by the nearest subreaper or PID 1."""
from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

from support import assert_line, expect


def zombie_of(p) -> int:
    p.expect(r"returned 0: state .\n")
    return int(re.search(rb"child (\d+) has exited", p.output()).group(1))


def test_a_zombie_outlives_sigkill_until_its_parent_reaps_it():
    with runner.start([toolchain.find("zombie_kill").build(), "reap"]) as p:
        z = zombie_of(p)
        assert procstate.state_proc(z) == "Z"
        os.kill(z, signal.SIGKILL)                  # from outside too: still accepted...
        assert procstate.state_proc(z) == "Z"       # ...and still nothing to kill
        assert procstate.read_stat(z).ppid == p.pid
        p.write("\n")
        r = p.wait(timeout=10)
    assert r.exit_code == 0
    r.match().assert_in_order([f"child {z} has exited: state Z", f"kill({z}, SIGKILL) returned 0: state Z",
                               f"reaped {z}: exited with 0; state -"])   # its own exit 0, not SIGKILL
    assert not procstate.exists(z)


def test_a_zombie_whose_parent_exits_is_reaped_by_the_runner():
    with runner.start([toolchain.find("zombie_kill").build(), "exit"]) as p:
        z = zombie_of(p)
        assert procstate.state_proc(z) == "Z" and procstate.read_stat(z).ppid == p.pid
        p.write("\n")
        r = p.wait(timeout=10)
    assert r.exit_code == 0
    assert_line(r, f"parent {r.pid} exits without waiting for {z}")
    procstate.wait_gone(z, timeout=5)               # the supervisor adopted and reaped it
    assert z not in r.stragglers                    # reaped, not killed: it was already dead


def test_an_adopted_zombie_stays_until_the_new_parent_waits():
    # No runner: this pytest process is a child subreaper (conftest), so it adopts the
    # zombie; it stays Z here, SIGKILL or not, until this process reaps it.
    binary = toolchain.find("zombie_kill").build()
    with subprocess.Popen([binary, "exit"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        z = int(re.match(rb"child (\d+)", proc.stdout.readline()).group(1))
        proc.stdout.readline()
        proc.stdin.close()                          # EOF is the go-ahead
        assert proc.wait(timeout=10) == 0
    ppid = procstate.call_until(lambda: procstate.read_stat(z).ppid, lambda pp: pp == os.getpid(),
                                timeout=5, what="adoption")
    assert ppid == os.getpid() and procstate.state_proc(z) == "Z"
    os.kill(z, signal.SIGKILL)
    assert procstate.state_proc(z) == "Z"
    pid, raw = os.waitpid(z, 0)
    assert pid == z and os.waitstatus_to_exitcode(raw) == 0
    assert not procstate.exists(z)


def lineage(r) -> dict[str, int]:
    text = "\n".join(r.lines)
    found = {
        "grandparent": re.search(r"^grandparent (\d+)", text, re.M),
        "parent": re.search(r"^parent (\d+) exits, leaving (\d+) behind", text, re.M),
        "adopted": re.search(r"^orphan (\d+): parent (\d+) exited, new parent (\d+) \((.*)\)", text, re.M),
    }
    expect(all(found.values()), "the grandparent's, the parent's and the adopted orphan's lines (not found: "
           + ", ".join(k for k, m in found.items() if not m) + ")", r)
    g, p, a = found["grandparent"], found["parent"], found["adopted"]
    assert a[1] == p[2] and a[2] == p[1]            # the orphan named the parent that left it
    assert_line(r, f"orphan {a[1]}: parent {p[1]}")   # its first getppid(), before the parent left
    return {"grandparent": int(g[1]), "parent": int(p[1]), "orphan": int(a[1]),
            "new_parent": int(a[3]), "new_name": a[4]}


@pytest.mark.parametrize("mode", MODES)
def test_an_orphan_skips_a_plain_grandparent_and_goes_to_the_runner(mode):
    r = run_program("orphan", ["plain"], mode=mode)
    assert r.exit_code == 0, r.stderr_text
    seen = lineage(r)
    assert seen["grandparent"] == r.pid
    assert seen["new_parent"] == r.supervisor != r.pid  # the nearest subreaper, not the grandparent
    assert seen["new_name"] == "supervise"
    assert r.stragglers == []                           # it ended by itself


@pytest.mark.parametrize("mode", MODES)
def test_an_orphan_goes_to_a_subreaper_grandparent_which_reaps_it(mode):
    r = run_program("orphan", ["subreaper"], mode=mode)
    assert r.exit_code == 0, r.stderr_text
    seen = lineage(r)
    assert seen["new_parent"] == seen["grandparent"] == r.pid
    assert_line(r, f"grandparent reaped adopted orphan {seen['orphan']} (exit 0)")


def test_an_orphan_goes_to_the_nearest_subreaper_this_test_process():
    binary = toolchain.find("orphan").build()
    proc = subprocess.run([binary, "plain"], stdout=subprocess.PIPE, timeout=10)  # EOF: the orphan ended
    text = proc.stdout.decode()
    m = re.search(r"orphan (\d+): parent \d+ exited, new parent (\d+)", text)
    assert proc.returncode == 0 and m, text
    orphan = int(m[1])
    assert int(m[2]) == os.getpid()                     # pytest is a subreaper (conftest)
    pid, raw = os.waitpid(orphan, 0)                    # it is our child now: reap it
    assert pid == orphan and os.waitstatus_to_exitcode(raw) == 0


def test_with_no_subreaper_in_its_pid_namespace_pid_1_adopts():
    # A new PID namespace (inside a user namespace, so no root is needed) has no
    # subreaper: `sh` is its PID 1. `| cat` keeps sh waiting until the orphan closes stdout.
    binary = toolchain.find("orphan").build()
    r = runner.run(["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc",
                    "sh", "-c", f"'{binary}' plain | cat"])
    assert r.exit_code == 0, r.stderr_text
    seen = lineage(r)
    assert seen["grandparent"] != 1 and seen["new_parent"] == 1 and seen["new_name"] == "sh"
