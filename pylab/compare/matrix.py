"""C vs Python exit semantics, computed live: the matrix behind `pylab compare`.

Rows are ways a process ends (pylab.compare.programs.WAYS), each with output still
pending and exit handlers registered; columns are the stdout targets (tty, pipe, file);
a third dimension is the environment, because PYTHONUNBUFFERED=1 (or `python -u`) makes
Python's stdout unbuffered and, in a Python process, C stdio too. Every run sets or
clears it explicitly, and Python rows start with `python -P -S` (see command()). Each
cell is read off a real run made when it is asked for: the markers that reached stdout,
in order; which exit handlers and finally blocks ran (their notes on stderr); the wait
status the parent saw and subprocess's return code for it; what else appeared on stderr.
returncode is os.waitstatus_to_exitcode(status): what subprocess.Popen computes
(negative for a signal). Nothing is cached across calls.

    rows = matrix()                      # list of dicts, one per (way, env, mode)
    observe(way("C _exit(n)"), "pipe")   # one cell
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

from pylab.core.output import emit_json, settle
from pylab.core.targets import MODES
from pylab.core.status import describe_status, signal_name
from pylab.run import runner, toolchain
from pylab.compare.programs import WAYS, Way, python_script

# "unset": neither PYTHONUNBUFFERED nor -u, the buffering a plain machine gives
ENVS = ("unset", "PYTHONUNBUFFERED=1", "python -u")
C_ENVS = ENVS[:2]  # `python -u` means nothing to a C program
CLEARED = ("PYTHONUNBUFFERED", "PYTHONFAULTHANDLER", "PYTHONDEVMODE")  # set per run, or not at all
DEFAULT_CODE = 3
LIMITS = {"core": 0}  # abort() must not leave core files behind
TIMEOUT = 20.0
MARKER = re.compile(r"<([a-z-]+)>")
FIELDS = ("lang", "how", "env", "mode", "stdout", "markers", "flushed", "lost", "c_atexit",
          "py_atexit", "finally", "parent_ran", "status", "raw_status", "returncode",
          "stderr", "status_of", "parent_status")


def way(key: str) -> Way:
    """A row by its key ("C exit(n)", "Python os._exit(n)") or, if unique, its label."""
    found = [w for w in WAYS if key in (w.key, w.how)]
    if len(found) != 1:
        raise KeyError(f"no single way called {key!r}; keys: {', '.join(w.key for w in WAYS)}")
    return found[0]


def environment(env: str) -> dict:
    """os.environ with the buffering variables cleared, then PYTHONUNBUFFERED set if asked."""
    if env not in ENVS:
        raise ValueError(f"env must be one of {ENVS}, not {env!r}")
    result = {k: v for k, v in os.environ.items() if k not in CLEARED}
    if env == "PYTHONUNBUFFERED=1":
        result["PYTHONUNBUFFERED"] = "1"
    return result


@functools.cache
def import_path() -> tuple[str, ...]:
    """The folders a C+Python row imports from: where this pylab's bindings were found
    (its _native extension) and cffi's _cffi_backend, which that extension loads."""
    found = []
    for module in ("pylab.bindings._native", "_cffi_backend"):
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise runner.RunError(f"C+Python rows need {module}, which this Python cannot find")
        root = Path(spec.origin).parent
        for _ in range(module.count(".")):
            root = root.parent
        found.append(str(root))
    return tuple(dict.fromkeys(found))


def command(w: Way, env: str, code: int = DEFAULT_CODE, c_binary=None) -> list[str]:
    """The argv that ends in way `w` (c_binary: another build of endings.c).

    Python rows run `python -P -S`: -P, never import pylab from the current folder (a
    source tree has no built extension); -S, no `site`. The scripts import nothing from
    site-packages (a C+Python row's script puts import_path() first on sys.path itself),
    and site's start-up (it reads every .pth file, an editable install's finder among
    them) was ~25 ms of a Python row's ~35 ms here; it decides nothing about how a
    process ends."""
    if w.lang == "C":
        return [str(c_binary or toolchain.build(toolchain.csrc_dir() / "drivers" / "endings.c")), w.ending, str(code)]
    flags = ["-P", "-S", "-u"] if env == "python -u" else ["-P", "-S"]
    path = import_path() if w.lang == "C+Python" else ()
    return [sys.executable, *flags, "-c", python_script(w, code, path)]


