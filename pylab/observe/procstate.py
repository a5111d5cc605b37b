"""Process states seen from outside: /proc/PID/stat, `ps` and psutil.

The three sources must agree; the lab shows all three. Waiting is always polling with
a small backoff and a deadline (psutil's `wait_for_pid` shape), never a bare sleep.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from pylab.core.errors import LabError

T = TypeVar("T")

# The one table of state letters in words (proc(5)); timelines and figures use it too.
STATE_NAMES = {
    "R": "running", "S": "sleeping", "D": "disk sleep", "T": "stopped",
    "t": "tracing stop", "Z": "zombie", "X": "dead", "I": "idle", "P": "parked",
    "W": "waking", "K": "wakekill",
}


class NoSuchProcess(LabError, LookupError):
    def __init__(self, pid: int):
        super().__init__(f"no process with pid {pid}")
        self.pid = pid


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/PID/stat the lab uses."""

    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    session: int
    tty_nr: int
    num_threads: int
    starttime: int  # clock ticks after boot: with pid, identifies a process across pid reuse
    utime: int = 0  # clock ticks of CPU time in user mode
    stime: int = 0  # and in kernel mode


def _stat_fields(pid: int) -> tuple[str, list[str]]:
    """(comm, the fields after it) of /proc/PID/stat; fields[0] is the state (field 3)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        raise NoSuchProcess(pid) from None
    head, _, tail = raw.rpartition(")")
    return head.split("(", 1)[1], tail.split()


def read_stat(pid: int) -> Stat:
    """Parse /proc/PID/stat. comm sits in parentheses and may itself hold spaces and
    ')', so the fields are read after the *last* ')'."""
    comm, f = _stat_fields(pid)
    return Stat(pid=pid, comm=comm, state=f[0], ppid=int(f[1]), pgrp=int(f[2]),
                session=int(f[3]), tty_nr=int(f[4]), num_threads=int(f[17]),
                starttime=int(f[19]), utime=int(f[11]), stime=int(f[12]))


def state_proc(pid: int) -> str:
    """The state letter from /proc/PID/stat."""
    return read_stat(pid).state


def state_ps(pid: int) -> str:
    """The state letter from `ps -o stat= -p PID` (its first character; the rest are
    modifiers such as 's' session leader, '+' foreground, '<' high priority)."""
    ps = shutil.which("ps")
    if ps is None:
        raise FileNotFoundError("ps is not installed (Debian: apt-get install procps)")
    out = subprocess.run([ps, "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    text = out.stdout.strip()
    if not text:
        raise NoSuchProcess(pid)
    return text[0]


def state_psutil(pid: int) -> str:
    """The state letter psutil reports (it reads /proc too, and names the state)."""
    import psutil

    letters = {
        psutil.STATUS_RUNNING: "R", psutil.STATUS_SLEEPING: "S",
        psutil.STATUS_DISK_SLEEP: "D", psutil.STATUS_STOPPED: "T",
        psutil.STATUS_TRACING_STOP: "t", psutil.STATUS_ZOMBIE: "Z",
        psutil.STATUS_DEAD: "X", psutil.STATUS_IDLE: "I", psutil.STATUS_PARKED: "P",
        psutil.STATUS_WAKING: "W",
    }
    try:
        return letters.get(psutil.Process(pid).status(), "?")
    except psutil.NoSuchProcess:
        raise NoSuchProcess(pid) from None


SOURCES: dict[str, Callable[[int], str]] = {"proc": state_proc, "ps": state_ps, "psutil": state_psutil}


def states(pid: int) -> dict[str, str]:
    """The state letter by each source; a source that fails reports its error."""
    seen = {}
    for name, fn in SOURCES.items():
        try:
            seen[name] = fn(pid)
        except NoSuchProcess:
            seen[name] = "gone"
        except Exception as e:  # a missing `ps` must not hide the other two
            seen[name] = f"error: {e}"
    return seen


def exists(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def call_until(fn: Callable[[], T], ok: Callable[[T], bool] = bool, timeout: float = 5.0,
               what: str = "the condition") -> T:
    """Call fn until ok(result), with a backoff from 0.1 ms to 10 ms, until the deadline.
    Returns the result; raises TimeoutError with the last result otherwise."""
    deadline = time.monotonic() + timeout
    delay = 0.0001
    while True:
        result = fn()
        if ok(result):
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s (last: {result!r})")
        time.sleep(delay)  # a poll interval with a deadline, not synchronisation by sleep
        delay = min(delay * 2, 0.01)


def wait_for_state(pid: int, wanted: str | Iterable[str], timeout: float = 5.0) -> str:
    """Poll /proc until pid's state letter is one of `wanted` ("gone" for a process that
    no longer exists). Returns the state seen."""
    wanted = {wanted} if isinstance(wanted, str) else set(wanted)

    def current():
        try:
            return state_proc(pid)
        except NoSuchProcess:
            return "gone"

    return call_until(current, lambda s: s in wanted, timeout, f"pid {pid} in state {'/'.join(sorted(wanted))}")


def wait_gone(pid: int, timeout: float = 5.0) -> None:
    wait_for_state(pid, "gone", timeout)


def children(pid: int) -> list[int]:
    """Direct children of pid (from /proc/PID/task/*/children, else a /proc scan)."""
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(x) for x in f.read().split()]
        return sorted(set(found))
    except (FileNotFoundError, ProcessLookupError):  # (ESRCH: a task ending as it is read)
        if not exists(pid):
            return []
    return sorted(p for p, pp in _ppids().items() if pp == pid)


def _ppids() -> dict[int, int]:
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                table[int(name)] = read_stat(int(name)).ppid
            except (NoSuchProcess, IndexError, ValueError):
                pass
    return table


def descendants(pid: int) -> list[int]:
    table = _ppids()
    out, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in table.items() if pp == parent]
        out += kids
        frontier += kids
    return sorted(out)


def descendants_started(pid: int) -> dict[int, int]:
    """pid's descendants now, each with its start time (/proc stat's starttime): a pid
    alone may be freed and reused, the pair names one process. One gone meanwhile is left out."""
    found = {}
    for p in descendants(pid):
        try:
            found[p] = read_stat(p).starttime
        except NoSuchProcess:
            pass
    return found


def status_fields(pid: int) -> dict[str, str]:
    """/proc/PID/status as a dict (Name, State, VmRSS, Threads, ...)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        raise NoSuchProcess(pid) from None


def schedstat(pid: int) -> list[int] | None:
    """/proc/PID/schedstat: ns on a CPU, ns waiting to run, timeslices (None without it)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return [int(n) for n in f.read().split()]
    except (OSError, ValueError):
        return None


def ns_pids(pid: int) -> list[int]:
    """pid's number in each PID namespace it belongs to, outermost first (the NSpid line
    of /proc/PID/status): [host pid, ..., the pid the process itself sees]."""
    fields = status_fields(pid)
    return [int(x) for x in fields["NSpid"].split()] if "NSpid" in fields else [pid]


def holdings(pid: int) -> dict:
    """What a process still holds: memory, threads, open files, its exit code.

    A zombie has given back its memory (no Vm* lines in /proc/PID/status) and its open
    files; what stays is the process-table entry with its pid, its exit status and
    its resource usage, for the parent's wait to collect."""
    fields = status_fields(pid)
    try:
        n_fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (PermissionError, FileNotFoundError):
        # a zombie has no memory map, so /proc hands its fd/ to root: unknown to others
        n_fds = None
    tail = _stat_fields(pid)[1]
    return {
        "state": fields.get("State", "?"),
        "vm_rss": fields.get("VmRSS", "").strip() or None,
        "vm_size": fields.get("VmSize", "").strip() or None,
        "threads": int(fields.get("Threads", "0")),
        "open_fds": n_fds,
        # field 52 of /proc/PID/stat: the exit code the parent will collect, kept in the entry
        "exit_code_field": int(tail[49]) if len(tail) > 49 else None,
        "utime_ticks": int(tail[11]),
        "stime_ticks": int(tail[12]),
    }



# -- a uid's processes: two questions, two names ---------------------------------------
def _real_uid_and_threads(pid: int) -> tuple[int, int]:
    # two lines of status, found in its bytes: a scan of every process (a sandbox's uid
    # lease and close) calls this once per process, and a dict of all ~55 lines cost 5x
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        raise NoSuchProcess(pid) from None
    uid = text.index(b"\nUid:\t") + 6
    threads = text.index(b"\nThreads:\t") + 10
    return int(text[uid:text.index(b"\t", uid)]), int(text[threads:text.index(b"\n", threads)])


def _by_real_uid(uid: int) -> list[tuple[int, int]]:
    """(pid, threads) of every process whose real uid is uid."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                real, threads = _real_uid_and_threads(int(name))
            except (NoSuchProcess, KeyError, ValueError, IndexError):
                continue  # gone while we looked
            if real == uid:
                found.append((int(name), threads))
    return found


def processes_of_uid(uid: int) -> list[int]:
    """Pids of the processes whose real uid is uid: whom to kill to leave a uid empty,
    or whether anything runs as it at all."""
    return [pid for pid, _ in _by_real_uid(uid)]


def nproc_count(uid: int) -> int:
    """What RLIMIT_NPROC counts against uid: its tasks (every thread of every process
    whose real uid is uid), so a limit of nproc_count(uid) + n leaves room for n more."""
    return sum(threads for _, threads in _by_real_uid(uid))
