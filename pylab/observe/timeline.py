"""What /proc shows while a run goes on: each watched process's state over time (with
the moments the driver acted marked), and the process tree at a moment.

A driver moves the run along with handshakes (a line on the program's stdin) and, in
between, polls /proc until the state it expects shows up, with a deadline:

    tl = Timeline({parent: "parent", child: "child"})
    tl.until(lambda s: s[child] in ALIVE)
    tl.mark("child exits"); proc.write("go\\n")
    tl.until(lambda s: s[child] == "Z")

Every poll is kept as a sample, so the timeline is what was seen, never what was
expected. Nothing here sleeps to synchronise (procstate.call_until polls with a
deadline). Drawing lives in pylab.observe.viz.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

from pylab.observe import procstate

GONE = "gone"  # the process no longer exists (reaped), or its pid now names another one
ALIVE = frozenset("RSD")  # running, sleeping, disk sleep: alive and not stopped


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the timeline began
    pid: int
    state: str  # a /proc state letter, or GONE


@dataclass(frozen=True)
class Mark:
    t: float
    label: str  # what the driver did at that moment ("wait", "child exits")


@dataclass(frozen=True)
class Segment:
    pid: int
    state: str
    start: float
    end: float  # the first sample that saw another state (or the timeline's last sample)


class Timeline:
    """States of watched pids, sampled from /proc each time the driver polls."""

    def __init__(self, watch: dict[int, str] | None = None):
        self.t0 = time.monotonic()
        self.names: dict[int, str] = {}
        self.samples: list[Sample] = []
        self.marks: list[Mark] = []
        self._starttime: dict[int, int | None] = {}
        self._gone: set[int] = set()
        for pid, name in (watch or {}).items():
            self.watch(pid, name)

    def watch(self, pid: int, name: str | None = None) -> None:
        """Follow pid from now on. Its start time tells it apart from a later process
        that is handed the same pid after it is gone."""
        self.names[pid] = name or str(pid)
        try:
            self._starttime[pid] = procstate.read_stat(pid).starttime
        except procstate.NoSuchProcess:
            self._starttime[pid] = None
            self._gone.add(pid)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _state(self, pid: int) -> str:
        if pid in self._gone:
            return GONE
        try:
            st = procstate.read_stat(pid)
        except procstate.NoSuchProcess:
            st = None
        if st is None or st.starttime != self._starttime[pid]:
            self._gone.add(pid)  # once gone, a pid is never read again (it may be reused)
            return GONE
        return st.state

    def sample(self) -> dict[int, str]:
        """One poll: every watched pid's state now, kept as samples."""
        t = self.now()
        seen = {pid: self._state(pid) for pid in self.names}
        self.samples += [Sample(t, pid, state) for pid, state in seen.items()]
        return seen

    def mark(self, label: str) -> None:
        """Note that the driver acts now (sampled first, so the states at the mark are known)."""
        self.sample()
        self.marks.append(Mark(self.now(), label))

    def until(self, ok: Callable[[dict[int, str]], bool], timeout: float = 5.0,
              what: str = "the expected states") -> dict[int, str]:
        """Sample until ok(states) holds; TimeoutError (with the last states) at the deadline."""
        return procstate.call_until(self.sample, ok, timeout, what)

    def states(self, pid: int) -> list[str]:
        """The states pid went through, in order, repeats merged: e.g. ['S', 'Z', 'gone']."""
        return [seg.state for seg in self.segments(pid)]

    def phases(self, pid: int) -> list[str]:
        """Like states(), with R, S and D merged into 'alive' and X (dead: the instant
        between the reap and the /proc entry going, sometimes sampled) into 'gone':
        e.g. ['alive', 'Z', 'gone']."""
        out: list[str] = []
        for state in self.states(pid):
            phase = "alive" if state in ALIVE else GONE if state == "X" else state
            if not out or out[-1] != phase:
                out.append(phase)
        return out

    def end(self) -> float:
        return max([s.t for s in self.samples] + [m.t for m in self.marks], default=0.0)

    def segments(self, pid: int) -> list[Segment]:
        """Runs of equal consecutive samples of pid, as [start, end) intervals."""
        mine = [s for s in self.samples if s.pid == pid]
        out: list[Segment] = []
        for s in mine:
            if out and out[-1].state == s.state:
                continue
            if out:
                out[-1] = Segment(pid, out[-1].state, out[-1].start, s.t)
            out.append(Segment(pid, s.state, s.t, s.t))
        if out:
            out[-1] = Segment(pid, out[-1].state, out[-1].start, max(self.end(), out[-1].start))
        return out

    def to_dict(self) -> dict:
        return {
            "names": {str(p): n for p, n in self.names.items()},
            "states": {str(p): self.states(p) for p in self.names},
            "segments": [asdict(seg) for p in self.names for seg in self.segments(p)],
            "marks": [asdict(m) for m in self.marks],
            "samples": len(self.samples),
        }


@dataclass(frozen=True)
class Node:
    pid: int
    ppid: int
    comm: str
    state: str


def tree(root: int) -> dict[int, Node]:
    """root and all its descendants as they are now (pid -> Node), read from /proc.

    A process that ends while the tree is read is left out."""
    nodes = {}
    for pid in [root, *procstate.descendants(root)]:
        try:
            st = procstate.read_stat(pid)
        except procstate.NoSuchProcess:
            continue
        nodes[pid] = Node(pid, st.ppid, st.comm, st.state)
    return nodes
