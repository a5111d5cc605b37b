"""Expected lines per process (exercise.toml's per_process), told apart by the outside
tracer's record of each process's writes, and feedback in the tracer's words when a
line check fails: a line written by parent and child, a copy each, a child that wrote nothing."""
import textwrap
import tomllib
from pathlib import Path

import pytest

from pylab.grading import assignment, checks, exercises
from pylab.grading.exercises import all_exercises
from pylab.grading.grader import grade_submission

# fork_stdio's shape: a line printed before fork, the child's line with write(2)
STDIO_TOML = '''
summary = "a line printed before fork, then one line from each process"
source = "stdio.c"
reference = "reference.c"

[[check]]
name = "who_wrote_what"
title = "the parent writes its two lines, the child its own, on a pipe"
points = 2
hint = "fork copies the whole process, stdio's buffer included"
[check.per_process]
parent = ["before fork: pid {pid}", "parent {pid}: child {child} done"]
child = ["child {child}: parent {pid}"]
'''
FLUSHED = r'''#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    printf("before fork: pid %d\n", (int)getpid());
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { dprintf(1, "child %d: parent %d\n", (int)getpid(), (int)getppid()); return 0; }
    waitpid(pid, NULL, 0);
    printf("parent %d: child %d done\n", (int)getpid(), (int)pid);
    return 0;
}
'''
UNFLUSHED = FLUSHED.replace("    fflush(stdout);\n", "")
# the child's line goes through stdio and the child leaves with _exit: it is never written
CHILD_EXITS = FLUSHED.replace('dprintf(1, "child %d: parent %d\\n", (int)getpid(), (int)getppid()); return 0;',
                              'printf("child %d: parent %d\\n", (int)getpid(), (int)getppid()); _exit(0);')
# every line right, but the parent writes the child's line and the child the parent's
SWAPPED = r'''#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int fds[2];
    pid_t me = getpid(), pid;
    dprintf(1, "before fork: pid %d\n", (int)me);
    if (pipe(fds) < 0 || (pid = fork()) < 0) return 1;
    if (pid == 0) {
        char c;
        if (read(fds[0], &c, 1) != 1) _exit(1);
        dprintf(1, "parent %d: child %d done\n", (int)me, (int)getpid());
        _exit(0);
    }
    dprintf(1, "child %d: parent %d\n", (int)pid, (int)me);
    if (write(fds[1], "x", 1) != 1) return 1;
    waitpid(pid, NULL, 0);
    return 0;
}
'''


def exercise(tmp_path, toml=STDIO_TOML):
    folder = tmp_path / "stdio"
    folder.mkdir()
    (folder / "exercise.toml").write_text(toml)
    (folder / "reference.c").write_text(FLUSHED)
    (folder / "statement.md").write_text("# stdio\n")
    (folder / "starter.c").write_text("int main(void) { return 0; }\n")
    return assignment.load_exercise(folder)


def grade(tmp_path, source, ex):
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / ex.source).write_text(source)
    return grade_submission(sub, [ex]).results[0]


def test_a_correct_fork_program_gets_full_marks_per_process(tmp_path):
    res = grade(tmp_path, FLUSHED, exercise(tmp_path))
    assert res.passed, res.output()
    assert res.score == res.max_score == 2


def test_an_unflushed_line_is_reported_as_written_twice_by_parent_and_child(tmp_path):
    res = grade(tmp_path, UNFLUSHED, exercise(tmp_path))
    assert res.score == 0
    # the tracer's words: which processes wrote it, and why (fork copied the buffer)
    assert "The tracer saw" in res.observed
    assert "a copy each" in res.observed and "(the program)" in res.observed
    assert "by its child" in res.observed and "fork copied the buffer into the child" in res.observed
    assert "had written nothing to stdout before that fork" in res.observed


def test_a_child_line_lost_at_exit_is_reported_from_the_childs_writes(tmp_path):
    res = grade(tmp_path, CHILD_EXITS, exercise(tmp_path))
    assert res.score == 0
    assert 'no line "child {child}: parent {pid}"' in res.observed
    assert "(the program's child) ended (exit) without writing" in res.observed
    assert "without writing anything to stdout" in res.observed and "_exit" in res.observed


