"""Assignments as folders: explicit loading, loud failures, the assignment's say over its
exercises (order, subset, points, visibility, time limits), and data checks."""
import textwrap

import pytest

from pylab.grading import assignment as assignments
from pylab.grading import exercises
from pylab.grading.assignment import AssignmentError
from pylab.grading.checks import CaseError, parse_case
from pylab.grading.grader import grade_submission

REFERENCE = r'''#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t pid = fork();
    if (pid == 0) { printf("child %d\n", (int)getpid()); return 0; }
    waitpid(pid, NULL, 0);
    printf("parent %d: child %d done\n", (int)getpid(), (int)pid);
    return 0;
}
'''
CHECKS = '''
[[check]]
name = "lines"
title = "child, then parent"
points = 3
lines = ["child {child}", "parent {pid}: child {child} done"]
exit_code = 0

[[check]]
name = "hidden_file"
title = "to a file too"
points = 1
visibility = "hidden"
modes = ["file"]
lines = ["child {child}", "parent {pid}: child {child} done"]
'''


def make_exercise(folder, name, checks=CHECKS, extra_files=None):
    ex = folder / name
    ex.mkdir(parents=True)
    (ex / "statement.md").write_text(f"# {name}\n")
    (ex / "starter.c").write_text("int main(void) { /* TODO */ return 0; }\n")
    (ex / "reference.c").write_text(REFERENCE)
    (ex / "exercise.toml").write_text(f'summary = "{name}: a parent waits"\n' + checks)
    for file, text in (extra_files or {}).items():
        (ex / file).write_text(textwrap.dedent(text))
    return ex


def make_assignment(folder, names=("one", "two"), manifest_extra="", entries=None, **kw):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        make_exercise(folder, n, **kw)
    body = "\n".join(entries or [f'[[exercise]]\nname = "{n}"\n' for n in names])
    (folder / "assignment.toml").write_text(f'title = "week 1"\n{manifest_extra}\n{body}')
    return folder


def test_an_assignment_anywhere_on_disk_loads_its_exercises_in_its_order(tmp_path):
    found = assignments.load(make_assignment(tmp_path / "course", names=("zeta", "alpha")))
    assert found.title == "week 1"
    assert found.names == ["zeta", "alpha"]  # the manifest's order, not the folder's
    ex = found.find("alpha")
    assert ex.source == "alpha.c" and ex.reference_source() == tmp_path / "course" / "alpha" / "reference.c"
    assert [(c.name, c.points, c.visibility) for c in ex.checks] == [("lines", 3.0, "visible"),
                                                                     ("hidden_file", 1.0, "hidden")]


def test_a_subset_is_selected_by_name_and_an_unknown_name_is_a_usage_error(tmp_path):
    found = assignments.load(make_assignment(tmp_path / "a", names=("one", "two", "three")))
    assert [e.name for e in found.select(["three", "one"])] == ["one", "three"]
    with pytest.raises(AssignmentError, match="no exercise 'four'.*one, two, three"):
        found.select(["four"])


def test_the_assignment_scales_points_and_delays_visibility(tmp_path):
    entries = ['[[exercise]]\nname = "one"\npoints = 10\n',
               '[[exercise]]\nname = "two"\nvisibility = "after_due_date"\n']
    found = assignments.load(make_assignment(tmp_path / "a", entries=entries))
    one, two = found.exercises
    assert [c.points for c in one.checks] == [7.5, 2.5] and one.max_score == 10
    assert [c.visibility for c in two.checks] == ["after_due_date", "hidden"]  # hidden stays hidden


def test_time_limits_come_from_the_check_the_exercise_or_the_assignment(tmp_path):
    checks = CHECKS.replace('name = "hidden_file"', 'name = "hidden_file"\ntime_limit = 9')
    found = assignments.load(make_assignment(tmp_path / "a", names=("one",), manifest_extra="time_limit = 3",
                                             checks=checks))
    assert [c.time_limit for c in found.exercises[0].checks] == [3.0, 9.0]


@pytest.mark.parametrize("broken, message", [
    ({"checks.py": "import no_such_module_anywhere\n"}, r"checks\.py: its checks cannot be loaded \(line 1\): "
                                                         r"ModuleNotFoundError"),
    ({"checks.py": "def f(:\n"}, r"checks\.py: its checks cannot be loaded.*SyntaxError"),
    ({"checks.py": "from pylab.grading.checks import check\n@check('t', visibility='hidden')\ndef c(ctx): pass\n"},
     r"check 'c' is hidden, but checks\.py holds visible checks only"),
    ({"hidden.py": "from pylab.grading.checks import check\n@check('t')\ndef c(ctx): pass\n"},
     r"check 'c' is visible, but hidden\.py holds hidden"),
    ({"checks.py": "x = 1\n"}, r"checks\.py: defines no check"),
])
def test_a_broken_check_file_fails_loudly_naming_the_file(tmp_path, broken, message):
    folder = make_assignment(tmp_path / "a", names=("one",), extra_files=broken)
    with pytest.raises(AssignmentError, match=message):
        assignments.load(folder)


