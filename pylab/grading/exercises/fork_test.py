"""fork_test: fork once; the parent and the child each print one line."""
from pylab.grading.exercise import Exercise, Fail, find_lines, output_of, require_clean

EXERCISE = Exercise(__file__, "fork once: one line from the parent, one from the child")
PARENT = r"I am the parent process, my process ID is (\d+)"
CHILD = r"I am the child process, my process ID is (\d+)"
HINT = "fork() returns 0 in the child and the child's PID in the parent: branch on it"


def _two_lines(ctx, mode="pipe", watch=False):
    """Run and return (result, parent pid, child pid) when both lines appear, one each.
    The two processes print concurrently: the lines may come in either order."""
    result = ctx.run(mode=mode, watch_forks=watch)
    require_clean(result, ctx.limits)
    parents, children = find_lines(result, PARENT), find_lines(result, CHILD)
    if len(parents) != 1 or len(children) != 1 or len(result.lines) != 2:
        raise Fail(expected="two lines in any order: one \"I am the parent process, my process ID is P\" "
                            "and one \"I am the child process, my process ID is C\"",
                   observed=output_of(result), hint=HINT)
    return result, int(parents[0].group(1)), int(children[0].group(1))


@EXERCISE.check("one line from the parent and one from the child", points=2, hint=HINT)
def both_lines(ctx):
    _two_lines(ctx)


@EXERCISE.check("the parent's line names the program's PID, the child's a different one", points=1,
                hint="each process prints getpid(): its own PID")
def pids_differ(ctx):
    result, parent, child = _two_lines(ctx)
    if parent != result.pid:
        raise Fail(expected=f"the parent line's PID to be the program's PID ({result.pid})",
                   observed=f"P = {parent}", hint="the parent prints its own getpid()")
    if child == parent:
        raise Fail(expected="the child's PID to differ from the parent's", observed=f"both are {parent}",
                   hint="print getpid() in each process, not a value saved before fork()")


FORK_HINT = "create the child with fork(); the child prints its own getpid()"


@EXERCISE.check("the child line comes from a real child of the parent", points=2, hint=FORK_HINT)
def child_is_the_parents_child(ctx):
    result, parent, child = _two_lines(ctx, watch=True)
    forks = ctx.watch().forks
    if (child, parent) not in forks:
        made = [c for c, p in forks if p == result.pid]
        raise Fail(expected=f"process {child} (the child line's PID) to have been forked by {parent}",
                   observed=f"the program forked {made or 'no process'}", hint=FORK_HINT)


@EXERCISE.check("both lines with stdout to a terminal too", points=1, visibility="hidden")
def both_lines_on_a_terminal(ctx):
    _two_lines(ctx, mode="tty")
