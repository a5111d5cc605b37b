"""Small helpers shared by the foundation's tests."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from pylab.run import runner, toolchain
from pylab.run.result import LineMatcher


def env_without_unbuffered(**extra) -> dict:
    """The environment with PYTHONUNBUFFERED cleared: stdio buffering as on a plain machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def run_python(code: str, mode: str = "pipe", unbuffered: bool = False, **kwargs) -> runner.RunResult:
    """Run a Python snippet supervised, with PYTHONUNBUFFERED set or cleared explicitly."""
    env = env_without_unbuffered(**({"PYTHONUNBUFFERED": "1"} if unbuffered else {}))
    # -P: never import pylab from the current folder (a source tree has no built extension)
    return runner.run([sys.executable, "-P", "-c", textwrap.dedent(code)], mode=mode, env=env, **kwargs)


# -- line checks that say, on failure, what they looked for and what each line was ----
# (pylab.run.result.LineMatcher matches patterns in order or as a set; these cover the
# other questions a test asks of a run's lines, with the same kind of message)
def _lines(seen) -> list[str]:
    """A RunResult's lines, or the lines given."""
    return list(seen.lines if hasattr(seen, "lines") else seen)


def shown(seen) -> str:
    """Every line, numbered, as LineMatcher shows them."""
    return LineMatcher(_lines(seen)).shown()


def expect(ok, looked_for: str, seen) -> None:
    """assert ok; on failure say what was looked for, then every line."""
    if not ok:
        raise AssertionError(f"looked for {looked_for}\nthe lines were:\n{shown(seen)}")


def assert_line(seen, line: str) -> None:
    """`line` is one of the lines, exactly."""
    expect(line in _lines(seen), f"the line {line!r}", seen)


def matching(seen, regex: str) -> list[re.Match]:
    """Every line that matches `regex` whole, as matches (none is not a failure)."""
    return [m for m in map(re.compile(regex).fullmatch, _lines(seen)) if m]


def line_matching(seen, regex: str, at: int | None = None) -> re.Match:
    """The first line (or line number `at`) that matches `regex` whole; a failure names
    the pattern and shows every line."""
    lines = _lines(seen)
    if at is not None:
        m = re.fullmatch(regex, lines[at]) if -len(lines) <= at < len(lines) else None
        expect(m, f"line {at} matching {regex!r}", lines)
        return m
    found = matching(lines, regex)
    expect(found, f"a line matching {regex!r}", lines)
    return found[0]


def build_c(tmp_path: Path, name: str, source: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(textwrap.dedent(source))
    return toolchain.build(src)


@contextlib.contextmanager
def process_room(tmp_path_factory, alone: bool = False):
    """Held across the suite's workers around what forks without bound (a bomb: shared,
    alone=False) and around a test that needs the user's own process headroom (alone=True:
    while no bomb runs). Without namespaces or a uid of its own (a normal user, containment
    none) a run's process limit counts on top of everything the user runs, other workers'
    sandboxed bombs included (a user namespace's processes count for its creator too)."""
    shared = Path(tmp_path_factory.getbasetemp().parent)  # one folder per run, all workers
    with open(shared / "process-room.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        yield


def once_per_run(tmp_path_factory, worker_id: str, name: str, produce):
    """produce() once for the whole test run, however many xdist workers ask: the first
    computes it under a file lock in the run's shared temp folder and stores it as JSON;
    the others wait for the lock and read it (the xdist-documented pattern). Serially
    (worker "master") it is simply produce(). The value must be JSON data."""
    if worker_id == "master":
        return produce()
    shared = Path(tmp_path_factory.getbasetemp().parent)  # one folder per run, all workers
    stored = shared / f"once-{name}.json"
    with open(shared / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.exists():
            return json.loads(stored.read_text())
        value = produce()
        tmp = stored.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, stored)
        return value


def into_a_closed_pipe(argv, unbuffered: bool, **kw) -> subprocess.CompletedProcess:
    """argv with stdout a pipe whose reader has already gone (what `| head -1` leaves once
    head has its line): every write is EPIPE. unbuffered: with PYTHONUNBUFFERED=1 (this
    machine's default) the first write fails; without, only the flush at the end."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run(argv, stdout=w, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              timeout=120, env=env, **kw)
    finally:
        os.close(w)


def pylab_argv(*args, disposition: str = "SIG_DFL") -> list[str]:
    """The argv of `python -m pylab ARGS` started with SIGINT and SIGQUIT at `disposition`
    (a signal module name), whatever this test inherited: a suite run as a background job
    inherits them ignored, and Python then never raises KeyboardInterrupt."""
    return [sys.executable, "-c", "import os, signal, sys\n"
            f"for s in (signal.SIGINT, signal.SIGQUIT): signal.signal(s, signal.{disposition})\n"
            "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])", "-P", "-m", "pylab",
            *[str(a) for a in args]]
