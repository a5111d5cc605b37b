"""A compile or a run that finds no process to start (fork's EAGAIN: the process limit
it shares is used up) is tried again after a pause, and if it never starts, the checks
it stops are the grader's errors: never "does not compile", never the program's fault.
The shortage itself is made by standing in for the sandbox's start (a real one depends
on what else the user runs); the file's own words are compiled for real."""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from pylab.grading import exercises, sandbox
from pylab.grading.grader import grade_submission
from pylab.grading.sandbox import Limits, Sandbox
from pylab.observe import procstate
from pylab.run import runner
from pylab.run.result import RunResult
from support import process_room

LIMITS = Limits(wall=2.0, cpu=1, nproc=16, compile_wall=10.0)
GCC_SAID = ("gcc: fatal error: cannot execute '/usr/lib/gcc/x86_64-linux-gnu/12/cc1': "
            "vfork: Resource temporarily unavailable\ncompilation terminated.\n")


@pytest.fixture
def submission(tmp_path):
    shutil.copy(exercises.find("getpid_test").reference_source(), tmp_path / "getpid_test.c")
    return tmp_path


def short_of_processes(monkeypatch, times: int, which, result):
    """The first `times` starts for which(argv) give `result(argv)` instead of running;
    returns the list of those refused starts."""
    real = Sandbox._run_once
    refused = []

    def run_once(self, argv, *rest):
        if which(argv) and len(refused) < times:
            refused.append(argv[0])
            return result(argv)
        return real(self, argv, *rest)

    monkeypatch.setattr(Sandbox, "_run_once", run_once)
    monkeypatch.setattr(sandbox, "START_PAUSES", (0.0, 0.0, 0.0))
    monkeypatch.setenv("PYLAB_COMPILE_CACHE", "off")  # every compile runs
    return refused


def could_not_start(argv):
    return RunResult(argv=list(argv), mode="pipe", pid=None, status=None, stdout=b"", stderr=b"", duration=0.0,
                     exec_error=errno.EAGAIN)


def gcc_could_not_fork(argv):
    return RunResult(argv=list(argv), mode="pipe", pid=1, status=1 << 8, stdout=b"", stderr=GCC_SAID.encode(),
                     duration=0.01)


def is_compile(argv):
    return Path(argv[0]).name.startswith(("gcc", "cc"))


def test_a_compile_that_finds_no_process_is_tried_again_and_then_grades(submission, monkeypatch):
    refused = short_of_processes(monkeypatch, 2, is_compile, could_not_start)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert len(refused) == 2
    assert report.score == report.max_score == 4, [(r.name, r.observed) for r in report.results]


@pytest.mark.parametrize("result", [could_not_start, gcc_could_not_fork], ids=["start", "gcc"])
def test_a_compile_that_never_finds_one_is_the_graders_error_not_a_compile_error(submission, monkeypatch, result):
    refused = short_of_processes(monkeypatch, 99, is_compile, result)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert len(refused) == len(sandbox.START_PAUSES) + 1  # tried, then tried again each pause
    assert report.score == 0 and report.env_error is None
    for r in report.results:
        assert r.error, r
        assert "does not compile" not in r.observed and "not an error in getpid_test.c" in r.observed
        assert "Resource temporarily unavailable" in r.observed


def test_the_files_own_words_about_forking_stay_a_compile_error(submission):
    (submission / "getpid_test.c").write_text("#error gcc: fatal error: cannot fork: Resource temporarily unavailable\n")
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert report.score == 0
    assert all(not r.error and "does not compile" in r.observed for r in report.results)


def test_a_run_that_finds_no_process_is_tried_again_and_one_that_never_does_is_the_graders_error(submission,
                                                                                                 monkeypatch):
    refused = short_of_processes(monkeypatch, 1, lambda argv: not is_compile(argv), could_not_start)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert len(refused) == 1 and report.score == report.max_score == 4

    refused = short_of_processes(monkeypatch, 99, lambda argv: not is_compile(argv), could_not_start)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert report.score == 0 and refused
    for r in report.results:
        assert r.error and "Shortage" in r.observed and "the program could not be started" in r.observed
        assert "tell your instructor" in r.observed


