"""The tour (`pylab tour`): every claim of the seeds, observed and judged live, and the
one renderer for all of them (text and JSON), processes and sockets alike.

The claims are found by import: MODULES lists the claim modules, each with its CLAIMS
(pylab.tour.shape). A module that is missing or broken fails the import of this one, and
a module in MODULES without claims is an error: no claim is ever dropped silently.
A check whose observation or judge raises gets the verdict `error` with the reason and
where it happened as evidence, and the tour's exit status is then 1: that is a bug in a
probe, and it must not hide the other claims. An environment error is not: a LabError
(no C compiler, a probe the compiler refuses, a run that cannot be set up) stops the
tour with one line naming the claim that met it (TourStopped), which the command line
prints, exit status 2, no traceback. (NoSuchProcess is a LabError for `pylab state PID`;
in the tour no PID comes from the user, so it is a probe's race, reported as a bug.)
"""
from __future__ import annotations

import contextvars
import copy
import json
import os
import sys
import textwrap
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import ModuleType
from typing import Any

from pylab.core.errors import EXIT_FAILED, EXIT_OK, LabError, UsageError
from pylab.core.output import emit_json, for_stream, settle
from pylab.observe.procstate import NoSuchProcess
from pylab.tour import exit as exit_claims
from pylab.tour import lifecycle, memo, processes, sockets, sockets_model, system
from pylab.tour.shape import VERDICTS, Claim, ClaimList, Finding

MODULES: tuple[ModuleType, ...] = (processes, system, exit_claims, lifecycle, sockets, sockets_model)
WORKERS = 4  # independent observations run side by side; most of their time is waiting


def collect(modules=MODULES) -> dict[str, Claim]:
    """Every claim of `modules`, in order; a module without CLAIMS or a repeated id raises."""
    found: dict[str, Claim] = {}
    for m in modules:
        claims = getattr(m, "CLAIMS", None)
        if not isinstance(claims, ClaimList) or not claims:
            raise LookupError(f"claim module {m.__name__} has no CLAIMS (a ClaimList of its claims)")
        for c in claims:
            if c.id in found:
                raise ValueError(f"claim id {c.id!r} is registered by two modules")
            found[c.id] = c
    return found


class TourStopped(LabError):
    """The machine stops the tour: a claim's observation met a LabError (no compiler...)."""

    def __init__(self, claim_id: str, error: LabError):
        super().__init__(f"the tour stopped at claim {claim_id}: {error}")
        self.details = getattr(error, "details", "")


def stops_the_tour(e: BaseException) -> bool:
    """An environment error (a LabError), not a probe's bug; see the module's docstring."""
    return isinstance(e, LabError) and not isinstance(e, NoSuchProcess)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    return fn(), time.monotonic() - started


def check(c: Claim, observed: Callable[[], tuple[Any, float]] | None = None) -> dict:
    """Observe (or take the shared observation `observed` gives), then judge a copy of it;
    one broken check must not hide the others. An environment error (stops_the_tour) is
    raised, not reported as a row."""
    seconds = 0.0
    try:
        seen, seconds = observed() if observed else _timed(c.observe)
        f = c.judge(copy.deepcopy(seen))  # judges sharing an observation never see each other's edits
        if not isinstance(f, Finding):
            raise TypeError(f"judge returned {type(f).__name__}, not a Finding")
        row = {"verdict": f.verdict, "condition": f.condition, "missing": f.missing,
               "documentation": f.documentation, "evidence": f.evidence}
    except Exception as e:
        if stops_the_tour(e):
            raise
        row = {"verdict": "error", "condition": None, "missing": None, "documentation": None,
               "evidence": {"error": f"{type(e).__name__}: {e}",
                            "where": traceback.format_exc(limit=-3).splitlines()[-3:]}}
    return {"id": c.id, "seed": c.seed, "claim": c.text, **row, "seconds": round(seconds, 3)}


