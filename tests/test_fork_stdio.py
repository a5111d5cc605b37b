"""stdio across fork: a line printed before fork, unflushed, is written by both processes
on a pipe or a file (fully buffered) and once on a terminal; each remedy fixes it."""
from __future__ import annotations

import re

import pytest

from pylab.run.runner import MODES, run_program
from support import expect, run_python

REMEDIES = ("none", "fflush", "setvbuf", "_exit")


@pytest.mark.parametrize("remedy", REMEDIES)
@pytest.mark.parametrize("mode", MODES)
def test_the_pre_fork_line_is_doubled_only_when_buffered_and_unremedied(mode, remedy):
    r = run_program("fork_stdio", [remedy], mode=mode)
    assert r.exit_code == 0, r.stderr_text
    before = [ln for ln in r.lines if ln.startswith("before fork:")]
    doubled = remedy == "none" and mode in ("pipe", "file")
    expect(len(before) == (2 if doubled else 1),
           f"{2 if doubled else 1} 'before fork:' line(s) (stdout {mode}, remedy {remedy})", r)
    assert set(before) == {f"before fork: pid {r.pid} (remedy: {remedy})"}  # the parent's line, copied
    # one line from each process, in whatever order they came
    child = [m for m in map(re.compile(r"child (\d+): parent (\d+)").fullmatch, r.lines) if m]
    assert len(child) == 1 and int(child[0][2]) == r.pid
    assert r.lines.count(f"parent {r.pid}: child {child[0][1]} done") == 1
    assert len(r.lines) == len(before) + 2


PY_FORK = """
    import os
    from pylab.bindings import native
    native.print_("before fork\\n")          # into C's stdout buffer, not flushed
    pid = native.fork_child(None, how={how!r}, code=0)
    os.waitpid(pid, 0)
    native.exit(0)                           # C exit(): flush this process's copy
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["exit", "_exit"])
def test_python_forking_through_c_doubles_the_buffer_the_same_way(mode, how):
    r = run_python(PY_FORK.format(how=how), mode=mode)         # PYTHONUNBUFFERED cleared
    assert r.exit_code == 0, r.stderr_text
    doubled = how == "exit" and mode in ("pipe", "file")
    want = ["before fork"] * (2 if doubled else 1)
    expect(r.lines == want, f"exactly the lines {want} (stdout {mode}, the child ends by {how})", r)
