"""Reports of a graded submission: the terminal table, what a student reads from
`pylab check`, Gradescope's results.json, JUnit XML, GitHub Classroom's and
PrairieLearn's results, and a CSV for a batch (one column per check, then totals).

Only checks whose visibility is "visible" are ever shown with their output where a
student can see it (the terminal, JUnit, Classroom, PrairieLearn, results.json's
top-level output); the others are counted ("3 hidden checks not shown"), and where a
format needs every check for its points (Classroom, PrairieLearn) they appear with
their points only. Gradescope's results.json carries every check with its visibility:
Gradescope itself hides them. Every text that came from a program passes through
pylab.grading.safe first, so no report can be made ill-formed or carry escapes."""
from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

from pylab.grading import safe
from pylab.grading.files import write_atomic  # noqa: F401 (where callers have always found it)
from pylab.grading.grader import CheckResult, Report


def _fmt(x: float) -> str:
    return f"{x:g}"


def shown(report: Report):
    return [r for r in report.results if r.visibility == "visible"]


def not_shown_note(report: Report) -> str:
    n = len(report.results) - len(shown(report))
    return f"{n} hidden check{'s' if n != 1 else ''} not shown" if n else ""


def status_of(r: CheckResult) -> str:
    return "ok" if r.passed else ("ERROR" if r.error else ("PART" if r.score > 0 else "FAIL"))


def feedback(r: CheckResult) -> list[tuple[str, str]]:
    """The three parts of a failed check's feedback, made safe: [(label, text)]."""
    if r.passed:
        return []
    parts = [("expected", safe.text(r.expected)), ("observed", safe.text(r.observed))]
    if r.hint:
        parts.append(("hint", safe.text(r.hint)))
    return parts


def text_output(r: CheckResult) -> str:
    if r.passed:
        return "passed"
    return "\n".join(f"{label}: {text}" for label, text in feedback(r))


def markdown_output(r: CheckResult) -> str:
    """Feedback as Markdown (Gradescope's output_format "md"): program output in a fence."""
    if r.passed:
        return "passed"
    out = []
    for label, text in feedback(r):
        if "\n" in text or label == "observed":
            fence = "```"
            while fence in text:
                fence += "`"
            out.append(f"**{label}:**\n\n{fence}\n{text}\n{fence}")
        else:
            out.append(f"**{label}:** {text}")
    return "\n\n".join(out)


# -- terminal -----------------------------------------------------------------------
def table(report: Report) -> str:
    """The grade table: one row per visible check, the total, the hidden count."""
    rows = [(r.number, safe.text(r.exercise), safe.text(r.title), f"{_fmt(r.score)}/{_fmt(r.max_score)}",
             status_of(r)) for r in shown(report)]
    head = ("#", "exercise", "check", "score", "")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    total = f"total {_fmt(report.score)}/{_fmt(report.max_score)}"
    note = not_shown_note(report)
    lines.append(total + (f" ({note}; their points are in the total)" if note else ""))
    if report.env_error:
        lines.append(f"grading incomplete: {safe.text(report.env_error)}")
    for r in shown(report):
        if not r.passed:
            lines += ["", f"{r.number} {safe.text(r.name)}:", *("  " + ln for ln in text_output(r).splitlines())]
    return "\n".join(lines)


def student_view(report: Report) -> str:
    """For `pylab check`: each visible check, what was expected and observed, a hint."""
    out = []
    for r in shown(report):
        mark = "PASS" if r.passed else ("PART" if r.score > 0 else "FAIL")
        out.append(f"[{mark}] {safe.text(r.name)} ({_fmt(r.score)}/{_fmt(r.max_score)})")
        if not r.passed:
            out += ["    " + ln for ln in text_output(r).splitlines()]
    passed = sum(r.passed for r in shown(report))
    out.append(f"\n{passed}/{len(shown(report))} visible checks pass.")
    if report.env_error:
        out.append(f"grading incomplete: {safe.text(report.env_error)}")
    return "\n".join(out)


def to_json(report: Report, visible_only: bool = False) -> dict:
    """`--json`: the report with every text made safe (visible checks only for a student)."""
    doc = report.to_dict()
    doc["results"] = [{k: safe.text(v) if isinstance(v, str) else v for k, v in r.items()}
                      for r in doc["results"] if not visible_only or r["visibility"] == "visible"]
    doc["env_error"] = safe.text(doc["env_error"]) if doc["env_error"] else None
    doc["full_marks"] = report.full_marks
    if visible_only:
        doc["not_shown"] = not_shown_note(report)
    return doc


# -- Gradescope -----------------------------------------------------------------------
def gradescope(report: Report, markdown: bool = True) -> dict:
    """results.json per Gradescope's autograder specification; failures in Markdown
    (output_format "md") unless markdown=False (plain text)."""
    render = markdown_output if markdown else text_output
    tests = [{
        "name": safe.text(r.name),
        "number": r.number,
        "score": float(r.score),
        "max_score": float(r.max_score),
        "status": "passed" if r.passed else "failed",
        "output": render(r),
        "visibility": r.visibility,
    } for r in report.results]
    passed = sum(r.passed for r in shown(report))
    summary = [f"{passed} of {len(shown(report))} visible checks passed."]
    if not_shown_note(report):
        summary.append(not_shown_note(report) + ".")
    if report.env_error:
        summary.append(f"Grading incomplete: {safe.text(report.env_error)}")
    if report.containment and report.containment != "namespaces":
        summary.append(f"Graded without the namespace sandbox (containment: {report.containment}).")
    doc = {"score": float(report.score), "execution_time": round(report.execution_time, 3),
           "output": " ".join(summary), "tests": tests,
           # Gradescope keeps unknown top-level keys; the containment the grade ran under
           "extra_data": {"containment": report.containment}}
    if markdown:
        doc["output_format"] = "md"
    return doc


