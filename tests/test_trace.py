"""The outside tracer (pylab.run.tracer): strace -f's log turned into per-process events,
checked against outside-shaped programs in tests/programs/."""
from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from pylab.run import dwarf, runner, toolchain, tracer

PROGRAMS = Path(__file__).parent / "programs"


def build(name: str, **kw) -> Path:
    return toolchain.build(PROGRAMS / f"{name}.c", **kw)


def traced(name: str, mode: str = "pipe", **kw) -> runner.RunResult:
    r = runner.run([build(name)], mode=mode, trace=True, **kw)
    assert r.trace is not None and r.trace.root == r.supervisor
    return r


def test_the_trace_names_who_forked_whom_and_who_reaped_whom():
    r = traced("fork_copies_buffer")
    procs = r.trace.processes()
    kids = [p for p in procs.values() if p.parent == r.pid]
    assert len(kids) == 1
    child = kids[0]
    assert procs[r.pid].parent == r.supervisor  # the supervisor forked the program
    assert child.reaped_by == r.pid and child.exit_code == 0  # the program's waitpid
    assert procs[r.pid].reaped_by == r.supervisor and procs[r.pid].exit_code == 0
    assert procs[r.pid].argv == [str(build("fork_copies_buffer"))]


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_each_write_is_kept_with_its_exact_bytes_and_its_writer(mode):
    r = traced("fork_copies_buffer", mode=mode)
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    # what the trace saw written to fd 1 is, byte for byte, what the run captured
    assert sorted([r.trace.stdout(r.pid), r.trace.stdout(child.pid)]) == \
        sorted([b"before fork\nparent\n", b"before fork\nchild\n"])
    assert len(r.stdout) == len(r.trace.stdout())


def test_on_a_tty_the_line_went_out_before_the_fork():
    r = traced("fork_copies_buffer", mode="tty")
    first = next(e for e in r.trace.events if e.kind == "write" and e.pid == r.pid)
    spawn = next(e for e in r.trace.events if e.kind == "spawn" and e.pid == r.pid)
    assert first.data == b"before fork\n" and first.t < spawn.t


def test_the_stdio_marker_shows_the_buffer_fork_copied():
    r = traced("fork_copies_buffer", mode="pipe")
    mark = next(e for e in r.trace.events if e.kind == "stdio" and e.pid == r.pid)
    assert (mark.text, mark.mode, mark.data) == ("fork", "full", b"before fork\n")


def test_an_exec_with_a_full_buffer_is_marked_with_what_it_discards():
    r = traced("exec_drops_buffer", mode="pipe")
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    mark = next(e for e in r.trace.of(child.pid) if e.kind == "stdio")
    assert (mark.text, mark.data) == ("exec", b"child before exec\n")
    assert mark.where == "exec_drops_buffer.c:21"  # the execlp line, from the -g binary
    assert child.argv == ["echo", "from echo"]
    assert b"child before exec" not in r.stdout and b"from echo\n" in r.stdout


@pytest.mark.parametrize("mode,expected", [("tty", "line"), ("pipe", "full"), ("file", "full")])
def test_before_stdouts_first_use_the_marker_gives_the_mode_stdio_then_takes(mode, expected):
    r = traced("forks_before_output", mode=mode)
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    fork = next(e for e in r.trace.of(r.pid) if e.kind == "stdio" and e.text == "fork")
    gone = next(e for e in r.trace.of(child.pid) if e.kind == "stdio" and e.text == "_exit")
    assert (fork.mode, fork.data) == (expected, b"")  # nothing printed yet: no buffer at the fork
    # the child's first printf chose the mode: the same, as what it did with the line shows
    assert gone.mode == expected
    written, pending = (b"child\n", b"") if expected == "line" else (b"", b"child\n")
    assert (r.trace.stdout(child.pid), gone.data) == (written, pending)


def test_setvbuf_is_marked_with_its_source_line():
    r = traced("sets_own_buffering", mode="file")
    mark = next(e for e in r.trace.events if e.kind == "stdio" and e.text == "setvbuf")
    assert mark.mode == "none" and mark.where == "sets_own_buffering.c:13"


def test_an_orphan_is_seen_reparented_to_the_supervisor_and_reaped_by_it():
    r = traced("child_outlives", linger=0.3)
    procs = r.trace.processes()
    child = next(p for p in procs.values() if p.parent == r.pid)
    assert child.adopted_by == r.supervisor
    assert child.reaped_by == r.supervisor and child.signal == "SIGKILL"
    reparent = next(e for e in r.trace.events if e.kind == "reparent")
    assert reparent.pid == child.pid and reparent.t == procs[r.pid].ended


def test_a_killed_process_and_the_signal_it_got_are_events():
    r = runner.run(["sh", "-c", "kill -TERM $$"], trace=True)
    assert r.signal == signal.SIGTERM
    end = next(e for e in r.trace.events if e.kind == "end" and e.pid == r.pid)
    assert end.signal == "SIGTERM"
    assert any(e.kind == "kill" and e.pid == r.pid and e.other == r.pid for e in r.trace.events)
    assert any(e.kind == "signal" and e.pid == r.pid and e.signal == "SIGTERM" for e in r.trace.events)


