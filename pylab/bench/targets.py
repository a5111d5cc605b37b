"""The issues' cost targets, judged on the figures of one `pylab bench` run.

Each target is a dict: target (what), value (None when it could not be measured here),
limit, unit, rule ("<=", "<" or ">="), met (None when not measured) and note (why it was
not measured, or what the figures of the same run say about it). Ratios are of medians
from the same run, so the load of a shared machine falls on both sides alike.
"""
from __future__ import annotations

RULES = {"<=": lambda v, lim: v <= lim, "<": lambda v, lim: v < lim, ">=": lambda v, lim: v >= lim}


def target(name: str, value: float | None, limit: float, unit: str, rule: str, note: str = "") -> dict:
    met = None if value is None else RULES[rule](value, limit)
    return {"target": name, "value": value, "limit": limit, "unit": unit, "rule": rule,
            "met": met, "note": note}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def judge(report: dict) -> list[dict]:
    """Every target, from report["figures"], ["unmeasured"], ["states"], ["suite"] and
    ["grader"]. Beside each runner ratio, the ratio of the fastest tenths (p10): a
    neighbour's load slows a three-process chain (runner, supervisor, program) more than
    a two-process one, and the p10 ratio shows what the lab costs when the CPUs are free."""
    med = {f["key"]: f["median_s"] for f in report["figures"]}
    fast = {f["key"]: f["p10_s"] for f in report["figures"]}
    missing = report.get("unmeasured", {})

    def ratio(key, ref):
        return med[key] / med[ref] if key in med and ref in med else None

    def p10(key, ref):
        return f"p10 ratio {fast[key] / fast[ref]:.2f}x" + _session_note(med)

    agree = report["states"]["agree"]
    suite, grader = report["suite"], report["grader"]
    return [
        target("runner, pipe / subprocess.run(capture_output=True)", ratio("runner_pipe", "subprocess_capture"),
               1.3, "x", "<=", p10("runner_pipe", "subprocess_capture")),
        target("runner, tty / subprocess.run(capture_output=True)", ratio("runner_tty", "subprocess_capture"),
               2.0, "x", "<=", p10("runner_tty", "subprocess_capture")),
        target("state from ps / state from /proc", ratio("state_ps", "state_proc"), 100, "x", ">=",
               "" if agree else "but the sources disagree: see states" if agree is False else
               "but fewer than two sources gave a state: see states"),
        target("zombie seen after the child's exit", med["zombie_seen"] * 1e3, 5.0, "ms", "<="),
        target("traced / untraced run of a 10-process program", ratio("traced_10", "run_10"), 3.0, "x", "<=",
               _trace_note(med, fast, report) if "run_10" in med else missing.get("trace", "")),
        target("test suite without notebooks", suite.get("seconds"), 20.0, "s", "<=", suite.get("note", "")),
        _graded(target("grading one full submission", grader.get("seconds"), 1.5, "s", "<",
                       grader.get("note", "")), grader),
    ]


def _session_note(med: dict) -> str:
    """What the run's own session costs, from the helper's two figures of this run: the
    supervisor makes a session (setsid) and then forks and waits, subprocess.run does
    neither; with the kernel's autogroup each session is a scheduling group of its own,
    which waits its turn behind the other sessions' load."""
    if "session_on" not in med or "session_off" not in med:
        return ""
    extra = med["session_on"] - med["session_off"]
    cost = _ms(extra) if extra >= 0 else f"~0 (within the noise: {_ms(extra)})"
    return f"; a new session before fork + exec + wait costs {cost} here now (newsession 1 vs 0)"


def _graded(t: dict, grader: dict) -> dict:
    """A fast grade is no grade if the reference solutions did not get full marks."""
    if t["met"] and grader.get("score") != grader.get("max_score"):
        t["met"] = False
    return t


def _trace_note(med: dict, fast: dict, report: dict) -> str:
    """What the traced run's extra time is made of, from this run's figures: the
    tracer's start-up (the tracer around tiny, less tiny alone), the ptrace stops of the
    program's events (the tracer around ten_procs, less ten_procs alone and the
    start-up), the stdio preload (the same with it), parsing the log, and the rest
    (the supervisor forking its tracer and logging itself, the runner's own work)."""
    extra = med["traced_10"] - med["run_10"]
    parts = {"the tracer's own start-up": med["tracer_tiny"] - med["tiny_alone"]}
    parts["the program's ptrace stops"] = med["tracer_ten"] - med["ten_alone"] - parts["the tracer's own start-up"]
    parts["the stdio preload"] = med["tracer_ten_stdio"] - med["tracer_ten"]
    parts["parsing the log"] = med["parse_10"]
    parts["the rest (the supervisor's tracer child, the runner)"] = extra - sum(parts.values())
    seen = report.get("traced_processes")
    return (f"p10 ratio {fast['traced_10'] / fast['run_10']:.2f}x; the trace adds {_ms(extra)}: "
            + ", ".join(f"{what} {_ms(s) if s >= 0 else f'~0 (within the noise: {_ms(s)})'}"
                        for what, s in parts.items())
            + (f"; the trace followed {seen} processes of the program" if seen is not None else ""))
