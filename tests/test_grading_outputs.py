"""Where `pylab grade` writes its reports: a device (/dev/null, /dev/stdout, /proc/self/fd/N)
is written in place and stays what it was; every other path is written atomically (a
temp file renamed over it: a planted link or FIFO is replaced, never written through);
and what would only fail after the grading is refused before it (one line, exit 2,
naming the option)."""
from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pylab.cli import main as cli
from pylab.grading import exercises, files

DEV_NULL = os.makedev(1, 3)


def _reference(folder: Path) -> Path:
    """A submission holding getpid_test's reference solution (4 points, full marks)."""
    folder.mkdir(parents=True, exist_ok=True)
    ex = exercises.find("getpid_test")
    shutil.copy(ex.reference_source(), folder / ex.source)
    return folder


def _never_grade(monkeypatch):
    def never(*a, **kw):
        raise AssertionError("graded before the output paths were checked")
    monkeypatch.setattr("pylab.cli.grading.grade_submission", never)


def _one_line(err: str, start: str) -> None:
    assert err.startswith(f"pylab: error: {start}") and err.count("\n") == 1, err
    assert "Traceback" not in err


def _dev_null_is_the_device() -> bool:
    st = os.lstat("/dev/null")
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == DEV_NULL


@pytest.fixture
def dev_kept():
    """/dev/null and /dev/stdout as they were before the test, checked after it. A
    regression would leave root's machine with a regular file for /dev/null (every
    program's `> /dev/null` then fills it): put the device (and the link) back, then fail."""
    before = os.lstat("/dev/null")
    assert _dev_null_is_the_device()
    link = os.readlink("/dev/stdout")
    yield before
    broken = []
    if not _dev_null_is_the_device():
        broken.append("/dev/null")
        if os.geteuid() == 0:
            os.unlink("/dev/null")
            os.mknod("/dev/null", stat.S_IFCHR | 0o666, DEV_NULL)
            os.chmod("/dev/null", 0o666)
    if not os.path.islink("/dev/stdout") or os.readlink("/dev/stdout") != link:
        broken.append("/dev/stdout")
        if os.geteuid() == 0:
            os.unlink("/dev/stdout")
            os.symlink(link, "/dev/stdout")
    assert not broken, f"replaced: {broken} (put back)"


