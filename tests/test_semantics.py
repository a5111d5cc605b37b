"""The exit-semantics matrix (`pylab compare`): the semantics it must show, read off live runs.

The whole matrix is computed once for the test run, by `pylab compare --format json` in a
fresh process (conftest's compare_run, a few seconds); tests that need a different program
or exit code run single cells with semantics.observe().
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from pylab.bindings import native
from pylab.cli import main as cli

from pylab.compare import matrix as semantics

from pylab.run import toolchain
from pylab.compare.matrix import observe, way


@pytest.fixture(scope="module")
def rows(compare_run):
    assert compare_run.returncode == 0, compare_run.stderr
    return json.loads(compare_run.stdout)["rows"]


def pick(rows, key, target, env="unset"):
    w = way(key)
    found = [r for r in rows if (r["lang"], r["how"], r["mode"], r["env"]) == (w.lang, w.how, target, env)]
    assert len(found) == 1, f"expected one row for {key} / {target} / {env}, got {len(found)}"
    return found[0]


def test_exit_and_os_exit_lose_pending_output_on_a_pipe(rows):
    """_exit and os._exit end the process without flushing: a pipe's full buffer is dropped."""
    for key, pending in (("C _exit(n)", ["c-line", "c-tail"]), ("Python os._exit(n)", ["py-line", "py-tail"])):
        row = pick(rows, key, "pipe")
        assert row["lost"] == pending and row["stdout"] == "", (key, row)
        assert row["returncode"] == semantics.DEFAULT_CODE


def test_exit_flushes_stdio_on_a_pipe_and_runs_the_handler_first(rows):
    """C exit() runs atexit handlers, then flushes stdio: the handler's output comes last."""
    for key in ("C exit(n)", "C return from main"):
        row = pick(rows, key, "pipe")
        assert row["markers"] == ["c-line", "c-tail", "c-atexit"] and row["c_atexit"] is True, row


def test_a_terminal_gets_complete_lines_even_when_the_tail_is_lost(rows):
    """On a tty stdio is line-buffered: the newline wrote the line, only the tail was pending."""
    row = pick(rows, "C _exit(n)", "tty")
    assert row["flushed"] == ["c-line"] and row["lost"] == ["c-tail"], row


def test_c_exit_through_cffi_flushes_c_stdio_but_not_pythons_buffer(rows):
    """C exit() knows C's FILE buffers and atexit list, not Python's io buffers or atexit."""
    row = pick(rows, "C+Python Python print then C exit", "pipe")
    assert "c-tail" in row["flushed"] and "py-tail" in row["lost"], row
    assert row["c_atexit"] is True and row["py_atexit"] is False and row["finally"] is False, row


def test_python_atexit_runs_before_c_atexit(rows):
    """Python runs its handlers in Py_Finalize; C's run later, in the exit() that follows main."""
    row = pick(rows, "C+Python C and Python atexit both registered, falling off the end", "pipe")
    assert row["markers"].index("py-atexit") < row["markers"].index("c-atexit"), row


def test_sys_exit_256_is_seen_as_0():
    """A wait status keeps only the low 8 bits of the exit code: 256 & 0xff == 0."""
    for key in ("Python sys.exit(n)", "C exit(n)"):
        row = observe(way(key), "pipe", code=256)
        assert row["returncode"] == 0 and row["status"] == "exited with code 0", (key, row)


def test_sys_exit_message_exits_1_with_the_message_on_stderr(rows):
    """sys.exit(str) prints the string to stderr and exits with status 1."""
    row = pick(rows, 'Python sys.exit("message")', "pipe")
    assert row["returncode"] == 1 and row["stderr"] == "goodbye from sys.exit", row


def test_uncaught_exception_runs_finally_and_atexit_then_exits_1(rows):
    """An uncaught exception unwinds (finally), prints a traceback, then shuts down normally."""
    row = pick(rows, "Python uncaught exception", "file")
    assert row["finally"] and row["py_atexit"] and row["returncode"] == 1, row
    assert row["stderr"].splitlines()[-1] == "RuntimeError: boom", row


def test_sigkill_runs_no_handler(rows):
    """SIGKILL cannot be caught: the process ends inside the kernel, no code of its own runs."""
    for target in semantics.MODES:
        row = pick(rows, "C killed by SIGKILL", target)
        assert row["c_atexit"] is False and row["returncode"] == -9 and "c-tail" in row["lost"], row


def test_python_killed_by_sigterm_runs_neither_finally_nor_atexit(rows):
    """Python installs no SIGTERM handler: the default action kills it before any Python code runs."""
    row = pick(rows, "Python killed by SIGTERM", "pipe")
    assert (row["finally"], row["py_atexit"], row["returncode"]) == (False, False, -15), row


def test_os_fork_child_that_calls_sys_exit_runs_the_parents_atexit_handlers(rows):
    """The child inherits the atexit registry and the try block; sys.exit unwinds both there."""
    row = pick(rows, "Python sys.exit(n) in a child after os.fork", "pipe")
    assert row["py_atexit"] is True and row["finally"] is True, row
    m = row["markers"]
    assert m.index("child") < m.index("py-atexit") < m.index("parent"), m  # the child's own run
    assert row["returncode"] == semantics.DEFAULT_CODE and "py-atexit" in row["parent_ran"], row


