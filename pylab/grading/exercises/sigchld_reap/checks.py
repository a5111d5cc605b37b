"""sigchld_reap: reap children in a SIGCHLD handler; signals don't queue."""
import re

from pylab.grading.checks import check, Fail, output_of, require_clean

HINT = ("signals of one kind do not queue: one SIGCHLD may stand for several ended children, so the "
        "handler collects every child that has ended, without blocking, each time it runs")
SUMMARY = re.compile(r"children (\d+), SIGCHLD signals handled (\d+), reaped (\d+)")


def summary(ctx, *args):
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


@check("5 children, every one reaped by the handler", points=3, hint=HINT)
def every_child_reaped(ctx):
    result, n, signals, reaped, made, left = summary(ctx, "5")
    if (n, reaped, len(made)) != (5, 5, 5) or not 1 <= signals <= 5 or left != 0:
        raise Fail(expected="5 children forked, 1 to 5 signals handled, 5 reaped, none left at exit",
                   observed=f"{output_of(result)} ({len(made)} forks seen; unreaped at exit: {left})", hint=HINT)


BLOCKED_HINT = ("a blocked signal stays pending, once, however often it is sent: see sigprocmask and "
                "sigsuspend, and make sure every child has ended before the signal is let in")


@check("with SIGCHLD blocked while they end, one signal reaps all", points=2, hint=BLOCKED_HINT)
def signals_do_not_queue(ctx):
    result, n, signals, reaped, _, _ = summary(ctx, "5", "blocked")
    if (n, signals, reaped) != (5, 1, 5):
        raise Fail(expected="children 5, SIGCHLD signals handled 1, reaped 5", observed=output_of(result),
                   hint=BLOCKED_HINT)


