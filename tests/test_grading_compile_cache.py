"""The grader's compile cache (pylab.grading.compile_cache): a repeat compile of the same
bytes, headers, command and compiler is taken from the cache; any change misses; what a
submission runs can neither see nor change it or the folder a compile runs in."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from pylab.grading import compile_cache
from pylab.grading.sandbox import Sandbox
from pylab.run import toolchain

HELLO = b'#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'
# prints which side of the lab header's marker it was compiled on
MARKED = b'#include <stdio.h>\n#include "err.h"\nint main(void) {\n#ifdef PYLAB_TEST_MARK\n' \
         b'  puts("marked");\n#else\n  puts("plain");\n#endif\n  return 0; }\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of this test's own (PYLAB_COMPILE_CACHE), and a count of the
    compiler's runs."""
    monkeypatch.setenv(compile_cache.ENV_SWITCH, str(tmp_path / "cache" / "grading-compiles"))
    runs = []
    real = Sandbox._run

    def counted(self, argv, *a, **kw):
        if kw.get("root") is not None or "-o" in argv:  # a compile
            runs.append(argv)
        return real(self, argv, *a, **kw)

    monkeypatch.setattr(Sandbox, "_run", counted)
    return {"runs": runs, "folder": tmp_path / "cache" / "grading-compiles"}


def _compile_and_run(src: Path, data: bytes) -> tuple[str, bytes]:
    with Sandbox() as sb:
        assert sb.containment == "namespaces"
        binary = sb.compile(src, data)
        result, _ = sb.run([binary])
        return result.stdout_text, binary.read_bytes()


def test_a_repeat_compile_of_the_same_bytes_is_taken_from_the_cache_and_runs_the_same(tmp_path, cache):
    src = tmp_path / "hello.c"
    first = _compile_and_run(src, HELLO)
    second = _compile_and_run(src, HELLO)
    assert first[0] == second[0] == "hello\n"
    assert first[1] == second[1]  # the same binary, copied into the second sandbox fresh
    assert len(cache["runs"]) == 1  # the compiler ran once
    assert [p.suffix for p in cache["folder"].iterdir()] == [".binary"]
    assert stat.S_IMODE(os.lstat(cache["folder"]).st_mode) == 0o700


def test_a_changed_byte_of_the_file_misses_the_cache(tmp_path, cache):
    src = tmp_path / "hello.c"
    assert _compile_and_run(src, HELLO)[0] == "hello\n"
    assert _compile_and_run(src, HELLO.replace(b"hello", b"hellO"))[0] == "hellO\n"
    assert len(cache["runs"]) == 2


def test_a_changed_lab_header_misses_the_cache(tmp_path, cache, monkeypatch):
    src = tmp_path / "marked.c"
    assert _compile_and_run(src, MARKED)[0] == "plain\n"
    csrc = tmp_path / "csrc"
    shutil.copytree(toolchain.csrc_dir(), csrc)
    header = csrc / "include" / "err.h"
    header.write_text(header.read_text() + "\n#define PYLAB_TEST_MARK 1\n")
    monkeypatch.setenv("PYLAB_CSRC", str(csrc))
    assert _compile_and_run(src, MARKED)[0] == "marked\n"
    assert len(cache["runs"]) == 2


def test_a_compile_error_is_kept_with_its_whole_message(tmp_path, cache):
    src = tmp_path / "broken.c"
    messages = []
    for _ in range(2):
        with Sandbox() as sb, pytest.raises(toolchain.CompileError) as e:
            sb.compile(src, b"int main(void) { return undeclared_name; }\n")
        messages.append(e.value.output)
    assert messages[0] == messages[1] and "undeclared_name" in messages[0] and "/box/src/" not in messages[0]
    assert len(cache["runs"]) == 1
    assert [p.suffix for p in cache["folder"].iterdir()] == [".error"]


