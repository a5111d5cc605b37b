"""Grade one submission: compile each exercise's file, run its checks, collect results.

A submission is a folder holding NAME.c for each exercise. Every check runs under
the sandbox's limits (pylab.grading.sandbox); whatever goes wrong inside one check
(the student's program or the grader itself) fails that check with a reason, and
the others still run. Instructor checks written as pytest files (--tests DIR) run in
a separate pytest process, with the lab's plugin, and join the results.
"""
from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pylab.run import toolchain
from pylab.grading.exercise import Exercise, Fail
from pylab.grading.sandbox import (PARALLEL_COMPILES, PARALLEL_RUNS, Context, Limits, Refused, Sandbox,
                                   SandboxError, Shortage, read_submission_file)
from pylab.grading.sandbox import sweep as sandbox_sweep

COMPILER_OUTPUT_CAP = 3000
EXTRA_TIMEOUT = 120.0  # seconds for the instructor checks to run, once pytest has collected them
EXTRA_STARTUP = 60.0  # seconds for that pytest to start and collect (a loaded machine's, not the checks')
EXTRA_STOP_GRACE = 10.0  # seconds that pytest has, once told to stop, to close its sandboxes before it is killed
WATCHDOG_GRACE = 3.0  # seconds a check may run past its wall limit before the grader ends it
CONTAINMENTS = ("namespaces", "uid")  # what grade_submission(containment=) accepts
# compiler threads and exercises checked at once per submission: the sandbox sizes its
# pids cgroup for exactly these
COMPILE_AHEAD, EXERCISE_JOBS = PARALLEL_COMPILES, PARALLEL_RUNS


@dataclass
class CheckResult:
    exercise: str
    check: str
    title: str
    number: str
    max_score: float
    score: float = 0.0
    visibility: str = "visible"
    expected: str = ""
    observed: str = ""
    hint: str = ""
    error: bool = False  # the grader failed here, not the student's program
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.observed and self.score >= self.max_score

    @property
    def name(self) -> str:
        return f"{self.exercise}: {self.title}"

    def output(self) -> str:
        if self.passed:
            return "passed"
        parts = [f"expected: {self.expected}", f"observed: {self.observed}"]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


@dataclass
class Report:
    submission: str
    results: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    env_error: str | None = None  # the machine, not the submission, stopped grading
    uid: int | None = None  # the uid student code ran as (None: the grader's own)
    killed_at_close: list[int] = field(default_factory=list)  # what the runs left for the sandbox to kill
    # how student code was contained: "namespaces" (the bubblewrap sandbox), "uid" (a
    # separate uid and hard limits only), "none" (the grader's own user, soft limits)
    containment: str | None = None

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.results), 4)

    @property
    def max_score(self) -> float:
        return round(sum(r.max_score for r in self.results), 4)

    @property
    def full_marks(self) -> bool:
        """Every point, and nothing the grader could not carry out: a result that is the
        grader's error (error), even one worth 0 points, is a grade not complete."""
        return self.env_error is None and not any(r.error for r in self.results) and self.score >= self.max_score

    def to_dict(self) -> dict:
        return {"submission": self.submission, "score": self.score, "max_score": self.max_score,
                "execution_time": round(self.execution_time, 3), "env_error": self.env_error,
                "containment": self.containment,
                "results": [asdict(r) | {"passed": r.passed} for r in self.results]}


def _results_for(ex: Exercise, index: int, visible_only: bool) -> list[CheckResult]:
    return [CheckResult(ex.name, c.name, c.title, f"{index}.{j}", c.points, visibility=c.visibility,
                        hint=c.hint)
            for j, c in enumerate(ex.checks, 1) if not visible_only or c.visibility == "visible"]


def _fail_all(results, expected, observed, hint="", error=False):
    for r in results:
        r.score, r.expected, r.observed, r.hint, r.error = 0.0, expected, observed, hint or r.hint, error


def _bounded(fn, seconds: float, on_overrun) -> bool:
    """Run fn() in a thread of its own and wait at most `seconds`: the grader's own
    watchdog, whatever the supervisor does. On overrun call on_overrun() (which ends
    the sandbox's runs, so the thread can finish) and return False; fn's thread is
    then left to end by itself (a daemon)."""
    done = threading.Event()
    failure = []

    def body():
        try:
            fn()
        except BaseException as e:  # fn's own errors are reported by fn; this is a last guard
            failure.append(e)
        finally:
            done.set()

    threading.Thread(target=body, daemon=True, name="pylab-check").start()
    if done.wait(seconds):
        if failure:
            raise failure[0]
        return True
    on_overrun()
    done.wait(WATCHDOG_GRACE)
    return False


