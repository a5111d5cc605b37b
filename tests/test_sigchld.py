"""SIGCHLD: reaping in a handler with a WNOHANG loop; SIG_IGN and SA_NOCLDWAIT."""
from __future__ import annotations

import re

import pytest

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program

from support import assert_line, expect, line_matching, matching

SUMMARY = re.compile(r"children (\d+), SIGCHLD signals handled (\d+), reaped (\d+)")


def summary(r) -> tuple[int, int, int]:
    m = line_matching(r, SUMMARY.pattern)
    return int(m[1]), int(m[2]), int(m[3])


@pytest.mark.parametrize("n", [1, 5, 12])
def test_children_ended_while_blocked_bring_one_signal_and_all_are_reaped(n):
    r = run_program("sigchld_reap", [str(n), "blocked"])
    assert r.exit_code == 0, r.stderr_text
    assert_line(r, f"all {n} children ended while SIGCHLD was blocked")
    assert summary(r) == (n, 1, n)                  # signals don't queue: N ends, one signal
    assert r.lines[-1] == "wait: ECHILD, no child left"


@pytest.mark.parametrize("mode", MODES)
def test_with_sigchld_open_every_child_is_reaped_by_at_most_one_signal_each(mode):
    r = run_program("sigchld_reap", ["10", "open"], mode=mode)
    assert r.exit_code == 0, r.stderr_text
    children, signals, reaped = summary(r)
    assert children == reaped == 10 and 1 <= signals <= 10
    assert r.lines[-1] == "wait: ECHILD, no child left"


def test_sigchld_reap_rejects_a_bad_count():
    r = run_program("sigchld_reap", ["0"])
    assert r.exit_code == 2 and "usage: sigchld_reap" in r.stderr_text


def hold(mode):
    """Start sigchld_ignore MODE; return the handle and the child's pid once it has ended."""
    p = runner.start([toolchain.find("sigchld_ignore").build(), mode])
    p.expect(r"child ended: state .\n")
    return p, int(re.search(rb"child (\d+)\n", p.output()).group(1))


def test_by_default_the_ended_child_is_a_zombie_and_wait_returns_it():
    p, child = hold("default")
    with p:
        assert procstate.state_proc(child) == "Z" and procstate.read_stat(child).ppid == p.pid
        p.write("\n")
        r = p.wait(timeout=10)
    r.match().assert_in_order(["child ended: state Z", f"wait: reaped {child}, exit 7"])


@pytest.mark.parametrize("mode", ["ignore", "nocldwait"])
def test_ignored_sigchld_leaves_no_zombie_and_wait_fails_with_echild(mode):
    p, child = hold(mode)
    with p:
        # the parent has not called wait, yet the ended child is gone: nobody has to
        assert not procstate.exists(child)
        p.write("\n")
        r = p.wait(timeout=10)
    assert r.exit_code == 0
    r.match().assert_in_order(["waitid WNOWAIT: No child processes", "child ended: state -",
                               "wait: No child processes (ECHILD)"])


@pytest.mark.parametrize("mode", MODES)
def test_without_an_argument_all_three_modes_run_in_turn_for_the_contrast(mode):
    r = run_program("sigchld_ignore", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    kids = [int(m[1]) for m in matching(r, r"child (\d+)")]
    expect(len(kids) == 3, "three lines 'child PID', one per mode", r)
    assert r.lines == [
        "mode default", f"child {kids[0]}", "child ended: state Z", f"wait: reaped {kids[0]}, exit 7",
        "mode ignore", f"child {kids[1]}", "waitid WNOWAIT: No child processes", "child ended: state -",
        "wait: No child processes (ECHILD)",
        "mode nocldwait", f"child {kids[2]}", "waitid WNOWAIT: No child processes", "child ended: state -",
        "wait: No child processes (ECHILD)",
    ]