def observe(w: Way, mode: str, env: str = "unset", code: int = DEFAULT_CODE, c_binary=None) -> dict:
    """Run way `w` once with stdout on `mode` and return its cell (a row of the JSON)."""
    argv, penv = command(w, env, code, c_binary), environment(env)
    if w.kill is None:
        result = runner.run(argv, mode=mode, env=penv, limits=LIMITS, timeout=TIMEOUT)
    else:
        # pending output is invisible from outside: the handshake is a note on stderr
        with runner.start(argv, mode=mode, env=penv, limits=LIMITS, timeout=TIMEOUT) as proc:
            try:
                proc.expect(r"^@lab ready$", stream="stderr", timeout=TIMEOUT)
            except TimeoutError as e:
                raise runner.RunError(f"{w.key}: no handshake ({e})") from None
            proc.kill(w.kill)
            proc.close_stdin()  # see wait_for_signal in semantics_programs
            result = proc.wait(TIMEOUT)
    return cell(w, mode, env, result)


def cell(w: Way, mode: str, env: str, result: runner.RunResult) -> dict:
    """What a run of way `w` shows, derived from its output and status alone."""
    out = result.stdout_text
    markers = MARKER.findall(out)
    lines = result.stderr_text.splitlines()
    notes = [ln.split()[1:] for ln in lines if ln.startswith("@lab ")]
    rest = [ln for ln in lines if not ln.startswith("@lab ") and ln.strip()]
    ran = {tuple(n[1:3]) for n in notes if n[0] == "ran" and len(n) >= 3}
    waits = [int(n[1]) for n in notes if n[0] == "wait"]
    subject = "child" if w.fork else "main"

    def did(name):  # ran in the process that ended this way; lab's C handler only prints
        return (name, subject) in ran or (not w.fork and name in markers)

    python = w.lang != "C"
    status = (waits[0] if waits else None) if w.fork else result.status
    return {
        "lang": w.lang, "how": w.how, "env": env, "mode": mode,
        "stdout": out, "markers": markers,
        "flushed": [m for m in w.writes if m in markers],
        "lost": [m for m in w.writes if m not in markers],
        "c_atexit": did("c-atexit") if "c-line" in w.writes else None,
        "py_atexit": did("py-atexit") if python else None,
        "finally": did("finally") if python else None,
        "parent_ran": sorted(name for name, who in ran if who == "main") if w.fork else None,
        "status": describe_status(status),
        "raw_status": status,
        "returncode": None if status is None else os.waitstatus_to_exitcode(status),
        "stderr": "\n".join(rest[-4:]),
        "status_of": "child (as its parent's waitpid saw it)" if w.fork else "process",
        "parent_status": describe_status(result.status) if w.fork else None,
        "parent_returncode": (None if not w.fork or result.status is None
                              else os.waitstatus_to_exitcode(result.status)),
    }


def cases(ways=WAYS, modes=MODES, envs=ENVS) -> list[tuple[Way, str, str]]:
    """(way, env, mode) in matrix order; C rows skip `python -u`."""
    return [(w, e, t) for w in ways for e in envs if w.lang != "C" or e in C_ENVS
            for t in modes]


def matrix(ways=WAYS, modes=MODES, envs=ENVS, code: int = DEFAULT_CODE, c_binary=None,
           jobs: int | None = None) -> list[dict]:
    """Every cell, run now, in parallel (runs mostly wait on process start-up)."""
    todo = cases(ways, modes, envs)
    if any(w.lang == "C" for w, _, _ in todo) and c_binary is None:
        c_binary = toolchain.build(toolchain.csrc_dir() / "drivers" / "endings.c")  # once, before the threads
    with ThreadPoolExecutor(max_workers=jobs or 2 * (os.cpu_count() or 1) + 2) as pool:
        futures = [pool.submit(observe, w, t, e, code, c_binary) for w, e, t in todo]
        return [f.result() for f in futures]


# -- rendering -----------------------------------------------------------------------------
def _yes(value, parent=None, name=None) -> str:
    if value is None:
        return "-"
    if parent is not None:  # a fork row: where it ran, child and/or parent
        where = [who for who, did in (("child", value), ("parent", name in parent)) if did]
        return "+".join(where) or "no"
    return "yes" if value else "no"


def _short_status(row) -> str:
    raw = row["raw_status"]
    if raw is None:
        return "none"
    text = f"exit {os.WEXITSTATUS(raw)}" if os.WIFEXITED(raw) else signal_name(os.WTERMSIG(raw))
    return f"child {text}" if row["parent_ran"] is not None else text


def _returncode(row) -> str:
    """The returncode of the process the row is about; on a fork row that is the child
    (its parent's waitpid), and the parent's own follows, so neither passes for the other."""
    if row["parent_ran"] is None:
        return str(row["returncode"])
    return f"child {row['returncode']}, parent {row['parent_returncode']}"


def _cells(row) -> tuple:
    stdout = " ".join(row["markers"]) or "(nothing)"
    if row["lost"]:
        stdout += f"  [lost {' '.join(row['lost'])}]"
    err = row["stderr"].splitlines()[-1] if row["stderr"] else ""
    parent = row["parent_ran"]
    return (stdout, _yes(row["c_atexit"], parent, "c-atexit"), _yes(row["py_atexit"], parent, "py-atexit"),
            _yes(row["finally"], parent, "finally"), _short_status(row), _returncode(row),
            err if len(err) <= 40 else err[:37] + "...")