def test_right_lines_from_the_wrong_processes_fail_the_per_process_check(tmp_path):
    res = grade(tmp_path, SWAPPED, exercise(tmp_path))
    assert res.score == 0
    # the pipe held exactly the expected set: only the tracer's record tells who wrote it
    assert "the tracer's record" in res.observed
    assert "the program (" in res.observed and "wrote" in res.observed


def test_fork_test_checks_the_parent_and_child_lines_by_who_wrote_them(tmp_path):
    ex = next(e for e in all_exercises() if e.name == "fork_test")
    toml = tomllib.loads((Path(exercises.__file__).parent / "fork_test" / "exercise.toml").read_text())
    spec = [c for c in toml["check"] if "per_process" in c]
    assert spec, "fork_test declares a per_process check"
    # the child prints the parent's line and the parent the child's: every line right on the pipe
    swapped = textwrap.dedent(r'''
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            pid_t me = getpid(), pid = fork();
            if (pid == 0) { printf("I am the parent process, my process ID is %d\n", (int)me); return 0; }
            waitpid(pid, NULL, 0);
            printf("I am the child process, my process ID is %d\n", (int)pid);
            return 0;
        }''')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "fork_test.c").write_text(swapped)
    results = {r.check: r for r in grade_submission(sub, [ex]).results}
    per = results[spec[0]["name"]]
    assert per.score == 0 and "the tracer's record" in per.observed
    assert results["both_lines"].passed  # the pipe alone cannot tell


@pytest.mark.parametrize("bad, why", [
    ({"per_process": {"parent": ["x"], "sibling": ["y"]}}, "per_process must be a table"),
    ({"per_process": {"parent": "x"}}, "per_process.parent must be a list of strings"),
    ({"per_process": {"child": ["{nope}"]}}, "per_process.child: unknown placeholder"),
    ({"per_process": {"parent": ["x"]}, "unordered": ["x"]}, "without lines or unordered"),
])
def test_a_malformed_per_process_table_is_named(bad, why):
    with pytest.raises(checks.CaseError, match=why):
        checks.parse_case({"title": "t", **bad}, "ex/exercise.toml check 1")


