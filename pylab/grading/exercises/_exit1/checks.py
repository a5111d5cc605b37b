"""_exit1: nothing on a pipe proves something only if the program prints at all."""
from pylab.grading.checks import Fail, check, output_of, require_clean

HINT = "_exit() ends the process without flushing stdio; a pipe's stdout is flushed only when its buffer fills"


def lost_but_printed(ctx, mode):
    """Nothing reaches `mode`, yet the program prints "output begin" on a terminal."""
    result = ctx.run(mode=mode)
    require_clean(result, ctx.limits)
    if result.exit_code != 0:
        raise Fail(expected="exit status 0", observed=f"it {result.describe()}", hint=HINT)
    if result.stdout:
        raise Fail(expected=f"nothing with stdout to a {mode}: both texts were still in stdio's buffer at _exit",
                   observed=output_of(result), hint=HINT)
    shown = ctx.run(mode="tty")
    require_clean(shown, ctx.limits)
    if "output begin" not in shown.stdout_text:
        raise Fail(expected='the program to print "output begin" (it shows on a terminal)',
                   observed=f"on a terminal: {output_of(shown)}", hint=HINT)


@check("on a pipe nothing appears (fully buffered), though the program does print", points=2, hint=HINT)
def pipe_loses_everything(ctx):
    lost_but_printed(ctx, "pipe")