def workers_from_env(environ=os.environ) -> int:
    """PYLAB_TOUR_WORKERS: how many observations run side by side (unset or empty:
    WORKERS); a value that is not a whole number of 1 or more is a UsageError."""
    raw = environ.get("PYLAB_TOUR_WORKERS")
    if raw is None or not raw.strip():  # unset or empty: the default
        return WORKERS
    try:
        n = int(raw.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise UsageError(f"PYLAB_TOUR_WORKERS must be a whole number of 1 or more (how many observations the "
                         f"tour runs side by side; default {WORKERS}), not {raw!r}")
    return n


def tour(only: list[str] | None = None, workers: int | None = None) -> dict:
    """Check the claims (`only`: these ids). Each distinct observe runs once, however many
    claims judge it, and so does each probe that several observations share
    (pylab.tour.memo). Timing-sensitive ones (Claim.alone) run first, one at a time;
    the others then run concurrently, `workers` at once (default: PYLAB_TOUR_WORKERS,
    else WORKERS). Rows keep the registry's order."""
    claims = collect()
    if only:
        unknown = [i for i in only if i not in claims]
        if unknown:
            raise UsageError(f"unknown claim id(s): {', '.join(unknown)}; 'pylab tour --json' lists them")
    chosen = [c for c in claims.values() if not only or c.id in only]
    seeds = list(dict.fromkeys(c.seed for c in claims.values()))
    chosen.sort(key=lambda c: (c.seed.startswith("lab:"), seeds.index(c.seed)))  # stable: module order kept
    workers = workers or workers_from_env()
    futures: dict[int, Future] = {}
    with memo.one_tour(), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        try:
            for c in sorted(chosen, key=lambda c: not c.alone):
                if id(c.observe) in futures:
                    continue
                if c.alone:  # alone: nothing else of the tour runs meanwhile
                    done: Future = Future()
                    try:
                        done.set_result(_timed(c.observe))
                    except Exception as e:  # noqa: BLE001 - reported by check, as any other failure
                        if stops_the_tour(e):
                            raise TourStopped(c.id, e) from e
                        done.set_exception(e)
                    futures[id(c.observe)] = done
                else:
                    # in this tour's context: its shared observations (pylab.tour.memo)
                    futures[id(c.observe)] = pool.submit(contextvars.copy_context().run, _timed, c.observe)
            rows = []
            for c in chosen:
                try:
                    rows.append(check(c, futures[id(c.observe)].result))
                except LabError as e:  # check raises only what stops the tour
                    raise TourStopped(c.id, e) from e
        except (TourStopped, KeyboardInterrupt):  # (Ctrl-C, SIGTERM: pylab.cli.main)
            for f in futures.values():  # what has not started never will; the pool waits for the rest
                f.cancel()
            raise
    summary = {v: sum(r["verdict"] == v for r in rows) for v in (*VERDICTS, "error")}
    summary["total"] = len(rows)
    return {"claims": rows, "summary": summary}


MARKS = {v: v.upper() for v in (*VERDICTS, "error")}


def _scalar(value) -> str:
    """One value as text: a plain string as it is (its newlines and other control
    characters escaped, so one value stays on one line), anything else as JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if any(c < " " for c in value) else value
    return json.dumps(value, ensure_ascii=False)


def evidence_lines(evidence: dict, width: int = 100, indent: int = 6) -> list[str]:
    """Evidence (a claim's, or a demo's) as lines a student can read, none of it cut off: a value that fits is
    shown on its key's line; a longer dict or list is unfolded below its key, one entry
    per line; a long sentence is wrapped."""
    pad = " " * indent
    lines = []
    items = evidence.items() if isinstance(evidence, dict) else ((None, v) for v in evidence)
    for key, value in items:
        head = f"{pad}{key}:" if key is not None else f"{pad}-"
        text = _scalar(value)
        if key is None and isinstance(value, dict) and value:  # a record of a list: "k: v; k: v", wrapped
            text = "; ".join(f"{k}: {_scalar(v)}" for k, v in value.items())
            lines.extend(textwrap.wrap(text, width, initial_indent=head + " ", subsequent_indent=pad + "    ",
                                       break_long_words=False, break_on_hyphens=False))
            continue
        if len(head) + 1 + len(text) <= width or not isinstance(value, (dict, list, str)) or not value:
            lines.append(f"{head} {text}")
        elif isinstance(value, str) or (isinstance(value, list) and all(  # short words: wrapped as one list
                isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 24) for v in value)):
            lines.extend(textwrap.wrap(text, width, initial_indent=head + " ", subsequent_indent=pad + "    ",
                                       break_long_words=False, break_on_hyphens=False))
        else:
            lines.append(head)
            lines.extend(evidence_lines(value, width, indent + 2))
    return lines


def render_row(row: dict) -> list[str]:
    """One claim as text: verdict, id, claim, condition / what was missing, documentation, evidence."""
    lines = [f"[{MARKS[row['verdict']]}] {row['id']}: {row['claim']}"]
    for key, label in (("condition", "only when"), ("missing", "not observed"),
                       ("documentation", "documentation (read, not observed here)")):
        if row.get(key):  # wrapped as the evidence is; the label starts its first line
            lines.extend(textwrap.wrap(row[key], 100, initial_indent=f"    {label}: ", subsequent_indent=" " * 8,
                                       break_long_words=False, break_on_hyphens=False))
    return lines + evidence_lines(row["evidence"])


def render_text(report: dict, stream=None) -> None:
    """The whole report, grouped by seed, then the summary line. On a stream whose
    encoding cannot hold a character (a seed quote in Chinese on an ASCII stdout), that
    character is written as a backslash escape (pylab.core.output.for_stream)."""
    out = stream or sys.stdout

    def say(*lines: str) -> None:
        print(for_stream("\n".join(lines), out), file=out)
    seed = None
    for row in report["claims"]:
        if row["seed"] != seed:
            seed = row["seed"]
            # "lab:NAME": the NAME lab's own claims (from its issue), in no seed
            say(f"\n== the {seed[4:]} lab's own claims (not in a seed) ==" if seed.startswith("lab:")
                else f"\n== seed: {seed}.md ==")
        say("", *render_row(row))
    s = report["summary"]
    say(f"\n{s['total']} claims: {s['confirmed']} confirmed, {s['qualified']} qualified, "
        f"{s['refuted']} refuted, {s['unverified']} unverified"
        + (f", {s['error']} could not be checked" if s["error"] else ""))


def main(args) -> int:
    report = tour(getattr(args, "only", None))
    code = settle(EXIT_OK if report["summary"]["error"] == 0 else EXIT_FAILED)
    if getattr(args, "json", False):
        emit_json(report)
    else:
        render_text(report)
    return code
