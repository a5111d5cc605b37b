"""Pictures of what the lab observed, as matplotlib Figures (the notebooks show them).

- timeline_figure: each process's states over time, as coloured segments, with the
  driver's marks (the moment of wait) as vertical lines;
- tree_figure: process trees at one or more moments, parent -> child edges, and the
  edges that changed since the first moment (an orphan's adoption) drawn in red;
- grid_figure: a table of categorical values as a coloured grid;
- compare_figure: the compare matrix (pylab.compare.matrix rows) as such a grid: per way of
  ending and (env, mode), whether its pending output arrived, and what was lost.

Each function takes data gathered live (pylab.observe.timeline, pylab.compare.matrix) and returns a
Figure built without pyplot, so nothing is left in a global figure registry and any
backend (Agg in tests, inline in Jupyter) can draw it. Artists carry labels that say
what they show ("child: Z", "mark: wait", "edge 12->13"), for the tests.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from pylab.observe.procstate import STATE_NAMES
from pylab.observe.timeline import GONE, Node, Timeline

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

STATE_COLOURS = {
    "R": "#2ca02c", "S": "#1f77b4", "D": "#9467bd", "T": "#ff7f0e", "t": "#ff7f0e",
    "Z": "#d62728", "X": "#7f7f7f", GONE: "#dddddd",
}


# matplotlib is imported on the first picture drawn (~0.4 s): a run, a test or a
# notebook that draws nothing does not pay for it.
def _figure(**kwargs) -> Figure:
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def _patch(**kwargs):
    from matplotlib.patches import Patch
    return Patch(**kwargs)


def _rectangle(*args, **kwargs) -> Rectangle:
    from matplotlib.patches import Rectangle
    return Rectangle(*args, **kwargs)


def timeline_figure(tl: Timeline, title: str | None = None) -> Figure:
    """One row per watched process, one coloured segment per state it was seen in."""
    pids = list(tl.names)
    fig = _figure(figsize=(8, 1.2 + 0.7 * len(pids)), layout="constrained")
    ax = fig.add_subplot()
    span = max(tl.end(), 1e-6) * 1000
    tail = span * 0.08  # so a final state (usually 'gone') gets some width
    for row, pid in enumerate(pids):
        segs = tl.segments(pid)
        for i, seg in enumerate(segs):
            start = seg.start * 1000
            end = seg.end * 1000 + (tail if i == len(segs) - 1 else 0)
            ax.broken_barh([(start, end - start)], (row - 0.35, 0.7),
                           facecolors=STATE_COLOURS.get(seg.state, "#bcbd22"),
                           edgecolor="black", linewidth=0.5,
                           label=f"{tl.names[pid]}: {seg.state}")
            if end - start >= 0.04 * (span + tail):  # a letter only where it fits
                ax.text((start + end) / 2, row, seg.state, ha="center", va="center", fontsize=9)
    for i, m in enumerate(tl.marks):
        x = m.t * 1000
        ax.axvline(x, color="black", linestyle="--", linewidth=1, label=f"mark: {m.label}")
        # alternate heights so that close marks don't write over each other
        ax.text(x, len(pids) - 0.5 + 0.3 * (i % 2), f" {m.label}", ha="left", va="bottom", fontsize=9)
    ax.set_yticks(range(len(pids)), [f"{tl.names[p]} ({p})" for p in pids])
    ax.set_ylim(-0.6, len(pids) + 0.4)
    ax.set_xlim(0, span + tail)
    ax.set_xlabel("milliseconds since sampling began")
    seen = sorted({s.state for s in tl.samples}, key=list(STATE_COLOURS).index)
    ax.legend(handles=[_patch(color=STATE_COLOURS[s], label=s if s == GONE else f"{s} {STATE_NAMES.get(s, '')}")
                       for s in seen if s in STATE_COLOURS],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title(title or "process states sampled from /proc")
    return fig


def _layout(nodes: Mapping[int, Node]) -> dict[int, tuple[float, float]]:
    """Positions for a tree: depth down the y axis, leaves spread along x."""
    kids: dict[int, list[int]] = {}
    roots = []
    for pid in sorted(nodes):
        parent = nodes[pid].ppid
        if parent in nodes and parent != pid:
            kids.setdefault(parent, []).append(pid)
        else:
            roots.append(pid)
    pos: dict[int, tuple[float, float]] = {}
    next_x = [0.0]

    def place(pid: int, depth: int) -> float:
        children = kids.get(pid, [])
        if children:
            xs = [place(c, depth + 1) for c in children]
            x = sum(xs) / len(xs)
        else:
            x = next_x[0]
            next_x[0] += 1
        pos[pid] = (x, -depth)
        return x

    for r in roots:
        place(r, 0)
    return pos


def tree_figure(moments: Sequence[tuple[str, Mapping[int, Node]]],
                names: Mapping[int, str] | None = None) -> Figure:
    """One panel per (title, tree) moment. An edge whose child had another parent in
    the first moment is red and dashed: that process was re-parented (adopted)."""
    names = names or {}
    first = moments[0][1] if moments else {}
    depth = max([-y for _, nodes in moments for _, y in _layout(nodes).values()] or [0])
    fig = _figure(figsize=(4 * max(len(moments), 1), 1.4 + 1.1 * depth), layout="constrained")
    for i, (title, nodes) in enumerate(moments):
        ax = fig.add_subplot(1, max(len(moments), 1), i + 1)
        pos = _layout(nodes)
        boxes = {}
        for pid, node in nodes.items():
            x, y = pos[pid]
            who = names.get(pid, node.comm)
            boxes[pid] = ax.text(x, y, f"{who}\npid {pid}, {node.state}", ha="center", va="center",
                                 fontsize=8, label=f"node {pid}",
                                 bbox=dict(boxstyle="round", alpha=0.35,
                                           facecolor=STATE_COLOURS.get(node.state, "white")))
        for pid, node in nodes.items():
            if node.ppid not in nodes or node.ppid == pid:
                continue
            adopted = pid in first and first[pid].ppid != node.ppid
            # from the bottom of the parent's box to the top of the child's
            ax.annotate("", xy=(0.5, 1), xycoords=boxes[pid], xytext=(0.5, 0), textcoords=boxes[node.ppid],
                        arrowprops=dict(arrowstyle="->", color="#d62728" if adopted else "black",
                                        linestyle="--" if adopted else "-"),
                        label=f"edge {node.ppid}->{pid}" + (" adopted" if adopted else ""))
            if adopted:
                (x0, y0), (x1, y1) = pos[node.ppid], pos[pid]
                ax.text((x0 + x1) / 2, (y0 + y1) / 2, " adopted", color="#d62728", fontsize=8, va="center")
        xs = [p[0] for p in pos.values()] or [0]
        ys = [p[1] for p in pos.values()] or [0]
        ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
        ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
    return fig


def grid_figure(rows: Sequence[str], cols: Sequence[str], values: Mapping[tuple[str, str], str],
                colours: Mapping[str, str], title: str = "", legend: Mapping[str, str] | None = None,
                texts: Mapping[tuple[str, str], str] | None = None, cell_width: float = 1.3) -> Figure:
    """A coloured grid: values[(row, col)] names a cell's category, colours[category] its
    colour. Each cell shows texts[(row, col)] if given, else its category; a missing
    cell is white and empty. legend: {category: what it means}."""
    labels = 0.07 * max([len(r) for r in rows] or [0])  # inches for the row labels (8 pt)
    width = 0.4 + labels + cell_width * len(cols) + (1.6 if legend else 0)
    fig = _figure(figsize=(width, 1.1 + 0.32 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    for r, row in enumerate(rows):
        for c, col in enumerate(cols):
            value = values.get((row, col))
            ax.add_patch(_cell(c, r, colours.get(value, "white") if value is not None else "white",
                               f"cell {row} | {col}: {value}"))
            text = (texts or {}).get((row, col), value)
            if text is not None:
                ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, len(cols))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([c + 0.5 for c in range(len(cols))], cols, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([r + 0.5 for r in range(len(rows))], rows, fontsize=8)
    ax.tick_params(length=0)
    if legend:
        ax.legend(handles=[_patch(color=colours[k], label=text) for k, text in legend.items() if k in colours],
                  loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    if title:
        ax.set_title(title, fontsize=10, pad=12)
    return fig


def _cell(x: float, y: float, colour: str, label: str) -> Rectangle:
    return _rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5, label=label)


ENV_SHORT = {"unset": "unset", "PYTHONUNBUFFERED=1": "UNBUF=1", "python -u": "-u"}
MARKER_SHORT = {"c-line": "cL", "c-tail": "cT", "py-line": "pL", "py-tail": "pT"}
ARRIVED_COLOURS = {"all": "#2ca02c", "some": "#ff7f0e", "none": "#d62728"}


def compare_figure(rows: Sequence[Mapping]) -> Figure:
    """The compare matrix's rows (pylab.compare.matrix.matrix()) as a grid: one line per way,
    one column per (env, mode) in the order the rows came; green if all its pending
    output arrived, orange if some was lost, red if all; the cell names what was lost
    (cL = <c-line>, pT = <py-tail>, ...)."""
    def way(r):
        return f"{r['lang']} · {r['how']}"

    def column(r):
        return f"{r['mode']}\n{ENV_SHORT.get(r['env'], r['env'])}"

    def arrived(r):
        return "all" if not r["lost"] else ("some" if r["flushed"] else "none")

    # rows come way by way, env by env, mode by mode: first appearances keep that order
    return grid_figure(list(dict.fromkeys(way(r) for r in rows)), list(dict.fromkeys(column(r) for r in rows)),
                       {(way(r), column(r)): arrived(r) for r in rows}, ARRIVED_COLOURS,
                       texts={(way(r), column(r)): "".join(MARKER_SHORT.get(m, m) for m in r["lost"]) for r in rows},
                       legend={"all": "nothing lost", "some": "some lost", "none": "all lost"},
                       title="pending output: what was lost (cL = <c-line>, pT = <py-tail>, ...)", cell_width=0.75)


def trace_figure(trace, program: int | None = None, supervisor: int | None = None,
                 title: str | None = None) -> Figure:
    """A swimlane per process of a traced run (pylab.run.tracer.Trace): alive from its
    fork to its end (green), a zombie from its end to its reaping (red); forks and
    re-parentings as arrows between lanes; each write to stdout/stderr a tick with its
    text; exec and stdio markers (a buffer copied or lost, setvbuf) labelled on the lane."""
    procs = trace.processes()
    pids = list(dict.fromkeys(e.pid for e in trace.events))
    lane = {pid: i for i, pid in enumerate(pids)}
    end = max([e.t for e in trace.events] or [0.0]) * 1000 or 1.0
    fig = _figure(figsize=(10, 1.2 + 0.8 * len(pids)), layout="constrained")
    ax = fig.add_subplot()
    for pid in pids:
        p, y = procs[pid], lane[pid]
        born = (p.born or 0.0) * 1000
        died = p.ended * 1000 if p.ended is not None else end
        ax.broken_barh([(born, max(died - born, end * 0.002))], (y - 0.2, 0.4), facecolors=STATE_COLOURS["R"],
                       alpha=0.5, label=f"lane {pid}: alive")
        if p.ended is not None and p.reaped_at is not None and p.reaped_at > p.ended:
            ax.broken_barh([(died, (p.reaped_at - p.ended) * 1000)], (y - 0.2, 0.4), facecolors=STATE_COLOURS["Z"],
                           label=f"lane {pid}: zombie")
    for e in trace.events:
        x, y = e.t * 1000, lane[e.pid]
        if e.kind in ("spawn", "reparent") and e.other in lane:
            # fork: parent's lane -> child's; reparent: the adopter's lane -> the orphan's
            start, stop = (y, lane[e.other]) if e.kind == "spawn" else (lane[e.other], y)
            spawn = e.kind == "spawn"
            ax.annotate("", xy=(x, stop), xytext=(x, start),
                        arrowprops=dict(arrowstyle="->", color="black" if spawn else "#d62728",
                                        linestyle="-" if spawn else "--"),
                        label=f"{'fork' if spawn else 'reparent'} {e.pid}->{e.other}")
        elif e.kind == "write":
            ax.plot([x], [y - 0.28], marker="v", color="#1f77b4" if e.fd == 1 else "#ff7f0e",
                    label=f"write {e.pid} fd {e.fd}")
            ax.text(x, y - 0.34, e.data.decode(errors="replace").strip()[:24], fontsize=7, rotation=30)
        elif e.kind == "exec":
            ax.text(x, y + 0.42, f"exec {(e.argv or [e.text])[0].rsplit('/', 1)[-1]}", fontsize=7, va="top",
                    label=f"exec {e.pid}")
        elif e.kind == "stdio" and (e.data or e.text == "setvbuf"):
            what = {"fork": "buffer copied", "exec": "buffer lost", "_exit": "buffer lost"}.get(e.text, "setvbuf")
            ax.plot([x], [y], marker="*", color="#9467bd", markersize=9, label=f"stdio {e.pid} {e.text}")
            ax.text(x, y + 0.42, what, fontsize=7, color="#9467bd", va="top")

    def who(pid):
        return "supervisor" if pid == supervisor else "program" if pid == program else "child"

    ax.set_yticks(range(len(pids)), [f"{who(p)} {p}" for p in pids])
    ax.set_ylim(len(pids) - 0.3, -0.7)
    ax.set_xlim(0, end * 1.05)
    ax.set_xlabel("milliseconds since the trace began")
    ax.set_title(title or "every process of the run, traced from outside (strace -f)")
    return fig