def test_a_live_run_that_could_not_start_says_no_process_was_to_be_had():
    from pylab.grading.exercise import describe_run

    said = describe_run(could_not_start(["prog"]))
    assert said.startswith("the program could not be started: no process was to be had")
    assert "with this submission's other runs or, without namespaces, with the user's other work" in said
    other = RunResult(argv=["prog"], mode="pipe", pid=None, status=None, stdout=b"", stderr=b"", duration=0.0,
                      exec_error=errno.ENOMEM)  # e.g. a static array larger than the memory limit: its own doing
    assert describe_run(other) == "the program could not be started: Cannot allocate memory"


def test_a_file_cannot_make_its_compile_error_look_like_a_shortage(submission):
    # gcc prints a #pragma message's "\n" as a real line break: the driver's words can be
    # forged on a line of their own, but never without the file's own line beside them
    (submission / "getpid_test.c").write_text(
        '#pragma message "x\\ngcc: fatal error: cannot execute \'cc1\': vfork: Resource temporarily unavailable"\n'
        "int main(void) { return oops; }\n")
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    shown = next(r for r in report.results if "the compiler said" in r.observed)
    assert "gcc: fatal error: cannot execute 'cc1': vfork: Resource temporarily unavailable" in shown.observed
    assert all(not r.error and "does not compile" in r.observed for r in report.results)


def test_a_file_name_from_line_cannot_forge_the_drivers_words_either(submission):
    # a #line file name supplies the start of the driver's line, #error its end: one line
    (submission / "getpid_test.c").write_text(
        "#line 1 \"gcc: fatal error: cannot execute 'x\"\n"
        "#error y\u2019: vfork: Resource temporarily unavailable\nint main(void) { return 0; }\n")
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS)
    assert all(not r.error and "does not compile" in r.observed for r in report.results), report.results


def test_only_the_drivers_words_alone_or_bwraps_before_any_start_are_a_shortage():
    gcc = RunResult(argv=["gcc"], mode="pipe", pid=5, status=1 << 8, stdout=b"", stderr=b"", duration=0.0)
    assert sandbox._no_process(gcc, GCC_SAID)
    assert sandbox._no_process(gcc, "collect2: fatal error: cannot fork: Resource temporarily unavailable\n") is None
    assert not sandbox._no_process(gcc, "x.c:1:9: note: '#pragma message: x'\n" + GCC_SAID)
    assert not sandbox._no_process(gcc, "/usr/bin/ld: x.o: warning: y\n" + GCC_SAID)
    said = b"bwrap: Creating new namespace failed: Resource temporarily unavailable\n"

    def ran(stderr=said, pid=None, spawned=1 << 8, status=None):
        return RunResult(argv=["p"], mode="pipe", pid=pid, status=status, stdout=b"", stderr=stderr, duration=0.0,
                         spawned_status=spawned)

    assert sandbox._no_process(ran()) == said.decode().strip()  # bwrap said it, exited 1
    jail = b"jail: cannot exec /x/supervise: Resource temporarily unavailable\n"
    assert sandbox._no_process(ran(jail, spawned=126 << 8))   # the jail, 126
    assert not sandbox._no_process(ran(pid=9, status=0))        # the supervisor reported: the program ran
    assert not sandbox._no_process(ran(spawned=9))              # the supervisor was killed (SIGKILL)
    assert not sandbox._no_process(ran(spawned=137 << 8))       # ... under the jail's reaper: 128 + 9
    assert not sandbox._no_process(ran(b"mine\n" + said))       # and only the tools' lines


