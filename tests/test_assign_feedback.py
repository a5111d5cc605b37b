"""Feedback that does not mislead: each defect found in the practice assignment, tested
with a student file that has the bug (the feedback names it) and one that is correct but
written differently (full marks every time, in `check` and in `grade` alike)."""
import json
import re

import pytest

from pylab.cli import main as cli
from pylab.grading import exercises, safe

GETPID_NO_NEWLINE = r'''#include <stdio.h>
#include <unistd.h>
int main(void) { printf("The current process ID is %d", getpid()); return 0; }
'''
GETPID_WITH_WRITE = r'''#include <stdio.h>
#include <unistd.h>
int main(void) {
    char line[64];
    int n = snprintf(line, sizeof line, "The current process ID is %ld\n", (long)getpid());
    return write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 1;
}
'''
ZOMBIE_WAITS_BEFORE_THE_HOLD = r'''#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    char line[64];
    pid_t pid = fork();
    if (pid == 0) exit(0);
    wait(NULL);
    if (!fgets(line, sizeof line, stdin)) { /* end of input also ends the hold */ }
    return 0;
}
'''
ZOMBIE_WITH_WAITPID = r'''#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    char line[64];
    int status;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(0);
    if (read(STDIN_FILENO, line, sizeof line) < 0) return 1;   /* a line, or end of input */
    return waitpid(pid, &status, 0) == pid ? 0 : 1;
}
'''
# The orphan blocks on a pipe its parent's exit closes, then waits for getppid to change;
# every line goes out with write(2).
ORPHAN_OTHER_SHAPE = r'''#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
static char line[128];
static void say(void) { if (write(1, line, strlen(line)) < 0) _exit(1); }
int main(int argc, char *argv[]) {
    int sub = argc > 1 && !strcmp(argv[1], "subreaper"), reported[2], gone[2];
    char c;
    if (sub) prctl(PR_SET_CHILD_SUBREAPER, 1);
    snprintf(line, sizeof line, "grandparent %d%s\n", getpid(), sub ? " (a child subreaper)" : " (not a subreaper)");
    say();
    if (pipe(reported) < 0 || pipe(gone) < 0) return 1;
    pid_t parent = fork();
    if (parent == 0) {
        pid_t orphan = fork();
        if (orphan == 0) {
            pid_t old = getppid();
            close(reported[0]); close(gone[1]);
            snprintf(line, sizeof line, "orphan %d: parent %d\n", getpid(), old);
            say();
            close(reported[1]);
            while (read(gone[0], &c, 1) > 0) {}
            while (getppid() == old) sched_yield();
            snprintf(line, sizeof line, "orphan %d: parent %d exited, new parent %d\n", getpid(), old, getppid());
            say();
            _exit(0);
        }
        close(reported[1]);
        while (read(reported[0], &c, 1) > 0) {}
        snprintf(line, sizeof line, "parent %d exits, leaving %d behind\n", getpid(), orphan);
        say();
        _exit(0);
    }
    close(reported[0]); close(reported[1]); close(gone[0]); close(gone[1]);
    waitpid(parent, NULL, 0);
    if (sub) {
        pid_t o = wait(NULL);
        snprintf(line, sizeof line, "grandparent reaped adopted orphan %d (exit 0)\n", o);
        say();
    }
    return 0;
}
'''
# The orphan asks for its parent only once that parent has gone: it names the subreaper.
# (Pipes make it deterministic: the parent exits once the orphan runs, the grandparent
# ends once the orphan has.)
ORPHAN_ASKS_TOO_LATE = r'''#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int started[2], done[2];
    char c;
    printf("grandparent %d (not a subreaper)\n", getpid());
    fflush(stdout);
    if (pipe(started) < 0 || pipe(done) < 0) return 1;
    pid_t parent = fork();
    if (parent == 0) {
        pid_t orphan = fork();
        if (orphan == 0) {
            pid_t first = getppid();
            close(started[0]); close(started[1]); close(done[0]);
            while (getppid() == first) sched_yield();
            pid_t old = getppid();
            printf("orphan %d: parent %d\n", getpid(), old);
            printf("orphan %d: parent %d exited, new parent %d\n", getpid(), old, getppid());
            return 0;
        }
        close(started[1]); close(done[1]); close(done[0]);
        while (read(started[0], &c, 1) > 0) {}
        printf("parent %d exits, leaving %d behind\n", getpid(), orphan);
        fflush(stdout);
        _exit(0);
    }
    close(started[0]); close(started[1]); close(done[1]);
    while (read(done[0], &c, 1) > 0) {}
    waitpid(parent, NULL, 0);
    return 0;
}
'''
FORK_STDIO_OTHER_SHAPE = r'''#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[]) {
    const char *remedy = argc > 1 ? argv[1] : "none";
    char line[64];
    int status, n;
    if (strcmp(remedy, "none") && strcmp(remedy, "fflush") && strcmp(remedy, "setvbuf") && strcmp(remedy, "_exit")) {
        fputs("usage: fork_stdio [none|fflush|setvbuf|_exit]\n", stderr);
        return 2;
    }
    if (!strcmp(remedy, "setvbuf")) setvbuf(stdout, NULL, _IONBF, 0);
    fprintf(stdout, "before fork: pid %d (remedy: %s)\n", getpid(), remedy);
    if (!strcmp(remedy, "fflush")) fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        n = snprintf(line, sizeof line, "child %d: parent %d\n", getpid(), getppid());
        if (write(STDOUT_FILENO, line, (size_t)n) != n) _exit(1);
        if (!strcmp(remedy, "_exit")) _exit(0);
        exit(0);
    }
    wait(&status);
    fprintf(stdout, "parent %d: child %d done\n", getpid(), pid);
    exit(0);
}
'''


