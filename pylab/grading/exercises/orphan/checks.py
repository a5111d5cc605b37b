"""orphan: a child whose parent exits is adopted by the nearest subreaper.

Each fact is judged from its own evidence: who forked whom from the fork log, the
parent P the orphan names against the process that forked it, the new parent N against
the run's supervisor (the nearest child subreaper above the program)."""
import re

from pylab.grading import safe
from pylab.grading.checks import Fail, check, output_of, require_clean

HINT = ("three generations: the program forks a parent, which forks the orphan; the orphan reports its "
        "parent before that parent exits (a handshake makes it certain), then reports the new one")
BEFORE = re.compile(r"orphan (\d+): parent (\d+)")
AFTER = re.compile(r"orphan (\d+): parent (\d+) exited, new parent (\d+)(?: \(.*\))?")


def adoption(ctx, mode):
    """Run `orphan MODE`; return (result, orphan O, parent P it named, new parent N, fork pairs)."""
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
                   observed=f"{safe.quote(before[0].group(0))} and {safe.quote(after[0].group(0))}", hint=HINT)
    forks = ctx.watch().forks
    forker = next((p for c, p in forks if c == orphan), None)
    if forker is None:
        raise Fail(expected=f"O ({orphan}) to be a process the program's tree forked",
                   observed=f"no fork of {orphan} was seen (forks seen, child and parent: {forks})", hint=HINT)
    if old != forker:
        raise Fail(expected=f"P, the parent the orphan names first, to be the process that forked it ({forker})",
                   observed=f"it names {old}: it asked for its parent after that parent had already exited",
                   hint="the orphan learns its parent while the parent is surely alive: before the parent may exit")
    return result, orphan, old, int(after[0].group(3)), forks


@check("three generations: the program forks the parent, the parent forks the orphan", points=2, hint=HINT)
def three_generations(ctx):
    result, orphan, parent, _, forks = adoption(ctx, "plain")
    if (parent, result.pid) not in forks:
        raise Fail(expected=f"the program ({result.pid}) to fork P ({parent}), and P to fork O ({orphan})",
                   observed=f"P was forked by {next((p for c, p in forks if c == parent), 'no process seen')}",
                   hint=HINT)


ADOPT_HINT = ("an orphan is adopted by the nearest ancestor that is a child subreaper (PID 1 when there is "
              "none): report what getppid() returns once it has changed")


@check("the orphan is adopted by the nearest subreaper (here: the grader's supervisor)", points=3, hint=ADOPT_HINT)
def adopted_by_the_nearest_subreaper(ctx):
    result, _, parent, new, _ = adoption(ctx, "plain")
    supervisor = result.supervisor  # the runner's supervisor: the nearest subreaper above
    if new == parent:
        raise Fail(expected=f"a new parent, the grader's supervisor ({supervisor})",
                   observed=f"the orphan reported its old parent {parent} again: it did not wait until getppid() "
                            "changed", hint=ADOPT_HINT)
    if new != supervisor:
        raise Fail(expected=f"the new parent to be the grader's supervisor ({supervisor}), the nearest subreaper",
                   observed=f"new parent {new}", hint=ADOPT_HINT)
