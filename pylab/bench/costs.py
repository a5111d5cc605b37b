"""What it costs to create, run and watch processes here, next to the kernel's floor.

`pylab bench [--json] [--quick] [--rounds N]` measures, in one run and side by side,
medians over many repetitions after a warm-up (--quick: a tenth of them, at least 10, and
no suite or grader; --rounds N: N of every figure, for a look at the report's shape rather
than at its statistics):
  creation   C fork/vfork loops (timed in C: csrc/lib/lab_bench.c), os.fork,
             multiprocessing.Process; floor: C fork + _exit + waitpid
  program    running csrc/tools/tiny.c: C posix_spawn and fork+exec, os.posix_spawn,
             subprocess.run, and the lab's runner with stdout to a pipe, a file, a tty;
             beside them fork + exec + waitpid from a small helper with and without a
             new session first (csrc/tools/newsession.c): what a run's own session costs
             here (the supervisor makes one); floor: C fork + exec + waitpid
  observe    a process's state from /proc, psutil and ps (floor: /proc), and how soon
             after a child's exit the lab sees it as a zombie
  trace      a 10-process program (csrc/tools/ten_procs.c) run by the runner, and the
             same run traced (runner.run(trace=True): the run's tracer outside the
             supervisor, csrc/tools/tracelog.c, or strace -f where that cannot serve);
             beside them what the extra is made of: tiny and ten_procs alone, under that
             tracer, with the stdio preload, and the parse of a log; floor: the untraced run
  sandbox    tiny run by the runner with no sandbox, in the grading sandbox (jail,
             bubblewrap) and there traced from outside: the grader's own measurement
             (bench/containment.py); floor: no sandbox
  suite      the test suite's wall time, and grading one full submission (when present)
A group whose tool this machine lacks (a tracer, bubblewrap) is reported as not measured,
with the reason, and its targets say so.
Figures measured together are interleaved round by round, so a neighbour's load on this
shared machine slows all of them alike and the ratios stay meaningful.
"""
from __future__ import annotations

import datetime
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from pylab.bench import containment, suite as bench_suite, targets
from pylab.bindings import lab_bench, native
from pylab.core.output import emit_json
from pylab.observe import procstate
from pylab.core.errors import UsageError
from pylab.run import runner, toolchain, tracer

FLOORS = {"creation": "c_fork", "program": "c_fork_exec", "observe": "state_proc",
          "trace": "run_10", "sandbox": "sandbox_bare"}
GROUP_TITLES = {
    "creation": "Process creation (floor: C fork + _exit + waitpid)",
    "program": "Running a tiny program (floor: C fork + exec + waitpid)",
    "observe": "Observation (floor: reading /proc/PID/stat)",
    "trace": "Tracing a 10-process program (floor: the same run untraced)",
    "sandbox": "The grading sandbox, running tiny (floor: the same run, no sandbox)",
}
TRACED_PROCESSES = 10  # csrc/tools/ten_procs.c: a parent and nine children


def tiny_program():
    """csrc/tools/tiny.c, compiled as a student's program is (toolchain.build: dynamically
    linked, the lab's usual flags), so it costs what a lesson program costs to exec."""
    return toolchain.build(toolchain.csrc_dir() / "tools" / "tiny.c")


def ten_processes():
    """csrc/tools/ten_procs.c, built the same way: a parent, nine children, ten writes."""
    return toolchain.build(toolchain.csrc_dir() / "tools" / "ten_procs.c")


class BenchError(Exception):
    """A figure could not be measured on this machine (reported in one line, exit 2)."""


class Unavailable(Exception):
    """A whole group needs a tool this machine lacks: reported as not measured, with why."""


