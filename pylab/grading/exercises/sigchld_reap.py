"""sigchld_reap: reap children in a SIGCHLD handler; signals don't queue."""
import re

from pylab.grading.exercise import Exercise, Fail, output_of, require_clean

EXERCISE = Exercise(__file__, "reap N children from a SIGCHLD handler, though fewer signals arrive")
HINT = "in the handler: while (waitpid(-1, NULL, WNOHANG) > 0) reaped++;  one signal may stand for many children"
SUMMARY = re.compile(r"children (\d+), SIGCHLD signals handled (\d+), reaped (\d+)")


def _summary(ctx, *args):
    result = ctx.run(*args, watch_forks=True)
    require_clean(result, ctx.limits)
    found = [m for m in map(SUMMARY.fullmatch, result.lines) if m]
    if len(found) != 1:
        raise Fail(expected='one line "children N, SIGCHLD signals handled S, reaped R"',
                   observed=output_of(result), hint=HINT)
    n, signals, reaped = (int(x) for x in found[0].groups())
    watch = ctx.watch()
    made = [c for c, p in watch.forks if p == result.pid]
    return result, n, signals, reaped, made, watch.unreaped_at_exit.get(result.pid)


@EXERCISE.check("5 children, every one reaped by the handler", points=3, hint=HINT)
def every_child_reaped(ctx):
    result, n, signals, reaped, made, left = _summary(ctx, "5")
    if (n, reaped, len(made)) != (5, 5, 5) or not 1 <= signals <= 5 or left != 0:
        raise Fail(expected="5 children forked, 1 to 5 signals handled, 5 reaped, none left at exit",
                   observed=f"{output_of(result)}\n({len(made)} forks seen; unreaped at exit: {left})", hint=HINT)


BLOCKED_HINT = ("block SIGCHLD, let every child end (waitid WNOWAIT to be sure), then sigsuspend: one "
                "pending signal is delivered, and the handler's loop reaps them all")


@EXERCISE.check("with SIGCHLD blocked while they end, one signal reaps all", points=2, hint=BLOCKED_HINT)
def signals_do_not_queue(ctx):
    result, n, signals, reaped, _, _ = _summary(ctx, "5", "blocked")
    if (n, signals, reaped) != (5, 1, 5):
        raise Fail(expected="children 5, SIGCHLD signals handled 1, reaped 5", observed=output_of(result),
                   hint=BLOCKED_HINT)


@EXERCISE.check("8 children ending freely: all reaped, then wait() fails with ECHILD", points=1, visibility="hidden")
def open_mode_reaps_all(ctx):
    result, n, signals, reaped, made, left = _summary(ctx, "8", "open")
    if (n, reaped, len(made), left) != (8, 8, 8, 0) or not 1 <= signals <= 8 \
            or "wait: ECHILD, no child left" not in result.lines:
        raise Fail(expected="children 8, 1 to 8 signals, reaped 8, then \"wait: ECHILD, no child left\"",
                   observed=output_of(result), hint=HINT)
