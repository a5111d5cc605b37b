"""The claims of pylab/tour/system.py and pylab/tour/lifecycle.py: live verdicts against what
this test sees, the probes' observations, and every judge fed observations leading to each
verdict it can give."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from pylab.tour import lifecycle as L
from pylab.tour import system as Y


@pytest.fixture
def rows(tour_run):
    assert tour_run.returncode == 0, tour_run.stderr or [r for r in json.loads(tour_run.stdout)["claims"] if r["verdict"] == "error"]
    return {r["id"]: r for r in json.loads(tour_run.stdout)["claims"]}


def test_live_verdicts_follow_what_this_test_observes(rows):
    creds = Y.observe_creds()["probe"]
    # one PID: allowed with its capabilities (in its own UTS namespace), refused without them
    assert creds["pid_before"] == creds["pid_mid"] == creds["pid_after"]
    assert creds["uid_mid"] == creds["uid_before"]  # the capabilities went first, the uid unchanged
    assert creds["hostname_before"] == "ok" and creds["capset"] == "ok" and creds["hostname_after"] == "EPERM"
    if os.geteuid() == 0:  # and as root: two uids, two answers
        assert creds["kill_before"] == creds["kill_mid"] == "ok" and creds["kill_after"] == "EPERM"
    assert rows["pid-carries-permissions"]["verdict"] == "refuted"
    sched = Y.observe_sched()
    assert int(sched["tasks_while_spinning"]) == 3  # the main thread and two spinners: three tasks
    assert rows["pcb-per-process"]["verdict"] == "qualified"
    assert rows["sched-time-slices"]["verdict"] == "qualified"
    assert rows["sessions-hold-groups"]["verdict"] == "confirmed"
    assert rows["ps-aux"]["verdict"] == ("qualified" if shutil.which("ps") else "unverified")
    try:
        with open("/proc/2/comm") as f:
            kthreadd = f.read().strip() == "kthreadd"
    except FileNotFoundError:
        kthreadd = False
    assert rows["ps-stat-sw"]["verdict"] == ("refuted" if kthreadd and shutil.which("ps") else "unverified")
    diff = L.observe_forkdiff()
    assert diff["child"]["pending_usr1"] == "0" and diff["parent"]["pending_usr1"] == "1"
    assert diff["child"]["alarm_left"] == "0" and diff["parent"]["alarm_left"] == "100"
    assert diff["child"]["lock_held_by_other"] == diff["parent"]["pid"]
    assert rows["fork-differs-only-pid"]["verdict"] == "refuted"
    assert rows["exit-clears-pcb"]["verdict"] == "refuted"  # the zombie is the entry that stays
    strace = shutil.which("strace")
    assert rows["exit-guarantees-integrity"]["verdict"] == ("qualified" if strace else "unverified")
    assert rows["stdio-flushes-on-newline"]["verdict"] == ("qualified" if strace else "unverified")
    assert rows["wait-and-waitpid-reap"]["verdict"] == "qualified"
    table = L.read_syscall_table()
    assert table["execve"] is not None and table["execl"] is None
    assert rows["fork-exec-library"]["verdict"] == "qualified"


def test_creds_judge_gives_each_verdict():
    before = {"pid_before": "7", "uid_before": "0", "hostname_before": "ok", "kill_before": "ok"}
    after = {"pid_mid": "7", "uid_mid": "0", "capset": "ok", "hostname_after": "EPERM", "kill_mid": "ok",
             "pid_after": "7", "uid_after": "65534", "setuid": "ok", "kill_after": "EPERM"}
    f = Y.judge_creds({"probe": {**before, **after}})
    assert f.verdict == "refuted" and "sethostname: ok" in f.evidence["so"] and "kill(parent, 0): ok" in f.evidence["so"]
    as_user = {**before, **after, "setuid": "EPERM", "kill_after": "ok"}
    assert Y.judge_creds({"probe": as_user}).verdict == "refuted"  # the capabilities alone show it
    same = {**before, **after, "hostname_after": "ok", "kill_after": "ok"}
    assert Y.judge_creds({"probe": same}).verdict == "confirmed"
    # a refusal seen only when two credentials changed at once shows neither's part
    both_at_once = {**before, **after, "uid_mid": "65534", "kill_mid": "EPERM"}
    assert Y.judge_creds({"probe": both_at_once}).verdict == "unverified"
    assert "its uid still 0" in f.evidence["so"] and "(with or without its capabilities)" in f.evidence["so"]
    stuck = Y.judge_creds({"probe": {**before, **after, "setuid": "EPERM", "capset": "EPERM"}})
    assert stuck.verdict == "unverified" and "neither credential" in stuck.missing
    assert Y.judge_creds({"probe": {"ran": False, "why": "unshare failed"}}).verdict == "unverified"


SCHED = {"cpus": "2", "tasks_while_spinning": "3", "wall_ms": "40", "cpu_ms": "80", "slice_before_ns": "1400000",
         "setattr": "ok", "slice_after_ns": "3000000"}


def test_sched_judges_give_each_verdict():
    q = Y.judge_sched_slices(SCHED)
    assert q.verdict == "qualified" and "1.4 ms here and 3 ms after" in q.condition and "2.0 CPUs' worth at once" in q.condition
    busy = Y.judge_sched_slices({**SCHED, "cpu_ms": "4"})
    assert busy.verdict == "qualified" and "0.1 CPUs' worth of its 40 ms" in busy.condition
    assert "busy" not in busy.condition  # why the CPUs were taken was not observed: no cause is claimed
    fixed = Y.judge_sched_slices({**SCHED, "slice_after_ns": SCHED["slice_before_ns"]})
    assert fixed.verdict == "qualified" and fixed.condition.startswith("what is scheduled is a thread")
    assert "did not change it" in fixed.evidence["so"]  # a slice length is no condition
    assert Y.judge_sched_slices({**SCHED, "slice_before_ns": "-1"}).verdict == "unverified"
    assert Y.judge_sched_slices({**SCHED, "slice_before_ns": "500000000"}).verdict == "refuted"
    assert Y.judge_pcb(SCHED).verdict == "qualified"
    assert Y.judge_pcb({**SCHED, "tasks_while_spinning": "1"}).verdict == "confirmed"


def test_session_judge_gives_each_verdict():
    ok = {"leader_pid": "5", "leader_sid": "5", "leader_pgrp": "5", "member_pid": "6", "member_sid": "5",
          "member_pgrp": "6", "parent_sid": "1"}
    assert Y.judge_session(ok).verdict == "confirmed"
    assert Y.judge_session({**ok, "member_sid": "6"}).verdict == "refuted"


def _ps(header_dash, header, user_x=False, stats=("S", "I<")):
    return {"ps": {"ps -aux": {"header": header_dash, "exit": 0}, "ps aux": {"header": header, "exit": 0}},
            "a user named x exists": user_x, "STAT of kernel threads (children of kthreadd)": list(stats)}


def test_ps_judges_give_each_verdict():
    cols = ["USER", "PID", "%CPU"]
    q = Y.judge_ps_aux(_ps(cols, cols))
    assert q.verdict == "qualified" and "no user named x" in q.condition and "-a -u x" in q.documentation
    seen = _ps(cols, cols)
    seen["ps"]["ps -a -u x"] = {"header": ["error:"], "exit": 1, "stderr": "error: user name does not exist\nUsage:"}
    posix = Y.judge_ps_aux(seen)
    assert "`ps -a -u x`, it was refused here (error: user name does not exist)" in posix.condition
    assert Y.judge_ps_aux(_ps(["PID", "TTY"], cols)).verdict == "refuted"
    assert Y.judge_ps_aux({"ps": None}).verdict == "unverified"
    # with a user x, the same BSD columns would be the seed's listing unconditionally, not a condition
    assert Y.judge_ps_aux(_ps(cols, cols, user_x=True)).verdict == "confirmed"
    refuted = Y.judge_stat_sw(_ps(cols, cols, stats=("S", "I<", "I<")))
    assert refuted.verdict == "refuted"
    assert refuted.evidence["STAT of kernel threads here (how many show each)"] == {"I<": 2, "S": 1}
    assert Y.judge_stat_sw(_ps(cols, cols, stats=("SW", "SWN"))).verdict == "confirmed"
    assert Y.judge_stat_sw(_ps(cols, cols, stats=())).verdict == "unverified"


def test_forkdiff_judge_gives_each_verdict():
    parent = {"pid": "10", "ppid": "1", "pending_usr1": "1", "alarm_left": "100", "cpu_ms": "20", "lock_held_by_other": "0"}
    child = {"pid": "11", "ppid": "10", "pending_usr1": "0", "alarm_left": "0", "cpu_ms": "0", "lock_held_by_other": "10"}
    f = L.judge_forkdiff({"parent": parent, "child": child})
    assert f.verdict == "refuted" and set(f.evidence["differ besides the PID (parent, child)"]) == {
        "ppid", "pending_usr1", "alarm_left", "cpu_ms", "record lock"}
    twin = {**parent, "pid": "11", "lock_held_by_other": "0"}
    assert L.judge_forkdiff({"parent": parent, "child": twin}).verdict == "confirmed"


def test_exit_clears_judge_gives_each_verdict():
    seen = {"state before wait": "Z", "after wait": "gone", "wait returned": {"exit_code": 5}}
    assert L.judge_exit_clears(seen).verdict == "refuted"
    assert L.judge_exit_clears({**seen, "state before wait": "gone"}).verdict == "confirmed"


def _integrity(calls, dup=2, available=True):
    return {"strace exit2 (stdout a file)": {"available": available, "why": "no strace", "calls": calls},
            "fork_stdio stdout": {"pipe": "before fork\n" * dup, "file": "before fork\n" * dup}}


def test_integrity_judge_gives_each_verdict():
    q = L.judge_integrity(_integrity(["write", "exit_group"]))
    assert q.verdict == "qualified" and "no fsync" in q.condition and "second time" in q.condition
    assert "handed them to the kernel with write()" in q.condition and "not guaranteed to be on disk" in q.condition
    assert "page cache" not in q.condition  # where the data was is not what strace shows
    assert "(one printf, 2 'before fork' lines on a pipe and 2 'before fork' lines on a file)" in q.condition
    assert L.judge_integrity(_integrity(["write", "fsync", "exit_group"], dup=1)).verdict == "confirmed"
    assert L.judge_integrity(_integrity([], available=False)).verdict == "unverified"


TODAY = (["write", "read", "write", "marker"], ["read", "marker", "write"])  # stdout a terminal, a pipe


def test_flush_triggers_judge_gives_each_verdict():
    musl = {"available": True, "order": ["read", "write", "marker"]}

    def seen(tty, pipe, c_library=musl):
        return {"tty": {"available": True, "order": tty}, "pipe": {"available": True, "order": pipe},
                "libc": "glibc 2.36", "musl, stdout = tty": c_library}
    q = L.judge_flush_triggers(seen(*TODAY))
    assert q.verdict == "qualified" and q.condition == (
        "the newline flushes only a line-buffered stream: on the terminal 'hello\\n' was written at its newline, "
        "before the next call; on a pipe only at exit")
    # the write before a read is glibc's, seen against musl: evidence, not a condition of the seed's claim
    assert q.evidence["and"].startswith("with glibc 2.36, a read from a line-buffered input")
    assert "built with musl read first" in q.evidence["and"]
    assert "'intended': not required" in q.documentation and "_IO_new_file_underflow" in q.documentation
    no_musl = L.judge_flush_triggers(seen(*TODAY, {"available": False, "why": "musl-gcc is not installed"}))
    assert "musl" not in no_musl.evidence["and"] and "not run: musl-gcc is not installed" in str(no_musl.evidence)
    assert L.judge_flush_triggers(seen(["write", "read", "write", "marker"],
                                       ["write", "read", "write", "marker"])).verdict == "confirmed"
    assert L.judge_flush_triggers(seen(["write", "read", "marker", "write"],
                                       ["read", "marker", "write"])).verdict == "refuted"
    unmarked = L.judge_flush_triggers(seen(["write", "read"], ["read", "write"]))
    assert unmarked.verdict == "unverified" and "marker" in unmarked.missing
    blind = {"tty": {"available": False, "why": "no strace"}, "pipe": {"available": False, "why": "no strace"}}
    assert L.judge_flush_triggers(blind).verdict == "unverified"


def test_prompt_is_written_before_the_read_on_a_terminal_only():
    seen = L.observe_flush_triggers()
    if not shutil.which("strace"):
        assert not seen["tty"]["available"]
        return
    assert seen["tty"]["order"][0] == "write" and seen["pipe"]["order"][0] == "read"
    assert seen["tty"]["order"] == ["write", "read", "write", "marker"]  # "hello\n" written at its newline
    assert seen["pipe"]["order"] == ["read", "marker", "write"]  # a pipe's buffer written only at exit
    if shutil.which("musl-gcc"):  # musl writes no prompt before the read: glibc's behaviour, not C's
        assert seen["musl, stdout = tty"]["order"][0] == "read"


def test_waits_judge_gives_each_verdict():
    w = {"state before wait": "Z", "after wait": "gone"}
    peek = ["peek 1 (WNOWAIT): pid 5 si_status 42; /proc says state Z", "peek 2 (WNOWAIT): pid 5 si_status 42; /proc says state Z"]
    q = L.judge_waits({"wait": w, "waitid_peek": peek, "sigchld_ignore": ["child ended: state -"]})
    assert q.verdict == "qualified" and "SIG_IGN" in q.condition and q.condition.startswith("the parent keeps SIGCHLD")
    # waitid's WNOWAIT is neither wait nor waitpid: evidence, not a condition of the claim
    assert "WNOWAIT" not in q.condition and "WNOWAIT" in q.evidence["and"]
    peeked = L.judge_waits({"wait": w, "waitid_peek": peek, "sigchld_ignore": []})
    assert peeked.verdict == "confirmed" and "WNOWAIT" in peeked.evidence["and"]
    assert L.judge_waits({"wait": w, "waitid_peek": [], "sigchld_ignore": []}).verdict == "confirmed"
    assert L.judge_waits({"wait": {**w, "after wait": "Z"}, "waitid_peek": peek, "sigchld_ignore": []}).verdict == "refuted"


def _fork_exec(tmp_path, **change):
    header = tmp_path / "unistd_64.h"
    header.write_text("#define __NR_clone 56\n#define __NR_fork 57\n#define __NR_execve 59\n")
    return {"table": L.read_syscall_table([str(header)]), "strace exec_demo": ["clone", "execve"],
            "C library": "glibc 2.36", "the C library exports": {n: True for n in L.LIBRARY_CALLS},
            "declared by the ISO C11 headers (-std=c11)": {"fork": "undeclared", "execl": "undeclared"},
            "declared with <unistd.h> (POSIX) added": {"fork": "declared", "execl": "declared"}, **change}


def test_fork_exec_judge_gives_each_verdict(tmp_path):
    seen = _fork_exec(tmp_path)
    assert seen["table"]["execve"] == 59 and seen["table"]["execl"] is None
    # library functions of the system's C library, wrapping system calls; ISO C declares neither
    f = L.judge_fork_exec(seen)
    assert f.verdict == "qualified" and f.condition.startswith("'C standard library' means the system's C library "
                                                               "(glibc 2.36), not ISO C's")
    assert "made clone and execve under strace" in f.condition and "POSIX" in f.documentation
    # the headers are named as what they are: not the running kernel's table
    assert f.evidence[L.HEADERS_TABLE]["header"] == str(tmp_path / "unistd_64.h")
    assert "installed kernel headers" in L.HEADERS_TABLE
    iso = {"fork": "declared", "execl": "declared"}
    assert L.judge_fork_exec({**seen, "declared by the ISO C11 headers (-std=c11)": iso}).verdict == "confirmed"
    gone = {**seen["the C library exports"], "fork": False}
    assert L.judge_fork_exec({**seen, "the C library exports": gone}).verdict == "refuted"
    blind = L.judge_fork_exec({**seen, "the C library exports": {"unavailable": "no libc.so"}})
    assert blind.verdict == "unverified" and "no libc.so" in blind.missing
    unclear = {"fork": "could not tell: isoc.c does not compile", "execl": "undeclared"}
    assert L.judge_fork_exec({**seen, "declared by the ISO C11 headers (-std=c11)": unclear}).verdict == "unverified"


def test_iso_c_headers_declare_no_fork_and_unistd_does(tmp_path):
    """This test's own look, with gcc directly: every ISO C11 header, -std=c11, names fork."""
    src = tmp_path / "f.c"
    src.write_text((L.probes.source("isoc")).read_text())
    def compiles(*flags):
        return subprocess.run(["gcc", "-std=c11", "-fsyntax-only", *flags, str(src)], capture_output=True).returncode == 0
    assert not compiles("-DSYMBOL=fork") and compiles("-DSYMBOL=fork", "-DPOSIX") and compiles()
    assert L.declared_by("fork", False) == "undeclared" and L.declared_by("fork", True) == "declared"
    assert L.declared_by("execl", False) == "undeclared" and L.declared_by("execl", True) == "declared"
