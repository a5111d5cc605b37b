"""The shape of every claim of the tour: an observation, then a judge of it.

A claim is registered in its module's CLAIMS list with the function that observes (runs
the experiment, returns plain data) and decorates the judge (a pure function: that data
-> a Finding). Nothing in a verdict is hard-coded: feed a judge another observation and
its verdict follows, which is how the tests check every judge.

Verdicts:
  confirmed   observed as the seed says
  qualified   holds only under a condition the lab names (`condition`)
  refuted     not so on this machine
  unverified  the experiment could not observe it here (`missing` says what was missing:
              a tool, a kernel feature, a permission); never `qualified` for that
A Finding may also carry `documentation`: what the verdict takes from the kernel's or a
standard's documentation rather than from this run (labelled as such wherever shown).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("confirmed", "qualified", "refuted", "unverified")


@dataclass
class Finding:
    verdict: str
    evidence: dict
    condition: str | None = None      # qualified: the condition the claim needs
    missing: str | None = None        # unverified: what could not be observed, and why
    documentation: str | None = None  # read from documentation, not observed in this run

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {', '.join(VERDICTS)}")
        if (self.verdict == "qualified") != bool(self.condition):
            raise ValueError(f"a {self.verdict} finding {'needs' if self.verdict == 'qualified' else 'takes no'} condition")
        if (self.verdict == "unverified") != bool(self.missing):
            raise ValueError(f"a {self.verdict} finding {'needs' if self.verdict == 'unverified' else 'takes no'} "
                             "'missing'")


def unverified(missing: str, evidence: dict | None = None) -> Finding:
    return Finding("unverified", evidence or {"not observed": missing}, missing=missing)


@dataclass
class Claim:
    id: str
    seed: str  # "processes" or "sockets"; "lab:sockets": the lab's own, in no seed
    text: str  # the seed's claim, in English
    observe: Callable[[], Any] = field(repr=False)
    judge: Callable[[Any], Finding] = field(repr=False)
    alone: bool = False  # timing-sensitive: observed while nothing else of the tour runs

    def check(self) -> Finding:
        return self.judge(self.observe())


class ClaimList(list):
    """A module's claims, in the order the tour shows them."""

    def claim(self, id: str, seed: str, text: str, observe: Callable[[], Any], alone: bool = False):
        """Decorate a judge: register (observe, judge) as the claim `id`."""
        def register(judge: Callable[[Any], Finding]):
            if any(c.id == id for c in self):
                raise ValueError(f"claim id {id!r} registered twice")
            self.append(Claim(id, seed, text, observe, judge, alone))
            return judge
        return register
