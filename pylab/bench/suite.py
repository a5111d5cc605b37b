"""The slow half of `pylab bench`: the test suite's wall time, and grading one submission.

Both run in a subprocess, as a student or CI would run them, so interpreter start-ups and
compiles are counted. Each says plainly when it cannot be measured here (no tests/ folder
beside the installed package, a starter that fails) instead of reporting a number.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pylab.grading.assignment import builtin
from pylab.run import toolchain

SUITE_ARGS = ("-q", "-p", "no:cacheprovider", "-k", "not notebook", "--durations=5")
TIMEOUT = 900


def source_tree() -> Path | None:
    """The checkout whose tests/ belong to this pylab: beside the package (an editable
    install), else the current folder when it holds pylab's tests."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "tests" / "conftest.py").is_file() and (root / "csrc").is_dir():
            return root
    return None


def _skipped(label: str, why: str) -> dict:
    return {"label": label, "seconds": None, "note": why}


def suite_time(skip: bool = False) -> dict:
    label = "test suite without notebooks (pytest -k 'not notebook' tests)"
    if skip:
        return _skipped(label, "skipped with --quick")
    root = source_tree()
    if root is None:
        return _skipped(label, "not available: no tests/ folder here (run from the source tree)")
    cmd = [sys.executable, "-P", "-m", "pytest", *SUITE_ARGS, "tests"]
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=TIMEOUT,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return _skipped(label, f"did not finish within {TIMEOUT} s")
    seconds = time.perf_counter() - t0
    summary = (out.stdout.strip().splitlines() or [""])[-1].strip("= ")
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary)}
    slowest = slowest_tests(out.stdout)
    failed = failed_tests(out.stdout)
    note = "" if out.returncode == 0 else f"the suite failed (exit {out.returncode}): {summary}"
    if failed:
        note += f"; {', '.join(failed[:3])}" + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    return {"label": label, "seconds": seconds, "exit_code": out.returncode, "summary": summary,
            "counts": counts, "slowest": slowest, "failed": failed, "note": note}


def failed_tests(pytest_output: str) -> list[str]:
    """The tests pytest's short summary (-ra) lists as FAILED or ERROR, in its order."""
    return re.findall(r"^(?:FAILED|ERROR) (\S+)", pytest_output, re.M)


def slowest_tests(pytest_output: str) -> list[dict]:
    """The lines of pytest's --durations table: where the suite's time goes."""
    return [{"seconds": float(sec), "phase": phase, "test": test} for sec, phase, test in
            re.findall(r"^([\d.]+)s (setup|call|teardown)\s+(\S.*?)\s*$", pytest_output, re.M)]


def _references() -> dict[str, Path]:
    """{file a submission holds: its reference solution}, from the practice assignment's
    exercise folders (pylab/grading/exercises/*/, read by pylab.grading.assignment): an
    exercise names its file (`source`) and its reference (a file of its folder, or one
    of the lab's lessons), which need not share its name."""
    return {ex.source: ex.reference_source() for ex in builtin().exercises if ex.reference_source()}


def _reference_for(starter: Path) -> Path | None:
    """The lab's reference solution with the starter file's name, if the lab has one."""
    for found in sorted(toolchain.csrc_dir().rglob(starter.name)):
        if not {"tools", "lib", "include"} & set(found.relative_to(toolchain.csrc_dir()).parts):
            return found
    return None


def _pylab(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "pylab", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL)


def grader_time(skip: bool = False) -> dict:
    """Wall time of `pylab grade` on a submission made of the lab's reference solutions:
    `pylab starter` writes the files, each is replaced by its exercise's reference (by
    the practice assignment's exercise folders, else the lab's program of the same
    name). Full marks are checked against the assignment's own max_score, and the
    containment the grader used (its --json report) is reported with the time."""
    label = "grading one full submission (pylab grade DIR)"
    if skip:
        return _skipped(label, "skipped with --quick")
    with tempfile.TemporaryDirectory(prefix="pylab-bench-") as tmp:
        sub, results = Path(tmp, "submission"), Path(tmp, "results.json")
        made = _pylab("starter", str(sub))
        if made.returncode != 0:
            return _skipped(label, f"pylab starter failed: {(made.stderr or made.stdout).strip()[:200]}")
        starters = [c for c in sorted(sub.rglob("*.c")) if c.is_file()]
        known = _references()
        filled = 0
        for c in starters:
            ref = known.get(c.name) or _reference_for(c)
            if ref is not None:
                shutil.copyfile(ref, c)
                filled += 1
        t0 = time.perf_counter()
        graded = _pylab("grade", str(sub), "--results", str(results), "--json")
        seconds = time.perf_counter() - t0
        score = containment = own = None
        try:  # --json: the grader's own report, with the containment it used
            data = json.loads(graded.stdout)
            score, containment, own = data.get("score"), data.get("containment"), data.get("execution_time")
        except ValueError:
            pass
        if not results.is_file():
            score = None  # a grade must leave results.json
        max_score = builtin().max_score
        note = f"{filled} of {len(starters)} starter files replaced by reference solutions"
        if containment:
            note += f"; containment: {containment}"
        if own is not None:  # the rest of the wall time is the interpreter's start-up and imports
            note += f"; the grader's own execution_time {own:.2f} s"
        if score is None or score != max_score:
            note += f"; not full marks ({score} of {max_score}, exit {graded.returncode})"
        return {"label": label, "seconds": seconds, "exit_code": graded.returncode, "score": score,
                "max_score": max_score, "containment": containment, "execution_time": own, "note": note}
