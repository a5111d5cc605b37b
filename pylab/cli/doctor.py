"""`pylab doctor`: is this machine ready for the lab? Each check is tried for real."""
from __future__ import annotations

import os
import shutil
import subprocess

from pylab.core.output import emit_json, settle
from pylab.grading import bwrap
from pylab.grading.sandbox import namespaces_problem
from pylab.observe import procstate
from pylab.run import runner, toolchain, tracer


def _checks():

    def compiler():
        path, ident = toolchain.compiler()
        return f"{path} ({ident})"

    def native_ext():
        from pylab.bindings import native  # the check itself: a broken build is a FAIL line

        return f"pylab.bindings._native loaded, getpid() = {native.getpid()}"

    def proc():
        st = procstate.read_stat(os.getpid())
        return f"/proc readable (this process is in state {st.state})"

    def pty():
        master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(master), os.close(slave)
        return f"openpty works ({name})"

    def ps():
        return f"{shutil.which('ps')} says this process is {procstate.state_ps(os.getpid())}"

    def psutil_():
        import psutil  # the check itself: missing is a FAIL line, not a crash

        return f"psutil {psutil.__version__}"

    def supervise():
        r = runner.run(["true"], timeout=5)
        if r.exit_code != 0:
            raise RuntimeError(f"supervised 'true' {r.describe()}")
        return "the supervisor builds and runs a program (subreaper set)"

    def strace():
        try:
            return tracer.strace_path()
        except tracer.TracerMissing as e:
            raise FileNotFoundError(f"{e}: the tour then says it could not trace syscalls") from None

    def bubblewrap():
        problem = namespaces_problem()
        if problem:
            raise RuntimeError(f"{problem}: `pylab grade` refuses to run student code "
                               "(unless --containment=uid); `pylab check` falls back to a uid and hard limits")
        version = subprocess.run([bwrap.bwrap_path(), "--version"], capture_output=True, text=True).stdout.strip()
        return (f"{version} makes user, pid, network, ipc, uts and mount namespaces"
                + (" (as a uid of the grading pool)" if os.geteuid() == 0 else ""))

    # (name, check, required)
    return [("compiler", compiler, True), ("native", native_ext, True), ("proc", proc, True),
            ("pty", pty, True), ("ps", ps, True), ("psutil", psutil_, True),
            ("supervisor", supervise, True), ("strace", strace, False), ("bubblewrap", bubblewrap, False)]


def main(args) -> int:
    results = []
    for name, fn, required in _checks():
        try:
            results.append({"check": name, "ok": True, "required": required, "detail": fn()})
        except Exception as e:  # each failure is reported, not raised
            results.append({"check": name, "ok": False, "required": required, "detail": str(e)})
    ready = all(r["ok"] for r in results if r["required"])
    code = settle(0 if ready else 2)
    if getattr(args, "json", False):
        emit_json({"ready": ready, "checks": results})
    else:
        for r in results:
            mark = "ok  " if r["ok"] else ("FAIL" if r["required"] else "warn")
            print(f"  {mark} {r['check']:<11} {r['detail']}")
        print("ready" if ready else "not ready: fix the FAIL lines above")
    return code
