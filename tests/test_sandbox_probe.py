"""The namespace probe runs the way grading runs bwrap, as a pool uid, and only as one it
has leased: a uid another grader holds may be swept (all its processes killed) at any
moment, which would kill the probe and refuse grading for nothing."""
import os

from pylab.grading import sandbox


def test_the_probe_runs_as_a_uid_it_leased_and_gives_it_back(monkeypatch):
    probed = []
    monkeypatch.setattr(sandbox.bwrap, "problem", lambda uid=None: probed.append(uid))
    if os.geteuid() != 0:  # a normal user probes as itself: no pool
        assert sandbox.namespaces_problem() is None and probed == [None]
        return
    released = []
    release = sandbox._UidLease.release
    monkeypatch.setattr(sandbox._UidLease, "release", lambda self: released.append(self.uid) or release(self))
    held = sandbox._UidLease()  # another grader's
    try:
        assert sandbox.namespaces_problem() is None
        assert probed[0] is not None and probed[0] != held.uid and probed[0] in sandbox.pool_uids()
        assert released == [probed[0]]  # given back once probed
    finally:
        held.release()