class Lab:
    """What the measurements share: the tiny program, /dev/null, a zombie and a sleeper
    to observe. A context manager: it reaps everything it started."""

    def __enter__(self) -> "Lab":
        self.tiny = str(tiny_program())
        toolchain.tool("supervise")  # built before anything is timed
        self.newsession = str(toolchain.tool("newsession"))
        self.devnull = os.open(os.devnull, os.O_WRONLY)
        self.zombie = native.make_zombie(0)
        # a child asleep in read(2) until its stdin closes: state S
        self.sleeper = subprocess.Popen([self.tiny, "read"], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL)
        procstate.wait_for_state(self.sleeper.pid, "S", timeout=5)
        return self

    def __exit__(self, *exc) -> None:
        self.sleeper.stdin.close()
        self.sleeper.wait()
        os.waitpid(self.zombie, 0)
        os.close(self.devnull)
        if getattr(self, "_logs", None):
            shutil.rmtree(self._logs, ignore_errors=True)

    def prepare(self, group: str) -> None:
        """What a group needs beyond the common part; Unavailable if this machine lacks it."""
        if group == "trace":
            self._prepare_trace()

    def _prepare_trace(self) -> None:
        if getattr(self, "ten", None):  # prepared already
            return
        self.ten = str(ten_processes())
        self._logs = tempfile.mkdtemp(prefix="pylab-bench-trace-")
        self._tracer_log = os.path.join(self._logs, "trace.log")
        # a log of ten_procs traced as the runner traces it (stdio markers on), to parse
        self._ten_log = os.path.join(self._logs, "ten.log")
        try:
            subprocess.run(tracer.run_command(self._ten_log, [self.ten]), stdout=subprocess.DEVNULL, check=True)
        except UsageError as e:  # no tracer here (strace is not installed, and the lab's cannot serve)
            raise Unavailable(str(e)) from e
        # the figure is only worth its name if the tracer followed the whole program
        seen = runner.run([self.ten], trace=True)
        lines = seen.stdout.count(b"\n")
        if seen.exit_code != 0 or lines != TRACED_PROCESSES:
            raise BenchError(f"csrc/tools/ten_procs.c misbehaved under the tracer: exit {seen.exit_code}, {lines} lines")
        if seen.trace is None:
            raise Unavailable("the traced run gave no trace (the tracer failed on this machine)")
        self.traced_processes = tree_size(seen.trace.processes(), self.ten)

    # -- one round of each measurement; each returns the seconds it measured ----------
    def c_loop(self, loop, *args) -> float:
        """One round of a lab_bench loop, timed in C."""
        return loop(1, *args)[0] / 1e9

    def py_fork(self) -> float:
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return time.perf_counter() - t0

    def py_posix_spawn(self) -> float:
        t0 = time.perf_counter()
        pid = os.posix_spawn(self.tiny, [self.tiny], os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, self.devnull, 1)])
        os.waitpid(pid, 0)
        return time.perf_counter() - t0

    def mp_process(self) -> float:
        t0 = time.perf_counter()
        p = multiprocessing.get_context("fork").Process(target=_nothing)
        p.start()
        p.join()
        return time.perf_counter() - t0

    def timed(self, fn: Callable, *args, **kwargs) -> float:
        t0 = time.perf_counter()
        fn(*args, **kwargs)
        return time.perf_counter() - t0

    def zombie_seen_by_lab(self) -> float:
        """Seconds from the child's last clock read before _exit to the moment the
        lab's procstate.wait_for_state reads Z in /proc."""
        r, w = os.pipe()
        try:
            pid = lab_bench.stamped_child(w)
        finally:
            os.close(w)
        try:
            with os.fdopen(r, "rb") as f:
                stamp = int.from_bytes(f.read(8), sys.byteorder, signed=True)
            procstate.wait_for_state(pid, "Z", timeout=5)
            seen = time.monotonic_ns()  # CLOCK_MONOTONIC, the clock the child read
        finally:
            os.waitpid(pid, 0)
        return (seen - stamp) / 1e9

    def zombie_seen_floor(self) -> float:
        return lab_bench.zombie_seen_ns() / 1e9

    def parse_ten(self) -> float:
        """tracer.parse of a 10-process log, as the runner parses after each traced run
        (the markers' file:line included: each binary's line table read again, nothing
        cached)."""
        t0 = time.perf_counter()
        tracer.parse(self._ten_log)
        return time.perf_counter() - t0

    def spawned(self, argv: list[str]) -> float:
        """posix_spawn + waitpid of argv, stdout to /dev/null; it must exit 0."""
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, self.devnull, 1)])
        _, status = os.waitpid(pid, 0)
        took = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            raise OSError(f"{os.path.basename(argv[0])} exited with status {os.waitstatus_to_exitcode(status)}")
        return took

    def traced_alone(self, program: str, stdio: bool = False) -> float:
        """The run's tracer (tracer.run_command), with its own options, around program
        alone (no supervisor, no Python reader): beside the program alone, what tracing
        it costs."""
        return self.spawned(tracer.run_command(self._tracer_log, [program], stdio=stdio))


def _nothing() -> None:
    pass


def tree_size(procs: dict, program: str) -> int:
    """How many processes of a trace belong to the run of `program`: the one that
    exec'd it and every descendant (the tracer and the supervisor are not counted)."""
    roots = {pid for pid, p in procs.items() if p.argv and p.argv[0] == program}
    inside = set(roots)
    grew = True
    while grew:
        more = {pid for pid, p in procs.items() if p.parent in inside} - inside
        inside |= more
        grew = bool(more)
    return len(inside)


