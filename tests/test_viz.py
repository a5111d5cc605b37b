"""The pictures: a timeline sampled live from /proc, a process tree with an adoption, a
coloured grid. Each test checks the data behind a figure and the labelled artists the
figure drew from it, and that the figure renders (Agg)."""
from __future__ import annotations

import io
import os
import sys
import textwrap

import pytest

from pylab.observe import procstate, timeline, viz
from pylab.run import runner
from support import build_c


@pytest.fixture(scope="module")
def mpl():
    """matplotlib, imported by the worker that runs these tests (~0.4 s), not by every
    worker that only collects them."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.collections
    import matplotlib.colors
    import matplotlib.patches
    return matplotlib

HELD_ZOMBIE = """
    /* a child lives until the first line on stdin, then is a zombie until the second */
    #include <stdio.h>
    #include <sys/wait.h>
    #include <unistd.h>

    int main(void)
    {
        char line[16];
        siginfo_t info;
        pid_t pid = fork();

        if (pid < 0)
            return 1;
        if (pid == 0) {
            (void)!read(0, line, sizeof line);
            _exit(7);
        }
        printf("child %d\\n", pid);
        fflush(stdout);
        waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
        (void)!read(0, line, sizeof line);
        waitpid(pid, NULL, 0);
        return 0;
    }
"""


def record_zombie(binary) -> tuple[timeline.Timeline, int, runner.RunResult]:
    with runner.start([binary]) as p:
        child = int(p.expect(r"child (\d+)").group(1))
        tl = timeline.Timeline({p.pid: "parent", child: "child"})
        tl.until(lambda s: s[child] in timeline.ALIVE)
        tl.mark("child exits")
        p.write("exit\n")
        tl.until(lambda s: s[child] == "Z")
        tl.mark("wait")
        p.write("wait\n")
        tl.until(lambda s: s[child] == timeline.GONE)
        result = p.wait(timeout=10)
    return tl, child, result


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_zombie_timeline_goes_alive_then_zombie_then_gone_with_wait_between(tmp_path):
    tl, child, result = record_zombie(build_c(tmp_path, "held_zombie", HELD_ZOMBIE))
    assert result.exit_code == 0 and not result.stragglers
    assert tl.phases(child) == ["alive", "Z", "gone"]  # X, if sampled, counts as gone
    states = tl.states(child)  # e.g. S, R, S, Z, gone; or S, Z, X, gone when the instant X was sampled
    zombie = states.index("Z")
    assert set(states[:zombie]) <= timeline.ALIVE and set(states[zombie + 1:]) <= {"X", timeline.GONE}, states
    segs = {s.state: s for s in tl.segments(child)}
    marks = {m.label: m.t for m in tl.marks}
    assert list(marks) == ["child exits", "wait"]
    # the zombie began before the parent's wait and ended after it
    assert segs["Z"].start <= marks["wait"] <= segs["gone"].start
    assert all(a.end == b.start for a, b in zip(tl.segments(child), tl.segments(child)[1:]))


def test_timeline_figure_draws_one_labelled_segment_per_state_in_order(tmp_path, mpl):
    tl, child, _ = record_zombie(build_c(tmp_path, "held_zombie", HELD_ZOMBIE))
    fig = viz.timeline_figure(tl, title="zombie")
    ax = fig.axes[0]
    bars = [c.get_label() for c in ax.collections if isinstance(c, mpl.collections.PolyCollection)]
    child_bars = [label.split(": ")[1] for label in bars if label.startswith("child: ")]
    assert child_bars == tl.states(child)
    # X (dead) may be caught for an instant between the reap and the /proc entry going
    assert child_bars[child_bars.index("Z"):] in (["Z", "gone"], ["Z", "X", "gone"])
    # bars sit in time order along x
    xs = [c.get_paths()[0].vertices[:, 0].min() for c in ax.collections if c.get_label().startswith("child: ")]
    assert xs == sorted(xs)
    assert [ln.get_label() for ln in ax.lines] == ["mark: child exits", "mark: wait"]
    assert {t.get_text() for t in ax.texts} <= set(tl.states(child) + tl.states(next(iter(tl.names)))) | {
        " child exits", " wait"}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "gone" and legend.index("Z zombie") < len(legend) - 1
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"parent ({p})" if n == "parent" else f"child ({p})"
                                                            for p, n in tl.names.items()]
    assert _png(fig).startswith(b"\x89PNG")


def test_timeline_reports_a_pid_gone_for_good_even_if_reused():
    r = runner.run([sys.executable, "-c", "pass"])
    tl = timeline.Timeline({r.pid: "ended"})          # reaped before we watch it
    tl.sample()
    assert tl.states(r.pid) == ["gone"]
    me = os.getpid()
    tl.watch(me, "me")
    tl._starttime[me] += 1                             # as if pid `me` now named another process
    assert tl.sample()[me] == timeline.GONE


ORPHAN = """
    import os, sys
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)                       # EOF: the parent is exiting
        os.read(0, 64)                      # a line: the parent is gone
        print("adopted by", os.getppid(), flush=True)
        while os.read(0, 64):
            pass
        os._exit(0)
    print("parent", os.getpid(), "child", pid, flush=True)
    os.read(0, 64)
