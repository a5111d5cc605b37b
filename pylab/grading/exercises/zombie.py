"""zombie: a child that has exited stays a zombie until its parent waits."""
from pylab.observe import procstate
from pylab.grading.exercise import Exercise, Fail, describe_run, require_clean

EXERCISE = Exercise(__file__, "make a zombie, hold it until told, then reap it with wait()")
HINT = ("fork(); the child exit(0)s at once; the parent reads a line from stdin (fgets) "
        "and only then calls wait(NULL)")


def _hold_zombie(ctx):
    """Start `zombie -`, find its child, see it in state Z. Returns (proc, child pid)."""
    proc = ctx.start("-", watch_forks=True)
    pid = proc.pid

    def look():
        kids = procstate.children(pid)
        try:
            alive = procstate.state_proc(pid) != "Z"
        except procstate.NoSuchProcess:
            alive = False
        return kids, alive

    try:
        kids, alive = procstate.call_until(look, lambda seen: seen[0] or not seen[1],
                                           timeout=max(ctx.time_left() - 0.5, 0.1), what="a child")
    except TimeoutError:
        kids, alive = [], True
    if not kids:
        if alive:
            observed = "the program kept running but no child process appeared"
        else:
            result = proc.wait()
            observed = describe_run(result, ctx.limits) or f"the program ended ({result.describe()}) without a child"
        raise Fail(expected="a child process while the program waits for its line", observed=observed, hint=HINT)
    child = kids[0]
    try:
        procstate.wait_for_state(child, "Z", timeout=max(ctx.time_left() - 0.5, 0.1))
    except TimeoutError:
        state = procstate.states(child)["proc"]
        raise Fail(expected=f"the child ({child}) to exit and stay a zombie (state Z) while the parent holds",
                   observed=f"its state stayed {state} ({procstate.STATE_NAMES.get(state, state)})",
                   hint="the child should call exit(0) right after fork") from None
    return proc, child


@EXERCISE.check("the child is seen in state Z while the parent holds", points=3, hint=HINT)
def child_seen_as_zombie(ctx):
    proc, _ = _hold_zombie(ctx)
    proc.write("\n")
    proc.wait()


@EXERCISE.check("after a line on stdin the parent reaps the zombie, then exits 0", points=2, hint=HINT)
def parent_reaps_after_the_line(ctx):
    proc, child = _hold_zombie(ctx)
    proc.write("\n")
    result = proc.wait()
    require_clean(result, ctx.limits)
    left = ctx.watch().unreaped_at_exit.get(result.pid)
    if left is None:
        raise Fail(expected="the parent to return from main (or call exit) after wait()",
                   observed=f"it ended without exit() ({result.describe()})", hint=HINT)
    if left:
        raise Fail(expected=f"the zombie ({child}) reaped by the parent before it exits",
                   observed=f"the parent exited with {left} child(ren) not reaped: its zombie was left "
                            "for the grader (the new parent) to collect", hint="call wait(NULL) after the line")
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=result.describe(), hint="return 0 from main")
    procstate.wait_gone(child, timeout=max(ctx.time_left(), 0.1))  # and the zombie is gone


@EXERCISE.check("end of input also ends the hold", points=1, visibility="hidden")
def end_of_input_ends_the_hold(ctx):
    result = ctx.run("-", watch_forks=True)  # stdin is /dev/null: fgets sees EOF at once
    require_clean(result, ctx.limits, expected="the program to reap its child and end when stdin is at EOF")
    watch = ctx.watch()
    made = [c for c, p in watch.forks if p == result.pid]
    if not made or watch.unreaped_at_exit.get(result.pid) != 0 or result.exit_code != 0:
        raise Fail(expected="a child forked, then reaped, then exit status 0",
                   observed=f"{len(made)} child(ren) forked; {result.describe()}", hint="treat EOF like the line")
