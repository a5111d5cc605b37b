import pytest
from pylab.grading.checks import Fail

pytestmark = pytest.mark.exercise("p2")


@pytest.mark.points(2)
def test_the_parent_line_on_a_pipe_names_wait_s_return(lab_compile, lab_run):
    result = lab_run(lab_compile("p2.c"), mode="pipe")
    last = result.lines[-1] if result.lines else ""
    if not last.startswith("hello, I am parent of "):
        raise Fail(expected="the parent's line last", observed=last or "nothing", hint="wait() blocks")


@pytest.mark.visibility("hidden")
def test_hidden_instructor_check_sees_exit_status_0(lab_compile, lab_run):
    assert lab_run(lab_compile("p2.c"), mode="file").exit_code == 0, "exit status 0"
