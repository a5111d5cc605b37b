"""exit_test1: exit() ends the process where it is called."""
from pylab.grading.exercise import Exercise, Fail, output_of, require_clean

EXERCISE = Exercise(__file__, "exit() ends the process: the line after it never prints")
FIRST, NEVER = "this process will exit!", "never be displayed!"
HINT = "call exit(0) (from <stdlib.h>) between the two printf calls"


def _only_first_line(ctx, mode):
    result = ctx.run(mode=mode)
    require_clean(result, ctx.limits)
    if result.stdout_text != FIRST + "\n":
        seen = "the second line was printed: the process did not end at exit()" if NEVER in result.stdout_text \
            else output_of(result)
        raise Fail(expected=f'exactly one line "{FIRST}"', observed=seen, hint=HINT)
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=result.describe(), hint=HINT)


@EXERCISE.check("prints the first line only, exit status 0 (stdout to a pipe)", points=3, hint=HINT)
def first_line_only(ctx):
    _only_first_line(ctx, "pipe")


@EXERCISE.check("the same with stdout to a terminal and to a file", points=1, visibility="hidden")
def first_line_only_tty_and_file(ctx):
    _only_first_line(ctx, "tty")
    _only_first_line(ctx, "file")
