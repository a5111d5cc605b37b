"""fork_server: one child per connection; without reaping, each finished client leaves a zombie."""
from pylab.observe import procstate
from pylab.grading.exercise import Exercise, Fail, require_clean

EXERCISE = Exercise(__file__, "a forking echo server: zombies per finished client, unless SIGCHLD reaps them")
HINT = ('print "port N" and fflush; accept, fork a child per connection that echoes upper-cased until the '
        'client closes; the parent closes its copy of the connection')
CLIENTS = 3


def _serve(ctx, mode):
    """Start `fork_server MODE 3 -`, talk to it with 3 clients in turn; return (proc, port)."""
    proc = ctx.start(mode, str(CLIENTS), "-")
    try:
        port = int(proc.expect(r"port (\d+)\r?\n", timeout=max(ctx.time_left() - 1, 0.1)).group(1))
    except TimeoutError:
        raise Fail(expected='a first line "port N"', observed=f"stdout: {proc.output()[:300]!r}", hint=HINT) from None
    for i in range(CLIENTS):
        text = f"hello {i} from the grader\n".encode()
        try:
            with ctx.connect(("127.0.0.1", port), timeout=max(ctx.time_left() - 1, 0.1)) as s:
                s.sendall(text)
                got = b""
                while len(got) < len(text):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
        except OSError as e:
            raise Fail(expected=f"client {i + 1} to connect to 127.0.0.1:{port} and get its echo",
                       observed=f"{type(e).__name__}: {e}", hint=HINT) from None
        if got != text.upper():
            raise Fail(expected=f"the echo {text.upper()!r}", observed=repr(got), hint=HINT)
    return proc


def _zombies(pid):
    out = []
    for kid in procstate.children(pid):
        try:
            if procstate.state_proc(kid) == "Z":
                out.append(kid)
        except procstate.NoSuchProcess:
            pass
    return out


def _finish(ctx, proc, want_reaped):
    proc.write("\n")
    result = proc.wait()
    require_clean(result, ctx.limits)
    last = f"exiting: served {CLIENTS}, reaped {want_reaped}"
    if last not in result.stdout_text.splitlines() or result.exit_code != 0:
        raise Fail(expected=f'the last line "{last}", exit status 0',
                   observed=f"{result.stdout_text[-300:]!r}, {result.describe()}", hint=HINT)


@EXERCISE.check("echoes upper-cased to each client, one child per connection", points=2, hint=HINT)
def echoes_upper_cased(ctx):
    proc = _serve(ctx, "reap")
    _no_child_left(ctx, proc)
    _finish(ctx, proc, CLIENTS)


def _no_child_left(ctx, proc):
    """Wait until the handler has reaped every child (so the final count is settled)."""
    try:
        procstate.call_until(lambda: procstate.children(proc.pid), lambda kids: not kids,
                             timeout=max(ctx.time_left() - 1, 0.1), what="no child")
    except TimeoutError:
        raise Fail(expected="no zombie (no child at all) under the server once the clients have closed",
                   observed=f"{len(_zombies(proc.pid))} zombie(s)", hint=REAP_HINT) from None


NOREAP_HINT = "in noreap mode nobody calls wait: each child that ends stays in state Z"
REAP_HINT = "sigaction(SIGCHLD) with a handler doing while (waitpid(-1, NULL, WNOHANG) > 0) reaped++;"


@EXERCISE.check("without reaping, each finished client leaves a zombie", points=2, hint=NOREAP_HINT)
def noreap_leaves_zombies(ctx):
    proc = _serve(ctx, "noreap")
    try:
        procstate.call_until(lambda: _zombies(proc.pid), lambda z: len(z) == CLIENTS,
                             timeout=max(ctx.time_left() - 1, 0.1), what="zombies")
    except TimeoutError:
        raise Fail(expected=f"{CLIENTS} zombie children once {CLIENTS} clients have closed",
                   observed=f"{len(_zombies(proc.pid))} zombie(s) under the server", hint=NOREAP_HINT) from None
    _finish(ctx, proc, 0)


@EXERCISE.check("with a SIGCHLD handler reaping in a WNOHANG loop, no zombie stays", points=2, hint=REAP_HINT)
def reap_leaves_none(ctx):
    proc = _serve(ctx, "reap")
    _no_child_left(ctx, proc)
    _finish(ctx, proc, CLIENTS)


@EXERCISE.check("end of input on stdin stops the server early", points=1, visibility="hidden")
def end_of_input_stops_it(ctx):
    result = ctx.run("reap", "5", "-", stdin=b"")  # stdin at EOF from the start
    require_clean(result, ctx.limits, expected="the server to stop when stdin reaches end of input")
    if "exiting: served 0, reaped 0" not in result.lines or not result.lines[0].startswith("port ") \
            or result.exit_code != 0:
        raise Fail(expected='"port N", then "exiting: served 0, reaped 0", exit status 0', observed=repr(result.stdout_text[-300:]),
                   hint="poll the listening socket and stdin together; EOF on stdin ends the loop")
