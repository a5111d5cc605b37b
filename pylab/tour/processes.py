"""The claims of seeds/processes.md about PIDs and fork, each checked live.

Every claim is two small functions: an `observe_*` that runs the experiment and returns
plain data, and a `judge_*` that turns that data into a Finding. The judges hold no
fixed answers, so a test can feed them other observations and see the verdict follow.
(exit, _exit, zombies and wait: pylab/claims_exit.py.)
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import signal
from collections import Counter

from pylab.tour import probes

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.tour.registry import Finding, claim
from pylab.run.runner import run_program

SEED = "processes"
ORDER_RUNS = 30  # fork_test runs per stdout target


def _printed_pid(result: runner.RunResult) -> int:
    return int(result.stdout_text.split()[-1])


# -- PIDs -------------------------------------------------------------------------------
def judge_getpid_differs(pids: list[int]) -> Finding:
    verdict = "confirmed" if len(set(pids)) == len(pids) else "refuted"
    return Finding(verdict, {"pids printed by successive runs of getpid_test": pids})


@claim("getpid-differs", SEED, "Each run of the same program gets a different process ID")
def getpid_differs() -> Finding:
    return judge_getpid_differs([_printed_pid(run_program("getpid_test")) for _ in range(3)])


def read_pid_max() -> int:
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


def judge_pids_increase(pids: list[int], pid_max: int) -> Finding:
    steps = [b - a for a, b in zip(pids, pids[1:])]
    evidence = {"pids of successive runs": pids, "steps": steps, "pid_max": pid_max}
    if all(s == 1 for s in steps):
        return Finding("confirmed", evidence)
    if all(s > 0 for s in steps):
        return Finding("qualified", evidence, "nothing else creates a process in between: here "
                       f"PIDs rose by {steps}, as every process created meanwhile (at least the "
                       f"runner's supervisor) takes a number; after {pid_max - 1} they wrap around")
    return Finding("qualified", evidence, f"PIDs do not wrap around: here they did, after pid_max - 1 "
                   f"= {pid_max - 1} the kernel starts again from low numbers, reusing free PIDs")


@claim("pids-increase", SEED, "Successive runs get successive PIDs (1980, then 1981)")
def pids_increase() -> Finding:
    return judge_pids_increase([_printed_pid(run_program("getpid_test")) for _ in range(4)],
                               read_pid_max())


def kernel_pid_ceiling(sizeof_long: int) -> int:
    """PID_MAX_LIMIT of include/linux/threads.h: 4 Mi on 64-bit kernels, 32768 on 32-bit
    (CONFIG_BASE_SMALL aside). The highest value pid_max may be set to."""
    return 4 * 1024 * 1024 if sizeof_long > 4 else 32768


def judge_pid_range(pid_max: int, sizeof_long: int, lowest_pid: int, machine: str) -> Finding:
    ceiling = kernel_pid_ceiling(sizeof_long)
    evidence = {"/proc/sys/kernel/pid_max": pid_max, "so PIDs run up to": pid_max - 1,
                "lowest PID in /proc": lowest_pid, "machine": machine,
                "sizeof(long)": sizeof_long,
                "kernel ceiling for pid_max (PID_MAX_LIMIT for this word size)": ceiling}
    if sizeof_long <= 4:  # a 32-bit kernel, as the seed's i386
        if pid_max == 32768:
            return Finding("confirmed", evidence)
        if pid_max < 32768:
            return Finding("qualified", evidence, "pid_max keeps its default: it is a setting "
                           f"(sysctl kernel.pid_max), here lowered to {pid_max}")
        return Finding("refuted", evidence)  # above the 32-bit ceiling the seed describes
    return Finding("qualified", evidence, "the kernel is 32-bit (the seed's i386) and pid_max "
                   "is left at its default: 32768 is the default and the ceiling on 32-bit "
                   "kernels; pid_max is configurable (sysctl kernel.pid_max), here "
                   f"{pid_max}, and 64-bit kernels such as this one allow up to {ceiling}; "
                   "PID 0 is the kernel's idle task, never a process you can see")


@claim("pid-range", SEED, "On i386 a PID ranges over 0-32767")
def pid_range() -> Finding:
    abi = probes.fields(probes.run("abi").stdout_text)
    lowest = min(int(n) for n in os.listdir("/proc") if n.isdigit())
    return judge_pid_range(read_pid_max(), int(abi["sizeof_long"]), lowest, platform.machine())


def observe_pid_in_new_namespace() -> dict:
    """getpid_test in a new PID namespace (unshare; as non-root in a user namespace too)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return {"error": "unshare is not installed (util-linux)"}
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    binary = toolchain.find("getpid_test").build()
    r = runner.run([unshare, *user, "--pid", "--fork", binary])
    if r.exit_code != 0 or not r.stdout_text.strip():
        return {"error": f"unshare failed ({r.describe()}): {r.stderr_text.strip()[-200:]}"}
    return {"pid printed inside": _printed_pid(r), "unshare ran as pid": r.pid}


