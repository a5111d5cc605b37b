"""getpid_test: print your own PID."""
from pylab.grading.exercise import Exercise, Fail, find_lines, output_of, require_clean

EXERCISE = Exercise(__file__, "print this process's PID with getpid()")
LINE = r"The current process ID is (\d+)"
HINT = 'printf("The current process ID is %d\\n", getpid()); needs <unistd.h>'


def _own_pid_line(ctx, mode):
    result = ctx.run(mode=mode)
    require_clean(result, ctx.limits)
    found = find_lines(result, LINE)
    if len(found) != 1 or len(result.lines) != 1:
        raise Fail(expected='exactly one line "The current process ID is N"',
                   observed=output_of(result), hint=HINT)
    if int(found[0].group(1)) != result.pid:
        raise Fail(expected=f"N to be the program's own PID ({result.pid} in this run)",
                   observed=f"N = {found[0].group(1)}", hint="getpid() returns the PID of the calling process")
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=result.describe(), hint="return 0 from main")


@EXERCISE.check("prints its own PID (stdout to a pipe)", points=3, hint=HINT)
def prints_own_pid(ctx):
    _own_pid_line(ctx, "pipe")


@EXERCISE.check("prints its own PID with stdout to a terminal and to a file", points=1, visibility="hidden")
def prints_own_pid_tty_and_file(ctx):
    _own_pid_line(ctx, "tty")
    _own_pid_line(ctx, "file")
