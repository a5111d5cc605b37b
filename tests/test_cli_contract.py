"""The command line's one convention (DESIGN's contract): --json on every command that
reports, one-line usage errors with exit 2, and a demo that cannot honour an option says so."""
from __future__ import annotations

import json

import pytest

from pylab.cli import main as cli
from pylab.cli import demos
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


def _run_options():
    """Every option of the real `pylab run` (main's parser, whatever module defines it),
    but --help, as (action, a line that gives it a value other than its default)."""
    parser = cli.build_parser()
    run = next(a for a in parser._actions if a.dest == "command").choices["run"]
    found = []
    for action in run._actions:
        if not action.option_strings or action.dest == "help":
            continue
        flag = max(action.option_strings, key=len)
        given = [flag] if action.nargs == 0 else [flag, sorted(action.choices)[-1] if action.choices else "5"]
        assert getattr(run.parse_args(["echo-tcp", *given]), action.dest) != action.default, given
        found.append((action, given))
    return found


@pytest.mark.parametrize("case", [c for c in _run_options() if c[0].dest not in demos.HONOURED],
                         ids=lambda c: c[1][0])
def test_a_demo_refuses_every_run_option_it_does_not_honour(case, pylab_cli):
    """Derived from the parser: an option added to `pylab run` is refused by a demo (or
    the demo is taught it and it joins demos.HONOURED), never silently ignored."""
    action, given = case
    out = pylab_cli("run", "echo-tcp", *given)
    assert out.returncode == 2, out
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot honour" in err[0] and f" {given[0]} " in f"{err[0]} ", err
    assert out.stdout == "", "refused before the demo ran"


def test_the_options_a_demo_honours_are_run_options():
    """HONOURED names only what `pylab run` has: a renamed option cannot stay honoured by mistake."""
    dests = {a.dest for a, _ in _run_options()} | {"name", "args"}
    assert demos.HONOURED <= dests
    refused = {given[0] for a, given in _run_options() if a.dest not in demos.HONOURED}
    assert "json" in demos.HONOURED
    assert {"-O", "--cflags", "--cwd", "--keep", "--explain", "--timeout", "--linger"} <= refused, refused


def test_a_demo_names_every_option_it_refuses_in_one_line(pylab_cli):
    """The reviewer's line: none of it was honoured, and all of it exited 0."""
    out = pylab_cli("run", "echo-tcp", "--cwd", "/nonexistent", "--keep", "-O2", "--timeout", "0.001")
    assert out.returncode == 2 and out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pylab: error: echo-tcp is a Python demo"), err
    assert "cannot honour -O, --cwd, --keep or --timeout" in err[0], err


@pytest.mark.parametrize("given", [["--timeout", "120"], ["--linger", "1"], ["--mode", "tty"]])
def test_a_demo_refuses_an_option_given_with_its_default_value(given, pylab_cli):
    """Given is given: a demo cannot honour `--timeout 120` any more than `--timeout 5`."""
    out = pylab_cli("run", "echo-tcp", *given)
    assert out.returncode == 2 and out.stdout == ""
    assert f"cannot honour {given[0]} " in out.stderr, out.stderr


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_demo_refuses_explain(name, pylab_cli):
    out = pylab_cli("run", name, "--explain")
    assert out.returncode == 2 and "cannot honour --explain" in out.stderr and out.stdout == ""


def test_a_demo_still_takes_its_messages_and_json(pylab_cli):
    out = pylab_cli("run", "echo-tcp", "--json", "--", "abc")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["evidence"]["exchange"] == ["'abc' -> 'ABC'"]
