"""results.json per Gradescope's spec, JUnit, the terminal table, hidden checks kept
hidden, partial credit, and results that survive the grader's own errors."""
import json
import re
import shutil
from xml.etree import ElementTree as ET

import pytest

from pylab.grading import exercises, reporters
from pylab.grading.exercise import Exercise, Fail
from pylab.grading.grader import grade_submission

VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
NUMBER = (int, float)


def validate_gradescope(doc: dict) -> None:
    """Types and values of Gradescope's results.json, as its specification lists them."""
    assert isinstance(doc["score"], NUMBER) and not isinstance(doc["score"], bool)
    assert isinstance(doc["execution_time"], NUMBER) and doc["execution_time"] >= 0
    assert isinstance(doc["output"], str)
    assert isinstance(doc["tests"], list) and doc["tests"]
    assert doc.get("output_format", "text") in {"text", "md", "simple_format", "html", "ansi"}
    for t in doc["tests"]:
        assert set(t) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["number"], str) and re.fullmatch(r"\d+\.\d+", t["number"])
        for key in ("score", "max_score"):
            assert isinstance(t[key], NUMBER) and not isinstance(t[key], bool)
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in {"passed", "failed"}
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] and t["output"] == "passed")
        assert isinstance(t["output"], str)
        assert t["visibility"] in VISIBILITIES
    assert abs(doc["score"] - sum(t["score"] for t in doc["tests"])) < 1e-6
    assert len({t["number"] for t in doc["tests"]}) == len(doc["tests"])


@pytest.fixture
def mixed_report(tmp_path):
    """fork_test right, getpid_test wrong: passes and failures, visible and hidden."""
    shutil.copy(exercises.find("fork_test").reference_source(), tmp_path / "fork_test.c")
    (tmp_path / "getpid_test.c").write_text('#include <stdio.h>\nint main(void){ puts("hello"); return 0; }\n')
    return grade_submission(tmp_path, [exercises.find("getpid_test"), exercises.find("fork_test")])


def test_results_json_validates_against_gradescopes_field_list(mixed_report, tmp_path):
    path = tmp_path / "out" / "results.json"
    reporters.write_atomic(path, reporters.dumps(reporters.gradescope(mixed_report)))
    doc = json.loads(path.read_text())
    validate_gradescope(doc)
    statuses = {t["status"] for t in doc["tests"]}
    assert statuses == {"passed", "failed"}
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "hidden"}
    assert doc["score"] == mixed_report.score == 6.0  # fork_test's 6 points, getpid_test's none


def test_hidden_checks_are_counted_but_never_shown_to_students(mixed_report):
    hidden = [r for r in mixed_report.results if r.visibility != "visible"]
    assert len(hidden) == 2
    doc = reporters.gradescope(mixed_report)
    visible_texts = [doc["output"], reporters.table(mixed_report), reporters.junit(mixed_report),
                     reporters.student_view(mixed_report)]
    for text in visible_texts:
        for r in hidden:
            assert r.title not in text
    assert "2 hidden checks not shown" in doc["output"]
    assert "2 hidden checks not shown" in reporters.table(mixed_report)


def test_junit_has_one_testcase_per_visible_check_and_failures_with_the_reason(mixed_report):
    root = ET.fromstring(reporters.junit(mixed_report))
    cases = root.findall(".//testcase")
    visible = [r for r in mixed_report.results if r.visibility == "visible"]
    assert len(cases) == len(visible) == int(root.get("tests"))
    failures = root.findall(".//testcase/failure")
    assert len(failures) == sum(not r.passed for r in visible) == int(root.get("failures")) == 1
    assert '"The current process ID is {pid}"' in failures[0].text
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert float(props["score"]) == mixed_report.score


def test_a_grader_error_in_one_check_fails_only_that_check_with_the_reason(tmp_path):
    base = exercises.find("getpid_test")
    ex = Exercise(base.module_file, "test double")

    @ex.check("this check's code is broken", points=1)
    def broken(ctx):
        raise RuntimeError("a bug in the check")

    @ex.check("partial credit", points=4)
    def half(ctx):
        return 0.5

    @ex.check("fails on purpose", points=1)
    def failing(ctx):
        raise Fail(expected="x", observed="y", hint="z")

    @ex.check("still runs after the others", points=2)
    def fine(ctx):
        result = ctx.run()
        assert result.exit_code == 0

    shutil.copy(base.reference_source(), tmp_path / base.source)
    report = grade_submission(tmp_path, [ex])
    by = {r.check: r for r in report.results}
    assert by["broken"].error and "RuntimeError: a bug in the check" in by["broken"].observed
    assert by["half"].score == 2.0 and not by["half"].passed
    assert (by["failing"].expected, by["failing"].observed, by["failing"].hint) == ("x", "y", "z")
    assert by["fine"].passed and by["fine"].score == 2.0
    validate_gradescope(reporters.gradescope(report))