# -- 1. devices are written in place ------------------------------------------------------
def test_dev_null_and_dev_stdout_are_written_in_place_never_replaced(tmp_path, dev_kept):
    sub = _reference(tmp_path / "sub")
    proc = subprocess.run([sys.executable, "-P", "-m", "pylab", "grade", str(sub), "getpid_test",
                           "--junit", "/dev/null", "--results", "/dev/stdout"],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stderr == ""
    # results.json went to this process's stdout (the pipe), before the table
    doc, end = json.JSONDecoder().raw_decode(proc.stdout)
    assert doc["score"] == 4.0 and doc["tests"], doc
    assert "total 4/4" in proc.stdout[end:]
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == DEV_NULL
    assert (after.st_ino, after.st_mode) == (dev_kept.st_ino, dev_kept.st_mode)  # the same node, never replaced
    assert os.path.islink("/dev/stdout")
    assert not [p for p in os.listdir("/dev") if p.startswith((".null.", ".stdout."))]  # no temp file left in /dev


@pytest.mark.parametrize("redirect", ["> file", ">> file"])
def test_results_to_dev_stdout_redirected_to_a_file_come_before_the_table_and_lose_nothing(redirect, tmp_path):
    """`pylab grade ... --results /dev/stdout > out.txt`: the report and the table printed
    after it share the shell's file offset, neither written over the other (a file
    reopened through /dev/stdout would start at 0 and the table then overwrite it);
    with `>>` what the file held stays in front."""
    out = tmp_path / "out.txt"
    out.write_text("kept\n")
    sub = _reference(tmp_path / "sub")
    with open(out, "a" if redirect == ">> file" else "w") as f:
        proc = subprocess.run([sys.executable, "-P", "-m", "pylab", "grade", str(sub), "getpid_test",
                               "--results", "/dev/stdout"], stdout=f, stderr=subprocess.PIPE, text=True,
                              timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    if redirect == ">> file":
        assert text.startswith("kept\n")
        text = text[len("kept\n"):]
    doc, end = json.JSONDecoder().raw_decode(text)
    assert doc["score"] == 4.0
    assert text[end:].lstrip("\n").startswith("#") and "total 4/4" in text[end:], text[end:]


@pytest.mark.parametrize("spelling", ["/proc/self/fd/{fd}", "/dev/fd/{fd}"])
def test_an_open_file_named_by_its_descriptor_is_written_in_place(spelling):
    r, w = os.pipe()
    try:
        before = os.fstat(w)
        path = spelling.format(fd=w)
        assert files.output_problem(path) is None
        files.write_atomic(path, "the report\n")
        os.set_blocking(r, False)
        assert os.read(r, 100) == b"the report\n"
        assert os.fstat(w).st_ino == before.st_ino and stat.S_ISFIFO(os.fstat(w).st_mode)
        assert os.path.islink(path)  # still the kernel's link to the pipe
    finally:
        os.close(r)
        os.close(w)


def _free_block_major() -> int | None:
    """A block device major number no driver of this kernel has (240-252: local or
    experimental use): a node with it is a block device that cannot even be opened."""
    text = Path("/proc/devices").read_text()
    used = {int(line.split()[0]) for line in text.split("Block devices:")[1].splitlines() if line.strip()}
    return next((m for m in range(240, 253) if m not in used), None)


@pytest.fixture
def block_device(tmp_path):
    """An O_PATH descriptor of a block device that nothing can be written to: as root a
    node made here for a major number no driver has; as a user, one of /dev's that this
    user may not write."""
    if os.geteuid() == 0:
        major = _free_block_major()
        if major is None:
            pytest.skip("no free block device major number")
        node = tmp_path / "blk"
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(major, 0))
    else:
        found = [p for p in Path("/dev").iterdir() if p.is_block_device() and not os.access(p, os.W_OK)]
        if not found:
            pytest.skip("no block device in /dev")
        node = found[0]
    fd = os.open(node, os.O_PATH | os.O_CLOEXEC)  # opens nothing: the node, not the device
    yield fd
    os.close(fd)


@pytest.mark.parametrize("what", ["a block device", "a directory", "nothing"])
def test_a_device_path_that_is_a_block_device_a_directory_or_nothing_is_refused_before_grading(
        what, request, tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    fd = None
    if what == "a block device":
        target = f"/proc/self/fd/{request.getfixturevalue('block_device')}"
        message = "is a block device"
    elif what == "a directory":
        fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        target = f"/dev/fd/{fd}"
        message = "is a directory"
    else:
        target = "/dev/pylab-no-such-device"
        message = "does not exist"
    try:
        assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--junit", target]) == 2
    finally:
        if fd is not None:
            os.close(fd)
        made = Path("/dev/pylab-no-such-device")
        if what == "nothing" and made.is_file() and not made.is_symlink():  # what a regression leaves in /dev
            made.unlink()
    out, err = capsys.readouterr()
    _one_line(err, f"--junit {target}: {message}")
    assert out == "" and not os.path.lexists("/dev/pylab-no-such-device")


def test_dev_shm_is_an_ordinary_folder_written_atomically(tmp_path, monkeypatch, capsys):
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    where = Path(tempfile.mkdtemp(prefix="pylab-test-", dir="/dev/shm"))
    try:
        victim = tmp_path / "victim.txt"
        victim.write_text("mine\n")
        results = where / "results.json"
        results.symlink_to(victim)
        assert not files.written_in_place(results)
        assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(results)]) == 0
        assert not results.is_symlink() and json.loads(results.read_text())["score"] == 4.0
        assert victim.read_text() == "mine\n"
        assert sorted(p.name for p in where.iterdir()) == ["results.json"]
    finally:
        shutil.rmtree(where)


