"""pylab's command line (the contract in DESIGN.md). Exit status: 0 success,
1 checks failed, 2 usage or environment error (one line, never a traceback).

The parser is built here, from argument definitions that import nothing heavy, and
COMMANDS names the module and function that run each command: main() imports only the
chosen command's module (importlib, by name), so `pylab --help` or `pylab sockets serve`
does not pay for the grader, the bench or the tour. A misspelt or broken module is an
ImportError or AttributeError on use, never a missing command; tests/test_layout.py
imports every entry and proves a broken one fails loudly."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from pylab import __version__
from pylab.cli.parsing import Parser, rounds
from pylab.cli.run_args import RUN_DESCRIPTION, add_run_arguments, add_trace_arguments
from pylab.core import output
from pylab.core.errors import EXIT_USAGE, LabError

# command -> (the module that runs it, its function (args) -> exit status)
COMMANDS = {
    "list": ("pylab.cli.catalog", "main"),
    "run": ("pylab.cli.run_cmd", "main"),
    "trace": ("pylab.cli.trace", "main"),
    "tour": ("pylab.tour.registry", "main"),
    "compare": ("pylab.compare.matrix", "main"),
    "state": ("pylab.cli.state", "main"),
    "sockets": ("pylab.cli.sockets", "main"),
    "starter": ("pylab.cli.grading", "starter"),
    "check": ("pylab.cli.grading", "check"),
    "grade": ("pylab.cli.grading", "grade"),
    "new-exercise": ("pylab.cli.grading", "new_exercise"),
    "assignment": ("pylab.cli.grading", "assignment"),
    "bench": ("pylab.bench.costs", "main"),
    "doctor": ("pylab.cli.doctor", "main"),
}


def command(name: str):
    """The function that runs command `name`, its module imported now."""
    module, function = COMMANDS[name]
    return getattr(importlib.import_module(module), function)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="pylab", description="A process-lifecycle lab: C programs about fork, exit, "
                "wait, zombies and sockets, run under supervision and observed live.")
    p.add_argument("--version", action="version", version=f"pylab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, required=True)

    s = sub.add_parser("list", help="the programs, demos and exercises")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("run", help="build and run a program under supervision and say what happened",
                       description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(s)

    s = sub.add_parser("trace", help="run a program traced from outside: events per process, explained")
    add_trace_arguments(s)

    s = sub.add_parser("tour", help="the seeds' claims, each checked live (the main job)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--only", metavar="ID", action="append", help="check only these claim ids (repeatable)")

    s = sub.add_parser("compare", help="C vs Python exit semantics, computed live")
    s.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    s.add_argument("--json", action="store_const", dest="format", const="json",
                   help="the same as --format json (the lab-wide spelling)")

    s = sub.add_parser("state", help="a process's state by /proc, ps and psutil")
    s.add_argument("pid", type=int)
    s.add_argument("--json", action="store_true", help="machine-readable output")

    # listed for --help; main() hands everything after "sockets" to pylab.cli.sockets
    s = sub.add_parser("sockets", help="the sockets lab: servers, clients and the seed's programs")
    s.add_argument("sockargs", nargs=argparse.REMAINDER, help="see 'pylab sockets --help'")

    s = sub.add_parser("starter", help="write the student starter files for the assignment")
    s.add_argument("dir")
    s.add_argument("--assignment", metavar="A", help="an assignment folder (default: the lab's practice one)")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("check", help="student: run the visible checks on your work")
    s.add_argument("names", nargs="*", metavar="[DIR] [EXERCISE]", help="your folder (default .), then exercises")
    s.add_argument("--assignment", metavar="A", help="an assignment folder (default: the lab's practice one)")
    s.add_argument("--json", action="store_true", help="machine-readable output")

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

    s = sub.add_parser("new-exercise", help="instructor: a new exercise folder (passing reference, failing starter)")
    s.add_argument("dir", help="the new exercise's folder, inside its assignment's folder")
    s.add_argument("--source", metavar="FILE.c", help="the file a submission holds (default: DIR's name .c)")
    s.add_argument("--json", action="store_true", help="machine-readable output")

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

    s = sub.add_parser("bench", help="process-creation and observation costs")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--quick", action="store_true", help="fewer repetitions (under 10 s)")
    s.add_argument("--rounds", type=rounds, metavar="N",
                   help="N samples of every figure after its warm-up (default: each figure's own count)")

    s = sub.add_parser("doctor", help="is this machine ready (compiler, /proc, pty, ps)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    return p


# Signals that stop pylab as Ctrl-C does, and the word each is reported with.
STOPPING = {signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}


class StopSignals:
    """SIGTERM and SIGHUP stop pylab as Ctrl-C does: the handler raises KeyboardInterrupt,
    which every layer below already answers (a run is stopped and collected, its folder
    removed by the finally blocks). `signum` is the one that came. Only the first
    raises: a repeat (a shell's SIGHUP after the terminal's) must not cut that clean-up
    short. A signal inherited as ignored (nohup) stays ignored; main() called from
    another thread (it cannot set handlers) changes nothing. The old handlers are put
    back on exit: tests call main() inside pytest."""

    def __init__(self):
        self.signum: int | None = None
        self._old: dict = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in STOPPING:
                if signal.getsignal(sig) == signal.SIG_DFL:
                    self._old[sig] = signal.signal(sig, self._stop)
            # Ctrl-C too, so that a second one (or one after a SIGTERM) cannot break into
            # the clean-up the first started (a lock released twice, a traceback)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._old[signal.SIGINT] = signal.signal(signal.SIGINT, self._stop)
        return self

    def _stop(self, signum, frame):
        if self.signum is None:
            self.signum = signum
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _say(line: str) -> None:
    """One last line on stderr, which may be gone (SIGHUP: a hung-up terminal)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    stops = StopSignals()
    closed = [name for name in ("stdout", "stderr") if getattr(sys, name) is None]
    if closed:  # started with fd 1 or 2 closed (`pylab list >&-`)
        for name in closed:
            setattr(sys, name, open(os.devnull, "w"))
        _say("pylab: error: stdout or stderr is closed: give pylab somewhere to write")
        return EXIT_USAGE
    if sys.stdin is None:  # started with fd 0 closed (`pylab run prog <&-`): as if from /dev/null
        sys.stdin = open(os.devnull)
    _unbreakable_output()
    output.unsettle()
    try:  # (the handlers are set inside it: a signal as main() returns is still one line)
        with stops:
            code = _dispatch(list(sys.argv[1:] if argv is None else argv))
            # a buffered stdout (no PYTHONUNBUFFERED) meets a gone reader only here, not
            # at exit, where Python would print "Exception ignored" and end with 120
            sys.stdout.flush()
            return code
    except LabError as e:  # UsageError, and what the layers below raise for the user to fix
        _say(f"pylab: error: {e}" + (f"\n{e.details}" if e.details else ""))  # details: e.g. the compiler's output
        return EXIT_USAGE
    except BrokenPipeError:  # `pylab grade DIR | head -1`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        # the status the command had decided before its report (output.settle), else the
        # one a program killed by SIGPIPE leaves: its work was cut short
        code = output.settled()
        return 128 + signal.SIGPIPE if code is None else code
    except OSError as e:  # the machine or a file the user named refused: their environment, one line
        _say(f"pylab: error: {_os_error(e)}")
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C, or one of STOPPING (StopSignals): the shell's 128 + signal
        if stops.signum in (None, signal.SIGINT):
            _say("pylab: interrupted")
            return 128 + signal.SIGINT
        _say(f"pylab: {STOPPING[stops.signum]} ({signal.Signals(stops.signum).name})")
        return 128 + stops.signum


def _os_error(e: OSError) -> str:
    """An OSError in words: the file it is about, or else what failed (the call that
    raised it, where), so that even one with no file name says what to look at."""
    what = e.strerror or str(e)
    if e.filename:
        return f"{e.filename}: {what}"
    frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    where = f" (in {frame.name}, {Path(frame.filename).name}:{frame.lineno}; 'pylab doctor' checks this machine)" \
        if frame else ""
    return f"{what}{where}"


def _dispatch(argv: list[str]) -> int:
    # argparse cannot give a positional list after "--" once NAME has been seen:
    # split the program's own arguments off first (`pylab run NAME -- ARGS`).
    extra = None
    if "--" in argv and argv[:1] in (["run"], ["trace"]):
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    if argv[:1] == ["sockets"]:  # the sockets lab parses its own line, --help included
        return command("sockets")(argparse.Namespace(sockargs=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if extra is not None:
        args.args = [*args.args, *extra]
    return command(args.command)(args)


def _unbreakable_output() -> None:
    """A character the terminal's encoding cannot hold (a seed's Chinese on an ASCII or
    Latin-1 stdout) is printed as a backslash escape, never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
