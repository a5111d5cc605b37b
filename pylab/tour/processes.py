"""The claims of seeds/processes.md about PIDs and fork, each checked live.

Every claim is an `observe_*` that runs the experiment and returns plain data and a
`judge_*` (registered in CLAIMS with its observe) that turns that data into a Finding.
The judges hold no fixed answers: a test feeds them other observations and the verdict
follows. (exit, _exit, zombies and wait: pylab/tour/exit.py.)
"""
from __future__ import annotations

import os
import platform
import re
import sys
import threading
from collections import Counter

from pylab.observe import procstate
from pylab.run import runner, toolchain
from pylab.run.runner import run_program
from pylab.tour import memo, probes
from pylab.tour.shape import ClaimList, Finding, unverified

SEED = "processes"
ORDER_RUNS = 30  # fork_test runs per stdout target
CLAIMS = ClaimList()


def printed_pid(result: runner.RunResult) -> int:
    return int(result.stdout_text.split()[-1])


def read_pid_max() -> int:
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


# -- PIDs -------------------------------------------------------------------------------
def observe_getpid(runs: int = 3) -> dict:
    binary = toolchain.find("getpid_test").build()
    fresh = [probes.in_namespaces([binary], ("pid",)) for _ in range(2)]
    return {"pids": [printed_pid(run_program("getpid_test")) for _ in range(runs)],
            "in a new PID namespace each": [int(r["stdout"].split()[-1]) if r["ran"] else r["why"] for r in fresh]}


@CLAIMS.claim("getpid-differs", SEED, "Each run of the same program gets a different process ID",
              observe=observe_getpid)
def judge_getpid_differs(seen: dict) -> Finding:
    pids, fresh = seen["pids"], seen["in a new PID namespace each"]
    evidence = {"pids printed by successive runs of getpid_test": pids,
                "getpid_test run twice, each in its own new PID namespace, printed": fresh}
    if len(set(pids)) != len(pids):
        return Finding("refuted", evidence)
    if all(isinstance(x, int) for x in fresh) and len(set(fresh)) < len(fresh):
        return Finding("qualified", evidence, "the runs share one PID namespace: run each in a new PID "
                       f"namespace and each prints {fresh[0]}; and within one namespace a freed PID is handed "
                       "out again (see pid-unique)")
    return Finding("confirmed", evidence)


@memo.shared
def pidseq_in_a_new_namespace() -> dict:
    """The pidseq probe as init of a private PID namespace (pids-increase and pid-unique
    both judge it)."""
    return probes.in_namespaces([probes.build("pidseq")], ("pid",))


def observe_pids_increase(runs: int = 4) -> dict:
    seq = pidseq_in_a_new_namespace()
    return {"pids": [printed_pid(run_program("getpid_test")) for _ in range(runs)],
            "pid_max": read_pid_max(), "private PID namespace": probes.fields(seq["stdout"]) if seq["ran"] else seq}


@CLAIMS.claim("pids-increase", SEED, "Successive runs get successive PIDs (1980, then 1981)",
              observe=observe_pids_increase)
def judge_pids_increase(seen: dict) -> Finding:
    pids, pid_max, ns = seen["pids"], seen["pid_max"], seen["private PID namespace"]
    steps = [b - a for a, b in zip(pids, pids[1:])]
    evidence = {"pids of successive runs (each through the lab's supervisor)": pids, "steps": steps,
                "pid_max": pid_max, "pidseq probe as init of a private PID namespace": ns}
    if all(s == 1 for s in steps):
        return Finding("confirmed", evidence)
    if ns.get("ran") is False:
        return unverified(f"a quiet PID namespace to count in ({ns['why']}); on the host PIDs rose by {steps}", evidence)
    seq = [int(x) for x in ns["seq"].split(",")]
    successive = all(b - a == 1 for a, b in zip(seq, seq[1:]))
    if not successive:
        return Finding("refuted", evidence)
    cond = (f"nothing else creates a task in between: in a private PID namespace children got {ns['seq']}; "
            f"on the host each run rose by {steps}, as every task created meanwhile (at least the lab's "
            "supervisor) takes a number")
    if ns.get("thread") and int(ns["after_thread"]) == int(ns["thread"]) + 1:
        cond += f"; threads take numbers too (a thread got {ns['thread']}, the next child {ns['after_thread']})"
    if ns.get("wrapped"):
        cond += (f"; and after pid_max - 1 numbering wraps to {ns['wrapped']}, not to a low number (seen in "
                 f"the private namespace, whose pid_max is {ns['pid_max']}: it handed out {ns['top']}, then "
                 f"{ns['wrapped']}; the host's pid_max is {pid_max})")
    return Finding("qualified", evidence, cond)


def kernel_word_bits() -> dict:
    """The kernel's own word size, read from the kernel (a 32-bit userland on a 64-bit
    kernel has a 4-byte long, the kernel does not): /sys/kernel/address_bits, else the
    width of the addresses in /proc/kallsyms (printed even when hidden as zeros)."""
    try:
        with open("/sys/kernel/address_bits") as f:
            return {"bits": int(f.read()), "from": "/sys/kernel/address_bits"}
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/kallsyms") as f:
            return {"bits": 4 * len(f.readline().split()[0]), "from": "/proc/kallsyms address width"}
    except (OSError, IndexError):
        return {"bits": None, "from": "neither /sys/kernel/address_bits nor /proc/kallsyms is readable"}


