"""pylab's pytest plugin loads in every pytest run where pylab is installed (an entry
point). It arms its time limit for instructor checks only, never for anyone else's tests
(this suite's own included: a slow machine must not turn a test into a 'check' failure)."""
import os
import signal
import subprocess
import sys


def test_a_test_that_is_no_instructor_check_runs_without_the_plugins_alarm():
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)


def test_an_instructor_check_gets_its_time_limit_and_other_tests_of_the_run_do_not(tmp_path):
    (tmp_path / "test_two.py").write_text(
        "import signal\n"
        "def test_mine():\n"
        "    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0\n"
        "def test_check(lab_submission):\n"
        "    assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 20\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          f"--rootdir={tmp_path}", str(tmp_path)], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PYLAB_SUBMISSION"})
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr
