"""An assignment is a folder of exercise folders with an assignment.toml, anywhere on disk.

    ASSIGNMENT/
      assignment.toml      title, exercises in order, points, visibility, time limits
      EXERCISE/...         one folder per exercise (pylab.grading.exercise; docs/assignments.md)

Loading is explicit: each exercise named in assignment.toml is read from its folder and
its checks.py / hidden.py are executed from their paths. Anything wrong — a missing
folder, a bad key, a check file that does not import — raises AssignmentError naming
the file and the reason: a broken exercise never disappears quietly.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import sys
import threading
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.grading.checks import CaseError, data_check
from pylab.grading.exercise import MARK, VISIBILITIES, Exercise, make_check

MANIFEST = "assignment.toml"
EXERCISE_FILE = "exercise.toml"
VISIBLE_CHECKS, HIDDEN_CHECKS = "checks.py", "hidden.py"
BUILTIN = Path(__file__).resolve().parent / "exercises"  # the lab's practice assignment
ASSIGNMENT_KEYS = {"title", "due", "time_limit", "exercise"}
ENTRY_KEYS = {"name", "points", "visibility", "time_limit"}
EXERCISE_KEYS = {"summary", "source", "reference", "lesson", "time_limit", "check"}


class AssignmentError(UsageError):
    """An assignment or exercise folder that cannot be used as it is (one line: file and reason)."""


@dataclass
class Assignment:
    folder: Path
    title: str
    exercises: list[Exercise]
    due: str | None = None

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.exercises]

    def find(self, name: str) -> Exercise:
        for e in self.exercises:
            if e.name == name:
                return e
        raise AssignmentError(f"no exercise {name!r} in {self.folder} (it has: {', '.join(self.names)})")

    def select(self, names) -> list[Exercise]:
        """The exercises named (in the assignment's order), or all of them for none."""
        if not names:
            return list(self.exercises)
        wanted = [self.find(n).name for n in names]
        return [e for e in self.exercises if e.name in wanted]

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)


def _toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise AssignmentError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise AssignmentError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise AssignmentError(f"{path}: cannot read it: {e.strerror}") from None


def _known_keys(doc: dict, known, where) -> None:
    """A misspelt key fails loudly instead of being ignored."""
    unknown = set(doc) - set(known)
    if unknown:
        raise AssignmentError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(known))})")