def test_eight_processes_are_all_in_the_trace():
    r = traced("fork_tree", mode="pipe")
    procs = r.trace.processes()
    program_tree = [p for p in procs.values() if p.pid != r.supervisor]
    assert len(program_tree) == 8
    assert r.stdout.count(b"start\n") == 8 and r.stdout.count(b"hello\n") == 8


def test_without_the_marker_library_only_system_calls_are_traced(tmp_path):
    log = tmp_path / "log"
    cmd = tracer.command(log, [build("fork_copies_buffer")], stdio=False)
    r = runner.run(cmd, mode="pipe")
    assert r.exit_code == 0
    t = tracer.parse(log)
    assert not [e for e in t.events if e.kind == "stdio"]
    assert sum(e.kind == "spawn" for e in t.events) == 1


def test_parse_reads_resumed_calls_and_exit_lines():
    log = (
        '10 1.000000 clone(child_stack=NULL, flags=SIGCHLD) = 11\n'
        '10 1.000100 wait4(11,  <unfinished ...>\n'
        '11 1.000200 write(1, "\\x68\\x69\\x0a", 3) = 3\n'
        '11 1.000300 exit_group(3)   = ?\n'
        '11 1.000400 +++ exited with 3 +++\n'
        '10 1.002400 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 11\n'
        '10 1.002500 +++ killed by SIGSEGV (core dumped) +++\n'
    )
    t = tracer.parse(text=log)
    procs = t.processes()
    assert procs[11].parent == 10 and procs[11].exit_code == 3
    assert procs[11].reaped_by == 10 and procs[11].reaped_at == pytest.approx(0.0024)
    assert t.stdout(11) == b"hi\n"
    end = [e for e in t.events if e.kind == "end" and e.pid == 10][0]
    assert end.signal == "SIGSEGV" and end.core




def test_in_a_pid_namespace_events_name_host_pids_and_keep_the_programs_own():
    binary = build("child_outlives")
    # bwrap's pid 1 of the namespace adopts the orphan; the parent returns at once
    argv = ["bwrap", "--unshare-user", "--unshare-pid", "--dev-bind", "/", "/", "--proc", "/proc", binary]
    r = runner.run(argv, mode="pipe", trace=True, linger=0.5)
    procs = r.trace.processes()
    prog = next(p for p in procs.values() if p.argv == [str(binary)])
    child = next(p for p in procs.values() if p.parent == prog.pid)
    said = {m[1]: int(m[2]) for m in re.finditer(r"^(parent|child) (\d+)", r.stdout_text, re.M)}
    assert said == {"parent": prog.nspid, "child": child.nspid}  # the pids they printed themselves
    assert child.pid != child.nspid and prog.pid != prog.nspid  # the trace names them by host pid
    init = next(p for p in procs.values() if p.nspid == 1)
    assert prog.reaped_by == init.pid  # bwrap's init collected the program, named by host pid
    # the orphan went to the namespace's init, not to the subreaper outside it
    moves = [e.other for e in r.trace.events if e.kind == "reparent" and e.pid == child.pid]
    assert moves == [init.pid] and child.signal == "SIGKILL"  # the sweep after the linger
    assert not [e for e in r.trace.events if e.kind == "reparent" and e.pid == e.other]


def test_the_marker_library_leaves_errno_as_the_program_had_it(tmp_path):
    src = tmp_path / "keeps_errno.c"
    src.write_text('#include <errno.h>\n#include <stdio.h>\n#include <sys/wait.h>\n#include <unistd.h>\n'
                   'int main(void) { errno = 0; pid_t p = fork(); if (p == 0) _exit(0);\n'
                   '  int e = errno; waitpid(p, NULL, 0); printf("errno %d\\n", e); return 0; }\n')
    r = runner.run([toolchain.build(src)], trace=True)
    assert r.stdout == b"errno 0\n"
    assert any(e.kind == "stdio" and e.text == "fork" for e in r.trace.events)  # the library was there


def test_a_threads_writes_are_its_process_and_a_thread_is_no_child(tmp_path):
    src = tmp_path / "threads.c"
    src.write_text('#include <pthread.h>\n#include <unistd.h>\n'
                   'static void *say(void *a) { (void)a; write(1, "from thread\\n", 12); return NULL; }\n'
                   'int main(void) { pthread_t t; pthread_create(&t, NULL, say, NULL); pthread_join(t, NULL);\n'
                   '  write(1, "from main\\n", 10); return 0; }\n')
    r = runner.run([toolchain.build(src, cflags="-pthread")], trace=True)
    procs = r.trace.processes()
    assert [p.pid for p in procs.values() if p.parent == r.pid] == []  # no child process
    assert r.trace.stdout(r.pid) == b"from thread\nfrom main\n"
    assert procs[r.pid].exit_code == 0 and not [e for e in r.trace.events if e.kind == "spawn" and e.pid == r.pid]


