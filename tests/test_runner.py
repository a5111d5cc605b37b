"""The supervised runner: statuses, targets, timeouts, tree kill, subreaper, limits."""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import pytest

from pylab.observe import procstate

from pylab.run import runner
from pylab.run import buffering, result
from support import build_c


def test_exit_code_is_decoded():
    r = runner.run(["sh", "-c", "exit 3"])
    assert (r.exit_code, r.signal, r.describe()) == (3, None, "exited with code 3")


def test_death_by_signal_is_decoded():
    r = runner.run(["sh", "-c", "kill -TERM $$"])
    assert r.exit_code is None
    assert r.signal == signal.SIGTERM
    assert "SIGTERM" in r.describe()


def test_segfault_with_core_limit_raised_reports_the_core_as_observed(tmp_path):
    binary = build_c(tmp_path, "segv", "int main(void) { *(volatile int *)0 = 1; return 0; }")
    r = runner.run([binary], cwd=tmp_path, limits={"core": None})
    assert r.signal == signal.SIGSEGV
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if not pattern.startswith("|"):
        # a plain core_pattern writes a file: WCOREDUMP must agree with what is on disk
        cores = [p for p in Path(tmp_path).iterdir() if p.name.startswith("core")]
        assert r.core_dumped == bool(cores)
    no_core = runner.run([binary], cwd=tmp_path, limits={"core": 0})
    assert no_core.signal == signal.SIGSEGV and not no_core.core_dumped


def test_exec_failure_is_told_apart_from_exit_127():
    missing = runner.run(["/nonexistent/program"])
    assert missing.exec_error == errno.ENOENT
    assert missing.exit_code == 127
    real = runner.run(["sh", "-c", "exit 127"])
    assert real.exec_error is None and real.exit_code == 127


@pytest.mark.parametrize("mode,expected", [("tty", "0"), ("pipe", "1"), ("file", "1")])
def test_stdout_target_is_what_the_program_sees(mode, expected):
    r = runner.run(["sh", "-c", "test -t 1; echo $?"], mode=mode)
    assert r.stdout_text == f"{expected}\n"
    assert r.mode == mode


def test_on_a_tty_the_program_is_the_foreground_process_group():
    r = runner.run(["sh", "-c", "ps -o pgid=,tpgid= -p $$"], mode="tty")
    pgid, tpgid = r.stdout_text.split()
    assert pgid == tpgid == str(r.pid)


def test_stdin_data_is_fed_and_stdin_is_otherwise_empty():
    assert runner.run(["cat"], stdin="hello\n").stdout == b"hello\n"
    assert runner.run(["cat"]).stdout == b""  # /dev/null: EOF at once, no hang


def test_environment_and_cwd_are_passed(tmp_path):
    r = runner.run(["sh", "-c", 'echo "$X"; pwd'], env={"X": "42", "PATH": os.environ["PATH"]}, cwd=tmp_path)
    assert r.lines == ["42", str(tmp_path)]


def test_timeout_kills_the_whole_tree():
    # "ready" once both sleeps are forked: the timeout then surely finds them
    with runner.start(["sh", "-c", "sleep 100 & sleep 100 & echo ready; wait"], timeout=2) as proc:
        proc.expect("ready")
        r = proc.wait(30)
    assert r.timed_out and r.signal == signal.SIGKILL
    assert len(r.stragglers) == 2
    for pid in r.stragglers:
        assert not procstate.exists(pid)


def test_a_daemon_that_escapes_the_group_is_still_killed():
    # double fork + setsid: a new session, re-parented to the supervisor (subreaper)
    r = runner.run(["sh", "-c", "(setsid sleep 100 &); echo started"], linger=0)
    assert r.lines == ["started"] and r.exit_code == 0
    assert len(r.stragglers) == 1
    assert not procstate.exists(r.stragglers[0])


def test_an_orphan_is_adopted_by_the_supervisor_and_may_finish():
    # the child outlives its parent, waits until it is re-parented, then reports
    script = ('sh -c "while kill -0 $$ 2>/dev/null; do :; done;'
              ' echo adopted by \\$(ps -o ppid= -p \\$\\$)" & echo parent $$')
    r = runner.run(["sh", "-c", script], timeout=20)
    assert r.stragglers == []
    r.match().assert_as_set([f"parent {r.pid}", f"adopted by {r.supervisor}"])


def test_live_handle_gives_the_pid_and_takes_a_handshake():
    with runner.start(["sh", "-c", "echo ready; read line; echo got $line"]) as proc:
        proc.expect("ready")
        assert procstate.state_proc(proc.pid) in "RS"
        proc.write("ping\n")
        r = proc.wait(10)
    assert r.lines == ["ready", "got ping"]


