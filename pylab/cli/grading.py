"""`pylab starter`, `check`, `grade`, `new-exercise` and `assignment ...` (wired in pylab/cli/main.py).

Exit status: 0 full marks (every visible check passes, for `check`), 1 below full
marks, 2 a usage or environment error (a result that hit an environment error is written
too, over any older file, so that a course's CI reads this run's; an interrupted grade
writes none).
Limits can be set for a course with PYLAB_GRADE_LIMITS, e.g. "wall=3,cpu=1,nproc=16".
Without --assignment, the lab's own practice assignment is used.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import stat
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from pylab.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from pylab.core.output import emit_json, settle
from pylab.grading import assignment as assignments
from pylab.grading import export, reporters, scaffold, shard
from pylab.grading.files import NAME_MAX, os_error_text, output_problem, written_in_place
from pylab.grading.grader import Report, grade_submission
from pylab.grading.sandbox import Limits, namespaces_problem

BATCH_DEFAULT_OUT = "pylab-results"
POINTER = ".pylab-assignment"  # `starter --assignment A` leaves A's path here for `check`
OUTPUT_FLAGS = ("results", "junit", "classroom", "prairielearn")  # grade's files for one submission


def _one_line_os_errors(command):
    """A folder or file the command cannot read or write (mode 000, a full disk, /proc)
    is one line and exit 2, never a traceback: OSError becomes a UsageError. (A broken
    pipe is main()'s: `pylab ... | head`.)"""
    @functools.wraps(command)
    def run(args) -> int:
        try:
            return command(args)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise UsageError(os_error_text(e)) from None
    return run


def _readable(folder: Path, what: str) -> None:
    try:
        os.listdir(folder)
    except OSError as e:
        raise UsageError(f"cannot read {what} {folder}: {e.strerror or e}") from None


SECONDS = ("wall", "linger", "compile_wall")  # PYLAB_GRADE_LIMITS's limits in seconds; the rest are counts
RLIMIT_MAX = 2 ** 63 - 1  # what setrlimit takes
# The least of each count and size PYLAB_GRADE_LIMITS may set, and its unit: below it even
# a correct solution fails (and the student is blamed), so a smaller value is a usage
# error. What the practice assignment's reference solutions need, with room to spare
# (tests/test_grading_outputs_limits.py grades every one at these minimums): about
# 2.5 MiB of address space and 5 open files (the supervisor and a dynamically linked
# program), 9 processes (sigchld_reap's check forks 8 children), a file of some 110
# bytes (stdout to a file), some 490 bytes of output; none writes in /tmp (a tmpfs is
# at least a page; below 64 KiB is most likely a size meant in KiB or MiB).
MINIMUMS = {
    "cpu": (1, "CPU seconds"),
    "memory": (16 << 20, "bytes"),
    "fsize": (64 << 10, "bytes"),
    "nofile": (16, "open files"),
    "nproc": (16, "processes"),
    "output": (4 << 10, "bytes"),
    "tmp": (64 << 10, "bytes"),
}


def minimum_text(name: str) -> str:
    """A limit's minimum as docs/grading.md gives it: "16 MiB", "64 KiB", "16"."""
    least, unit = MINIMUMS.get(name, (1, ""))
    if unit == "bytes":
        for size, suffix in ((1 << 20, "MiB"), (1 << 10, "KiB")):
            if least >= size and least % size == 0:
                return f"{least // size} {suffix}"
        return f"{least} bytes"
    return str(least)


def limits_from_env() -> Limits:
    """Limits from PYLAB_GRADE_LIMITS ("wall=3,cpu=1,nproc=16"): a misspelt name, a
    value that is not a number, or one out of range (seconds must be finite and above 0,
    linger 0 or more; counts and sizes at least their MINIMUMS) is a usage error naming
    the variable, the limit and the value (and the minimum), before anything runs."""
    spec = os.environ.get("PYLAB_GRADE_LIMITS", "").strip()
    limits = Limits()
    if not spec:
        return limits
    fields = {f.name: f.type for f in dataclasses.fields(Limits)}
    changes = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name not in fields or not value:
            raise UsageError(f"PYLAB_GRADE_LIMITS: unknown or empty limit {part!r} (known: {', '.join(fields)})")
        try:
            number = float(value) if name in SECONDS else int(value)
        except ValueError:
            raise UsageError(f"PYLAB_GRADE_LIMITS: {name} must be a number, not {value!r}") from None
        if name in SECONDS:
            ok = math.isfinite(number) and (number >= 0 if name == "linger" else number > 0)
            if not ok:
                need = "0 or more" if name == "linger" else "above 0"
                raise UsageError(f"PYLAB_GRADE_LIMITS: {name} must be a number of seconds {need}, not {value!r}")
        else:
            least, unit = MINIMUMS.get(name, (1, ""))
            units = f" {unit.removesuffix('s') if least == 1 else unit}" if unit else ""
            if number < least:
                shown = f" ({minimum_text(name)})" if unit == "bytes" and least >= 1024 else ""
                raise UsageError(f"PYLAB_GRADE_LIMITS: {name} must be a whole number of at least {least}{units}{shown} "
                                 f"(less can fail a correct solution), not {value!r}")
            if number > RLIMIT_MAX:
                raise UsageError(f"PYLAB_GRADE_LIMITS: {name} must be a whole number of at most {RLIMIT_MAX}{units}, "
                                 f"not {value!r}")
        changes[name] = number
    return limits.with_(**changes)


def _assignment(args, work: Path | None = None) -> assignments.Assignment:
    folder = getattr(args, "assignment", None)
    if not folder and work is not None and (work / POINTER).is_file():
        folder = (work / POINTER).read_text().strip()  # the assignment this folder was started from
    found = assignments.load(folder) if folder else assignments.builtin()
    if not folder:  # the practice assignment offers what the lab has lessons for
        found.exercises = [e for e in found.exercises if e.reference_source() is not None]
        if not found.exercises:
            raise UsageError("no exercise is available (their reference lessons are missing from csrc/programs)")
    return found


def _exercises(args, names, work: Path | None = None) -> tuple[assignments.Assignment, list]:
    found = _assignment(args, work)
    return found, found.select(names)


# -- starter ---------------------------------------------------------------------------
@_one_line_os_errors
def starter(args) -> int:
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a directory")
    found = _assignment(args)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot make the folder {target}: {e.strerror or e}") from None
    _readable(target, "the folder")
    index = [f"# Assignment: {found.title}", "",
             "Write one C file per exercise in this folder (the starters are here, with TODOs).",
             "Check your work with `pylab check` (visible checks only; more run when graded).", ""]
    written, kept = [], []

    def offer(name: str, text: str) -> None:
        """Write name unless the student has a file (or anything) by that name: theirs stays."""
        try:
            with open(target / name, "x", encoding="utf-8") as f:  # O_EXCL: never over a file or through a link
                f.write(text)
        except FileExistsError:
            kept.append(name)
            return
        except OSError as e:
            done = f" (written so far: {', '.join(written)})" if written else ""
            raise UsageError(f"cannot write {target / name}: {e.strerror or e}{done}") from None
        written.append(name)

    for ex in found.exercises:
        offer(ex.source, ex.starter)
        offer(f"{ex.name}.md", ex.statement)
        index.append(f"- [{ex.name}]({ex.name}.md) ({ex.max_score:g} points): {ex.summary}")
    offer("README.md", "\n".join(index) + "\n")
    if args.assignment:  # so that `pylab check` here needs no --assignment (rewritten: never through a link)
        try:
            fd = os.open(target / POINTER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with open(fd, "w", encoding="utf-8") as f:
                f.write(str(found.folder) + "\n")
        except OSError as e:
            done = f" (written: {', '.join(written)})" if written else ""
            raise UsageError(f"cannot write {target / POINTER}: {e.strerror or e}{done}") from None
    if args.json:
        emit_json({"dir": str(target), "assignment": found.title, "exercises": found.names,
                   "written": written, "kept": kept})
        return EXIT_OK
    listed = "" if "README.md" in kept else " (README.md lists them)"
    print(f"wrote the starter files for {len(found.exercises)} exercises to {target}/{listed}")
    if kept:
        print(f"kept your existing files: {', '.join(kept)}")
    return EXIT_OK


# -- check (students) ------------------------------------------------------------------
def _split_dir(names: list[str]) -> tuple[str, list[str]]:
    """`check [DIR] [EXERCISE...]`: the first word is DIR when it is a folder (or a path)."""
    if names and (Path(names[0]).is_dir() or "/" in names[0]):
        return names[0], names[1:]
    return ".", names


@_one_line_os_errors
def check(args) -> int:
    limits = limits_from_env()
    where, names = _split_dir(args.names)
    folder = Path(where)
    if not folder.is_dir():
        raise UsageError(f"no such directory: {folder}")
    _readable(folder, "your folder")
    found, exercises = _exercises(args, names, work=folder)
    tests = _tests_dir(args, found)  # an instructor checking their own assignment: its visible pytest checks too
    report = grade_submission(folder, exercises, limits, visible_only=True, extra_tests=tests)
    if report.env_error:  # the machine, not the work: one line, no check shown as failed that never ran
        raise UsageError(reporters.safe.text(report.env_error))
    later = sum(c.visibility != "visible" for e in exercises for c in e.checks)
    code = settle(EXIT_OK if all(r.passed for r in report.results) else EXIT_FAILED)
    if args.json:
        emit_json({**reporters.to_json(report, visible_only=True), "checks_when_graded": later})
    else:
        if report.containment not in ("namespaces", None):
            print(f"pylab: your own work ran without the grading sandbox (containment: {report.containment}): "
                  "a separate uid where pylab runs as root, hard limits; 'pylab grade' uses the sandbox")
        print(reporters.student_view(report))
        if later:
            print(f"{later} more check{'s' if later != 1 else ''} run when your work is graded.")
    return code


# -- grade (CI) ---------------------------------------------------------------------------
def _is_batch(folder: Path) -> bool:
    """A folder of submissions: no C file of its own, and sub-folders (one per student),
    at least one of which holds C files."""
    if any(folder.glob("*.c")):
        return False
    return any(p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.c")) for p in folder.iterdir())


def _status(report: Report) -> int:
    if report.env_error:
        return EXIT_USAGE
    return EXIT_OK if report.full_marks else EXIT_FAILED


def _tests_dir(args, found) -> Path | None:
    """Instructor pytest files: --tests DIR, else the assignment's own tests/ folder."""
    if getattr(args, "tests", None):  # (check has no --tests)
        tests = Path(args.tests)
        if not tests.is_dir():
            raise UsageError(f"--tests: no such directory: {args.tests}")
        return tests.resolve()
    own = found.folder / "tests"
    return own if getattr(args, "assignment", None) and own.is_dir() else None


def _submissions(folder: Path, part) -> tuple[list[Path], list[Path]]:
    """A batch's submission folders: all of them, and those this run grades (its shard)."""
    every = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return every, (shard.take(every, part) if part else every)


def _place(value: str, folder: bool) -> Path:
    """Where an output option writes, its links resolved: a folder itself; a file in its
    folder (the file is replaced, never followed, unless written in place)."""
    full = Path(os.path.abspath(value))
    return Path(os.path.realpath(full)) if folder else Path(os.path.realpath(full.parent)) / full.name


def _same_file_key(value: str, folder: bool):
    """What tells two reports' paths apart: the file a device path leads to (its device
    and inode: /dev/stdout and /proc/self/fd/1 are one), None for a character device
    (two reports may both go to /dev/null), else the path with its folder's links resolved."""
    if not folder and written_in_place(value):
        try:
            st = os.stat(value)
        except OSError:
            return _place(value, folder)  # (the pre-check above has said what is wrong with it)
        return None if stat.S_ISCHR(st.st_mode) else (st.st_dev, st.st_ino)
    return _place(value, folder)


def _check_outputs(args, batch: bool, subs: list[Path] = ()) -> None:
    """Every file or folder grade is to write, checked before any grading: a directory
    given for a file, a file given for a folder, a parent that is a file, a link to
    nothing or cannot be written in, the same file for two reports, one report's path
    inside another's file, and (for a batch) a report file that is a folder or
    whose name is too long. A usage error now, not a traceback nor a lost report after
    the work (what cannot be told beforehand is reported, one line, when written)."""
    given = {flag: getattr(args, flag, None) for flag in OUTPUT_FLAGS}
    if batch:
        given["results"] = given["results"] or BATCH_DEFAULT_OUT
    given = {flag: value for flag, value in given.items() if value}
    folders = {flag for flag in given if batch and flag in ("results", "junit")}
    seen: dict[Path, str] = {}
    for flag, value in given.items():
        folder = flag in folders
        why = output_problem(value, directory=folder)
        if why and folder and why == "exists and is not a directory":
            why = "exists and is not a directory: for a folder of submissions this must be a directory"
        if why:
            raise UsageError(f"--{flag} {value}: {why}")
        key = _same_file_key(value, folder)
        if key is not None and key in seen and not folder:
            raise UsageError(f"--{flag} {value}: the same file as --{seen[key]}; give each report its own file")
        seen[key] = flag
    # what each writes: a file, or (a batch's folder) the files in it
    inside = {"results": ["summary.csv", *([shard.MANIFEST] if args.shard else []), *(f"{s.name}.json" for s in subs)],
              "junit": [f"{s.name}.xml" for s in subs]}
    places = {flag: _place(value, flag in folders) for flag, value in given.items()}
    for outer, top in places.items():
        for flag, below in places.items():
            if flag == outer or top not in below.parents:
                continue
            if outer not in folders:  # making the other's folder would fail on this file, or this on that folder
                raise UsageError(f"--{outer} {given[outer]}: the folder --{flag} {given[flag]} is written in; "
                                 "give each report a path of its own")
            first = below.relative_to(top).parts[0]
            if first in inside[outer]:
                raise UsageError(f"--{flag} {given[flag]}: --{outer} {given[outer]} writes the file "
                                 f"{Path(given[outer]) / first}; give this one a folder of its own")
    for flag in folders:
        for name in inside[flag]:
            path = Path(given[flag]) / name
            if len(os.fsencode(name)) > NAME_MAX:
                raise UsageError(f"--{flag} {given[flag]}: the file {name[:24]}... would have a name longer than "
                                 f"{NAME_MAX} bytes (rename the submission folder)")
            if path.is_dir() and not path.is_symlink():  # (a link there is replaced)
                raise UsageError(f"--{flag} {given[flag]}: {path} is a directory, where the file {name} "
                                 "is to be written")


@_one_line_os_errors
def grade(args) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise UsageError(f"no such directory: {folder}")
    _readable(folder, "the submission folder")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    limits = limits_from_env()
    part = shard.parse(args.shard) if args.shard else None
    found, exercises = _exercises(args, args.exercises)
    tests = _tests_dir(args, found)
    batch = _is_batch(folder)
    if batch:
        for flag in ("classroom", "prairielearn"):
            if getattr(args, flag):
                raise UsageError(f"--{flag} is for one submission; a folder of submissions gets --results DIR")
    elif part:
        raise UsageError(f"--shard: {folder} is one submission; --shard splits a folder of submissions")
    _check_outputs(args, batch, _submissions(folder, part)[1] if batch else [])
    containment = getattr(args, "containment", None) or "namespaces"
    if containment == "namespaces":
        why = namespaces_problem()  # root probes as a pool uid it leases, as grading runs bwrap
        if why:
            message = (f"cannot grade untrusted code here: {why}; '--containment uid' grades with a "
                       "separate uid, hard limits and no link following instead (recorded in the results)")
            if not batch:  # a course's CI still gets a zero result that says why (this run's, over any older)
                message += _failed_note(_write(Report(str(folder), env_error=message), args))
            raise UsageError(message)
    args.containment = containment
    if batch:
        return _grade_batch(folder, args, limits, exercises, tests, part)
    # Written once the grade is made, and only then: an interrupted grade (Ctrl-C, a
    # KeyboardInterrupt, which is no Exception) writes nothing and leaves any results file
    # there as it was. grade_submission reports its own failures in the report; this
    # guards the grader's code around it.
    try:
        report = grade_submission(folder, exercises, limits, extra_tests=tests, containment=args.containment)
    except Exception as e:
        report = Report(str(folder), env_error=f"the grader hit an error: {type(e).__name__}: {e}")
    # a report that hit an environment error is written too: a course's CI must read this
    # run's result (a zero that says why), never an older file, nor one a student committed
    failed = _write(report, args)
    code = settle(EXIT_USAGE if failed else _status(report))  # (a reader gone mid-table: still this)
    if args.json:
        emit_json(reporters.to_json(report))
    else:
        print(reporters.table(report))  # shown whatever could not be written
    if report.env_error:  # the report says it too; this is the one line a CI log shows
        raise UsageError(reporters.safe.text(report.env_error) + _failed_note(failed))
    if failed:
        raise UsageError(f"the grade is made, but {_failed_list(failed)}")
    return code


def _write(report: Report, args, results=None, junit=None) -> list[str]:
    """Write the results files asked for, each whatever became of the others. Returns
    'FILE: reason' for each that could not be written."""
    results = results if results is not None else args.results
    junit = junit if junit is not None else args.junit
    files = []
    if results:
        files.append((results, lambda: reporters.dumps(reporters.gradescope(report, markdown=not args.text))))
    if junit:
        files.append((junit, lambda: reporters.junit(report)))
    if getattr(args, "classroom", None):
        files.append((args.classroom, lambda: reporters.dumps(reporters.classroom(report))))
    if getattr(args, "prairielearn", None):
        files.append((args.prairielearn, lambda: reporters.dumps(reporters.prairielearn(report))))
    failed = []
    for path, render in files:
        try:
            reporters.write_atomic(path, render())
        except OSError as e:
            failed.append(f"{path}: {e.strerror or e}")
    return failed


def _failed_list(failed: list[str]) -> str:
    shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
    return f"could not write {shown}"


def _failed_note(failed: list[str]) -> str:
    return f" ({_failed_list(failed)})" if failed else ""


class Progress:
    """A bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.lock = threading.Lock()

    def step(self, name: str, report: Report) -> None:
        with self.lock:
            self.done += 1
            what = f"{name}: {report.score:g}/{report.max_score:g}" + (" (error)" if report.env_error else "")
            what = reporters.safe.text(what)
            if self.tty:
                width = 30
                fill = width * self.done // self.total
                self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} {what[:40]:<40}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"graded {self.done}/{self.total}: {what}\n")
            self.stream.flush()


def _grade_batch(folder: Path, args, limits: Limits, exercises, tests, part) -> int:
    every, subs = _submissions(folder, part)
    out = Path(args.results or BATCH_DEFAULT_OUT)  # both checked by _check_outputs
    junit_dir = Path(args.junit) if args.junit else None
    progress = Progress(max(len(subs), 1))
    reports: dict[str, Report] = {}
    failed: list[str] = []  # files that could not be written: said at the end, the batch goes on
    stopped = threading.Event()  # pylab was interrupted: a grade that ends now is not written

    def one(sub: Path) -> Report:
        report = Report(str(sub))
        try:
            report = grade_submission(sub, exercises, limits, extra_tests=tests,
                                      containment=getattr(args, "containment", None))
        except Exception as e:  # never lose the batch to one submission
            report.env_error = f"the grader hit an error: {type(e).__name__}: {e}"
        if not stopped.is_set():  # (a grade cut short by the stop would be a wrong one)
            failed.extend(_write(report, args, out / f"{sub.name}.json",
                                 junit_dir / f"{sub.name}.xml" if junit_dir else ""))
        return report

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(one, sub): sub.name for sub in subs}
        try:
            for fut in as_completed(futures):
                name = futures[fut]
                reports[name] = fut.result()
                progress.step(name, reports[name])
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the submissions not started are not graded,
            stopped.set()           # and those running write nothing
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    ordered = [(s.name, reports[s.name]) for s in subs]
    try:
        reporters.write_atomic(out / "summary.csv", reporters.csv_summary(ordered))
    except OSError as e:
        failed.append(f"{out / 'summary.csv'}: {e.strerror or e}")
    if part:
        try:
            shard.write_manifest(out, part, [s.name for s in every], ordered)
        except OSError as e:
            failed.append(f"{out / shard.MANIFEST}: {e.strerror or e}")
    code = settle(EXIT_USAGE if failed or any(r.env_error for _, r in ordered) else
                  EXIT_OK if all(r.full_marks for _, r in ordered) else EXIT_FAILED)
    if args.json:
        emit_json({"results": str(out), "shard": args.shard,
                   "submissions": [{"submission": n, "score": r.score, "max_score": r.max_score,
                                    "env_error": reporters.safe.text(r.env_error) if r.env_error else None}
                                   for n, r in ordered]})
    else:
        for name, rep in ordered:
            print(reporters.safe.text(f"{name:<24} {rep.score:g}/{rep.max_score:g}"
                                      + (f"  ({rep.env_error})" if rep.env_error else "")))
        what = f"shard {args.shard}: " if part else ""
        print(f"{what}{len(ordered)} submissions graded; results in {out}/ (summary.csv and one NAME.json each)")
    if failed:
        raise UsageError(f"{len(ordered)} submissions graded, but {_failed_list(failed)}")
    return code


# -- instructors: scaffold, export, merge, verify ----------------------------------------
@_one_line_os_errors
def new_exercise(args) -> int:
    made = scaffold.new_exercise(Path(args.dir), args.source)
    if args.json:
        emit_json({"exercise": str(made.folder), "files": made.files, "assignment": made.manifest})
        return EXIT_OK
    print(f"wrote exercise {made.folder.name} in {made.folder}/: {', '.join(made.files)}")
    if made.manifest:
        print(f"listed it in {made.manifest}")
    print(f"next: edit statement.md, reference.c and exercise.toml, then "
          f"'pylab assignment verify {made.folder.parent}'")
    return EXIT_OK


@_one_line_os_errors
def assignment(args) -> int:
    if args.action == "export-student":
        found = assignments.load(args.assignment_dir)
        written = export.student_bundle(found, Path(args.out))
        if args.json:
            emit_json({"bundle": str(args.out), "files": written})
        else:
            print(f"wrote the student bundle of {found.title} to {args.out}/ ({len(written)} files: statements, "
                  "starters, visible checks; no reference, hidden check or instructor test)")
        return EXIT_OK
    if args.action == "merge":
        merged = shard.merge([Path(d) for d in args.shards], Path(args.out))
        if args.json:
            emit_json({"results": str(args.out), "submissions": len(merged)})
        else:
            print(f"merged {len(args.shards)} shards: {len(merged)} submissions in {args.out}/ (summary.csv)")
        return EXIT_OK
    if args.action == "verify":
        return _verify(args)
    raise UsageError(f"unknown assignment action {args.action!r}")


# A hint the sandbox gives `pylab grade`, "(--containment=uid grades with ...)": verify has
# no --containment (it grades the reference and the starter in the sandbox, as grading does).
GRADE_ONLY_HINT = re.compile(r"\s*\([^()]*--containment[^()]*\)")


def _hints_for_verify(message: str) -> str:
    """message with the hints to grade's options taken out and one verify can act on in
    their place: every hint a command prints names only what that command accepts."""
    mine = GRADE_ONLY_HINT.sub("", message)
    return mine if mine == message else f"{mine} ('pylab doctor' says what this machine lacks)"


def _verify(args) -> int:
    """Each exercise's reference must get full marks and its starter must not."""
    limits = limits_from_env()
    found = assignments.load(args.assignment_dir)
    rows, ok = [], True
    for ex in found.select(args.exercises):
        ref = ex.reference_source()
        row = {"exercise": ex.name, "reference": None, "starter": None, "max_score": ex.max_score, "problems": []}
        with tempfile.TemporaryDirectory(prefix="pylab-verify-") as tmp:
            for kind, text in (("reference", ref.read_text() if ref else None), ("starter", ex.starter)):
                if text is None:
                    row["problems"].append("no reference solution (reference.c or lesson = NAME)")
                    continue
                sub = Path(tmp) / kind
                sub.mkdir()
                (sub / ex.source).write_text(text)
                report = grade_submission(sub, [ex], limits)
                if report.env_error:  # the machine, not the exercise: nothing verified, exit 2
                    raise UsageError(f"cannot verify {ex.name}: {_hints_for_verify(reporters.safe.text(report.env_error))}")
                row[kind] = report.score
                if kind == "reference" and not report.full_marks:
                    row["problems"] += [f"reference fails {r.name}: {reporters.text_output(r)}"
                                        for r in report.results if not r.passed]
                if kind == "starter" and report.max_score and report.score >= report.max_score:
                    row["problems"].append("the starter gets full marks: its checks do not test the exercise")
        ok = ok and not row["problems"]
        rows.append(row)
    code = settle(EXIT_OK if ok else EXIT_FAILED)
    if args.json:
        emit_json({"assignment": found.title, "ok": ok, "exercises": rows})
    else:
        for row in rows:
            mark = "ok" if not row["problems"] else "PROBLEM"
            print(f"{mark:<8} {row['exercise']}: reference {row['reference']}/{row['max_score']:g}, "
                  f"starter {row['starter']}/{row['max_score']:g}")
            for p in row["problems"]:
                print("         " + reporters.safe.text(p).replace("\n", "\n         "))
    return code
