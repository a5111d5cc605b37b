import re

from pylab.grading.assignment import sibling
from pylab.grading.checks import Fail, check, output_of

visible = sibling(__file__)


@check("as a subreaper itself, the program adopts and reaps the orphan", points=1, visibility="hidden")
def subreaper_adopts_and_reaps(ctx):
    result, orphan, _, new, _ = visible.adoption(ctx, "subreaper")
    reaped = re.search(rf"grandparent reaped adopted orphan {orphan}\b", result.stdout_text)
    if new != result.pid or not reaped or ctx.watch().unreaped_at_exit.get(result.pid) != 0:
        raise Fail(expected=f"new parent {result.pid} (the program), then \"grandparent reaped adopted orphan {orphan} (exit 0)\"",
                   observed=output_of(result),
                   hint="a process that declares itself a child subreaper adopts its orphaned descendants, and must collect them")