def _run_check(check, ctx: Context, res: CheckResult) -> None:
    t0 = time.monotonic()

    scratch = dataclasses.replace(res)  # the check's thread writes here, never into res

    if _bounded(lambda: _check_body(check, ctx, scratch), ctx.limits.wall + WATCHDOG_GRACE, ctx.sandbox.kill_runs):
        for f in dataclasses.fields(res):
            setattr(res, f.name, getattr(scratch, f.name))
    else:
        res.score, res.error = 0.0, False
        res.expected = f"the check to finish within {ctx.limits.wall:g} s"
        res.observed = ("the grader had to stop this check: it was still running "
                        f"{WATCHDOG_GRACE:g} s after its time limit (did the program stop or trace its supervisor?)")
    res.duration = time.monotonic() - t0


def _check_body(check, ctx: Context, res: CheckResult) -> None:
    try:
        fraction = check.fn(ctx)
        fraction = 1.0 if fraction is None else min(max(float(fraction), 0.0), 1.0)
        res.score = round(res.max_score * fraction, 4)
        if fraction < 1.0:
            res.expected, res.observed = "full marks", f"partial credit: {fraction:.0%}"
    except Fail as f:
        res.score, res.expected, res.observed = round(res.max_score * getattr(f, "credit", 0.0), 4), f.expected, f.observed
        res.hint = f.hint or res.hint
    except Exception as e:  # the grader's own failure: this check only
        res.score, res.error = 0.0, True
        res.expected = "the check to run"
        res.observed = f"the grader hit an error in this check ({type(e).__name__}: {e}); tell your instructor"
        res.hint = "".join(traceback.format_exception_only(type(e), e)).strip()
    finally:
        ctx.close()


def read_source(ex: Exercise, submission: Path) -> bytes | tuple[str, str, str]:
    """The exercise's file, read once (never through a link), or (expected, observed,
    hint) when it cannot be graded: missing, a link, a FIFO, a device, too big, unreadable."""
    hint = f"submit {ex.source} as an ordinary file holding your C code"
    try:
        return read_submission_file(submission, ex.source)
    except FileNotFoundError:
        return (f"a file {ex.source} in your submission", f"{ex.source} is missing",
                f"name the file exactly {ex.source} ('pylab starter DIR' writes one to start from)")
    except Refused as e:
        return f"{ex.source}: a regular C file in your submission", str(e), hint
    except OSError as e:
        return (f"{ex.source}: a readable C file in your submission",
                f"{ex.source} cannot be read ({os.strerror(e.errno) if e.errno else e})", hint)


def compile_bounded(sandbox: Sandbox, source: Path, data: bytes | None = None) -> Path:
    """sandbox.compile(source, data) under the grader's own watchdog (compile_wall + grace)."""
    compiled = []
    if not _bounded(lambda: compiled.append(sandbox.compile(source, data)),
                    sandbox.limits.compile_wall + WATCHDOG_GRACE, sandbox.kill_runs):
        raise toolchain.CompileError(source, f"the compiler did not finish within {sandbox.limits.compile_wall:g} s")
    return compiled[0]