def judge_pid_unique(inside: dict, pid1_comm: str, pid_max: int) -> Finding:
    evidence = {"new PID namespace": inside, "PID 1 of this namespace is": pid1_comm,
                "pid_max": pid_max}
    reuse = f"unique among live processes only: PIDs are reused after wrapping at {pid_max}"
    if inside.get("pid printed inside") == 1:
        return Finding("qualified", evidence, reuse + "; and within one PID namespace only: "
                       f"getpid_test in a new namespace printed 1, the PID of {pid1_comm!r} here")
    return Finding("qualified", evidence, reuse)


@claim("pid-unique", SEED, "A PID identifies one process, like an ID card number: no two are the same")
def pid_unique() -> Finding:
    return judge_pid_unique(observe_pid_in_new_namespace(), procstate.read_stat(1).comm,
                            read_pid_max())


def judge_pid_t(abi: dict) -> Finding:
    evidence = {"probe output (sizeof, signedness)": {k: abi[k] for k in
                ("sizeof_pid_t", "sizeof_int", "pid_t_signed")}, "machine": platform.machine()}
    same = abi["sizeof_pid_t"] == abi["sizeof_int"] and abi["pid_t_signed"] == "1"
    return Finding("confirmed" if same else "refuted", evidence)


@claim("pid-t-is-int", SEED, "pid_t is fully compatible with int (print it with %d)")
def pid_t_is_int() -> Finding:
    return judge_pid_t(probes.fields(probes.run("abi").stdout_text))


def judge_pid1(comm: str, cmdline: str, ppid: int) -> Finding:
    evidence = {"/proc/1/comm": comm, "/proc/1/cmdline": cmdline[:120], "PID 1's parent": ppid}
    if comm in ("init", "systemd"):
        return Finding("confirmed", evidence)
    return Finding("qualified", evidence, "'init' means the role, not the program: PID 1 is the first "
                   f"process the kernel starts (its parent is {ppid}), but here it runs {comm!r}")