@dataclass
class Measure:
    key: str
    label: str
    group: str
    reps: int  # full run; --quick takes a tenth (at least 10)
    once: Callable[[Lab], float] | None  # None: the group has a sampler (SAMPLERS)


MEASURES = [
    Measure("c_fork", "C fork + _exit + waitpid", "creation", 1000, lambda b: b.c_loop(lab_bench.fork_loop)),
    Measure("c_vfork", "C vfork + _exit + waitpid", "creation", 1000, lambda b: b.c_loop(lab_bench.vfork_loop)),
    Measure("py_fork", "os.fork + os._exit + os.waitpid", "creation", 500, Lab.py_fork),
    Measure("mp_process", "multiprocessing.Process (fork) start + join",
            "creation", 100, Lab.mp_process),
    Measure("c_fork_exec", "C fork + execv + waitpid", "program", 500,
            lambda b: b.c_loop(lab_bench.fork_exec_loop, b.tiny)),
    Measure("c_posix_spawn", "C posix_spawn + waitpid", "program", 500,
            lambda b: b.c_loop(lab_bench.posix_spawn_loop, b.tiny)),
    Measure("py_posix_spawn", "os.posix_spawn + os.waitpid", "program", 500, Lab.py_posix_spawn),
    Measure("subprocess_run", "subprocess.run (stdout to /dev/null)", "program", 500,
            lambda b: b.timed(subprocess.run, [b.tiny], stdout=subprocess.DEVNULL)),
    Measure("subprocess_capture", "subprocess.run(capture_output=True)", "program", 500,
            lambda b: b.timed(subprocess.run, [b.tiny], capture_output=True)),
    Measure("session_off", "C fork + exec + waitpid from a helper (newsession 0)", "program", 500,
            lambda b: b.spawned([b.newsession, "0", b.tiny])),
    Measure("session_on", "the same from a new session, as the supervisor (newsession 1)", "program", 500,
            lambda b: b.spawned([b.newsession, "1", b.tiny])),
    Measure("runner_pipe", "pylab runner.run, stdout to a pipe", "program", 500,
            lambda b: b.timed(runner.run, [b.tiny], mode="pipe")),
    Measure("runner_file", "pylab runner.run, stdout to a file", "program", 500,
            lambda b: b.timed(runner.run, [b.tiny], mode="file")),
    Measure("runner_tty", "pylab runner.run, stdout to a tty", "program", 500,
            lambda b: b.timed(runner.run, [b.tiny], mode="tty")),
    Measure("state_proc", "state from /proc/PID/stat (procstate.state_proc)", "observe", 2000,
            lambda b: b.timed(procstate.state_proc, b.zombie)),
    Measure("state_psutil", "state from psutil (procstate.state_psutil)", "observe", 2000,
            lambda b: b.timed(procstate.state_psutil, b.zombie)),
    Measure("state_ps", "state from ps -o stat= (procstate.state_ps)", "observe", 100,
            lambda b: b.timed(procstate.state_ps, b.zombie)),
    Measure("zombie_seen", "exit -> seen as Z by procstate.wait_for_state", "observe", 300,
            Lab.zombie_seen_by_lab),
    Measure("zombie_seen_floor", "exit -> seen as Z by a tight C poll of /proc (yielding)", "observe", 300,
            Lab.zombie_seen_floor),
    Measure("run_10", "runner.run of 10 processes (ten_procs), untraced", "trace", 100,
            lambda b: b.timed(runner.run, [b.ten])),
    Measure("traced_10", "runner.run of 10 processes, trace=True", "trace", 100,
            lambda b: b.timed(runner.run, [b.ten], trace=True)),
    Measure("ten_alone", "ten_procs alone (os.posix_spawn + os.waitpid)", "trace", 100,
            lambda b: b.spawned([b.ten])),
    Measure("tracer_ten", "the tracer around ten_procs alone", "trace", 100, lambda b: b.traced_alone(b.ten)),
    Measure("tracer_ten_stdio", "the tracer around ten_procs, stdio preload", "trace", 100,
            lambda b: b.traced_alone(b.ten, stdio=True)),
    Measure("parse_10", "tracer.parse of a 10-process log (with source lines)", "trace", 100, Lab.parse_ten),
    Measure("tiny_alone", "tiny alone (os.posix_spawn + os.waitpid)", "trace", 100,
            lambda b: b.spawned([b.tiny])),
    Measure("tracer_tiny", "the tracer around tiny alone", "trace", 100, lambda b: b.traced_alone(b.tiny)),
    # the grader's own figures: sampled together by bench/containment.py
    Measure("sandbox_bare", "runner.run of tiny, no sandbox", "sandbox", 50, None),
    Measure("sandboxed", "Sandbox.run of tiny (jail, bwrap, supervisor as pid 1)", "sandbox", 50, None),
    Measure("sandboxed_traced", "Sandbox.run, watch_forks (strace -f outside)", "sandbox", 50, None),
]
BY_KEY = {m.key: m for m in MEASURES}
RATIO_FREE = {"zombie_seen", "zombie_seen_floor"}  # a latency, not a cost per call


