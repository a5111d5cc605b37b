"""atexit_order: handlers run last-registered first, are inherited across fork, and are
skipped by _exit; the same from a Python process, for C handlers and Python's own."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from pylab.run.runner import MODES, run_program
from support import assert_line, expect, run_python

HANDLER = re.compile(r"handler (\d) in pid (\d+)")


def handlers_by_pid(lines, pattern=HANDLER) -> dict[int, list[int]]:
    """Handler numbers in the order each process printed them: per-process order is
    fixed, the interleaving between processes is not."""
    seen = defaultdict(list)
    for line in lines:
        if m := pattern.fullmatch(line):
            seen[int(m.group(2))].append(int(m.group(1)))
    return dict(seen)


def child_pid(lines) -> int:
    m = next(m for ln in lines if (m := re.fullmatch(r"child pid (\d+) leaves by .*", ln)))
    return int(m.group(1))


@pytest.mark.parametrize("mode", MODES)
def test_exit_runs_handlers_in_reverse_order_of_registration(mode):
    r = run_program("atexit_order", ["exit"], mode=mode)
    assert r.exit_code == 0, r.describe()
    assert r.lines[0] == f"registered handlers 1, 2, 3 in pid {r.pid}"
    assert handlers_by_pid(r.lines) == {r.pid: [3, 2, 1]}
    # the handlers run after the last line main printed
    assert r.match().in_order([f"pid {r.pid} leaves by exit()", "handler 3 *", "handler 2 *", "handler 1 *"])


@pytest.mark.parametrize("mode", MODES)
def test__exit_runs_no_handler(mode):
    r = run_program("atexit_order", ["_exit"], mode=mode)
    assert r.exit_code == 0
    assert r.lines == [f"registered handlers 1, 2, 3 in pid {r.pid}", f"pid {r.pid} leaves by _exit()"]


@pytest.mark.parametrize("mode", MODES)
def test_a_forked_child_inherits_the_handlers_and_runs_them_on_exit(mode):
    r = run_program("atexit_order", ["fork"], mode=mode)
    assert r.exit_code == 0
    child = child_pid(r.lines)
    assert child != r.pid
    assert handlers_by_pid(r.lines) == {r.pid: [3, 2, 1], child: [3, 2, 1]}
    assert r.match().count("handler 1 in pid *") == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_child_leaving_by__exit_skips_the_inherited_handlers(mode):
    r = run_program("atexit_order", ["fork-_exit"], mode=mode)
    assert r.exit_code == 0
    child = child_pid(r.lines)
    assert_line(r, f"child pid {child} leaves by _exit()")
    assert handlers_by_pid(r.lines) == {r.pid: [3, 2, 1]}


def test_an_unknown_variant_is_a_usage_error():
    r = run_program("atexit_order", ["sideways"])
    assert r.exit_code == 2
    assert "usage: atexit_order" in r.stderr_text
    assert not r.lines


@pytest.mark.parametrize("how, child_runs_them", [("exit", True), ("_exit", False)])
def test_c_handlers_registered_from_python_follow_the_child_across_fork(how, child_runs_them):
    # pylab.bindings.native registers C atexit handlers; the C child leaves by exit or _exit
    r = run_python(f"""
        import os
        from pylab.bindings import native
        for n in (1, 2, 3):
            native.atexit_print(f"C handler {{n}} in pid %s\\n" % os.getpid())
        native.fflush()
        pid = native.fork_child(None, how={how!r}, code=0)
        print("child", pid, flush=True)
        assert native.waitpid(pid).exit_code == 0
        native.exit(0)   # C exit: the parent's C handlers run too
        """)
    assert r.exit_code == 0, r.stderr_text
    child = int(next(ln.split()[1] for ln in r.lines if ln.startswith("child ")))
    # the child's copies still say the parent's pid (the text was fixed at registration):
    # count them instead; the parent's three come last, after the child has been reaped
    handler_lines = [ln for ln in r.lines if ln.startswith("C handler")]
    expected = ["C handler 3", "C handler 2", "C handler 1"]
    got = [ln.rsplit(" in pid", 1)[0] for ln in handler_lines]
    want = expected * 2 if child_runs_them else expected
    expect(got == want, f"the C handler lines {want} (pids left out), not {got}", r)
    assert child != r.pid


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("leave, runs_in_child", [("sys.exit(0)", True), ("os._exit(0)", False)])
def test_python_atexit_handlers_are_inherited_by_os_fork(mode, leave, runs_in_child):
    r = run_python(f"""
        import atexit, os, sys
        for n in (1, 2, 3):
            atexit.register(lambda n=n: print(f"py handler {{n}} in pid {{os.getpid()}}", flush=True))
        pid = os.fork()
        if pid == 0:
            {leave}
        os.waitpid(pid, 0)
        print(f"parent {{os.getpid()}} child {{pid}}", flush=True)
        """, mode=mode)
    assert r.exit_code == 0, r.stderr_text
    child = int(r.lines[[ln.startswith("parent ") for ln in r.lines].index(True)].split()[3])
    expected = {r.pid: [3, 2, 1]}
    if runs_in_child:
        expected[child] = [3, 2, 1]
    assert handlers_by_pid(r.lines, re.compile(r"py handler (\d) in pid (\d+)")) == expected
