"""Every notebook runs top to bottom on a fresh kernel, with the installed pylab, and its
exercise checks accept right answers and reject a wrong one.

Each notebook is executed once (nbclient, a per-cell timeout) with one cell appended:
it calls the notebook's check() with right answers and with a wrong one, and reports
the kernel's Python and pylab, so a kernel that is not this venv's, or a cwd that
shadows the installed package, fails here. The kernel is a child of this process;
nbclient shuts it down and reaps it, and the suite's guard checks nothing is left.
"""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import pylab

if TYPE_CHECKING:
    import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CELL_TIMEOUT = 60  # seconds for any one cell; the whole notebook takes a few
EXPECTED = ["01_processes.ipynb", "02_exit_and_buffering.ipynb", "03_zombies_and_wait.ipynb",
            "04_c_vs_python_exit.ipynb", "05_sockets.ipynb"]

# (right answers, wrong answers) for each notebook's check(); the right ones are the
# facts each lesson teaches, and check() itself compares them with a live run.
ANSWERS = {
    "01_processes.ipynb": ("8, 3, 'supervisor'", "7, 3, 'supervisor'"),
    "02_exit_and_buffering.ipynb": ("'', 2, 'full'", "'output begin\\n', 2, 'full'"),
    "03_zombies_and_wait.ipynb": ("5, 'Z', 'supervisor'", "4, 'Z', 'supervisor'"),
    "04_c_vs_python_exit.ipynb": ("['py-line', 'py-tail'], True, -15", "['py-tail'], True, -15"),
    "05_sockets.ipynb": ("b'ABC', 4, 'EADDRINUSE'", "b'abc', 4, 'EADDRINUSE'"),
}

REPORT = """
import json as _json, sys as _sys, pylab as _pylab
check({right})
try:
    check({wrong})
    _rejected = False
except AssertionError:
    _rejected = True
print("REPORT" + _json.dumps({{"executable": _sys.executable, "pylab": _pylab.__file__,
                              "rejected": _rejected}}))
"""


def notebook_names():
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


_executed: dict[str, nbformat.NotebookNode] = {}


def executed(name: str) -> nbformat.NotebookNode:
    """The notebook after a run on a fresh kernel (once per session), cwd = notebooks/."""
    if name not in _executed:
        import nbformat
        from nbclient import NotebookClient  # (here: ~0.2 s that a worker only collecting this file skips)
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        right, wrong = ANSWERS[name]
        nb.cells.append(nbformat.v4.new_code_cell(REPORT.format(right=right, wrong=wrong)))
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, startup_timeout=60, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
        _executed[name] = nb
    return _executed[name]


def outputs(cell) -> list:
    return cell.get("outputs", [])


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in outputs(cell) if o.output_type == "stream")


def images(nb) -> list[bytes]:
    return [base64.b64decode(o.data["image/png"]) for c in nb.cells if c.cell_type == "code"
            for o in outputs(c) if "data" in o and "image/png" in o.data]


def test_every_topic_has_its_notebook():
    assert notebook_names() == EXPECTED


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_is_stored_without_outputs(name):
    import nbformat
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_ends_with_exercises_checked_by_a_cell(name):
    import nbformat
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "answers" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell holds the student's answers"
    assert "Exercises" in nb.cells[tagged[0] - 1].source
    assert nb.cells[-1].source.rstrip().endswith(")") and "check(" in nb.cells[-1].source


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_runs_top_to_bottom_with_the_installed_pylab(name):
    nb = executed(name)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in outputs(c) if o.output_type == "error"]
    assert not errors
    report = json.loads(stdout_of(nb.cells[-1]).split("REPORT", 1)[1])
    assert report["executable"] == sys.executable, "the kernel must be this environment's Python"
    assert report["pylab"] == pylab.__file__, "the kernel must import the same (installed) pylab"
    assert Path(report["pylab"]).parts[-2:] == ("pylab", "__init__.py"), "not matplotlib's pylab.py"
    # unanswered exercises say so, right answers pass, a wrong one is rejected
    assert stdout_of(nb.cells[-2]).count("not answered yet") == 3
    assert stdout_of(nb.cells[-1]).count("correct") >= 3
    assert report["rejected"] is True


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_shows_its_pictures(name):
    pngs = images(executed(name))
    assert pngs and all(p.startswith(b"\x89PNG") for p in pngs)


@pytest.mark.parametrize("name", ["03_zombies_and_wait.ipynb"])  # (the id puts it with that notebook's tests)
def test_zombie_notebook_draws_the_timeline_alive_zombie_gone(name):
    nb = executed(name)
    cell = next(c for c in nb.cells if "timeline" in c.metadata.get("tags", []))
    # the cell asserts tl.phases(child) == ["alive", "Z", "gone"] before it draws
    assert "assert tl.phases(child) == [\"alive\", \"Z\", \"gone\"]" in cell.source
    assert [o for o in outputs(cell) if "data" in o and "image/png" in o.data]
    assert not [o for o in outputs(cell) if o.output_type == "error"]