"""


def test_tree_figure_draws_the_orphans_adoption_in_red():
    code = textwrap.dedent(ORPHAN)
    with runner.start([sys.executable, "-P", "-c", code]) as p:
        m = p.expect(r"parent (\d+) child (\d+)")
        parent, kid = int(m.group(1)), int(m.group(2))
        before = timeline.tree(p.supervisor)
        p.write("exit\n")
        procstate.wait_gone(parent)
        p.write("who?\n")
        adopter = int(p.expect(r"adopted by (\d+)").group(1))
        after = timeline.tree(p.supervisor)
        p.close_stdin()
        result = p.wait(timeout=10)
    assert result.exit_code == 0 and not result.stragglers
    assert before[kid].ppid == parent and after[kid].ppid == adopter == p.supervisor
    fig = viz.tree_figure([("before", before), ("after", after)], names={p.supervisor: "supervisor"})
    left, right = fig.axes
    edges = lambda ax: sorted(t.get_label() for t in ax.texts if t.get_label().startswith("edge"))  # noqa: E731
    assert edges(left) == sorted([f"edge {p.supervisor}->{parent}", f"edge {parent}->{kid}"])
    assert edges(right) == [f"edge {p.supervisor}->{kid} adopted"]
    adopted = next(t for t in right.texts if t.get_label().endswith("adopted"))
    assert adopted.arrow_patch.get_edgecolor()[:3] != (0.0, 0.0, 0.0)
    assert {t.get_label() for t in right.texts if t.get_label().startswith("node")} == {
        f"node {p.supervisor}", f"node {kid}"}
    assert _png(fig).startswith(b"\x89PNG")


def test_grid_figure_colours_each_cell_by_its_category(mpl):
    values = {("exit2", "pipe"): "both", ("_exit1", "pipe"): "nothing", ("_exit1", "tty"): "line 1 only"}
    colours = {"both": "#2ca02c", "nothing": "#d62728", "line 1 only": "#ff7f0e"}
    fig = viz.grid_figure(["exit2", "_exit1"], ["tty", "pipe"], values, colours,
                          legend={"both": "both lines"}, texts={("exit2", "pipe"): "2 lines"})
    ax = fig.axes[0]
    cells = {p.get_label(): p for p in ax.patches if isinstance(p, mpl.patches.Rectangle) and p.get_label().startswith("cell")}
    assert len(cells) == 4
    assert mpl.colors.to_hex(cells["cell _exit1 | pipe: nothing"].get_facecolor()) == "#d62728"
    assert mpl.colors.to_hex(cells["cell exit2 | tty: None"].get_facecolor()) == "#ffffff"
    assert {t.get_text() for t in ax.texts} == {"2 lines", "nothing", "line 1 only"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["both lines"]
    assert _png(fig).startswith(b"\x89PNG")


def test_compare_figure_colours_the_live_matrix_by_what_was_lost(mpl):
    from pylab.compare import matrix as semantics

    ways = [semantics.way("C exit(n)"), semantics.way("C _exit(n)")]
    rows = semantics.matrix(ways=ways, envs=("unset",), jobs=2)
    fig = viz.compare_figure(rows)
    ax = fig.axes[0]
    cells = {p.get_label(): p for p in ax.patches if isinstance(p, mpl.patches.Rectangle) and p.get_label().startswith("cell")}
    colour = {label.split(": ")[0]: mpl.colors.to_hex(p.get_facecolor()) for label, p in cells.items()}
    # exit() flushes everywhere; _exit() loses everything on a pipe (fully buffered)
    assert colour["cell C · exit(n) | pipe\nunset"] == viz.ARRIVED_COLOURS["all"]
    assert colour["cell C · _exit(n) | pipe\nunset"] == viz.ARRIVED_COLOURS["none"]
    assert len(cells) == len(rows) == 6
    lost = {r["mode"]: "".join(viz.MARKER_SHORT[m] for m in r["lost"]) for r in rows if r["how"] == "_exit(n)"}
    assert lost["pipe"] == "cLcT" and lost["pipe"] in {t.get_text() for t in ax.texts}
    assert _png(fig).startswith(b"\x89PNG")


def test_trace_figure_has_a_lane_per_process_with_forks_writes_zombie_and_adoption():
    from pathlib import Path

    from pylab.run import toolchain

    src = Path(__file__).parent / "programs" / "child_outlives.c"
    r = runner.run([toolchain.build(src)], mode="pipe", trace=True, linger=0.2)
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    fig = viz.trace_figure(r.trace, program=r.pid, supervisor=r.supervisor)
    ax = fig.axes[0]
    labels = {a.get_label() for a in [*ax.collections, *ax.lines, *ax.texts, *ax.patches]}
    labels |= {a.get_label() for a in ax.get_children()}
    assert {f"lane {p}: alive" for p in (r.supervisor, r.pid, child.pid)} <= labels
    assert f"fork {r.pid}->{child.pid}" in labels and f"fork {r.supervisor}->{r.pid}" in labels
    assert f"reparent {child.pid}->{r.supervisor}" in labels  # the orphan's adoption
    assert f"write {r.pid} fd 1" in labels and f"write {child.pid} fd 1" in labels
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"supervisor {r.supervisor}", f"program {r.pid}",
                                                            f"child {child.pid}"]
    fig.savefig(io.BytesIO(), format="png")


def test_trace_figure_marks_a_zombie_from_its_end_to_its_reaping():
    r = runner.run_program("zombie", ["0.3"], mode="pipe", trace=True)
    child = next(p for p in r.trace.processes().values() if p.parent == r.pid)
    ax = viz.trace_figure(r.trace, program=r.pid, supervisor=r.supervisor).axes[0]
    zombie = [c for c in ax.collections if c.get_label() == f"lane {child.pid}: zombie"]
    assert len(zombie) == 1 and child.reaped_at - child.born >= 0.299  # the lesson holds it 0.3 s after fork
    xs = zombie[0].get_paths()[0].vertices[:, 0]  # the bar spans the child's end to its reaping (ms)
    assert abs(xs.min() - child.ended * 1000) < 0.01 and abs(xs.max() - child.reaped_at * 1000) < 0.01
