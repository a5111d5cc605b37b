from pylab.grading.assignment import sibling
from pylab.grading.checks import check

visible = sibling(__file__)


@check("with stdout to a file nothing appears either", points=1, visibility="hidden", hint=visible.HINT)
def file_loses_everything(ctx):
    visible.lost_but_printed(ctx, "file")
