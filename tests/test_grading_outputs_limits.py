"""PYLAB_GRADE_LIMITS: a count or size so small that every correct submission fails (and
the student is blamed) is a usage error, before anything runs; at the minimums, every
reference solution of the practice assignment still gets full marks."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from pylab.bench import suite
from pylab.cli import grading as cli_grading
from pylab.cli import main as cli
from pylab.grading import assignment, exercises
from pylab.grading.sandbox import Limits

DOCS = Path(__file__).resolve().parent.parent / "docs" / "grading.md"


def _refused_before_running(monkeypatch):
    def never(*a, **kw):
        raise AssertionError("a check ran under limits that should have been refused")
    monkeypatch.setattr("pylab.cli.grading.grade_submission", never)


def test_every_count_and_size_limit_has_a_minimum():
    counts = {f.name for f in dataclasses.fields(Limits)} - set(cli_grading.SECONDS)
    assert set(cli_grading.MINIMUMS) == counts
    defaults = Limits()
    for name, (least, _unit) in cli_grading.MINIMUMS.items():
        assert 1 <= least <= getattr(defaults, name), name  # the defaults themselves are taken


@pytest.mark.parametrize("spec", ["memory=1", "nofile=1", "nofile=2", "nofile=3", "nofile=4", "fsize=1", "nproc=1",
                                  "output=1", "tmp=1", "cpu=0", "wall=2,nproc=8"])
@pytest.mark.parametrize("command", ["check", "grade", "verify"])
def test_a_limit_too_small_for_a_correct_solution_is_a_usage_error(spec, command, tmp_path, monkeypatch, capsys):
    _refused_before_running(monkeypatch)
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", spec)
    sub = tmp_path / "sub"
    sub.mkdir()
    argv = {"check": ["check", str(sub), "getpid_test"], "grade": ["grade", str(sub), "getpid_test"],
            "verify": ["assignment", "verify", str(exercises.find("getpid_test").folder.parent), "getpid_test"]}
    assert cli.main(argv[command]) == 2
    out, err = capsys.readouterr()
    name, value = spec.split(",")[-1].split("=")
    least = cli_grading.MINIMUMS[name][0]
    assert err.startswith("pylab: error: PYLAB_GRADE_LIMITS: ") and err.count("\n") == 1, err
    assert f"{name} must be" in err and f"at least {least}" in err and repr(value) in err, err
    assert out == ""


@pytest.mark.parametrize("name", sorted(cli_grading.MINIMUMS))
def test_one_below_the_minimum_is_refused_and_the_minimum_is_taken(name, monkeypatch):
    least = cli_grading.MINIMUMS[name][0]
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", f"{name}={least - 1}")
    with pytest.raises(cli_grading.UsageError, match=rf"{name} must be .*at least {least}\b.*not '{least - 1}'"):
        cli_grading.limits_from_env()
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", f"{name}={least}")
    assert getattr(cli_grading.limits_from_env(), name) == least


def test_every_reference_solution_gets_full_marks_at_the_minimums(tmp_path, monkeypatch, capsys):
    sub = tmp_path / "sub"
    sub.mkdir()
    for source, reference in suite._references().items():
        shutil.copyfile(reference, sub / source)
    practice = [e for e in assignment.builtin().exercises if e.reference_source() is not None]
    assert {e.source for e in practice} <= {p.name for p in sub.iterdir()}
    spec = ",".join(f"{name}={least}" for name, (least, _unit) in cli_grading.MINIMUMS.items())
    monkeypatch.setenv("PYLAB_GRADE_LIMITS", spec)
    assert cli.main(["grade", str(sub), "--json"]) == 0, capsys.readouterr()
    doc = json.loads(capsys.readouterr().out)
    assert doc["score"] == doc["max_score"] == sum(e.max_score for e in practice), doc


def test_the_docs_give_each_minimum():
    text = " ".join(DOCS.read_text().split())
    paragraph = text[text.index("PYLAB_GRADE_LIMITS="):]
    paragraph = paragraph[:paragraph.index("exit 2")]
    for name in cli_grading.MINIMUMS:
        shown = cli_grading.minimum_text(name)
        assert re.search(rf"`{name}` (at least )?{re.escape(shown)}", paragraph), (name, shown, paragraph)