def test_c_child_exit_writes_the_parents_copied_buffer_again(rows):
    """fork copies the unflushed stdio buffer; the child's exit() flushes its copy."""
    row = pick(rows, "C exit(n) in a child after fork", "pipe")
    assert row["markers"].count("c-tail") == 2 and row["c_atexit"] is True, row


def test_pythonunbuffered_changes_what_survives(rows):
    """PYTHONUNBUFFERED=1 (and -u) unbuffer Python's stdout and, in-process, C stdio too."""
    key = "C+Python C printf then os._exit"
    assert pick(rows, key, "pipe")["flushed"] == []
    for env in ("PYTHONUNBUFFERED=1", "python -u"):
        assert pick(rows, key, "pipe", env)["flushed"] == ["py-line", "py-tail", "c-line", "c-tail"], env
    # a C program never reads the variable: its rows do not move
    c_rows = [pick(rows, "C _exit(n)", "pipe", env) for env in semantics.C_ENVS]
    assert c_rows[0]["lost"] == c_rows[1]["lost"] == ["c-line", "c-tail"]


def test_adding_an_fflush_changes_the_matrix(tmp_path):
    """The cells come from the program: flushing before _exit makes the tail survive."""
    source = (toolchain.csrc_dir() / "drivers" / "endings.c").read_text()
    anchor = 'printf("<c-tail>");'
    assert anchor in source
    changed = tmp_path / "endings.c"
    changed.write_text(source.replace(anchor, anchor + "\n    fflush(stdout);"))
    before = observe(way("C _exit(n)"), "pipe")
    after = observe(way("C _exit(n)"), "pipe", c_binary=toolchain.build(changed))
    assert before["lost"] == ["c-line", "c-tail"] and after["flushed"] == ["c-line", "c-tail"], (before, after)


def test_every_way_and_target_has_a_row(rows):
    """The JSON promises a row per (way, target), in each environment the way runs under."""
    seen = {(r["lang"], r["how"], r["mode"]) for r in rows}
    assert seen == {(w.lang, w.how, t) for w in semantics.WAYS for t in semantics.MODES}
    assert len(rows) == len(semantics.cases())
    for r in rows:
        assert set(semantics.FIELDS) <= set(r)


def test_cli_json_is_computed_live(compare_run):
    """`pylab compare --format json` runs the matrix end to end in a fresh process."""
    proc = compare_run
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["rows"]
    assert {(r["lang"], r["how"], r["mode"]) for r in got} == {
        (w.lang, w.how, t) for w in semantics.WAYS for t in semantics.MODES}


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_cli_table_and_markdown_show_every_way(rows, fmt, monkeypatch, capsys):
    """The text formats render every way; the rows are this module's live matrix."""
    monkeypatch.setattr(semantics, "matrix", lambda: rows)
    assert cli.main(["compare", "--format", fmt]) == 0
    out = capsys.readouterr().out
    for w in semantics.WAYS:
        assert w.how.replace("|", "\\|") in out, w.key
    if fmt == "markdown":
        assert re.search(r"^\| lang \| how \| env \| mode \|", out, re.M)
    else:
        assert "C · killed by SIGKILL" in out


def test_sys_exit_flushes_c_stdio_before_pythons_buffers(rows):
    """Python's SystemExit handling calls fflush(stdout) before its shutdown flushes sys.stdout."""
    m = pick(rows, "C+Python C printf then sys.exit", "pipe")["markers"]
    assert m.index("c-tail") < m.index("py-line") and m.index("py-atexit") < m.index("c-atexit"), m


def test_sigint_becomes_keyboardinterrupt_and_python_then_dies_of_it(rows):
    """Python handles SIGINT: finally and atexit run, then it re-raises SIGINT so its parent sees it."""
    row = pick(rows, "Python killed by SIGINT (Ctrl-C)", "pipe")
    assert row["finally"] and row["py_atexit"] and row["returncode"] == -2, row
    assert row["stderr"].splitlines()[-1] == "KeyboardInterrupt", row


def test_python_rows_start_without_site_and_c_python_rows_import_the_drivers_pylab(tmp_path):
    """-S leaves site out of every Python row; a C+Python row's own prelude still finds
    the bindings, and they are the ones this process imported (not a source tree's)."""
    for key in ("Python os._exit(n)", "C+Python C printf then os._exit"):
        assert semantics.command(way(key), "unset")[1:3] == ["-P", "-S"], key
    argv = semantics.command(way("C+Python C printf then os._exit"), "unset")
    anchor = "from pylab.bindings import native\n"
    assert anchor in argv[-1]
    # the row's prelude up to that import, then leave before its atexit handler prints
    probe = (argv[-1].split(anchor)[0] + anchor
             + "print(native.__file__, sys.flags.no_site, flush=True)\nos._exit(0)\n")
    out = subprocess.run([*argv[:-1], probe], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert out.stdout.split() == [native.__file__, "1"], out.stderr
