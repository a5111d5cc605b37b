"""The claims of seeds/processes.md, each checked live (registered into pylab.claims)."""
from __future__ import annotations

from pylab.claims import Finding, claim
from pylab.runner import run_program


@claim("getpid-differs", "processes", "Each run of the same program gets a different process ID")
def getpid_differs() -> Finding:
    pids = []
    for _ in range(3):
        r = run_program("getpid_test", mode="pipe")
        pids.append(int(r.stdout_text.rsplit(" ", 1)[1]))
    verdict = "confirmed" if len(set(pids)) == len(pids) else "refuted"
    return Finding(verdict, {"pids printed by three runs": pids})
