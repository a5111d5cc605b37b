"""fork_fail: fork under RLIMIT_NPROC fails with EAGAIN (the seed's "error in fork!").

RLIMIT_NPROC does not hold root, so as root the program drops to uid 65534 itself; the
limit counts every process of the uid on the machine, so the program sets it to the
count /proc gives plus EXTRA, and how many forks succeed depends on what else that uid
runs meanwhile: the tests check EAGAIN, the bounds, and that every child was reaped."""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from pylab.run import runner, toolchain
from pylab.run.runner import MODES, run_program
from support import line_matching, run_python

NOBODY = 65534
EXTRA = 3


def expected_uid(run_as: int | None) -> int:
    if run_as is not None:
        return run_as
    return NOBODY if os.geteuid() == 0 else os.getuid()


def check_eagain_report(r: runner.RunResult, uid: int) -> int:
    assert r.exit_code == 0, (r.describe(), r.stderr_text)
    head = line_matching(r, r"uid (\d+): RLIMIT_NPROC (\d+) \((\d+) processes of this uid now \+ (\d+)\)", at=0)
    assert int(head.group(1)) == uid
    limit, now, extra = map(int, head.group(2, 3, 4))
    assert (limit, extra) == (now + EXTRA, EXTRA)
    fail = line_matching(r, r"error in fork! errno EAGAIN \(Resource temporarily unavailable\) after (\d+) children",
                         at=1)
    made = int(fail.group(1))
    assert made <= limit  # the limit is on the whole uid: never more children than that
    assert r.lines[2:] == [f"made {made}, reaped {made}"]
    assert r.stragglers == []
    return made


@pytest.mark.parametrize("mode", MODES)
def test_fork_fails_with_eagain_at_the_process_limit(mode):
    check_eagain_report(run_program("fork_fail", [str(EXTRA)], mode=mode), expected_uid(None))


@pytest.fixture
def shared_copy():
    """The binary in a folder uid 65534 can read and execute (the cache may not be)."""
    folder = tempfile.mkdtemp(prefix="pylab-forkfail-")
    os.chmod(folder, 0o755)
    binary = shutil.copy(toolchain.find("fork_fail").build(), os.path.join(folder, "fork_fail"))
    os.chmod(binary, 0o755)
    yield binary
    shutil.rmtree(folder)


def test_fork_fails_for_a_process_started_unprivileged(shared_copy):
    # as root the runner starts it as 65534, so the program takes the non-root path itself;
    # as another user this is that user's plain run
    uid = NOBODY if os.geteuid() == 0 else None
    r = runner.run([shared_copy, str(EXTRA)], uid=uid, gid=uid)
    check_eagain_report(r, expected_uid(uid))


def test_extra_out_of_range_is_a_usage_error():
    r = run_program("fork_fail", ["0"])
    assert r.exit_code == 2
    assert "usage: fork_fail" in r.stderr_text


def test_python_os_fork_raises_blockingioerror_at_the_limit():
    # the interpreter may live where uid 65534 cannot read it: drop privileges inside
    r = run_python(f"""
        import errno, os, resource
        if os.geteuid() == 0:  # root is not held by RLIMIT_NPROC
            os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})
        def tasks(uid):  # what RLIMIT_NPROC counts (procstate.nproc_count, inlined: pylab
            # may not be importable once this process is uid 65534)
            total = 0
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    fields = dict(ln.split(":", 1) for ln in open(f"/proc/{{pid}}/status"))
                except OSError:
                    continue
                if int(fields["Uid"].split()[0]) == uid:
                    total += int(fields["Threads"])
            return total
        limit = tasks(os.getuid()) + {EXTRA}
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        r, w = os.pipe()
        made = []
        try:
            while len(made) < {4 * EXTRA + 20}:
                pid = os.fork()
                if pid == 0:
                    os.close(w); os.read(r, 1); os._exit(0)
                made.append(pid)
        except BlockingIOError as e:
            print("uid", os.getuid(), errno.errorcode[e.errno], len(made), limit)
        os.close(w)
        print("reaped", sum(os.waitpid(p, 0)[0] == p for p in made))
        """)
    assert r.exit_code == 0, r.stderr_text
    who, got_uid, name, made, limit = r.lines[0].split()
    assert (int(got_uid), name) == (expected_uid(None), "EAGAIN")
    assert int(made) <= int(limit)
    assert r.lines[1] == f"reaped {made}"
