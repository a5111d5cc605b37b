"""Compiling C: the cache (headers included), several files, -I/-D/-l/cflags, compile
and link errors, the default -O0, a missing compiler, unknown programs."""
from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pylab.run import runner, toolchain


def test_build_is_cached_by_content(tmp_path):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    first = toolchain.build(src)
    mtime = first.stat().st_mtime_ns
    assert toolchain.build(src) == first and first.stat().st_mtime_ns == mtime
    src.write_text('#include <stdio.h>\nint main(void) { puts("ho"); return 0; }\n')
    assert toolchain.build(src) != first


def test_askers_of_one_new_binary_at_once_share_one_compile(tmp_path):
    """The suite's workers (and grade --jobs) ask for the same program together: one
    compiles, the others wait and find it built."""
    log = tmp_path / "compiles"
    cc = tmp_path / "counting-cc"  # gcc, counting the compiles it is asked for
    cc.write_text(f'#!/bin/sh\ncase "$1" in --version) ;; *) echo x >> {log} ;; esac\nexec gcc "$@"\n')
    cc.chmod(0o755)
    src = tmp_path / "shared.c"
    src.write_text(f"int main(void) {{ return {os.getpid() % 100}; }} /* {tmp_path} */\n")
    start = threading.Barrier(6)

    def ask():
        start.wait()
        return toolchain.build(src, cc=str(cc))

    with ThreadPoolExecutor(6) as pool:
        binaries = set(pool.map(lambda _: ask(), range(6)))
    assert len(binaries) == 1 and next(iter(binaries)).exists()
    assert log.read_text().count("x") == 1, "each asker compiled it again"