def _submit(tmp_path, name, text):
    sub = tmp_path / name
    sub.mkdir(exist_ok=True)
    (sub / f"{name}.c").write_text(text)
    return sub


def _grade_json(capsys, sub, name):
    rc = cli.main(["grade", str(sub), name, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def _check_json(capsys, sub, name):
    rc = cli.main(["check", str(sub), name, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def _failed(doc):
    return {r["check"]: r for r in doc["results"] if not r["passed"]}


@pytest.mark.parametrize("name, text", [
    ("getpid_test", GETPID_WITH_WRITE),
    ("zombie", ZOMBIE_WITH_WAITPID),
    ("orphan", ORPHAN_OTHER_SHAPE),
    ("fork_stdio", FORK_STDIO_OTHER_SHAPE),
])
def test_a_correct_program_written_differently_gets_full_marks_in_check_and_grade_every_time(
        tmp_path, capsys, name, text):
    sub = _submit(tmp_path, name, text)
    for _ in range(2):
        rc, doc = _check_json(capsys, sub, name)
        assert rc == 0 and not _failed(doc), _failed(doc)
        rc, doc = _grade_json(capsys, sub, name)
        assert rc == 0 and doc["score"] == doc["max_score"] == exercises.find(name).max_score, _failed(doc)


def test_a_pid_line_without_its_newline_fails_and_says_so(tmp_path, capsys):
    rc, doc = _check_json(capsys, _submit(tmp_path, "getpid_test", GETPID_NO_NEWLINE), "getpid_test")
    assert rc == 1
    failed = _failed(doc)["prints_own_pid"]
    assert "has no newline at its end" in failed["observed"] and failed["score"] == 0


def test_waiting_before_the_hold_is_named_as_such_and_not_blamed_on_the_child(tmp_path, capsys):
    rc, doc = _grade_json(capsys, _submit(tmp_path, "zombie", ZOMBIE_WAITS_BEFORE_THE_HOLD), "zombie")
    assert rc == 1
    failed = _failed(doc)["child_seen_as_zombie"]
    assert "already collected" in failed["observed"] and "waited before the hold" in failed["observed"]
    assert "exit(0)" not in failed["hint"] and "child should call" not in failed["hint"]


def test_an_orphan_asking_for_its_parent_too_late_is_told_why(tmp_path, capsys):
    rc, doc = _grade_json(capsys, _submit(tmp_path, "orphan", ORPHAN_ASKS_TOO_LATE), "orphan")
    assert rc == 1
    failed = _failed(doc)
    assert "three_generations" in failed
    assert "after that parent had already exited" in failed["three_generations"]["observed"]
    assert "expected" not in failed["three_generations"]["observed"]


def test_no_hint_of_the_practice_assignment_gives_the_code_away():
    code = re.compile(r"\b\w+\((?!\d\))[^)]+\)|\+\+|[{}]")  # a call with arguments, a statement
    for ex in exercises.all_exercises():
        for c in ex.checks:
            assert not code.search(c.hint), (ex.name, c.name, c.hint)


def test_feedback_shows_program_bytes_as_text_never_as_a_python_bytes_literal(tmp_path):
    from pylab.grading.grader import grade_submission

    for ex in exercises.all_exercises():
        (tmp_path / ex.source).write_text('#include <stdio.h>\nint main(void){ printf("\\x01\\x1b[31mred"); '
                                          'return 0; }\n')
    report = grade_submission(tmp_path)
    observed = [r.observed for r in report.results if r.observed]
    assert observed and not [o for o in observed if re.search(r"\bb'|\bb\"", o)]
    assert safe.quote(b"hi\x1b[0m") == '"hi\\x1b[0m"'
