"""One way to write checks: simple cases as data, the rest in Python with the same helpers.

A case declared in exercise.toml (docs/assignments.md lists every key):

    [[check]]
    title = "prints its own PID"
    points = 3
    modes = ["pipe", "tty"]         # each mode earns its share (partial credit)
    lines = ["The current process ID is {pid}"]   # the whole stdout, in this order
    exit_code = 0

becomes a Check whose function is `run_case(ctx, Case(...))`. A Python check in
checks.py calls the same pieces: `run(ctx, ...)`, `expect_lines(...)`,
`hold(ctx, ...)`, `expect_children(...)`, `require_clean(...)`.

Placeholders in expected lines: {pid} the program's PID, {child} a PID the program
forked, {parent} the program's parent (the grader's supervisor), {int} any integer,
{any} any text; {{ and }} are literal braces.
"""
from __future__ import annotations

from collections import Counter

import platform
import re
from dataclasses import dataclass, field

from pylab.core.targets import MODES
from pylab.grading import evidence, safe
from pylab.grading.exercise import (Fail, check, describe_run, find_lines, make_check,  # noqa: F401 (the API)
                                    output_of, require_clean)
from pylab.observe import procstate
from pylab.run import explain

CASE_KEYS = {"name", "title", "points", "visibility", "hint", "time_limit", "mode", "modes", "args", "stdin",
             "stdout", "lines", "unordered", "contains", "absent", "exit_code", "children", "forks", "reaped",
             "hold", "release", "per_process"}
HOLD_KEYS = {"state", "count"}
PROCESS_KEYS = ("parent", "child")  # per_process: the program itself; each child it forks
EXPLAINED = 3  # the tracer's sentences added to a failure at most
PLACEHOLDERS = {"pid": r"(?P<pid{n}>\d+)", "child": r"(?P<child{n}>\d+)", "parent": r"(?P<parent{n}>\d+)",
                "int": r"-?\d+", "any": r".*"}
WORDS = {"pid": "the program's PID", "child": "the PID of a child it forked",
         "parent": "the program's parent's PID", "int": "a number", "any": "any text"}


class CaseError(ValueError):
    """A check declared as data is malformed (the message says which key and why)."""


@dataclass(frozen=True)
class Case:
    modes: tuple = ("pipe",)
    args: tuple = ()
    stdin: str | None = None
    stdout: str | None = None        # the whole stdout, exactly (to the byte, newlines included)
    lines: tuple | None = None       # the whole stdout, in this order
    unordered: tuple | None = None   # the whole stdout, in any order (concurrent processes)
    contains: tuple | None = None    # these lines, in this order, among others
    absent: tuple = ()               # no line like these
    exit_code: int | None = None
    children: int | None = None      # processes the program forks itself
    forks: int | None = None         # processes its whole tree forks (children, grandchildren...)
    reaped: bool = False             # every child reaped before the program exits
    hold: dict | None = None         # {"state": "Z", "count": 1}: children in that state while stdin is open
    release: str = "\n"              # written to stdin to end the hold
    hint: str = ""
    per_process: tuple | None = None  # (("parent", lines), ("child", lines)): who writes what, in order
    extra: dict = field(default_factory=dict)

    @property
    def needs_forks(self) -> bool:
        text = " ".join((self.lines or ()) + (self.unordered or ()) + (self.contains or ()))
        counts = self.children is not None or self.forks is not None
        return counts or self.reaped or self.hold is not None or "{child}" in text or self.per_process is not None