def test_write_atomic_replaces_the_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    reporters.write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_csv_summary_has_a_row_per_submission(mixed_report):
    text = reporters.csv_summary([("alice", mixed_report), ("bob", mixed_report)])
    lines = text.strip().splitlines()
    head = lines[0].split(",")
    assert head[:len(reporters.CSV_FIELDS)] == list(reporters.CSV_FIELDS)
    # then one column per check, its score: what an LMS imports
    assert head[len(reporters.CSV_FIELDS):] == [f"{r.exercise}/{r.check}" for r in mixed_report.results]
    assert [ln.split(",")[0] for ln in lines[1:]] == ["alice", "bob"]
    row = lines[1].split(",")
    assert row[1] == "6"
    assert row[len(reporters.CSV_FIELDS):] == [f"{r.score:g}" for r in mixed_report.results]


# -- reports that cannot be injected ------------------------------------------------------
NASTY = ('#include <stdio.h>\n#include <unistd.h>\nint main(void){\n'
         '  static const char out[] = "\\x00\\x01\\x07\\x08\\x0b\\x0c\\x1b[2J\\x1b]0;owned\\x07\\x7f\\x9b<&>\\"\'\\r'
         '\\xff\\xfe\\xed\\xa0\\x80]]>\\n";\n'
         '  (void)!write(1, out, sizeof out - 1); return 0; }\n')


@pytest.fixture
def nasty_report(tmp_path):
    """getpid_test answered by a program that prints every kind of byte a report fears."""
    (tmp_path / "getpid_test.c").write_text(NASTY)
    report = grade_submission(tmp_path, [exercises.find("getpid_test")])
    assert any("\\x1b" in r.observed or "\x1b" in r.observed for r in report.results)
    return report


def test_junit_is_well_formed_whatever_the_program_printed(nasty_report, tmp_path):
    path = tmp_path / "junit.xml"
    reporters.write_atomic(path, reporters.junit(nasty_report))
    root = ET.parse(path).getroot()  # a strict XML 1.0 parser: it raises on any illegal character
    failure = root.find(".//failure")
    assert "\\x1b[2J" in failure.text and "<&>" in failure.text


def test_the_terminal_never_receives_an_escape_or_control_character(nasty_report):
    for text in (reporters.table(nasty_report), reporters.student_view(nasty_report)):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
        assert "\\x1b" in text  # shown, visibly, instead


def test_json_reports_are_valid_utf8_json_with_no_raw_control_characters(nasty_report, tmp_path):
    for doc in (reporters.gradescope(nasty_report), reporters.classroom(nasty_report),
                reporters.prairielearn(nasty_report), reporters.to_json(nasty_report)):
        text = reporters.dumps(doc)
        path = tmp_path / "r.json"
        reporters.write_atomic(path, text)
        json.loads(path.read_bytes().decode("utf-8", errors="strict"))
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", json.dumps(doc, ensure_ascii=False).replace("\n", ""))
        assert "\\u001b" not in text  # escapes were made visible text, not JSON-escaped bytes


def test_gradescope_feedback_is_markdown_with_program_output_fenced(mixed_report):
    doc = reporters.gradescope(mixed_report)
    assert doc["output_format"] == "md"
    failed = next(t for t in doc["tests"] if t["status"] == "failed")
    assert failed["output"].startswith("**expected:**") and "**observed:**\n\n```\n" in failed["output"]
    assert "**hint:**" in failed["output"]
    plain = reporters.gradescope(mixed_report, markdown=False)
    assert "output_format" not in plain and "**" not in json.dumps(plain)


def test_classroom_results_give_points_and_publish_no_hidden_check(mixed_report):
    doc = reporters.classroom(mixed_report)
    assert doc["version"] == 1 and doc["status"] == "fail"
    assert doc["max_score"] == mixed_report.max_score
    assert sum(t["score"] for t in doc["tests"]) == mixed_report.score
    hidden = [r for r in mixed_report.results if r.visibility != "visible"]
    text = json.dumps(doc)
    for r in hidden:
        assert r.title not in text
    assert [t["name"] for t in doc["tests"] if t["name"].startswith("hidden check")] == ["hidden check 1",
                                                                                          "hidden check 2"]
    assert {t["status"] for t in doc["tests"]} <= {"pass", "fail", "error"}


def test_prairielearn_results_score_as_a_fraction_with_one_test_per_check(mixed_report):
    doc = reporters.prairielearn(mixed_report)
    assert doc["gradable"] is True
    assert doc["score"] == pytest.approx(mixed_report.score / mixed_report.max_score)
    assert [t["max_points"] for t in doc["tests"]] == [r.max_score for r in mixed_report.results]
    assert sum(t["points"] for t in doc["tests"]) == mixed_report.score
    for r in mixed_report.results:
        if r.visibility != "visible":
            assert r.title not in json.dumps(doc)


def test_partial_credit_shows_as_part_not_as_a_pass(tmp_path):
    base = exercises.find("getpid_test")
    ex = Exercise(base.folder, "test double")

    @ex.check("half of it", points=2)
    def half(ctx):
        raise Fail(expected="both halves", observed="one half", hint="the other half", credit=0.5)

    shutil.copy(base.reference_source(), tmp_path / base.source)
    report = grade_submission(tmp_path, [ex])
    (r,) = report.results
    assert r.score == 1.0 and not r.passed and r.observed == "one half"
    assert "[PART] getpid_test: half of it (1/2)" in reporters.student_view(report)
