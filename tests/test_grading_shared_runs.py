"""Checks of one submission that ask for the same run share it (sandbox.Context.run): the
first check's run, when it ended by itself within the time the later check has left.
Anything else is a run of its own: another stdout target, other arguments, tracing, a
binary the sandbox replaced, a run that timed out or would not fit the time left."""
import shutil
import time

import pytest

from pylab.grading import exercises
from pylab.grading.grader import grade_submission
from pylab.grading.sandbox import Context, Limits, Sandbox

# Counts its own runs in a file of its working folder (the sandbox's /box/work, kept from
# one run to the next): "run N" tells which run a check was shown. "nap": sleeps 0.3 s first.
COUNTER = r"""
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = 0;
    FILE *f = fopen("runs", "r");
    if (f) { if (fscanf(f, "%d", &n) != 1) n = 0; fclose(f); }
    f = fopen("runs", "w");
    fprintf(f, "%d\n", ++n);
    fclose(f);
    if (argc > 1 && !strcmp(argv[1], "nap")) {
        struct timespec ts = {0, 300000000};
        nanosleep(&ts, NULL);
    }
    if (argc > 1 && !strcmp(argv[1], "hang")) { printf("run %d\n", n); fflush(stdout); pause(); }
    printf("run %d\n", n);
    return 0;
}
"""


@pytest.fixture
def counter(tmp_path):
    (tmp_path / "counter.c").write_text(COUNTER)
    with Sandbox(Limits(wall=3.0)) as sb:
        yield sb, sb.compile(tmp_path / "counter.c")


def test_two_checks_asking_for_the_same_run_are_shown_one_run(counter):
    sb, binary = counter
    first = Context(sb, binary).run()
    second = Context(sb, binary).run()
    assert first.stdout_text == "run 1\n" and second is first


def test_another_target_other_arguments_or_tracing_make_a_run_of_its_own(counter):
    sb, binary = counter
    ctx = Context(sb, binary)
    assert ctx.run().stdout_text == "run 1\n"
    assert ctx.run(mode="file").stdout_text == "run 2\n"
    assert ctx.run("x").stdout_text == "run 3\n"
    traced = Context(sb, binary)
    seen = traced.run(watch_forks=True)
    assert seen.stdout_text == "run 4\n"
    assert traced.watch().complete and traced.watch().stdout(seen.pid) == b"run 4\n"  # its own trace
    again = Context(sb, binary)  # shown that run, and its trace
    assert again.run(watch_forks=True) is seen and again.watch().stdout(seen.pid) == b"run 4\n"


def test_a_binary_the_sandbox_replaced_is_run_again(counter, tmp_path):
    sb, binary = counter
    assert Context(sb, binary).run().stdout_text == "run 1\n"
    sb.put(binary.name, binary.read_bytes(), "bin", 0o755)  # the same bytes, a new file
    assert Context(sb, binary).run().stdout_text == "run 2\n"


def test_a_run_that_timed_out_is_not_shown_to_the_next_check(tmp_path):
    (tmp_path / "counter.c").write_text(COUNTER)
    with Sandbox(Limits(wall=0.5)) as sb:
        binary = sb.compile(tmp_path / "counter.c")
        first = Context(sb, binary).run("hang")
        second = Context(sb, binary).run("hang")
    assert first.timed_out and first.stdout_text == "run 1\n"
    assert second.timed_out and second.stdout_text == "run 2\n"


def test_a_run_longer_than_the_time_a_check_has_left_is_not_shown_to_it(counter):
    sb, binary = counter
    first = Context(sb, binary).run("nap")
    assert first.stdout_text == "run 1\n" and first.duration >= 0.3
    hurried = Context(sb, binary)
    hurried.deadline = time.monotonic() + 0.2  # less than the first run took
    second = hurried.run("nap")
    assert second is not first and second.timed_out


def test_the_wait_status_checks_share_one_traced_run_and_all_pass(tmp_path, monkeypatch):
    ex = exercises.find("wait_status")
    shutil.copy(ex.reference_source(), tmp_path / ex.source)
    runs = []
    real = Sandbox.run
    monkeypatch.setattr(Sandbox, "run", lambda self, argv, **kw: runs.append(kw) or real(self, argv, **kw))
    report = grade_submission(tmp_path, [ex])
    assert len(report.results) >= 4 and report.score == report.max_score
    assert len(runs) == 1 and runs[0]["watch_forks"]


def test_a_check_that_asks_again_for_a_run_gets_a_fresh_one(counter):
    # a check samples: asked twice in one check, the program runs twice, whether the
    # first answer was its own run or one shared from an earlier check
    sb, binary = counter
    first = Context(sb, binary)
    assert [first.run().stdout_text, first.run().stdout_text] == ["run 1\n", "run 2\n"]
    later = Context(sb, binary)
    assert later.run().stdout_text == "run 1\n"  # shared: the first check's first run
    assert later.run().stdout_text == "run 3\n"  # asked again: a run of its own


def test_stdin_as_bytearray_or_memoryview_is_the_same_run_as_its_bytes(counter):
    sb, binary = counter
    shown = Context(sb, binary).run(stdin=b"x")
    assert shown.stdout_text == "run 1\n"
    assert Context(sb, binary).run(stdin=bytearray(b"x")) is shown
    assert Context(sb, binary).run(stdin=memoryview(b"x")) is shown
    assert Context(sb, binary).run(stdin="y").stdout_text == "run 2\n"
