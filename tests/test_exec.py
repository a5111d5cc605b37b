"""exec_demo, fd_leak and spawn: fork + exec, exec failure told apart from exit 127 by a
close-on-exec pipe, descriptors leaking through exec, posix_spawn; and the same calls
made in-process through pylab.bindings.lab_exec."""
from __future__ import annotations

import errno
import json
import os
import re
import subprocess

import pytest

from pylab.cli import main as cli

from pylab.bindings import lab_exec as lifecycle_exec

from pylab.observe import procstate

from pylab.run import toolchain
from pylab.run.runner import MODES, run_program
from support import assert_line, expect, line_matching, run_python

MISSING = "/nonexistent/program"
LESSONS = ["atexit_order", "exec_demo", "fd_leak", "spawn", "fork_fail", "pgroup_signal", "setsid", "ctty", "pidfd"]


def test_the_lifecycle_programs_are_listed_with_a_summary(capsys):
    assert cli.main(["list", "--json"]) == 0
    listed = {p["name"]: p["summary"] for p in json.loads(capsys.readouterr().out)["programs"]}
    for name in LESSONS:
        assert listed.get(name), f"{name} missing or without a summary"


@pytest.mark.parametrize("mode", MODES)
def test_exec_failure_and_exit_127_end_alike_but_only_the_pipe_tells_them_apart(mode):
    r = run_program("exec_demo", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    assert r.lines == [
        "[true] exec succeeded: read 0 bytes from the pipe; the child exited with 0",
        f"[{MISSING}] exec failed: ENOENT (No such file or directory), read 4 bytes from the pipe;"
        " the child exited with 127",
        "[sh -c exit 127] exec succeeded: read 0 bytes from the pipe; the child exited with 127",
    ]


def test_exec_of_a_file_without_execute_permission_reports_eacces(tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)  # no x bit for anyone: even root cannot exec it
    r = run_program("exec_demo", [str(script)])
    assert r.lines == [f"[{script}] exec failed: EACCES (Permission denied), read 4 bytes from the pipe;"
                       " the child exited with 127"]


@pytest.mark.parametrize("mode", MODES)
def test_the_exec_d_program_writes_to_the_same_stdout(mode):
    r = run_program("exec_demo", ["echo", "hello from the new program"], mode=mode)
    # the parent prints only after waitpid, so this order is fixed
    assert r.lines == ["hello from the new program",
                       "[echo hello from the new program] exec succeeded: read 0 bytes from the pipe;"
                       " the child exited with 0"]


def _fd_report(lines):
    before = re.fullmatch(r"before exec: plain fd (\d+), O_CLOEXEC fd (\d+)", lines[0])
    assert before, lines
    listed = next(ln for ln in lines if ln.startswith("after exec: /proc/self/fd lists"))
    return int(before.group(1)), int(before.group(2)), set(map(int, listed.split("lists")[1].split()))


@pytest.mark.parametrize("mode", MODES)
def test_a_descriptor_without_cloexec_leaks_into_the_exec_d_program(mode):
    r = run_program("fd_leak", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    plain, cloexec, listed = _fd_report(r.lines)
    assert_line(r, f"after exec: plain fd {plain} open (leaked) -> /dev/null")
    assert_line(r, f"after exec: cloexec fd {cloexec} closed (EBADF)")
    # the supervisor starts every run with fds 0-2 only, so the list is exact
    assert listed == {0, 1, 2, plain}
    assert cloexec not in listed


def test_python_descriptors_are_close_on_exec_unless_made_inheritable():
    # PEP 446: os.open gives O_CLOEXEC descriptors; set_inheritable(True) clears it
    binary = toolchain.find("fd_leak").build()
    r = run_python(f"""
        import os
        from pylab.bindings import lab_exec as lifecycle_exec
        default = os.open("/dev/null", os.O_RDONLY)
        made_inheritable = os.open("/dev/null", os.O_RDONLY)
        os.set_inheritable(made_inheritable, True)
        pid, err = lifecycle_exec.fork_exec([{str(binary)!r}, "--inspect",
                                             f"inheritable:{{made_inheritable}}", f"default:{{default}}"])
        assert err == 0 and os.waitpid(pid, 0)[1] == 0
        print("fds", made_inheritable, default, flush=True)
        """)
    assert r.exit_code == 0, r.stderr_text
    inheritable, default = map(int, r.lines[-1].split()[1:])
    assert_line(r, f"after exec: inheritable fd {inheritable} open (leaked) -> /dev/null")
    assert_line(r, f"after exec: default fd {default} closed (EBADF)")


@pytest.mark.parametrize("mode", MODES)
def test_posix_spawn_reports_a_failed_exec_as_its_return_value(mode):
    r = run_program("spawn", mode=mode)
    assert r.exit_code == 0, r.stderr_text
    expect(len(r.lines) == 2, "exactly two lines", r)
    line_matching(r, r"\[sh -c echo this went to stderr; exit 127\] posix_spawn returned 0, pid \d+;"
                     r" it exited with 127", at=0)
    assert r.lines[1] == (f"[{MISSING}] posix_spawn returned ENOENT (No such file or directory):"
                          " no child to wait for")
    # the file action dup2(2, 1) sent the spawned shell's stdout to stderr
    assert r.stderr_text == "this went to stderr\n"


def _reap(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_fork_exec_in_process_tells_exec_failure_from_exit_127():
    pid, err = lifecycle_exec.fork_exec([MISSING])
    assert (err, _reap(pid)) == (errno.ENOENT, 127)
    pid, err = lifecycle_exec.fork_exec(["sh", "-c", "exit 127"])
    assert (err, _reap(pid)) == (0, 127)
    pid, err = lifecycle_exec.fork_exec(["true"])
    assert (err, _reap(pid)) == (0, 0)


def test_spawn_in_process_raises_on_a_missing_program_and_leaves_no_child():
    before = set(procstate.children(os.getpid()))
    with pytest.raises(FileNotFoundError):
        lifecycle_exec.spawn([MISSING])
    assert set(procstate.children(os.getpid())) == before
    assert _reap(lifecycle_exec.spawn(["sh", "-c", "exit 127"])) == 127


def test_subprocess_uses_the_same_pipe_to_raise_for_exec_failure():
    with pytest.raises(FileNotFoundError):
        subprocess.run([MISSING])
    assert subprocess.run(["sh", "-c", "exit 127"]).returncode == 127