def kernel_pid_ceiling(bits: int) -> int:
    """PID_MAX_LIMIT of include/linux/threads.h: 4 Mi on 64-bit kernels, 32768 on 32-bit
    (CONFIG_BASE_SMALL aside). The highest value pid_max may be set to."""
    return 4 * 1024 * 1024 if bits > 32 else 32768


def observe_pid_range() -> dict:
    return {"pid_max": read_pid_max(), "kernel": kernel_word_bits(), "machine": platform.machine(),
            "lowest": min(int(n) for n in os.listdir("/proc") if n.isdigit())}


@CLAIMS.claim("pid-range", SEED, "On i386 a PID ranges over 0-32767", observe=observe_pid_range)
def judge_pid_range(seen: dict) -> Finding:
    pid_max, bits = seen["pid_max"], seen["kernel"]["bits"]
    evidence = {"/proc/sys/kernel/pid_max": pid_max, "so PIDs run up to": pid_max - 1,
                "lowest PID in /proc": seen["lowest"], "machine (uname)": seen["machine"],
                f"kernel word size (bits, from {seen['kernel']['from']})": bits}
    if bits is None:
        return unverified("the kernel's word size (neither /sys/kernel/address_bits nor "
                          "/proc/kallsyms could be read), so its pid_max ceiling is unknown", evidence)
    ceiling = kernel_pid_ceiling(bits)
    evidence["kernel ceiling for pid_max (PID_MAX_LIMIT for this word size)"] = ceiling
    doc = "PID_MAX_LIMIT (include/linux/threads.h): 32768 on 32-bit kernels, 4194304 on 64-bit; PID 0 is the idle task"
    if bits <= 32:  # a 32-bit kernel, as the seed's i386
        if pid_max == 32768:
            return Finding("confirmed", evidence, documentation=doc)
        if pid_max < 32768:
            return Finding("qualified", evidence, "pid_max keeps its default: it is a setting "
                           f"(sysctl kernel.pid_max), here lowered to {pid_max}", documentation=doc)
        return Finding("refuted", evidence, documentation=doc)  # above the 32-bit ceiling
    if pid_max == 32768:
        return Finding("qualified", evidence, "pid_max is 32768, as here: it is a setting (sysctl kernel.pid_max), "
                       f"not the architecture's: this {bits}-bit kernel, not the seed's i386, gives PIDs the same "
                       f"range and allows pid_max up to {ceiling}", documentation=doc)
    return Finding("qualified", evidence, f"pid_max is 32768: it is a setting (sysctl kernel.pid_max), here {pid_max}, "
                   f"so PIDs run up to {pid_max - 1} on this {bits}-bit kernel, which allows up to {ceiling}",
                   documentation=doc)


def observe_pid_unique() -> dict:
    seq = pidseq_in_a_new_namespace()
    return {"pidseq": probes.fields(seq["stdout"]) if seq["ran"] else seq,
            "pid1_comm": procstate.read_stat(1).comm, "pid_max": read_pid_max()}


@CLAIMS.claim("pid-unique", SEED, "A PID identifies one process, like an ID card number: no two are the same",
              observe=observe_pid_unique)
def judge_pid_unique(seen: dict) -> Finding:
    ns = seen["pidseq"]
    evidence = {"pidseq probe in a new PID namespace": ns, "PID 1 of this namespace is": seen["pid1_comm"],
                "pid_max": seen["pid_max"]}
    if ns.get("ran") is False:
        return unverified(f"a second PID namespace: {ns['why']}", evidence)
    cond = []
    if ns.get("self") == "1":
        cond.append(f"within one PID namespace only: the probe in a new namespace is PID 1, as "
                    f"{seen['pid1_comm']!r} is here")
    if ns.get("reuse") not in (None, "unavailable") and ns["reuse"] == ns["seq"].split(",")[0]:
        cond.append(f"and among live processes only: PID {ns['reuse']} was handed to a second process once "
                    "the first had been reaped (the probe set ns_last_pid back rather than wait for the "
                    "numbers to wrap at pid_max)")
    if cond:
        return Finding("qualified", evidence, "; ".join(cond))
    return Finding("confirmed", evidence)


@memo.shared
def observe_abi() -> dict:
    return {**probes.fields(probes.run("abi").stdout_text), "machine": platform.machine(),
            "libc": " ".join(platform.libc_ver()) or "unknown"}


I386 = ("i386", "i486", "i586", "i686")
PID_T_DOC = ("POSIX <sys/types.h>: pid_t is a signed integer type, its width unspecified; printf has no "
             "conversion for pid_t, so portable code prints it as (long)pid with %ld")


