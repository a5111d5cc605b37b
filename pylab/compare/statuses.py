"""One child's ending, read three ways at once: C's W* macros, os.waitstatus_to_exitcode
and subprocess's returncode.

Each ending of the wait_status lesson (csrc/programs/wait_status.c) is run and its raw
status decoded by each reader side by side; a stopped and a continued child follow,
which only waitpid with WUNTRACED / WCONTINUED reports. The lesson is built through
the toolchain, which is why this lives above the bindings (pylab.bindings.lab_wait
only wraps the C calls).

    rows = side_by_side()      # one dict per way to end
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
from pathlib import Path

from pylab.bindings import lab_wait, native
from pylab.run import toolchain

# The ways a child ends in the wait_status lesson, by the name its CASE argument takes.
ENDINGS = ("return7", "exit3", "exit256", "exit-1", "SIGTERM", "SIGSEGV")


def _row(case: str, raw: int, returncode: int | None) -> dict:
    try:
        exitcode: int | str = os.waitstatus_to_exitcode(raw)
    except ValueError as e:  # a stopped or continued status is not an ending
        exitcode = f"ValueError: {e}"
    return {"case": case, "raw": raw, "c": lab_wait.macros(raw),
            "core_dumped": native.decode_status(raw).core_dumped,
            "waitstatus_to_exitcode": exitcode, "subprocess_returncode": returncode}


def _allow_core() -> None:
    """In the child, before exec: the soft RLIMIT_CORE up to the hard one, as wait_status
    does itself only in its scratch directory (its CASE runs leave the choice to the caller)."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)


def side_by_side() -> list[dict]:
    """Each ending of the wait_status lesson, observed three ways at once: the raw status
    from os.waitpid, read by C's W* macros and by os.waitstatus_to_exitcode, and the
    returncode subprocess gives (negative: killed by that signal). Then a stopped and a
    continued status, which only waitpid with WUNTRACED / WCONTINUED reports."""
    binary = toolchain.find("wait_status").build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pylab-wait-") as scratch:  # cores land here
        for case in ENDINGS:
            returncode = subprocess.run([binary, case], cwd=scratch, stderr=subprocess.DEVNULL,
                                        preexec_fn=_allow_core).returncode
            proc = subprocess.Popen([binary, case], cwd=scratch, stderr=subprocess.DEVNULL, preexec_fn=_allow_core)
            _, raw = os.waitpid(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(raw)  # reaped here: tell Popen
            rows.append(_row(case, raw, returncode))
        for core in Path(scratch).glob("core*"):
            core.unlink()
    pid = lab_wait.fork_ending("block")
    try:
        os.kill(pid, signal.SIGSTOP)
        rows.append(_row("SIGSTOP", os.waitpid(pid, os.WUNTRACED)[1], None))
        os.kill(pid, signal.SIGCONT)
        rows.append(_row("SIGCONT", os.waitpid(pid, os.WCONTINUED)[1], None))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return rows


def core_obstacle() -> str | None:
    """Why a crash here would leave no core bit, or None when nothing in sight stops it."""
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        return "RLIMIT_CORE's hard limit is 0 and cannot be raised"
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|"):
        return f"core_pattern pipes cores to a handler ({pattern}), which decides"
    return None