def test_only_an_error_the_same_compile_always_gives_is_kept():
    diagnostic = "x.c:1:1: error: 'y' undeclared"
    assert compile_cache.cacheable_error(1, False, False, diagnostic)
    assert not compile_cache.cacheable_error(1, True, False, diagnostic)  # timed out
    assert not compile_cache.cacheable_error(1, False, True, diagnostic)  # cut at the output cap
    assert not compile_cache.cacheable_error(None, False, False, diagnostic)  # killed
    assert not compile_cache.cacheable_error(4, False, False, diagnostic)  # gcc's internal error
    for resource in ("cc1: out of memory allocating 65536 bytes", "virtual memory exhausted",
                     "gcc: fatal error: cannot execute 'cc1': vfork: Resource temporarily unavailable",
                     "gcc: fatal error: Killed signal terminated program cc1"):
        assert not compile_cache.cacheable_error(1, False, False, resource), resource


def test_a_changed_compiler_changes_the_key(tmp_path):
    cc = tmp_path / "gcc"
    shutil.copy(shutil.which("gcc"), cc)
    argv = [str(cc), "-o", "/box/bin/x", "/box/src/x.c"]
    before = compile_cache.key(argv, {"src/x.c": HELLO}, {})
    assert compile_cache.key(argv, {"src/x.c": HELLO}, {}) == before
    os.utime(cc, ns=(1, 1))
    assert compile_cache.key(argv, {"src/x.c": HELLO}, {}) != before
    assert compile_cache.key(argv, {"src/x.c": HELLO}, {"wall": 1}) != compile_cache.key(argv, {"src/x.c": HELLO}, {})


POISON = rb'''#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
/* writes a header and a source of the lab's names wherever the sandbox lets it, and
   looks for the cache and the compile folders */
int main(int argc, char **argv) {
    const char *poison = "#error poisoned\n";
    const char *paths[] = {"/box/include/err.h", "/box/src/marked.c", "/box/bin/marked", NULL};
    for (int i = 0; paths[i]; i++) {
        remove(paths[i]);
        FILE *f = fopen(paths[i], "w");
        if (f) { fputs(poison, f); fclose(f); }
        printf("wrote %s: %s\n", paths[i], f ? "yes" : "no");
    }
    struct stat st;
    printf("cache seen: %s\n", stat(argv[1], &st) == 0 ? "yes" : "no");
    return 0;
}
'''


def test_what_a_submission_runs_cannot_see_the_cache_or_change_a_later_compile(tmp_path, cache):
    with Sandbox() as sb:
        poison = sb.compile(tmp_path / "poison.c", POISON)
        result, _ = sb.run([poison, str(cache["folder"])])
        assert "wrote /box/include/err.h: yes" in result.stdout_text  # its own /box, yes
        assert "cache seen: no" in result.stdout_text
        marked = sb.compile(tmp_path / "marked.c", MARKED)  # after the poison: not seen
        after, _ = sb.run([marked])
        assert after.stdout_text == "plain\n"
    with Sandbox() as sb:  # and what the cache gave the next sandbox is the clean binary
        again, _ = sb.run([sb.compile(tmp_path / "marked.c", MARKED)])
        assert again.stdout_text == "plain\n"
    assert len(cache["runs"]) == 2  # poison and marked, each once


def test_a_cache_folder_others_can_write_or_a_planted_link_or_hard_link_is_never_used(tmp_path, cache):
    src = tmp_path / "hello.c"
    _compile_and_run(src, HELLO)
    entry = next(cache["folder"].iterdir())
    os.chmod(cache["folder"], 0o777)
    assert compile_cache.folder() is None
    assert _compile_and_run(src, HELLO)[0] == "hello\n" and len(cache["runs"]) == 2  # compiled again
    os.chmod(cache["folder"], 0o700)
    fake = tmp_path / "fake"
    fake.write_bytes(b"#!/bin/sh\necho poisoned\n")
    entry.unlink()
    entry.symlink_to(fake)
    assert _compile_and_run(src, HELLO)[0] == "hello\n" and len(cache["runs"]) == 3
    entry.unlink()
    os.link(fake, entry)  # a file of ours with a second name
    assert _compile_and_run(src, HELLO)[0] == "hello\n" and len(cache["runs"]) == 4


