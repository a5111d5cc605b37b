"""The lab's practice assignment: eleven exercise folders and their assignment.toml.

Practice only: each exercise's reference is one of the lab's own lessons
(csrc/programs/NAME.c), so its answers ship with the package. A course grades its own
assignment folder instead (`--assignment DIR`, docs/assignments.md).

all_exercises() gives those whose lesson exists, in the assignment's order; an exercise
written ahead of its lesson is enabled the moment the lesson lands."""
from __future__ import annotations

from pylab.grading.assignment import builtin
from pylab.grading.exercise import Exercise


def all_exercises(include_pending: bool = False) -> list[Exercise]:
    """Every exercise ready to grade (its reference lesson exists); with include_pending,
    also those still waiting for their lesson."""
    return [e for e in builtin().exercises if include_pending or e.reference_source() is not None]


def find(name: str) -> Exercise:
    for e in builtin().exercises:
        if e.name == name:
            return e
    raise KeyError(name)