def parse_case(spec: dict, where: str) -> tuple[Case, dict]:
    """(Case, the Check's own keys) from one [[check]] table; CaseError names the problem."""
    unknown = set(spec) - CASE_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(CASE_KEYS))})")
    if "title" not in spec:
        raise CaseError(f"{where}: every check needs a title")
    modes = spec.get("modes", [spec["mode"]] if "mode" in spec else ["pipe"])
    if isinstance(modes, str) or not modes or any(m not in MODES for m in modes):
        raise CaseError(f"{where}: modes must be a list of {', '.join(MODES)}, not {modes!r}")

    def strings(key):
        return strings_of(spec, key, key)

    def strings_of(table, key, label):
        value = table.get(key)
        key = label  # named as the instructor wrote it (per_process.child)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise CaseError(f"{where}: {key} must be a list of strings")
        for x in value:
            for name in re.findall(r"(?<!\{)\{(\w*)\}(?!\})", x):
                if name not in PLACEHOLDERS:
                    raise CaseError(f"{where}: {key}: unknown placeholder {{{name}}} (known: "
                                    f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
        return tuple(value)

    per = spec.get("per_process")
    if per is not None:
        if not isinstance(per, dict) or not per or set(per) - set(PROCESS_KEYS):
            raise CaseError(f"{where}: per_process must be a table of {' and '.join(PROCESS_KEYS)}, each a list of "
                            "lines, like {parent = [\"...\"], child = [\"...\"]}")
        if "lines" in spec or "unordered" in spec:
            raise CaseError(f"{where}: per_process already says the whole output: give it without lines or unordered")
        per = tuple((k, strings_of(per, k, f"per_process.{k}")) for k in PROCESS_KEYS if k in per)

    given = [k for k in ("lines", "unordered", "contains", "per_process") if k in spec]
    if len(set(given) & {"lines", "unordered"}) > 1:
        raise CaseError(f"{where}: give lines (in order) or unordered (any order), not both")
    hold = spec.get("hold")
    if hold is not None and (not isinstance(hold, dict) or set(hold) - HOLD_KEYS or "state" not in hold):
        raise CaseError(f"{where}: hold must be a table like {{state = \"Z\", count = 1}}")
    for key, kind in (("stdout", str), ("exit_code", int), ("children", int), ("forks", int), ("reaped", bool),
                      ("stdin", str), ("release", str)):
        if key in spec and not isinstance(spec[key], kind):
            raise CaseError(f"{where}: {key} must be {kind.__name__}")
    if not isinstance(spec.get("args", []), list):
        raise CaseError(f"{where}: args must be a list of strings")
    case = Case(modes=tuple(modes), args=tuple(str(a) for a in spec.get("args", [])), stdin=spec.get("stdin"),
                stdout=spec.get("stdout"), lines=strings("lines"), unordered=strings("unordered"), contains=strings("contains"),
                absent=strings("absent") or (), exit_code=spec.get("exit_code"), children=spec.get("children"),
                forks=spec.get("forks"), reaped=spec.get("reaped", False), hold=hold, release=spec.get("release", "\n"),
                hint=spec.get("hint", ""), per_process=per)
    expects = [case.stdout, case.exit_code, case.children, case.forks, hold]
    if not (given or any(x is not None for x in expects) or case.reaped or case.absent):
        raise CaseError(f"{where}: the check expects nothing (give lines, unordered, contains, per_process, exit_code, "
                        "children, reaped or hold)")
    own = {k: spec[k] for k in ("title", "points", "visibility", "hint", "time_limit") if k in spec}
    own["name"] = spec.get("name") or re.sub(r"\W+", "_", spec["title"].lower()).strip("_")[:60]
    return case, own


def data_check(spec: dict, where: str):
    """A Check made from one [[check]] table."""
    case, own = parse_case(spec, where)

    def fn(ctx):
        return run_case(ctx, case)
    fn.__name__ = own.pop("name")
    try:
        return make_check(fn, name=fn.__name__, **own)
    except (ValueError, TypeError) as e:
        raise CaseError(f"{where}: {e}") from None


# -- running a case ---------------------------------------------------------------------
def run_case(ctx, case: Case) -> float:
    """Run the case in each of its modes; the fraction of modes that pass. A single mode
    raises its Fail; with several, the failures are listed and the rest earn credit."""
    failures = []
    for mode in case.modes:
        try:
            run_mode(ctx, case, mode)
        except Fail as f:
            failures.append((mode, f))
    if not failures:
        return 1.0
    if len(case.modes) == 1:
        raise failures[0][1]
    if len(failures) == len(case.modes):
        mode, f = failures[0]
        raise Fail(expected=f.expected, observed=f"in every mode ({', '.join(case.modes)}); with stdout to a "
                   f"{mode}: {f.observed}", hint=f.hint)
    raise Fail(expected="; ".join(f"with stdout to a {m}: {f.expected}" for m, f in failures),
               observed="; ".join(f"with stdout to a {m}: {f.observed}" for m, f in failures),
               hint=failures[0][1].hint, credit=1 - len(failures) / len(case.modes))


def run_mode(ctx, case: Case, mode: str):
    """One run of the case with stdout to `mode`; raises Fail with what differs."""
    hint = case.hint
    if case.hold is not None:
        result, forks, unreaped = hold(ctx, *case.args, mode=mode, state=case.hold["state"],
                                       count=case.hold.get("count", 1), release=case.release, hint=hint)
    else:
        result = ctx.run(*case.args, mode=mode, stdin=None if case.stdin is None else case.stdin.encode(),
                         watch_forks=case.needs_forks)
        watch = ctx.watch() if case.needs_forks else None
        forks = watch.forks if watch else []
        unreaped = watch.unreaped_at_exit.get(result.pid) if watch else None
    if case.hold is not None:
        watch = ctx.watch()
    require_clean(result, ctx.limits)
    kids = {c for c, p in forks if p == result.pid}
    for pattern in case.absent:
        rx, _ = compile_line(pattern, 0)
        bad = [ln for ln in result.lines if rx.fullmatch(ln)]
        if bad:
            raise Fail(expected=f"no line like {safe.quote(pattern)}", observed=f"the line {safe.quote(bad[0])}",
                       hint=hint)
    if case.stdout is not None and result.stdout_text != case.stdout:
        raise Fail(expected=f"stdout to be exactly {safe.quote(case.stdout)}", observed=output_of(result), hint=hint)
    try:
        if case.lines is not None:
            expect_lines(result, case.lines, order=True, children=kids, hint=hint)
        if case.unordered is not None:
            expect_lines(result, case.unordered, order=False, children=kids, hint=hint)
        if case.contains is not None:
            expect_lines(result, case.contains, order=True, whole=False, children=kids, hint=hint)
        if case.per_process is not None:
            expect_per_process(result, watch, dict(case.per_process), hint=hint)
    except Fail as f:
        raise explained(f, result, watch) from None
    if case.exit_code is not None and result.exit_code != case.exit_code:
        raise Fail(expected=f"exit status {case.exit_code}", observed=f"it {result.describe()}", hint=hint)
    if case.children is not None:
        expect_children(result, forks, case.children, hint=hint)
    if case.forks is not None:
        expect_tree(result, forks, case.forks, hint=hint)
    if case.reaped:
        expect_reaped(result, forks, unreaped, hint=hint)
    return result


# -- lines ---------------------------------------------------------------------------------
def compile_line(pattern: str, n: int) -> tuple[re.Pattern, list[str]]:
    """A line pattern as a regex; the placeholders it holds, in order."""
    out, used, pos = [], [], 0
    for m in re.finditer(r"\{\{|\}\}|\{(\w+)\}", pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        if m.group(0) in ("{{", "}}"):
            out.append(re.escape(m.group(0)[0]))
        else:
            name = m.group(1)
            group = PLACEHOLDERS[name].format(n=f"{n}_{len(used)}")
            out.append(group)
            used.append(name)
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out)), used


