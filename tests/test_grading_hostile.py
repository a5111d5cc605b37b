"""Hostile and careless submissions: each gets zero for the checks it breaks, with a
reason a student can act on, in bounded time, and leaves no process behind."""
import errno
import os
import re
import time

import pytest

from pylab.observe import procstate

from pylab.run import runner
from pylab.grading import exercises, sandbox as supervisor
from pylab.grading.exercise import Exercise
from pylab.grading.grader import grade_submission
from pylab.grading.sandbox import Limits
from support import process_room

LIMITS = Limits(wall=1.0, cpu=1, nproc=16)
BOUND = 20.0  # seconds for grading one exercise, whatever the submission does (a hang guard)

HOSTILE = {
    "fork_bomb": ("#include <unistd.h>\nint main(void){ for(;;) fork(); }\n",
                  "still running after the time limit"),
    "infinite_loop": ("int main(void){ volatile int x = 0; for(;;) x++; }\n",
                      ("still running after the time limit", "SIGXCPU")),
    "output_flood": ("#include <stdio.h>\n#include <string.h>\n"
                     "int main(void){ static char b[65536]; memset(b, 'x', sizeof b);\n"
                     "  for (int i = 0; i < 1600; i++) fwrite(b, 1, sizeof b, stdout); return 0; }\n",
                     "printed more than 1024 KiB"),
    "ignores_sigterm": ("#include <signal.h>\n#include <unistd.h>\n"
                        "int main(void){ signal(SIGTERM, SIG_IGN); for(;;) pause(); }\n",
                        "still running after the time limit"),
    "daemonizes": ("#include <stdio.h>\n#include <unistd.h>\n"
                   "int main(void){ printf(\"The current process ID is %d\\n\", getpid()); fflush(stdout);\n"
                   "  if (fork() == 0) { setsid(); if (fork() == 0) { for(;;) pause(); } _exit(0); }\n"
                   "  return 0; }\n",
                   "left 1 process(es) running"),
    "closes_stdout": ("#include <stdio.h>\n#include <unistd.h>\n"
                      "int main(void){ close(1); printf(\"The current process ID is %d\\n\", getpid()); return 0; }\n",
                      "nothing on stdout"),
    "reads_stdin_forever": ("#include <unistd.h>\nint main(void){ char c; for(;;) (void)!read(0, &c, 1); }\n",
                            ("still running after the time limit", "SIGXCPU")),
    "segfault": ("int main(void){ *(volatile int *)0 = 1; return 0; }\n",
                 "killed by SIGSEGV: a segmentation fault"),
    "does_not_compile": ("int main(void) { return 0 }\n", "does not compile"),
}


def _one_check_exercise():
    """getpid_test with its first check only: each hostile case costs one wall limit."""
    full = exercises.find("getpid_test")
    return Exercise(full.module_file, full.summary, checks=full.checks[:1])


def _grade(tmp_path, source_text, whole=False, limits=LIMITS):
    ex = exercises.find("getpid_test") if whole else _one_check_exercise()
    if source_text is not None:
        (tmp_path / ex.source).write_text(source_text)
    t0 = time.monotonic()
    report = grade_submission(tmp_path, [ex], limits)
    return report, time.monotonic() - t0


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    """Every hostile case graded once, all at the same time (as `pylab grade --jobs`
    would): the cases that hang each cost one wall limit, in parallel, not in a row; a
    half-second one, as what they test is that they are stopped there, with a reason."""
    from concurrent.futures import ThreadPoolExecutor

    folders = {case: tmp_path_factory.mktemp(case) for case in HOSTILE}  # mktemp is not thread-safe

    def grade(case):
        return case, _grade(folders[case], HOSTILE[case][0], limits=LIMITS.with_(wall=0.5))

    with process_room(tmp_path_factory), ThreadPoolExecutor(len(HOSTILE)) as pool:  # a fork bomb among them
        return dict(pool.map(grade, sorted(HOSTILE)))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_submission_gets_zero_with_a_reason_and_leaves_nothing(hostile_reports, case):
    reason = HOSTILE[case][1]
    report, took = hostile_reports[case]
    assert report.env_error is None
    assert report.score == 0
    first = report.results[0]
    assert not first.error, first.observed  # the student's fault, said as such
    reasons = reason if isinstance(reason, tuple) else (reason,)
    assert any(r in first.observed for r in reasons), first.observed
    assert first.hint
    assert took < BOUND
    # the runs themselves left nothing: the sandbox, closing while it still held its uid,
    # found no process of that uid to kill
    assert report.killed_at_close == []
    assert procstate.descendants(os.getpid()) == []


