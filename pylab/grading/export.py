"""The student bundle: what students may have of an assignment, and nothing else.

For each exercise: statement.md, starter.c, checks.py (visible checks only, by the
loader's rule) and an exercise.toml that keeps the visible data checks only. Never:
the reference (reference.c, `lesson`), hidden.py, hidden or after-due-date checks,
an exercise whose results the assignment shows only after the due date, the
instructor's tests/ folder, or any other file of the instructor's folder. The bundle
is itself an assignment: `pylab check --assignment BUNDLE` runs its visible checks."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.grading import assignment as assignments
from pylab.grading.files import os_error_text, output_problem

SHIPPED = ("statement.md", "starter.c")
EXERCISE_KEYS = ("summary", "source", "time_limit")


def _value(v) -> str:
    """A TOML value for the kinds exercise files use (JSON's strings are TOML's)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _table(d: dict) -> list[str]:
    return [f"{k} = {_value(v)}" for k, v in d.items()]


def student_bundle(found: assignments.Assignment, out: Path) -> list[str]:
    """Write the bundle to `out` (a new or empty folder); returns the files written. An
    `out` that cannot be that folder, or a file that cannot be read or written, is one
    line (a UsageError), never a traceback."""
    why = output_problem(out, directory=True)
    if why:
        raise UsageError(f"{out}: {why}: the bundle goes into a new folder")
    try:
        if out.exists() and any(out.iterdir()):
            raise UsageError(f"{out} is not empty: the bundle goes into a new folder")
        if out.resolve().is_relative_to(found.folder):
            raise UsageError(f"{out} is inside the assignment folder: put the bundle elsewhere")
        return _write_bundle(found, out)
    except OSError as e:
        raise UsageError(f"cannot write the student bundle in {out}: {os_error_text(e)}") from None


def _write_bundle(found: assignments.Assignment, out: Path) -> list[str]:
    manifest = assignments._toml(found.folder / assignments.MANIFEST)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def write(rel: str, text: str):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(rel)

    head = {k: manifest[k] for k in ("title", "due", "time_limit") if k in manifest}
    lines = ["# The student bundle of this assignment: statements, starters, visible checks.", *_table(head)]
    for entry in manifest["exercise"]:
        name = entry["name"]
        folder = found.folder / name
        lines += ["", "[[exercise]]", *_table({k: entry[k] for k in ("name", "time_limit") if k in entry})]
        checks_shown = entry.get("visibility", "visible") == "visible"
        for file in SHIPPED:
            write(f"{name}/{file}", (folder / file).read_text())
        doc = assignments._toml(folder / assignments.EXERCISE_FILE)
        ex_lines = _table({k: doc[k] for k in EXERCISE_KEYS if k in doc})
        for spec in doc.get("check", []) if checks_shown else []:
            if spec.get("visibility", "visible") == "visible":
                ex_lines += ["", "[[check]]", *_table(spec)]
        write(f"{name}/{assignments.EXERCISE_FILE}", "\n".join(ex_lines) + "\n")
        if checks_shown and (folder / assignments.VISIBLE_CHECKS).is_file():
            shutil.copyfile(folder / assignments.VISIBLE_CHECKS, out / name / assignments.VISIBLE_CHECKS)
            written.append(f"{name}/{assignments.VISIBLE_CHECKS}")
    write(assignments.MANIFEST, "\n".join(lines) + "\n")
    assignments.load(out)  # the bundle must itself load: fail here, not on a student's machine
    return written
