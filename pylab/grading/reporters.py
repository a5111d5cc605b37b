"""Reports of a graded submission: a terminal table, what a student reads from
`pylab check`, Gradescope's results.json, JUnit XML and a CSV summary for a batch.

Only checks whose visibility is "visible" are ever shown in output a student can
see (the terminal, JUnit, results.json's top-level output); the others are counted
("3 hidden checks not shown"). results.json carries every check with its visibility:
Gradescope itself hides them from students. Files are written atomically."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

from pylab.grading.grader import Report


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write to a temp file beside path, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fmt(x: float) -> str:
    return f"{x:g}"


def shown(report: Report):
    return [r for r in report.results if r.visibility == "visible"]


def not_shown_note(report: Report) -> str:
    n = len(report.results) - len(shown(report))
    return f"{n} hidden check{'s' if n != 1 else ''} not shown" if n else ""


# -- terminal -----------------------------------------------------------------------
def table(report: Report) -> str:
    """The grade table: one row per visible check, the total, the hidden count."""
    rows = [(r.number, r.exercise, r.title, f"{_fmt(r.score)}/{_fmt(r.max_score)}",
             "ok" if r.passed else ("ERROR" if r.error else "FAIL")) for r in shown(report)]
    head = ("#", "exercise", "check", "score", "")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    total = f"total {_fmt(report.score)}/{_fmt(report.max_score)}"
    note = not_shown_note(report)
    lines.append(total + (f" ({note}; their points are in the total)" if note else ""))
    if report.env_error:
        lines.append(f"grading stopped: {report.env_error}")
    failed = [r for r in shown(report) if not r.passed]
    for r in failed:
        lines += ["", f"{r.number} {r.name}:", *("  " + ln for ln in r.output().splitlines())]
    return "\n".join(lines)


def student_view(report: Report) -> str:
    """For `pylab check`: each visible check, what was expected and observed, a hint."""
    out = []
    for r in shown(report):
        mark = "PASS" if r.passed else "FAIL"
        out.append(f"[{mark}] {r.name} ({_fmt(r.score)}/{_fmt(r.max_score)})")
        if not r.passed:
            out += ["    " + ln for ln in r.output().splitlines()]
    passed = sum(r.passed for r in shown(report))
    out.append(f"\n{passed}/{len(shown(report))} visible checks pass.")
    if report.env_error:
        out.append(f"grading stopped: {report.env_error}")
    return "\n".join(out)


# -- Gradescope -----------------------------------------------------------------------
def gradescope(report: Report) -> dict:
    """results.json per Gradescope's autograder specification."""
    tests = [{
        "name": r.name,
        "number": r.number,
        "score": float(r.score),
        "max_score": float(r.max_score),
        "status": "passed" if r.passed else "failed",
        "output": r.output(),
        "visibility": r.visibility,
    } for r in report.results]
    passed = sum(r.passed for r in shown(report))
    summary = [f"{passed} of {len(shown(report))} visible checks passed."]
    if not_shown_note(report):
        summary.append(not_shown_note(report) + ".")
    if report.env_error:
        summary.append(f"Grading stopped early: {report.env_error}")
    return {"score": float(report.score), "execution_time": round(report.execution_time, 3),
            "output": " ".join(summary), "tests": tests}


# -- JUnit ------------------------------------------------------------------------------
def junit(report: Report) -> str:
    """JUnit XML (GitHub Actions, GitLab): one testsuite per exercise, visible checks only."""
    root = ET.Element("testsuites", name="pylab", tests="0", failures="0", time=f"{report.execution_time:.3f}")
    suites: dict[str, ET.Element] = {}
    for r in shown(report):
        suite = suites.get(r.exercise)
        if suite is None:
            suite = suites[r.exercise] = ET.SubElement(root, "testsuite", name=r.exercise, tests="0", failures="0")
        case = ET.SubElement(suite, "testcase", classname=f"pylab.{r.exercise}", name=r.title,
                             time=f"{r.duration:.3f}")
        suite.set("tests", str(int(suite.get("tests")) + 1))
        if not r.passed:
            suite.set("failures", str(int(suite.get("failures")) + 1))
            fail = ET.SubElement(case, "failure", message=r.observed.splitlines()[0] if r.observed else "failed")
            fail.text = r.output()
    root.set("tests", str(len(shown(report))))
    root.set("failures", str(sum(not r.passed for r in shown(report))))
    props = ET.SubElement(ET.SubElement(root, "testsuite", name="pylab-score", tests="0"), "properties")
    for name, value in (("score", report.score), ("max_score", report.max_score),
                        ("not_shown", not_shown_note(report) or "none")):
        ET.SubElement(props, "property", name=name, value=str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- batch ---------------------------------------------------------------------------
CSV_FIELDS = ("submission", "score", "max_score", "percent", "checks_passed", "checks", "error")


def csv_summary(reports: list[tuple[str, Report]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for name, rep in reports:
        pct = 100.0 * rep.score / rep.max_score if rep.max_score else 0.0
        w.writerow([name, _fmt(rep.score), _fmt(rep.max_score), f"{pct:.1f}",
                    sum(r.passed for r in rep.results), len(rep.results), rep.env_error or ""])
    return buf.getvalue()


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