def test_missing_file_fails_every_check_of_the_exercise_and_says_the_name(tmp_path):
    report, _ = _grade(tmp_path, None, whole=True)
    assert report.score == 0 and len(report.results) == 2
    assert all("getpid_test.c is missing" in r.observed for r in report.results)


def test_compile_error_shows_the_compilers_output(tmp_path):
    report, _ = _grade(tmp_path, HOSTILE["does_not_compile"][0], whole=True)
    assert "expected ';'" in report.results[0].observed
    assert all("does not compile" in r.observed for r in report.results)
    assert all("pylab-grade-" not in r.observed for r in report.results)  # no grader paths


def test_fork_bomb_is_held_by_the_process_limit_even_for_root(tmp_path, tmp_path_factory):
    source = "#include <unistd.h>\nint main(void){ for (;;) fork(); }\n"
    with process_room(tmp_path_factory):
        report, _ = _grade(tmp_path, source, limits=LIMITS.with_(wall=0.5))  # the process limit's work, not the wall's
    first = report.results[0]
    assert first.score == 0
    assert "still running after the time limit" in first.observed
    # the supervisor killed what the bomb had made at the time limit: without the process
    # limit that is hundreds (or the machine); with it, at most nproc - 1 besides the program
    made = int(re.search(r"it had created (\d+) more processes", first.observed).group(1))
    assert 2 < made <= LIMITS.nproc - 1


def test_student_code_runs_unprivileged_in_its_own_namespaces(tmp_path):
    with supervisor.Sandbox(LIMITS) as a, supervisor.Sandbox(LIMITS) as b:
        inside = [sb.run(["/usr/bin/id", "-u"])[0].stdout_text.strip() for sb in (a, b)]
        assert inside == ["1000", "1000"]  # the uid inside its user namespace
        procs = [sb.start(["/bin/cat"])[0] for sb in (a, b)]
        try:
            outside = [int(procstate.status_fields(p.pid)["Uid"].split()[0]) for p in procs]
            ns = [os.readlink(f"/proc/{p.pid}/ns/pid") for p in procs]
        finally:
            for p in procs:
                p.close_stdin()
                p.wait(timeout=5)
    assert ns[0] != ns[1] and os.readlink("/proc/self/ns/pid") not in ns  # a pid namespace each
    if os.geteuid() == 0:  # root: a uid of its own from the pool for each sandbox
        assert a.uid != b.uid and outside == [a.uid, b.uid]
        assert all(uid in supervisor._uid_range() for uid in outside)
    else:  # a normal user's code runs as that user, seen from outside
        assert a.uid is None and outside == [os.getuid(), os.getuid()]


def test_the_process_limit_makes_fork_fail_with_eagain_at_exactly_the_limit(tmp_path):
    src = tmp_path / "forks.c"
    src.write_text("#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
                   "int main(void){ int n = 0; pid_t p;\n"
                   "  while ((p = fork()) > 0) n++;\n"
                   "  if (p == 0) _exit(0);  /* an unreaped child still counts against the limit */\n"
                   "  printf(\"%d %s\\n\", n, strerror(errno)); return 0; }\n")
    with supervisor.Sandbox(LIMITS.with_(nproc=8)) as sb:
        result, _ = sb.run([sb.compile(src)])
    count, reason = result.stdout_text.split(" ", 1)
    assert reason.strip() == os.strerror(errno.EAGAIN)  # the limit, not memory, stopped it
    # RLIMIT_NPROC counts per user namespace: exactly this sandbox's processes, for root
    # and for a normal user alike (the program itself is one of the 8)
    assert int(count) == 8 - 1


def test_a_flood_is_cut_at_the_cap_with_a_visible_marker_and_the_run_stopped_early(tmp_path):
    src = tmp_path / "flood.c"
    src.write_text(HOSTILE["output_flood"][0])  # 100 MiB if nobody stops it
    with supervisor.Sandbox(LIMITS) as sb:
        result, _ = sb.run([sb.compile(src)])
    assert result.truncated
    assert result.stdout.endswith(runner.TRUNCATION_MARKER)
    assert len(result.stdout) == LIMITS.output + len(runner.TRUNCATION_MARKER)
    assert result.stdout_bytes_seen < 1600 * 65536  # stopped, not read to its end
