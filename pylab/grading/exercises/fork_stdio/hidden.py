from pylab.grading.assignment import sibling
from pylab.grading.checks import check

visible = sibling(__file__)


@check("stdout to a file: twice without a remedy, once with fflush", points=1, visibility="hidden")
def file_like_a_pipe(ctx):
    visible.expect_count(ctx, "none", "file", 2, "a file is fully buffered, like a pipe")
    visible.expect_count(ctx, "fflush", "file", 1, "flushed before fork")
