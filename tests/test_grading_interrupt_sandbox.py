"""A stop (KeyboardInterrupt: Ctrl-C, or SIGTERM and SIGHUP in pylab) that comes while a
sandbox is made or closed leaves nothing of it; and what a sandbox of a process that was
killed had made is removed from its ledger (pylab.grading.sandbox.sweep), and nothing else."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pylab.grading import sandbox

# A pool of uids no other grader on this machine uses (the suite's other tests take the
# default pool). Its locks are in /tmp (sandbox.UID_LOCKS) whatever TMPDIR says, so the
# tests here and in test_grading_interrupt*.py, each with a TMPDIR of its own, never lease
# one uid twice, nor sweep what another's sandbox runs.
UIDS = "64900-64915"


def own_tmpdir() -> Path:
    """A TMPDIR for one grade, in /tmp (the pool uid passes through it, as through /tmp):
    every folder the run makes in a temp dir lands here, and only that run's."""
    folder = Path(tempfile.mkdtemp(prefix="pylab-inttest-", dir="/tmp"))
    os.chmod(folder, 0o711)
    return folder


def made_by_the_run(tmp: Path) -> list[str]:
    """What is left in the run's TMPDIR but the uid locks (shared by design: a lock file
    removed while another grader opens it would let two graders share a uid)."""
    return sorted(n for n in os.listdir(tmp) if not (n.startswith("pylab-grade-uid-") and n.endswith(".lock")))


@pytest.mark.parametrize("where", ["setting a cgroup's limit", "making the jail"])
def test_a_stop_while_a_sandbox_is_made_leaves_nothing_it_had_made(where, monkeypatch):
    """KeyboardInterrupt (pylab's stop) while the sandbox is made: its folder, its cgroups
    (one just made, before its limit is written, too) and its uid are all undone, and
    the stop goes on."""
    from pylab.grading import bwrap, sandbox

    tmp = own_tmpdir()
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        monkeypatch.setenv("PYLAB_GRADE_UIDS", UIDS)
        seen = {"cgroups": []}
        if where == "making the jail":
            def stopped(root, tools, uid, cgroups, *a, **kw):
                seen.update(top=Path(root).parent, cgroups=list(cgroups.dirs), uid=uid)
                raise KeyboardInterrupt
            monkeypatch.setattr(bwrap, "Jail", stopped)
        else:
            if os.geteuid() != 0:
                pytest.skip("only root makes cgroups")
            write_text = Path.write_text

            def stopped(path, *a, **kw):
                if str(path).startswith(str(bwrap.CGROUP_V1) + "/"):
                    seen["cgroups"].append(path.parent)
                    seen.update(top=Path(tempfile.gettempdir()), uid=None)
                    assert path.parent.is_dir()
                    raise KeyboardInterrupt
                return write_text(path, *a, **kw)
            monkeypatch.setattr(Path, "write_text", stopped)
        with pytest.raises(KeyboardInterrupt):
            sandbox.Sandbox()
        assert "top" in seen, "the stop never came"
        assert not any(d.exists() for d in seen["cgroups"]), seen["cgroups"]
        if where == "making the jail":
            assert not seen["top"].exists()
        if seen["uid"] is not None:  # its lock is free again
            fd = sandbox._UidLease._lock_of(seen["uid"])
            assert fd is not None
            os.close(fd)
        assert made_by_the_run(tmp) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


CLOSE_STEPS = {"ending its runs": "pylab.grading.sandbox.Sandbox.kill_runs",
               "emptying its cgroups": "pylab.grading.bwrap.Cgroups.remove",
               "killing what runs as its uid": "pylab.observe.procstate.processes_of_uid",
               "removing its folder": "shutil.rmtree",
               "freeing its uid": "pylab.grading.sandbox._UidLease.release"}


