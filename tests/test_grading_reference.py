"""The reference solutions get full marks; the unmodified starters get (nearly) none."""
import shutil

import pytest

from pylab.run import toolchain
from pylab.grading import exercises
from pylab.grading.grader import grade_submission

SEED_SIX = ("getpid_test", "fork_test", "exit_test1", "exit2", "_exit1", "zombie")


@pytest.fixture
def reference_submission(tmp_path):
    for ex in exercises.all_exercises():
        shutil.copy(ex.reference_source(), tmp_path / ex.source)
    return tmp_path


def test_the_seeds_six_exercises_are_offered_in_course_order():
    names = [e.name for e in exercises.all_exercises()]
    assert names[:6] == list(SEED_SIX)


def test_every_exercise_has_a_statement_a_starter_and_visible_and_hidden_checks():
    for ex in exercises.all_exercises(include_pending=True):
        assert ex.statement.startswith(f"# {ex.name}"), ex.name
        assert "TODO" in ex.starter, ex.name
        assert ex.checks and ex.max_score > 0, ex.name
        kinds = {c.visibility for c in ex.checks}
        assert "visible" in kinds and "hidden" in kinds, ex.name


def test_pending_exercises_wait_for_their_reference_program():
    ready = {e.name for e in exercises.all_exercises()}
    for ex in exercises.all_exercises(include_pending=True):
        assert (ex.name in ready) == (ex.name in toolchain.programs())


def test_reference_solutions_get_full_marks(reference_submission):
    report = grade_submission(reference_submission)
    failed = [f"{r.name}: {r.output()}" for r in report.results if not r.passed]
    assert not failed, "\n".join(failed)
    assert report.score == report.max_score > 0
    assert report.env_error is None


def test_unmodified_starter_scores_near_zero_without_grader_errors(tmp_path):
    for ex in exercises.all_exercises():
        (tmp_path / ex.source).write_text(ex.starter)
    report = grade_submission(tmp_path)
    assert not [r.name for r in report.results if r.error]
    assert report.env_error is None
    assert report.score <= 0.1 * report.max_score, [(r.name, r.score) for r in report.results if r.score]
    # the starters compile: the failures are about behaviour, not the compiler
    assert not [r for r in report.results if "does not compile" in r.observed]


def test_every_starter_compiles_cleanly_so_students_start_from_a_building_file(tmp_path):
    for ex in exercises.all_exercises(include_pending=True):
        src = tmp_path / ex.source
        src.write_text(ex.starter)
        assert toolchain.build(src).exists(), ex.name
