"""What a supervised run observed (RunResult), and a matcher for its lines.

The matcher is modelled on pytest's pytester `fnmatch_lines`: each method has a
boolean form (`in_order`, `as_set`) and an asserting form (`assert_in_order`,
`assert_as_set`) whose failure message lists what it looked for and what every line was.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from pylab.core.status import describe_status


@dataclass
class RunResult:
    """What a supervised run observed. Names match across the lab: exit_code, signal."""

    argv: list[str]
    mode: str
    pid: int | None
    status: int | None  # the raw wait status
    stdout: bytes  # raw bytes (on a tty: with the terminal's \r\n)
    stderr: bytes
    duration: float  # seconds from fork to the program's end, measured by the supervisor
    timed_out: bool = False
    exec_error: int | None = None  # errno when exec failed
    stragglers: list[int] = field(default_factory=list)  # killed after the program ended
    truncated: bool = False
    stdout_bytes_seen: int = 0
    stderr_bytes_seen: int = 0
    supervisor: int | None = None  # pid of the run's supervisor: the subreaper that adopts orphans
    stopped: bool = False  # ended at once by a stop (Process.stop, SIGINT/SIGTERM to pylab)
    # alive when the program ended: {pid, ppid, state, wchan, comm}; ppid == supervisor: adopted
    outlived: list[dict] = field(default_factory=list)
    reaped: list[tuple[int, int]] = field(default_factory=list)  # (pid, raw status) of orphans the supervisor reaped
    terminal: bool = False  # tty mode with stdin and stderr on the pty too (stderr is in stdout)
    trace: Any = None  # a pylab.run.tracer.Trace when the run was traced
    spawned_status: int | None = None  # raw wait status of what the runner spawned: the supervisor, or a wrap around it
    streams: dict = field(default_factory=dict)  # a traced or wrapped run's {1: stdout, 2: stderr}, as /proc names them

    @property
    def exit_code(self) -> int | None:
        if self.status is not None and os.WIFEXITED(self.status):
            return os.WEXITSTATUS(self.status)
        return None

    @property
    def signal(self) -> int | None:
        if self.status is not None and os.WIFSIGNALED(self.status):
            return os.WTERMSIG(self.status)
        return None

    @property
    def core_dumped(self) -> bool:
        return self.status is not None and os.WIFSIGNALED(self.status) and os.WCOREDUMP(self.status)

    @property
    def stdout_text(self) -> str:
        """stdout decoded; a terminal's \\r\\n line endings become \\n."""
        text = self.stdout.decode(errors="replace")
        return text.replace("\r\n", "\n") if self.mode == "tty" else text

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode(errors="replace")

    @property
    def lines(self) -> list[str]:
        return self.stdout_text.splitlines()

    def describe(self) -> str:
        if self.exec_error is not None:
            return f"could not start: {os.strerror(self.exec_error)}"
        text = describe_status(self.status)
        if self.timed_out:
            text = f"timed out and was killed ({text})"
        return text

    def match(self) -> "LineMatcher":
        return LineMatcher(self.lines)

    def to_dict(self) -> dict:
        return {
            "argv": self.argv,
            "mode": self.mode,
            "pid": self.pid,
            "status": self.status,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "core_dumped": self.core_dumped,
            "timed_out": self.timed_out,
            "exec_error": self.exec_error,
            "stdout": self.stdout_text,
            "stderr": self.stderr_text,
            "duration": round(self.duration, 6),
            "stragglers": self.stragglers,
            "outlived": self.outlived,
            "supervisor": self.supervisor,
            "stopped": self.stopped,
            "truncated": self.truncated,
            "description": self.describe(),
        }


class LineMatcher:
    """Match output lines by glob or regex: in order, or as a set (concurrent output)."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(lines)

    @staticmethod
    def _hit(pattern: str, line: str, regex: bool) -> bool:
        return bool(re.fullmatch(pattern, line)) if regex else fnmatch.fnmatchcase(line, pattern)

    def _order_log(self, patterns: Iterable[str], regex: bool) -> tuple[bool, list[str]]:
        log, rest = [], list(self.lines)
        for p in patterns:
            for i, line in enumerate(rest):
                if self._hit(p, line, regex):
                    log.append(f"{'re' if regex else 'fnmatch'}: {p!r}\n   with: {line!r}")
                    rest = rest[i + 1:]
                    break
                log.append(f"nomatch: {p!r}\n    and: {line!r}")
            else:
                log.append(f"nomatch: {p!r}: no line left to match it")
                return False, log
        return True, log

    def _set_log(self, patterns: Iterable[str], regex: bool) -> tuple[bool, list[str]]:
        left, log, ok = list(self.lines), [], True
        for p in patterns:
            hit = next((ln for ln in left if self._hit(p, ln, regex)), None)
            if hit is None:
                log.append(f"nomatch: {p!r} (no line left matches it)")
                ok = False
            else:
                log.append(f"  match: {p!r}\n   with: {hit!r}")
                left.remove(hit)
        log += [f"left over: {ln!r}" for ln in left]
        return ok and not left, log

    def in_order(self, patterns: Iterable[str], regex: bool = False) -> bool:
        """Each pattern matches a later line than the one before (other lines may sit between)."""
        return self._order_log(list(patterns), regex)[0]

    def as_set(self, patterns: Iterable[str], regex: bool = False) -> bool:
        """Each pattern matches a distinct line, in any order, and no line is left over."""
        return self._set_log(list(patterns), regex)[0]

    def shown(self) -> str:
        """Every line, numbered, as a failure shows them."""
        return "\n".join(f"  {i}: {ln!r}" for i, ln in enumerate(self.lines)) or "  (no lines)"

    def _fail(self, what: str, log: list[str]) -> None:
        raise AssertionError(f"{what}\n" + "\n".join(log) + f"\nthe lines were:\n{self.shown()}")

    def assert_in_order(self, patterns: Iterable[str], regex: bool = False) -> None:
        ok, log = self._order_log(list(patterns), regex)
        if not ok:
            self._fail("lines not matched in order", log)

    def assert_as_set(self, patterns: Iterable[str], regex: bool = False) -> None:
        ok, log = self._set_log(list(patterns), regex)
        if not ok:
            self._fail("lines not matched as a set (each pattern one line, none left over)", log)

    def count(self, pattern: str, regex: bool = False) -> int:
        return sum(self._hit(pattern, ln, regex) for ln in self.lines)