@CLAIMS.claim("pid-t-is-int", SEED, "pid_t is fully compatible with int (print it with %d)", observe=observe_abi)
def judge_pid_t(abi: dict) -> Finding:
    """Fully compatible = the same type: __builtin_types_compatible_p(pid_t, int), which a
    4-byte signed long on ILP32 would fail though its size and signedness match."""
    machine = abi["machine"]
    evidence = {"probe: sizeof and signedness": {k: abi[k] for k in ("sizeof_pid_t", "sizeof_int", "pid_t_signed")},
                "probe: __builtin_types_compatible_p(pid_t, int)": abi["pid_t_is_int"],
                "probe: __builtin_types_compatible_p(pid_t, long)": abi["pid_t_is_long"],
                "probe: the type _Generic picks for a pid_t": abi["pid_t_generic"],
                "machine": machine, "C library": abi.get("libc", "unknown")}
    if abi["pid_t_is_int"] != "1":
        evidence["so"] = (f"pid_t is {abi['pid_t_generic']} here, not int"
                          + (" (the same size and signedness, yet another type)"
                             if abi["sizeof_pid_t"] == abi["sizeof_int"] and abi["pid_t_signed"] == "1" else ""))
        return Finding("refuted", evidence, documentation=PID_T_DOC)
    if machine in I386:
        return Finding("confirmed", evidence, documentation=PID_T_DOC)
    return Finding("qualified", evidence, f"the C library defines pid_t as int: this one "
                   f"({abi.get('libc', 'unknown')}) does, here on {machine}, not the seed's i386 (pid_t and int are "
                   "one type: _Generic picks int): it is the C library's choice, not i386's, and %d is right only "
                   "where it is int (what POSIX promises: see the documentation)", documentation=PID_T_DOC)


