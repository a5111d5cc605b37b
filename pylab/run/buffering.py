"""How C stdio buffers stdout on each target, observed by a probe run there.

csrc/tools/stdio_probe.c is built like any student's program and run supervised on a
tty, a pipe or a file; what it reports is remembered for the life of the process."""
from __future__ import annotations

from pylab.core.targets import IN_WORDS
from pylab.run import runner, toolchain

_SEEN: dict[str, str] = {}
EFFECT = {
    "none": "every printf is written at once",
    "line": ("each complete line is written at its newline; an unfinished line waits for "
             "fflush, a full buffer, a read from the terminal (glibc flushes it then; musl does not) "
             "or the end of the program (exit or return from main)"),
    "full": "output is written only on fflush, exit() or a full buffer; _exit or a crash loses it",
}


def stdio_buffering(mode: str) -> str:
    """none, line or full: what the probe saw C stdio do with stdout on this target."""
    if mode not in _SEEN:
        probe = toolchain.build(toolchain.csrc_dir() / "tools" / "stdio_probe.c")
        seen = runner.run([probe], mode=mode, timeout=10).stderr_text.strip()
        if seen not in EFFECT:
            raise runner.RunError(f"the stdio probe gave no answer on a {mode} ({seen!r})")
        _SEEN[mode] = seen
    return _SEEN[mode]


def buffering_note(mode: str) -> str:
    """One line on what C stdio does with stdout on this target, from the probe's run."""
    kind = stdio_buffering(mode)
    how = "does not buffer it" if kind == "none" else f"{kind}-buffers it"
    return f"stdout was {IN_WORDS[mode]}: by default C stdio {how} (probed just now), so {EFFECT[kind]}"