def describe_pattern(pattern: str) -> str:
    names = [n for n in re.findall(r"\{(\w+)\}", pattern) if n in WORDS]
    where = f" ({'; '.join(f'{{{n}}}: {WORDS[n]}' for n in dict.fromkeys(names))})" if names else ""
    return safe.quote(pattern) + where


def _line_matches(pattern: str, line: str, result, children: set[int]) -> str | None:
    """None when `line` matches; else why not (a wrong value, or no match at all)."""
    rx, _ = compile_line(pattern, 0)
    m = rx.fullmatch(line)
    if not m:
        return "does not match"
    for group, value in m.groupdict().items():
        value = int(value)
        if group.startswith("pid") and value != result.pid:
            return f"names {value}, but the program's PID was {result.pid}"
        if group.startswith("parent") and value != result.supervisor:
            return f"names {value}, but the program's parent was {result.supervisor}"
        if group.startswith("child") and value not in children:
            made = ", ".join(map(str, sorted(children))) or "no process"
            return f"names {value}, but the program forked {made}"
    return None


def expect_lines(result, patterns, order: bool = True, whole: bool = True, children=(), hint: str = ""):
    """Fail unless stdout's lines match the patterns: the whole output (whole) or a part
    of it, in this order (order) or as a set (concurrent processes). A last line without
    its newline is a difference, as the statement's exact lines demand one."""
    patterns, lines, children = list(patterns), result.lines, set(children)
    how = "in this order" if order else "in any order"
    scope = "exactly these lines" if whole else "these lines, among others"
    expected = f"{scope}, {how}: " + ", ".join(describe_pattern(p) for p in patterns)
    text = result.stdout_text
    if whole and patterns and text and not text.endswith("\n"):
        raise Fail(expected=expected + " (each ending with a newline)",
                   observed=f"the last line {safe.quote(lines[-1])} has no newline at its end", hint=hint)
    if order:
        why = _match_in_order(patterns, lines, result, children, whole)
    else:
        why = _match_as_set(patterns, lines, result, children, whole)
    if why:
        raise Fail(expected=expected, observed=f"{why}; {output_of(result)}", hint=hint)


