"""`pylab run` and `pylab trace`: build a C program, run it on a lab bench, and say what
happened (the command line is pylab.cli.run_args; `pylab run NAME` for a demo goes to
pylab.cli.demos)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from pylab.cli import run_args
from pylab.core.errors import EXIT_OK, UsageError
from pylab.core.output import emit_json, settle
from pylab.observe import procstate, timeline
from pylab.run import buffering, explain, runner, toolchain


# -- build ------------------------------------------------------------------------------
def program(args) -> tuple[Path, str, list[Path], list[str]]:
    """(binary, label, the .c files, the program's arguments) from the command line."""
    names = list(args.name)
    if names[0].endswith(".c"):
        sources = []
        while names and names[0].endswith(".c"):
            sources.append(Path(names.pop(0)))
        cflags = (f"-O{args.opt} " if args.opt else "") + args.cflags
        binary = toolchain.build(sources, include_dirs=args.include, defines=args.define, libs=args.lib,
                                 cflags=cflags)
        return binary, sources[0].stem, sources, [*names, *args.args]
    if args.include or args.define or args.lib or args.cflags or args.opt:
        raise UsageError("-I, -D, -l, -O and --cflags are for .c files; the lab's programs build with their own flags")
    return toolchain.find(names[0]).build(), names[0], [], [*names[1:], *args.args]


def _stdin(args):
    if args.stdin is None:
        return None
    if args.stdin == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(args.stdin).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read --stdin file {args.stdin}: {e.strerror}") from None


class Bench:
    """The run's folder: fresh (with the sources copied in) unless --cwd; what changed."""

    def __init__(self, args, sources: list[Path]):
        self.temporary = args.cwd is None
        if self.temporary:
            self.path = Path(tempfile.mkdtemp(prefix="pylab-run-"))
            try:
                for src in sources:
                    shutil.copy(src, self.path / src.name)
            except BaseException:  # a stop signal or a full disk mid-copy: no half-made folder stays
                shutil.rmtree(self.path, ignore_errors=True)
                raise
        else:
            self.path = Path(args.cwd).resolve()
            if not self.path.is_dir():
                raise UsageError(f"--cwd: no such directory: {args.cwd}")
        self.keep = args.keep or not self.temporary
        self.before = self._files()

    def _files(self) -> dict[str, int]:
        found = {}
        for root, _, files in os.walk(self.path):
            for f in files:
                p = Path(root) / f
                try:
                    found[str(p.relative_to(self.path))] = p.stat().st_mtime_ns
                except OSError:
                    pass
        return found

    def changes(self) -> list[str]:
        """Files created or changed by the run (relative to the folder)."""
        now = self._files()
        return sorted(f for f, m in now.items() if self.before.get(f) != m)

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


# -- run --------------------------------------------------------------------------------
def _forward_terminal(proc: runner.Process) -> None:
    """pylab's own terminal to the program's stdin, line by line (a daemon thread: it
    may sit in read() after the run ends, until pylab exits)."""
    def pump():
        while True:
            try:
                data = os.read(sys.stdin.fileno(), 4096)
            except OSError:
                data = b""
            if not data:
                proc.close_stdin()
                return
            try:
                proc.write(data)
            except (OSError, TypeError):
                return

    threading.Thread(target=pump, daemon=True).start()


def shows_live(args) -> bool:
    """Is the program's output echoed as it arrives? In tty mode on pylab's own terminal
    (a program that prompts, or takes its time, is seen at once), never into --json."""
    return args.mode == "tty" and not args.json and sys.stdout.isatty()


class LiveEcho:
    """The program's output on pylab's stdout as it arrives: a daemon thread waits for a
    byte beyond those shown (Process.expect wakes on each read of the stream, and at the
    end of the run) and writes them. finish() writes what the run's result holds beyond
    (a truncation marker) and ends an unfinished last line, as echo_output does."""

    def __init__(self, proc: runner.Process):
        self.proc, self.shown = proc, 0
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while True:
            try:  # (no timeout: it returns at the run's end, with no match once nothing is left)
                self.proc.expect(rb"\A[\s\S]{%d}" % (self.shown + 1), timeout=None)
            except TimeoutError:
                return
            try:
                self._write(self.proc.output()[self.shown:])
            except OSError:  # pylab's terminal is gone: the run goes on unseen (no traceback from a thread)
                return

    def _write(self, data: bytes) -> None:
        self.shown += len(data)
        data = getattr(self, "_cr", b"") + data  # a \r\n may come split across two reads
        self._cr = b"\r" if data.endswith(b"\r") else b""
        sys.stdout.buffer.write(data[:len(data) - len(self._cr)].replace(b"\r\n", b"\n"))  # (the terminal adds \r)
        sys.stdout.flush()

    def finish(self, result) -> None:
        self.thread.join()
        self._write(result.stdout[self.shown:])
        if getattr(self, "_cr", b""):  # a lone \r at the very end is the program's
            self._cr = b""
            sys.stdout.buffer.write(b"\r")
        if result.stdout and not result.stdout.endswith(b"\n"):
            self._write(b"\n")  # the program left a line unfinished

    def interrupted(self) -> None:
        """Ctrl-C or a stop signal: end a line the program left unfinished, so that
        pylab's last line starts on a line of its own."""
        out = self.proc.output()
        if out and not out.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
            sys.stdout.flush()


def _image(pid: int) -> str | None:
    """The file pid runs (/proc/PID/exe), or None when it cannot be read (gone)."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _is_tracer(proc: runner.Process, pid: int, node) -> bool:
    """Is pid the tracer the supervisor forked for a traced run (-t)? It is the one child
    of the supervisor other than the program that runs the supervisor's own image (it
    never execs); an adopted orphan descends from the program, which exec'd another."""
    if node.ppid != proc.supervisor or pid == proc.pid:
        return False
    image = _image(pid)
    if image is None:  # gone or a zombie already: the tracer was forked before the program, an orphan after it
        mine, program = _started(pid), _started(proc.pid)
        return mine is not None and program is not None and mine <= program
    return image == _image(proc.supervisor)