def test_the_tools_refusal_is_seen_on_a_real_run_and_a_program_cannot_fake_it():
    line = "bwrap: Creating new namespace failed: Resource temporarily unavailable"
    refused = runner.run(["unused"], wrap=lambda cmd: ["/bin/sh", "-c", f"echo '{line}' >&2; exit 1"])
    assert sandbox._no_process(refused) == line
    # a program that prints the words and kills its supervisor, so that nothing is reported
    faked = runner.run(["/bin/sh", "-c", f"echo '{line}' >&2; kill -9 $PPID"])
    # the program, its supervisor gone, was adopted here (the suite is a subreaper): reap it
    for orphan in procstate.call_until(lambda: procstate.children(os.getpid()), timeout=10, what="the orphan"):
        os.waitpid(orphan, 0)
    assert faked.pid is None and line in faked.stderr_text  # (the supervisor's report was lost)
    assert sandbox._no_process(faked) is None


class Clock:
    """time for sandbox.py alone: monotonic() is what sleep() made it (no real waiting)."""

    def __init__(self):
        import time
        self._time, self.now = time, 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def __getattr__(self, name):
        return getattr(self._time, name)


def test_a_compiles_tries_end_within_its_compile_wall(submission, monkeypatch):
    refused = short_of_processes(monkeypatch, 99, is_compile, could_not_start)
    monkeypatch.setattr(sandbox, "START_PAUSES", (0.2, 0.2, 0.2))
    monkeypatch.setattr(sandbox, "time", Clock())
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS.with_(compile_wall=0.3))
    assert len(refused) == 2  # a try, a pause, a try: no time is left for another pause
    assert all(r.error and "tried 2 times" in r.observed for r in report.results)


def timed_out(argv):
    return RunResult(argv=list(argv), mode="pipe", pid=1, status=9, stdout=b"", stderr=b"", duration=1.0,
                     timed_out=True)


def test_a_retry_cut_short_by_the_tries_before_it_is_a_shortage_not_a_slow_compile(submission, monkeypatch):
    # the first try found no process after most of the wall (gcc waits 15 s on a refused
    # fork); the second got what was left and ran out of it: that says nothing about the file
    clock = Clock()

    def slow_refusal(argv):
        clock.now += 20.0  # of the 30 s compile wall
        return could_not_start(argv)

    answers = iter([slow_refusal, timed_out])
    refused = short_of_processes(monkeypatch, 2, is_compile, lambda argv: next(answers)(argv))
    monkeypatch.setattr(sandbox, "time", clock)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS.with_(compile_wall=30.0))
    assert len(refused) == 2
    for r in report.results:
        assert r.error and "does not compile" not in r.observed and "ran out of what was left of its time" in r.observed


def test_a_retry_with_most_of_the_wall_left_that_times_out_is_the_files_own_slow_compile(submission, monkeypatch):
    answers = iter([could_not_start, timed_out])  # the refusal cost nothing: the file had the wall
    refused = short_of_processes(monkeypatch, 2, is_compile, lambda argv: next(answers)(argv))
    monkeypatch.setattr(sandbox, "time", Clock())
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS.with_(compile_wall=30.0))
    assert len(refused) == 2
    assert all(not r.error and "does not compile" in r.observed for r in report.results), report.results


def test_a_runs_process_limit_counts_on_top_of_the_users_only_without_a_uid_of_its_own(monkeypatch, tmp_path):
    # containment none: the user's budget is shared, so a run gets its room on top of what
    # they run; under the pool uid the limit stays the uid's total (overlapping runs must
    # not raise the ceiling: a fork bomb's bound)
    monkeypatch.setenv("PYLAB_BWRAP", str(tmp_path / "no-bwrap"))
    monkeypatch.setattr(sandbox.procstate, "nproc_count", lambda uid: 100)
    with Sandbox(LIMITS, fallback=True) as sb:
        given = []
        monkeypatch.setattr(sb.jail, "wrap", lambda limits, **kw: given.append(limits["nproc"]))
        real_uid = sb.uid
        for uid in (None, 4242):
            sb.uid = uid
            sb._run_options(dict(sb.rlimits()), 0, None, tmp_path)
        sb.uid = real_uid
    assert given == [LIMITS.nproc + 1 + 100, LIMITS.nproc + 1]


