"""_exit1: _exit() ends the process at once; stdio buffers are lost."""
from pylab.grading.exercise import Exercise, Fail, output_of, require_clean

EXERCISE = Exercise(__file__, "_exit() skips stdio's flush: what is lost depends on stdout")
HINT = 'print "output begin\\n" and "content in buffer", then _exit(0) from <unistd.h> (not exit)'


def _run(ctx, mode):
    result = ctx.run(mode=mode)
    require_clean(result, ctx.limits)
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=result.describe(), hint=HINT)
    return result


@EXERCISE.check("on a terminal only \"output begin\" appears (line buffered)", points=2, hint=HINT)
def terminal_keeps_the_first_line(ctx):
    result = _run(ctx, "tty")
    if result.stdout_text != "output begin\n":
        raise Fail(expected='exactly "output begin\\n": the newline flushed it on a terminal, '
                            'and "content in buffer" was still in the buffer when _exit ended the process',
                   observed=output_of(result), hint=HINT)


@EXERCISE.check("on a pipe nothing appears (fully buffered), though the program does print", points=2,
                hint=HINT)
def pipe_loses_everything(ctx):
    result = _run(ctx, "pipe")
    if result.stdout_text:
        raise Fail(expected="nothing on a pipe: both texts were still in stdout's buffer at _exit",
                   observed=output_of(result), hint=HINT)
    shown = _run(ctx, "tty")  # nothing on a pipe proves something only if it prints at all
    if "output begin" not in shown.stdout_text:
        raise Fail(expected='the program to print "output begin" (it shows on a terminal)',
                   observed=f"on a terminal: {output_of(shown)}", hint=HINT)


@EXERCISE.check("with stdout to a file nothing appears either", points=1, visibility="hidden")
def file_loses_everything(ctx):
    result = _run(ctx, "file")
    shown = _run(ctx, "tty")
    if result.stdout_text or "output begin" not in shown.stdout_text:
        raise Fail(expected='nothing in the file, "output begin" on a terminal',
                   observed=f"file: {output_of(result)}; terminal: {output_of(shown)}", hint=HINT)
