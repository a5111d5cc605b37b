from pylab.grading import safe
from pylab.grading.checks import Fail, check, require_clean


@check("end of input on stdin stops the server early", points=1, visibility="hidden")
def end_of_input_stops_it(ctx):
    result = ctx.run("reap", "5", "-", stdin=b"")  # stdin at EOF from the start
    require_clean(result, ctx.limits, expected="the server to stop when stdin reaches end of input")
    if "exiting: served 0, reaped 0" not in result.lines or not result.lines or not result.lines[0].startswith("port ") \
            or result.exit_code != 0:
        raise Fail(expected='"port N", then "exiting: served 0, reaped 0", exit status 0', observed=safe.quote(result.stdout_text[-300:]),
                   hint="the server watches its listening socket and stdin at once (see poll(2)); end of input is a read of 0 bytes")