def grade_exercise(ex: Exercise, index: int, submission: Path, sandbox: Sandbox,
                   visible_only: bool = False, compiled: Future | None = None,
                   deadline: float | None = None, source_read=None) -> list[CheckResult]:
    """Compile (or take the binary `compiled` is building) and run every check; a check
    not started by `deadline` (time.monotonic()) fails with that reason. source_read:
    what read_source gave, when the caller has read the file already."""
    results = _results_for(ex, index, visible_only)
    source = submission / ex.source
    data = read_source(ex, submission) if source_read is None else source_read
    if not isinstance(data, bytes):
        _fail_all(results, *data)
        return results
    try:
        if compiled is not None:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            binary = compiled.result(timeout=left)
        else:
            binary = compile_bounded(sandbox, source, data)
    except TimeoutError:
        _fail_all(results, "the grader to reach this exercise", "grading of this submission ran out of time "
                  "while this file compiled (the grader's limit for one submission)")
        return results
    except Refused as e:
        _fail_all(results, f"{ex.source}: a regular C file in your submission", f"{e}",
                  hint=f"submit {ex.source} as an ordinary file holding your C code")
        return results
    except Shortage as e:  # before CompileError: nothing the code did, so not a compile error
        _fail_all(results, f"the grader to compile {ex.source}", f"{e}", error=True,
                  hint="grade it again; if it recurs, tell your instructor")
        return results
    except toolchain.CompileError as e:
        out = e.output if len(e.output) <= COMPILER_OUTPUT_CAP else e.output[:COMPILER_OUTPUT_CAP] + "\n[...]"
        shown = next((r for r in results if r.visibility == "visible"), results[0] if results else None)
        _fail_all(results, f"{ex.source} to compile", f"it does not compile (the compiler's output is in check "
                  f"{shown.number if shown else '?'})", hint="fix the first error the compiler reports, then the next")
        if shown:
            shown.observed = f"it does not compile; the compiler said:\n{out}"
        return results
    by_name = {c.name: c for c in ex.checks}
    for res in results:
        if deadline is not None and time.monotonic() > deadline:
            _fail_all([res], "the grader to reach this check", "grading of this submission ran out of "
                      "time before this check (the grader's limit for one submission)")
            continue
        _run_check(by_name[res.check], Context(sandbox, binary), res)
    return results


def submission_budget(exercises: list[Exercise], limits: Limits) -> float:
    """The grader's bound for one submission, whatever it does: every compile and every
    check at its own bound, one after the other (compiles run ahead, so it is never met
    by a submission that only hits its limits)."""
    per_check = limits.wall + WATCHDOG_GRACE
    return sum(limits.compile_wall + WATCHDOG_GRACE + per_check * len(ex.checks) for ex in exercises)


def grade_submission(submission: str | os.PathLike, exercises: list[Exercise] | None = None,
                     limits: Limits = Limits(), visible_only: bool = False,
                     extra_tests: str | os.PathLike | None = None, on_result=None,
                     containment: str | None = None) -> Report:
    """Grade one folder. Never raises for a bad submission; an environment problem
    (no compiler, no free uid, no namespaces) fails the checks left and sets
    report.env_error. containment: "namespaces" (the default for grading: refuse to
    run student code where the bubblewrap sandbox cannot be made) or "uid" (grade
    with the strongest containment there is; the default for visible_only, which is
    `pylab check`, a student on their own work). report.containment says what ran."""
    if containment is None:
        containment = "uid" if visible_only else "namespaces"
    if containment not in CONTAINMENTS:
        raise ValueError(f"containment must be one of {', '.join(CONTAINMENTS)}, not {containment!r}")
    from pylab.grading.exercises import all_exercises

    submission = Path(submission)
    exercises = all_exercises() if exercises is None else exercises
    report = Report(str(submission))
    t0 = time.monotonic()
    pending = [(ex, i) for i, ex in enumerate(exercises, 1)]
    try:
        with Sandbox(limits, fallback=containment != "namespaces") as sandbox:
            report.uid = sandbox.uid
            report.containment = sandbox.containment
            # Without namespaces every run shares one process limit (the uid's), so one
            # exercise's fork loop would leave another's runs no process: there the
            # exercises go one at a time, each compiled just before its checks.
            alone = not sandbox.walls
            # compile ahead: the compiler of the next exercises runs while checks run
            ahead = ThreadPoolExecutor(COMPILE_AHEAD, thread_name_prefix="pylab-compile")
            deadline = t0 + submission_budget([ex for ex, _ in pending], limits)
            checking = None  # made once the compiles are queued
            try:
                sources = {ex.name: read_source(ex, submission) for ex, _ in pending}  # each read once
                compiled = {} if alone else {
                    ex.name: ahead.submit(compile_bounded, sandbox, submission / ex.source, data)
                    for ex, _ in pending if isinstance(data := sources[ex.name], bytes)}
                # exercises in parallel (each check still has its own wall limit); their
                # results are reported in course order
                checking = ThreadPoolExecutor(1 if alone else EXERCISE_JOBS, thread_name_prefix="pylab-exercise")
                running = [(ex, i, checking.submit(grade_exercise, ex, i, submission, sandbox, visible_only,
                                                   compiled.get(ex.name), deadline, sources[ex.name]))
                           for ex, i in pending]
                for ex, i, future in running:
                    results = future.result()
                    pending.remove((ex, i))
                    report.results += results
                    if on_result:
                        on_result(results)
            finally:  # while the uid is still this submission's
                ahead.shutdown(wait=False, cancel_futures=True)
                if checking:
                    checking.shutdown(wait=False, cancel_futures=True)
                sandbox.kill_runs(for_good=True)  # a compile or check still going ends now
                ahead.shutdown(wait=True)
                if checking:
                    checking.shutdown(wait=True)
                report.killed_at_close = sandbox.close()
        if extra_tests is not None:
            incomplete: list[str] = []
            extra = extra_checks(Path(extra_tests), submission, limits, len(exercises) + 1, incomplete,
                                 containment=containment)
            report.results += [r for r in extra if not visible_only or r.visibility == "visible"]
            if incomplete:  # the instructor's checks did not all run: no full marks, an error
                report.env_error = "; ".join(incomplete)
    except (toolchain.CompilerMissing, SandboxError) as e:
        report.env_error = str(e)
    except Exception as e:  # the grader itself: what is left fails with the reason
        report.env_error = f"the grader hit an error: {type(e).__name__}: {e}"
    if report.env_error:
        for ex, i in pending:
            left = _results_for(ex, i, visible_only)
            _fail_all(left, "the grader to run this check", report.env_error, error=True)
            report.results += left
    report.execution_time = time.monotonic() - t0
    return report


