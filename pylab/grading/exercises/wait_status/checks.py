"""wait_status: a child ends each way; the parent decodes the wait status."""
import os
import re

from pylab.grading import safe
from pylab.grading.checks import check, Fail, output_of, require_clean

HINT = ("the wait status is one number that packs how the child ended: decode it with the W* macros "
        "(man 2 waitpid) and print it as the statement shows")
LINE = re.compile(r"(?P<label>\S+)\s+raw=0x(?P<raw>[0-9a-fA-F]+)\s+(?P<said>.*)")


def lines_of(ctx):
    """Run once; {label: (raw status, what the program said)}, the run's result."""
    result = ctx.run(watch_forks=True)
    require_clean(result, ctx.limits)
    seen = {}
    for ln in result.lines:
        m = LINE.fullmatch(ln.strip())
        if m:
            seen[m["label"]] = (int(m["raw"], 16), m["said"].strip())
    return seen, result


def _decoded(raw: int) -> str:
    """What the statement asks the program to print for a raw status (the W* macros)."""
    if os.WIFEXITED(raw):
        return f"WIFEXITED WEXITSTATUS={os.WEXITSTATUS(raw)}"
    if os.WIFSIGNALED(raw):
        return f"WIFSIGNALED WTERMSIG={os.WTERMSIG(raw)}"
    if os.WIFSTOPPED(raw):
        return f"WIFSTOPPED WSTOPSIG={os.WSTOPSIG(raw)}"
    if raw == 0xFFFF:
        return "WIFCONTINUED"
    return "?"


def _expect(seen, result, label, want: str):
    if label not in seen:
        raise Fail(expected=f"a line starting with {label} raw=0x....", observed=output_of(result), hint=HINT)
    raw, said = seen[label]
    if not _decoded(raw).startswith(want):
        raise Fail(expected=f"{label}: a raw status meaning {want}",
                   observed=f"raw=0x{raw:04x}, which means {_decoded(raw)}", hint=HINT)
    if not said.startswith(want):
        raise Fail(expected=f"{label}: the decoded status {safe.quote(want)} (from raw=0x{raw:04x})",
                   observed=safe.quote(said), hint=HINT)


@check("exit codes: return 7, exit(3), exit(256) seen as 0, exit(-1) seen as 255", points=3, hint=HINT)
def exit_codes(ctx):
    seen, result = lines_of(ctx)
    for label, code in (("return7", 7), ("exit3", 3), ("exit256", 0), ("exit-1", 255)):
        _expect(seen, result, label, f"WIFEXITED WEXITSTATUS={code}")


@check("killed by SIGTERM and by SIGSEGV: WIFSIGNALED and WTERMSIG", points=2, hint=HINT)
def killed_by_signals(ctx):
    seen, result = lines_of(ctx)
    _expect(seen, result, "SIGTERM", "WIFSIGNALED WTERMSIG=15")
    _expect(seen, result, "SIGSEGV", "WIFSIGNALED WTERMSIG=11")


@check("stopped and continued: WUNTRACED and WCONTINUED", points=2,
                hint="waitpid reports a stopped or a continued child only when asked to: see its options in man 2 waitpid")
def stopped_and_continued(ctx):
    seen, result = lines_of(ctx)
    _expect(seen, result, "SIGSTOP", "WIFSTOPPED WSTOPSIG=19")
    _expect(seen, result, "SIGCONT", "WIFCONTINUED")