def grouped(rows) -> list[tuple[str, str, list[tuple[str, str, tuple]]]]:
    """Per way: (lang, how, [(envs, targets, cells)]), merging targets, then envs, whose
    cells are identical: a merged line says the target (or env) made no difference."""
    out = []
    for (lang, how), way_rows in groupby(rows, key=lambda r: (r["lang"], r["how"])):
        per_env: dict[str, list] = {}
        for r in way_rows:
            entries, cells = per_env.setdefault(r["env"], []), _cells(r)
            match = next((e for e in entries if e[1] == cells), None)
            if match:
                match[0].append(r["mode"])
            else:
                entries.append(([r["mode"]], cells))
        merged: list = []
        for env, entries in per_env.items():
            key = [(",".join(t), c) for t, c in entries]
            match = next((m for m in merged if m[1] == key), None)
            if match:
                match[0].append(env)
            else:
                merged.append(([env], key))
        out.append((lang, how, [(", ".join(envs), t, c) for envs, key in merged for t, c in key]))
    return out


HEADERS = ("env", "mode", "stdout, in order", "C atexit", "Py atexit", "finally", "status",
           "returncode", "stderr")


def legend(code: int = DEFAULT_CODE) -> list[str]:
    return [
        f"C vs Python exit semantics on this machine: every cell is a run made just now (n = {code}).",
        "Before it ends, each program prints <c-line>\\n<c-tail> with C's stdio and/or "
        "<py-line>\\n<py-tail> with Python's: all of it waits in the buffer on a pipe or file, "
        "only the tail on a terminal (the line went out at its newline);",
        "handlers print <c-atexit>, <py-atexit>, <finally>; fork rows add <child> and <parent>. "
        "returncode: os.waitstatus_to_exitcode of the process the row is about (on fork rows the child, "
        "then the parent's own).",
        "env: unset = no PYTHONUNBUFFERED and no -u. Lines merge targets and envs whose cells are identical.",
    ]


def render_table(rows, code: int = DEFAULT_CODE, wrap: int = 44) -> str:
    """Per way a heading, then one line per group of targets with the same cells; the
    env is named in the heading when it made no difference, else as a sub-heading."""
    groups = grouped(rows)
    lines = [(t, *c) for _, _, entries in groups for _, t, c in entries]
    widths = [max(len(str(x[i])) for x in [HEADERS[1:], *lines]) for i in range(len(HEADERS) - 1)]
    widths[1] = min(widths[1], wrap)

    def fmt(values, indent):
        stdout = textwrap.wrap(values[1], wrap, break_on_hyphens=False) or [""]
        first = (values[0], stdout[0], *values[2:])
        out = [indent + "  ".join(str(v).ljust(w) for v, w in zip(first, widths)).rstrip()]
        pad = indent + " " * (widths[0] + 2)
        return out + [pad + more for more in stdout[1:]]

    out = [*legend(code), "", *fmt(HEADERS[1:], "    ")]
    for lang, how, entries in groups:
        envs = list(dict.fromkeys(e for e, _, _ in entries))
        out += ["", f"{lang} · {how}" + (f"    (env made no difference: {envs[0]})" if len(envs) == 1 else "")]
        for env in envs:
            if len(envs) > 1:
                out.append(f"  env {env}:")
            for _, t, c in (x for x in entries if x[0] == env):
                out += fmt((t, *c), "    ")
    return "\n".join(out)


def render_markdown(rows, code: int = DEFAULT_CODE) -> str:
    def esc(text):
        return str(text).replace("|", "\\|")

    text = re.sub(r"(<[a-z-]+>(?:\\n<[a-z-]+>)?)", r"`\1`", " ".join(legend(code)))  # not HTML tags
    out = [text, "", "| lang | how | " + " | ".join(HEADERS) + " |",
           "|" + "---|" * (len(HEADERS) + 2)]
    for lang, how, entries in grouped(rows):
        for e, t, c in entries:
            stdout, *rest = c
            err = f"`{esc(rest[-1])}`" if rest[-1] else ""
            out.append("| " + " | ".join([lang, esc(how), e, t, f"`{esc(stdout)}`", *map(esc, rest[:-1]), err]) + " |")
    return "\n".join(out)


def main(args) -> int:
    fmt = getattr(args, "format", "table")
    rows = matrix()
    settle(0)
    if fmt == "json":
        emit_json({"code": DEFAULT_CODE, "rows": rows})
    else:
        print(render_markdown(rows) if fmt == "markdown" else render_table(rows))
    return 0
