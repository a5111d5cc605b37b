"""The seeds' claims, each checked live on this machine: the tour (`pylab tour`).

A claim is a function registered with @claim(id, seed, text). It runs experiments
(through the runner, procstate, native) and returns a Finding: a verdict, the
condition under which the claim holds (for `qualified`), and the evidence observed.
Nothing in a verdict is hard-coded: change the machine and the verdict follows.

Verdicts:
  confirmed  observed as the seed says
  qualified  holds only under a condition the lab names (e.g. only on a terminal)
  refuted    not so on this machine
A check that cannot run gets the verdict `error` with the reason as evidence, and
the tour's exit status is then 1.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

VERDICTS = ("confirmed", "qualified", "refuted")
# modules whose import registers more claims (the sockets seed lives with the sockets lab)
CLAIM_MODULES = ("pylab.tour.processes", "pylab.tour.exit", "pylab.tour.sockets")


@dataclass
class Finding:
    verdict: str
    evidence: dict
    condition: str | None = None


@dataclass
class Claim:
    id: str
    seed: str  # "processes" or "sockets"; "lab:sockets": the lab's own, in no seed
    text: str  # the seed's claim, in English
    check: Callable[[], Finding] = field(repr=False)


REGISTRY: dict[str, Claim] = {}


def claim(id: str, seed: str, text: str):
    """Register a check for one claim of a seed."""

    def register(fn: Callable[[], Finding]):
        if id in REGISTRY:
            raise ValueError(f"claim id {id!r} registered twice")
        REGISTRY[id] = Claim(id, seed, text, fn)
        return fn

    return register


def load() -> dict[str, Claim]:
    for name in CLAIM_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not name.startswith(e.name):
                raise
    return REGISTRY


def check(c: Claim) -> dict:
    started = time.monotonic()
    try:
        f = c.check()
        if f.verdict not in VERDICTS:
            raise ValueError(f"check returned verdict {f.verdict!r}")
        row = {"verdict": f.verdict, "condition": f.condition, "evidence": f.evidence}
    except Exception as e:  # one broken check must not hide the others
        row = {"verdict": "error", "condition": None,
               "evidence": {"error": f"{type(e).__name__}: {e}",
                            "where": traceback.format_exc(limit=-3).splitlines()[-3:]}}
    return {"id": c.id, "seed": c.seed, "claim": c.text, **row,
            "seconds": round(time.monotonic() - started, 3)}


def tour(only: list[str] | None = None) -> dict:
    claims = load()
    if only:
        unknown = [i for i in only if i not in claims]
        if unknown:
            from pylab.core.errors import UsageError
            raise UsageError(f"unknown claim id(s): {', '.join(unknown)}; 'pylab tour --json' lists them")
    rows = [check(c) for c in claims.values() if not only or c.id in only]
    summary = {v: sum(r["verdict"] == v for r in rows) for v in (*VERDICTS, "error")}
    summary["total"] = len(rows)
    return {"claims": rows, "summary": summary}


def _evidence_lines(evidence: dict, width: int = 100) -> list[str]:
    lines = []
    for key, value in evidence.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > width:
            text = text[: width - 3] + "..."
        lines.append(f"      {key}: {text}")
    return lines


def main(args) -> int:
    report = tour(getattr(args, "only", None))
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        marks = {"confirmed": "CONFIRMED", "qualified": "QUALIFIED", "refuted": "REFUTED", "error": "ERROR"}
        seed = None
        for row in report["claims"]:
            if row["seed"] != seed:
                seed = row["seed"]
                # "lab:NAME": the NAME lab's own claims (from its issue), in no seed
                print(f"\n== the {seed[4:]} lab's own claims (not in a seed) ==" if seed.startswith("lab:")
                      else f"\n== seed: {seed}.md ==")
            print(f"\n[{marks[row['verdict']]}] {row['id']}: {row['claim']}")
            if row["condition"]:
                print(f"    only when: {row['condition']}")
            print("\n".join(_evidence_lines(row["evidence"])))
        s = report["summary"]
        print(f"\n{s['total']} claims: {s['confirmed']} confirmed, {s['qualified']} qualified, "
              f"{s['refuted']} refuted" + (f", {s['error']} could not be checked" if s["error"] else ""))
    return 0 if report["summary"]["error"] == 0 else 1
