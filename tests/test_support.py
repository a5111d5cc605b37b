"""The tests' own line checks (tests/support.py): on a failure each says what it looked
for and shows every line, numbered, so no test appends `, r.lines` by hand."""
from __future__ import annotations

import pytest

from pylab.run.result import RunResult

from support import assert_line, expect, line_matching, matching

LINES = ["parent 10", "child 11: parent 10", "done"]


def _failure(fn, *args, **kw) -> str:
    with pytest.raises(AssertionError) as e:
        fn(*args, **kw)
    return str(e.value)


def _shows_every_line(text: str) -> bool:
    return all(f"  {i}: {ln!r}" in text for i, ln in enumerate(LINES))


def test_a_missing_line_is_named_and_every_line_shown():
    assert_line(LINES, "done")
    text = _failure(assert_line, LINES, "child 12: parent 10")
    assert "looked for the line 'child 12: parent 10'" in text and _shows_every_line(text)


def test_line_matching_returns_the_match_or_says_which_pattern_found_nothing():
    assert line_matching(LINES, r"child (\d+): parent (\d+)")[1] == "11"
    assert line_matching(LINES, r"parent (\d+)", at=0)[1] == "10"
    text = _failure(line_matching, LINES, r"reaped (\d+)")
    assert "a line matching 'reaped (\\\\d+)'" in text and _shows_every_line(text)
    text = _failure(line_matching, LINES, r"done", at=1)  # the right line, at the wrong place
    assert "line 1 matching 'done'" in text and _shows_every_line(text)
    assert "line 7 matching" in _failure(line_matching, LINES, r".*", at=7)  # past the end: a failure, not IndexError


def test_expect_says_what_it_looked_for_and_takes_a_run_result():
    r = RunResult(argv=["prog"], mode="pipe", pid=10, status=0, stdout="\n".join(LINES).encode() + b"\n",
                  stderr=b"", duration=0.0)
    assert r.lines == LINES
    expect(True, "anything", r)
    text = _failure(expect, len(matching(r, r"child \d+.*")) == 2, "two child lines", r)
    assert text.startswith("looked for two child lines\nthe lines were:\n") and _shows_every_line(text)
    assert "(no lines)" in _failure(expect, False, "a line", [])
