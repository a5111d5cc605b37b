"""Tiny C probes the tour compiles and runs to observe what the seed's programs don't print.

Each probe is a file csrc/probes/NAME.c (its first comment says what it shows):
`build(name)` compiles it with the lab's one compile path, toolchain.build (cached by
content hash), `run(name, ...)` runs it supervised. `strace(argv)` runs a command under `strace -f` and returns
the system calls it saw, or the reason it could not.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pylab.run import tracer, runner, toolchain


def source(name: str) -> Path:
    """csrc/probes/NAME.c, wherever the lab's C sources are (toolchain.csrc_dir)."""
    return toolchain.csrc_dir() / "probes" / f"{name}.c"


def names() -> list[str]:
    return sorted(p.stem for p in (toolchain.csrc_dir() / "probes").glob("*.c"))


def build(name: str) -> Path:
    """Compile the probe `name` with the lab's one compile path (cached by content;
    -Werror: a probe that warns is a probe to fix) and return its binary."""
    return toolchain.build(source(name), flags=(*toolchain.FLAGS, "-Werror"))


def run(name: str, args=(), **kw) -> runner.RunResult:
    return runner.run([build(name), *args], **kw)


@contextmanager
def readable_copy(binary: Path):
    """A copy of `binary` in a fresh directory any uid can read and execute (the cache
    may not be), removed afterwards."""
    d = tempfile.mkdtemp(prefix="pylab-probe-")
    try:
        os.chmod(d, 0o755)
        copy = Path(d) / binary.name
        shutil.copy(binary, copy)
        os.chmod(copy, 0o755)
        yield copy
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fields(text: str) -> dict[str, str]:
    """key=value words of a probe's output, as a dict."""
    return dict(re.findall(r"(\w+)=(\S+)", text))


@dataclass
class Trace:
    """What `strace -f` saw: available=False (with why) when it could not trace."""

    available: bool
    why: str = ""
    calls: list[str] = field(default_factory=list)  # syscall names in order, all processes
    numbers: dict[str, int] = field(default_factory=dict)  # name -> number, as strace -n saw
    lines: list[str] = field(default_factory=list)

    def data(self) -> dict:
        """The trace as plain data (what an observation returns to its judge)."""
        return {"available": self.available, "why": self.why, "calls": self.calls,
                "numbers": self.numbers, "lines": self.lines}


# "PID [ NR] name(" with the pid (strace -f -o) and the number (strace -n) optional
CALL = re.compile(r"^(?:\d+\s+)?(?:\[\s*(\d+)\]\s+)?([a-z_0-9]+)\(")


def strace(argv, trace: str = "process", mode: str = "pipe", stdin: bytes | None = None) -> Trace:
    """Run argv under `strace -f -n -e trace=TRACE` (-n: syscall numbers, strace >= 5.15;
    retried without it on an older strace) and list the calls it saw."""
    try:
        exe = tracer.strace_path()
    except tracer.TracerMissing:
        return Trace(False, "strace is not installed (Debian: apt-get install strace)")
    for numbered in (["-n"], []):
        with tempfile.TemporaryDirectory(prefix="pylab-strace-") as d:
            log = Path(d) / "trace"
            r = runner.run([exe, "-f", "-qq", *numbered, "-o", str(log), "-e", f"trace={trace}",
                            *map(str, argv)], mode=mode, stdin=stdin)
            text = log.read_text() if log.exists() else ""
        if text.strip():
            break
    else:
        why = (r.stderr_text.strip().splitlines() or [r.describe()])[-1]
        return Trace(False, f"strace could not trace: {why}")
    lines = text.splitlines()
    found = [m for m in map(CALL.match, lines) if m]
    return Trace(True, calls=[m.group(2) for m in found], lines=lines,
                 numbers={m.group(2): int(m.group(1)) for m in found if m.group(1)})


UNSHARE = {"pid": ["--pid", "--fork", "--mount-proc"], "net": ["--net"], "uts": ["--uts"],
           "user": ["--user", "--map-root-user"]}


def in_namespaces(argv, kinds=("pid",), timeout: float = 30.0) -> dict:
    """Run argv in new namespaces of `kinds` with unshare(1): as root directly, as any
    other user inside a new user namespace too (unprivileged user namespaces). Returns
    {"ran": True, "stdout", "as"} or {"ran": False, "why"}: why it could not run."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return {"ran": False, "why": "unshare is not installed (util-linux)"}
    kinds = list(kinds) + ([] if os.geteuid() == 0 else ["user"])
    flags = [f for k in kinds for f in UNSHARE[k]]
    r = runner.run([unshare, *flags, *map(str, argv)], timeout=timeout)
    how = "root" if os.geteuid() == 0 else f"uid {os.getuid()} in a user namespace"
    if r.exit_code != 0:
        why = (r.stderr_text.strip().splitlines() or [r.describe()])[-1][:200]
        return {"ran": False, "why": f"unshare {' '.join(flags)} failed as {how}: {why}"}
    return {"ran": True, "as": how, "namespaces": kinds, "stdout": r.stdout_text}
