from pylab.grading.assignment import sibling
from pylab.grading.checks import Fail, check, output_of

visible = sibling(__file__)


@check("8 children ending freely: all reaped, then wait() fails with ECHILD", points=1, visibility="hidden")
def open_mode_reaps_all(ctx):
    result, n, signals, reaped, made, left = visible.summary(ctx, "8", "open")
    if (n, reaped, len(made), left) != (8, 8, 8, 0) or not 1 <= signals <= 8 \
            or "wait: ECHILD, no child left" not in result.lines:
        raise Fail(expected="children 8, 1 to 8 signals, reaped 8, then \"wait: ECHILD, no child left\"",
                   observed=output_of(result), hint=visible.HINT)
