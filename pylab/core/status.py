"""Wait statuses and signals in words, as the W* macros read them."""
from __future__ import annotations

import os
import signal


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def describe_status(raw: int | None) -> str:
    """A raw wait status in words, as the W* macros read it."""
    if raw is None:
        return "no status (the program did not start)"
    if os.WIFEXITED(raw):
        return f"exited with code {os.WEXITSTATUS(raw)}"
    if os.WIFSIGNALED(raw):
        sig = os.WTERMSIG(raw)
        core = ", core dumped" if os.WCOREDUMP(raw) else ""
        return f"killed by signal {sig} ({signal_name(sig)}){core}"
    if os.WIFSTOPPED(raw):
        return f"stopped by signal {os.WSTOPSIG(raw)} ({signal_name(os.WSTOPSIG(raw))})"
    return f"status {raw:#x}"
