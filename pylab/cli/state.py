"""`pylab state PID`: a process's state as /proc, ps and psutil see it (a zombie: what it holds)."""
from __future__ import annotations

from pylab.core.errors import EXIT_OK, UsageError
from pylab.core.output import emit_json
from pylab.core.status import describe_status
from pylab.observe import procstate


def main(args) -> int:
    try:
        stat = procstate.read_stat(args.pid)
    except procstate.NoSuchProcess as e:
        raise UsageError(str(e)) from None
    seen = procstate.states(args.pid)
    info = {"pid": args.pid, "comm": stat.comm, "ppid": stat.ppid, "pgrp": stat.pgrp,
            "session": stat.session, "states": seen,
            "agree": len(set(seen.values())) == 1,
            "meaning": procstate.STATE_NAMES.get(seen["proc"], "?")}
    if stat.state == "Z":
        info["holds"] = procstate.holdings(args.pid)
    if args.json:
        emit_json(info)
        return EXIT_OK
    print(f"pid {args.pid} ({stat.comm}), parent {stat.ppid}, group {stat.pgrp}, session {stat.session}")
    for source, letter in seen.items():
        print(f"  {source:<7} {letter}")
    print(f"  -> {info['meaning']}; the three sources {'agree' if info['agree'] else 'DISAGREE'}")
    if "holds" in info:
        h = info["holds"]
        fds = "open files unknown to this user" if h["open_fds"] is None else f"{h['open_fds']} open files"
        print(f"  a zombie holds: no user memory (VmRSS {h['vm_rss'] or 'absent'}; its kernel structures,"
              f" the task_struct and pid, remain), {fds}, and its wait status"
              f" {h['exit_code_field']} ({describe_status(h['exit_code_field'])}) for its parent's wait")
    return EXIT_OK