# -- instructor checks: pytest files run with the lab's plugin -------------------------
def _until_collected(proc, ready: int, startup: float) -> bytes | None:
    """pytest's output until the plugin says it has collected the checks (a byte, or EOF
    when pytest ended first): EXTRA_TIMEOUT counts from there. None: not within
    `startup` seconds."""
    out = bytearray()
    deadline = time.monotonic() + startup
    stdout = proc.stdout.fileno()
    watching = [ready, stdout]
    while ready in watching:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        for fd in select.select(watching, [], [], left)[0]:
            chunk = os.read(fd, 1 << 16)
            if fd == ready or not chunk:
                watching.remove(fd)
            else:
                out += chunk
    return bytes(out)


class _Fd:
    """A file descriptor closed once, however often close() is called (a number closed
    twice may by then be another thread's file)."""

    def __init__(self, fd: int):
        self.fd = fd

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


def _stop_pytest(proc: subprocess.Popen, lifeline: _Fd) -> bytes:
    """Tell the instructor checks' pytest to stop (SIGTERM, and its lifeline ends): the
    plugin makes that a KeyboardInterrupt, and pytest's teardown closes every sandbox
    its checks made. One that has not ended within EXTRA_STOP_GRACE is killed, with all
    it started. Returns the rest of its output."""
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    lifeline.close()
    try:
        return proc.communicate(timeout=EXTRA_STOP_GRACE)[0] or b""
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        return proc.communicate()[0] or b""