def _match_in_order(patterns, lines, result, children, whole) -> str | None:
    if whole:
        for i, (p, ln) in enumerate(zip(patterns, lines), 1):
            why = _line_matches(p, ln, result, children)
            if why:
                return f"line {i} {safe.quote(ln)} {why} ({describe_pattern(p)})"
        if len(lines) < len(patterns):
            return f"{len(lines)} line(s) where {len(patterns)} were expected: {describe_pattern(patterns[len(lines)])} is missing"
        if len(lines) > len(patterns):
            return f"{len(lines) - len(patterns)} line(s) more than expected, from {safe.quote(lines[len(patterns)])}"
        return None
    at = 0
    for p in patterns:
        while at < len(lines) and _line_matches(p, lines[at], result, children):
            at += 1
        if at == len(lines):
            return f"no line {describe_pattern(p)} (after the lines before it)"
        at += 1
    return None


def _match_as_set(patterns, lines, result, children, whole) -> str | None:
    """A matching of patterns to distinct lines (augmenting paths: patterns may overlap)."""
    fits = {i: [j for j, ln in enumerate(lines) if not _line_matches(p, ln, result, children)]
            for i, p in enumerate(patterns)}
    owner: dict[int, int] = {}

    def place(i, seen):
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False
    missing = [patterns[i] for i in range(len(patterns)) if not place(i, set())]
    if missing:
        return f"no line {describe_pattern(missing[0])}" + (f" (and {len(missing) - 1} more missing)" if len(missing) > 1 else "")
    if whole and len(lines) > len(patterns):
        extra = [lines[j] for j in range(len(lines)) if j not in owner]
        return f"{len(extra)} line(s) more than expected, such as {safe.quote(extra[0])}"
    return None


def explained(failure: Fail, result, watch) -> Fail:
    """The failure with, in its observed part, what the outside tracer can tell about why
    (system calls only: a line a parent and its child both wrote after a fork, a process
    of the program's tree that exec'd or ended without writing). Unchanged without a watch."""
    if watch is None or not watch.events:
        return failure
    trace = watch.trace()
    said = explain.syscall_sentences(trace, program=result.pid, supervisor=result.supervisor,
                                     pids=watch.tree(result.pid))
    if not said:
        return failure
    more = f" (and {len(said) - EXPLAINED} more)" if len(said) > EXPLAINED else ""
    return Fail(expected=failure.expected, observed=f"{failure.observed}. The tracer saw: "
                f"{' '.join(said[:EXPLAINED])}{more}", hint=failure.hint, credit=failure.credit)


