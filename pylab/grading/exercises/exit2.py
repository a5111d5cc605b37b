"""exit2: exit() flushes stdio's buffers."""
from pylab.grading.exercise import Exercise, Fail, output_of, require_clean

EXERCISE = Exercise(__file__, "exit() flushes what stdio still holds, whatever stdout is")
EXPECTED = "output begin\ncontent in buffer"
HINT = 'print "output begin\\n", then "content in buffer" with no newline, then exit(0)'


def _both_texts(ctx, mode):
    result = ctx.run(mode=mode)
    require_clean(result, ctx.limits)
    if result.stdout_text != EXPECTED:
        raise Fail(expected=f"stdout to be exactly {EXPECTED!r} (no newline at the end)",
                   observed=output_of(result), hint=HINT)
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=result.describe(), hint=HINT)


@EXERCISE.check("both texts appear with stdout to a pipe (fully buffered)", points=2, hint=HINT)
def flushed_on_a_pipe(ctx):
    _both_texts(ctx, "pipe")


@EXERCISE.check("both texts appear with stdout to a terminal (line buffered)", points=1, hint=HINT)
def flushed_on_a_terminal(ctx):
    _both_texts(ctx, "tty")


@EXERCISE.check("both texts appear with stdout to a file", points=1, visibility="hidden")
def flushed_to_a_file(ctx):
    _both_texts(ctx, "file")
