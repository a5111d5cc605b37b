"""`pylab starter DIR`, `pylab check [DIR]`, `pylab grade DIR ...` (wired in pylab/cli.py).

Exit status: 0 full marks (every visible check passes, for `check`), 1 below full
marks, 2 a usage or environment error (results files are still written).
Limits can be set for a course with PYLAB_GRADE_LIMITS, e.g. "wall=3,cpu=1,nproc=16".
"""
from __future__ import annotations

import dataclasses
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from pylab.grading import reporters
from pylab.grading.grader import Report, grade_submission
from pylab.grading.sandbox import Limits

from pylab.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
BATCH_DEFAULT_OUT = "pylab-results"


def _usage(msg):
    from pylab.core.errors import UsageError

    return UsageError(msg)


def limits_from_env() -> Limits:
    spec = os.environ.get("PYLAB_GRADE_LIMITS", "").strip()
    limits = Limits()
    if not spec:
        return limits
    fields = {f.name: f.type for f in dataclasses.fields(Limits)}
    changes = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in fields or not value:
            raise _usage(f"PYLAB_GRADE_LIMITS: unknown or empty limit {part!r} (known: {', '.join(fields)})")
        try:
            changes[name] = float(value) if name in ("wall", "linger", "compile_wall") else int(value)
        except ValueError:
            raise _usage(f"PYLAB_GRADE_LIMITS: {name} must be a number, not {value!r}") from None
    return limits.with_(**changes)


def _exercises():
    from pylab.grading.exercises import all_exercises

    found = all_exercises()
    if not found:
        raise _usage("no exercise is available (their reference programs are missing from csrc/programs)")
    return found


# -- starter ---------------------------------------------------------------------------
def starter(args) -> int:
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise _usage(f"{target} exists and is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    index = ["# Assignment: the process lifecycle in C", "",
             "Write one C file per exercise in this folder (the starters are here, with TODOs).",
             "Check your work with `pylab check` (visible checks only; more run when graded).", ""]
    kept = []
    for ex in _exercises():
        for name, text in ((ex.source, ex.starter), (f"{ex.name}.md", ex.statement)):
            path = target / name
            if path.exists():
                kept.append(name)
                continue
            path.write_text(text)
        index.append(f"- [{ex.name}]({ex.name}.md) ({ex.max_score:g} points): {ex.summary}")
    (target / "README.md").write_text("\n".join(index) + "\n")
    print(f"wrote the starter files for {len(_exercises())} exercises to {target}/ (README.md lists them)")
    if kept:
        print(f"kept your existing files: {', '.join(kept)}")
    return EXIT_OK


# -- check (students) ------------------------------------------------------------------
def check(args) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise _usage(f"no such directory: {folder}")
    report = grade_submission(folder, _exercises(), limits_from_env(), visible_only=True)
    print(reporters.student_view(report))
    if report.env_error:
        return EXIT_USAGE
    return EXIT_OK if all(r.passed for r in report.results) else EXIT_FAILED


# -- grade (CI) ---------------------------------------------------------------------------
def _is_batch(folder: Path) -> bool:
    """A folder of submissions: no C file of its own, and sub-folders (one per student),
    at least one of which holds C files."""
    if any(folder.glob("*.c")):
        return False
    return any(p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.c")) for p in folder.iterdir())


def _status(report: Report) -> int:
    if report.env_error:
        return EXIT_USAGE
    return EXIT_OK if report.full_marks else EXIT_FAILED


def grade(args) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise _usage(f"no such directory: {folder}")
    if args.jobs < 1:
        raise _usage(f"--jobs must be at least 1, not {args.jobs}")
    if args.tests and not Path(args.tests).is_dir():
        raise _usage(f"--tests: no such directory: {args.tests}")
    limits = limits_from_env()
    exercises = _exercises()
    if _is_batch(folder):
        return _grade_batch(folder, args, limits, exercises)
    report = Report(str(folder))
    try:
        report = grade_submission(folder, exercises, limits, extra_tests=args.tests)
    finally:  # written even when the grader itself fails
        _write(report, args.results, args.junit)
    print(reporters.table(report))
    return _status(report)


def _write(report: Report, results: str | None, junit: str | None) -> None:
    if results:
        reporters.write_atomic(results, reporters.dumps(reporters.gradescope(report)))
    if junit:
        reporters.write_atomic(junit, reporters.junit(report))


class Progress:
    """A bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.lock = threading.Lock()

    def step(self, name: str, report: Report) -> None:
        with self.lock:
            self.done += 1
            what = f"{name}: {report.score:g}/{report.max_score:g}" + (" (error)" if report.env_error else "")
            if self.tty:
                width = 30
                fill = width * self.done // self.total
                self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} {what[:40]:<40}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"graded {self.done}/{self.total}: {what}\n")
            self.stream.flush()


def _grade_batch(folder: Path, args, limits: Limits, exercises) -> int:
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    out = Path(args.results or BATCH_DEFAULT_OUT)
    junit_dir = Path(args.junit) if args.junit else None
    if out.exists() and not out.is_dir():
        raise _usage(f"--results {out}: for a folder of submissions this must be a directory")
    progress = Progress(len(subs))
    reports: dict[str, Report] = {}

    def one(sub: Path) -> Report:
        report = Report(str(sub))
        try:
            report = grade_submission(sub, exercises, limits, extra_tests=args.tests)
        except Exception as e:  # never lose the batch to one submission
            report.env_error = f"the grader hit an error: {type(e).__name__}: {e}"
        finally:
            _write(report, out / f"{sub.name}.json",
                   junit_dir / f"{sub.name}.xml" if junit_dir else None)
        return report

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(one, sub): sub.name for sub in subs}
        for fut in as_completed(futures):
            name = futures[fut]
            reports[name] = fut.result()
            progress.step(name, reports[name])
    ordered = [(s.name, reports[s.name]) for s in subs]
    reporters.write_atomic(out / "summary.csv", reporters.csv_summary(ordered))
    for name, rep in ordered:
        print(f"{name:<24} {rep.score:g}/{rep.max_score:g}" + (f"  ({rep.env_error})" if rep.env_error else ""))
    print(f"{len(ordered)} submissions graded; results in {out}/ (summary.csv and one NAME.json each)")
    if any(r.env_error for _, r in ordered):
        return EXIT_USAGE
    return EXIT_OK if all(r.full_marks for _, r in ordered) else EXIT_FAILED
