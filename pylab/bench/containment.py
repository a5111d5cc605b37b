"""What the grading sandbox costs a run, for `pylab bench`'s "sandbox" group.

The figures are the grader's own measurement (pylab.grading.sandbox.containment_costs):
tiny run three ways, round-robin so each sees the same load: runner.run with no
sandbox, Sandbox.run (the jail, bubblewrap's namespaces and mounts, the supervisor as
the sandbox's pid 1: what every run of a submission costs) and Sandbox.run with
watch_forks (strace -f outside the sandbox: what a check that watches forks costs).
The same Sandbox grading uses, so the figure is the grader's, not an imitation of it.
"""
from __future__ import annotations

import os

from pylab.grading import sandbox

KEYS = {"bare": "sandbox_bare", "sandboxed": "sandboxed", "traced": "sandboxed_traced"}
SOURCE = "pylab.grading.sandbox.containment_costs"


def sample(binary: str | os.PathLike, runs: int) -> tuple[dict[str, list[float]], str, str | None]:
    """({figure key: seconds per run}, source, None), or ({}, source, why) when this
    machine cannot make the sandbox (no bubblewrap, no user namespaces, no free uid)."""
    try:
        got = sandbox.containment_costs(binary, runs=runs)
    except sandbox.SandboxError as e:
        return {}, SOURCE, str(e)
    return {KEYS[way]: seconds for way, seconds in got.items()}, SOURCE, None
