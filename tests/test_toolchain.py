"""Compiling C: the cache, compile errors, a missing compiler, unknown programs."""
from __future__ import annotations

import os

import pytest

from pylab.run import toolchain


def test_build_is_cached_by_content(tmp_path):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    first = toolchain.build(src)
    mtime = first.stat().st_mtime_ns
    assert toolchain.build(src) == first and first.stat().st_mtime_ns == mtime
    src.write_text('#include <stdio.h>\nint main(void) { puts("ho"); return 0; }\n')
    assert toolchain.build(src) != first


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