def test_without_namespaces_nothing_is_looked_up_or_kept(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("PYLAB_BWRAP", str(tmp_path / "no-bwrap"))
    for _ in range(2):
        with Sandbox(fallback=True) as sb:
            assert sb.containment != "namespaces"
            result, _ = sb.run([sb.compile(tmp_path / "hello.c", HELLO)])
            assert result.stdout_text == "hello\n"
    assert len(cache["runs"]) == 2
    assert not cache["folder"].exists() or not any(cache["folder"].iterdir())


def test_pylab_compile_cache_off_compiles_every_time(tmp_path, cache, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_SWITCH, "off")
    src = tmp_path / "hello.c"
    assert _compile_and_run(src, HELLO)[0] == _compile_and_run(src, HELLO)[0] == "hello\n"
    assert len(cache["runs"]) == 2
    assert not cache["folder"].exists() or not any(cache["folder"].iterdir())


def test_prune_keeps_the_most_recently_used_within_a_count_and_a_size(tmp_path):
    for i in range(5):
        p = tmp_path / f"{i}.binary"
        p.write_bytes(b"x" * 10)
        os.utime(p, ns=(i * 10**9, i * 10**9))
    compile_cache.prune(tmp_path, keep=3, max_bytes=1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.binary", "3.binary", "4.binary"]
    compile_cache.prune(tmp_path, keep=3, max_bytes=25)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.binary", "4.binary"]


def test_a_result_past_the_store_cap_is_not_kept(tmp_path, cache):
    big = b"char blob[3 << 20] = {1};\nint main(void) { return blob[0] - 1; }\n"  # a 3 MiB .data
    for _ in range(2):
        with Sandbox() as sb:
            result, _ = sb.run([sb.compile(tmp_path / "big.c", big)])
            assert result.exit_code == 0
    assert len(cache["runs"]) == 2
    assert not any(cache["folder"].iterdir())


def test_a_cache_that_cannot_be_written_leaves_the_grade_as_it_is(tmp_path, cache, monkeypatch):
    def refused(*a, **kw):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(compile_cache.tempfile, "mkstemp", refused)  # a full disk, a read-only folder
    with Sandbox() as sb:
        result, _ = sb.run([sb.compile(tmp_path / "hello.c", HELLO)])
    assert result.exit_code == 0 and result.stdout_text == "hello\n"
    assert not any(cache["folder"].iterdir())


def test_a_process_prunes_on_its_first_store(tmp_path, monkeypatch):
    # a grader started once per submission never reaches a 64th store: it prunes on its first
    folder = tmp_path / "grading-compiles"
    monkeypatch.setenv(compile_cache.ENV_SWITCH, str(folder))
    monkeypatch.setattr(compile_cache, "_stores", 0)
    pruned = []
    monkeypatch.setattr(compile_cache, "prune", lambda where, *a, **kw: pruned.append(where))
    compile_cache.store("a" * 64, "binary", b"x")
    compile_cache.store("b" * 64, "binary", b"y")
    assert pruned == [folder]


def test_a_cache_folder_whose_parent_others_can_write_is_never_used(tmp_path, monkeypatch):
    # whoever may rename in the parent could swap the folder for a link after the check
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(compile_cache.ENV_SWITCH, str(shared / "grading-compiles"))
    assert compile_cache.folder() is None
    shared.chmod(0o777 | stat.S_ISVTX)  # sticky, as /tmp: only an entry's owner may rename it
    assert compile_cache.folder() == shared / "grading-compiles"
    shared.chmod(0o755)
    assert compile_cache.folder() == shared / "grading-compiles"
