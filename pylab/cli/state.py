"""`pylab state PID`: a process's state as /proc, ps and psutil see it (a zombie: what it holds).

The sources are compared only where they gave a state: one that could not answer (no
`ps` installed; `ps -p` given a thread's id; the process ended while pylab looked) is
named, with why, and is no disagreement. A thread's id is reported as a thread of its
process (/proc/TID/status: Tgid)."""
from __future__ import annotations

from pylab.core.errors import EXIT_OK, UsageError
from pylab.core.output import emit_json
from pylab.core.status import describe_status
from pylab.observe import procstate


def _thread_of(pid: int) -> dict | None:
    """{"pid", "comm"} of the process whose thread `pid` is, or None for a process
    (its thread group leader: Tgid == pid)."""
    try:
        tgid = int(procstate.status_fields(pid)["Tgid"])
    except procstate.NoSuchProcess:
        raise UsageError(f"no process with pid {pid}") from None
    if tgid == pid:
        return None
    try:
        comm = procstate.read_stat(tgid).comm
    except procstate.NoSuchProcess:  # the process ended while we looked
        comm = None
    return {"pid": tgid, "comm": comm}


def _why(source: str, said: str, pid: int, thread_of: dict | None) -> str:
    """Why `source` gave no state (`said`: procstate.states' "gone" or "error: ...")."""
    if said.startswith("error: "):
        return said[len("error: "):]
    if thread_of is not None and source == "ps":
        return (f"ps -p looks up processes, and {pid} is a thread of process {thread_of['pid']}"
                f" ('pylab state {thread_of['pid']}')")
    if not procstate.exists(pid):
        return f"it found no pid {pid}: the process ended while pylab looked"
    return f"it found no pid {pid}, though /proc has it"


def _names(sources: list[str]) -> str:
    return sources[0] if len(sources) == 1 else f"{', '.join(sources[:-1])} and {sources[-1]}"


def _comparison(answered: dict[str, str], agree: bool | None, total: int) -> str:
    if not answered:
        return "no source gave a state"
    if agree is None:
        return f"only {_names(list(answered))} gave a state: nothing to compare it with"
    who = f"the {'three' if total == 3 else total} sources" if len(answered) == total else _names(list(answered))
    if agree:
        return f"{who} agree"
    return f"{who} DISAGREE (" + ", ".join(f"{s} {v}" for s, v in answered.items()) + ")"


def main(args) -> int:
    try:
        stat = procstate.read_stat(args.pid)
    except procstate.NoSuchProcess as e:
        raise UsageError(str(e)) from None
    thread_of = _thread_of(args.pid)
    seen = procstate.states(args.pid)
    # a state is a letter; "gone" and "error: ..." are a source that could not answer
    answered = {source: said for source, said in seen.items() if len(said) == 1}
    no_answer = {source: _why(source, said, args.pid, thread_of)
                 for source, said in seen.items() if source not in answered}
    agree = len(set(answered.values())) == 1 if len(answered) >= 2 else None
    letter = answered.get("proc") or next(iter(answered.values()), None)
    info = {"pid": args.pid, "comm": stat.comm, "ppid": stat.ppid, "pgrp": stat.pgrp,
            "session": stat.session, "thread_of": thread_of, "states": seen,
            "compared": list(answered), "no_answer": no_answer,
            "agree": agree,  # among the sources compared; None: fewer than two gave a state
            "meaning": procstate.STATE_NAMES.get(letter, "?") if letter else "gone"}
    if stat.state == "Z":
        try:
            holds = procstate.holdings(args.pid)
        except (procstate.NoSuchProcess, FileNotFoundError):  # reaped while pylab looked: the states say so
            holds = None
        if holds is not None and holds["threads"] > 1 and thread_of is None:
            # a leader whose main thread called pthread_exit: shown Z, its process lives on
            info["main_thread_exited"] = {"threads": holds["threads"]}
        elif holds is not None and thread_of is None:
            info["holds"] = holds
        elif holds is not None:
            info["thread_exited"] = True  # a thread: its tracer, or its own end, collects it
    if args.json:
        emit_json(info)
        return EXIT_OK
    where = f"parent {stat.ppid}, group {stat.pgrp}, session {stat.session}"
    if thread_of is None:
        print(f"pid {args.pid} ({stat.comm}), {where}")
    else:
        process = f"{thread_of['pid']}" + (f" ({thread_of['comm']})" if thread_of["comm"] else "")
        print(f"pid {args.pid} ({stat.comm}) is a thread of process {process}, not a process; {where}")
    for source, said in seen.items():
        print(f"  {source:<7} {said if source in answered else 'no answer: ' + no_answer[source]}")
    unanswered = f" ({_names(list(no_answer))} could not answer)" if no_answer and answered else ""
    print(f"  -> {info['meaning']}; {_comparison(answered, agree, len(seen))}{unanswered}")
    if "main_thread_exited" in info:
        print(f"  its main thread has exited (pthread_exit), so /proc shows it Z, but the process lives on: "
              f"{info['main_thread_exited']['threads'] - 1} of its threads still run; it becomes a zombie for its "
              "parent's wait only when the last one ends")
    elif info.get("thread_exited"):
        print("  a thread that has ended, held until whoever traces it collects it (a parent never waits for "
              "a thread: the process ends when its last thread does)")
    if "holds" in info:
        h = info["holds"]
        fds = "open files unknown to this user" if h["open_fds"] is None else f"{h['open_fds']} open files"
        print(f"  a zombie holds: no user memory (VmRSS {h['vm_rss'] or 'absent'}; its kernel structures,"
              f" the task_struct and pid, remain), {fds}, and its wait status"
              f" {h['exit_code_field']} ({describe_status(h['exit_code_field'])}) for its parent's wait")
    return EXIT_OK