def test_a_lock_that_cannot_be_had_does_not_stop_a_build(tmp_path, monkeypatch):
    """A holder stopped past LOCK_WAIT, or a lock file that cannot be opened: the build
    goes on without the lock (the rename keeps it correct)."""
    import fcntl
    monkeypatch.setenv("PYLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(toolchain, "LOCK_WAIT", 0.1)
    first, second = tmp_path / "held.c", tmp_path / "dir.c"
    first.write_text("int main(void) { return 1; }\n")
    second.write_text("int main(void) { return 2; }\n")
    holder = None
    for src in (first, second):  # learn each one's slot, then empty it
        slot = toolchain.build(src).parent.parent
        shutil.rmtree(slot)
        slot.mkdir()
        if src is first:
            holder = os.open(slot / ".lock", os.O_RDONLY | os.O_CREAT, 0o644)
            fcntl.flock(holder, fcntl.LOCK_EX)
        else:
            (slot / ".lock").mkdir()  # not a file: cannot be opened to lock
    try:
        pool = ThreadPoolExecutor(1)  # (a build that waited for ever would fail here, not hang)
        try:
            built = pool.submit(toolchain.build, first).result(timeout=60)
        finally:
            pool.shutdown(wait=False)
        assert runner.run([built]).exit_code == 1
        assert runner.run([toolchain.build(second)]).exit_code == 2
    finally:
        if holder is not None:
            os.close(holder)


def test_flags_are_part_of_the_cache_key(tmp_path):
    src = tmp_path / "k.c"
    src.write_text("int main(void) { return 0; }\n")
    assert toolchain.build(src) != toolchain.build(src, flags=("-O0",))


def test_warnings_from_wall_wextra_are_kept(tmp_path):
    src = tmp_path / "warn.c"
    src.write_text("int main(int argc, char **argv) { int unused; return 0; }\n")
    assert "unused" in toolchain.warnings_for(toolchain.build(src))


def test_compile_error_carries_the_whole_compiler_output(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int main(void) { return undefined_name; }\n")
    with pytest.raises(toolchain.CompileError) as info:
        toolchain.build(src)
    assert "undefined_name" in info.value.output
    assert "broken.c" in str(info.value)


def test_missing_compiler_is_a_clear_error(tmp_path, monkeypatch):
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 0; }\n")
    monkeypatch.setenv("CC", "no-such-cc")
    toolchain.compiler.cache_clear()
    try:
        with pytest.raises(toolchain.CompilerMissing, match="no C compiler"):
            toolchain.build(src)
    finally:
        toolchain.compiler.cache_clear()


def test_missing_source_file_is_a_clear_error(tmp_path):
    with pytest.raises(toolchain.ToolchainError, match="no such C file"):
        toolchain.build(tmp_path / "nope.c")


def test_unknown_program_suggests_close_names():
    with pytest.raises(toolchain.UnknownProgram, match="exit2"):
        toolchain.find("exit")


def test_the_c_sources_travel_with_the_package():
    import pylab

    csrc = toolchain.csrc_dir()
    assert (csrc / "programs" / "zombie.c").is_file()
    assert (csrc / "tools" / "supervise.c").is_file()
    pkg = os.path.dirname(pylab.__file__)
    # installed from a wheel: csrc/ sits inside the package; editable: beside it
    assert csrc in (toolchain.Path(pkg) / "csrc", toolchain.Path(pkg).parent / "csrc")


PROGRAMS = Path(__file__).parent / "programs"


def test_editing_an_included_header_rebuilds(tmp_path):
    (tmp_path / "inc").mkdir()
    header = tmp_path / "inc" / "value.h"
    header.write_text("#define VALUE 1\n")
    src = tmp_path / "main.c"
    src.write_text('#include <stdio.h>\n#include "value.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n')
    first = toolchain.build(src, include_dirs=[tmp_path / "inc"])
    assert runner.run([first]).stdout == b"1\n"
    assert toolchain.build(src, include_dirs=[tmp_path / "inc"]) == first  # unchanged: cached
    header.write_text("#define VALUE 2\n")
    second = toolchain.build(src, include_dirs=[tmp_path / "inc"])
    assert second != first and runner.run([second]).stdout == b"2\n"


def test_two_files_an_include_folder_and_a_define_build_one_program():
    srcs = [PROGRAMS / "twofiles" / "main.c", PROGRAMS / "twofiles" / "greet.c"]
    inc = PROGRAMS / "twofiles" / "include"
    plain = toolchain.build(srcs, include_dirs=[inc])
    assert runner.run([plain]).lines == ["hello from greet.c", "answer 42"]
    told = toolchain.build(srcs, include_dirs=[inc], defines=['GREETING="hi there"'])
    assert told != plain and runner.run([told]).lines == ["hi there", "answer 42"]


def test_without_its_include_folder_the_program_does_not_compile():
    with pytest.raises(toolchain.CompileError, match="main.c does not compile") as info:
        toolchain.build([PROGRAMS / "twofiles" / "main.c", PROGRAMS / "twofiles" / "greet.c"])
    assert info.value.stage == "compile" and "greet.h" in info.value.output


def test_a_link_error_is_one_message_with_the_linkers_text(tmp_path):
    src = tmp_path / "lonely.c"
    src.write_text("int helper(void);\nint main(void) { return helper(); }\n")
    with pytest.raises(toolchain.CompileError) as info:
        toolchain.build(src)
    assert info.value.stage == "link"
    assert str(info.value) == "lonely.c does not link: undefined reference to `helper'"
    assert "ld returned 1 exit status" in info.value.output
    assert not list(toolchain.cache_dir().glob("*/.lonely.*"))  # no half-built folder left


def _refused(sources, **kw) -> toolchain.CompileError:
    with pytest.raises(toolchain.CompileError) as info:
        toolchain.build(sources, **kw)
    return info.value


def test_a_missing_library_is_named_in_the_one_line_not_collect2s_wrap_up(tmp_path):
    src = tmp_path / "plain.c"
    src.write_text("int main(void) { return 0; }\n")
    e = _refused(src, libs=["nosuchlib"])
    assert e.stage == "link"
    assert str(e).startswith("plain.c does not link: cannot find -lnosuchlib")
    assert "ld returned" in e.output and "ld returned" not in str(e)  # the details keep all of it


def test_a_multiple_definition_is_the_one_line_without_the_objects_paths(tmp_path):
    (tmp_path / "one.c").write_text("int f(void) { return 1; }\nint main(void) { return f(); }\n")
    (tmp_path / "two.c").write_text("int f(void) { return 2; }\n")
    e = _refused([tmp_path / "one.c", tmp_path / "two.c"])
    assert e.stage == "link"
    assert str(e) == "one.c does not link: multiple definition of `f'"
    assert "first defined here" in e.output


def test_an_undefined_reference_wins_over_the_compilers_warnings_before_it(tmp_path):
    src = tmp_path / "warns.c"
    src.write_text("int helper(void);\nint main(void) { int unused; return helper(); }\n")
    e = _refused(src)
    assert "warning: unused variable" in e.output  # the compiler spoke first
    assert str(e) == "warns.c does not link: undefined reference to `helper'"


def test_a_compile_error_is_the_compilers_first_error_not_a_function_named_error(tmp_path):
    src = tmp_path / "errs.c"
    # a warning in report_error() comes first: its "In function 'report_error'" line holds
    # the word, and gcc quotes the source line with the string in it
    src.write_text("void report_error(void) { int unused; }\n"
                   'int main(void) { const char *s = "undefined reference to x"; (void)s; return nope; }\n')
    e = _refused(src)
    assert e.stage == "compile"
    head, _, line = str(e).partition(": ")
    assert head == "errs.c does not compile"
    assert "errs.c:2:" in line and "error: " in line and "nope" in line  # (gcc's quotes follow the locale)
    assert "report_error" not in line and "unused" not in line


def test_a_library_is_linked_with_l(tmp_path):
    src = tmp_path / "root.c"
    src.write_text('#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n'
                   'int main(int c, char **v) { (void)c; printf("%.0f\\n", sqrt(atof(v[1]))); return 0; }\n')
    assert runner.run([toolchain.build(src, libs=["m"]), "81"]).stdout == b"9\n"


def test_the_default_is_minus_O0_and_cflags_O2_changes_a_textbook_result():
    src = PROGRAMS / "opt_changes_result.c"
    assert toolchain.OPT == "-O0" and "-O0" in toolchain.FLAGS
    assert runner.run([toolchain.build(src)]).lines == ["plain 2", "volatile 2"]
    assert runner.run([toolchain.build(src, cflags="-O2")]).lines == ["plain 1", "volatile 2"]


def test_command_is_the_line_build_runs(tmp_path):
    cmd = toolchain.command(["a.c", "b.c"], tmp_path / "out", include_dirs=[PROGRAMS], defines=["X=1"],
                            libs=["m"], cflags="-O2 -pthread")
    assert cmd[0] == toolchain.compiler()[0]
    assert cmd[-3:] == ["a.c", "b.c", "-lm"]
    assert ["-I", str(PROGRAMS.resolve())] == cmd[cmd.index("-I"):cmd.index("-I") + 2]
    assert "-DX=1" in cmd and cmd.index("-O2") > cmd.index("-O0")


def test_a_missing_include_folder_is_a_clear_error(tmp_path):
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 0; }\n")
    with pytest.raises(toolchain.ToolchainError, match="no such include directory"):
        toolchain.build(src, include_dirs=[tmp_path / "nope"])


def test_the_same_source_beside_another_header_is_another_program(tmp_path):
    text = '#include <stdio.h>\n#include "value.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n'
    for name, value in (("a", 1), ("b", 2)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.c").write_text(text)  # byte for byte the same file
        (tmp_path / name / "value.h").write_text(f"#define VALUE {value}\n")
    first = toolchain.build(tmp_path / "a" / "main.c")
    second = toolchain.build(tmp_path / "b" / "main.c")
    assert runner.run([first]).stdout == b"1\n" and runner.run([second]).stdout == b"2\n"
    assert toolchain.build(tmp_path / "a" / "main.c") == first  # each still cached


def test_output_writes_the_binary_where_asked_every_time(tmp_path):
    src = tmp_path / "o.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("o"); return 0; }\n')
    out = toolchain.build(src, output=tmp_path / "bin-o")
    assert out == tmp_path / "bin-o" and runner.run([out]).stdout == b"o\n"
    out.unlink()
    assert toolchain.build(src, output=tmp_path / "bin-o").exists()  # not served from the cache
