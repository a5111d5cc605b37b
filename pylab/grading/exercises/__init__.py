"""The exercises: one NAME.py (checks), NAME.md (statement) and NAME.c (starter) each.

all_exercises() gives those whose reference program (csrc/programs/NAME.c) exists, in
course order; an exercise written ahead of its program is enabled the moment the
program lands."""
from __future__ import annotations

import importlib
import pkgutil

from pylab.grading.exercise import Exercise

# Course order; an exercise not listed here comes after these, by name.
ORDER = ("getpid_test", "fork_test", "exit_test1", "exit2", "_exit1", "zombie",
         "wait_status", "orphan", "sigchld_reap", "fork_stdio", "fork_server")


def _load() -> list[Exercise]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "EXERCISE", None), Exercise):
            found.append(module.EXERCISE)
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda e: (rank.get(e.name, len(ORDER)), e.name))


def all_exercises(include_pending: bool = False) -> list[Exercise]:
    """Every exercise ready to grade (its reference program exists); with
    include_pending, also those still waiting for their program."""
    return [e for e in _load() if include_pending or e.reference_source() is not None]


def find(name: str) -> Exercise:
    for e in _load():
        if e.name == name:
            return e
    raise KeyError(name)
