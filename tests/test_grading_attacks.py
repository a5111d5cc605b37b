"""The hostile corpus (tests/attacks/): every attack submission scores 0 on what it
attacks, max_score unchanged, with nothing left running or written outside, nothing
secret in the report, in bounded time. All of them are graded at once, in parallel,
as `pylab grade --jobs` would; the tests then read the reports."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest

import pylab
from pylab.grading import exercises, sandbox
from pylab.grading.grader import grade_submission
from pylab.grading.sandbox import Limits
from pylab.observe import procstate
from pylab.run import toolchain
from support import process_room

CORPUS = Path(__file__).parent / "attacks"
LIMITS = Limits(wall=1.0, cpu=1, nproc=16, compile_wall=10.0)
BOUND = 40.0  # seconds for one attack's grading, all of them running at once on 2 cores
MARK = "pylab-attack-"  # the prefix of every file an attack tries to leave behind
SECRET = "pylab-canary-" + secrets.token_hex(8)
OUTSIDE = [Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"), Path.home()]


def _header(text: str) -> dict:
    fields = {}
    for key in ("attack", "family", "target", "zero", "expect", "wall"):
        m = re.search(rf"^[ /]\*+ {key}: (.*)$", text, re.M)
        if m:
            fields[key] = m.group(1).strip()
    return fields


ATTACKS = {p.stem: _header(p.read_text()) for p in sorted(CORPUS.glob("*.c"))}


def _plant_link(target):
    return lambda path: os.symlink(target, path)


def _plant_device(path):
    if os.geteuid() == 0:
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # a /dev/zero of its own
    else:  # a normal user cannot make a device: a link to one
        os.symlink("/dev/zero", path)


def _plant_sparse_giant(path):
    with open(path, "wb") as f:
        f.truncate(3 << 29)  # 1.5 GiB, all holes: read whole, it would cost 1.5 GiB


PLANTS = {  # special files in place of the C file: (how, the reason the grader must give)
    "link_to_reference": (lambda p: os.symlink(toolchain.programs()["getpid_test"].source, p), "symbolic link"),
    "link_to_shadow": (_plant_link("/etc/shadow"), "symbolic link"),
    "link_to_environ": (_plant_link("/proc/self/environ"), "symbolic link"),
    "link_to_proc_mem": (_plant_link("/proc/self/mem"), "symbolic link"),
    "fifo": (lambda p: os.mkfifo(p), "a FIFO"),
    "device": (_plant_device, "a device|symbolic link"),
    "sparse_giant": (_plant_sparse_giant, "larger than"),
    "folder": (lambda p: os.mkdir(p), "a folder"),
}


def _secrets() -> list[str]:
    """What no report may hold: the canary (in the grader's environment and in a
    classmate's file), a line of the reference and of the hidden checks, the grader's
    own paths, root's password hash."""
    ref = toolchain.programs()["getpid_test"].source.read_text().splitlines()[0]
    # the exercise's own definition (its checks, hidden ones included, live in it): a
    # report may name a check, never show the instructor's file
    ex = exercises.find("getpid_test")
    checks = (ex.folder / "exercise.toml").read_text().splitlines()[0]
    found = [SECRET, ref, checks, "pylab-grade-", "PYTEST_CURRENT_TEST"]
    try:
        found.append(Path("/etc/shadow").read_text().split(":")[1])
    except (OSError, IndexError):
        pass  # a normal user cannot read it: nor can their sandbox
    return [s for s in found if len(s) > 3]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Grade every attack and every plant; return {name: (report, seconds, exercise)}."""
    root = tmp_path_factory.mktemp("attacks")
    classmate = root / "batch" / "alice"
    classmate.mkdir(parents=True)
    (classmate / "getpid_test.c").write_text(f"/* {SECRET} */\n")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    fill = {"@CSRC@": str(toolchain.csrc_dir()), "@PKG@": str(Path(pylab.__file__).parent),
            "@SECRET_DIR@": str(classmate), "@PORT@": str(listener.getsockname()[1]), "@MARK@": MARK}
    jobs = {}
    for name, head in ATTACKS.items():
        folder = root / name
        folder.mkdir()
        text = (CORPUS / f"{name}.c").read_text()
        for key, value in fill.items():
            text = text.replace(key, value)
        (folder / f"{head['target']}.c").write_text(text)
        jobs[name] = (folder, exercises.find(head["target"]))
    for name, (plant, _) in PLANTS.items():
        folder = root / f"plant_{name}"
        folder.mkdir()
        plant(folder / "getpid_test.c")
        jobs[f"plant_{name}"] = (folder, exercises.find("getpid_test"))
    before = {name: sorted(os.listdir(folder)) for name, (folder, _) in jobs.items()}

    def grade(name):
        folder, ex = jobs[name]
        wall = ATTACKS.get(name, {}).get("wall")
        t0 = time.monotonic()
        report = grade_submission(folder, [ex], LIMITS.with_(wall=float(wall)) if wall else LIMITS)
        return name, (report, time.monotonic() - t0, ex)

    os.environ["PYLAB_TEST_SECRET"] = SECRET  # the grader's environment: never the sandbox's
    try:
        with process_room(tmp_path_factory), ThreadPoolExecutor(8) as pool:  # bombs among them
            graded = dict(pool.map(grade, sorted(jobs)))
    finally:
        del os.environ["PYLAB_TEST_SECRET"]
    try:
        conn, _ = listener.accept()
        conn.close()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    yield {"graded": graded, "secrets": _secrets(), "reached": reached, "root": root,
           "before": before, "jobs": jobs}
    shutil.rmtree(root, ignore_errors=True)


def test_the_corpus_covers_every_family_of_the_issue_with_at_least_30_attacks():
    families = {h["family"] for h in ATTACKS.values()}
    assert len(ATTACKS) + len(PLANTS) >= 30
    assert families >= {
        "read references or hidden checks", "forged evidence", "planted links for the root grader",
        "FIFO and huge logs", "raising limits", "stopping, tracing or killing the supervisor and the grader",
        "daemons", "fork, thread and clone bombs", "namespaces", "listeners and outgoing connections",
        "cores and files left in /tmp and /dev/shm", "uid reuse", "output floods and control characters",
        "compile-time includes"}
    for name, head in ATTACKS.items():
        assert head.get("attack") and head.get("target") and head.get("expect"), name


def _checked(corpus, name, zero, expect):
    report, took, ex = corpus["graded"][name]
    assert report.env_error is None, report.env_error
    assert report.containment == "namespaces"
    assert report.max_score == ex.max_score  # nothing vanished from the total
    attacked = [r for r in report.results if zero == "all" or r.check in zero.split()]
    assert attacked and all(r.score == 0 for r in attacked), [(r.check, r.score, r.observed) for r in attacked]
    assert not any(r.error for r in report.results), [r.observed for r in report.results if r.error]
    observed = "\n".join(f"{r.expected}\n{r.observed}" for r in attacked)
    assert re.search(expect, observed), observed
    assert took < BOUND
    # the runs left nothing for the sandbox to kill at its close (in its cgroups, or as
    # its uid while it still held it): each pid namespace took everything with it
    assert report.killed_at_close == []
    text = json.dumps([asdict(r) for r in report.results])
    leaked = [s for s in corpus["secrets"] if s in text]
    assert not leaked, leaked
    return report


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_scores_zero_leaves_nothing_and_leaks_nothing(corpus, name):
    head = ATTACKS[name]
    _checked(corpus, name, head.get("zero", "all"), head["expect"])


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_a_special_file_in_place_of_the_c_file_is_refused_with_a_reason(corpus, name):
    report = _checked(corpus, f"plant_{name}", "all", PLANTS[name][1])
    assert all("getpid_test.c" in r.observed for r in report.results)


def test_the_corpus_wrote_nothing_outside_and_left_no_process(corpus):
    left = [str(p) for d in OUTSIDE if d.is_dir() for p in d.glob(f"{MARK}*")]
    left += [str(p) for p in corpus["root"].rglob(f"{MARK}*")]
    left += [str(p) for p in corpus["root"].rglob("results.json")]
    assert not left, left
    # every submission folder is as the test made it: the sandbox never saw it
    assert {name: sorted(os.listdir(folder)) for name, (folder, _) in corpus["jobs"].items()} == corpus["before"]
    locks = Path(sandbox.UID_LOCKS).glob("pylab-grade-uid-*.lock")
    assert not [p for p in locks if p.is_symlink()]
    assert procstate.descendants(os.getpid()) == []


def test_the_grader_listener_on_its_own_loopback_was_never_reached(corpus):
    assert corpus["reached"] is False
    report = corpus["graded"]["connect_out"][0]
    assert re.search(r"grader -1 internet -1 dns -1", report.results[0].observed)


def test_raised_limits_still_hold(corpus):
    observed = corpus["graded"]["raise_limits"][0].results[0].observed
    forked = int(re.search(r"forked (\d+) of 100", observed).group(1))
    assert forked <= LIMITS.nproc - 1  # the program is one of its nproc processes


def test_bombs_are_held_at_the_process_limit(corpus):
    threads = int(re.search(r"threads (\d+)", corpus["graded"]["thread_bomb"][0].results[0].observed).group(1))
    made = int(re.search(r"made (\d+)", corpus["graded"]["clone_bomb"][0].results[0].observed).group(1))
    assert threads <= LIMITS.nproc - 1 and made <= LIMITS.nproc - 1