def reps(key: str, quick: bool, rounds: int | None = None) -> int:
    """How many samples a figure takes: `rounds` when given, else its own count (a
    tenth with --quick, at least 10)."""
    if rounds is not None:
        return rounds
    return max(BY_KEY[key].reps // (10 if quick else 1), 10)


def measure(lab: Lab, keys, quick: bool, rounds: int | None = None) -> dict[str, list[float]]:
    """Warm up each measure, then take its samples round-robin with the others, so
    every figure in a group sees the same load."""
    todo = {k: reps(k, quick, rounds) for k in keys}
    for k in todo:
        for _ in range(max(todo[k] // 20, 3)):
            _once(k, lab)
    samples: dict[str, list[float]] = {k: [] for k in todo}
    while any(len(samples[k]) < n for k, n in todo.items()):
        for k, n in todo.items():
            if len(samples[k]) < n:
                samples[k].append(_once(k, lab))
    return samples


def measure_group(lab: Lab, group: str, quick: bool, rounds: int | None = None) -> dict[str, list[float]]:
    """A group's samples: round-robin over its measures, or from its sampler (the
    sandbox's figures come from the grader's own measurement, which interleaves them)."""
    if group == "sandbox":
        try:
            got, lab.sandbox_source, why = containment.sample(lab.tiny, reps("sandboxed", quick, rounds))
        except (OSError, subprocess.SubprocessError) as e:
            raise BenchError(f"could not measure the grading sandbox: {e}") from e
        if why:
            raise Unavailable(why)
        return got
    lab.prepare(group)
    return measure(lab, [m.key for m in MEASURES if m.group == group], quick, rounds)


def _once(key: str, lab: Lab) -> float:
    try:
        return BY_KEY[key].once(lab)
    except (OSError, procstate.NoSuchProcess, TimeoutError) as e:  # e.g. no `ps` installed
        raise BenchError(f"could not measure {BY_KEY[key].label}: {e}") from e


def state_agreement(lab: Lab) -> dict:
    """Do /proc, ps and psutil give the same letter? (a zombie, and a sleeper) A source
    that gave no letter (ps not installed) is left out, and named: agree is None when
    fewer than two answered, as `pylab state` compares them."""
    seen = {"zombie": procstate.states(lab.zombie), "sleeper": procstate.states(lab.sleeper.pid)}
    letters = [{who: s for who, s in states.items() if len(s) == 1} for states in seen.values()]
    silent = sorted({who for states in seen.values() for who, s in states.items() if len(s) != 1})
    agree = None if any(len(known) < 2 for known in letters) else all(len(set(k.values())) == 1 for k in letters)
    return {"agree": agree, "states": seen, "no_answer": silent}


def _figure(key: str, xs: list[float], floor_median: float | None) -> dict:
    m = BY_KEY[key]
    qs = statistics.quantiles(xs, n=10) if len(xs) > 1 else [xs[0]] * 9
    med = statistics.median(xs)
    return {"key": key, "label": m.label, "group": m.group, "reps": len(xs), "median_s": med,
            "p10_s": qs[0], "p90_s": qs[-1], "floor": None if key in RATIO_FREE else FLOORS[m.group],
            "ratio": None if key in RATIO_FREE or not floor_median else med / floor_median}


def linkage(binary) -> str:
    """How a binary was linked, as far as the file tells: its ELF interpreter, and
    glibc's symbol versions (musl has none)."""
    data = open(binary, "rb").read()
    if b"ld-linux" in data[:4096]:
        return "dynamic"
    return "static, glibc" if b"GLIBC_" in data else "static, musl"


def _machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return {"host": platform.node(), "kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
            "python": platform.python_version(), "loadavg_start": os.getloadavg()[0],
            "supervisor": linkage(toolchain.tool("supervise")), "tracer": tracer_name(),
            "autogroup": autogroup()}


def autogroup() -> bool | None:
    """Is the kernel's autogroup on (each session a scheduling group of its own)?"""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return None


def tracer_name() -> str:
    """Which tracer a traced run uses here."""
    return "tracelog (the lab's, ptrace)" if tracer.lab_tracer() is not None else "strace -f"


def collect(quick: bool = False, rounds: int | None = None) -> dict:
    """Every figure, the state check, the suite and the grader, and the targets.
    rounds: samples per figure (None: each figure's own count)."""
    command = "pylab bench" + (" --quick" if quick else "") + (f" --rounds {rounds}" if rounds else "")
    report = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": command, "quick": quick, "rounds": rounds,
              "machine": _machine(), "unmeasured": {}}
    samples: dict[str, list[float]] = {}
    with Lab() as lab:
        for group in FLOORS:
            try:
                samples.update(measure_group(lab, group, quick, rounds))
            except Unavailable as e:
                report["unmeasured"][group] = f"not measured: {e}"
        report["states"] = state_agreement(lab)
        report["traced_processes"] = getattr(lab, "traced_processes", None)
        report["sandbox_source"] = getattr(lab, "sandbox_source", None)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    report["figures"] = [_figure(k, samples[k], medians.get(FLOORS[BY_KEY[k].group])) for k in samples]
    report["suite"] = bench_suite.suite_time(skip=quick)
    report["grader"] = bench_suite.grader_time(skip=quick)
    report["machine"]["loadavg_end"] = os.getloadavg()[0]
    report["targets"] = targets.judge(report)
    return report


# -- the report ------------------------------------------------------------------------
def _time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _decimals(t: dict) -> int:
    """2 (0 from 100 up), or 3 when 2 would show a value just past its limit as the limit."""
    if t["value"] >= 100:
        return 0
    return 3 if round(t["value"], 2) == t["limit"] and t["value"] != t["limit"] else 2


def render(report: dict) -> str:
    m = report["machine"]
    out = [f"pylab bench ({report['command']}): {report['date']}",
           f"{m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}, Python {m['python']}, "
           f"load {m['loadavg_start']:.2f} -> {m['loadavg_end']:.2f}, supervisor linked {m['supervisor']}, "
           f"tracer {m.get('tracer', '?')}",
           "medians after a warm-up (p10-p90 beside them); x floor = median / the group's floor", ""]
    width = max(len(f["label"]) for f in report["figures"]) + 2
    for group, title in GROUP_TITLES.items():
        out.append(title)
        if group in report["unmeasured"]:
            out.append(f"  {report['unmeasured'][group]}")
        elif group == "sandbox" and report.get("sandbox_source"):
            out.append(f"  measured by {report['sandbox_source']}")
        for f in (f for f in report["figures"] if f["group"] == group):
            ratio = "" if f["ratio"] is None else f"{f['ratio']:7.2f}x"
            spread = f"({_time(f['p10_s'])} - {_time(f['p90_s'])}, n={f['reps']})"
            out.append(f"  {f['label']:<{width}}{_time(f['median_s']):>10} {ratio:>8}   {spread}")
        out.append("")
    st = report["states"]
    verdict = {True: "yes", False: "NO", None: "cannot tell"}[st["agree"]]
    silent = f" ({', '.join(st['no_answer'])} gave no state)" if st.get("no_answer") else ""
    out.append(f"States agree across /proc, ps, psutil: {verdict}{silent}  "
               + "; ".join(f"{who}: {s}" for who, s in st["states"].items()))
    for key in ("suite", "grader"):
        r = report[key]
        shown = _time(r["seconds"]) if r.get("seconds") is not None else "not measured"
        out.append(f"{r['label']}: {shown}" + (f" ({r['note']})" if r.get("note") else ""))
        out += [f"  {s['seconds']:.2f} s  {s['phase']:<5} {s['test']}" for s in r.get("slowest", [])]
    out += ["", "Targets (ratios from this run)"]
    for t in report["targets"]:
        mark = {True: "met", False: "NOT MET", None: "n/a"}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']:.{_decimals(t)}f}{t['unit']}"
        note = f"  ({t['note']})" if t["note"] else ""
        out.append(f"  [{mark:^7}] {t['target']}: {value} (target {t['rule']} {t['limit']}{t['unit']}){note}")
    return "\n".join(out)


def main(args) -> int:
    try:
        report = collect(quick=bool(getattr(args, "quick", False)), rounds=getattr(args, "rounds", None))
    except BenchError as e:
        print(f"pylab: error: bench: {e}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        emit_json(report)
    else:
        print(render(report))
    return 0