@pytest.mark.parametrize("step", sorted(CLOSE_STEPS))
def test_a_stop_while_a_sandbox_closes_cuts_no_step_short(step, monkeypatch):
    """KeyboardInterrupt in any step of close(): that step is done again, the others
    still run, and the stop is raised at the end."""
    import importlib

    from pylab.grading import sandbox

    tmp = own_tmpdir()
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        monkeypatch.setenv("PYLAB_GRADE_UIDS", UIDS)
        box = sandbox.Sandbox()
        top, cgroups, uid = box.top, list(box.cgroups.dirs), box.uid
        if uid is None and step in ("killing what runs as its uid", "freeing its uid"):
            box.close()
            pytest.skip("a normal user's sandbox has no uid of its own")
        where, name = CLOSE_STEPS[step].rsplit(".", 1)
        try:
            owner = importlib.import_module(where)
        except ImportError:  # a class's method
            module, cls = where.rsplit(".", 1)
            owner = getattr(importlib.import_module(module), cls)
        real, calls = getattr(owner, name), []

        def interrupted_once(*a, **kw):
            calls.append(name)
            if len(calls) == 1:
                raise KeyboardInterrupt
            return real(*a, **kw)
        monkeypatch.setattr(owner, name, interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            box.close()
        monkeypatch.setattr(owner, name, real)
        assert len(calls) == 2, calls  # interrupted, then done again
        assert not top.exists() and not any(d.exists() for d in cgroups)
        if uid is not None:
            fd = sandbox._UidLease._lock_of(uid)
            assert fd is not None, "the uid is still leased"
            os.close(fd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_sweep_removes_only_what_a_sandbox_makes(tmp_path, monkeypatch):
    """The ledger is pytest's (trusted code), but the sweep takes no line's word for what
    to remove: only a TOP folder of ours in the temp dir (never a link, never elsewhere),
    a pylab-* cgroup and a pool uid, of a sandbox that did not say it closed."""
    from pylab.grading import sandbox

    tmp = own_tmpdir()
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        monkeypatch.setenv("PYLAB_GRADE_UIDS", UIDS)
        left = tmp / "pylab-grade-left"  # a sandbox killed before it closed
        elsewhere = tmp_path / "pylab-grade-elsewhere"  # not in the temp dir
        target = tmp_path / "target"
        link = tmp / "pylab-grade-link"  # a link, to a folder that must stay
        closed = tmp / "pylab-grade-closed"  # a sandbox that closed (its name reused since)
        not_ours = tmp / "not-a-sandbox"
        for folder in (left, elsewhere, target, closed, not_ours):
            folder.mkdir()
            (folder / "file").write_text("x")
        link.symlink_to(target)
        ledger = tmp_path / "ledger.jsonl"
        lines = [{"sandbox": "a", "top": str(left)}, {"sandbox": "a", "uid": 0}, {"sandbox": "a", "cgroup": "/etc"},
                 {"sandbox": "b", "top": str(elsewhere)}, {"sandbox": "b", "top": str(link)},
                 {"sandbox": "b", "top": str(not_ours)}, {"sandbox": "b", "cgroup": str(tmp_path)},
                 {"sandbox": "c", "top": str(closed)}, {"sandbox": "c", "closed": True}]
        ledger.write_text("".join(json.dumps(e) + "\n" for e in lines) + '{"sandbox": "d", "top": "/tm')  # cut short
        assert sandbox.sweep(ledger) == []
        assert not left.exists()
        assert all((f / "file").exists() for f in (elsewhere, target, closed, not_ours)) and link.is_symlink()
        assert os.path.isdir("/etc") and tmp_path.is_dir()
        assert sandbox.sweep(tmp_path / "no-ledger") == []  # (no pytest sandbox was made)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_graders_with_temp_dirs_of_their_own_never_lease_one_uid_twice(tmp_path, monkeypatch):
    """The uid locks are machine-wide (/tmp), not the temp dir's: a lease taken under one
    TMPDIR holds its uid against a grader under another (whose close would otherwise
    kill the first one's runs, as running as 'its' uid)."""
    monkeypatch.setenv("PYLAB_GRADE_UIDS", UIDS)
    leases = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / name))
            leases.append(sandbox._UidLease())
        assert leases[0].uid != leases[1].uid
        assert not list(tmp_path.rglob("pylab-grade-uid-*.lock"))  # (in /tmp, not the temp dirs)
    finally:
        for lease in leases:
            lease.release()
