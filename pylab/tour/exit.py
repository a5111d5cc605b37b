"""The claims of seeds/processes.md about exit, _exit, zombies and wait, each checked live.

Same shape as pylab/claims_processes.py: `observe_*` runs the experiment and returns
plain data, `judge_*` turns data into a Finding, so tests can feed other observations.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter

from pylab.bindings import native

from pylab.tour import probes

from pylab.observe import procstate

from pylab.run import runner, toolchain
from pylab.tour.registry import Finding, claim
from pylab.tour.processes import SEED, observe_fork_limit, read_pid_max
from pylab.run.runner import MODES, run_program

# C programs don't read PYTHONUNBUFFERED, but keep the environment plain anyway
PLAIN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
EXIT2_SEED = "output begin\ncontent in buffer"
_EXIT1_SEED = "output begin\n"
TARGETS = {"tty": "a terminal (tty)", "pipe": "a pipe", "file": "a file"}


def judge_exit_stops(runs: dict[str, dict]) -> Finding:
    ok = all(r["lines"] == ["this process will exit!"] and r["exit_code"] == 0 for r in runs.values())
    return Finding("confirmed" if ok else "refuted",
                   {f"exit_test1, stdout = {m}": r for m, r in runs.items()})


@claim("exit-stops-here", SEED,
       "exit ends the process where it is called: exit_test1 never prints 'never be displayed!'")
def exit_stops_here() -> Finding:
    runs = {}
    for mode in ("tty", "pipe"):
        r = run_program("exit_test1", mode=mode)
        runs[mode] = {"lines": r.lines, "exit_code": r.exit_code, "pid": r.pid}
    return judge_exit_stops(runs)


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


@claim("exit-status", SEED, "exit's status tells the parent how the process ended "
       "(0 normal, anything else an error) and the parent's wait receives it")
def exit_status() -> Finding:
    out = probes.fields(probes.run("exitstatus", ["0", "1", "3", "255", "256"]).stdout_text)
    seen = {int(k[4:]): int(v) for k, v in out.items() if k.startswith("exit")}
    return judge_exit_status(seen)


def observe_exit_outputs() -> dict[str, dict[str, str]]:
    """stdout of exit2 and _exit1 under each stdout target."""
    return {prog: {m: run_program(prog, mode=m, env=PLAIN_ENV).stdout_text for m in MODES}
            for prog in ("exit2", "_exit1")}


def judge_exit_outputs(outputs: dict[str, dict[str, str]]) -> Finding:
    evidence = {f"{prog} stdout": by_mode for prog, by_mode in outputs.items()}
    holds = [m for m in MODES if outputs["exit2"].get(m) == EXIT2_SEED
             and outputs["_exit1"].get(m) == _EXIT1_SEED]
    if holds == list(MODES):
        return Finding("confirmed", evidence)
    if not holds:
        return Finding("refuted", evidence)
    evidence["modes where both match the seed"] = holds
    return Finding("qualified", evidence, f"stdout is {' or '.join(TARGETS[m] for m in holds)}: on "
                   f"{' or '.join(TARGETS[m] for m in MODES if m not in holds)} "
                   "stdio fully buffers stdout, so _exit1's 'output begin' is lost with the rest")


@claim("exit2-vs-_exit1", SEED, "exit2 prints 'output begin' and 'content in buffer'; "
       "_exit1 prints only 'output begin'")
def exit2_vs__exit1() -> Finding:
    return judge_exit_outputs(observe_exit_outputs())


def _writes(trace: probes.Trace) -> list[str]:
    return [ln.split(None, 1)[-1][:60] for ln in trace.lines if "write(" in ln or "exit" in ln]


def judge_exit_flushes(outputs: dict[str, str], traces: dict[str, probes.Trace]) -> Finding:
    evidence = {"stdout on a pipe": outputs}
    if all(t.available for t in traces.values()):
        evidence.update({f"strace {p}": _writes(t) for p, t in traces.items()})
    else:
        evidence["strace"] = {p: t.why for p, t in traces.items() if not t.available}
    flushed = outputs["exit2"] == EXIT2_SEED and "content in buffer" not in outputs["_exit1"]
    if traces["exit2"].available:
        calls = traces["exit2"].calls
        flushed = flushed and "write" in calls and calls.index("write") < len(calls) - 1
    return Finding("confirmed" if flushed else "refuted", evidence)


@claim("exit-flushes", SEED, "exit writes stdio buffers back before the process ends; _exit "
       "does not, and what was buffered is lost")
def exit_flushes() -> Finding:
    progs = ("exit2", "_exit1")
    outputs = {p: run_program(p, mode="pipe", env=PLAIN_ENV).stdout_text for p in progs}
    traces = {p: probes.strace([toolchain.find(p).build()], trace="write,exit,exit_group") for p in progs}
    return judge_exit_flushes(outputs, traces)


def judge_exit_syscall(traces: dict[str, probes.Trace]) -> Finding:
    if not all(t.available for t in traces.values()):
        return Finding("qualified", {"strace": {p: t.why for p, t in traces.items()}},
                       "strace not available: how exit and _exit reach the kernel was not observed")
    last = {p: next((c for c in reversed(t.calls) if c.startswith("exit")), None)
            for p, t in traces.items()}
    evidence = {"last system call of": last,
                "numbers": {c: n for t in traces.values() for c, n in t.numbers.items()}}
    kinds = set(last.values())
    if len(kinds) != 1:
        return Finding("refuted", evidence)
    (call,) = kinds
    if call == "exit":
        return Finding("confirmed", evidence)
    return Finding("qualified", evidence, f"'the exit system call' means {call}: both end in that "
                   "one call (it ends every thread of the process), not in exit")


@claim("exit-same-syscall", SEED, "exit and _exit end in the same system call (__NR__exit is __NR_exit)")
def exit_same_syscall() -> Finding:
    return judge_exit_syscall({p: probes.strace([toolchain.find(p).build()])
                               for p in ("exit2", "_exit1")})


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


def judge_zombie_ps(seen: dict) -> Finding:
    line = seen.get("ps -ax line")
    gone = seen.get("after the parent's wait") == "gone"
    if line is None:  # no ps here: /proc says what ps would
        seen = {**seen, "ps -ax line": "ps is not installed (Debian: apt-get install procps)"}
        if seen.get("states", {}).get("proc") == "Z" and gone:
            return Finding("qualified", seen, "ps is installed: here it is not, and /proc/PID/stat "
                           "showed the state Z that ps would print")
        return Finding("refuted", seen)
    stat = line.split()[2] if len(line.split()) > 2 else ""
    return Finding("confirmed" if stat.startswith("Z") and gone else "refuted", seen)


@claim("zombie-shows-z", SEED, "A child that has exited and is not yet waited for is a zombie: "
       "ps -ax shows it with state Z until the parent's wait")
def zombie_shows_z() -> Finding:
    return judge_zombie_ps(observe_zombie_program())


def _schedstat(pid: int) -> list[int] | None:
    """/proc/PID/schedstat: ns on a CPU, ns waiting to run, timeslices (None without it)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return [int(n) for n in f.read().split()]
    except OSError:
        return None


