"""The command line's one convention (DESIGN's contract): --json on every command that
reports, one-line usage errors with exit 2, and a demo that cannot honour an option says so."""
from __future__ import annotations

import json

import pytest

from pylab.cli import main as cli
from pylab.cli.demos import DEMOS
from pylab.compare import matrix

REPORTING = ["list", "run", "tour", "compare", "state", "check", "grade", "starter", "bench", "doctor"]


@pytest.mark.parametrize("command", REPORTING)
def test_every_reporting_command_takes_json(command):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert "--json" in sub._option_string_actions, f"pylab {command} has no --json"


def test_compare_json_is_format_json(compare_run, monkeypatch, capsys):
    """--json prints exactly what --format json prints; the rows are the live matrix of
    conftest's compare_run (`pylab compare --format json` in a fresh process)."""
    assert compare_run.returncode == 0, compare_run.stderr
    live = json.loads(compare_run.stdout)["rows"]
    assert {(r["lang"], r["how"], r["mode"]) for r in live} == {
        (w.lang, w.how, t) for w in matrix.WAYS for t in matrix.MODES}
    monkeypatch.setattr(matrix, "matrix", lambda: live)
    printed = {}
    for flags in (["--json"], ["--format", "json"]):
        assert cli.main(["compare", *flags]) == 0
        printed[flags[0]] = capsys.readouterr().out
    assert json.loads(printed["--json"]) == json.loads(printed["--format"]) == json.loads(compare_run.stdout)


def test_a_fork_rows_returncode_names_child_and_parent():
    """On a fork row the status is the child's (its parent's waitpid); the returncode cell
    names both processes, from the parent's real status, so the child's never passes for
    the parent's."""
    fork_ways = [w for w in matrix.WAYS if w.fork and w.lang == "C"]
    assert fork_ways
    rows = matrix.matrix(ways=fork_ways[:1], modes=("pipe",), envs=("unset",))
    row = rows[0]
    assert row["status_of"].startswith("child")
    assert row["parent_returncode"] is not None
    cell = matrix._returncode(row)
    assert cell == f"child {row['returncode']}, parent {row['parent_returncode']}"
    assert row["returncode"] != row["parent_returncode"], "the lesson's child ends with its own code"


@pytest.mark.parametrize("option", [["--mode", "file"], ["--watch"], ["--stdin", "-"]])
def test_a_demo_refuses_options_it_cannot_honour(option, capsys):
    name = sorted(DEMOS)[0]
    assert cli.main(["run", name, *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot honour" in err[0] and option[0] in err[0], err