@pytest.mark.parametrize("target", ["a file", "nothing", "a folder"])
def test_a_link_planted_at_the_results_path_is_replaced_never_written_through(target, tmp_path, capsys):
    victim = tmp_path / "victim"
    if target == "a file":
        victim.write_text("mine\n")
    elif target == "a folder":
        victim.mkdir()
    results = tmp_path / "results.json"  # e.g. committed in a student's repository
    results.symlink_to(victim)
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(results)]) == 0
    assert not results.is_symlink() and json.loads(results.read_text())["score"] == 4.0
    if target == "a file":
        assert victim.read_text() == "mine\n"
    elif target == "a folder":
        assert victim.is_dir() and not list(victim.iterdir())
    else:
        assert not os.path.lexists(victim)


def test_a_fifo_outside_dev_is_replaced_not_written_into(tmp_path, capsys):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    # a reader, so that a writer opening the FIFO would not block but write into it
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(fifo)]) == 0
        assert stat.S_ISREG(os.lstat(fifo).st_mode) and json.loads(fifo.read_text())["score"] == 4.0
        try:
            got = os.read(reader, 100)
        except BlockingIOError:
            got = b""
        assert got == b""  # nothing went through the FIFO
    finally:
        os.close(reader)


def test_write_atomic_refuses_a_block_device_in_place_even_without_the_check(block_device):
    with pytest.raises(OSError) as caught:
        files.write_atomic(f"/proc/self/fd/{block_device}", "x")
    assert "block device" in str(caught.value) and caught.value.errno != errno.ENOENT


def test_a_link_elsewhere_to_the_dev_folder_is_written_in_place_too(tmp_path, dev_kept, capsys):
    (tmp_path / "devices").symlink_to("/dev")  # a rename in it would replace /dev/null all the same
    junit = tmp_path / "devices" / "null"
    assert files.written_in_place(junit)
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--junit", str(junit)]) == 0
    assert "total 4/4" in capsys.readouterr().out
    assert os.lstat("/dev/null").st_ino == dev_kept.st_ino


# -- 2. what would fail after grading is refused before it ---------------------------------
def test_a_results_file_with_a_long_name_is_written(tmp_path, capsys):
    results = tmp_path / ("r" * 245 + ".json")  # 250 bytes: NAME_MAX is 255, the temp file's name too
    assert files.output_problem(results) is None
    assert cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test", "--results", str(results)]) == 0
    assert json.loads(results.read_text())["score"] == 4.0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([results.name, "sub"])


@pytest.mark.parametrize("batch", [False, True], ids=["one submission", "a batch"])
def test_a_results_path_in_a_dangling_link_s_folder_is_refused_before_grading(batch, tmp_path, monkeypatch,
                                                                               capsys):
    _never_grade(monkeypatch)
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    if batch:
        sub = tmp_path / "batch"
        _reference(sub / "alice")
        results = tmp_path / "out" / "results"
    else:
        sub = _reference(tmp_path / "sub")
        results = tmp_path / "out" / "results.json"
    assert cli.main(["grade", str(sub), "getpid_test", "--results", str(results)]) == 2
    out, err = capsys.readouterr()
    _one_line(err, f"--results {results}: ")
    assert f"{tmp_path / 'out'} is a symbolic link to" in err and "which does not exist" in err, err
    assert out == "" and not os.path.lexists(tmp_path / "gone")