def test_the_documented_per_process_table_parses_as_written():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "assignments.md").read_text()
    block = doc.split("### Lines per process", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    case, own = checks.parse_case(tomllib.loads(block)["check"][0], "docs")
    assert dict(case.per_process) == {"parent": ("before fork: pid {pid}", "parent {pid}: child {child} done"),
                                      "child": ("child {child}: parent {pid}",)}
    assert case.needs_forks and own["name"] == "each_process_writes_its_own_line"


FORK_STDIO_NO_REMEDY = r'''#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[]) {
    const char *remedy = argc > 1 ? argv[1] : "none";
    printf("before fork: pid %d (remedy: %s)\n", (int)getpid(), remedy);   /* never flushed first */
    pid_t pid = fork();
    if (pid == 0) { dprintf(1, "child %d: parent %d\n", (int)getpid(), (int)getppid()); exit(0); }
    waitpid(pid, NULL, 0);
    printf("parent %d: child %d done\n", (int)getpid(), (int)pid);
    return 0;
}
'''


def test_fork_stdio_says_a_remedy_that_does_not_work_left_the_line_written_by_parent_and_child(tmp_path):
    ex = next(e for e in all_exercises() if e.name == "fork_stdio")
    (tmp_path / "fork_stdio.c").write_text(FORK_STDIO_NO_REMEDY)
    results = {r.check: r for r in grade_submission(tmp_path, [ex]).results}
    assert results["twice_on_a_pipe"].passed  # no remedy: twice is right
    remedies = results["remedies_on_a_pipe"]
    assert remedies.score == 0
    assert "a copy each" in remedies.observed and "(the program) and by its child" in remedies.observed
    assert "fork copied the buffer into the child" in remedies.observed


def _trace(*events):
    from pylab.run import tracer
    return tracer.Trace([tracer.Event(t, pid, kind, **kw) for t, pid, kind, kw in events], 1)


def test_a_line_is_said_copied_only_when_the_parents_first_write_after_fork_begins_with_it():
    from pylab.run import explain
    trace = _trace((0.0, 2, "exec", {"text": "/prog"}), (0.1, 2, "write", {"fd": 1, "data": b"hello\n"}),
                   (0.2, 2, "spawn", {"other": 3}), (0.3, 3, "write", {"fd": 1, "data": b"child\n"}),
                   (0.4, 3, "exit", {"code": 0}), (0.5, 2, "write", {"fd": 1, "data": b"child\n"}))
    said = explain.syscall_sentences(trace, program=2, supervisor=1)
    # "hello" went out before the fork (not copied); "child" began the parent's first write after it
    assert not any("'hello'" in s for s in said)
    assert any("'child' was written by" in s and "a copy each" in s for s in said)
    trace.events[-1].data = b"done\nchild\n"  # the parent's first write after fork began with something else
    assert not any("a copy each" in s for s in explain.syscall_sentences(trace, program=2, supervisor=1))


def test_a_child_that_execs_before_writing_is_said_to_have_lost_its_buffer():
    from pylab.run import explain
    trace = _trace((0.0, 2, "exec", {"text": "/prog"}), (0.1, 2, "spawn", {"other": 3}),
                   (0.2, 3, "exec", {"text": "/bin/true", "argv": ["true"]}), (0.3, 3, "exit", {"code": 0}),
                   (0.4, 2, "write", {"fd": 1, "data": b"parent\n"}))
    said = explain.syscall_sentences(trace, program=2, supervisor=1)
    assert "3 (the program's child) wrote nothing to stdout before exec replaced it with 'true'" in said[0]
    assert not any(s.startswith("2 (the program)") for s in said)  # its own first exec made it the program


def test_per_process_without_the_tracers_record_says_it_cannot_tell(tmp_path):
    from pylab.grading.evidence import Watch

    class Result:  # what expect_per_process reads of a run: the pipe's lines, the pids
        pid, supervisor, stdout_text = 2, 1, "x\n"
        lines, stdout = ["x"], b"x\n"
    with pytest.raises(checks.Fail, match="the tracer recorded nothing"):
        checks.expect_per_process(Result(), Watch(complete=False), {"parent": ("x",)})
    cut = Watch(events=[object()], complete=False)
    with pytest.raises(checks.Fail, match="cut short at its size limit"):
        checks.expect_per_process(Result(), cut, {"parent": ("x",)})


def test_writes_the_tracer_took_for_stdout_that_the_pipe_never_got_are_not_believed():
    # a sandboxed child can name a file or a terminal of its own like the run's stdout
    # (an O_TMPFILE's "/tmp/#INODE (deleted)", its own devpts's /dev/pts/0): its writes
    # there must not pass for the child's lines on stdout
    from pylab.grading.evidence import Watch
    from pylab.run.result import RunResult
    from pylab.run.tracer import Event
    result = RunResult(argv=["p"], mode="file", pid=2, status=0, stdout=b"parent 2\nchild 3\n", stderr=b"",
                       duration=0.01)
    honest = [Event(0.1, 2, "spawn", other=3, text="fork"), Event(0.2, 2, "write", fd=1, data=b"parent 2\n"),
              Event(0.3, 3, "write", fd=1, data=b"child 3\n")]
    spec = {"parent": ["parent {pid}"], "child": ["child {child}"]}
    checks.expect_per_process(result, Watch(forks=[(3, 2)], events=honest), spec)  # the pipe's bytes: believed
    forged = honest + [Event(0.4, 3, "write", fd=1, data=b"child 3\n")]  # once more, never on the pipe
    with pytest.raises(checks.Fail) as failed:
        checks.expect_per_process(result, Watch(forks=[(3, 2)], events=forged), spec)
    assert "not what the grader received" in failed.value.observed