def expect_per_process(result, watch, spec: dict, hint: str = ""):
    """Fail unless the program itself wrote spec["parent"]'s lines and each child it
    forked spec["child"]'s, each in its order (the order across processes is free).
    The output scored is the grader's pipe (its lines, as a set, must be all of these);
    which process wrote which line is the outside tracer's record of the writes to fd 1.
    In a child's lines {child} is that child's own PID."""
    mine, theirs = list(spec.get("parent", ())), spec.get("child")
    kids = [c for c, p in watch.forks if p == result.pid] if watch else []
    parts = [f"the program to write {', '.join(map(describe_pattern, mine)) if mine else 'no line'}"]
    if theirs is not None:
        parts.append(f"each child it forks to write {', '.join(map(describe_pattern, theirs)) or 'no line'}")
    expected = "; ".join(parts) + " (each process in this order, the processes in any order)"
    if theirs and not kids:
        raise Fail(expected=expected, observed=f"the program forked no child; {output_of(result)}", hint=hint)
    everyone = mine + list(theirs or ()) * len(kids)
    try:
        expect_lines(result, everyone, order=False, children=set(kids), hint=hint)
    except Fail as f:
        raise Fail(expected=expected, observed=f.observed, hint=hint) from None
    if watch is None or not watch.events:
        raise Fail(expected=expected, observed="the tracer recorded nothing of this run, so which process wrote "
                   "which line cannot be told", hint=hint)
    if not watch.complete:
        raise Fail(expected=expected, observed="the tracer's record of the run was cut short at its size limit, "
                   "so which process wrote which line cannot be told", hint=hint)
    told = b"".join(e.data for e in watch.events if e.kind == "write" and e.fd == 1)  # everyone's, any order
    if not result.truncated and _bytes_of(told) != _bytes_of(result.stdout):
        # a write the tracer took for stdout's that the grader's pipe never got (a file or
        # a terminal of the sandbox's own, named like the run's stdout): trust none of it
        raise Fail(expected=expected, observed="the writes the tracer saw to stdout are not what the grader "
                   "received, so which process wrote which line cannot be told", hint=hint)
    for pid, patterns, own in [(result.pid, mine, set(kids))] + [(k, list(theirs or ()), {k}) for k in kids]:
        lines = watch.stdout(pid).decode(errors="replace").splitlines()
        why = _match_in_order(patterns, lines, result, own, True)
        if why:
            who = f"the program ({pid})" if pid == result.pid else f"its child {pid}"
            wrote = ", ".join(safe.quote(ln) for ln in lines[:6]) or "nothing"
            raise Fail(expected=expected, observed=f"{who} wrote {wrote} to stdout (the tracer's record): {why}",
                       hint=hint)


def _bytes_of(data: bytes) -> Counter:
    """Output's bytes as a multiset (how writes of several processes interleave, even
    within a line, is free), a terminal's \\r\\n read as \\n."""
    return Counter(data.replace(b"\r\n", b"\n"))


# -- processes -------------------------------------------------------------------------------
def expect_children(result, forks, n: int, hint: str = ""):
    made = [c for c, p in forks if p == result.pid]
    if len(made) != n:
        raise Fail(expected=f"the program to fork {n} child process(es) itself",
                   observed=f"it forked {len(made)}" + (f" ({', '.join(map(str, made))})" if made else ""), hint=hint)


def expect_tree(result, forks, n: int, hint: str = ""):
    """The program's whole tree forked n processes (fork pairs whose parent descends from it)."""
    tree = evidence.tree_of(forks, result.pid)
    if len(tree) - 1 != n:
        raise Fail(expected=f"the program and its descendants to fork {n} process(es) in all",
                   observed=f"they forked {len(tree) - 1}", hint=hint)


def expect_reaped(result, forks, unreaped, hint: str = ""):
    made = [c for c, p in forks if p == result.pid]
    if unreaped is None:
        raise Fail(expected="the program to collect its children, then return from main (or call exit)",
                   observed=f"it ended without exit() ({result.describe()}), so nothing tells whether it collected them",
                   hint=hint)
    if unreaped:
        raise Fail(expected=f"each of its {len(made)} child(ren) collected with wait/waitpid before it exits",
                   observed=f"it exited with {unreaped} child(ren) not collected: they were left for the grader "
                            "(their new parent) to collect", hint=hint)


# wait4 and waitid by architecture: a parent blocked in them is about to collect its zombie
WAIT_SYSCALLS = {"x86_64": {61, 247}, "aarch64": {260, 95}}.get(platform.machine(), set())


def _syscall(pid: int):
    """The number of the system call pid is in, or None: /proc/PID/syscall says "running"
    for a task on a CPU and -1 for one stopped in user mode."""
    with open(f"/proc/{pid}/syscall") as f:
        first = f.read().split(maxsplit=1)
    return int(first[0]) if first and first[0].isdigit() else None