def _started(pid: int) -> int | None:
    """pid's start time (clock ticks since boot), None if gone."""
    try:
        return procstate.read_stat(pid).starttime
    except procstate.NoSuchProcess:
        return None


def watch(proc: runner.Process, timeout: float) -> list[dict]:
    """Sample the run's tree from the supervisor down until it is over: each change of
    state or name, [{"t", "pid", "comm", "state", "ppid"}] in time order (the supervisor
    itself and its tracer left out), and state "re-parented" where a process turned up
    under a new parent: an orphan, adopted by the supervisor (the run's subreaper). A
    name is /proc's comm as it is at that moment: the program is "supervise" until its
    exec (a fork of the supervisor), then its own."""
    tl, parents, comms, last, changes = timeline.Timeline(), {}, {}, {}, []
    outside = {proc.supervisor}  # not the run's: the supervisor, and its tracer once seen

    def look() -> None:
        """The tree now: new processes, names, parents (a move is a re-parenting)."""
        for pid, node in timeline.tree(proc.supervisor).items():
            if pid in outside:
                continue
            if pid not in tl.names:
                if _is_tracer(proc, pid, node):
                    outside.add(pid)
                    continue
                tl.watch(pid, node.comm)
            comms[pid] = node.comm
            if parents.get(pid) != node.ppid:
                # the supervisor forks only the program (and a tracer): any other child of it was adopted
                if pid in parents or (node.ppid == proc.supervisor and pid != proc.pid):
                    changes.append({"t": tl.now(), "pid": pid, "comm": node.comm, "state": "re-parented",
                                    "ppid": node.ppid})
                parents[pid] = node.ppid

    def sample() -> None:
        """Every watched process's state now, kept where it or the name changed (an exec)."""
        t = tl.now()
        for pid, state in tl.sample().items():
            if last.get(pid) != (state, comms[pid]):
                last[pid] = (state, comms[pid])
                changes.append({"t": t, "pid": pid, "comm": comms[pid], "state": state, "ppid": parents[pid]})

    def poll() -> bool:
        look()
        sample()
        return not proc.running

    procstate.call_until(poll, timeout=timeout + 30, what="the run to end")
    sample()  # once it is over: gone (the supervisor's pid is not read again: it may be reused)
    return sorted(changes, key=lambda c: c["t"])