# -- the lab's own tracer (csrc/tools/tracelog.c) and the line-table reader -------------
needs_lab_tracer = pytest.mark.skipif(tracer.lab_tracer() is None, reason="the lab's tracer reads x86-64 registers")


def _shape(trace: tracer.Trace) -> Counter:
    """What happened, without pids or times: each event's kind and what it carried
    (SIGCHLD deliveries left out: the kernel merges those that arrive together; and the
    supervisor's own command line, whose options differ with the tracer)."""
    return Counter((e.kind, e.fd, re.sub(rb"\d+", b"N", e.data), e.code, e.signal, e.text if e.kind in ("stdio", "exec") else None,
                    tuple(e.argv or ())) for e in trace.events
                   if e.kind != "reparent" and (e.kind, e.signal) != ("signal", "SIGCHLD")
                   and not (e.kind == "exec" and e.pid == trace.root))


@needs_lab_tracer
@pytest.mark.parametrize("name", ["fork_tree", "exec_drops_buffer", "child_outlives"])
def test_the_labs_tracer_sees_what_strace_sees(name, monkeypatch):
    argv = [build(name)]
    assert tracer.supervisor_options(4) is not None  # a traced run here: the supervisor's own tracer
    ours = runner.run(argv, trace=True, linger=0.3)
    monkeypatch.setattr(tracer, "lab_tracer", lambda: None)
    theirs = runner.run(argv, trace=True, linger=0.3)
    assert sorted(re.sub(r"\d+", "N", ours.stdout_text).splitlines()) == \
        sorted(re.sub(r"\d+", "N", theirs.stdout_text).splitlines())
    assert _shape(ours.trace) == _shape(theirs.trace)
    assert len(ours.trace.processes()) == len(theirs.trace.processes())


STOPS = r'''
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int st;
    pid_t p = fork();
    if (p == 0) { raise(SIGSTOP); write(1, "resumed\n", 8); _exit(4); }
    waitpid(p, &st, WUNTRACED);
    printf("stopped %d\n", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    fflush(stdout);
    kill(p, SIGCONT);
    waitpid(p, &st, 0);
    printf("exit %d\n", WEXITSTATUS(st));
    return execl("/nonexistent/prog", "prog", (char *)0) < 0 ? 3 : 0;
}
'''


@needs_lab_tracer
def test_under_the_labs_tracer_a_stopped_child_stays_stopped_and_a_failed_exec_is_seen(tmp_path):
    src = tmp_path / "stops.c"
    src.write_text(STOPS)
    r = runner.run([toolchain.build(src)], trace=True)
    assert r.stdout_text == "stopped 1\nresumed\nexit 4\n" and r.exit_code == 3
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    got = [e.signal for e in r.trace.of(child.pid) if e.kind == "signal"]
    assert got == ["SIGSTOP", "SIGCONT"]
    assert any(e.kind == "kill" and e.other == child.pid and e.signal == "SIGCONT" for e in r.trace.of(r.pid))
    failed = [e for e in r.trace.events if e.kind == "exec_failed"]
    assert [(e.pid, e.text) for e in failed] == [(r.pid, "/nonexistent/prog: ENOENT")]


def test_the_line_table_reader_agrees_with_addr2line():
    binary = build("fork_copies_buffer")
    spans = dwarf.table(binary)
    assert spans and all(s[0] < s[1] for s in spans)
    offsets = sorted({s[0] for s in spans} | {s[1] - 1 for s in spans})
    out = subprocess.run(["addr2line", "-e", str(binary), *map(hex, offsets)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert dwarf.where(binary, offsets) == dict(zip(offsets, map(tracer._file_line, out)))
    assert "fork_copies_buffer.c:" in str(dwarf.where(binary, offsets).values())


def test_a_file_without_a_line_table_the_reader_knows_is_refused(tmp_path):
    (tmp_path / "x").write_bytes(b"#!/bin/sh\n")
    with pytest.raises(dwarf.Unsupported):
        dwarf.table(tmp_path / "x")


def test_markers_get_their_source_line_without_addr2line(monkeypatch):
    real = tracer.shutil.which
    monkeypatch.setattr(tracer.shutil, "which", lambda name: None if name == "addr2line" else real(name))
    r = traced("exec_drops_buffer", mode="pipe")
    mark = next(e for e in r.trace.events if e.kind == "stdio" and e.text == "exec")
    assert mark.where == "exec_drops_buffer.c:21"


@needs_lab_tracer
def test_tracelog_around_a_command_follows_all_of_it_and_exits_as_it_did(tmp_path):
    log = tmp_path / "log"
    cmd = tracer.run_command(log, [build("fork_tree")], stdio=False)
    assert cmd[0] == str(tracer.lab_tracer())
    done = subprocess.run(cmd, capture_output=True)
    t = tracer.parse(log)
    assert done.returncode == 0 and done.stdout.count(b"hello\n") == 8
    assert len(t.processes()) == 8 and sum(e.kind == "spawn" for e in t.events) == 7
    # every line written to fd 1, by every process (concurrent writers: no fixed order)
    assert sorted(t.stdout().splitlines()) == sorted(done.stdout.splitlines())