def _seconds(value, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise AssignmentError(f"{where}: time_limit must be a number of seconds above 0, not {value!r}")
    return float(value)


def load(folder) -> Assignment:
    """The assignment in `folder` (a folder holding assignment.toml, or the file itself)."""
    folder = Path(folder).expanduser()
    if folder.name == MANIFEST and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise AssignmentError(f"assignment {folder}: no such directory")
    folder = folder.resolve()
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise AssignmentError(f"{folder} is not an assignment: it has no {MANIFEST} (see docs/assignments.md)")
    doc = _toml(manifest)
    _known_keys(doc, ASSIGNMENT_KEYS, manifest)
    entries = doc.get("exercise", [])
    if not isinstance(entries, list) or not entries:
        raise AssignmentError(f"{manifest}: list its exercises as [[exercise]] tables with a name each")
    default_limit = _seconds(doc.get("time_limit"), str(manifest))
    exercises, seen = [], set()
    for i, entry in enumerate(entries, 1):
        where = f"{manifest}: exercise {i}"
        if not isinstance(entry, dict) or "name" not in entry:
            raise AssignmentError(f"{where}: needs a name (its folder, beside {MANIFEST})")
        _known_keys(entry, ENTRY_KEYS, where)
        name = entry["name"]
        if not isinstance(name, str) or "/" in name or name.startswith(".") or name in seen:
            raise AssignmentError(f"{where}: bad or repeated name {name!r}")
        seen.add(name)
        limit = _seconds(entry.get("time_limit"), where) or default_limit
        ex = load_exercise(folder / name, default_time_limit=limit)
        exercises.append(_adjust(ex, entry, where))
    return Assignment(folder, str(doc.get("title", folder.name)), exercises,
                      str(doc["due"]) if "due" in doc else None)


def _adjust(ex: Exercise, entry: dict, where: str) -> Exercise:
    """The assignment's say over an exercise: its total points, and a visibility that
    applies to its visible checks (e.g. after_due_date: results shown once it is due)."""
    checks = ex.checks
    if "visibility" in entry:
        vis = entry["visibility"]
        if vis not in VISIBILITIES:
            raise AssignmentError(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}, not {vis!r}")
        checks = [dataclasses.replace(c, visibility=vis) if c.visibility == "visible" else c for c in checks]
    if "points" in entry:
        total = entry["points"]
        if isinstance(total, bool) or not isinstance(total, (int, float)) or total < 0:
            raise AssignmentError(f"{where}: points must be a number, 0 or more, not {total!r}")
        own = sum(c.points for c in checks)
        if own <= 0:
            raise AssignmentError(f"{where}: its checks have no points to scale to {total:g}")
        checks = [dataclasses.replace(c, points=round(c.points * total / own, 4)) for c in checks]
    ex.checks = checks
    return ex


def load_exercise(folder, default_time_limit: float | None = None) -> Exercise:
    """One exercise folder: exercise.toml (and its data checks), then checks.py, then hidden.py."""
    folder = Path(folder)
    spec_file = folder / EXERCISE_FILE
    if not folder.is_dir():
        raise AssignmentError(f"{folder}: no such exercise folder")
    doc = _toml(spec_file)
    _known_keys(doc, EXERCISE_KEYS, spec_file)
    if not isinstance(doc.get("summary"), str):
        raise AssignmentError(f"{spec_file}: needs a summary (one line: what the exercise shows)")
    for need in ("statement.md", "starter.c"):
        if not (folder / need).is_file():
            raise AssignmentError(f"{folder}: has no {need}")
    if "lesson" in doc and "reference" in doc:
        raise AssignmentError(f"{spec_file}: give reference (a file here) or lesson (one of the lab's), not both")
    reference = f"lesson:{doc['lesson']}" if "lesson" in doc else doc.get("reference")
    limit = _seconds(doc.get("time_limit"), str(spec_file)) or default_time_limit
    checks = []
    for i, spec in enumerate(doc.get("check", []), 1):
        if isinstance(spec, dict) and limit and "time_limit" not in spec:
            spec = {**spec, "time_limit": limit}
        try:
            checks.append(data_check(spec, f"{spec_file}: check {i}"))
        except CaseError as e:
            raise AssignmentError(str(e)) from None
    for file, visible in ((VISIBLE_CHECKS, True), (HIDDEN_CHECKS, False)):
        if (folder / file).exists():
            checks += _python_checks(folder / file, visible, limit)
    names = [c.name for c in checks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AssignmentError(f"{folder}: two checks share the name {repeated[0]!r}")
    return Exercise(folder.resolve(), doc["summary"], reference, checks, source=str(doc.get("source", "")))


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    return f"pylab_checks_{digest}_{path.parent.name}_{path.stem}".replace("-", "_")


def sibling(path, stem: str = "checks"):
    """The module `stem`.py beside `path` (a check file), loaded once: how hidden.py reuses
    the helpers of checks.py without putting the folder on sys.path."""
    return _import(Path(path).resolve().parent / f"{stem}.py")


_IMPORTING = threading.RLock()  # parallel graders load exercises too; hidden.py loads checks.py inside


class _NoBytecodeLoader(importlib.machinery.SourceFileLoader):
    """Loads a checks file without writing __pycache__ beside it: an assignment folder
    (or a student bundle) holds only what its author put there."""

    def set_data(self, path, data, *, _mode=0o666):
        pass


def _import(path: Path):
    with _IMPORTING:
        return _import_locked(path)


def _import_locked(path: Path):
    name = _module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path, loader=_NoBytecodeLoader(name, str(path)))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except AssignmentError:
        del sys.modules[name]
        raise
    except BaseException as e:
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        line = f" (line {frames[-1].lineno})" if frames else ""
        raise AssignmentError(f"{path}: its checks cannot be loaded{line}: {type(e).__name__}: {e}") from None
    return module


def _python_checks(path: Path, visible: bool, default_limit: float | None):
    module = _import(path.resolve())
    found = []
    for fn in list(vars(module).values()):
        spec = getattr(fn, MARK, None)
        if spec is None or getattr(fn, "__module__", None) != module.__name__:
            continue
        if (spec["visibility"] == "visible") != visible:
            where = "checks.py holds visible checks only (students get it)" if visible else \
                "hidden.py holds hidden and after-due-date checks only"
            raise AssignmentError(f"{path}: check {fn.__name__!r} is {spec['visibility']}, but {where}")
        found.append(make_check(fn, **{**spec, "time_limit": spec["time_limit"] or default_limit}))
    if not found:
        raise AssignmentError(f"{path}: defines no check (mark functions with @check from pylab.grading.checks)")
    return found


def builtin() -> Assignment:
    """The lab's own practice assignment (its answers are the lab's lessons)."""
    return load(BUILTIN)