# Signals that stop pylab (cli.main turns them into KeyboardInterrupt)
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def supervised(argv: list, eof: bool, **options):
    """runner.start() with Ctrl-C, SIGTERM and SIGHUP held off until the run can be
    stopped: an interrupt between the supervisor's spawn and the Process given back (or,
    in runner.run, before its pump is under way) would leave the run going, unreaped,
    its folder removed under it. eof: close the program's stdin (runner.run's /dev/null)
    while they are held too (an interrupt inside close_stdin closes its fd twice). One
    that came meanwhile is taken inside `with proc`, whose exit stops and collects the
    run; the pump thread, started with them blocked, never takes one."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        proc = runner.start(argv, **options)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    with proc:
        if eof:
            proc.close_stdin()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        yield proc


def execute(args, binary: Path, argv_rest: list[str], bench: Bench, trace: bool):
    data = _stdin(args)
    terminal = args.mode == "tty"
    forward = terminal and data is None and sys.stdin.isatty()
    options = dict(mode=args.mode, timeout=args.timeout, linger=args.linger, cwd=bench.path,
                   stdin=data, terminal=terminal, trace=trace)
    changes, echo = None, None
    # without a terminal to forward or data to feed, the program reads EOF at once
    with supervised([binary, *argv_rest], eof=not forward and data is None, **options) as proc:
        if shows_live(args):
            echo = LiveEcho(proc)
        if forward:
            _forward_terminal(proc)
        try:
            changes = watch(proc, args.timeout) if getattr(args, "watch", False) else None
            result = proc.wait()
        except KeyboardInterrupt:
            if echo is not None:
                echo.interrupted()
            raise
    if echo is not None:
        echo.finish(result)
    return result, changes


# -- report -----------------------------------------------------------------------------
def why_killed(result, linger: float, timeout: float | None = None) -> str:
    """Why what was left of the run was SIGKILLed (RunResult.stragglers). The linger
    never runs past the timeout: the supervisor ends it at whichever comes first."""
    if result.timed_out:
        return "killed with the program at the timeout"
    if result.stopped:
        return "killed when the run was stopped"
    if linger == 0:
        return "killed at once (--linger 0)"
    if timeout is not None and result.duration + linger > timeout:
        return f"killed at the timeout ({timeout:g} s), before the end of the linger"
    return f"killed at the end of the linger ({linger:g} s)"


def leftovers(result, linger: float, timeout: float | None = None) -> list[str]:
    """What outlived the program (or, at a timeout or stop, was still running beside it):
    who, doing what, whose child, and its end; then anything killed that was not seen
    then (started during the linger)."""
    lines = []
    reaped = {pid for pid, _ in result.reaped}
    killed = why_killed(result, linger, timeout)
    for p in result.outlived:
        doing = procstate.STATE_NAMES.get(p["state"], p["state"]) + (f" in {p['wchan']}" if p["wchan"] else "")
        parent = (f"adopted by the supervisor {p['ppid']} (the run's subreaper)" if p["ppid"] == result.supervisor
                  else f"a child of the program {p['ppid']}" if p["ppid"] == result.pid
                  else f"its parent {p['ppid']} still running")
        # (killed first: at a timeout the supervisor's reaps of what it killed are reported too)
        end = (killed if p["pid"] in result.stragglers else
               "finished on its own during the linger" if p["pid"] in reaped else "gone by the end")
        lines.append(f"  {p['pid']} {p['comm']}: {doing}; {parent}; {end}")
    seen = {p["pid"] for p in result.outlived}
    later = [str(pid) for pid in result.stragglers if pid not in seen]
    if later:  # not there when the report above was taken
        when = "as the run was being killed" if result.timed_out or result.stopped else "after the program ended"
        lines.append(f"  {', '.join(later)}: started {when}; {killed}")
    return lines


def _leftovers_heading(result) -> str:
    count = len({p["pid"] for p in result.outlived} | set(result.stragglers))
    if result.timed_out:
        return f"pylab: {count} other process(es) of the run were still running when the program was " \
               "killed at the timeout:"
    if result.stopped:
        return f"pylab: {count} other process(es) of the run were still running when it was stopped:"
    return f"pylab: {count} process(es) outlived the program:"


def say_leftovers(args, result) -> None:
    """On stderr: what outlived the program and what was killed, and why (run and trace)."""
    if result.outlived or result.stragglers:
        print(_leftovers_heading(result), file=sys.stderr)
        for line in leftovers(result, args.linger, args.timeout):
            print(line, file=sys.stderr)


def bench_fields(bench: Bench, files: list[str]) -> dict:
    """The bench's part of the JSON (run and trace): its folder, whether it is kept, the files made there."""
    return {"cwd": str(bench.path), "kept": bench.keep, "files": files}