@claim("pid1-is-init", SEED, "PID 1 is init (the seed's ps -aux listing)")
def pid1_is_init() -> Finding:
    with open("/proc/1/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    st = procstate.read_stat(1)
    return judge_pid1(st.comm, cmdline, st.ppid)


def judge_group_signal(out: dict) -> Finding:
    evidence = {"probe": out}
    ok = out.get("parent_got") == "SIGTERM" and out.get("child_signal") == str(int(signal.SIGTERM))
    return Finding("confirmed" if ok else "refuted", evidence)


@claim("group-signal", SEED, "A signal sent to a process group reaches every process in it")
def group_signal() -> Finding:
    with runner.start([probes.build("pgroup")]) as p:
        ready = p.expect(r"ready .*\n").group(0).decode()
        p.kill(signal.SIGTERM)  # kill(-pgrp, SIGTERM)
        r = p.wait(10)
    return judge_group_signal({**probes.fields(ready), **probes.fields(r.stdout_text),
                               "signal sent to pgrp": "SIGTERM"})


# -- fork -------------------------------------------------------------------------------
def judge_fork_returns(probe: dict, fork_test_lines: list[str]) -> Finding:
    evidence = {"probe: child": {k: probe.get(f"child_{k}") for k in ("returned", "getpid", "getppid")},
                "probe: parent": {k: probe.get(f"parent_{k}") for k in ("returned", "getpid")},
                "fork_test lines": fork_test_lines}
    ok = (probe.get("child_returned") == "0"
          and probe.get("parent_returned") == probe.get("child_getpid")
          and probe.get("child_getppid") == probe.get("parent_getpid")
          and len({ln.split()[-1] for ln in fork_test_lines}) == 2)
    return Finding("confirmed" if ok else "refuted", evidence)


def parse_forkret(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        who, _, rest = line.partition(" ")
        out.update({f"{who}_{k}": v for k, v in probes.fields(rest).items()})
    return out


@claim("fork-returns-twice", SEED,
       "fork is called once and returns twice: the child's PID in the parent, 0 in the child")
def fork_returns_twice() -> Finding:
    return judge_fork_returns(parse_forkret(probes.run("forkret").stdout_text),
                              run_program("fork_test").lines)


def count_tasks(uid: int) -> int:
    """Tasks (threads count: RLIMIT_NPROC counts them) whose real uid is `uid`."""
    n = 0
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/status") as f:
                st = dict(ln.split(":", 1) for ln in f if ":" in ln)
            if int(st["Uid"].split()[0]) == uid:
                n += int(st["Threads"])
        except (OSError, KeyError, ValueError):
            pass
    return n


def observe_fork_limit(mode: str, headroom: int = 6, attempts: int = 3) -> dict:
    """Run the forklimit probe under RLIMIT_NPROC = (tasks the uid has now) + headroom.
    Root ignores that limit, so as root the probe runs as nobody (65534). Other processes
    of that uid may start between the count and the run, and push it over the limit
    before the probe even starts (execve fails): then count again, a bounded few times."""
    uid = 65534 if os.geteuid() == 0 else os.getuid()
    ids = {"uid": uid, "gid": uid} if os.geteuid() == 0 else {}
    with probes.readable_copy(probes.build("forklimit")) as binary:
        for _ in range(attempts):
            before = count_tasks(uid)
            r = runner.run([binary, mode], limits={"nproc": before + headroom}, **ids)
            out = probes.fields(r.stdout_text)
            if "errno" in out:
                break
    if "errno" not in out:
        raise RuntimeError(f"the forklimit probe printed nothing in {attempts} tries: {r.describe()}")
    return {"uid": uid, "tasks of that uid before": before, "nproc limit": before + headroom,
            **out, "status": r.describe()}


def judge_fork_eagain(out: dict) -> Finding:
    err = out.get("errno")
    if err == "EAGAIN":
        return Finding("confirmed", out)
    if err == "none":
        return Finding("qualified", out, "the limit is enforced; here it was not: this "
                       "uid forked past RLIMIT_NPROC (root and CAP_SYS_RESOURCE ignore it)")
    return Finding("refuted", out)


@claim("fork-eagain", SEED, "fork fails with errno EAGAIN when the process-count limit is reached")
def fork_eagain() -> Finding:
    return judge_fork_eagain(observe_fork_limit("live"))


def read_overcommit() -> int:
    with open("/proc/sys/vm/overcommit_memory") as f:
        return int(f.read())


def judge_fork_enomem(out: dict, overcommit: int) -> Finding:
    evidence = {"probe under RLIMIT_AS = its own size + 16 MiB": out,
                "/proc/sys/vm/overcommit_memory": overcommit}
    if out.get("fork") == "ENOMEM":
        return Finding("confirmed", evidence)
    if out.get("fork") == "ok":
        malloc = out.get("malloc64M")
        grew = (f"so the probe's 64 MiB malloc failed with {malloc}" if malloc != "ok"
                else "yet the probe's 64 MiB malloc succeeded")
        return Finding("qualified", evidence, "the kernel cannot allocate or commit the "
                       "memory for the new process (for example under strict overcommit, "
                       f"vm.overcommit_memory = 2; here it is {overcommit}, and the lab never "
                       "changes it): RLIMIT_AS limits how far a process may grow its address "
                       f"space with mmap/brk ({grew}); fork grows no address space, the "
                       "child's is the same size as the parent's, so that limit does not stop fork")
    return Finding("refuted", evidence)


@claim("fork-enomem", SEED, "fork fails with errno ENOMEM when the system is out of memory")
def fork_enomem() -> Finding:
    return judge_fork_enomem(probes.fields(probes.run("memfork").stdout_text), read_overcommit())


def observe_fork_order(runs: int = ORDER_RUNS) -> dict[str, Counter]:
    """Which process printed first, over `runs` runs of fork_test per stdout target."""
    seen = {}
    for mode in ("tty", "pipe"):
        firsts = Counter()
        for _ in range(runs):
            lines = run_program("fork_test", mode=mode).lines
            firsts[lines[0].split()[3] if lines else "nothing"] += 1
        seen[mode] = firsts
    return seen


def judge_fork_order(seen: dict[str, Counter]) -> Finding:
    """Nothing orders the parent's line before the child's, so whatever the sample shows
    the verdict is qualified; the counts say what this machine did."""
    total = Counter()
    for c in seen.values():
        total.update(c)
    runs = sum(total.values())
    evidence = {f"first line came from (stdout = {m}, {sum(c.values())} runs)": dict(c)
                for m, c in seen.items()}
    evidence["note"] = "fork(2) promises no order between parent and child"
    return Finding("qualified", evidence, "the order is the scheduler's; it was parent-first "
                   f"in {total['parent']} of {runs} runs here (child-first in {total['child']})")


@claim("fork-test-order", SEED, "fork_test prints the parent's line, then the child's")
def fork_test_order() -> Finding:
    return judge_fork_order(observe_fork_order())


CREATORS = ("fork", "vfork", "clone", "clone3")


def judge_fork_only_way(traces: dict[str, probes.Trace]) -> Finding:
    missing = {what: t.why for what, t in traces.items() if not t.available}
    if missing:
        return Finding("qualified", {"strace": missing}, "strace not available: the system calls "
                       "that create processes could not be observed")
    used = {what: [c for c in t.calls if c in CREATORS] for what, t in traces.items()}
    evidence = {f"process-creating system calls of {what}": calls for what, calls in used.items()}
    kinds = {c for calls in used.values() for c in calls}
    if kinds == {"fork"}:
        return Finding("confirmed", evidence)
    evidence["note"] = ("the fork() library function and system() exist, but the kernel was asked "
                        f"for {', '.join(sorted(kinds))}")
    return Finding("refuted", evidence)


@claim("fork-only-way", SEED,
       "fork is the only way to create a process; system() and the shell call fork inside")
def fork_only_way() -> Finding:
    return judge_fork_only_way({
        "fork_test (calls fork())": probes.strace([toolchain.find("fork_test").build()]),
        'system("/bin/true; /bin/true") and its sh': probes.strace([probes.build("system")]),
    })


SEED_NUMBERS = {"getpid": 20, "fork": 2, "exit": 1}  # the seed's, for Linux 2.4.4 on i386
I386_HEADERS = ("/usr/include/x86_64-linux-gnu/asm/unistd_32.h", "/usr/include/asm/unistd_32.h",
                "/usr/include/i386-linux-gnu/asm/unistd_32.h")


def read_i386_numbers(paths=I386_HEADERS) -> dict:
    """The i386 system-call numbers of SEED_NUMBERS' calls from the first unistd_32.h
    found (the kernel headers ship it on every architecture that runs i386 programs)."""
    for path in paths:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        found = dict(re.findall(r"#define\s+__NR_(\w+)\s+(\d+)", text))
        return {"header": path, **{n: int(found[n]) for n in SEED_NUMBERS if n in found}}
    return {"header": None, "why": f"no i386 table here: none of {', '.join(paths)} exists"}


def _shown(numbers: dict) -> str:
    return "/".join(str(numbers.get(n)) for n in ("exit", "fork", "getpid"))


def judge_syscall_numbers(abi: dict, i386: dict, traced: dict[str, int], machine: str) -> Finding:
    here = {name: int(abi[name]) for name in SEED_NUMBERS}
    table = {n: i386[n] for n in SEED_NUMBERS if n in i386}
    evidence = {"seed (Linux 2.4.4, i386)": SEED_NUMBERS,
                "i386 table": i386 if i386.get("header") is None else {"from": i386["header"], **table},
                f"<sys/syscall.h> here ({machine})": here,
                "numbers strace saw fork_test use": traced}
    if here == SEED_NUMBERS:  # this machine uses the i386 numbers itself
        return Finding("confirmed", evidence)
    if i386.get("header") is None:
        return Finding("qualified", evidence, "the numbers are per architecture: the i386 table "
                       "is not on this machine, so the seed's exit/fork/getpid = 1/2/20 could not "
                       f"be seen; this machine's {machine} kernel uses {_shown(here)}")
    if table == SEED_NUMBERS:
        return Finding("qualified", evidence, "numbers are per architecture: on i386 they are "
                       f"still {_shown(table)} (exit/fork/getpid); this machine's {machine} "
                       f"kernel uses {_shown(here)}")
    return Finding("refuted", evidence)


@claim("syscall-numbers", SEED, "getpid is system call 20, fork 2, exit 1 (Linux 2.4.4, i386)")
def syscall_numbers() -> Finding:
    trace = probes.strace([toolchain.find("fork_test").build()], trace="process,getpid")
    traced = trace.numbers if trace.available else {"strace": trace.why}
    return judge_syscall_numbers(probes.fields(probes.run("abi").stdout_text), read_i386_numbers(),
                                 traced, platform.machine())
