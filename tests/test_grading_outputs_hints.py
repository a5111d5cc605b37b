"""A hint that suggests an option names one the command printing it accepts: the command
line it suggests parses."""
from __future__ import annotations

import re
import shutil

import pytest

from pylab.cli import main as cli
from pylab.core.errors import UsageError
from pylab.grading import exercises

PROBLEM = "user namespaces are not allowed here (a test)"


def _suggested_command_lines(text: str, argv: list[str]) -> list[list[str]]:
    """Each command line a message suggests: a quoted 'pylab ...', as it stands, and an
    option (--name, --name=value, '--name value'), added to the command that printed it."""
    lines = [quoted.split() for quoted in re.findall(r"'pylab ([^']*)'", text)]
    rest = re.sub(r"'pylab [^']*'", "", text)
    for option in re.findall(r"--[a-z][\w-]*(?:=[\w.-]+|\s+[a-z]\w*(?='))?", rest):
        lines.append([*argv, *option.split()])
    return lines


def _parses(argv: list[str]) -> str | None:
    try:
        cli.build_parser().parse_args(argv)
    except UsageError as e:
        return str(e)
    return None


def test_the_reader_finds_a_suggestion_that_does_not_parse():
    assert _suggested_command_lines("x (--containment=uid grades)", ["assignment", "verify", "A"]) == [
        ["assignment", "verify", "A", "--containment=uid"]]
    assert _parses(["assignment", "verify", "A", "--containment=uid"])
    assert _parses(["grade", "D", "--containment", "uid"]) is None


def _no_namespaces(monkeypatch, before_grading: bool):
    """bubblewrap cannot make the namespaces: told by grade's check beforehand, or by the
    sandbox itself when grading starts."""
    monkeypatch.setattr("pylab.grading.bwrap.problem", lambda *a, **kw: PROBLEM)
    if not before_grading:
        monkeypatch.setattr("pylab.cli.grading.namespaces_problem", lambda: None)


@pytest.mark.parametrize("command, before_grading", [
    ("grade", True), ("grade", False), ("verify", False),
])
def test_a_hint_names_only_options_its_command_accepts(command, before_grading, tmp_path, monkeypatch, capsys):
    _no_namespaces(monkeypatch, before_grading)
    ex = exercises.find("getpid_test")
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(ex.reference_source(), sub / ex.source)
    argv = {"grade": ["grade", str(sub), "getpid_test"],
            "verify": ["assignment", "verify", str(ex.folder.parent), "getpid_test"]}[command]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("pylab: error: ") and err.count("\n") == 1 and PROBLEM in err, err
    assert command == "grade" or out == ""  # (grade prints no table either: nothing was graded)
    suggested = _suggested_command_lines(err, argv)
    assert suggested, f"no hint at all: {err}"
    for line in suggested:
        assert _parses(line) is None, (line, _parses(line), err)


def test_new_exercise_suggests_a_verify_command_line_that_parses(tmp_path, capsys):
    assert cli.main(["new-exercise", str(tmp_path / "course" / "mine")]) == 0
    out = capsys.readouterr().out
    suggested = _suggested_command_lines(out, ["new-exercise", str(tmp_path / "course" / "mine")])
    assert suggested and all(_parses(line) is None for line in suggested), (suggested, out)