def test_an_instructor_check_stopped_by_a_shortage_is_the_graders_error(submission, tmp_path):
    from pylab.grading.grader import extra_checks
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_short.py").write_text(
        "from pylab.grading.sandbox import Shortage\n\n"
        "def test_needs_a_process():\n    raise Shortage('no process was to be had')\n\n"
        "def test_fails_for_real():\n    assert False, 'the real failure'\n")
    results = {r.check.split("::")[-1]: r for r in extra_checks(checks, submission, LIMITS, 2)}
    assert results["test_needs_a_process"].error and "could not be carried out" in results["test_needs_a_process"].observed
    assert not results["test_fails_for_real"].error and results["test_fails_for_real"].observed == "the real failure"


def test_without_namespace_or_uid_the_compiler_has_no_process_limit_and_runs_keep_theirs(submission, monkeypatch):
    # containment "none": the process limit would count all the user runs; the compiler
    # (no student code) is not put under it, the submission's runs are
    from types import SimpleNamespace
    monkeypatch.setattr(sandbox, "_UidLease", lambda: SimpleNamespace(uid=None, release=lambda: None))
    monkeypatch.setenv("PYLAB_BWRAP", str(submission / "no-bwrap"))
    seen = []
    real = Sandbox._run_options

    def run_options(self, limits, *rest):
        seen.append(dict(limits))
        return real(self, limits, *rest)

    monkeypatch.setattr(Sandbox, "_run_options", run_options)
    report = grade_submission(submission, [exercises.find("getpid_test")], LIMITS, containment="uid")
    assert report.containment == "none" and report.score == report.max_score == 4
    compiles = [lim for lim in seen if lim.get("as") == sandbox.COMPILE_LIMITS["as"]]
    runs = [lim for lim in seen if lim.get("as") == LIMITS.memory]
    assert compiles and all("nproc" not in lim for lim in compiles)
    assert runs and all(lim["nproc"] == LIMITS.nproc for lim in runs)


def test_a_live_run_the_supervisor_could_not_fork_is_tried_again(monkeypatch):
    from pylab.run import toolchain

    class Refused:  # what runner.start gives back when the supervisor said "execfail EAGAIN"
        running, exec_error = False, errno.EAGAIN

        def wait(self, timeout=None):
            return could_not_start(["getpid_test"])

    refused = short_of_processes(monkeypatch, 1, lambda argv: True, lambda argv: Refused())
    with Sandbox(LIMITS) as sb:
        binary = sb.install(toolchain.find("getpid_test").build())
        live, _ = sb.start([binary])
        result = live.wait(timeout=10)
    assert len(refused) == 1 and result.exit_code == 0 and "process ID is" in result.stdout_text


def test_without_namespaces_one_exercises_fork_loop_leaves_the_next_exercise_its_processes(tmp_path, monkeypatch,
                                                                                         tmp_path_factory):
    # the exercises share the uid's process limit there, so they are graded one at a time:
    # a correct fork_test scores in full beside a getpid_test that forks without end.
    # Without a uid of its own (a normal user: containment none) each run's limit is the
    # user's count then plus nproc: room the suite's other workers, forking beside this
    # test under the same uid, must not be able to take: no other bomb runs meanwhile
    # (process_room), and a wider nproc than the others' leaves room for their lesser forks.
    monkeypatch.setenv("PYLAB_BWRAP", str(tmp_path / "no-bwrap"))
    (tmp_path / "getpid_test.c").write_text("#include <unistd.h>\nint main(void) { for (;;) fork(); }\n")
    shutil.copy(exercises.find("fork_test").reference_source(), tmp_path / "fork_test.c")
    with process_room(tmp_path_factory, alone=True):
        report = grade_submission(tmp_path, [exercises.find("getpid_test"), exercises.find("fork_test")],
                                  LIMITS.with_(wall=0.5, nproc=48), containment="uid")
    assert report.containment in ("uid", "none")
    bomb = [r for r in report.results if r.exercise == "getpid_test"]
    fine = [r for r in report.results if r.exercise == "fork_test"]
    assert bomb and all(r.score == 0 and not r.error for r in bomb)
    assert fine and all(r.score == r.max_score for r in fine), [(r.name, r.observed) for r in fine]
