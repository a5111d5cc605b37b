"""`pylab trace NAME|FILE.c.. [--mode M] [--json] [--figure F.svg|F.png] [-- ARGS]`: exactly what
happened, per process, from outside (strace -f through pylab.run.tracer), then the
sentences that explain it (pylab.run.explain). Builds and runs as `pylab run` does."""
from __future__ import annotations

import sys

from pylab.core.errors import EXIT_OK, UsageError
from pylab.core.output import emit_json, settle
from pylab.cli import run_cmd
from pylab.run import buffering, explain


def per_process(trace, program: int, supervisor: int, names: dict[str, str] | None = None) -> list[str]:
    """The events, one block per process in the order the processes appeared. names:
    paths to show by a shorter name (the cached binary by the program's)."""
    names = names or {}
    procs = trace.processes()
    out = []
    for pid in dict.fromkeys(e.pid for e in trace.events):
        p = procs[pid]
        who = "the supervisor (the run's subreaper)" if pid == supervisor else \
              "the program" if pid == program else f"child of {p.parent}"
        argv = " ".join(names.get(a, a) for a in p.argv or [])
        out.append(f"process {pid}, {who}" + (f": {argv}" if argv and pid != supervisor else ""))
        for e in trace.of(pid):
            line = explain.describe_event(e)
            if line is None or (pid == supervisor and e.kind == "exec"):  # its command line is pylab's
                continue
            for path, short in names.items():
                line = line.replace(path, short)
            out.append(f"  {line}")
    return out


def main(args) -> int:
    if args.figure and not args.figure.endswith((".svg", ".png")):
        raise UsageError(f"--figure must name a .svg or .png file, not {args.figure!r}")
    binary, label, result, _, files, bench = run_cmd.on_bench(args, trace=True)
    trace = result.trace
    sentences = explain.sentences(trace, result.pid, result.supervisor)
    settle(EXIT_OK)
    if args.figure:
        from pylab.observe import viz  # matplotlib only when a figure is asked for

        viz.trace_figure(trace, program=result.pid, supervisor=result.supervisor).savefig(args.figure)
    if args.json:
        emit_json({"name": label, **result.to_dict(), "note": buffering.buffering_note(args.mode),
                   **run_cmd.bench_fields(bench, files),
                   "events": [e.to_dict() for e in trace.events],
                   "processes": {str(p.pid): {k: v for k, v in p.__dict__.items() if k != "writes"}
                                 for p in trace.processes().values()},
                   "explanation": sentences})
        return EXIT_OK
    run_cmd.echo_output(result, run_cmd.shows_live(args))
    err = sys.stderr
    print(f"pylab: {label} {result.describe()}; {buffering.buffering_note(args.mode)}", file=err)
    print("pylab: what each process did, seen from outside (ptrace):", file=err)
    for line in per_process(trace, result.pid, result.supervisor, {str(binary): label}):
        print(f"  {line}", file=err)
    print("pylab: why:" if sentences else f"pylab: nothing to explain: {explain.NOTHING_SHOWN}", file=err)
    for s in sentences:
        print(f"  - {s}", file=err)
    run_cmd.say_leftovers(args, result)
    run_cmd.say_bench(bench, files)
    if args.figure:
        print(f"pylab: figure written to {args.figure}", file=err)
    return EXIT_OK