@pytest.mark.parametrize("manifest, message", [
    ('title = "x"\n', "list its exercises"),
    ('[[exercise]]\nname = "missing"\n', "missing: no such exercise folder"),
    ('[[exercise]]\nname = "one"\nweight = 2\n', "unknown key.*weight"),
    ('[[exercise]]\nname = "one"\nvisibility = "sometimes"\n', "visibility must be one of"),
    ('[[exercise]]\nname = "one"\ntime_limit = -1\n', "time_limit must be a number of seconds above 0"),
    ('[[exercise\n', "not valid TOML"),
])
def test_a_bad_manifest_is_one_clear_error(tmp_path, manifest, message):
    folder = make_assignment(tmp_path / "a", names=("one",))
    (folder / "assignment.toml").write_text(manifest)
    with pytest.raises(AssignmentError, match=message):
        assignments.load(folder)


def test_a_folder_without_a_manifest_is_not_an_assignment(tmp_path):
    with pytest.raises(AssignmentError, match="has no assignment.toml"):
        assignments.load(tmp_path)
    with pytest.raises(AssignmentError, match="no such directory"):
        assignments.load(tmp_path / "nope")


@pytest.mark.parametrize("spec, message", [
    ({"title": "t", "lines": ["x"], "colour": "red"}, "unknown key.*colour"),
    ({"lines": ["x"]}, "needs a title"),
    ({"title": "t", "modes": ["screen"], "lines": ["x"]}, "modes must be a list of tty, pipe, file"),
    ({"title": "t", "lines": ["pid {pdi}"]}, r"unknown placeholder \{pdi\}"),
    ({"title": "t"}, "expects nothing"),
    ({"title": "t", "lines": ["a"], "unordered": ["a"]}, "not both"),
    ({"title": "t", "hold": "Z"}, "hold must be a table"),
    ({"title": "t", "exit_code": "0"}, "exit_code must be int"),
])
def test_a_bad_data_check_names_its_key(spec, message):
    with pytest.raises(CaseError, match=message):
        parse_case(spec, "exercise.toml: check 1")


def test_the_practice_assignment_is_an_assignment_folder_of_the_lab_s_lessons():
    found = assignments.builtin()
    assert len(found.exercises) == 11
    assert "practice" in found.title and "lab's own lessons" in found.title
    for ex in found.exercises:
        assert ex.reference == f"lesson:{ex.name}"  # its answer is one of the lab's lessons
    assert [e.name for e in exercises.all_exercises()] == found.names


def test_data_and_python_checks_grade_the_reference_full_and_the_starter_zero(tmp_path):
    python_checks = '''
    from pylab.grading.checks import Fail, check, require_clean

    @check("the parent's line is the last", points=2, time_limit=4)
    def parent_last(ctx):
        result = ctx.run()
        require_clean(result, ctx.limits)
        if not result.lines or not result.lines[-1].startswith("parent "):
            raise Fail(expected="the parent's line last", observed=f"{len(result.lines)} lines")
    '''
    folder = make_assignment(tmp_path / "a", names=("one",), extra_files={"checks.py": python_checks})
    ex = assignments.load(folder).exercises[0]
    assert [c.name for c in ex.checks] == ["lines", "hidden_file", "parent_last"]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "one.c").write_text(REFERENCE)
    report = grade_submission(sub, [ex])
    assert report.score == report.max_score == 6, [(r.name, r.observed) for r in report.results]
    (sub / "one.c").write_text((folder / "one" / "starter.c").read_text())
    report = grade_submission(sub, [ex])
    assert report.score == 0 and not any(r.error for r in report.results)


def test_a_check_s_own_time_limit_bounds_it_and_its_message_names_it(tmp_path):
    checks = '''
[[check]]
name = "quick"
title = "answers within half a second"
time_limit = 0.5
lines = ["done"]
'''
    ex = assignments.load(make_assignment(tmp_path / "a", names=("one",), checks=checks)).exercises[0]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "one.c").write_text("#include <unistd.h>\nint main(void){ for (;;) pause(); }\n")
    report = grade_submission(sub, [ex])
    (r,) = report.results
    assert r.score == 0 and "after the time limit 0.5 s" in r.observed
    assert r.duration < 3  # not the grader's 5 s wall limit



def test_children_and_forks_count_the_program_s_own_and_its_whole_tree(tmp_path):
    checks = '''
[[check]]
name = "tree"
title = "one child, which forks one grandchild"
children = 1
forks = 2
exit_code = 0
'''
    ex = assignments.load(make_assignment(tmp_path / "a", names=("one",), checks=checks)).exercises[0]
    sub = tmp_path / "sub"
    sub.mkdir()
    two_generations = ("#include <sys/wait.h>\n#include <unistd.h>\nint main(void){\n"
                       "  if (fork() == 0) { if (fork() == 0) return 0; wait(NULL); return 0; }\n"
                       "  wait(NULL); return 0; }\n")
    (sub / "one.c").write_text(two_generations)
    assert grade_submission(sub, [ex]).full_marks
    (sub / "one.c").write_text(two_generations.replace("if (fork() == 0) return 0; wait(NULL); ", ""))
    (r,) = grade_submission(sub, [ex]).results
    assert r.score == 0 and "they forked 1" in r.observed


def test_loading_from_many_threads_at_once_gives_every_check_every_time():
    from concurrent.futures import ThreadPoolExecutor

    from pylab.grading import assignment as fresh
    for name in [n for n in list(__import__("sys").modules) if n.startswith("pylab_checks_")]:
        del __import__("sys").modules[name]  # as in a new process: nothing loaded yet
    with ThreadPoolExecutor(8) as pool:
        counts = set(pool.map(lambda _: sum(len(e.checks) for e in fresh.builtin().exercises), range(16)))
    assert counts == {sum(len(e.checks) for e in fresh.builtin().exercises)}