def observe_pid1() -> dict:
    with open("/proc/1/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    st = procstate.read_stat(1)
    return {"comm": st.comm, "cmdline": cmdline, "ppid": st.ppid}


@CLAIMS.claim("pid1-is-init", SEED, "PID 1 is init (the seed's ps -aux listing)", observe=observe_pid1)
def judge_pid1(seen: dict) -> Finding:
    comm, ppid = seen["comm"], seen["ppid"]
    evidence = {"/proc/1/comm": comm, "/proc/1/cmdline": seen["cmdline"], "PID 1's parent": ppid}
    if comm in ("init", "systemd"):
        return Finding("confirmed", evidence)
    return Finding("qualified", evidence, "'init' means the role, not the program: PID 1 is the process no other "
                   f"process started (its parent is {ppid}), but here it runs {comm!r}")


def observe_group_signal() -> dict:
    """The pgroup probe: one process group, a member under another uid where the machine
    allows it (as root), and which members a sender's kill(-pgrp) left SIGTERM pending in."""
    return probes.fields(probes.run("pgroup").stdout_text)


KILL_DOC = ("kill(2): a negative pid sends the signal to every process of that group the sender has "
            "permission to signal: the sender's real or effective uid must equal the target's real or saved "
            "set-user-ID, unless it has CAP_KILL; kill returns 0 when at least one signal was sent, EPERM when "
            "none could be")


@CLAIMS.claim("group-signal", SEED, "A signal sent to a process group reaches every process in it",
              observe=observe_group_signal)
def judge_group_signal(out: dict) -> Finding:
    """Reached = SIGTERM (blocked in every member) pending in it once the sender's kill has
    returned. Confirmed only when a member under another uid got it too (the observation
    that could have refuted it); qualified when that member did not, and did get the
    parent's own signal; as a normal user there is one uid only, so the condition is read
    from kill(2), and the verdict says so."""
    got = {who: out.get(f"got_{who}") for who in ("parent", "keeper", "bystander", "sender")}
    evidence = {"process group": out.get("pgrp"),
                "members (pid)": {who: out.get(who) for who in ("parent", "keeper", "bystander", "sender")},
                "uids": {"parent and keeper": out.get("parent_uid"), "bystander and sender": out.get("sender_uid"),
                         "switch to uid 65534": out.get("switch")},
                "the sender's kill(-pgrp, SIGTERM) returned": f"{out.get('sender_kill')} ({out.get('sender_errno')})",
                "SIGTERM pending afterwards (1 = it arrived)": got}
    if None in got.values() or "-1" in got.values():
        raise RuntimeError(f"the pgroup probe printed {out}")
    # the sender reaches itself and its own uid's member in any case
    if out.get("sender_kill") != "0" or got["sender"] != "1" or got["bystander"] != "1":
        return Finding("refuted", evidence)
    if out.get("switch") == "ok" and out.get("sender_uid") != out.get("parent_uid"):
        evidence["a group whose only member keeps the parent's uid: the sender's kill(-pgrp) returned"] = (
            f"{out.get('lone_kill')} ({out.get('lone_errno')})")
        evidence["then the parent's own kill(-pgrp, SIGTERM): the keeper's SIGTERM pending"] = out.get("then_keeper")
        if got["keeper"] == "1" and got["parent"] == "1":
            return Finding("confirmed", evidence, documentation=KILL_DOC)
        if got["keeper"] == "0" and out.get("then_keeper") == "1":
            none = (f"; to a group with none it may signal, kill returned {out.get('lone_kill')} "
                    f"({out.get('lone_errno')})" if out.get("lone_kill") == "-1" else "")
            return Finding("qualified", evidence, "the sender may signal every member (its real or effective uid is "
                           "the member's real or saved uid, or it has CAP_KILL): kill(-pgrp, SIGTERM) by a member switched to uid "
                           f"{out['sender_uid']} returned 0 and reached itself and the other uid-{out['sender_uid']} "
                           f"member, but not the two of uid {out['parent_uid']}; the parent's own kill then reached "
                           "the keeper; kill reports success when at least one member got the signal" + none,
                           documentation=KILL_DOC)
        return Finding("refuted", evidence)
    if not (got["keeper"] == "1" and got["parent"] == "1"):
        return Finding("refuted", evidence)  # a member of the sender's own uid missed it
    return Finding("qualified", evidence, "the sender may signal every member (its real or effective uid is "
                   "the member's real or saved uid, or it has CAP_KILL): here every member had the sender's uid "
                   f"({out.get('parent_uid')}) and each got the signal; a member under another uid could not be "
                   f"made (switching to uid 65534 gave {out.get('switch')}: that needs root), so what kill(-pgrp) "
                   "does to a member it may not signal was read in kill(2), not observed here",
                   documentation=KILL_DOC)


# -- fork -------------------------------------------------------------------------------
def parse_forkret(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        who, _, rest = line.partition(" ")
        out.update({f"{who}_{k}": v for k, v in probes.fields(rest).items()})
    return out


@memo.shared
def observe_fork_returns() -> dict:
    return {"probe": parse_forkret(probes.run("forkret").stdout_text),
            "fork_test lines": run_program("fork_test").lines}


@CLAIMS.claim("fork-returns-twice", SEED,
              "fork is called once and returns twice: the child's PID in the parent, 0 in the child",
              observe=observe_fork_returns)
def judge_fork_returns(seen: dict) -> Finding:
    probe, lines = seen["probe"], seen["fork_test lines"]
    evidence = {"probe: child": {k: probe.get(f"child_{k}") for k in ("returned", "getpid", "getppid")},
                "probe: parent": {k: probe.get(f"parent_{k}") for k in ("returned", "getpid")},
                "fork_test lines": lines}
    ok = (probe.get("child_returned") == "0"
          and probe.get("parent_returned") == probe.get("child_getpid")
          and probe.get("child_getppid") == probe.get("parent_getpid")
          and len({ln.split()[-1] for ln in lines}) == 2)
    return Finding("confirmed" if ok else "refuted", evidence)


def observe_ppid() -> dict:
    ns = probes.in_namespaces([probes.build("nsppid")], ())
    return {"fork": observe_fork_returns()["probe"], "orphan": run_program("orphan", stdin=b"\n").lines,
            "parent in the PID namespace above": probes.fields(ns["stdout"]) if ns["ran"] else ns}


PPID_DOC = ("getppid(2): if the caller's parent is in a different PID namespace, getppid() returns 0; "
            "pid_namespaces(7): the first process of a new PID namespace (its init) has its parent outside it")


@CLAIMS.claim("ppid-is-parent", SEED, "PPID is the process ID of the process's parent", observe=observe_ppid)
def judge_ppid(seen: dict) -> Finding:
    """The fork probe (a child's getppid() against its parent's getpid()), the orphan
    (after adoption getppid() follows the new parent), and the nsppid probe: the init of
    a new PID namespace, whose parent is in the namespace above."""
    probe, orphan, ns = seen["fork"], seen["orphan"], seen["parent in the PID namespace above"]
    evidence = {"fork probe: child's getppid, parent's getpid": [probe.get("child_getppid"), probe.get("parent_getpid")],
                "orphan program": orphan, "nsppid probe: a child that is PID 1 of a new PID namespace": ns}
    if probe.get("child_getppid") != probe.get("parent_getpid"):
        return Finding("refuted", evidence)
    adopted = next((ln for ln in orphan if "new parent" in ln), None)
    if adopted:
        evidence["so"] = ("after its parent exited the orphan was adopted, and getppid() gave its new parent's PID: "
                          f"still its parent's ({adopted.split(': ', 1)[-1]})")
    if ns.get("ran") is False or "child_getppid" not in ns:
        return Finding("qualified", evidence, "the parent is in the caller's PID namespace: a parent outside it "
                       "(a namespace's init has one) makes getppid() return 0; that case was not observed here (a "
                       f"new PID namespace: {ns.get('why') or ns.get('unshare') or ns.get('fork') or ns}), it is read "
                       "in getppid(2)", documentation=PPID_DOC)
    if (ns["child_getppid"] == "0" and ns.get("child_stat_ppid") == ns.get("parent_getpid")
            and ns.get("reaped") == ns.get("forked")):
        return Finding("qualified", evidence, "the parent is in the caller's PID namespace: the first process of a "
                       f"new PID namespace (getpid() {ns['child_getpid']}) got 0 from getppid(), although it had a "
                       f"parent: process {ns['parent_getpid']}, in the namespace above, forked it (/proc there showed "
                       f"its PPID as {ns['child_stat_ppid']}) and reaped it", documentation=PPID_DOC)
    if ns["child_getppid"] == ns.get("parent_getpid"):
        return Finding("confirmed", evidence)  # even across namespaces the parent's own PID came back
    return Finding("refuted", evidence)


_NPROC_PROBE = threading.Lock()  # the tour's threads run fork-eagain and zombies-block-fork side by side


def observe_fork_limit(mode: str, headroom: int = 6, attempts: int = 3) -> dict:
    """Run the forklimit probe under RLIMIT_NPROC = (tasks the uid has now) + headroom.
    Root ignores that limit, so as root the probe runs as nobody (65534). Other processes
    of that uid may start between the count and the run, and push it over the limit
    before the probe even starts (execve fails) or before its first fork: then count again,
    a bounded few times."""
    uid = 65534 if os.geteuid() == 0 else os.getuid()
    ids = {"uid": uid, "gid": uid} if os.geteuid() == 0 else {}
    # one at a time: two probes of one uid running at once would fill each other's limit
    with _NPROC_PROBE, probes.readable_copy(probes.build("forklimit")) as binary:
        for _ in range(attempts):
            before = procstate.nproc_count(uid)
            r = runner.run([binary, mode], limits={"nproc": before + headroom}, **ids)
            out = probes.fields(r.stdout_text)
            if "errno" in out and out.get("made") != "0":
                break  # (made 0: the uid's other tasks filled the limit first; count again)
    if "errno" not in out:
        raise RuntimeError(f"the forklimit probe printed nothing in {attempts} tries: {r.describe()}")
    return {"uid": uid, "tasks of that uid before": before, "nproc limit": before + headroom,
            **out, "status": r.describe()}


@CLAIMS.claim("fork-eagain", SEED, "fork fails with errno EAGAIN when the process-count limit is reached",
              observe=lambda: observe_fork_limit("live"))
def judge_fork_eagain(out: dict) -> Finding:
    err = out.get("errno")
    if err == "EAGAIN":
        if {"made", "nproc limit", "tasks of that uid before"} <= out.keys():
            made, limit, before = int(out["made"]), out["nproc limit"], out["tasks of that uid before"]
            others = limit - 1 - made  # the failed fork would have taken the uid past the limit
            out = {**out, "so": f"fork failed when the uid's tasks filled RLIMIT_NPROC ({limit}): {made} children, "
                   f"the probe and {others} other tasks of uid {out.get('uid')}"
                   + ("" if others == before else f" ({before} were counted before the run: the uid's other tasks "
                      "changed meanwhile)")}
        return Finding("confirmed", out)
    if err == "none":
        return unverified("an enforced process limit: this uid forked past RLIMIT_NPROC "
                          "(root and CAP_SYS_RESOURCE ignore it)", out)
    return Finding("refuted", out)


def mem_available_kb() -> int | None:
    with open("/proc/meminfo") as f:
        return next((int(ln.split()[1]) for ln in f if ln.startswith("MemAvailable:")), None)


def observe_fork_enomem() -> dict:
    """Fork into a PID namespace whose init has exited (the nsfork probe), and how much
    memory the machine had free meanwhile."""
    r = probes.in_namespaces([probes.build("nsfork")], ())
    return {"nsfork": probes.fields(r["stdout"]) if r["ran"] else r, "MemAvailable kB": mem_available_kb()}


def _enomem_evidence(seen: dict) -> dict:
    return {"fork into a PID namespace whose init has exited (nsfork probe)": seen["nsfork"],
            "MemAvailable meanwhile (kB)": seen["MemAvailable kB"]}


@CLAIMS.claim("fork-enomem", SEED, "fork fails with errno ENOMEM when the system is out of memory",
              observe=observe_fork_enomem)
def judge_fork_enomem(seen: dict) -> Finding:
    """The claim is what fork does when memory runs out, which the lab does not do to the
    machine: unverified whatever the dead PID namespace's fork gave. That fork's ENOMEM,
    with memory to spare, is its evidence: ENOMEM has another cause (fork-errors-rare
    judges what that says of 'near collapse')."""
    out, evidence = seen["nsfork"], _enomem_evidence(seen)
    doc = ("fork(2): ENOMEM when the kernel cannot allocate what it needs, or when forking into a PID namespace "
           "whose init has terminated")
    if out.get("ran") is False or "second" not in out:
        return unverified("the machine out of memory (not tried: it would endanger the machine), and a PID namespace "
                          f"to fork into instead ({out.get('why') or out})", evidence)
    if out["second"] == "ENOMEM":
        evidence["so"] = (f"fork failed with ENOMEM while {seen['MemAvailable kB']} kB were available, because the "
                          "PID namespace it forked into had lost its init: ENOMEM does not only mean out of memory")
        return Finding("unverified", evidence, missing="the machine out of memory: running it out was not tried (it "
                       "would endanger the machine), so what fork does then was not seen", documentation=doc)
    return unverified("the machine out of memory (not tried), and the fork into a PID namespace whose init had "
                      f"exited gave {out['second']}, not ENOMEM", evidence)


@CLAIMS.claim("fork-errors-rare", SEED, "fork errors are rare and mostly EAGAIN; ENOMEM means the system is "
              "near collapse", observe=observe_fork_enomem)
def judge_fork_errors_rare(seen: dict) -> Finding:
    out, evidence = seen["nsfork"], _enomem_evidence(seen)
    if out.get("ran") is False or "second" not in out:
        return unverified(f"a PID namespace to fork into ({out.get('why') or out})", evidence)
    evidence["not observable here"] = ("how often fork fails, and with which errno, across the world's "
                                       "programs: one machine shows only what errors are possible")
    if out["second"] != "ENOMEM":
        return unverified(f"an ENOMEM to judge 'near collapse' by: the fork into a dead PID namespace gave "
                          f"{out['second']}", evidence)
    if (seen["MemAvailable kB"] or 0) <= 64 * 1024:
        return unverified("a machine with memory to spare: memory was short meanwhile "
                          f"({seen['MemAvailable kB']} kB available), so the namespace's ENOMEM cannot be "
                          "told apart from a real shortage", evidence)
    evidence["so"] = ("ENOMEM came from a dead PID namespace on a machine with memory to spare: ENOMEM does "
                      "not mean the system is near collapse")
    return Finding("refuted", evidence)


@CLAIMS.claim("fork-returns-minus-one", SEED, "fork returns a negative value on error",
              observe=observe_fork_enomem)
def judge_fork_minus_one(seen: dict) -> Finding:
    """A fork that failed (into a dead PID namespace): what it returned. -1 is negative:
    confirmed, with the exact value and errno in the evidence; a fork that did not fail
    shows nothing about errors (unverified)."""
    out, evidence = seen["nsfork"], _enomem_evidence(seen)
    if out.get("ran") is False or "ret" not in out:
        return unverified(f"a failing fork ({out.get('why') or out})", evidence)
    if out.get("second") == "ok":
        return unverified("a failing fork: the fork into a PID namespace whose init had exited succeeded", evidence)
    ret = int(out["ret"])
    doc = "POSIX fork(): returns -1 to the parent on failure, no child is created, and errno is set"
    if ret < 0:
        evidence["so"] = (f"the failing fork returned {ret}" + (", exactly -1," if ret == -1 else "")
                          + f" and set errno ({out['second']})")
        return Finding("confirmed", evidence, documentation=doc)
    return Finding("refuted", evidence, documentation=doc)


def observe_fork_order(runs: int = ORDER_RUNS) -> dict[str, dict[str, int]]:
    """Which process printed first, over `runs` runs of fork_test per stdout target."""
    seen = {}
    for mode in ("tty", "pipe"):
        firsts = Counter()
        for _ in range(runs):
            lines = run_program("fork_test", mode=mode).lines
            firsts[lines[0].split()[3] if lines else "nothing"] += 1
        seen[mode] = dict(firsts)
    return seen


@CLAIMS.claim("fork-test-order", SEED, "fork_test prints the parent's line, then the child's",
              observe=observe_fork_order, alone=True)
def judge_fork_order(seen: dict[str, dict[str, int]]) -> Finding:
    """The seed shows one run's output, parent first. A sample can show that order happens
    here, or that it does not; it cannot show that the order is fixed, which fork(2) does
    not promise: so however many runs were parent-first, the seed's order holds only when
    the scheduler happens to run the parent first (qualified). Refuted when no run was
    parent-first; unverified when no run printed a line. The verdict does not turn on how
    many runs of each order this sample happened to hold: they are the evidence."""
    total = Counter()
    for c in seen.values():
        total.update(c)
    runs = sum(total.values())
    evidence = {f"first line came from (stdout = {m}, {sum(c.values())} runs)": dict(c)
                for m, c in seen.items()}
    doc = "fork(2) promises no order between parent and child"
    printed = total["parent"] + total["child"]
    if not printed:
        return unverified(f"which process prints first: fork_test printed no line in any of its {runs} runs",
                          evidence)
    if not total["parent"]:
        evidence["so"] = (f"the child's line came first in all {printed} runs that printed: the seed's order "
                          "was never seen here")
        return Finding("refuted", evidence, documentation=doc)
    seen_here = (f"both orders were seen: parent-first in {total['parent']} of {printed} runs, child-first in "
                 f"{total['child']}" if total["child"] else
                 f"parent-first in all {printed} runs here, which shows the order is common, not that it is fixed")
    return Finding("qualified", evidence, "the scheduler happens to run the parent first (nothing in fork_test "
                   f"orders the two processes): {seen_here}", documentation=doc)


CREATORS = ("fork", "vfork", "clone", "clone3")
_FLAGS = re.compile(r"flags=([A-Z_0-9|]+)")


def creations(lines: list[str]) -> list[dict]:
    """The process-creating calls of strace lines, each with its clone flags and what they make."""
    out = []
    for line in lines:
        m = probes.CALL.match(line)
        if not m or m.group(2) not in CREATORS or "resumed>" in line:
            continue
        call = m.group(2)
        flags = (_FLAGS.search(line).group(1).split("|") if _FLAGS.search(line) else [])
        if call == "fork" or (call in ("clone", "clone3") and "CLONE_VM" not in flags):
            kind = "a fork (a copy of the memory, no CLONE_VM)" if call != "fork" else "a fork"
        elif call == "vfork" or "CLONE_VFORK" in flags:
            kind = "a vfork (shares the parent's memory, the parent waits: CLONE_VM|CLONE_VFORK)"
        else:
            kind = "a thread or other clone sharing memory (CLONE_VM)"
        out.append({"call": call, "flags": flags, "is": kind})
    return out


def observe_fork_only_way() -> dict:
    traces = {"fork_test (calls fork())": probes.strace([toolchain.find("fork_test").build()]),
              'system("/bin/true; /bin/true") and its sh': probes.strace([probes.build("system")])}
    return {what: {"available": t.available, "why": t.why, "creations": creations(t.lines)}
            for what, t in traces.items()}


@CLAIMS.claim("fork-only-way", SEED,
              "fork is the only way to create a process; system() and the shell call fork inside",
              observe=observe_fork_only_way)
def judge_fork_only_way(seen: dict) -> Finding:
    missing = {what: t["why"] for what, t in seen.items() if not t["available"]}
    if missing:
        return unverified("strace: the system calls that create processes could not be observed ("
                          + "; ".join(missing.values()) + ")", {"strace": missing})
    evidence = {f"process-creating system calls of {what} (strace -f)":
                [f"{c['call']}({'|'.join(c['flags'])}): {c['is']}" for c in t["creations"]]
                for what, t in seen.items()}
    made = [c for t in seen.values() for c in t["creations"]]
    if not made:
        return unverified("strace saw no process-creating call at all", evidence)
    others = sorted({c["is"] for c in made if not c["is"].startswith("a fork")})
    if not others:
        evidence["note"] = "glibc's fork() is the clone system call with SIGCHLD and no CLONE_VM: a fork"
        return Finding("confirmed", evidence)
    evidence["note"] = ("glibc's fork() is clone(...SIGCHLD): that is a fork; but processes were also "
                        f"created as {'; '.join(others)}, which is not a fork")
    return Finding("refuted", evidence)


SEED_NUMBERS = {"getpid": 20, "fork": 2, "exit": 1}  # the seed's, for Linux 2.4.4 on i386
I386_HEADERS = ("/usr/include/x86_64-linux-gnu/asm/unistd_32.h", "/usr/include/asm/unistd_32.h",
                "/usr/include/i386-linux-gnu/asm/unistd_32.h")


def read_i386_numbers(paths=I386_HEADERS) -> dict:
    """The i386 system-call numbers of SEED_NUMBERS' calls from the first unistd_32.h
    found (the kernel headers ship it on every architecture that runs i386 programs):
    documentation, read, not observed."""
    for path in paths:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        found = dict(re.findall(r"#define\s+__NR_(\w+)\s+(\d+)", text))
        return {"header": path, **{n: int(found[n]) for n in SEED_NUMBERS if n in found}}
    return {"header": None, "why": f"no i386 table here: none of {', '.join(paths)} exists"}


# The i386 system-call gate, tried from a throwaway x86-64 Python process: a few bytes of
# machine code in an executable page load eax with the seed's number and execute int $0x80,
# which a 64-bit kernel with IA32 emulation serves from its i386 table. eax=20 returns;
# eax=2 forks, and the child runs only "eax=1, ebx=7, int $0x80" (the i386 exit) and ends
# at once, reaped by the parent; eax=1 with ebx=42 ends the process with status 42, never
# returning. Refused emulation kills the process (SIGSEGV), nothing else.
I386_GATE = r"""
import ctypes, mmap, os, sys
CODE = {"getpid": bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]),
        "fork": bytes([0xb8, 2, 0, 0, 0, 0xcd, 0x80, 0x85, 0xc0, 0x75, 0x0c,
                       0xb8, 1, 0, 0, 0, 0xbb, 7, 0, 0, 0, 0xcd, 0x80, 0xc3]),
        "exit": bytes([0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80, 0xc3])}
mode = sys.argv[1]
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(CODE[mode])
call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
if mode == "getpid":
    print(f"returned={call()} getpid={os.getpid()}", flush=True)
elif mode == "fork":
    child = call()
    if child > 0:
        pid, status = os.waitpid(child, 0)
        print(f"returned={child} reaped={pid} child_exit={os.waitstatus_to_exitcode(status)}", flush=True)
    else:
        print(f"returned={child}", flush=True)
else:
    print("calling=1", flush=True)
    call()
    print("returned=1", flush=True)
"""


def observe_i386_gate() -> dict:
    """The seed's three numbers through int $0x80 (x86 only), each in its own process."""
    machine = platform.machine()
    if machine != "x86_64":
        return {"available": False, "why": f"int $0x80 is the i386 gate of x86-64 kernels; this is {machine}"}
    out = {"available": True}
    for call in SEED_NUMBERS:
        r = runner.run([sys.executable, "-I", "-c", I386_GATE, call], timeout=30)
        out[call] = {**probes.fields(r.stdout_text), "exit_code": r.exit_code, "status": r.describe()}
    return out


def i386_gate_numbers(gate: dict) -> dict:
    """What each of the seed's numbers did through the i386 gate, in words, and whether it
    was the seed's call ({call: (did it, what was seen)}); {} when the gate was not tried."""
    if not gate.get("available"):
        return {}
    g, f, e = gate["getpid"], gate["fork"], gate["exit"]
    return {
        "getpid": (g.get("returned") is not None and g.get("returned") == g.get("getpid"),
                   f"eax=20: returned {g.get('returned')}, the process's PID {g.get('getpid')} ({g['status']})"
                   if "returned" in g else f"eax=20: {g['status']}"),
        "fork": (int(f.get("returned", 0)) > 0 and f.get("reaped") == f.get("returned") and f.get("child_exit") == "7",
                 f"eax=2: returned {f.get('returned')} in the parent; that child ran the i386 exit with 7 and "
                 f"was reaped with status {f.get('child_exit')}" if "reaped" in f else f"eax=2: {f['status']}"),
        "exit": (e["exit_code"] == 42 and "returned" not in e,
                 f"eax=1, ebx=42: the process ended with status {e['exit_code']}"
                 + (", the call never returned" if "returned" not in e else ", yet the call returned")
                 if e["exit_code"] is not None else f"eax=1: {e['status']}"),
    }


def gate_refused(gate: dict) -> str | None:
    """Why the i386 gate could not be used at all (every call killed by a signal, as
    without IA32 emulation), or None."""
    if not gate.get("available"):
        return gate.get("why", "not tried")
    runs = [gate[n] for n in SEED_NUMBERS]
    if all(r["exit_code"] is None and "returned" not in r for r in runs):
        return "every call was killed: " + "; ".join(r["status"] for r in runs)
    return None


def _shown(numbers: dict) -> str:
    return "/".join(str(numbers.get(n)) for n in ("exit", "fork", "getpid"))


def observe_syscall_numbers() -> dict:
    trace = probes.strace([toolchain.find("fork_test").build()], trace="process,getpid")
    return {"abi": observe_abi(), "i386": read_i386_numbers(), "machine": platform.machine(),
            "gate": observe_i386_gate(), "traced": trace.numbers if trace.available else {"strace": trace.why}}


@CLAIMS.claim("syscall-numbers", SEED, "getpid is system call 20, fork 2, exit 1 (Linux 2.4.4, i386)",
              observe=observe_syscall_numbers)
def judge_syscall_numbers(seen: dict) -> Finding:
    """The i386 numbers observed through the i386 gate (int $0x80) where the kernel serves
    it; else only the installed headers' table, which is documentation."""
    abi, i386, machine = seen["abi"], seen["i386"], seen["machine"]
    here = {name: int(abi[name]) for name in SEED_NUMBERS}
    table = {n: i386[n] for n in SEED_NUMBERS if n in i386}
    gate = seen.get("gate", {"available": False, "why": "not tried"})
    refused = gate_refused(gate)
    did = {} if refused else i386_gate_numbers(gate)
    evidence = {"seed (Linux 2.4.4, i386)": SEED_NUMBERS,
                f"<sys/syscall.h> here ({machine})": here,
                "numbers strace saw fork_test use": seen["traced"]}
    if did:
        evidence["the seed's numbers through the i386 gate (int $0x80 from an x86-64 process)"] = {
            n: words for n, (_, words) in did.items()}
    else:
        evidence["the i386 gate (int $0x80)"] = f"could not be used: {refused}"
    doc = (f"{i386['header']} (the installed kernel headers' i386 table): exit/fork/getpid = {_shown(table)}"
           if i386.get("header") else None)
    if here == SEED_NUMBERS:  # this machine uses the i386 numbers itself
        return Finding("confirmed", evidence, documentation=doc)
    traced = seen["traced"].get("getpid")
    x86 = (f"this {machine} machine's own numbers are {_shown(here)} (<sys/syscall.h>"
           + (f"; strace saw fork_test's getpid as {traced}" if traced is not None else "") + ")")
    if did and all(ok for ok, _ in did.values()):
        return Finding("qualified", evidence, "numbers are per architecture: through the i386 gate (int $0x80, "
                       f"served by this kernel's IA32 emulation) exit/fork/getpid are still {_shown(SEED_NUMBERS)}; "
                       + x86, documentation=doc)
    if did:  # the gate answered, and a number did something else
        return Finding("refuted", evidence, documentation=doc)
    if i386.get("header") is None:
        return unverified("the i386 numbers: the i386 gate (int $0x80) could not be used here and the i386 table "
                          f"(unistd_32.h) is not on this machine; {x86}", evidence)
    if table == SEED_NUMBERS:
        return Finding("qualified", evidence, f"numbers are per architecture: {x86}; the i386 numbers were not "
                       "observed here (the i386 gate could not be used), only read", documentation=doc)
    return Finding("refuted", evidence, documentation=doc)