def _holding(pid: int) -> bool:
    """Whether pid sleeps in a system call other than wait4/waitid. A task preempted on its
    way back from fork() still shows clone in /proc/PID/syscall, so it must also be asleep
    (S or D), and the call the same before and after that look; by its state alone when
    /proc/PID/syscall is unreadable."""
    try:
        before = _syscall(pid)
        state = procstate.state_proc(pid)
        after = _syscall(pid)
    except procstate.NoSuchProcess:
        return False
    except OSError:
        try:
            return procstate.state_proc(pid) == "S"
        except procstate.NoSuchProcess:
            return False
    return state in ("S", "D") and before is not None and before == after and before not in WAIT_SYSCALLS


def hold(ctx, *args, mode="pipe", state="Z", count=1, release="\n", hint=""):
    """Start the program with stdin open, wait until `count` of its children are in
    `state`, then write `release` and close stdin. Returns (result, forks, unreaped at exit).
    A child collected during the hold (the fork log names it, /proc no longer has it as a
    child) is told apart from one that never ended and from one never forked."""
    proc = ctx.start(*args, mode=mode, watch_forks=True)
    pid = proc.pid
    meaning = procstate.STATE_NAMES.get(state, state)

    # the fork log speaks in the pids the program sees (its sandbox's namespace); /proc
    # here in this machine's: compare the two in the program's
    inner_self = getattr(proc, "inner_pid", None) or pid

    def inner(host: int) -> int:
        try:
            return procstate.ns_pids(host)[-1]
        except (procstate.NoSuchProcess, OSError, KeyError, ValueError):
            return host

    def look():
        # the log first: a child it names existed before /proc is read, so one missing
        # there was collected (read the other way, a fork in between looked collected)
        forked = {c for c, p in ctx.watch().forks if p == inner_self}
        kids = procstate.children(pid)
        in_state = {}
        for kid in kids:
            try:
                in_state[kid] = procstate.state_proc(kid)
            except procstate.NoSuchProcess:
                pass
        # a zombie counts while the parent is blocked elsewhere (its hold), not on its way to
        # wait() or inside it: that one it is collecting
        holding = state != "Z" or _holding(pid)
        return {"kids": in_state, "collected": forked - {inner(k) for k in kids}, "running": proc.running,
                "holding": holding}

    def held(seen) -> bool:
        return sum(s == state for s in seen["kids"].values()) >= count and seen["holding"]

    def settled(seen):
        return held(seen) or seen["collected"] or not seen["running"]

    def look_until_settled(at_most: float):
        try:
            return procstate.call_until(look, settled, timeout=min(at_most, max(ctx.time_left() - 0.5, 0.1)),
                                        what=f"children in state {state}")
        except TimeoutError:
            return look()

    seen = look_until_settled(float("inf"))
    if held(seen):
        # a parent that really holds is still blocked on its line: a later look tells it
        # from one caught between fork() and wait() (its zombie is then collected). Looks
        # that decide nothing are taken again: the tracer stops the parent a moment for
        # the child's SIGCHLD, and its read restarts
        seen = look_until_settled(1.0)
    if not held(seen):
        expected = f"{count} child process(es) in state {state} ({meaning}) while the program waits for its line"
        if seen["collected"]:
            observed = ("its child ended and was already collected while the program held: the parent waited "
                        "before the hold, so there was no zombie to see")
        elif not seen["running"]:
            result = proc.wait()
            observed = describe_run(result, ctx.limits) or (
                f"the program ended ({result.describe()}) without waiting for a line on stdin")
        elif not seen["kids"]:
            observed = "the program kept running but no child process appeared"
        else:
            observed = "its children stayed " + ", ".join(
                f"{kid} in state {s} ({procstate.STATE_NAMES.get(s, s)})" for kid, s in seen["kids"].items())
        raise Fail(expected=expected, observed=observed, hint=hint)
    try:
        proc.write(release)
    except OSError:  # it ended on its own meanwhile: what it did is judged below
        pass
    proc.close_stdin()
    result = proc.wait()
    watch = ctx.watch()
    return result, watch.forks, watch.unreaped_at_exit.get(result.pid)