def test_kill_from_the_live_handle():
    with runner.start(["sleep", "100"]) as proc:
        proc.kill(signal.SIGTERM)
        r = proc.wait(10)
    assert r.signal == signal.SIGTERM


def test_output_beyond_the_limit_is_counted_and_marked():
    r = runner.run(["head", "-c", "300000", "/dev/zero"], output_limit=1000)
    assert r.truncated
    assert r.stdout_bytes_seen == 300000
    assert r.stdout.endswith(runner.TRUNCATION_MARKER)
    assert len(r.stdout) == 1000 + len(runner.TRUNCATION_MARKER)


def test_limits_are_applied_to_the_program():
    r = runner.run(["sh", "-c", "ulimit -n; ulimit -f"], limits={"nofile": 64, "fsize": 1024 * 512})
    assert r.lines == ["64", "1024"]  # ulimit -f counts 512-byte blocks


def test_cpu_limit_ends_a_busy_loop():
    r = runner.run(["sh", "-c", "while :; do :; done"], limits={"cpu": 1}, timeout=30)
    assert r.signal in (signal.SIGXCPU, signal.SIGKILL)
    assert not r.timed_out


def test_uid_drop_as_root_or_refusal_as_a_user():
    r = runner.run(["id", "-u"], uid=65534, gid=65534)
    if os.geteuid() == 0:
        assert r.stdout_text.strip() == "65534"
    else:  # a user may not become another user: the run says why
        assert r.exec_error == errno.EPERM


def test_bad_mode_and_bad_limit_are_errors():
    with pytest.raises(runner.RunError, match="unknown stdout mode"):
        runner.run(["true"], mode="socket")
    with pytest.raises(runner.RunError, match="unknown limit"):
        runner.run(["true"], limits={"files": 3})


def test_a_sub_millisecond_timeout_is_still_a_timeout():
    r = runner.run(["sleep", "30"], timeout=0.0004)
    assert r.timed_out and r.signal == signal.SIGKILL
    assert r.duration < 5


def test_a_zero_or_negative_timeout_is_refused_not_taken_as_none():
    for bad in (0, -1):
        with pytest.raises(runner.RunError, match="timeout must be above 0"):
            runner.run(["true"], timeout=bad)


def test_run_and_process_take_their_options_by_keyword_only():
    with pytest.raises(TypeError):
        runner.run(["true"], "pipe")  # noqa - the point: a positional option is refused
    with pytest.raises(TypeError):
        runner.Process(["true"], "pipe", None)


def test_a_whole_terminal_puts_stdin_stdout_and_stderr_on_the_pty_in_order():
    script = "test -t 0 && test -t 1 && test -t 2 && echo all three; echo err >&2; echo out"
    r = runner.run(["sh", "-c", script], mode="tty", terminal=True)
    assert r.terminal and r.lines == ["all three", "err", "out"]  # stderr kept in its place
    assert r.stderr == b""
    plain = runner.run(["sh", "-c", script], mode="tty")  # the default: only stdout is the pty
    assert plain.lines == ["out"] and plain.stderr == b"err\n"


def test_on_a_whole_terminal_stdin_data_is_typed_and_then_ends():
    r = runner.run(["cat"], mode="tty", terminal=True, stdin="line one\nno newline", timeout=10)
    assert not r.timed_out and r.exit_code == 0
    assert r.stdout_text == "line one\nno newline"  # not echoed: only cat's copy
    empty = runner.run(["cat"], mode="tty", terminal=True, timeout=10)
    assert not empty.timed_out and empty.exit_code == 0 and empty.stdout == b""


def test_stop_ends_the_whole_tree_at_once_whatever_its_session():
    with runner.start(["sh", "-c", "setsid sh -c 'echo $$; exec sleep 300' & wait"], timeout=60) as proc:
        escaped = int(proc.expect(rb"^(\d+)$").group(1))
        procstate.call_until(lambda: procstate.read_stat(escaped).comm, lambda c: c == "sleep")
        proc.stop()
        r = proc.wait(timeout=10)
    assert r.stopped and not r.timed_out and r.signal == signal.SIGKILL
    assert escaped in r.stragglers and not procstate.exists(escaped)


