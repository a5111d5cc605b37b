"""What an exercise is: a folder with a statement, a starter, a reference and checks.

    EXERCISE_DIR/
      exercise.toml   summary, the file a submission holds, checks declared as data
      statement.md    what students read
      starter.c       what students start from (TODOs; it compiles)
      reference.c     the instructor's solution (or `lesson = NAME`: one of the lab's own)
      checks.py       optional: visible checks written in Python (students get this file)
      hidden.py       optional: hidden / after-due-date checks in Python (they never do)

docs/assignments.md describes the layout; pylab.grading.assignment loads it. A check
observes behaviour through `ctx` (a supervised run of the student's binary in the
sandbox) and either returns (full points; or a fraction in [0, 1] for partial credit)
or raises Fail with what was expected, what was observed and a hint.
"""
from __future__ import annotations

import errno
import functools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pylab.core.status import signal_name
from pylab.grading import safe
from pylab.run import toolchain

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
MARK = "_pylab_check"  # the attribute @check leaves on a function


class Fail(Exception):
    """A check did not pass: what was expected, what was observed, how to fix it, and
    the share of the check's points earned all the same (partial credit, 0 by default)."""

    def __init__(self, expected: str, observed: str, hint: str = "", credit: float = 0.0):
        super().__init__(f"expected {expected}; observed {observed}")
        self.expected = expected
        self.observed = observed
        self.hint = hint
        self.credit = min(max(float(credit), 0.0), 1.0)


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    points: float
    fn: Callable
    visibility: str = "visible"
    hint: str = ""
    time_limit: float | None = None  # seconds for all the check's runs; None: the grader's wall limit


def _with_time_limit(fn: Callable, seconds: float) -> Callable:
    """fn(ctx) with the context's deadline set to `seconds` from the start of the check."""
    @functools.wraps(fn)
    def timed(ctx):
        if hasattr(ctx, "deadline"):
            ctx.deadline = time.monotonic() + seconds
        if hasattr(getattr(ctx, "limits", None), "with_"):  # so messages name this check's limit
            ctx.limits = ctx.limits.with_(wall=seconds)
        try:
            return fn(ctx)
        except Fail as f:
            if f.observed == "the time for this check ran out":
                raise Fail(expected=f"the check to finish within its {seconds:g} s", observed=f.observed,
                           hint=f.hint) from None
            raise
    return timed


def make_check(fn: Callable, title: str, points: float = 1.0, visibility: str = "visible", hint: str = "",
               time_limit: float | None = None, name: str | None = None) -> Check:
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    if float(points) < 0:
        raise ValueError(f"points must be 0 or more, not {points!r}")
    if time_limit is not None and not float(time_limit) > 0:
        raise ValueError(f"time_limit must be a number of seconds above 0, not {time_limit!r}")
    run = _with_time_limit(fn, float(time_limit)) if time_limit else fn
    return Check(name or fn.__name__, title, float(points), run, visibility, hint,
                 float(time_limit) if time_limit else None)


def check(title: str, points: float = 1.0, visibility: str = "visible", hint: str = "",
          time_limit: float | None = None):
    """Decorator for a check in an exercise's checks.py / hidden.py: fn(ctx) is collected
    by the loader, in definition order."""
    make_check(lambda ctx: None, title, points, visibility, hint, time_limit)  # bad values fail here, at import

    def mark(fn):
        setattr(fn, MARK, dict(title=title, points=points, visibility=visibility, hint=hint, time_limit=time_limit))
        return fn
    return mark


