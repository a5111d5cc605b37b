from pylab.grading.assignment import sibling
from pylab.grading.checks import Fail, check

visible = sibling(__file__)


@check("every child forked by the program and reaped by it; exit status 0", points=1, visibility="hidden")
def all_reaped(ctx):
    _, result = visible.lines_of(ctx)
    watch = ctx.watch()
    made = [c for c, p in watch.forks if p == result.pid]
    if len(made) < 7 or watch.unreaped_at_exit.get(result.pid) != 0 or result.exit_code != 0:
        raise Fail(expected="7 children forked by the program, all reaped before it exits, status 0",
                   observed=f"{len(made)} forked; unreaped at exit: {watch.unreaped_at_exit.get(result.pid)}; "
                            f"{result.describe()}", hint="a parent collects each child it created before it ends")
