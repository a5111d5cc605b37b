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
    (ended,) = [s for s in said if s.startswith(f"{child} ")]  # it exited; its writes went to its file
    assert "its writes to fd 1 went to" in ended and "redirected.output" in ended and "_exit" not in ended, ended


def _built(tmp_path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.c"
    path.write_text(source)
    return toolchain.build(path)


def test_a_target_is_read_whole_however_its_name_is_spelt():
    hexed = "".join(f"\\x{b:02x}" for b in b"/tmp/a>, \"b\nc")
    log = ("10 5.000000 --- pylab-streams 1<pipe:[7]> 2<\\x2f\\x64\\x65\\x76\\x2f\\x70\\x74\\x73\\x2f\\x33> ---\n"
           f'10 5.100000 write(1<{hexed}>, "\\x61", 1) = 1\n'
           '10 5.200000 write(1<\\x2f\\x74\\x6d\\x70\\x2f\\x78>(deleted), "\\x62", 1) = 1\n'
           '10 5.300000 write(2<\\x2f\\x64\\x65\\x76\\x2f\\x74\\x74\\x79>, "\\x63", 1) = 1\n'
           '10 5.400000 write(2<pipe:[7]>, "\\x64", 1) = 1\n')
    events = tracer.parse(text=log, where=lambda *a: None).events
    assert [(e.kind, e.fd, e.text, e.data) for e in events] == [
        ("elsewhere", 1, '/tmp/a>, "b\nc', b"a"),  # a name with '>', a quote and a newline
        ("elsewhere", 1, "/tmp/x (deleted)", b"b"),  # strace's mark of an unlinked file, as readlink says it
        ("elsewhere", 2, "/dev/tty", b"c"),  # the lab's tracer logs /dev/tty only when it is not the run's
        ("write", 1, "via fd 2", b"d")]  # fd 2 pointed at the run's stdout (2>&1)
    # strace cannot tell whose controlling terminal /dev/tty is: in tty mode, the run's
    strace = tracer.parse(text=log.split("\n", 1)[1], where=lambda *a: None,
                          streams={1: "pipe:[7]", 2: "/dev/pts/3"}).events
    assert (strace[2].kind, strace[2].fd) == ("write", 2)


@pytest.mark.parametrize("mode", MODES)
def test_writes_that_reach_the_run_s_streams_by_another_way_count_there(mode, tmp_path):
    binary = _built(tmp_path, "back_and_dup", r"""
        #include <stdio.h>
        #include <unistd.h>
        int main(void) {
            dup2(1, 2);                                  /* 2>&1 */
            write(2, "err to stdout\n", 14);
            FILE *log = freopen("log.txt", "w", stdout);  /* away, then back the textbook way */
            if (!log) return 3;
            printf("into the log\n");
            fflush(stdout);
            if (isatty(2) && freopen("/dev/tty", "w", stdout)) { printf("back on the terminal\n"); fflush(stdout); }
            return 0;
        }
        """)
    result = runner.run([binary], mode=mode, cwd=tmp_path, trace=True)
    assert result.exit_code == 0, result.stderr_text
    shown = result.stdout_text.replace("\r\n", "\n")
    assert shown == ("err to stdout\nback on the terminal\n" if mode == "tty" else "err to stdout\n")
    assert result.trace.stdout().decode() == shown
    away = [e for e in result.trace.events if e.kind == "elsewhere"]
    assert [(e.text.rpartition("/")[2], e.data) for e in away] == [("log.txt", b"into the log\n")]


def test_a_file_name_cannot_forge_the_tracer_s_log(tmp_path):
    binary = _built(tmp_path, "forger", r"""
        #include <fcntl.h>
        #include <stdio.h>
        #include <unistd.h>
        int main(void) {
            char n[200];
            snprintf(n, sizeof n, "x\n%d 1.0 write(1, \"\\x66\\x61\\x6b\\x65\\x0a\", 5) = 5\ny>, \"z", (int)getpid());
            int f = open(n, O_CREAT | O_WRONLY | O_TRUNC, 0600);
            if (f < 0 || dup2(f, 1) < 0) return 3;
            write(1, "real\n", 5);
            unlink(n);
            return 0;
        }
        """)
    result = runner.run([binary], mode="pipe", cwd=tmp_path, trace=True)
    assert result.exit_code == 0 and result.stdout == b""
    assert result.trace.stdout() == b""  # no forged write
    (away,) = [e for e in result.trace.events if e.kind == "elsewhere"]
    assert away.data == b"real\n" and away.text.endswith('y>, "z') and "\n" in away.text


def test_a_vfork_child_whose_exec_failed_is_told_once_by_its_end(tmp_path):
    binary = _built(tmp_path, "vfail", r"""
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            printf("pending before vfork\n");
            pid_t p = vfork();
            if (p == 0) { execlp("no-such-program-here", "no-such-program-here", (char *)0); _exit(127); }
            waitpid(p, 0, 0);
            printf("parent done\n");
            return 0;
        }
        """)
    result = runner.run([binary], mode="pipe", trace=True)
    (s,) = [s for s in told(result) if "was made by vfork" in s]
    assert "until it ended" in s and "at its _exit" in s and "was not lost" in s


def test_what_a_vfork_child_printed_itself_is_told_as_in_its_parent_s_buffer(tmp_path):
    binary = _built(tmp_path, "vprint", r"""
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            pid_t p = vfork();
            if (p == 0) { printf("printed by the vfork child\n"); _exit(0); }
            waitpid(p, 0, 0);
            printf("parent done\n");
            return 0;
        }
        """)
    result = runner.run([binary], mode="pipe", trace=True)
    assert result.stdout_text == "printed by the vfork child\nparent done\n"
    (s,) = [s for s in told(result) if "was made by vfork" in s]
    assert "'printed by the vfork child'" in s and "was in " in s and "what it printed itself went there too" in s


def test_dev_tty_of_a_process_with_a_terminal_of_its_own_is_not_the_run_s(tmp_path):
    binary = _built(tmp_path, "own_ctty", r"""
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stdlib.h>
        #include <sys/ioctl.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            write(1, "first\n", 6);
            pid_t p = fork();
            if (p == 0) {
                int m = posix_openpt(O_RDWR | O_NOCTTY);
                if (m < 0 || setsid() < 0 || grantpt(m) || unlockpt(m)) _exit(3);
                int s = open(ptsname(m), O_RDWR);      /* a session leader's first terminal: its own */
                int t = open("/dev/tty", O_WRONLY);
                if (s < 0 || t < 0 || dup2(t, 1) < 0) _exit(4);
                write(1, "to my own terminal\n", 19);
                _exit(0);
            }
            int st;
            waitpid(p, &st, 0);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 5;
        }
        """)
    result = runner.run([binary], mode="tty", trace=True)
    assert result.exit_code == 0, result.stderr_text
    assert result.stdout_text.replace("\r\n", "\n") == "first\n" == result.trace.stdout().decode()
    (away,) = [e for e in result.trace.events if e.kind == "elsewhere"]
    assert away.text == "/dev/tty" and away.data == b"to my own terminal\n"


def test_a_write_to_a_target_as_long_as_a_path_can_be_is_told_apart(tmp_path):
    deep = tmp_path
    while len(str(deep)) < 300:  # a folder name longer than 255 bytes in all
        deep = deep / ("d" * 60)
    deep.mkdir(parents=True)
    binary = _built(tmp_path, "away", r"""
        #include <fcntl.h>
        #include <unistd.h>
        int main(int argc, char *argv[]) {
            int f = open(argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0600);
            if (f < 0 || dup2(f, 1) < 0) return 3;
            write(1, "into the file\n", 14);
            return 0;
        }
        """)
    result = runner.run([binary, str(deep / "other.txt")], mode="pipe", trace=True)
    assert result.exit_code == 0 and result.stdout == b"" and result.trace.stdout() == b""
    (away,) = [e for e in result.trace.events if e.kind == "elsewhere"]
    assert away.text == str(deep / "other.txt")


def test_a_process_whose_fd_1_pointed_at_the_run_s_stderr_is_told_so(tmp_path):
    binary = _built(tmp_path, "toerr", r"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            pid_t p = fork();
            if (p == 0) { dup2(2, 1); printf("child says hi\n"); exit(0); }
            waitpid(p, 0, 0);
            return 0;
        }
        """)
    result = runner.run([binary], mode="pipe", trace=True)
    assert result.stderr == b"child says hi\n" and result.stdout == b""
    (via,) = [e for e in result.trace.events if e.kind == "write"]
    assert (via.fd, via.text) == (2, "via fd 1")
    said = explain.syscall_sentences(result.trace, program=result.pid, supervisor=result.supervisor)
    (ended,) = [s for s in said if s.startswith(f"{via.pid} ") and "ended (exit)" in s]
    assert via.pid != result.pid and "went to the run's stderr" in ended and "printed nothing" not in ended


def test_a_plain_fork_is_a_fork_in_the_timeline():
    spawn = tracer.Event(0.0, 10, "spawn", other=11, text="CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD")
    assert explain.describe_event(spawn).split(None, 3)[3].startswith("fork -> 11")
    clone = tracer.Event(0.0, 10, "spawn", other=12, text="CLONE_VM|SIGCHLD")
    assert explain.describe_event(clone).split(None, 3)[3].startswith("clone -> 12")