def test_the_supervisor_reports_what_outlived_the_program_and_who_adopted_it():
    r = runner.run(["sh", "-c", "sleep 300 & echo $!"], linger=0.2)
    (left,) = r.outlived
    assert left["pid"] == int(r.stdout) and left["ppid"] == r.supervisor  # the orphan, adopted
    assert left["state"] in "RS" and left["comm"] in ("sh", "sleep")  # (it may not have exec'd yet)
    assert r.stragglers == [left["pid"]]
    quick = runner.run(["sh", "-c", "(sleep 0.2; exit 3) & echo started"], linger=30)
    (subshell,) = [p for p in quick.outlived if p["ppid"] == quick.supervisor]  # its sleep is listed too
    assert quick.stragglers == []  # it ended within the linger: nothing was killed
    assert [(pid, os.waitstatus_to_exitcode(raw)) for pid, raw in quick.reaped] == [(subshell["pid"], 3)]


def test_line_matcher_in_order_and_as_set():
    m = result.LineMatcher(["a 1", "b 2", "c 3"])
    assert m.in_order(["a *", "c *"])
    assert not m.in_order(["c *", "a *"])
    assert m.as_set(["c *", "a *", "b *"])
    assert not m.as_set(["c *", "a *"])  # a line left over
    assert m.in_order([r"b \d"], regex=True)
    assert m.count("* *") == 3


def test_result_as_json_names_the_target_and_status():
    d = runner.run(["sh", "-c", "echo hi; exit 4"], mode="tty").to_dict()
    assert d["mode"] == "tty" and d["exit_code"] == 4 and d["stdout"] == "hi\n"


def test_concurrent_runs_do_not_inherit_each_others_pipes():
    # runs started from several threads at once: each supervisor and program holds only
    # its own stdio and status pipe, so no run's end waits on another's
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda _: runner.start(["cat"], timeout=20), range(8)))
    try:
        for p in procs:
            # until exec, the forked child still holds the status pipe (close-on-exec)
            procstate.call_until(lambda: procstate.read_stat(p.pid), lambda st: st.comm == "cat" and st.state == "S")
            assert sorted(os.listdir(f"/proc/{p.pid}/fd")) == ["0", "1", "2"]
            # the supervisor: /dev/null as stdio (once it has dropped the program's), the
            # status pipe, and two fds of its own that are no pipe (its signalfd and the
            # pidfd that watches this process)
            def sup_fds(p=p):
                return {fd: os.readlink(f"/proc/{p.supervisor}/fd/{fd}") for fd in os.listdir(f"/proc/{p.supervisor}/fd")}

            fds = procstate.call_until(sup_fds, lambda f: {f.get(k) for k in ("0", "1", "2")} == {os.devnull})
            assert fds[str(runner.STATUS_FD)].startswith("pipe:")
            assert sorted(v for k, v in fds.items() if k not in ("0", "1", "2", str(runner.STATUS_FD))) == \
                ["anon_inode:[pidfd]", "anon_inode:[signalfd]"]
    finally:
        results = []
        for p in procs:
            p.close_stdin()
            results.append(p.wait(20))
    assert all(r.exit_code == 0 for r in results)


@pytest.mark.parametrize("mode,kind", [("tty", "line"), ("pipe", "full"), ("file", "full")])
def test_stdio_buffering_is_probed_on_each_target(mode, kind):
    assert buffering.stdio_buffering(mode) == kind
    assert f"{kind}-buffers it (probed just now)" in buffering.buffering_note(mode)


def test_a_refused_or_failed_run_leaves_no_descriptor_open(tmp_path, monkeypatch):
    before = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(runner.RunError, match="no such directory"):
        runner.run(["true"], cwd=tmp_path / "missing")

    def refuse(*args, **kwargs):
        raise OSError(errno.EAGAIN, "posix_spawn refused")

    monkeypatch.setattr(runner, "_spawn", refuse)
    for mode in runner.MODES:
        with pytest.raises(OSError, match="refused"):
            runner.run(["true"], mode=mode, stdin="data")
    with pytest.raises(OSError, match="refused"):
        runner.run(["true"], mode="tty", terminal=True, stdin="data")
    with pytest.raises(OSError, match="refused"):  # the trace's log (a memfd) is closed too
        runner.run(["true"], trace=True)
    monkeypatch.setattr(runner.tracer, "lab_tracer", lambda: None)  # no tracer at all here
    monkeypatch.setattr(runner.tracer, "strace_path", lambda: (_ for _ in ()).throw(runner.tracer.TracerMissing("no")))
    with pytest.raises(runner.tracer.TracerMissing):
        runner.run(["true"], mode="tty", terminal=True, trace=True)
    assert sorted(os.listdir("/proc/self/fd")) == before
