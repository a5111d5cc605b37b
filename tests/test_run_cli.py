"""`pylab run` and `pylab trace` with outside-shaped programs (tests/programs/): building
as a C programmer does, the lab bench (folder, linger, stopping), and the explanations,
under tty, pipe and file."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from pylab.observe import procstate
from pylab.run import runner, toolchain
from support import pylab_argv

PROGRAMS = Path(__file__).parent / "programs"
TWO = [str(PROGRAMS / "twofiles" / "main.c"), str(PROGRAMS / "twofiles" / "greet.c")]


@pytest.fixture
def pylab(pylab_cli):
    """`pylab ARGS` in this process (conftest's pylab_cli); the tests that need a real
    process (signals to pylab, pylab's own terminal) start `python -m pylab` themselves."""
    return pylab_cli


def prog(name: str) -> str:
    return str(PROGRAMS / f"{name}.c")


# -- building --------------------------------------------------------------------------
def test_run_builds_two_files_with_an_include_folder_and_a_define(pylab):
    out = pylab("run", *TWO, "-I", str(PROGRAMS / "twofiles" / "include"), "-D", 'GREETING="hi"', "--mode", "pipe")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hi\nanswer 42\n"


def test_a_link_error_is_one_message_and_the_linkers_text_with_exit_2(pylab):
    out = pylab("run", TWO[0], "-I", str(PROGRAMS / "twofiles" / "include"))  # greet.c left out
    assert out.returncode == 2
    first, *rest = out.stderr.splitlines()
    assert first == "pylab: error: main.c does not link: undefined reference to `greeting'"
    assert "Traceback" not in out.stderr and any("ld returned 1" in ln for ln in rest)


def test_a_missing_library_is_the_one_line_and_the_linkers_text_follows(pylab, tmp_path):
    src = tmp_path / "fine.c"
    src.write_text("int main(void) { return 0; }\n")
    out = pylab("run", str(src), "-l", "nosuchlib")
    assert out.returncode == 2
    first, *rest = out.stderr.splitlines()
    assert first.startswith("pylab: error: fine.c does not link: cannot find -lnosuchlib")
    assert any("ld returned 1" in ln for ln in rest)


def test_the_default_is_O0_and_O2_is_one_flag_away(pylab):
    assert pylab("run", prog("opt_changes_result"), "--mode", "pipe").stdout == "plain 2\nvolatile 2\n"
    assert pylab("run", prog("opt_changes_result"), "-O2", "--mode", "pipe").stdout == "plain 1\nvolatile 2\n"
    assert pylab("run", prog("opt_changes_result"), "--cflags=-O2 -g", "--mode", "pipe").stdout.startswith("plain 1")


def test_help_says_the_default_is_O0():
    from pylab.cli.main import build_parser

    assert "default -O0" in build_parser()._subparsers._group_actions[0].choices["run"].format_help()


def test_build_flags_for_a_lab_program_are_refused(pylab):
    out = pylab("run", "zombie", "-O2")
    assert out.returncode == 2 and "for .c files" in out.stderr


# -- the bench ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["tty", "pipe", "file"])
def test_each_run_has_a_fresh_folder_and_the_files_created_are_listed(tmp_path, mode, pylab):
    out = pylab("run", prog("writes_a_file"), "--mode", mode, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == "wrote result.txt\n"
    assert "files the program created or changed" in out.stderr and "result.txt" in out.stderr
    assert not (tmp_path / "result.txt").exists()  # not where pylab was started


def test_keep_keeps_the_folder_with_the_sources_copied_in(tmp_path, pylab):
    data = json.loads(pylab("run", prog("writes_a_file"), "--keep", "--json").stdout)
    kept = Path(data["cwd"])
    try:
        assert data["kept"] and data["files"] == ["result.txt"]
        assert (kept / "result.txt").read_text() == "written by writes_a_file\n"
        assert (kept / "writes_a_file.c").exists()  # as in the book's folder
    finally:
        shutil.rmtree(kept)


@pytest.fixture
def benches(tmp_path, monkeypatch) -> Path:
    """Where this process's runs make their temporary folders: this test's own folder
    (none of another test's there, and nothing left in /tmp whatever happens)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("command", ["run", "trace"])
def test_keep_says_where_the_folder_is_in_text_and_json(command, benches, pylab):
    out = pylab(command, prog("writes_a_file"), "--mode", "pipe", "--keep")
    (kept,) = benches.glob("pylab-run-*")
    assert f"pylab: the run's folder is kept: {kept}" in out.stderr.splitlines()
    assert f"pylab: files the program created or changed in {kept}: result.txt" in out.stderr.splitlines()
    assert (kept / "result.txt").read_text() == "written by writes_a_file\n"
    shutil.rmtree(kept)
    data = json.loads(pylab(command, prog("writes_a_file"), "--mode", "pipe", "--keep", "--json").stdout)
    (kept,) = benches.glob("pylab-run-*")
    assert data["cwd"] == str(kept) and data["kept"] is True and data["files"] == ["result.txt"]


@pytest.mark.parametrize("command", ["run", "trace"])
def test_without_keep_the_report_names_no_folder_it_removed(command, benches, pylab):
    out = pylab(command, prog("writes_a_file"), "--mode", "pipe")
    assert list(benches.glob("pylab-run-*")) == []  # removed before the report
    assert "pylab: files the program created or changed in its temporary folder (removed since; --keep keeps it): " \
           "result.txt" in out.stderr.splitlines()
    assert "pylab-run-" not in out.stderr


def test_cwd_runs_in_the_folder_given(tmp_path, pylab):
    out = pylab("run", prog("writes_a_file"), "--cwd", str(tmp_path))
    assert out.returncode == 0 and (tmp_path / "result.txt").exists()
    assert pylab("run", prog("writes_a_file"), "--cwd", str(tmp_path / "nope")).returncode == 2


@pytest.mark.parametrize("mode", ["tty", "pipe", "file"])
def test_a_child_that_outlives_the_program_is_reported_with_its_adopter(mode, pylab):
    data = json.loads(pylab("run", prog("child_outlives"), "--mode", mode, "--linger", "0.2", "--json").stdout)
    assert data["exit_code"] == 0 and data["duration"] < 5  # the program, not its child's 60 s
    (left,) = data["outlived"]
    assert sorted(data["stdout"].splitlines()) == sorted([f"parent {data['pid']} returns",
                                                          f"child {left['pid']} sleeps"])
    assert left["ppid"] == data["supervisor"]  # adopted by the subreaper
    assert left["state"] in ("R", "S") and left["comm"] == "child_outlives"  # on its way to sleep(60), or in it
    assert data["stragglers"] == [left["pid"]]


def test_by_default_what_outlives_the_program_is_killed_after_one_second(pylab):
    started = time.monotonic()
    out = pylab("run", prog("child_outlives"), "--mode", "pipe")
    took = time.monotonic() - started
    assert 1.0 <= took < 30  # the 1 s linger, not the child's 60 s nor the 120 s timeout
    assert "1 process(es) outlived the program" in out.stderr and "adopted by the supervisor" in out.stderr
    assert "killed at the end of the linger" in out.stderr


def test_a_timeout_that_comes_during_the_linger_is_named_as_the_reason_for_the_kill(pylab):
    """The supervisor ends the linger at the timeout when that comes first: the report
    says the timeout killed what was left, not the linger's end."""
    started = time.monotonic()
    out = pylab("run", prog("child_outlives"), "--mode", "pipe", "--linger", "60", "--timeout", "0.5")
    took = time.monotonic() - started
    assert took < 30  # neither the linger's 60 s nor the child's
    assert "1 process(es) outlived the program" in out.stderr
    assert "; killed at the timeout (0.5 s), before the end of the linger" in out.stderr, out.stderr
    assert "end of the linger (60 s)" not in out.stderr


def _daemon_lines(err: str, child: int) -> tuple[str, str]:
    """The report's lines for leaves_a_daemon's child and grandchild (in the order found)."""
    (child_line,) = [ln for ln in err.splitlines() if ln.startswith(f"  {child} leaves_a_daemon: ")]
    (grandchild_line,) = [ln for ln in err.splitlines() if f"; its parent {child} still running; " in ln]
    return child_line, grandchild_line


@pytest.mark.parametrize("linger, killed", [("0", "killed at once (--linger 0)"),
                                            ("0.2", "killed at the end of the linger (0.2 s)")])
def test_what_outlived_the_program_is_reported_and_said_killed_whatever_the_linger(linger, killed, pylab):
    data = json.loads(pylab("run", prog("leaves_a_daemon"), "--mode", "pipe", "--linger", linger, "--json").stdout)
    child = int(data["stdout"].split()[3])  # "parent P child C"
    left = {p["pid"]: p for p in data["outlived"]}
    assert len(left) == 2 and sorted(data["stragglers"]) == sorted(left)  # both seen, both killed
    assert left[child]["ppid"] == data["supervisor"]  # the child: adopted by the subreaper
    (grandchild,) = [p for p in left.values() if p["pid"] != child]
    assert grandchild["ppid"] == child and grandchild["comm"] == "leaves_a_daemon"

    out = pylab("run", prog("leaves_a_daemon"), "--mode", "pipe", "--linger", linger)
    assert "pylab: 2 process(es) outlived the program:" in out.stderr.splitlines()
    child_line, grandchild_line = _daemon_lines(out.stderr, int(out.stdout.split()[3]))
    assert "; adopted by the supervisor " in child_line and child_line.endswith(f"; {killed}")
    assert grandchild_line.endswith(f"; {killed}")


def test_at_the_timeout_the_report_names_what_was_killed_with_the_program(pylab):
    out = pylab("run", prog("leaves_a_daemon"), "stay", "--mode", "pipe", "--timeout", "0.5")
    program, child = (int(w) for w in out.stdout.split()[1::2])  # "parent P child C"
    assert "pylab: 2 other process(es) of the run were still running when the program was killed at the timeout:" \
        in out.stderr.splitlines()
    child_line, grandchild_line = _daemon_lines(out.stderr, child)
    assert f"; a child of the program {program}; killed with the program at the timeout" in child_line
    assert grandchild_line.endswith("; killed with the program at the timeout")
    data = json.loads(pylab("run", prog("leaves_a_daemon"), "stay", "--mode", "pipe", "--timeout", "0.5",
                            "--json").stdout)
    assert data["timed_out"] and len(data["outlived"]) == 2
    assert sorted(data["stragglers"]) == sorted(p["pid"] for p in data["outlived"])


def test_what_was_killed_but_not_there_when_the_program_ended_is_named_too():
    from pylab.cli import run_cmd
    from pylab.run.result import RunResult

    seen = {"pid": 11, "ppid": 2, "state": "S", "wchan": None, "comm": "orphan"}
    r = RunResult(argv=["x"], mode="pipe", pid=10, status=0, stdout=b"", stderr=b"", duration=0.1, supervisor=2,
                  outlived=[seen], stragglers=[11, 12])  # 12: forked by the orphan during the linger
    assert run_cmd.leftovers(r, 1.0) == [
        "  11 orphan: sleeping; adopted by the supervisor 2 (the run's subreaper); killed at the end of the linger (1 s)",
        "  12: started after the program ended; killed at the end of the linger (1 s)"]


def test_the_linger_ends_as_soon_as_the_orphan_does(pylab):
    started = time.monotonic()
    out = pylab("run", prog("child_finishes_later"), "--linger", "30", "--mode", "pipe")
    took = time.monotonic() - started
    assert sorted(out.stdout.splitlines()) == ["child done", "parent returns"]  # the orphan's line kept
    assert took < 20  # not the 30 s linger: it ended when the orphan did
    assert "finished on its own during the linger" in out.stderr and "killed" not in out.stderr


def _pylab_with(disposition, *args) -> list[str]:
    """python -m pylab ARGS started with SIGINT and SIGQUIT at `disposition`."""
    return pylab_argv(*args, disposition=disposition)


def test_the_program_takes_sigint_and_sigquit_by_default_whatever_pylab_inherited():
    out = subprocess.run(_pylab_with("SIG_IGN", "run", prog("says_how_it_takes_sigint"), "--mode", "pipe"),
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "SIGINT default" in out.stdout.splitlines() and "SIGQUIT default" in out.stdout.splitlines(), out.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_pylab_stops_the_whole_tree_at_once(tmp_path, sig):
    pylab_proc = subprocess.Popen(_pylab_with("SIG_DFL", "run", prog("escapes_to_new_session"),
                                              "--cwd", str(tmp_path), "--mode", "pipe"),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        pids = procstate.call_until(lambda: (tmp_path / "pids").exists() and (tmp_path / "pids").read_text(),
                                    timeout=30, what="the program to write its pids")
        supervisor, program, escaped = map(int, pids.split())
        procstate.call_until(lambda: procstate.read_stat(escaped).session, lambda sid: sid == escaped,
                             what="the child to leave the run's session")
        pylab_proc.send_signal(sig)
        rc = pylab_proc.wait(timeout=30)
    finally:
        if pylab_proc.poll() is None:
            pylab_proc.kill()
            pylab_proc.wait()
    for pid in (escaped, program):
        procstate.wait_for_state(pid, {"gone", "Z", "X"}, timeout=5)  # long before any timeout
    if sig == signal.SIGKILL:
        assert rc == -sig  # pylab died of it; the supervisor saw its pidfd and stopped the run
    else:
        assert rc == 128 + sig  # Ctrl-C or SIGTERM: pylab stopped the run itself and said so
    # pylab gone first: the supervisor was re-parented to this test (a subreaper): reap it
    procstate.call_until(lambda: _reaped(supervisor), timeout=10, what="the supervisor to end")
    assert not procstate.exists(escaped)


@pytest.mark.parametrize("command, sig, keep", [
    (["run"], signal.SIGTERM, False), (["run"], signal.SIGHUP, False), (["trace"], signal.SIGTERM, False),
    (["run", "--watch"], signal.SIGTERM, True)])
def test_sigterm_or_sighup_to_pylab_stops_the_run_removes_its_folder_and_says_so(tmp_path, command, sig, keep):
    # TMPDIR: the run's folder is made here, where no other test's can be
    pylab_proc = subprocess.Popen(_pylab_with("SIG_DFL", *command, prog("escapes_to_new_session"), "--mode", "pipe",
                                              *(["--keep"] if keep else [])),
                                  env={**os.environ, "TMPDIR": str(tmp_path)}, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the handshake: the program writes its pids in its folder once its child is forked
        pids = procstate.call_until(lambda: [p.read_text() for p in tmp_path.glob("pylab-run-*/pids")],
                                    timeout=30, what="the program to write its pids")[0]
        supervisor, program, escaped = map(int, pids.split())
        procstate.call_until(lambda: procstate.read_stat(escaped).session, lambda sid: sid == escaped,
                             what="the child to leave the run's session")
        pylab_proc.send_signal(sig)
        out, err = pylab_proc.communicate(timeout=30)
    finally:
        if pylab_proc.poll() is None:
            pylab_proc.kill()
            pylab_proc.communicate()
    assert pylab_proc.returncode == 128 + sig, err
    word = {signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}[sig]
    folders = list(tmp_path.glob("pylab-run-*"))
    if keep:
        assert err.splitlines() == [f"pylab: the run's folder is kept: {folders[0]}",
                                    f"pylab: {word} ({signal.Signals(sig).name})"]
        assert (folders[0] / "pids").exists()
    else:
        assert err == f"pylab: {word} ({signal.Signals(sig).name})\n" and folders == []
    # pylab waited for the supervisor, which reaped the whole tree before it ended
    assert not [p for p in (supervisor, program, escaped) if procstate.exists(p)]


def _comm(pid: int) -> str | None:
    try:
        return procstate.read_stat(pid).comm
    except procstate.NoSuchProcess:
        return None


def test_sigterm_as_the_run_starts_still_stops_and_collects_it(tmp_path):
    pylab_proc = subprocess.Popen(_pylab_with("SIG_DFL", "run", prog("escapes_to_new_session"), "--mode", "pipe"),
                                  env={**os.environ, "TMPDIR": str(tmp_path)}, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def spawned() -> list[int]:
            return [p for p in procstate.children(pylab_proc.pid) if _comm(p) == "supervise"]
        # at once: most often while pylab is still setting the run up (no sleep, a poll with a deadline)
        (supervisor,) = procstate.call_until(spawned, timeout=30, what="pylab to spawn the supervisor")
        pylab_proc.send_signal(signal.SIGTERM)
        out, err = pylab_proc.communicate(timeout=30)
    finally:
        if pylab_proc.poll() is None:
            pylab_proc.kill()
            pylab_proc.communicate()
    assert (pylab_proc.returncode, err) == (143, "pylab: terminated (SIGTERM)\n")
    assert list(tmp_path.glob("pylab-run-*")) == []
    assert not procstate.exists(supervisor)  # stopped and reaped by pylab, not left to this test


def test_main_in_this_process_puts_the_signal_handlers_back(pylab):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    assert pylab("list", "--json").returncode == 0
    assert {s: signal.getsignal(s) for s in before} == before


def _reaped(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:  # pylab reaped it itself
        return not procstate.exists(pid) or procstate.state_proc(pid) == "Z"


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_a_program_that_reads_its_own_source_finds_it_in_its_folder_and_loses_a_line(tmp_path, mode, pylab):
    # OSTEP p3's shape, started from another folder: the bench holds a copy of the source
    lines = len(Path(prog("counts_its_own_lines")).read_text().splitlines())
    data = json.loads(pylab("run", prog("counts_its_own_lines"), "--mode", mode, "--explain", "--json",
                            cwd=tmp_path).stdout)
    assert data["stdout"] == f"{lines} counts_its_own_lines.c\nparent: done\n"
    (lost,) = [s for s in data["explanation"] if "never reached stdout" in s]
    assert "'child: counting my own source'" in lost and "with 'wc'" in lost


def test_on_a_tty_the_program_reads_what_is_typed_at_pylabs_own_terminal(pylab):
    master, slave = os.openpty()
    run = subprocess.Popen([sys.executable, "-P", "-m", "pylab", "run", prog("zombie_for_a_while"), "--mode", "tty",
                            "--json"], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    try:
        os.write(master, b"go\n")  # typed at pylab's terminal: it waits there until pylab reads it
        out, err = run.communicate(timeout=60)
    finally:
        os.close(master)
        if run.poll() is None:
            run.kill()
            run.wait()
    data = json.loads(out)
    assert data["stdout"].splitlines()[0] == "parent read: go", err
    without = json.loads(pylab("run", prog("zombie_for_a_while"), "--mode", "tty", "--json").stdout)
    assert without["stdout"].splitlines()[0] == "parent read nothing (EOF)"  # no terminal: EOF at once


def _read_until(fd: int, wanted: bytes | None, timeout: float = 30) -> bytes:
    """Read a pty's master until `wanted` has come (None: until the other side is closed), with a deadline."""
    got, deadline = b"", time.monotonic() + timeout
    while wanted is None or wanted not in got:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"{wanted!r} did not come within {timeout}s; got {got!r}")
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: no process has the terminal open any more
            data = b""
        if not data:
            if wanted is None:
                return got
            raise TimeoutError(f"the terminal was closed before {wanted!r}; got {got!r}")
        got += data
    return got


@contextlib.contextmanager
def _on_a_terminal(*args):
    """`python -m pylab ARGS` with a pty as pylab's terminal (its stdin and stdout, as a
    student's): yields (the pty's master side, the process); after, the master is closed
    and the process collected."""
    master, slave = os.openpty()
    run = subprocess.Popen([sys.executable, "-P", "-m", "pylab", *args],
                           stdin=slave, stdout=slave, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        yield master, run
    finally:
        os.close(master)
        if run.poll() is None:
            run.kill()
            run.communicate()


@pytest.mark.parametrize("command", ["run", "trace"])
def test_on_pylabs_own_terminal_the_programs_output_is_seen_as_it_comes_and_once(command):
    with _on_a_terminal(command, prog("prompts"), "--mode", "tty") as (master, run):
        # the handshake: the line and the prompt are on the terminal while the program waits for a name
        seen = _read_until(master, b"name? ")
        os.write(master, b"bob\n")  # typed (and echoed by this terminal, as a user's is)
        seen += _read_until(master, None)
        err = run.communicate(timeout=30)[1]
    assert run.returncode == 0, err
    assert seen.replace(b"\r\n", b"\n") == b"first line\nname? bob\nhello bob\n"  # each once: not again at the end
    assert "pylab: prompts exited with code 0" in err


def test_on_pylabs_own_terminal_json_holds_the_output_and_nothing_is_echoed_before_it():
    with _on_a_terminal("run", prog("prompts"), "--mode", "tty", "--json") as (master, run):
        os.write(master, b"bob\n")  # typed ahead: the terminal keeps it until the program reads
        seen = _read_until(master, None).replace(b"\r\n", b"\n")
        err = run.communicate(timeout=30)[1]
    assert run.returncode == 0, err
    typed, _, out = seen.partition(b"\n")  # this terminal's echo of what was typed, then pylab's stdout
    assert typed == b"bob" and json.loads(out)["stdout"] == "first line\nname? hello bob\n"


# -- explanations ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_explain_says_fork_copied_the_unflushed_line(mode, pylab):
    out = pylab("run", prog("fork_copies_buffer"), "--mode", mode, "--explain")
    assert out.stdout.count("before fork\n") == 2
    assert "'before fork' was written by" in out.stderr and "a copy each" in out.stderr
    assert "when fork copied the buffer into the child" in out.stderr


def test_explain_on_a_tty_says_nothing_was_pending_at_the_fork(pylab):
    out = pylab("run", prog("fork_copies_buffer"), "--mode", "tty", "--explain")
    assert out.stdout.count("before fork\n") == 1
    assert "a copy each" not in out.stderr and "buffer was empty (stdout was line-buffered)" in out.stderr


@pytest.mark.parametrize("mode,words", [("tty", "line-buffered"), ("pipe", "fully buffered"),
                                        ("file", "fully buffered")])
def test_a_fork_before_any_output_is_told_with_the_buffering_stdout_then_gets(mode, words, pylab):
    # OSTEP p1's shape: stdio has not yet chosen, and will choose by the target
    run = pylab("run", prog("forks_before_output"), "--mode", mode, "--explain")
    trace = pylab("trace", prog("forks_before_output"), "--mode", mode)
    assert run.returncode == trace.returncode == 0, run.stderr + trace.stderr
    for out in (run, trace):
        assert f"At the fork stdout's buffer was empty (stdout was {words})" in out.stderr
    assert f"stdio: fork, stdout {words}, 0 bytes pending" in trace.stderr


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_trace_says_exec_discarded_the_childs_line(mode, pylab):
    data = json.loads(pylab("trace", prog("exec_drops_buffer"), "--mode", mode, "--json").stdout)
    assert "child before exec" not in data["stdout"]
    (lost,) = [s for s in data["explanation"] if "never reached stdout" in s]
    assert "'child before exec'" in lost and "exec replaced the program with 'echo'" in lost
    assert "exec_drops_buffer.c:21" in lost
    kinds = {e["kind"] for e in data["events"]}
    assert {"spawn", "exec", "write", "exit", "end", "reap", "stdio"} <= kinds


@pytest.mark.parametrize("mode", ["pipe", "file"])
def test_trace_says_exit_underscore_dropped_the_buffer(mode, pylab):
    data = json.loads(pylab("trace", "_exit1", "--mode", mode, "--json").stdout)
    assert data["stdout"] == ""
    (lost,) = [s for s in data["explanation"] if "never reached stdout" in s]
    assert "'output begin / content in buffer'" in lost and "_exit at _exit1.c:15" in lost


def test_trace_on_a_tty_says_only_the_unfinished_line_was_dropped(pylab):
    data = json.loads(pylab("trace", "_exit1", "--mode", "tty", "--json").stdout)
    assert data["stdout"] == "output begin\n"
    (lost,) = [s for s in data["explanation"] if "never reached stdout" in s]
    assert "'content in buffer'" in lost and "output begin" not in lost


def test_trace_on_a_tty_shows_the_line_before_exec(pylab):
    data = json.loads(pylab("trace", prog("exec_drops_buffer"), "--mode", "tty", "--json").stdout)
    assert "child before exec" in data["stdout"]
    assert not [s for s in data["explanation"] if "never reached stdout" in s]


@pytest.mark.parametrize("mode", ["tty", "pipe", "file"])
def test_a_program_that_sets_its_own_buffering_is_named_with_the_line(mode, pylab):
    data = json.loads(pylab("trace", prog("sets_own_buffering"), "--mode", mode, "--json").stdout)
    assert data["stdout"].count("before fork") == 1  # unbuffered: nothing pending at fork
    assert any("set stdout unbuffered itself (setvbuf) at sets_own_buffering.c:13" in s for s in data["explanation"])


def test_trace_text_has_a_block_per_process_and_a_figure(tmp_path, pylab):
    figure = tmp_path / "lanes.svg"
    out = pylab("trace", prog("child_outlives"), "--mode", "pipe", "--linger", "0.2", "--figure", str(figure))
    assert out.returncode == 0
    assert "process " in out.stderr and "the supervisor (the run's subreaper)" in out.stderr
    assert "was re-parented to the supervisor" in out.stderr
    assert "pylab: 1 process(es) outlived the program:" in out.stderr.splitlines()
    assert "; killed at the end of the linger (0.2 s)" in out.stderr  # trace says it as run does
    assert figure.read_text().startswith("<?xml")


def test_a_zombie_interval_is_measured_from_the_childs_end_to_the_wait(pylab):
    data = json.loads(pylab("trace", "zombie", "--mode", "pipe", "--json", "--", "0.3").stdout)
    child = next(p for p in data["processes"].values() if p["parent"] == data["pid"])
    # (on a loaded machine the program itself may wait a moment for the supervisor too)
    (zombie,) = [s for s in data["explanation"] if s.startswith(f"{child['pid']} ") and "was a zombie from" in s]
    assert "until its parent's wait" in zombie
    # the parent sleeps the lesson's 0.3 s after fork returned, then waits
    assert child["reaped_at"] - child["born"] >= 0.299 and child["reaped_at"] > child["ended"]


def test_watch_follows_an_orphan_to_the_supervisor(pylab):
    data = json.loads(pylab("run", prog("child_outlives"), "--watch", "--linger", "0.5", "--json").stdout)
    moves = [c for c in data["states"] if c["state"] == "re-parented"]
    assert moves and all(m["ppid"] == data["supervisor"] for m in moves)


def test_watch_with_explain_leaves_the_tracer_out_and_names_the_program_by_its_own_name(pylab):
    # zombie-shaped: the program holds its zombie child 0.3 s, then reaps it; nobody is re-parented
    data = json.loads(pylab("run", "zombie", "--mode", "pipe", "--watch", "--explain", "--json", "--", "0.3").stdout)
    program = data["pid"]
    children = {c["pid"] for c in data["states"] if c["ppid"] == program}
    assert len(children) == 1 and {c["pid"] for c in data["states"]} == {program, *children}  # no tracer
    assert not [c for c in data["states"] if c["state"] == "re-parented"]
    mine = [c for c in data["states"] if c["pid"] == program]
    # named as /proc names it: "supervise" (its fork) at most until its exec, its own name from then on
    names = [c["comm"] for c in mine]
    assert names[-1] == "zombie" and mine[-1]["state"] == "gone"
    assert "supervise" not in names[names.index("zombie"):]


def test_watch_with_explain_reports_the_orphan_as_re_parented_and_nothing_else(pylab):
    data = json.loads(pylab("run", prog("child_outlives"), "--mode", "pipe", "--watch", "--explain", "--linger", "0.3",
                            "--json").stdout)
    (child,) = [int(ln.split()[1]) for ln in data["stdout"].splitlines() if ln.startswith("child ")]
    moves = [c for c in data["states"] if c["state"] == "re-parented"]
    assert [(m["pid"], m["ppid"]) for m in moves] == [(child, data["supervisor"])]
    assert {c["pid"] for c in data["states"]} <= {data["pid"], child}  # the supervisor's tracer is not the run's
    assert {c["comm"] for c in data["states"] if c["pid"] == child} == {"child_outlives"}


def test_watch_says_when_it_saw_nothing(capsys):
    from argparse import Namespace

    from pylab.cli import run_cmd
    from pylab.run.result import RunResult

    r = RunResult(argv=["x"], mode="pipe", pid=1, status=0, stdout=b"", stderr=b"", duration=0.0001)
    bench = Namespace(path=Path("."), temporary=False, keep=True)
    run_cmd.report(Namespace(mode="pipe"), "x", r, bench, [], None, [])
    assert "--watch saw nothing" in capsys.readouterr().err


def test_without_strace_trace_and_explain_say_so_in_one_line(monkeypatch, capsys):
    from pylab.cli.main import main
    from pylab.run import tracer

    real = tracer.shutil.which
    monkeypatch.setattr(tracer.shutil, "which", lambda name: None if name == "strace" else real(name))
    monkeypatch.setattr(tracer, "lab_tracer", lambda: None)  # as on a machine the lab's own tracer does not serve
    for argv in (["trace", prog("fork_copies_buffer")], ["run", prog("fork_copies_buffer"), "--explain"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["pylab: error: tracing needs strace, which is not installed (Debian: apt-get install strace)"]


def test_a_child_s_name_cannot_forge_the_supervisor_s_report(tmp_path):
    # a name is the process's to choose (prctl PR_SET_NAME): a newline in it must not
    # start a status line of the supervisor's, such as the program's own end
    src = tmp_path / "inject.c"
    src.write_text(textwrap.dedent(r"""
        #include <stdlib.h>
        #include <sys/prctl.h>
        #include <unistd.h>
        int main(void) {
            int ready[2];
            if (pipe(ready) < 0) return 3;
            if (fork() == 0) {
                prctl(PR_SET_NAME, "x\nend 0 0 0 9");
                write(ready[1], "!", 1);
                pause();
            }
            char c;
            read(ready[0], &c, 1);  /* the child has its name */
            abort();
        }
        """))
    for linger in (0, 0.2):
        result = runner.run([toolchain.build(src)], mode="pipe", linger=linger, limits={"core": 0})
        assert result.signal == signal.SIGABRT and result.exit_code is None, (linger, result.describe())
        assert all("\n" not in o["comm"] for o in result.outlived)


def test_a_stop_while_the_sources_are_copied_leaves_no_folder(monkeypatch, tmp_path):
    from pylab.cli import run_cmd
    monkeypatch.setattr(run_cmd.tempfile, "tempdir", str(tmp_path))

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd.shutil, "copy", stopped)
    args = argparse.Namespace(cwd=None, keep=False)
    with pytest.raises(KeyboardInterrupt):
        run_cmd.Bench(args, [PROGRAMS / "fork_copies_buffer.c"])
    assert list(tmp_path.iterdir()) == []


def test_the_live_echo_joins_a_terminal_s_line_end_split_across_two_reads(monkeypatch):
    import io
    from pylab.cli import run_cmd
    out = io.BytesIO()
    monkeypatch.setattr(run_cmd.sys, "stdout", type("Out", (), {"buffer": out, "flush": lambda self: None})())
    echo = object.__new__(run_cmd.LiveEcho)  # (no run: only its writing)
    echo.shown = 0
    for chunk in (b"one\r", b"\ntwo\r\n", b"three\r"):
        echo._write(chunk)
    assert out.getvalue() == b"one\ntwo\nthree"  # the last \r waits: its \n may be in the next read
    assert echo.shown == len(b"one\r\ntwo\r\nthree\r")


def test_an_explanation_with_nothing_to_say_names_the_zombies_it_leaves_out(pylab):
    """Every child is a zombie for a moment, until its parent's wait: "no zombie" alone
    would be false; the line says which ones it does not name."""
    from pylab.run import explain

    out = pylab("run", "exit2", "--mode", "tty", "--explain")  # one process, its line flushed by exit
    (line,) = [ln for ln in out.stderr.splitlines() if "nothing to explain" in ln]
    assert f"no zombie that lasted {explain.ZOMBIE_MIN * 1000:g} ms or more (each child is one" in line
