"""pylab's command line (the contract in DESIGN.md). Exit status: 0 success,
1 checks failed, 2 usage or environment error (one line, never a traceback)."""
from __future__ import annotations

import argparse
import os
import sys

from pylab import __version__
from pylab.bench import costs
from pylab.cli import demos, doctor, grading, run_cmd, sockets, trace
from pylab.cli.parsing import Parser
from pylab.compare import matrix
from pylab.core.errors import EXIT_OK, EXIT_USAGE, UsageError
from pylab.core.output import emit_json
from pylab.core.status import describe_status
from pylab.grading import exercises
from pylab.observe import procstate
from pylab.observe.procstate import NoSuchProcess
from pylab.run import toolchain
from pylab.run.runner import RunError
from pylab.run.toolchain import CompileError, ToolchainError
from pylab.tour import registry


# -- list / run / state / doctor --------------------------------------------------------
def _catalog() -> list[dict]:
    """Everything `pylab run` can run: the C programs, plus the sockets lab's Python demos
    (pylab.cli.demos.DEMOS: name -> (summary, callable))."""
    items = [{"name": p.name, "kind": "program", "summary": p.summary}
             for p in toolchain.programs().values()]
    for name, (summary, _) in sorted(demos.DEMOS.items()):
        items.append({"name": name, "kind": "demo", "summary": summary})
    return items


def cmd_list(args) -> int:
    items = _catalog()
    ex = [{"name": e.name, "kind": "exercise", "summary": e.summary} for e in exercises.all_exercises()]
    if args.json:
        emit_json({"programs": items, "exercises": ex})
        return EXIT_OK
    width = max(len(i["name"]) for i in items + ex)
    print("Programs and demos (pylab run NAME):")
    for i in items:
        print(f"  {i['name']:<{width}}  {i['summary']}")
    if ex:
        print("\nExercises (pylab starter DIR, pylab check):")
        for i in ex:
            print(f"  {i['name']:<{width}}  {i['summary']}")
    return EXIT_OK


def cmd_run(args) -> int:
    if args.name[0] in demos.DEMOS:  # a demo takes the rest of the line as its arguments
        args.name, args.args = args.name[0], [*args.name[1:], *args.args]
        return demos.run(args.name, args)
    return run_cmd.main(args)


def cmd_state(args) -> int:
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


