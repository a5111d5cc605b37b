"""Loading an assignment writes nothing into its folder: an instructor's folder, or the
student bundle made from it, holds only what its author put there (also where Python
would write __pycache__, as it does on a student's machine)."""
import sys

from pylab.cli import main as cli
from pylab.grading import assignment as assignments
from pylab.grading import exercises


def test_loading_an_assignment_writes_no_bytecode_beside_its_checks(tmp_path, monkeypatch):
    import shutil
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as without PYTHONDONTWRITEBYTECODE
    course = tmp_path / "course"
    shutil.copytree(exercises.find("zombie").folder.parent, course,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (course / "zombie" / "checks.py").write_text(
        "from pylab.grading.checks import check\n\n\n"
        "@check(\"a check of the course's own\", points=1)\ndef course_check(ctx):\n    pass\n")
    bundle = tmp_path / "bundle"
    assignments.load(course)
    assert cli.main(["assignment", "export-student", str(course), str(bundle)]) == 0
    assert not list(course.rglob("__pycache__")) and not list(bundle.rglob("__pycache__"))
    assert (bundle / "zombie" / "checks.py").is_file()  # the visible checks file was shipped and loaded
