"""strace logs a fork in the parent when clone returns there; on another CPU the child may
already have run. What the child did before that line is still the child's, since it began."""
import os

from pylab.run import explain, tracer

# the child (101) writes its line and exits before the parent's clone return is logged
CHILD_FIRST = """\
100 1.000000 execve("./p", ["./p"], 0x7ffd /* 1 var */) = 0
101 1.000100 write(1, "\\x68\\x69\\x0a", 3) = 3
101 1.000150 exit_group(0) = ?
101 1.000160 +++ exited with 0 +++
100 1.000200 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
100 1.000300 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101
100 1.000400 exit_group(0) = ?
100 1.000410 +++ exited with 0 +++
"""


def test_a_child_logged_before_its_parents_fork_line_began_at_its_first_event():
    trace = tracer.parse(text=CHILD_FIRST)
    child = trace.processes()[101]
    assert child.parent == 100
    assert child.born == min(e.t for e in trace.events if e.pid == 101)


def test_a_child_that_wrote_before_its_parents_fork_line_is_not_said_to_have_written_nothing():
    trace = tracer.parse(text=CHILD_FIRST)
    said = explain.syscall_sentences(trace, program=100)
    assert not any("101" in s and "without writing" in s for s in said), said
    # and one that really wrote nothing is still told
    silent = "".join(ln for ln in CHILD_FIRST.splitlines(True) if not ln.startswith("101 1.000100 write"))
    assert silent != CHILD_FIRST
    said = explain.syscall_sentences(tracer.parse(text=silent), program=100)
    assert any(s.startswith("101") and "without writing" in s for s in said), said


# stdout a pipe: "hi" pending at the fork; the child flushes its copy at exit before the
# parent's clone return is logged, then the parent flushes its own
COPIED_CHILD_FIRST = CHILD_FIRST.replace("100 1.000400 exit_group", '100 1.000350 write(1, "\\x68\\x69\\x0a", 3) = 3\n'
                                                                 "100 1.000400 exit_group")


def test_a_buffer_copy_the_child_wrote_before_its_parents_fork_line_is_still_told_as_copied():
    assert COPIED_CHILD_FIRST.count("write(1") == 2
    said = explain.syscall_sentences(tracer.parse(text=COPIED_CHILD_FIRST), program=100)
    assert any("'hi' was written by" in s and "a copy each" in s and "child 101" in s for s in said), said
    # a parent that wrote the line before the fork did not leave it in the buffer
    early = COPIED_CHILD_FIRST.replace("100 1.000350 write", "100 1.000050 write")
    said = explain.syscall_sentences(tracer.parse(text=early), program=100)
    assert not any("a copy each" in s for s in said), said


def test_a_marker_naming_a_fifo_as_its_binary_gets_no_source_line_and_does_not_block(tmp_path):
    fifo = tmp_path / "not-a-binary"
    os.mkfifo(fifo)
    assert tracer._offset(str(fifo), "0x401136", "0x400000") is None
