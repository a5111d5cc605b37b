"""fork_server: one child per connection; without reaping, each finished client leaves a zombie."""

from pylab.grading import safe
from pylab.observe import procstate
from pylab.grading.checks import check, Fail, require_clean

HINT = ("a forking server accepts in the parent and serves each connection in a child of its own; the "
        "parent must close its copy of each connection, or clients never see the end")
CLIENTS = 3


def _serve(ctx, mode):
    """Start `fork_server MODE 3 -`, talk to it with 3 clients in turn; return (proc, port)."""
    proc = ctx.start(mode, str(CLIENTS), "-")
    try:
        port = int(proc.expect(r"port (\d+)\r?\n", timeout=max(ctx.time_left() - 1, 0.1)).group(1))
    except TimeoutError:
        raise Fail(expected='a first line "port N"', observed=f"stdout: {safe.quote(proc.output())}", hint=HINT) from None
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
            raise Fail(expected=f"the echo {safe.quote(text.upper())}", observed=safe.quote(got), hint=HINT)
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
                   observed=f"stdout ending {safe.quote(result.stdout_text[-300:])}; it {result.describe()}", hint=HINT)


@check("echoes upper-cased to each client, one child per connection", points=2, hint=HINT)
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
REAP_HINT = ("a SIGCHLD handler runs once for one or more ended children (signals do not queue): it must collect "
             "every child that has ended, without blocking the server")


@check("without reaping, each finished client leaves a zombie", points=2, hint=NOREAP_HINT)
def noreap_leaves_zombies(ctx):
    proc = _serve(ctx, "noreap")
    try:
        procstate.call_until(lambda: _zombies(proc.pid), lambda z: len(z) == CLIENTS,
                             timeout=max(ctx.time_left() - 1, 0.1), what="zombies")
    except TimeoutError:
        raise Fail(expected=f"{CLIENTS} zombie children once {CLIENTS} clients have closed",
                   observed=f"{len(_zombies(proc.pid))} zombie(s) under the server", hint=NOREAP_HINT) from None
    _finish(ctx, proc, 0)


@check("with a SIGCHLD handler reaping in a WNOHANG loop, no zombie stays", points=2, hint=REAP_HINT)
def reap_leaves_none(ctx):
    proc = _serve(ctx, "reap")
    _no_child_left(ctx, proc)
    _finish(ctx, proc, CLIENTS)


