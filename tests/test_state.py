"""`pylab state PID`: the sources are compared only where they gave a state; one that
could not answer is named with why, and a thread's id is reported as a thread."""
from __future__ import annotations

import json
import os
import threading

import pytest

from pylab.observe import procstate
from pylab.run import runner
from pylab.cli import main as cli


@pytest.fixture
def sleeper():
    """A process blocked reading its stdin pipe (state S), as test_procstate's."""
    with runner.start(["cat"]) as proc:
        procstate.wait_for_state(proc.pid, "S")
        yield proc.pid


@pytest.fixture
def thread():
    """A thread of this process, blocked on an event (state S): its id, not a pid."""
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    t.start()
    try:
        procstate.wait_for_state(t.native_id, "S")
        yield t.native_id
    finally:
        release.set()
        t.join()


def _state(pylab_cli, pid, *extra):
    out = pylab_cli("state", str(pid), *extra)
    assert out.returncode == 0, out.stderr
    return out


def test_all_three_agree_on_a_sleeping_process(sleeper, pylab_cli):
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["states"] == {"proc": "S", "ps": "S", "psutil": "S"}
    assert data["agree"] is True and data["compared"] == ["proc", "ps", "psutil"]
    assert data["no_answer"] == {} and data["thread_of"] is None
    assert "-> sleeping; the three sources agree" in _state(pylab_cli, sleeper).stdout


def test_without_ps_the_other_two_are_compared_and_ps_says_why(sleeper, pylab_cli, monkeypatch):
    """The reviewer's `env PATH=/nonexistent pylab state 1`: ps's error was counted as a
    state, and the three sources "DISAGREE"."""
    monkeypatch.setenv("PATH", "/nonexistent")
    out = _state(pylab_cli, sleeper)
    assert "DISAGREE" not in out.stdout
    lines = out.stdout.splitlines()
    assert "  ps      no answer: ps is not installed (Debian: apt-get install procps)" in lines, lines
    assert "  -> sleeping; proc and psutil agree (ps could not answer)" in lines, lines
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["agree"] is True and data["compared"] == ["proc", "psutil"]
    assert list(data["no_answer"]) == ["ps"] and "ps is not installed" in data["no_answer"]["ps"]
    assert data["states"]["ps"].startswith("error: ps is not installed")  # as before: what ps said


def test_a_thread_id_is_a_thread_of_its_process_not_a_disagreement(thread, pylab_cli):
    """/proc/TID exists for a thread (Tgid: its process); `ps -p TID` finds nothing."""
    me = os.getpid()
    out = _state(pylab_cli, thread)
    lines = out.stdout.splitlines()
    assert "DISAGREE" not in out.stdout
    comm = procstate.read_stat(thread).comm
    assert lines[0].startswith(f"pid {thread} ({comm}) is a thread of process {me} "), lines
    assert f"  ps      no answer: ps -p looks up processes, and {thread} is a thread of process {me}" \
        f" ('pylab state {me}')" in lines, lines
    assert lines[-1] == "  -> sleeping; proc and psutil agree (ps could not answer)", lines
    data = json.loads(_state(pylab_cli, thread, "--json").stdout)
    assert data["thread_of"] == {"pid": me, "comm": procstate.read_stat(me).comm}
    assert data["states"] == {"proc": "S", "ps": "gone", "psutil": "S"}
    assert data["agree"] is True and data["compared"] == ["proc", "psutil"]
    assert f"thread of process {me}" in data["no_answer"]["ps"]


def test_a_process_is_no_thread(pylab_cli):
    """This process's own pid is its thread group's leader (Tgid == pid)."""
    data = json.loads(_state(pylab_cli, os.getpid(), "--json").stdout)
    assert data["thread_of"] is None


def test_sources_that_answer_differently_still_disagree(sleeper, pylab_cli, monkeypatch):
    """Only a source that could not answer is left out: two states that differ are a
    disagreement, shown with each source's letter."""
    monkeypatch.setitem(procstate.SOURCES, "psutil", lambda pid: "R")
    out = _state(pylab_cli, sleeper)
    assert "  -> sleeping; the three sources DISAGREE (proc S, ps S, psutil R)" in out.stdout.splitlines()
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["agree"] is False and data["no_answer"] == {}
    monkeypatch.setenv("PATH", "/nonexistent")
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["agree"] is False and data["compared"] == ["proc", "psutil"] and list(data["no_answer"]) == ["ps"]
    assert "proc and psutil DISAGREE (proc S, psutil R)" in _state(pylab_cli, sleeper).stdout


def test_one_source_alone_is_compared_with_nothing(sleeper, pylab_cli, monkeypatch):
    def broken(pid):
        raise RuntimeError("psutil is broken here")

    monkeypatch.setitem(procstate.SOURCES, "psutil", broken)
    monkeypatch.setenv("PATH", "/nonexistent")
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["agree"] is None and data["compared"] == ["proc"]
    assert data["no_answer"]["psutil"] == "psutil is broken here"
    out = _state(pylab_cli, sleeper).stdout
    assert "  -> sleeping; only proc gave a state: nothing to compare it with (ps and psutil could not answer)" \
        in out.splitlines(), out


def test_a_source_that_finds_no_such_pid_is_no_answer(sleeper, pylab_cli, monkeypatch):
    """A source that says "gone" while /proc has the process (e.g. a ps in another pid
    namespace) did not answer, and says so; "gone" is not a state to compare."""
    def not_found(pid):
        raise procstate.NoSuchProcess(pid)

    monkeypatch.setitem(procstate.SOURCES, "ps", not_found)
    data = json.loads(_state(pylab_cli, sleeper, "--json").stdout)
    assert data["states"]["ps"] == "gone" and data["agree"] is True
    assert data["no_answer"] == {"ps": f"it found no pid {sleeper}, though /proc has it"}


def test_a_process_whose_main_thread_exited_is_not_called_a_zombie(tmp_path, capsys):
    import subprocess
    from pylab.run import toolchain
    src = tmp_path / "leader_gone.c"
    src.write_text(r"""
        #include <pthread.h>
        #include <unistd.h>
        static void *reader(void *arg) { char c; (void)arg; read(0, &c, 1); return 0; }  /* until stdin closes */
        int main(void) { pthread_t t; pthread_create(&t, 0, reader, 0); pthread_exit(0); }
        """)
    binary = toolchain.build(src, cflags="-pthread")
    proc = subprocess.Popen([binary], stdin=subprocess.PIPE)
    try:
        assert procstate.wait_for_state(proc.pid, "Z", timeout=10) == "Z"  # the leader, as /proc shows it
        assert cli.main(["state", str(proc.pid)]) == 0
        out = capsys.readouterr().out
        assert "its main thread has exited" in out and "1 of its threads still run" in out
        assert "a zombie holds" not in out
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