def _compare(args) -> int:
    if args.json:  # --json is the lab-wide spelling of --format json
        args.format = "json"
    return matrix.main(args)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="pylab", description="A process-lifecycle lab: C programs about fork, exit, "
                "wait, zombies and sockets, run under supervision and observed live.")
    p.add_argument("--version", action="version", version=f"pylab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    s = sub.add_parser("list", help="the programs, demos and exercises")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="build and run a program under supervision and say what happened",
                       description=run_cmd.__doc__.split("\n\n", 2)[-1], formatter_class=argparse.RawDescriptionHelpFormatter)
    run_cmd.add_run_arguments(s)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("trace", help="run a program traced from outside: events per process, explained")
    trace.add_arguments(s)
    s.set_defaults(func=trace.main)

    s = sub.add_parser("tour", help="the seeds' claims, each checked live (the main job)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--only", metavar="ID", action="append", help="check only these claim ids (repeatable)")
    s.set_defaults(func=registry.main)

    s = sub.add_parser("compare", help="C vs Python exit semantics, computed live")
    s.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    s.add_argument("--json", action="store_true", help="the same as --format json")
    s.set_defaults(func=_compare)

    s = sub.add_parser("state", help="a process's state by /proc, ps and psutil")
    s.add_argument("pid", type=int)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_state)

    # listed for --help; main() hands everything after "sockets" to pylab.cli.sockets
    s = sub.add_parser("sockets", help="the sockets lab: servers, clients and the seed's programs")
    s.add_argument("sockargs", nargs=argparse.REMAINDER, help="see 'pylab sockets --help'")
    s.set_defaults(func=sockets.main)

    s = sub.add_parser("starter", help="write the student starter files for the assignment")
    s.add_argument("dir")
    s.add_argument("--assignment", metavar="A", help="an assignment folder (default: the lab's practice one)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=grading.starter)

    s = sub.add_parser("check", help="student: run the visible checks on your work")
    s.add_argument("names", nargs="*", metavar="[DIR] [EXERCISE]", help="your folder (default .), then exercises")
    s.add_argument("--assignment", metavar="A", help="an assignment folder (default: the lab's practice one)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=grading.check)

    s = sub.add_parser("grade", help="grade a submission (or a folder of them) for CI")
    s.add_argument("dir")
    s.add_argument("exercises", nargs="*", metavar="EXERCISE", help="grade only these exercises")
    s.add_argument("--assignment", metavar="A", help="an assignment folder (default: the lab's practice one)")
    s.add_argument("--results", metavar="F", help="write Gradescope results.json here")
    s.add_argument("--text", action="store_true", help="results.json feedback as plain text, not Markdown")
    s.add_argument("--junit", metavar="F", help="write JUnit XML here")
    s.add_argument("--classroom", metavar="F", help="write GitHub Classroom's autograding results here")
    s.add_argument("--prairielearn", metavar="F", help="write PrairieLearn's external-grader results here")
    s.add_argument("--tests", metavar="DIR", help="instructor checks written as pytest files")
    s.add_argument("--jobs", type=int, default=1, metavar="N", help="submissions graded in parallel")
    s.add_argument("--shard", metavar="K/N", help="grade only shard K of N of a folder of submissions")
    s.add_argument("--containment", choices=("namespaces", "uid"), default="namespaces",
                   help="namespaces (default): the bubblewrap sandbox, or refuse where it cannot be made; "
                        "uid: the strongest containment without namespaces (recorded in the results)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=grading.grade)

    s = sub.add_parser("new-exercise", help="instructor: a new exercise folder (passing reference, failing starter)")
    s.add_argument("dir", help="the new exercise's folder, inside its assignment's folder")
    s.add_argument("--source", metavar="FILE.c", help="the file a submission holds (default: DIR's name .c)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=grading.new_exercise)

    s = sub.add_parser("assignment", help="instructor: export-student, verify, merge shards")
    acts = s.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    a = acts.add_parser("export-student", help="the student bundle: statements, starters, visible checks")
    a.add_argument("assignment_dir", metavar="ASSIGNMENT")
    a.add_argument("out", metavar="OUT")
    a = acts.add_parser("verify", help="each reference gets full marks, each starter does not")
    a.add_argument("assignment_dir", metavar="ASSIGNMENT")
    a.add_argument("exercises", nargs="*", metavar="EXERCISE")
    a = acts.add_parser("merge", help="merge the results of 'grade --shard K/N' runs")
    a.add_argument("out", metavar="OUT")
    a.add_argument("shards", nargs="+", metavar="SHARD_RESULTS")
    for a in acts.choices.values():
        a.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=grading.assignment)

    s = sub.add_parser("bench", help="process-creation and observation costs")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--quick", action="store_true", help="fewer repetitions (under 10 s)")
    s.add_argument("--rounds", type=costs.rounds_option, metavar="N",
                   help="N samples of every figure after its warm-up (default: each figure's own count)")
    s.set_defaults(func=costs.main)

    s = sub.add_parser("doctor", help="is this machine ready (compiler, /proc, pty, ps)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=doctor.main)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        # argparse cannot give a positional list after "--" once NAME has been seen:
        # split the program's own arguments off first (`pylab run NAME -- ARGS`).
        extra = None
        if "--" in argv and argv[:1] in (["run"], ["trace"]):
            at = argv.index("--")
            argv, extra = argv[:at], argv[at + 1:]
        if argv[:1] == ["sockets"]:  # the sockets lab parses its own line, --help included
            return sockets.main(argparse.Namespace(sockargs=argv[1:]))
        args = build_parser().parse_args(argv)
        if extra is not None:
            args.args = [*args.args, *extra]
        if not getattr(args, "func", None):
            build_parser().print_help()
            return EXIT_USAGE
        return args.func(args)
    except CompileError as e:
        print(f"pylab: error: {e}", file=sys.stderr)
        print(e.output.rstrip(), file=sys.stderr)  # the compiler's whole output
        return EXIT_USAGE
    except (UsageError, ToolchainError, RunError, NoSuchProcess) as e:
        print(f"pylab: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `pylab list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("pylab: interrupted", file=sys.stderr)
        return 130