# -- JUnit ------------------------------------------------------------------------------
def junit(report: Report) -> str:
    """JUnit XML (GitHub Actions, GitLab): one testsuite per exercise, visible checks only.
    Well-formed whatever the programs printed."""
    root = ET.Element("testsuites", name="pylab", tests="0", failures="0", time=f"{report.execution_time:.3f}")
    suites: dict[str, ET.Element] = {}
    for r in shown(report):
        suite = suites.get(r.exercise)
        if suite is None:
            suite = suites[r.exercise] = ET.SubElement(root, "testsuite", name=safe.text(r.exercise), tests="0",
                                                       failures="0")
        case = ET.SubElement(suite, "testcase", classname=f"pylab.{safe.text(r.exercise)}", name=safe.text(r.title),
                             time=f"{r.duration:.3f}")
        suite.set("tests", str(int(suite.get("tests")) + 1))
        if not r.passed:
            suite.set("failures", str(int(suite.get("failures")) + 1))
            first = safe.text(r.observed).splitlines()[0] if r.observed else "failed"
            fail = ET.SubElement(case, "failure", message=first)
            fail.text = text_output(r)
    root.set("tests", str(len(shown(report))))
    root.set("failures", str(sum(not r.passed for r in shown(report))))
    props = ET.SubElement(ET.SubElement(root, "testsuite", name="pylab-score", tests="0"), "properties")
    for name, value in (("score", report.score), ("max_score", report.max_score),
                        ("not_shown", not_shown_note(report) or "none")):
        ET.SubElement(props, "property", name=name, value=str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- GitHub Classroom -------------------------------------------------------------------
def classroom(report: Report) -> dict:
    """What GitHub Classroom's autograding reporter reads (base64 of this JSON in
    <RUNNER>_RESULTS): every check with its points; a hidden check's name and output
    are not published, only its points."""
    tests, hidden = [], 0
    for r in report.results:
        status = "pass" if r.passed else ("error" if r.error else "fail")
        if r.visibility == "visible":
            tests.append({"name": safe.text(r.name), "status": status, "score": float(r.score),
                          "message": "" if r.passed else text_output(r), "execution_time": f"{r.duration:.2f}s"})
        else:
            hidden += 1
            tests.append({"name": f"hidden check {hidden}", "status": status, "score": float(r.score),
                          "message": "", "execution_time": ""})
    overall = "error" if report.env_error else ("pass" if report.full_marks else "fail")
    return {"version": 1, "status": overall, "max_score": float(report.max_score), "tests": tests}


# -- PrairieLearn -----------------------------------------------------------------------
def prairielearn(report: Report) -> dict:
    """PrairieLearn's external grader results.json: score as a fraction, one test per
    check; hidden checks count, without their output."""
    tests = []
    for r in report.results:
        visible = r.visibility == "visible"
        tests.append({"name": safe.text(r.name) if visible else "hidden check", "description": "",
                      "points": float(r.score), "max_points": float(r.max_score),
                      "message": ("" if r.passed else safe.text(r.observed).splitlines()[0] if r.observed else "failed")
                      if visible else "", "output": text_output(r) if visible and not r.passed else ""})
    message = " ".join(filter(None, [f"{sum(r.passed for r in shown(report))} of {len(shown(report))} visible "
                                     "checks passed.", not_shown_note(report),
                                     safe.text(report.env_error or "")]))
    return {"gradable": report.env_error is None,
            "score": round(report.score / report.max_score, 6) if report.max_score else 0.0,
            "message": message, "tests": tests}


# -- batch ---------------------------------------------------------------------------
CSV_FIELDS = ("submission", "score", "max_score", "percent", "checks_passed", "checks", "error")


def check_column(r: CheckResult) -> str:
    return f"{r.exercise}/{r.check}"


def csv_summary(reports: list[tuple[str, Report]]) -> str:
    """One row per submission: its totals, then one column per check (its score), in
    the order checks were first seen; an LMS imports it."""
    columns: dict[str, None] = {}
    for _, rep in reports:
        for r in rep.results:
            columns.setdefault(check_column(r))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*CSV_FIELDS, *columns])
    for name, rep in reports:
        pct = 100.0 * rep.score / rep.max_score if rep.max_score else 0.0
        scores = {check_column(r): _fmt(r.score) for r in rep.results}
        w.writerow([safe.text(name), _fmt(rep.score), _fmt(rep.max_score), f"{pct:.1f}",
                    sum(r.passed for r in rep.results), len(rep.results), safe.text(rep.env_error or ""),
                    *(scores.get(c, "") for c in columns)])
    return buf.getvalue()


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
