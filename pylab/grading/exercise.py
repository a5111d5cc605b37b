"""What an exercise is: a statement, a starter file, a reference program and checks.

An exercise lives in pylab/grading/exercises/ as three small files named after it:
NAME.py (the checks), NAME.md (the statement students read) and NAME.c (the starter
with TODOs). Its reference solution is csrc/programs/NAME.c; an exercise whose
reference program is not there yet is not offered (so new exercises can be written
before their programs land).

    EXERCISE = Exercise(__file__, "fork once: one line from the parent, one from the child")

    @EXERCISE.check("both lines appear", points=2, hint="...")
    def both_lines(ctx):
        result = ctx.run()
        ...raise Fail(expected=..., observed=...) or return a fraction for partial credit

A check observes behaviour through `ctx` (a supervised run of the student's binary)
and either returns (full points; or a fraction in [0, 1] for partial credit) or
raises Fail with what was expected, what was observed and a hint.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class Fail(Exception):
    """A check did not pass: what was expected, what was observed, how to fix it."""

    def __init__(self, expected: str, observed: str, hint: str = ""):
        super().__init__(f"expected {expected}; observed {observed}")
        self.expected = expected
        self.observed = observed
        self.hint = hint


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    points: float
    fn: Callable
    visibility: str = "visible"
    hint: str = ""


@dataclass
class Exercise:
    module_file: str
    summary: str
    reference: str | None = None  # csrc/programs/REFERENCE.c; defaults to the name
    checks: list[Check] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.module_file).stem

    @property
    def source(self) -> str:
        """The file a submission must contain."""
        return f"{self.name}.c"

    @property
    def statement(self) -> str:
        return Path(self.module_file).with_suffix(".md").read_text()

    @property
    def starter(self) -> str:
        return Path(self.module_file).with_suffix(".c").read_text()

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def reference_source(self) -> Path | None:
        from pylab.run import toolchain

        prog = toolchain.programs().get(self.reference or self.name)
        return prog.source if prog else None

    def check(self, title: str, points: float = 1.0, visibility: str = "visible", hint: str = ""):
        """Decorator: register fn(ctx) as a check of this exercise, in definition order."""
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")

        def register(fn):
            self.checks.append(Check(fn.__name__, title, float(points), fn, visibility, hint))
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
    from pylab.core.status import signal_name

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
    text = result.stdout_text.strip()
    if not text:
        return ""
    if len(text) > 300:
        text = text[:300] + " ..."
    return f"\nits output was:\n{text}"


def output_of(result) -> str:
    """stdout for a message: quoted, short, or 'nothing'."""
    text = result.stdout_text
    if not text:
        return "nothing on stdout"
    if len(text) > 400:
        text = text[:400] + " ..."
    return "stdout:\n" + text


def find_lines(result, pattern: str) -> list[re.Match]:
    """Every stdout line that fully matches the regex, as match objects (in order)."""
    rx = re.compile(pattern)
    return [m for m in (rx.fullmatch(ln) for ln in result.lines) if m]