def _observer_works(cpu_seconds: float = 0.005, cap: int = 10_000_000) -> float:
    """Burn a little of this process's own CPU (bounded by a count too): real time in
    which a runnable zombie would have had every chance to run."""
    start = time.process_time()
    for _ in range(cap):
        if time.process_time() - start >= cpu_seconds:
            break
    return round(time.process_time() - start, 4)


def observe_zombie_holdings(code: int = 7) -> dict:
    """The cpuzombie probe's child burns 20 ms of CPU and exits; /proc shows what the
    zombie keeps (read twice, with work of ours in between); then the probe's wait4
    reaps it and prints the CPU time it collected."""
    with runner.start([probes.build("cpuzombie"), str(code)]) as p:
        pid = int(probes.fields(p.expect(r"zombie=\d+\n").group(0).decode())["zombie"])
        h, sched = procstate.holdings(pid), _schedstat(pid)
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
        worked = _observer_works()
        again, sched_again = procstate.holdings(pid), _schedstat(pid)
        p.write("\n")  # the handshake: the probe now reaps it with wait4
        r = p.wait(10)
    reaped = probes.fields(r.stdout_text)
    status = h["exit_code_field"]
    per_tick = 1_000_000 // int(reaped.get("clk_tck", "100"))
    collected = ([int(reaped["utime_us"]) // per_tick, int(reaped["stime_us"]) // per_tick]
                 if "utime_us" in reaped else None)
    return {"pid": pid, "exit code given": code, "State": h["state"], "State read again": again["state"],
            "VmRSS": h["vm_rss"], "VmSize": h["vm_size"], "mapped regions": len(maps.splitlines()),
            "exit status kept (stat field 52)": status,
            "which decodes to exit code": None if status is None else os.WEXITSTATUS(status),
            "CPU ticks kept (utime, stime)": [h["utime_ticks"], h["stime_ticks"]],
            "schedstat (ns run, ns waited, timeslices)": sched,
            "CPU seconds the observer worked between the reads": worked,
            "CPU ticks read again": [again["utime_ticks"], again["stime_ticks"]],
            "schedstat read again": sched_again,
            "wait4 by the parent: exit code": int(reaped["exit_code"]) if "exit_code" in reaped else None,
            "wait4 by the parent: rusage (utime, stime) in ticks": collected,
            "VmRSS of this live process, to compare": procstate.status_fields(os.getpid()).get("VmRSS", "").strip()}


def judge_zombie_holds(seen: dict) -> Finding:
    kept = seen["CPU ticks kept (utime, stime)"]
    sched = seen["schedstat (ns run, ns waited, timeslices)"]
    ok = (seen["State"].startswith("Z") and seen["State read again"].startswith("Z")
          and seen["VmRSS"] is None and seen["mapped regions"] == 0
          and seen["which decodes to exit code"] == seen["exit code given"]
          and seen["wait4 by the parent: exit code"] == seen["exit code given"]
          and sum(kept) > 0 and kept == seen["CPU ticks read again"]
          and kept == seen["wait4 by the parent: rusage (utime, stime) in ticks"]
          and sched == seen["schedstat read again"])
    if not ok:
        return Finding("refuted", seen)
    if sched is None:  # a kernel without schedstat: that it is not run was not seen
        return Finding("qualified", seen, "'cannot be scheduled' is taken on trust: "
                       "/proc/PID/schedstat is missing here, so only its state Z and its "
                       "unchanged CPU ticks were seen")
    return Finding("confirmed", seen)


@claim("zombie-holds", SEED, "A zombie has given up its memory and code and cannot be scheduled; "
       "it keeps only its exit status and CPU times, which its parent's wait collects")
def zombie_holds() -> Finding:
    return judge_zombie_holds(observe_zombie_holdings())


def observe_wait(code: int = 5) -> dict:
    pid = native.make_zombie(code)
    before = procstate.state_proc(pid)
    status = native.waitpid(pid)
    return {"pid": pid, "exit code given": code, "state before wait": before,
            "wait returned": {"pid": status.pid, "exit_code": status.exit_code, "raw": status.raw},
            "after wait": "gone" if not procstate.exists(pid) else procstate.state_proc(pid)}


def judge_wait(seen: dict) -> Finding:
    ok = (seen["state before wait"] == "Z" and seen["wait returned"]["exit_code"] == seen["exit code given"]
          and seen["after wait"] == "gone")
    return Finding("confirmed" if ok else "refuted", seen)


@claim("wait-collects", SEED, "wait collects a zombie's exit status and makes it disappear")
def wait_collects() -> Finding:
    return judge_wait(observe_wait())


def judge_zombies_block(out: dict, pid_max: int) -> Finding:
    evidence = {"forklimit probe (children are zombies)": out, "pid_max": pid_max}
    if out.get("errno") == "EAGAIN":
        return Finding("qualified", evidence, "they fill a process limit: each zombie keeps "
                       f"its PID and counts against RLIMIT_NPROC (here {out.get('made')} zombies, "
                       f"their parent and the uid's {out.get('tasks of that uid before')} other "
                       f"tasks filled a limit of {out.get('nproc limit')}) and pid_max")
    if out.get("errno") == "none":
        return Finding("qualified", evidence, "a process limit is enforced; here it was not: the "
                       "zombies did not stop fork (root and CAP_SYS_RESOURCE ignore RLIMIT_NPROC)")
    return Finding("refuted", evidence)


@claim("zombies-block-fork", SEED, "Zombies take almost no resources, but too many of them "
       "can stop new processes from being created")
def zombies_block_fork() -> Finding:
    return judge_zombies_block(observe_fork_limit("zombie"), read_pid_max())


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


def observe_states() -> Counter:
    """The states of every process visible in /proc now (extra evidence: which processes
    are visible depends on the machine, a container shows fewer)."""
    seen = Counter()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                seen[procstate.status_fields(int(name))["State"]] += 1
            except (procstate.NoSuchProcess, KeyError, OSError):
                pass
    return seen


def judge_states(made: dict[str, str], visible: Counter) -> Finding:
    evidence = {f"lab's child {how}": state for how, state in made.items()}
    evidence["states of the processes in /proc now"] = dict(visible.most_common())
    letters = {s.split()[0] for s in (*made.values(), *visible) if s.split()}
    extra = sorted(letters - CLASSIC_STATES)
    evidence["state letters seen"] = sorted(letters)
    if "Z" not in letters:
        evidence["note"] = "no zombie was seen"
        return Finding("refuted", evidence)
    if extra:
        evidence["not among the classic five (R S D T Z)"] = extra
        return Finding("refuted", evidence)
    evidence["note"] = (f"only classic states were seen ({' '.join(sorted(letters))}); "
                        "a sample of states, not the kernel's whole list")
    return Finding("confirmed", evidence)


@claim("five-states", SEED, "A Linux process is in one of five states, zombie being one of them")
def five_states() -> Finding:
    return judge_states(observe_lab_states(), observe_states())