@pytest.mark.parametrize("ancestor, below", [
    ("--junit", "--results"), ("--results", "--junit"), ("--classroom", "--prairielearn"),
    ("--prairielearn", "--results"),
])
def test_an_option_naming_the_folder_another_option_writes_into_is_refused_before_grading(
        ancestor, below, tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    folder = tmp_path / "out"  # not made yet: either report would make it, and then the other fails
    argv = ["grade", str(_reference(tmp_path / "sub")), "getpid_test",
            below, str(folder / "deeper" / "report"), ancestor, str(folder)]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    _one_line(err, f"{ancestor} {folder}: ")
    assert f"the folder {below} {folder / 'deeper' / 'report'} is written in" in err, err
    assert out == "" and not folder.exists()


@pytest.mark.parametrize("inner", ["summary.csv", "alice.json", "shard.json"])
def test_a_batch_junit_folder_where_results_writes_a_file_is_refused_before_grading(inner, tmp_path, monkeypatch,
                                                                                     capsys):
    _never_grade(monkeypatch)
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    results = tmp_path / "R"
    argv = ["grade", str(batch), "getpid_test", "--results", str(results), "--junit", str(results / inner)]
    if inner == "shard.json":
        argv += ["--shard", "1/1"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    _one_line(err, f"--junit {results / inner}: ")
    assert f"--results {results} writes the file {results / inner}" in err, err
    assert not results.exists()


def test_a_batch_results_folder_where_junit_writes_a_file_is_refused_before_grading(tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    junit = tmp_path / "J"
    argv = ["grade", str(batch), "getpid_test", "--junit", str(junit), "--results", str(junit / "alice.xml")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    _one_line(err, f"--results {junit / 'alice.xml'}: ")
    assert f"--junit {junit} writes the file {junit / 'alice.xml'}" in err, err


@pytest.mark.parametrize("flag, name", [("--results", "summary.csv"), ("--results", "alice.json"),
                                        ("--junit", "alice.xml")])
def test_a_batch_report_file_that_is_a_folder_is_refused_before_grading(flag, name, tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    monkeypatch.chdir(tmp_path)  # (the default --results folder, pylab-results, is made here)
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    folder = tmp_path / "out"
    (folder / name).mkdir(parents=True)
    assert cli.main(["grade", str(batch), "getpid_test", flag, str(folder)]) == 2
    err = capsys.readouterr().err
    _one_line(err, f"{flag} {folder}: ")
    assert f"{folder / name} is a directory" in err, err


def test_a_batch_junit_folder_inside_the_results_folder_is_fine(tmp_path, capsys):
    batch = tmp_path / "batch"
    _reference(batch / "alice")
    results = tmp_path / "R"
    assert cli.main(["grade", str(batch), "getpid_test", "--results", str(results),
                     "--junit", str(results / "junit")]) == 0
    assert sorted(p.name for p in results.iterdir()) == ["alice.json", "junit", "summary.csv"]
    assert [p.name for p in (results / "junit").iterdir()] == ["alice.xml"]


def test_a_batch_report_whose_name_would_be_too_long_is_refused_before_grading(tmp_path, monkeypatch, capsys):
    _never_grade(monkeypatch)
    batch = tmp_path / "batch"
    long_name = "s" * 252  # a folder may have this name; "s...s.json" may not
    _reference(batch / long_name)
    assert cli.main(["grade", str(batch), "getpid_test", "--results", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    _one_line(err, f"--results {tmp_path / 'out'}: the file sss")
    assert "longer than 255 bytes" in err and not (tmp_path / "out").exists()


def test_two_reports_may_both_go_to_dev_null(tmp_path, capsys):
    """A character device takes every report given to it: no 'the same file'."""
    sub = _reference(tmp_path / "sub")
    assert cli.main(["grade", str(sub), "getpid_test", "--results", "/dev/null", "--junit", "/dev/null"]) == 0
    assert "the same file" not in capsys.readouterr().err
    assert _dev_null_is_the_device()


def test_two_names_of_one_open_file_are_the_same_file(tmp_path, monkeypatch, capsys):
    """/dev/stdout and /proc/self/fd/1 lead to one file: two reports there would mix."""
    _never_grade(monkeypatch)
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        saved = os.dup(1)
        os.dup2(f.fileno(), 1)
        try:
            code = cli.main(["grade", str(_reference(tmp_path / "sub")), "getpid_test",
                             "--results", "/dev/stdout", "--junit", "/proc/self/fd/1"])
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    assert code == 2
    _one_line(capsys.readouterr().err, "--junit /proc/self/fd/1: the same file as --results")
