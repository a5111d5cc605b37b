"""orphan: a child whose parent exits is adopted by the nearest subreaper."""
import re

from pylab.grading.exercise import Exercise, Fail, output_of, require_clean

EXERCISE = Exercise(__file__, "orphan a grandchild and see who adopts it: the nearest subreaper")
HINT = ("grandparent forks parent, parent forks the orphan; the orphan reports its parent, the parent "
        "exits, the orphan polls getppid() until it changes and prints the new parent")
BEFORE = re.compile(r"orphan (\d+): parent (\d+)")
AFTER = re.compile(r"orphan (\d+): parent (\d+) exited, new parent (\d+)(?: \(.*\))?")


def _adoption(ctx, mode):
    """Run `orphan MODE`; return (result, orphan, old parent, new parent, fork pairs)."""
    result = ctx.run(mode, watch_forks=True)
    require_clean(result, ctx.limits)
    before = [m for m in map(BEFORE.fullmatch, result.lines) if m]
    after = [m for m in map(AFTER.fullmatch, result.lines) if m]
    if len(before) != 1 or len(after) != 1:
        raise Fail(expected='one line "orphan O: parent P" and one "orphan O: parent P exited, new parent N (NAME)"',
                   observed=output_of(result), hint=HINT)
    orphan, old = int(before[0].group(1)), int(before[0].group(2))
    if (int(after[0].group(1)), int(after[0].group(2))) != (orphan, old):
        raise Fail(expected="both orphan lines to name the same orphan O and parent P",
                   observed=f"{before[0].group(0)!r} and {after[0].group(0)!r}", hint=HINT)
    return result, orphan, old, int(after[0].group(3)), ctx.watch().forks


@EXERCISE.check("three generations: the program forks the parent, the parent forks the orphan", points=2,
                hint=HINT)
def three_generations(ctx):
    result, orphan, parent, _, forks = _adoption(ctx, "plain")
    if (parent, result.pid) not in forks or (orphan, parent) not in forks:
        raise Fail(expected=f"the program ({result.pid}) to fork P ({parent}) and P to fork O ({orphan})",
                   observed=f"forks seen (child, parent): {forks}", hint=HINT)


ADOPT_HINT = "the new parent is whatever getppid() returns once it has changed: not PID 1 here"


@EXERCISE.check("the orphan is adopted by the nearest subreaper (here: the grader's supervisor)", points=3,
                hint=ADOPT_HINT)
def adopted_by_the_nearest_subreaper(ctx):
    result, _, parent, new, _ = _adoption(ctx, "plain")
    supervisor = result.supervisor  # the runner's supervisor: the nearest subreaper above
    if new == parent or new != supervisor:
        raise Fail(expected=f"the new parent to be the grader's supervisor ({supervisor}), the nearest subreaper",
                   observed=f"new parent {new}", hint=ADOPT_HINT)


@EXERCISE.check("as a subreaper itself, the program adopts and reaps the orphan", points=1, visibility="hidden")
def subreaper_adopts_and_reaps(ctx):
    result, orphan, _, new, _ = _adoption(ctx, "subreaper")
    reaped = re.search(rf"grandparent reaped adopted orphan {orphan}\b", result.stdout_text)
    if new != result.pid or not reaped or ctx.watch().unreaped_at_exit.get(result.pid) != 0:
        raise Fail(expected=f"new parent {result.pid} (the program), then \"grandparent reaped adopted orphan {orphan} (exit 0)\"",
                   observed=output_of(result), hint="prctl(PR_SET_CHILD_SUBREAPER, 1) first; waitpid(-1, ...) at the end")