def say_bench(bench: Bench, files: list[str]) -> None:
    """On stderr (run and trace): the files the program made, and where its folder is kept.
    A temporary folder not kept is removed before this is said: it is not named then."""
    if files:
        where = ("in its temporary folder (removed since; --keep keeps it)" if bench.temporary and not bench.keep
                 else f"in {bench.path}")
        print(f"pylab: files the program created or changed {where}: {', '.join(files)}", file=sys.stderr)
    if bench.temporary and bench.keep:
        print(f"pylab: the run's folder is kept: {bench.path}", file=sys.stderr)


def report(args, label: str, result, bench: Bench, changes, sentences, files: list[str]) -> None:
    note = buffering.buffering_note(args.mode)
    echo_output(result, shows_live(args))
    err = sys.stderr
    if changes is not None:
        if not changes:
            print(f"pylab: --watch saw nothing: the run was over ({result.duration * 1000:.1f} ms) before /proc "
                  "was first sampled; 'pylab trace' records every event instead", file=err)
        else:
            print("pylab: its processes, watched from outside in /proc (from the supervisor down):", file=err)
        for c in changes:
            meaning = procstate.STATE_NAMES.get(c["state"], "")
            print(f"  +{c['t']:7.3f}s  pid {c['pid']:<7} {c['comm']:<15} {c['state']:<4} {meaning:<9}"
                  f" (parent {c['ppid']})", file=err)
    say_leftovers(args, result)
    if sentences is not None:
        print("pylab: what the trace shows:" if sentences else
              f"pylab: the trace shows nothing to explain: {explain.NOTHING_SHOWN}", file=err)
        for s in sentences:
            print(f"  - {s}", file=err)
    say_bench(bench, files)
    print(f"pylab: {label} {result.describe()} (pid {result.pid}, {result.duration * 1000:.1f} ms); {note}", file=err)


def on_bench(args, trace: bool):
    """Build the program, run it in its bench folder, and list the files it made there
    (the sources copied in are not its): (binary, label, result, --watch changes, files, bench).
    `pylab run` and `pylab trace` both start here."""
    run_args.fill_defaults(args)  # left unset by the parser, so that a demo can tell an option was given
    binary, label, sources, rest = program(args)
    bench = Bench(args, sources)
    try:
        result, changes = execute(args, binary, rest, bench, trace=trace)
        files = [f for f in bench.changes() if not (bench.temporary and f in {s.name for s in sources})]
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP (cli.main): the run is stopped; no report follows
        with contextlib.suppress(OSError):  # (stderr may be a hung-up terminal)
            say_bench(bench, [])  # with --keep: where the folder is
        raise
    finally:
        bench.close()
    return binary, label, result, changes, files, bench


def echo_output(result, live: bool = False) -> None:
    """The program's stdout, then its stderr, as it wrote them (an unfinished last line
    ended); live (shows_live): stdout was shown as it came (LiveEcho), so stderr only."""
    if not live:
        sys.stdout.write(result.stdout_text)
        if result.stdout_text and not result.stdout_text.endswith("\n"):
            sys.stdout.write("\n")  # the program left a line unfinished
        sys.stdout.flush()
    sys.stderr.write(result.stderr_text)


def main(args) -> int:
    """`pylab run NAME|FILE.c ..`: a C program (.c files, or a name from csrc/programs/), else
    a demo. pylab.cli.demos is imported here, only for a name that is no C program: it
    imports the sockets lab and the whole tour, which a C program's run does not need
    (a cost, not a cycle: the demos import nothing of this module). Demo and program names
    never overlap (tests/test_cli.py checks it), so the order decides nothing."""
    first = args.name[0]
    if not first.endswith(".c") and first not in toolchain.programs():
        from pylab.cli import demos
        if first in demos.DEMOS:  # a demo takes the rest of the line as its arguments
            args.name, args.args = first, [*args.name[1:], *args.args]
            return demos.run(first, args)
    return run_program(args)


def run_program(args) -> int:
    _, label, result, changes, files, bench = on_bench(args, trace=args.explain)
    sentences = explain.sentences(result.trace, result.pid, result.supervisor) if result.trace else None
    settle(EXIT_OK)  # the run was observed, whatever its program did
    if args.json:
        emit_json({"name": label, **result.to_dict(), "note": buffering.buffering_note(args.mode),
                   **bench_fields(bench, files),
                   **({"states": changes} if changes is not None else {}),
                   **({"explanation": sentences} if sentences is not None else {})})
        return EXIT_OK
    report(args, label, result, bench, changes, sentences, files)
    return EXIT_OK
