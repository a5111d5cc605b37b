"""The command line: the contract scripts and CI rely on (DESIGN.md)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pylab.bindings import native
from pylab.cli import main as cli
from pylab.cli.parsing import MAX_SECONDS, seconds
from support import into_a_closed_pipe


@pytest.fixture
def pylab(pylab_cli):
    """`pylab ARGS` in this process (conftest's pylab_cli)."""
    return pylab_cli


def pylab_process(*args, env=None, stdin=subprocess.DEVNULL):
    """`python -m pylab ARGS`, a real process: for what only one can show (the console
    script, the exit-2 contract, an environment read once per process)."""
    return subprocess.run([sys.executable, "-P", "-m", "pylab", *args], capture_output=True, text=True,
                          env=env, stdin=stdin, timeout=120)


def test_version_and_console_script():
    out = pylab_process("--version")
    assert out.returncode == 0 and out.stdout.startswith("pylab ")
    script = Path(sys.executable).parent / "pylab"
    assert script.exists(), "the pylab console script is installed beside python"
    assert subprocess.run([script, "--version"], capture_output=True, text=True).stdout == out.stdout


def test_list_shows_the_seed_programs_and_json(pylab):
    out = pylab("list")
    assert out.returncode == 0
    for name in ("getpid_test", "fork_test", "exit_test1", "exit2", "_exit1", "zombie"):
        assert name in out.stdout
    data = json.loads(pylab("list", "--json").stdout)
    names = {p["name"] for p in data["programs"]}
    assert "zombie" in names and all(p["summary"] for p in data["programs"])


def test_no_demo_has_a_c_programs_name():
    """`pylab run NAME` looks for a C program first and imports the demos only for another
    name: that choice is only the same as "a demo first" while the two sets of names are apart."""
    from pylab.cli.demos import DEMOS
    from pylab.run import toolchain
    programs = set(toolchain.programs())
    assert programs and DEMOS
    assert not programs & set(DEMOS)


def test_run__exit1_on_a_tty_shows_the_line_and_says_why(pylab):
    out = pylab("run", "_exit1", "--mode", "tty")
    assert out.returncode == 0
    assert out.stdout == "output begin\n"
    assert "terminal" in out.stderr and "line-buffers it (probed just now)" in out.stderr


def test_run__exit1_on_a_pipe_shows_nothing_and_says_why(pylab):
    out = pylab("run", "_exit1", "--mode", "pipe")
    assert out.returncode == 0
    assert out.stdout == ""
    why = [ln for ln in out.stderr.splitlines() if ln.startswith("pylab:")]
    assert len(why) == 1 and "pipe" in why[0] and "full-buffers it (probed just now)" in why[0]


def test_run_json_reports_status_and_output(pylab):
    data = json.loads(pylab("run", "exit2", "--mode", "file", "--json").stdout)
    assert data["exit_code"] == 0 and data["mode"] == "file"
    assert data["stdout"] == "output begin\ncontent in buffer"


def test_run_feeds_stdin_only_when_asked(tmp_path, pylab):
    line = tmp_path / "line.txt"
    line.write_text("release\n")
    # zombie - holds until a line (or EOF) on stdin: both end it, neither hangs
    assert pylab("run", "zombie", "--mode", "pipe", "--stdin", str(line), "--", "-").returncode == 0
    # pylab's own stdin left open (as some CI runners do) must not be read by default
    with subprocess.Popen([sys.executable, "-P", "-m", "pylab", "run", "zombie", "--mode", "pipe", "--", "-"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
        try:
            assert p.wait(timeout=60) == 0
        finally:
            p.kill()
    missing = pylab("run", "zombie", "--stdin", str(tmp_path / "none.txt"))
    assert missing.returncode == 2 and "cannot read --stdin file" in missing.stderr


def test_run_passes_arguments_after_double_dash(pylab):
    out = pylab("run", "zombie", "--mode", "pipe", "--", "0")
    assert out.returncode == 0 and "exited with code 0" in out.stderr


@pytest.mark.parametrize("args,needle", [
    (["run", "no_such_program"], "unknown program"),
    (["run", "_exit1", "--mode", "socket"], "invalid choice"),
    (["state", "not-a-pid"], "invalid int value"),
    (["frobnicate"], "invalid choice"),
    (["run", "/no/such/file.c"], "no such C file"),
    (["run", "_exit1", "--timeout", "inf"], "at most 31536000 (a year), not 'inf'"),
    (["run", "_exit1", "--linger", "inf"], "at most 31536000 (a year), not 'inf'"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    out = pylab_process(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["run", "trace"])
def test_run_and_trace_without_arguments_name_only_what_the_user_must_give(command):
    out = pylab_process(command)
    assert out.returncode == 2
    assert out.stderr == (f"pylab: error: the following arguments are required: NAME|FILE.c "
                          f"(see 'pylab {command} --help')\n")


def test_compile_error_shows_the_compiler_output_and_exits_2(tmp_path, pylab):
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return nope; }\n")
    out = pylab("run", str(bad))
    assert out.returncode == 2
    assert "does not compile" in out.stderr and "nope" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_compiler_exits_2(tmp_path):
    src = tmp_path / "fresh.c"
    src.write_text("int main(void) { return 0; }\n")
    out = pylab_process("run", str(src), env={**os.environ, "CC": "no-such-cc", "PYLAB_CACHE": str(tmp_path)})
    assert out.returncode == 2
    assert out.stderr.strip().startswith("pylab: error: no C compiler")


def test_state_of_a_zombie_and_of_a_missing_pid(pylab):
    pid = native.make_zombie(3)
    try:
        out = pylab("state", str(pid))
        assert out.returncode == 0
        assert "zombie" in out.stdout and "agree" in out.stdout
        data = json.loads(pylab("state", str(pid), "--json").stdout)
        assert data["states"] == {"proc": "Z", "ps": "Z", "psutil": "Z"}
        assert data["holds"]["vm_rss"] is None
    finally:
        native.waitpid(pid)
    gone = pylab("state", str(pid))
    assert gone.returncode == 2 and f"no process with pid {pid}" in gone.stderr


def test_doctor_says_ready_here(pylab):
    out = pylab("doctor")
    assert out.returncode == 0, out.stdout
    assert out.stdout.strip().endswith("ready")


def test_no_command_is_a_usage_error_on_stderr(pylab):
    out = pylab()
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == ["pylab: error: the following arguments are required: COMMAND (see 'pylab --help')"]


def test_text_the_terminal_cannot_encode_is_escaped_not_a_traceback(monkeypatch):
    # the compare table's middle dot, a seed's Chinese, on an ASCII stdout (PYTHONIOENCODING=ascii)
    import io
    from pylab.cli import main as cli
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    cli._unbreakable_output()  # what main() does first
    print("C \u00b7 exit \u4fee")
    out.flush()
    assert raw.getvalue() == b"C \\xb7 exit \\u4fee\n"


def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(monkeypatch, capsys):
    from pylab.cli import main as cli
    from pylab.run import toolchain

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/home/x/secret.c")

    monkeypatch.setattr(toolchain, "build", refused)
    assert cli.main(["run", "/home/x/secret.c", "--mode", "pipe"]) == 2
    assert capsys.readouterr().err.splitlines() == ["pylab: error: /home/x/secret.c: Permission denied"]


def test_sockets_help_is_the_sockets_labs_own(pylab):
    out = pylab("sockets", "--help")
    assert out.returncode == 0
    assert "serve" in out.stdout and "seed-server" in out.stdout
    bad = pylab("sockets", "bogus")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_bare_sockets_is_a_usage_error_on_stderr_as_a_bare_assignment_is():
    """`pylab sockets` with no command printed the whole help to stdout, exit 2, nothing on
    stderr. A usage error is one line on stderr and exit 2 (DESIGN), the same line a bare
    `pylab assignment` gives, the lab's other command group; in a real process: no traceback."""
    out = pylab_process("sockets")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == [
        "pylab: error: the following arguments are required: COMMAND (see 'pylab sockets --help')"]
    group = pylab_process("assignment")
    assert group.returncode == 2 and group.stdout == ""
    assert group.stderr.splitlines() == [
        "pylab: error: the following arguments are required: ACTION (see 'pylab assignment --help')"]


def test_run_watch_shows_the_zombie_from_outside(pylab):
    data = json.loads(pylab("run", "zombie", "--watch", "--json", "--", "0.3").stdout)
    states = data["states"]
    parent, child = data["pid"], next(c["pid"] for c in states if c["ppid"] == data["pid"])
    child_states = [c["state"] for c in states if c["pid"] == child]
    assert "Z" in child_states and child_states[-1] == "gone"  # a zombie, then reaped
    assert [c["state"] for c in states if c["pid"] == parent][-1] == "gone"
    text = pylab("run", "zombie", "--watch", "--", "0.3")
    assert "watched from outside" in text.stderr and " Z " in text.stderr


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_run_timeout_must_be_positive(value, pylab):
    out = pylab("run", "exit2", "--timeout", value)
    assert out.returncode == 2 and "above 0" in out.stderr


def _seconds_options():
    """(command, option) for every option of every command whose value is a number of
    seconds: the ones whose type reads "1.5" as 1.5 (parsing.seconds and its wrappers)."""
    found = []
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    for command, parser in sub.choices.items():
        for action in parser._actions:
            if action.option_strings and callable(action.type):
                try:
                    if action.type("1.5") == 1.5 and isinstance(action.type("1.5"), float):
                        found.append((command, action.option_strings[-1]))
                except (argparse.ArgumentTypeError, ValueError, TypeError):
                    pass
    return found


def test_the_seconds_options_are_the_ones_tested_below():
    """A new option that takes seconds is caught here: it must be added to the tests below."""
    assert sorted(_seconds_options()) == sorted(
        (c, o) for c in ("run", "trace") for o in ("--linger", "--timeout"))


@pytest.mark.parametrize("command,option", [(c, o) for c in ("run", "trace") for o in ("--linger", "--timeout")])
@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "nan", "1e300", str(MAX_SECONDS + 1)])
def test_a_seconds_option_rejects_infinity_and_huge_values(command, option, value, pylab):
    """inf gave the runner's OverflowError traceback and exit 1; 1e300 milliseconds do not fit
    the supervisor's C long. No option documents a way to say "no limit", so each is refused
    in one line, exit 2, before anything is built or run."""
    out = pylab(command, "exit2", f"{option}={value}")
    assert out.returncode == 2, out
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and f"argument {option}" in err[0] and f"not {value!r}" in err[0], err
    assert out.stdout == ""


def test_seconds_takes_the_whole_range_and_nothing_outside_it():
    assert seconds(str(MAX_SECONDS)) == MAX_SECONDS
    assert seconds("0.0001") == 0.0001
    assert seconds("0", zero_ok=True) == 0.0
    for text, zero_ok in (("0", False), ("-0.5", True), ("inf", True), ("nan", True),
                          (str(MAX_SECONDS * 1.0001), True), ("1e400", False)):
        with pytest.raises(argparse.ArgumentTypeError):
            seconds(text, zero_ok=zero_ok)


def test_the_longest_timeout_and_linger_still_run(pylab):
    """The cap is not off by one: a year is accepted and the run is as usual (the program
    exits long before either)."""
    out = pylab("run", "exit2", "--mode", "pipe", "--timeout", str(MAX_SECONDS), "--linger", str(MAX_SECONDS),
                "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["exit_code"] == 0


def test_a_closed_stdout_is_one_line_and_exit_2_and_a_closed_stdin_reads_as_empty():
    py = f"{sys.executable} -P -m pylab"
    out = subprocess.run(["sh", "-c", f"exec {py} list --json >&-"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.splitlines() == [
        "pylab: error: stdout or stderr is closed: give pylab somewhere to write"]
    ran = subprocess.run(["sh", "-c", f"exec {py} run fork_test --mode pipe <&-"], capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr and "exited with code 0" in ran.stderr


def test_an_os_error_with_no_file_says_where_it_came_from(monkeypatch, capsys):
    import errno
    from pylab.cli import main as cli
    from pylab.run import toolchain

    def no_device(*args, **kwargs):
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(toolchain, "build", no_device)
    assert cli.main(["run", "fork_test", "--mode", "pipe"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("pylab: error: No such device (in no_device, test_cli.py:") and "pylab doctor" in line


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_a_reader_that_goes_away_leaves_the_status_the_command_had_decided(unbuffered):
    """A broken pipe is no verdict: a report already decided keeps its status, quietly
    (a grade below full marks keeps its 1: tests/test_grading_cli.py)."""
    for args in (["list"], ["run", "fork_test", "--mode", "pipe"]):
        out = into_a_closed_pipe([sys.executable, "-P", "-m", "pylab", *args], unbuffered)
        assert (out.returncode, out.stderr) == (0, ""), (args, out.stderr)


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_a_broken_pipe_before_anything_was_decided_ends_as_sigpipe_would(tmp_path, unbuffered):
    """Cut off before its status was settled, pylab ends as a program SIGPIPE killed
    (128 + 13), not with a 0 that says it finished."""
    code = ("import sys\nfrom pylab.cli import main as cli\n"
            "from pylab.cli import catalog\n"
            "catalog.settle = lambda code: code\n"  # list as a command that settles nothing
            "sys.exit(cli.main(['list']))\n")
    out = into_a_closed_pipe([sys.executable, "-P", "-c", code], unbuffered, cwd=tmp_path)
    assert (out.returncode, out.stderr) == (141, "")