def _kill_tree(pid: int) -> None:
    """SIGKILL pid's process group and every process below pid (its sandboxes' runs are
    in sessions of their own), each known by its start time (a pid freed meanwhile and
    reused is never signalled)."""
    from pylab.observe import procstate

    below = procstate.descendants_started(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p, start in below.items():
        try:
            if procstate.read_stat(p).starttime == start:
                os.kill(p, signal.SIGKILL)
        except (procstate.NoSuchProcess, ProcessLookupError):
            pass


def _end_pytest(proc: subprocess.Popen) -> None:
    """Nothing of pytest outlives this: a pytest still running (a stop that came while it
    was being stopped) is killed with all it started, and reaped; then its group."""
    if proc.poll() is None:
        _kill_tree(proc.pid)
        proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # what it started in its own group
    except ProcessLookupError:
        pass


def extra_checks(tests: Path, submission: Path, limits: Limits, index: int,
                 incomplete: list[str] | None = None, containment: str = "namespaces") -> list[CheckResult]:
    """Run the pytest files in `tests` against the submission; one result per test.
    Mark a test @pytest.mark.points(N) and @pytest.mark.visibility("hidden") as needed.
    Their fixtures run student code as the grader's own checks do: under `limits` (all
    of them) and `containment` (grade_submission's). A file that does not load, or a
    pytest that reports no test at all, is the grader's error (an error result worth 0
    points); what it means for the grade (the grade is incomplete) is appended to
    `incomplete`, naming the files.

    However it ends (done, out of time, or this grader stopped: KeyboardInterrupt),
    nothing of that pytest is left: told to stop, it closes its sandboxes itself
    (EXTRA_STOP_GRACE); one that does not is killed with all it started, and what its
    sandboxes had made is removed here (their ledger)."""
    tests = tests.resolve()  # pytest runs from a temp dir
    if not tests.is_dir():
        raise SandboxError(f"--tests: no such directory: {tests}")
    if not any(tests.rglob("test_*.py")) and not any(tests.rglob("*_test.py")):
        return []  # no test file (pytest's own names): no instructor check, and nothing broke
    with tempfile.TemporaryDirectory(prefix="pylab-extra-") as tmp:
        report = Path(tmp) / "report.json"
        ledger = Path(tmp) / "sandboxes.jsonl"
        cmd = [sys.executable, "-m", "pytest", str(tests), "-q", "-p", "no:cacheprovider",
               "-o", "addopts=",  # a project's own pytest options (xdist...) must not apply here
               f"--rootdir={tests}", f"--pylab-submission={submission.resolve()}",
               f"--pylab-report={report}", f"--pylab-limits={json.dumps(asdict(limits))}",
               f"--pylab-containment={containment}", f"--pylab-ledger={ledger}"]
        from pylab.grading import pytest_plugin
        if not pytest_plugin.registered_by_entry_point():
            cmd[3:3] = ["-p", "pylab.grading.pytest_plugin"]
        ready_r, ready_w = os.pipe()  # the plugin writes to it once the checks are collected
        life_r, life_w = os.pipe()  # ours: pytest stops when it ends (we stopped, or are gone)
        lifeline = _Fd(life_w)
        cmd += [f"--pylab-ready-fd={ready_w}", f"--pylab-lifeline={life_r}"]
        proc = None
        try:
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=tmp, pass_fds=(ready_w, life_r))
            finally:
                os.close(ready_w)
                os.close(life_r)
            try:
                early = _until_collected(proc, ready_r, EXTRA_STARTUP)
                out, _ = proc.communicate(timeout=EXTRA_TIMEOUT if early is not None else 0)
            except subprocess.TimeoutExpired:  # the checks' time ran out: what finished counts
                out = _stop_pytest(proc, lifeline)
            except BaseException:  # this grader was stopped (KeyboardInterrupt), or failed
                _stop_pytest(proc, lifeline)
                raise
        finally:
            os.close(ready_r)
            lifeline.close()  # (a pytest that started while we were stopped stops by itself)
            if proc is not None:
                _end_pytest(proc)
            sandbox_sweep(ledger)  # what the sandboxes of a pytest that was killed left
        out = (early or b"") + (out or b"")
        entries = json.loads(report.read_text()) if report.exists() else []
    results, unloaded = [], []
    for j, e in enumerate(entries, 1):
        if e.get("unloaded"):
            unloaded.append(e["nodeid"])
        r = CheckResult(e.get("exercise") or "instructor", e["nodeid"], e["name"], f"{index}.{j}",
                        float(e["points"]), visibility=e["visibility"], hint=e.get("hint", ""),
                        error=bool(e.get("error")))
        r.score = round(r.max_score * e.get("credit", 1.0 if e["outcome"] == "passed" else 0.0), 4)
        if e["outcome"] != "passed" or r.score < r.max_score:
            r.expected = e.get("expected") or "the instructor's check to pass"
            r.observed = e["message"] or e["outcome"]
        results.append(r)
    if not entries:
        text = out.decode(errors="replace")[-COMPILER_OUTPUT_CAP:]
        results.append(CheckResult("instructor", "collection", "instructor checks ran", f"{index}.1", 0.0,
                                   expected="the instructor's pytest files to run",
                                   observed=f"no test reported (pytest said:\n{text})", error=True))
    if incomplete is not None:
        if unloaded:
            files = ", ".join(unloaded)
            incomplete.append(f"the instructor's check file{'s' if len(unloaded) > 1 else ''} {files} could not "
                              "be loaded, so the grade is incomplete (the grader's error, not the submission's)")
        if not entries:
            incomplete.append("the instructor's pytest checks did not run (pytest reported no test), so the grade "
                              "is incomplete (the grader's error, not the submission's)")
    return results
