"""checks.hold looks at a running program from outside: the fork log, /proc's children,
the parent's state. What it concludes must not depend on when a fork or an exit falls
between two of its reads (a loaded machine, CI, moves those moments anywhere)."""
import pytest

from pylab.grading import checks
from pylab.grading.exercise import Fail
from pylab.grading.evidence import Watch


class World:
    """A program (pid 10) that forks child 11 at a chosen read, the child then a zombie."""

    def __init__(self, fork_at_children_call: int):
        self.calls, self.fork_at, self.forked = 0, fork_at_children_call, False

    @classmethod
    def forked_already(cls) -> "World":
        world = cls(fork_at_children_call=0)
        world.forked = True
        return world

    def children(self, pid):
        self.calls += 1
        kids = [11] if self.forked else []
        if self.calls == self.fork_at:
            self.forked = True  # the fork lands right after this read
        return kids


class Proc:
    pid, inner_pid, running = 10, 10, True

    def write(self, text):
        self.running = False

    def close_stdin(self):
        pass

    def wait(self):
        return type("R", (), {"pid": 10})()


class Ctx:
    def __init__(self, world):
        self.world = world

    def start(self, *args, **kw):
        return Proc()

    def watch(self):
        return Watch(forks=[(11, 10)] if self.world.forked else [])

    def time_left(self):
        return 5.0


def _outside(monkeypatch, children, holding):
    """What hold reads of the machine: /proc's children, their state (a zombie), the
    namespace pids (the same here), whether the parent sleeps elsewhere than wait."""
    monkeypatch.setattr(checks.procstate, "children", children)
    monkeypatch.setattr(checks.procstate, "state_proc", lambda pid: "Z")
    monkeypatch.setattr(checks.procstate, "ns_pids", lambda pid: [pid])
    monkeypatch.setattr(checks, "_holding", holding)


@pytest.mark.parametrize("fork_at", [1, 2, 3])
def test_a_fork_between_the_reads_of_a_look_is_never_taken_for_a_collected_child(monkeypatch, fork_at):
    world = World(fork_at)
    _outside(monkeypatch, world.children, lambda pid: True)
    result, forks, _ = checks.hold(Ctx(world))  # a Fail here is the race
    assert forks == [(11, 10)]


def test_a_child_the_log_names_and_proc_no_longer_has_is_told_as_collected(monkeypatch):
    world = World.forked_already()
    _outside(monkeypatch, lambda pid: [], lambda pid: True)
    with pytest.raises(Fail) as failed:
        checks.hold(Ctx(world))
    assert "already collected" in failed.value.observed


def test_a_parent_caught_on_its_way_to_wait_is_not_holding(monkeypatch):
    """Seen once holding (a zombie, the parent asleep elsewhere), then in wait: no hold."""
    world = World.forked_already()
    looks = iter([True, False])
    kids = iter([[11], [11]])  # then collected: /proc has it no more
    _outside(monkeypatch, lambda pid: next(kids, []), lambda pid: next(looks, False))
    with pytest.raises(Fail) as failed:
        checks.hold(Ctx(world))
    assert "already collected" in failed.value.observed


def test_a_holding_parent_stopped_a_moment_by_the_tracer_still_holds(monkeypatch):
    """Seen holding, then in a tracing stop (SIGCHLD), then holding again: a hold."""
    world = World.forked_already()
    looks = iter([True, False, False, True])
    _outside(monkeypatch, lambda pid: [11], lambda pid: next(looks, True))
    result, forks, _ = checks.hold(Ctx(world))
    assert forks == [(11, 10)]