@dataclass
class Exercise:
    folder: Path               # the exercise's folder
    summary: str
    reference: str | None = None  # "lesson:NAME" (the lab's csrc/programs/NAME.c) or a file in the folder
    checks: list[Check] = field(default_factory=list)
    source: str = ""           # the file a submission must hold; default FOLDER_NAME.c
    name: str = ""             # default: the folder's name

    def __post_init__(self):
        self.folder = Path(self.folder)
        if self.folder.suffix == ".py":  # code written when an exercise was NAME.py
            self.folder = self.folder.with_suffix("")
        self.name = self.name or self.folder.name
        self.source = self.source or f"{self.name}.c"

    @property
    def module_file(self) -> Path:  # the name older code used for the exercise's location
        return self.folder

    @property
    def statement(self) -> str:
        return (self.folder / "statement.md").read_text()

    @property
    def starter(self) -> str:
        return (self.folder / "starter.c").read_text()

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def reference_source(self) -> Path | None:
        """The reference solution's file, or None when it is not there (yet)."""
        ref = self.reference or "reference.c"
        if ref.startswith("lesson:"):
            prog = toolchain.programs().get(ref.split(":", 1)[1])
            return prog.source if prog else None
        path = self.folder / ref
        return path if path.is_file() else None

    def check(self, title: str, points: float = 1.0, visibility: str = "visible", hint: str = "",
              time_limit: float | None = None):
        """Decorator: register fn(ctx) as a check of this exercise, in definition order."""
        def register(fn):
            self.checks.append(make_check(fn, title, points, visibility, hint, time_limit))
            return fn
        return register


# -- helpers the checks share ---------------------------------------------------------
SIGNAL_HINTS = {
    "SIGSEGV": "a segmentation fault: an invalid memory access (a bad pointer, an array overrun)",
    "SIGABRT": "abort(): often a failed assert or a corrupted heap",
    "SIGXCPU": "it used more CPU time than allowed: an endless loop?",
    "SIGXFSZ": "it wrote a file larger than allowed",
    "SIGKILL": "it was killed (by a limit or by the grader)",
    "SIGFPE": "an arithmetic error such as a division by zero",
    "SIGPIPE": "it wrote to a closed pipe",
}


def describe_run(result, limits=None) -> str | None:
    """A sentence a student can act on when a run went wrong, or None when it ran cleanly
    (ended by itself, nothing left running, output within the cap)."""
    if result.exec_error == errno.EAGAIN:  # (a run the grader waits for is retried first: sandbox.Shortage)
        return ("the program could not be started: no process was to be had (the process limit it shares, "
                "with this submission's other runs or, without namespaces, with the user's other work, was used "
                "up at that moment: a fork loop in another exercise?)")
    if result.exec_error is not None:
        return f"the program could not be started: {os.strerror(result.exec_error)}"
    if result.truncated:
        cap = f"{limits.output // 1024} KiB" if limits else "the output limit"
        return f"the program printed more than {cap}; the run was stopped there (an output loop?)"
    if result.timed_out:
        many = len(result.stragglers)
        extra = (f"; it had created {many} more processes, a fork loop?" if many > 2 else "")
        wall = f" {limits.wall:g} s" if limits else ""
        return (f"the program was still running after the time limit{wall} and was killed "
                f"(an endless loop, or waiting for input that never comes?){extra}")
    if result.signal is not None:
        name = signal_name(result.signal)
        return f"the program was killed by {name}: {SIGNAL_HINTS.get(name, 'see man 7 signal')}"
    if result.stragglers:
        return (f"the program ended but left {len(result.stragglers)} process(es) running, which the "
                f"grader killed: every process you create must end (or be waited for) before yours does")
    return None


def require_clean(result, limits=None, expected: str = "the program to end by itself"):
    """Raise Fail when the run timed out, crashed, flooded or left processes behind."""
    trouble = describe_run(result, limits)
    if trouble:
        raise Fail(expected=expected, observed=trouble + _shown(result))


def _shown(result) -> str:
    if not result.stdout_text.strip():
        return ""
    return f"\nits output was: {safe.quote(result.stdout_text.strip())}"


def output_of(result) -> str:
    """stdout for a message: quoted, safe, short, or 'nothing on stdout'."""
    if not result.stdout:
        return "nothing on stdout"
    return "stdout: " + safe.quote(result.stdout_text, limit=400)


def find_lines(result, pattern: str) -> list[re.Match]:
    """Every stdout line that fully matches the regex, as match objects (in order)."""
    rx = re.compile(pattern)
    return [m for m in (rx.fullmatch(ln) for ln in result.lines) if m]
