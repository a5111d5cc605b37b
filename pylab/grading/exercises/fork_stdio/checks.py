"""fork_stdio: a line still buffered at fork is printed twice, unless remedied."""
import re

from pylab.grading.checks import check, explained, Fail, output_of, require_clean

HINT = ("fork copies the whole process, stdio's unwritten buffer included; each copy is flushed when its "
        "process calls exit")


def _counts(ctx, remedy, mode):
    """Run `fork_stdio REMEDY`; check the child and parent lines; return how many
    'before fork' lines appeared (each naming the parent's pid)."""
    result = ctx.run(remedy, mode=mode, watch_forks=True)
    require_clean(result, ctx.limits)
    before = [m for m in (re.fullmatch(r"before fork: pid (\d+) \(remedy: (\S+)\)", ln) for ln in result.lines) if m]
    child = [m for m in (re.fullmatch(r"child (\d+): parent (\d+)", ln) for ln in result.lines) if m]
    parent = [m for m in (re.fullmatch(r"parent (\d+): child (\d+) done", ln) for ln in result.lines) if m]
    if len(child) != 1 or len(parent) != 1 or len(before) + 2 != len(result.lines):
        raise Fail(expected="\"before fork: pid P (remedy: R)\" line(s), one \"child C: parent P\" and one "
                            "\"parent P: child C done\", nothing else",
                   observed=f"with stdout to a {mode}: {output_of(result)}", hint=HINT)
    c, p = int(child[0].group(1)), int(parent[0].group(1))
    ok = (p == result.pid and int(child[0].group(2)) == p and int(parent[0].group(2)) == c
          and (c, p) in ctx.watch().forks and all(int(m.group(1)) == p and m.group(2) == remedy for m in before))
    if not ok:
        raise Fail(expected=f"P = the program's pid ({result.pid}), C its forked child, each line naming them",
                   observed=f"with stdout to a {mode}: {output_of(result)}",
                   hint="each process names itself with getpid(); the parent knows its child from fork's return")
    return len(before), result


def expect_count(ctx, remedy, mode, n, why):
    got, result = _counts(ctx, remedy, mode)
    if got != n:  # the observed part adds what the tracer saw: who wrote the line, when
        raise explained(Fail(expected=f"the 'before fork' line {'once' if n == 1 else 'twice'} with remedy {remedy} "
                                      f"and stdout to a {mode}: {why}",
                             observed=f"{'once' if got == 1 else f'{got} times'}; {output_of(result)}", hint=HINT),
                        result, ctx.watch())


@check("no remedy, stdout to a pipe: the line appears twice", points=2, hint=HINT)
def twice_on_a_pipe(ctx):
    expect_count(ctx, "none", "pipe", 2, "the buffered line was copied by fork and both copies flushed at exit")


@check("no remedy, stdout to a terminal: once", points=1, hint=HINT)
def once_on_a_terminal(ctx):
    expect_count(ctx, "none", "tty", 1, "a terminal is line-buffered: the newline wrote it before fork")


@check("each remedy (fflush, setvbuf, _exit) prints it once on a pipe", points=2,
                hint=("a remedy either empties stdio's buffer before fork or keeps the child from flushing its copy: "
                      "see fflush(3), setvbuf(3) and _exit(2)"))
def remedies_on_a_pipe(ctx):
    for remedy in ("fflush", "setvbuf", "_exit"):
        expect_count(ctx, remedy, "pipe", 1, f"the {remedy} remedy keeps the copy from being flushed twice")


