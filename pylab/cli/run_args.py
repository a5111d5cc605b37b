"""`pylab run` and `pylab trace`: build any C program as a C programmer would, run it on a
lab bench, and say what happened.

    pylab run NAME|FILE.c [FILE.c..] [ARGS..] [-I DIR] [-D N[=V]] [-l LIB] [-O LEVEL]
              [--cflags='...'] [--mode M] [--cwd DIR] [--keep] [--linger S] [--explain]
              [--watch] [--stdin FILE] [--timeout S] [--json] [-- ARGS..]

The bench: each run gets a fresh temporary folder with the .c files copied in (as in
the book's folder; `--cwd DIR` to choose, `--keep` to keep it), and the files the
program created are listed afterwards. What outlives the program may go on for the
linger (1 s) and is then killed; the report says who outlived it, what it was doing
and who adopted it. tty mode gives the program a whole terminal (stdin, stdout and
stderr on a pty), with stdin from pylab's own terminal when it has one. Arguments for
the program go after the .c files or after `--` (`pylab run prog.c -O2 -- -n 3`).
"""
from __future__ import annotations

import argparse

from pylab.cli.parsing import seconds
from pylab.core.targets import MODES

DEFAULT_LINGER = 1.0
DEFAULT_TIMEOUT = 120.0
RUN_DESCRIPTION = __doc__.split("\n\n", 2)[-1]  # `pylab run --help`: the bench, from above


def add_build_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("name", nargs="+", metavar="NAME|FILE.c",
                   help="a program from 'pylab list', or one or more .c files (then the program's arguments)")
    s.add_argument("-I", dest="include", action="append", default=[], metavar="DIR", help="add DIR to the include path")
    s.add_argument("-D", dest="define", action="append", default=[], metavar="NAME[=VALUE]", help="define a macro")
    s.add_argument("-l", dest="lib", action="append", default=[], metavar="LIB", help="link with library LIB")
    s.add_argument("-O", dest="opt", metavar="LEVEL", choices=("0", "1", "2", "3", "s", "g"),
                   help="optimisation level (default -O0, as the textbooks' examples assume; -O2 is one flag away)")
    s.add_argument("--cflags", default="", metavar="'FLAGS'", help="more compiler flags, as one quoted string: --cflags='-O2 -pthread'")
    s.add_argument("--mode", choices=MODES, help="where stdout goes (default: tty)")
    s.add_argument("--cwd", metavar="DIR", help="run in DIR (default: a fresh temporary folder)")
    s.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    # (--linger and --timeout default to None, filled in by fill_defaults(): a demo can
    # then tell `--timeout 120` given from no option at all, and refuse it)
    s.add_argument("--linger", type=lambda t: seconds(t, zero_ok=True), metavar="S",
                   help=f"how long what outlives the program may go on before it is killed (default {DEFAULT_LINGER:g})")
    s.add_argument("--timeout", type=seconds, metavar="S",
                   help=f"seconds before the run is killed (default {DEFAULT_TIMEOUT:g})")
    s.add_argument("--stdin", metavar="FILE",
                   help="feed FILE ('-': pylab's own stdin) to the program; default: the terminal in tty mode "
                        "when pylab has one, else nothing")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    # default=[]: a "*" positional without a default counts as required, and argparse
    # would name this hidden one in "the following arguments are required".
    s.add_argument("args", nargs="*", default=[], help=argparse.SUPPRESS)


def add_run_arguments(s: argparse.ArgumentParser) -> None:
    add_build_arguments(s)
    s.add_argument("--watch", action="store_true",
                   help="sample the run's processes in /proc (from the supervisor down) and show their states")
    s.add_argument("--explain", action="store_true",
                   help="trace the run from outside (the lab's ptrace tracer; strace where it cannot serve) "
                        "and explain each duplicated or missing line")


def add_trace_arguments(s: argparse.ArgumentParser) -> None:
    add_build_arguments(s)
    s.add_argument("--figure", metavar="FILE", help="also draw a swimlane per process (.svg or .png)")


def fill_defaults(args) -> None:
    """The defaults the parser leaves unset (None) so that a demo can tell an option
    given from one left out: the mode (tty), the linger and the timeout."""
    args.mode = args.mode or "tty"
    if args.linger is None:
        args.linger = DEFAULT_LINGER
    if args.timeout is None:
        args.timeout = DEFAULT_TIMEOUT
