"""The claims of seeds/processes.md about exit, _exit, zombies and wait, each checked live.

Same shape as pylab/tour/processes.py: `observe_*` runs the experiment and returns plain
data, `judge_*` (registered in CLAIMS with its observe) turns it into a Finding.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter

from pylab.bindings import native
from pylab.observe import procstate
from pylab.core.targets import IN_WORDS
from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program
from pylab.tour import memo, probes
from pylab.tour.processes import SEED, observe_fork_limit, read_pid_max
from pylab.tour.shape import ClaimList, Finding, unverified

CLAIMS = ClaimList()

# C programs don't read PYTHONUNBUFFERED, but keep the environment plain anyway
PLAIN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
EXIT2_SEED = "output begin\ncontent in buffer"
_EXIT1_SEED = "output begin\n"


@memo.shared
def plain_stdout(program: str, mode: str) -> str:
    """What `program` writes to stdout under `mode`, PYTHONUNBUFFERED cleared (two
    claims judge exit2's and _exit1's)."""
    return run_program(program, mode=mode, env=PLAIN_ENV).stdout_text


def observe_exit_stops() -> dict[str, dict]:
    runs = {}
    for mode in ("tty", "pipe"):
        r = run_program("exit_test1", mode=mode)
        runs[mode] = {"lines": r.lines, "exit_code": r.exit_code, "pid": r.pid}
    return runs


@CLAIMS.claim("exit-stops-here", SEED,
              "exit ends the process where it is called: exit_test1 never prints 'never be displayed!'",
              observe=observe_exit_stops)
def judge_exit_stops(runs: dict[str, dict]) -> Finding:
    ok = all(r["lines"] == ["this process will exit!"] and r["exit_code"] == 0 for r in runs.values())
    return Finding("confirmed" if ok else "refuted",
                   {f"exit_test1, stdout = {m}": r for m, r in runs.items()})


def observe_exit_status(codes=("0", "1", "3", "255", "256")) -> dict[int, int]:
    out = probes.fields(probes.run("exitstatus", list(codes)).stdout_text)
    return {int(k[4:]): int(v) for k, v in out.items() if k.startswith("exit")}


@CLAIMS.claim("exit-status", SEED, "exit's status tells the parent how the process ended "
              "(0 normal, anything else an error) and the parent's wait receives it",
              observe=observe_exit_status)
def judge_exit_status(seen: dict[int, int | None]) -> Finding:
    evidence = {"exit(N) -> WEXITSTATUS seen by the parent's wait": seen}
    lost = {n: got for n, got in seen.items() if got != n}
    if not lost:
        return Finding("confirmed", evidence)
    if all(got == n & 0xFF for n, got in lost.items()):
        shown = ", ".join(f"exit({n}) as {got}" for n, got in lost.items())
        return Finding("qualified", evidence, "the status fits in 8 bits (only those reach the "
                       f"parent): wait saw {shown}, so a non-zero status can look like a normal end")
    return Finding("refuted", evidence)


def observe_exit_outputs() -> dict[str, dict[str, str]]:
    """stdout of exit2 and _exit1 under each stdout target."""
    return {prog: {m: plain_stdout(prog, m) for m in MODES}
            for prog in ("exit2", "_exit1")}


@CLAIMS.claim("exit2-vs-_exit1", SEED, "exit2 prints 'output begin' and 'content in buffer'; "
              "_exit1 prints only 'output begin'", observe=observe_exit_outputs)
def judge_exit_outputs(outputs: dict[str, dict[str, str]]) -> Finding:
    evidence = {f"{prog} stdout": by_mode for prog, by_mode in outputs.items()}
    holds = [m for m in MODES if outputs["exit2"].get(m) == EXIT2_SEED
             and outputs["_exit1"].get(m) == _EXIT1_SEED]
    if holds == list(MODES):
        return Finding("confirmed", evidence)
    if not holds:
        return Finding("refuted", evidence)
    evidence["modes where both match the seed"] = holds
    others = [m for m in MODES if m not in holds]
    buffered = all(outputs["_exit1"].get(m) == "" and outputs["exit2"].get(m) == EXIT2_SEED for m in others)
    why = ("stdio fully buffers stdout, so _exit1's 'output begin' is lost with the rest" if buffered else
           "the output differed: " + "; ".join(f"_exit1 printed {outputs['_exit1'].get(m)!r}, exit2 "
                                                f"{outputs['exit2'].get(m)!r}" for m in others))
    return Finding("qualified", evidence, f"stdout is {' or '.join(IN_WORDS[m] for m in holds)}: on "
                   f"{' or '.join(IN_WORDS[m] for m in others)} {why}")


def _writes(trace: dict) -> list[str]:
    return [ln.split(None, 1)[-1][:60] for ln in trace["lines"] if "write(" in ln or "exit" in ln]


def observe_exit_flushes() -> dict:
    progs = ("exit2", "_exit1")
    return {"outputs": {p: plain_stdout(p, "pipe") for p in progs},
            "traces": {p: probes.strace([toolchain.find(p).build()], trace="write,exit,exit_group").data()
                       for p in progs}}


@CLAIMS.claim("exit-flushes", SEED, "exit writes stdio buffers back before the process ends; _exit "
              "does not, and what was buffered is lost", observe=observe_exit_flushes)
def judge_exit_flushes(seen: dict) -> Finding:
    outputs, traces = seen["outputs"], seen["traces"]
    evidence = {"stdout on a pipe": outputs}
    if all(t["available"] for t in traces.values()):
        evidence.update({f"strace {p}": _writes(t) for p, t in traces.items()})
    else:
        evidence["strace"] = {p: t["why"] for p, t in traces.items() if not t["available"]}
    flushed = outputs["exit2"] == EXIT2_SEED and "content in buffer" not in outputs["_exit1"]
    if traces["exit2"]["available"]:
        calls = traces["exit2"]["calls"]
        flushed = flushed and "write" in calls and calls.index("write") < len(calls) - 1
    return Finding("confirmed" if flushed else "refuted", evidence)


def observe_exit_syscall() -> dict:
    return {p: probes.strace([toolchain.find(p).build()]).data() for p in ("exit2", "_exit1")}


@CLAIMS.claim("exit-same-syscall", SEED, "exit and _exit end in the same system call (__NR__exit is __NR_exit)",
              observe=observe_exit_syscall)
def judge_exit_syscall(traces: dict[str, dict]) -> Finding:
    if not all(t["available"] for t in traces.values()):
        why = {p: t["why"] for p, t in traces.items() if not t["available"]}
        return unverified("strace: how exit and _exit reach the kernel was not observed ("
                          + "; ".join(why.values()) + ")", {"strace": why})
    last = {p: next((c for c in reversed(t["calls"]) if c.startswith("exit")), None)
            for p, t in traces.items()}
    evidence = {"last system call of": last,
                "numbers": {c: n for t in traces.values() for c, n in t["numbers"].items()}}
    kinds = set(last.values())
    if len(kinds) != 1:
        return Finding("refuted", evidence)
    (call,) = kinds
    if call == "exit":
        return Finding("confirmed", evidence)
    return Finding("qualified", evidence, f"'the exit system call' means {call}: both end in that "
                   "one call, not in exit",
                   documentation="exit_group(2): ends every thread of the process (exit(2) ends only the "
                   "calling thread); glibc's exit() and _exit() both call exit_group")


# -- zombies and wait -----------------------------------------------------------------
def ps_ax_line(pid: int) -> str | None:
    """The line of `ps -ax` (the seed's command) for pid; None without ps."""
    if shutil.which("ps") is None:
        return None
    out = subprocess.run(["ps", "-ax"], capture_output=True, text=True).stdout
    return next((ln.strip() for ln in out.splitlines() if ln.split()[:1] == [str(pid)]), None)


def observe_zombie_program() -> dict:
    """zombie in handshake mode: find its child, see it as Z, release it, see it gone."""
    with runner.start([toolchain.find("zombie").build(), "-"]) as p:
        (child,) = procstate.call_until(lambda: procstate.children(p.pid), what="zombie's child")
        procstate.wait_for_state(child, "Z")
        seen = {"parent": p.pid, "child": child, "ps -ax line": ps_ax_line(child),
                "states": procstate.states(child)}
        p.write("\n")  # the handshake: the parent now calls wait()
        seen["after the parent's wait"] = procstate.wait_for_state(child, "gone")
        r = p.wait(10)
    seen["zombie exited"] = r.describe()
    return seen


@CLAIMS.claim("zombie-shows-z", SEED, "A child that has exited and is not yet waited for is a zombie: "
              "ps -ax shows it with state Z until the parent's wait", observe=observe_zombie_program)
def judge_zombie_ps(seen: dict) -> Finding:
    line = seen.get("ps -ax line")
    gone = seen.get("after the parent's wait") == "gone"
    if line is None:  # no ps here: /proc says what ps would
        seen = {**seen, "ps -ax line": "ps is not installed (Debian: apt-get install procps)"}
        if seen.get("states", {}).get("proc") == "Z" and gone:
            return unverified("ps is not installed: only /proc/PID/stat was read (it showed Z, the "
                              "state ps would print)", seen)
        return Finding("refuted", seen)
    stat = line.split()[2] if len(line.split()) > 2 else ""
    return Finding("confirmed" if stat.startswith("Z") and gone else "refuted", seen)


def _observer_works(cpu_seconds: float = 0.005, cap: int = 10_000_000) -> float:
    """Burn a little of this process's own CPU (bounded by a count too): real time in
    which a runnable zombie would have had every chance to run."""
    start = time.process_time()
    for _ in range(cap):
        if time.process_time() - start >= cpu_seconds:
            break
    return round(time.process_time() - start, 4)


def _kept(pid: int) -> dict:
    """What /proc still shows of a process: state, memory, credentials, context switches."""
    h, st = procstate.holdings(pid), procstate.status_fields(pid)
    return {"State": h["state"], "VmRSS": h["vm_rss"], "Uid": st.get("Uid", "").split(),
            "context switches (voluntary, involuntary)": [int(st.get("voluntary_ctxt_switches", -1)),
                                                          int(st.get("nonvoluntary_ctxt_switches", -1))],
            "exit status field": h["exit_code_field"], "CPU ticks": [h["utime_ticks"], h["stime_ticks"]],
            "schedstat": procstate.schedstat(pid)}


def observe_zombie_holdings(code: int = 7) -> dict:
    """The cpuzombie probe's child burns 20 ms of CPU, handles one signal and exits; /proc
    shows what the zombie keeps (read, then a SIGUSR1 sent to it and work of ours, then
    read again); then the probe's wait4 reaps it and prints the rusage it collected."""
    with runner.start([probes.build("cpuzombie"), str(code)]) as p:
        pid = int(probes.fields(p.expect(r"zombie=\d+\n").group(0).decode())["zombie"])
        first = _kept(pid)
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
        os.kill(pid, signal.SIGUSR1)  # a sleeping process would wake and die of it; a zombie cannot run
        worked = _observer_works()
        again = _kept(pid)
        p.write("\n")  # the handshake: the probe now reaps it with wait4
        r = p.wait(10)
    reaped = probes.fields(r.stdout_text)
    per_tick = 1_000_000 // int(reaped.get("clk_tck", "100"))
    return {"pid": pid, "exit code given": code, "first read": first, "mapped regions": len(maps.splitlines()),
            "SIGUSR1 sent, then CPU seconds the observer worked": worked, "read again": again,
            "our uid": os.getuid(),
            "wait4 by the parent": {k: int(v) for k, v in reaped.items() if k not in ("reaped", "zombie")},
            "wait4 CPU ticks (utime, stime)": [int(reaped["utime_us"]) // per_tick, int(reaped["stime_us"]) // per_tick]
            if "utime_us" in reaped else None}


def _readable(kept: dict) -> dict:
    """_kept's reading with its numbers named: what each list holds, what a raw status means."""
    out = {k: v for k, v in kept.items() if k not in ("exit status field", "CPU ticks", "schedstat")}
    if kept.get("VmRSS") is None:
        out["VmRSS"] = "no VmRSS line in /proc/PID/status: no user memory left"
    status = kept["exit status field"]
    out["exit status (raw, /proc/PID/stat's exit_code field)"] = (
        status if status is None else f"{status}, that is exit({os.WEXITSTATUS(status)})" if os.WIFEXITED(status)
        else f"{status}")
    out["CPU time (utime, stime), clock ticks"] = kept["CPU ticks"]
    out["schedstat (ns on a CPU, ns waiting to run, times run)"] = kept["schedstat"]
    return out


@CLAIMS.claim("zombie-holds", SEED, "A zombie has given up its memory and code and cannot be scheduled; "
              "it keeps its exit status, its CPU times, its page faults and the signals it received, "
              "which its parent's wait collects", observe=observe_zombie_holdings)
def judge_zombie_holds(seen: dict) -> Finding:
    first, again, ru = seen["first read"], seen["read again"], seen["wait4 by the parent"]
    status = first["exit status field"]
    evidence = {"/proc while a zombie": _readable(first), "mapped regions (/proc/PID/maps lines)": seen["mapped regions"],
                "after a SIGUSR1 and our work": _readable(again), "wait4 collected (rusage)": ru}
    zombie = (first["State"].startswith("Z") and again["State"].startswith("Z") and first["VmRSS"] is None
              and seen["mapped regions"] == 0)
    status_kept = status is not None and os.WEXITSTATUS(status) == seen["exit code given"] == ru.get("exit_code")
    cpu_kept = sum(first["CPU ticks"]) > 0 and first["CPU ticks"] == again["CPU ticks"] == seen["wait4 CPU ticks (utime, stime)"]
    if not (zombie and status_kept and cpu_kept):
        return Finding("refuted", evidence)
    if first["schedstat"] is None:
        return unverified("/proc/PID/schedstat is missing here: that the zombie is never run was not seen "
                          "(its state Z and unchanged CPU ticks were)", evidence)
    if first["schedstat"] != again["schedstat"]:
        evidence["note"] = "the zombie's schedstat moved between the reads: it ran"
        return Finding("refuted", evidence)
    faults, signals = ru.get("minflt", 0) + ru.get("majflt", 0), ru.get("nsignals")
    evidence["so"] = (f"it kept its PID {seen['pid']}, credentials (Uid {' '.join(first['Uid'])}), context switches "
                      f"{first['context switches (voluntary, involuntary)']}, and rusage: {faults} page faults, "
                      f"maxrss {ru.get('maxrss_kb')} kB; a SIGUSR1 sent to it changed nothing (schedstat still "
                      f"{again['schedstat']}), where a sleeping process would have been woken by it (to run its "
                      "handler or, by default, to die)")
    evidence["and"] = ("it keeps more than the seed lists: its PID and its process-table entry (/proc still shows "
                       "it), credentials, context switches, maxrss")
    if faults > 0 and signals == 0:
        return Finding("qualified", evidence, "only its exit status, CPU times and page faults, not the signals it "
                       "received: wait4's ru_nsignals is 0 although the child handled a SIGUSR1",
                       documentation="getrusage(2): ru_nsignals is unmaintained on Linux (always 0)")
    if faults > 0:
        return Finding("confirmed", evidence)
    return Finding("refuted", evidence)


@memo.shared
def observe_wait(code: int = 5) -> dict:
    pid = native.make_zombie(code)
    before = procstate.state_proc(pid)
    status = native.waitpid(pid)
    return {"pid": pid, "exit code given": code, "state before wait": before,
            "wait returned": {"pid": status.pid, "exit_code": status.exit_code, "raw status": status.raw},
            "after wait": "gone" if not procstate.exists(pid) else procstate.state_proc(pid)}


@CLAIMS.claim("wait-collects", SEED, "wait collects a zombie's exit status and makes it disappear",
              observe=observe_wait)
def judge_wait(seen: dict) -> Finding:
    ok = (seen["state before wait"] == "Z" and seen["wait returned"]["exit_code"] == seen["exit code given"]
          and seen["after wait"] == "gone")
    return Finding("confirmed" if ok else "refuted", seen)


def zombie_memory() -> dict:
    """One zombie's memory, from /proc: its state, VmRSS and VmSize lines, mapped regions."""
    pid = native.make_zombie(0)
    try:
        h = procstate.holdings(pid)
        with open(f"/proc/{pid}/maps") as f:
            maps = len(f.read().splitlines())
    finally:
        native.waitpid(pid)
    return {"state": h["state"], "VmRSS": h["vm_rss"], "VmSize": h["vm_size"], "mapped regions": maps}


def observe_zombies_block() -> dict:
    return {"probe": observe_fork_limit("zombie"), "pid_max": read_pid_max(), "a zombie's memory": zombie_memory()}


@CLAIMS.claim("zombies-block-fork", SEED, "Zombies take almost no resources, but too many of them "
              "can stop new processes from being created", observe=observe_zombies_block)
def judge_zombies_block(seen: dict) -> Finding:
    out, mem = seen["probe"], seen.get("a zombie's memory")
    evidence = {"forklimit probe (children are zombies)": out, "pid_max": seen["pid_max"],
                "a zombie's memory (/proc/PID/status, maps)": mem}
    if mem is None:
        return unverified("a zombie's memory: /proc was not read", evidence)
    if not mem["state"].startswith("Z") or mem["VmRSS"] is not None or mem["mapped regions"] > 0:
        return Finding("refuted", evidence)  # it holds memory after all: not 'almost no resources'
    if out.get("errno") == "EAGAIN":
        made, limit, before = int(out["made"]), out["nproc limit"], out["tasks of that uid before"]
        others = limit - 1 - made  # the fork that failed would have made the uid's tasks exceed the limit
        if made == 0:
            return unverified("zombies filling the limit: it was full before the first fork (other tasks of "
                              f"uid {out['uid']} took it: {before} counted before the run)", evidence)
        evidence["so"] = (f"each zombie keeps its PID and counts against RLIMIT_NPROC: {made} zombies, their "
                          f"parent and {others} other tasks of uid {out['uid']} filled a limit of {limit}"
                          + ("" if others == before else f" ({before} other tasks were counted before the run: "
                             "the uid's other tasks changed meanwhile)")
                          + "; and a zombie holds no user memory (no VmRSS line, no mapped region)")
        return Finding("confirmed", evidence)
    if out.get("errno") == "none":
        return unverified("an enforced process limit: the zombies did not stop fork (root and "
                          "CAP_SYS_RESOURCE ignore RLIMIT_NPROC)", evidence)
    return Finding("refuted", evidence)


CLASSIC_STATES = {"R", "S", "D", "T", "Z"}


def observe_lab_states() -> dict[str, str]:
    """The states probe's children, each put in a state by the lab: what /proc says of
    each (the S child is waited for: a new child is R until it reaches pause)."""
    with runner.start([probes.build("states")]) as p:
        kids = probes.fields(p.expect(r"R=.*\n").group(0).decode())
        procstate.wait_for_state(int(kids["S"]), "S")
        seen = {how: procstate.status_fields(int(kids[k]))["State"]
                for k, how in (("R", "spinning"), ("S", "in pause()"), ("T", "sent SIGSTOP"),
                               ("t", f"after PTRACE_TRACEME + SIGSTOP (traceme {kids['traceme']})"),
                               ("Z", "exited, not reaped"))}
        p.write("\n")  # the probe kills and reaps them
        p.wait(10)
    return seen


def observe_visible_states() -> dict[str, int]:
    """The states of every process visible in /proc now (extra evidence: which processes
    are visible depends on the machine, a container shows fewer)."""
    seen = Counter()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                seen[procstate.status_fields(int(name))["State"]] += 1
            except (procstate.NoSuchProcess, KeyError, OSError):
                pass
    return dict(seen.most_common())


def observe_states() -> dict:
    return {"made": observe_lab_states(), "visible": observe_visible_states()}


# the refinements of the classic five Linux added since 2.4 (fs/proc/array.c)
# (each reads "<letter> refines <value>"; W, paging, is gone since 2.6 and so is not among them)
REFINEMENTS = {"t": "T (stopped), by a tracer", "I": "D (uninterruptible), an idle kernel thread",
               "X": "Z (dead), being removed", "P": "D (uninterruptible), a parked kernel thread"}


@CLAIMS.claim("five-states", SEED, "A Linux process is in one of five states, zombie being one of them",
              observe=observe_states)
def judge_states(seen: dict) -> Finding:
    made, visible = seen["made"], seen["visible"]
    evidence = {f"lab's child {how}": state for how, state in made.items()}
    evidence["states of the processes in /proc now"] = visible
    letters = {s.split()[0] for s in (*made.values(), *visible) if s.split()}
    extra = sorted(letters - CLASSIC_STATES)
    evidence["state letters seen"] = sorted(letters)
    if "Z" not in letters:
        evidence["note"] = "no zombie was seen"
        return Finding("refuted", evidence)
    if not extra:
        evidence["note"] = (f"only classic states were seen ({' '.join(sorted(letters))}); "
                            "a sample of states, not the kernel's whole list")
        return Finding("confirmed", evidence)
    evidence["not among the classic five (R S D T Z)"] = extra
    unknown = [x for x in extra if x not in REFINEMENTS]
    if unknown:
        return Finding("refuted", evidence)
    return Finding("qualified", evidence, "counting each state this kernel adds as the classic one it refines: "
                   "besides R S D T Z it showed " + "; ".join(f"{x}, which refines {REFINEMENTS[x]}" for x in extra),
                   documentation="fs/proc/array.c task_state_array (this kernel's): R S D T t X Z P I")
