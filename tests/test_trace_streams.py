"""A traced write reaches the run's stdout only while fd 1 still points there; a vfork
child has no stdout buffer of its own. Both tracers (the lab's, strace -y), live runs
under tty, pipe and file, and the sentences pylab.run.explain draws from them."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pylab.core.targets import MODES
from pylab.run import explain, runner, toolchain, tracer

PROGRAMS = Path(__file__).parent / "programs"


def told(result) -> list[str]:
    return explain.sentences(result.trace, program=result.pid, supervisor=result.supervisor)


def test_the_lab_tracer_names_the_streams_and_a_redirected_write_is_elsewhere():
    log = ("10 5.000000 --- pylab-streams 1<pipe:[7]> 2<pipe:[8]> ---\n"
           '10 5.500000 write(1, "\\x61\\x0a", 2) = 2\n'
           '11 5.600000 write(1</tmp/x/out, y>, "\\x62\\x0a", 2) = 2\n'
           '11 5.700000 writev(2</dev/null>, [{iov_base="\\x63", iov_len=1}], 1) = 1\n')
    trace = tracer.parse(text=log, where=lambda *a: None)
    assert [(e.kind, e.pid, e.fd, e.data, e.text) for e in trace.events] == [
        ("write", 10, 1, b"a\n", ""), ("elsewhere", 11, 1, b"b\n", "/tmp/x/out, y"),
        ("elsewhere", 11, 2, b"c", "/dev/null")]
    assert trace.events[0].t == 0.0  # the streams line is not an event: times start at the first one
    assert trace.stdout() == b"a\n"


def test_strace_y_targets_count_only_when_the_run_s_streams_are_known():
    log = ('10 5.000000 write(1<pipe:[7]>, "\\x61\\x0a", 2) = 2\n'
           '11 5.100000 write(1</tmp/x/out>, "\\x62\\x0a", 2) = 2\n')
    known = tracer.parse(text=log, where=lambda *a: None, streams={1: "pipe:[7]", 2: "pipe:[8]"})
    assert [e.kind for e in known.events] == ["write", "elsewhere"]
    unknown = tracer.parse(text=log, where=lambda *a: None)  # nothing to compare with: as before
    assert [e.kind for e in unknown.events] == ["write", "write"]


@pytest.mark.parametrize("mode", MODES)
def test_a_child_that_points_fd_1_at_a_file_is_not_counted_on_stdout(mode, tmp_path):
    binary = toolchain.build(PROGRAMS / "redirects_its_stdout.c")
    result = runner.run([binary], mode=mode, cwd=tmp_path, trace=True)
    assert result.exit_code == 0, result.stderr_text
    assert result.stdout_text.splitlines() == ["hello from the parent", "child result"]
    copied = "hello from the parent\n" if mode != "tty" else ""  # a terminal's line left at its newline
    assert (tmp_path / "redirected.output").read_text() == copied + "child result\n"
    away = [e for e in result.trace.events if e.kind == "elsewhere"]
    assert away and all(e.fd == 1 and e.text.endswith("/redirected.output") for e in away)
    assert b"".join(e.data for e in away).decode() == copied + "child result\n"
    assert result.trace.stdout().decode() == result.stdout_text.replace("\r\n", "\n")
    said = told(result)
    assert not [s for s in said if "came out" in s], said
    (there,) = [s for s in said if "had pointed its fd 1 at" in s]
    assert "redirected.output" in there and "not to the run's stdout" in there
    if mode != "tty":
        (fork,) = [s for s in said if "when it forked" in s]
        assert "only" in fork and "wrote its copy to stdout" in fork and "where it had pointed its fd 1" in fork


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ending", ["_exit", "exec"])
def test_a_vfork_child_loses_nothing_of_its_parent_s_buffer(mode, ending):
    binary = toolchain.build(PROGRAMS / "vfork_shares_buffer.c")
    result = runner.run([binary, ending], mode=mode, trace=True)
    assert result.exit_code == 0, result.stderr_text
    assert result.stdout_text.splitlines() == ["pending before vfork", "parent done"]
    spawn = next(e for e in result.trace.events if e.kind == "spawn" and e.pid == result.pid)
    assert spawn.text == "vfork"
    said = told(result)
    assert not [s for s in said if "never reached stdout" in s], said
    shared = [s for s in said if "was made by vfork" in s]
    if mode == "tty":  # written at its newline: nothing was pending
        assert not shared, said
    else:
        (s,) = shared
        assert "'pending before vfork'" in s and "was not lost" in s and "wrote it at" in s
    assert any(line.split(None, 3)[3].startswith("vfork ->") for line in explain.timeline(result.trace))


def test_strace_around_a_program_tells_a_redirected_write_with_the_caller_s_streams(tmp_path):
    binary = toolchain.build(PROGRAMS / "redirects_its_stdout.c")
    log = tmp_path / "log"
    out_r, out_w = os.pipe()
    try:
        streams = {1: os.readlink(f"/proc/self/fd/{out_w}"), 2: os.readlink(f"/proc/self/fd/{out_w}")}
        done = subprocess.run(tracer.command(log, [binary], stdio=False), cwd=tmp_path, stdout=out_w,
                              stderr=out_w, timeout=60)
    finally:
        os.close(out_w)
    with os.fdopen(out_r, "rb") as f:
        seen = f.read()
    assert done.returncode == 0 and seen == b"hello from the parent\nchild result\n"
    trace = tracer.parse(log, streams=streams, where=lambda *a: None)
    away = [e for e in trace.events if e.kind == "elsewhere"]
    assert away and all(e.text.endswith("/redirected.output") for e in away)
    assert trace.stdout() == seen


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_the_grader_s_evidence_tells_a_redirected_write_from_stdout(mode, tmp_path):
    from pylab.grading.sandbox import Context, Limits, Sandbox
    with Sandbox(Limits(wall=5.0)) as sb:
        binary = sb.compile(PROGRAMS / "redirects_its_stdout.c")
        ctx = Context(sb, binary)
        result = ctx.run(mode=mode, watch_forks=True)
        seen = ctx.watch()
    assert result.exit_code == 0 and result.stdout_text == "hello from the parent\nchild result\n"
    (child,) = [c for c, parent in seen.forks if parent == result.pid]
    assert seen.stdout(result.pid) == result.stdout  # the parent's writes are what the grader's pipe got
    assert seen.stdout(child) == b""  # the child wrote to its file, not to stdout
    away = [e for e in seen.events if e.kind == "elsewhere"]
    assert away and {e.pid for e in away} == {child}
    said = explain.syscall_sentences(seen.trace(), program=result.pid, supervisor=1)
    assert not [s for s in said if "a copy each" in s], said
