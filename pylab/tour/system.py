"""The claims of seeds/processes.md about what a process is to the system: the permissions
a PID "carries", the scheduler's time slices, the PCB, sessions, and the seed's `ps -aux`
listing (its command and its STAT letters). Same shape as every claim module: observe,
then a judge registered in CLAIMS."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections import Counter

from pylab.observe import procstate
from pylab.tour import probes
from pylab.tour.processes import SEED
from pylab.tour.shape import ClaimList, Finding, unverified

CLAIMS = ClaimList()


def observe_creds() -> dict:
    r = probes.in_namespaces([probes.build("creds")], ("uts",))
    return {"probe": probes.fields(r["stdout"]) if r["ran"] else r, "euid": os.geteuid()}


@CLAIMS.claim("pid-carries-permissions", SEED, "The system gives a PID a set of permissions (from the user "
              "and the command that started it); what the command may do depends on its PID's permissions",
              observe=observe_creds)
def judge_creds(seen: dict) -> Finding:
    out = seen["probe"]
    evidence = {"creds probe: one child, before and after its credentials change": out}
    if out.get("ran") is False:
        return unverified(f"a UTS namespace to change the hostname in ({out['why']})", evidence)
    same_pid = out.get("pid_before") == out.get("pid_mid", out.get("pid_after")) == out.get("pid_after")
    seen_changes = []
    # one credential changed at a time: first the capabilities (same uid), then the uid
    if (out.get("capset") == "ok" and out.get("uid_mid", out.get("uid_before")) == out.get("uid_before")
            and out.get("hostname_before") != out.get("hostname_after")):
        seen_changes.append(f"sethostname: {out['hostname_before']} with CAP_SYS_ADMIN, {out['hostname_after']} once "
                            f"it dropped that capability, its uid still {out['uid_before']}")
    if (out.get("setuid") == "ok" and out.get("kill_mid", out.get("kill_before")) == out.get("kill_before")
            and out.get("kill_before") != out.get("kill_after")):
        seen_changes.append(f"kill(parent, 0): {out['kill_before']} as uid {out['uid_before']} (with or without "
                            f"its capabilities), {out['kill_after']} as uid {out['uid_after']}")
    if same_pid and seen_changes:
        evidence["so"] = (f"the same PID {out['pid_after']} was allowed, then refused: " + "; ".join(seen_changes)
                          + ": permissions come from the credentials (uid, gid, capabilities), not from the PID")
        return Finding("refuted", evidence)
    if out.get("capset") != "ok" and out.get("setuid") != "ok":
        return unverified(f"neither credential could be changed (capset: {out.get('capset')}, setresuid: "
                          f"{out.get('setuid')})", evidence)
    clean_caps = out.get("capset") == "ok" and out.get("uid_mid", out.get("uid_before")) == out.get("uid_before")
    clean_uid = out.get("setuid") == "ok" and out.get("kill_mid", out.get("kill_before")) == out.get("kill_before")
    if same_pid and ((clean_caps and out.get("hostname_before") == out.get("hostname_after"))
                     or (clean_uid and out.get("kill_before") == out.get("kill_after"))):
        return Finding("confirmed", evidence)  # a credential changed alone and the permission stayed
    return unverified("a credential change whose effect could be told apart (the PID changed, or capabilities "
                      "and uid changed together)", evidence)


def observe_sched() -> dict:
    return probes.fields(probes.run("sched").stdout_text)


# alone: its CPU time against the wall clock says whether its two threads ran at once, which
# the tour's own observations, running side by side, would take from it
@CLAIMS.claim("sched-time-slices", SEED, "The scheduler gives each process a short time slice, in "
              "milliseconds, and runs one of them at a time", observe=observe_sched, alone=True)
def judge_sched_slices(out: dict) -> Finding:
    evidence = {"sched probe": out}
    before, after = int(out.get("slice_before_ns", -1)), int(out.get("slice_after_ns", -1))
    if before < 0:
        return unverified("se.slice is not in /proc/PID/sched (a kernel before EEVDF, 6.6)", evidence)
    cond = []
    if after != before:
        cond.append(f"the slice is a per-task setting, not a fixed length: se.slice was {before / 1e6:g} ms here and "
                    f"{after / 1e6:g} ms after the task asked sched_setattr for 3 ms")
    else:  # milliseconds, as the seed says: evidence, not a condition
        evidence["so"] = f"se.slice is {before / 1e6:g} ms here, and asking sched_setattr for 3 ms did not change it"
    tasks = int(out["tasks_while_spinning"])
    ratio = float(out["cpu_ms"]) / float(out["wall_ms"])
    cond.append(f"{'and ' if cond else ''}what is scheduled is a thread, not a process: one process was {tasks} tasks while its two "
                f"threads spun" + (f", and ran on {ratio:.1f} CPUs' worth at once ({out['cpus']} CPUs)" if ratio > 1.2
                                   else f" (they got {ratio:.1f} CPUs' worth of its {float(out['wall_ms']):g} ms: "
                                   "other work had the CPUs, so this run did not show them running at once)"))
    if before > 100_000_000:  # not milliseconds at all
        return Finding("refuted", evidence)
    return Finding("qualified", evidence, "; ".join(cond),
                   documentation="sched-eevdf.rst: EEVDF picks the eligible task with the earliest virtual deadline; "
                   "a task's slice (base_slice_ns by default) sets its deadline, not a fixed quantum")


@CLAIMS.claim("pcb-per-process", SEED, "Every process gets one data structure, its process control block (PCB)",
              observe=observe_sched)
def judge_pcb(out: dict) -> Finding:
    tasks = int(out["tasks_while_spinning"])
    evidence = {"sched probe: entries in /proc/self/task while 2 threads spun": tasks}
    if tasks > 1:
        return Finding("qualified", evidence, f"one per thread: Linux keeps a task_struct per thread, and this one "
                       f"process had {tasks} of them (/proc/PID/task), each with its own TID, state and CPU time",
                       documentation="include/linux/sched.h: struct task_struct, one per task (thread)")
    return Finding("confirmed", evidence)


def observe_session() -> dict:
    return probes.fields(probes.run("session").stdout_text)


@CLAIMS.claim("sessions-hold-groups", SEED, "One or more processes form a process group; one or more process "
              "groups form a session", observe=observe_session)
def judge_session(out: dict) -> Finding:
    evidence = {"session probe": out}
    ok = (out.get("leader_sid") == out.get("leader_pid") == out.get("leader_pgrp")
          and out.get("member_sid") == out.get("leader_sid") and out.get("member_pgrp") != out.get("leader_pgrp")
          and out.get("parent_sid") != out.get("leader_sid"))
    if ok:
        evidence["so"] = (f"session {out['leader_sid']} held two process groups ({out['leader_pgrp']} and "
                          f"{out['member_pgrp']}); setsid made a new session apart from the parent's {out['parent_sid']}")
    return Finding("confirmed" if ok else "refuted", evidence)


def observe_ps() -> dict:
    if shutil.which("ps") is None:
        return {"ps": None}
    runs = {}
    for argv in (["ps", "-aux"], ["ps", "aux"], ["ps", "-a", "-u", "x"]):  # the last: -aux as POSIX reads it
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        runs[" ".join(argv)] = {"header": (r.stdout.splitlines() or [""])[0].split(), "exit": r.returncode,
                                "stderr": (r.stderr.strip().splitlines() or [""])[0]}
    try:
        pwd.getpwnam("x")
        user_x = True
    except KeyError:
        user_x = False
    kthreads = []
    if procstate.exists(2) and procstate.read_stat(2).comm == "kthreadd":  # kernel threads: kthreadd's children
        r = subprocess.run(["ps", "-o", "stat=", "--ppid", "2"], capture_output=True, text=True, timeout=10)
        kthreads = r.stdout.split()
    return {"ps": runs, "a user named x exists": user_x, "STAT of kernel threads (children of kthreadd)": kthreads}


@CLAIMS.claim("ps-aux", SEED, "`ps -aux` lists every process (the seed's listing)", observe=observe_ps)
def judge_ps_aux(seen: dict) -> Finding:
    if seen["ps"] is None:
        return unverified("ps is not installed (Debian: apt-get install procps)", seen)
    runs = seen["ps"]
    same = runs["ps -aux"]["header"] == runs["ps aux"]["header"] and runs["ps -aux"]["exit"] == 0
    evidence = {**runs, "a user named x exists": seen["a user named x exists"]}
    if not same:
        return Finding("refuted", evidence)
    posix = runs.get("ps -a -u x", {})
    refused = posix.get("exit", 0) != 0
    because = (f": read as POSIX says, `ps -a -u x`, it was refused here ({posix.get('stderr', '').splitlines()[0]})"
               if refused and posix.get("stderr") else "")
    doc = ("POSIX reads -aux as -a -u x (processes of user x); procps falls back to `ps aux` when there is no "
           "such user (ps(1))")
    if seen["a user named x exists"]:  # the BSD listing even so: the seed's listing, unconditionally here
        return Finding("confirmed", evidence, documentation=doc)
    return Finding("qualified", evidence, "procps reads `ps -aux` as the BSD-style `ps aux` (the same columns "
                   "here) only because no user named x exists" + because, documentation=doc)


@CLAIMS.claim("ps-stat-sw", SEED, "Kernel threads show STAT SW, SWN or SW< (the seed's listing)", observe=observe_ps)
def judge_stat_sw(seen: dict) -> Finding:
    stats = seen.get("STAT of kernel threads (children of kthreadd)") or []
    evidence = {"STAT of kernel threads here (how many show each)": dict(Counter(stats).most_common())}
    if seen["ps"] is None:
        return unverified("ps is not installed", evidence)
    if not stats:
        return unverified("no kernel thread is visible here (no kthreadd as PID 2: a container's PID namespace)",
                          evidence)
    with_w = [s for s in stats if "W" in s]
    if with_w:
        return Finding("confirmed", evidence)
    evidence["letters seen"] = sorted({c for s in stats for c in s})
    return Finding("refuted", evidence, documentation="ps(1): W (paging) is not valid since the 2.6 kernel; "
                   "idle kernel threads show I")
