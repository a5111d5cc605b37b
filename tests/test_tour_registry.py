"""The tour's registry, claim shape and renderer: claims found by import (a broken module
fails loudly), one shape (observe, then judge), one renderer for every claim, and the
C probes as files built by the one compile path."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types

import pytest

from pylab.core.errors import LabError, UsageError
from pylab.run import toolchain
from pylab.tour import memo, probes, registry
from pylab.tour.shape import Claim, ClaimList, Finding, unverified


def test_every_claim_module_is_imported_and_every_claim_has_observe_and_judge():
    claims = registry.collect()
    assert {c.seed for c in claims.values()} >= {"processes", "sockets", "lab:sockets"}
    for m in registry.MODULES:
        assert all(claims[c.id] is c for c in m.CLAIMS)
    for c in claims.values():
        assert callable(c.observe) and callable(c.judge), c.id


def test_a_module_without_claims_fails_loudly():
    with pytest.raises(LookupError, match="pylab.tour.empty has no CLAIMS"):
        registry.collect([types.ModuleType("pylab.tour.empty")])


def test_an_id_registered_twice_fails_loudly():
    a, b = types.ModuleType("a"), types.ModuleType("b")
    a.CLAIMS, b.CLAIMS = ClaimList(), ClaimList()
    for m in (a, b):
        m.CLAIMS.claim("same", "processes", "text", observe=dict)(lambda seen: Finding("confirmed", {"x": 1}))
    with pytest.raises(ValueError, match="'same' is registered by two modules"):
        registry.collect([a, b])
    with pytest.raises(ValueError, match="registered twice"):
        a.CLAIMS.claim("same", "processes", "text", observe=dict)(lambda seen: None)


@pytest.mark.parametrize("module", ["pylab.tour.sockets", "pylab.tour.exit"])
def test_a_broken_claim_module_stops_the_tour_with_its_error(module):
    # the module raises on import (as a typo inside it would): the tour must not run without it
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from pylab.cli import main\nsys.exit(main.main(['tour', '--only', 'pid-range']))")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"import of {module} halted" in r.stderr or "ModuleNotFoundError" in r.stderr or "ImportError" in r.stderr
    assert "[QUALIFIED] pid-range" not in r.stdout


def test_the_registry_does_not_import_the_command_line():
    code = "import sys, pylab.tour.registry; print(any(m.startswith('pylab.cli') for m in sys.modules))"
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr


def test_a_failing_observation_is_reported_as_error_not_hidden():
    def broken():
        raise RuntimeError("observation failed")
    row = registry.check(Claim("x", "processes", "a claim", broken, lambda seen: Finding("confirmed", {})))
    assert row["verdict"] == "error" and "observation failed" in row["evidence"]["error"]


def test_a_bug_in_a_probe_still_shows_where_it_happened():
    def broken():
        raise KeyError("no_such_field")
    row = registry.check(Claim("x", "processes", "a claim", broken, lambda seen: Finding("confirmed", {})))
    assert row["verdict"] == "error" and row["evidence"]["error"] == "KeyError: 'no_such_field'"
    assert any("in broken" in ln for ln in row["evidence"]["where"])
    # NoSuchProcess is a LabError (for `pylab state PID`), but in the tour it is a probe's race: a bug
    from pylab.observe.procstate import NoSuchProcess

    def raced():
        raise NoSuchProcess(99999999)
    row = registry.check(Claim("y", "processes", "a claim", raced, lambda seen: Finding("confirmed", {})))
    assert row["verdict"] == "error" and any("in raced" in ln for ln in row["evidence"]["where"])


def _environment_tour(monkeypatch, calls, alone: bool):
    """Three claims: the first needs a compiler this machine lacks (alone or in the pool),
    the other two need none; the second has a bug."""
    def needs_gcc():
        calls.append("needs_gcc")
        raise toolchain.CompilerMissing("no C compiler: 'gcc' is not on PATH")

    def buggy():
        calls.append("buggy")
        raise RuntimeError("a bug")
    m = types.ModuleType("pylab.tour.environment")
    m.CLAIMS = ClaimList()
    judge = lambda seen: Finding("confirmed", {"seen": seen})  # noqa: E731
    m.CLAIMS.claim("needs-gcc", "processes", "t", observe=needs_gcc, alone=alone)(judge)
    m.CLAIMS.claim("buggy", "processes", "t", observe=buggy)(judge)
    m.CLAIMS.claim("fine", "processes", "t", observe=lambda: calls.append("fine") or 1)(judge)
    collect = registry.collect
    monkeypatch.setattr(registry, "collect", lambda: collect([m]))


@pytest.mark.parametrize("alone", [True, False])
def test_an_environment_error_stops_the_tour_with_one_line_naming_the_claim(monkeypatch, alone):
    calls = []
    _environment_tour(monkeypatch, calls, alone)
    with pytest.raises(registry.TourStopped) as stopped:
        registry.tour(workers=2)
    assert str(stopped.value) == "the tour stopped at claim needs-gcc: no C compiler: 'gcc' is not on PATH"
    assert isinstance(stopped.value, LabError) and "\n" not in str(stopped.value)
    if alone:  # alone claims run first: nothing else was started
        assert calls == ["needs_gcc"]
    # without the compiler's claim the tour runs, and the bug is a row with where it happened
    report = registry.tour(["buggy", "fine"], workers=2)
    assert [r["verdict"] for r in report["claims"]] == ["error", "confirmed"]


def test_a_compile_error_stops_the_tour_with_the_compilers_output(monkeypatch):
    def refused():
        raise toolchain.CompileError(toolchain.csrc_dir() / "probes" / "abi.c", "abi.c:1: error: boom")
    m = types.ModuleType("pylab.tour.refused")
    m.CLAIMS = ClaimList()
    m.CLAIMS.claim("refused", "processes", "t", observe=refused)(lambda seen: Finding("confirmed", {}))
    monkeypatch.setattr(registry, "collect", lambda: {c.id: c for c in m.CLAIMS})
    with pytest.raises(registry.TourStopped) as stopped:
        registry.tour()
    assert str(stopped.value).startswith("the tour stopped at claim refused: ")
    assert "abi.c:1: error: boom" in stopped.value.details


def _no_compiler_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CC"}
    env["PATH"] = "/nonexistent"
    return env


def test_without_a_compiler_the_tour_says_so_in_one_line_and_exits_2():
    r = subprocess.run([sys.executable, "-P", "-m", "pylab", "tour"], capture_output=True, text=True,
                       timeout=120, env=_no_compiler_env())
    assert r.returncode == 2, r
    assert r.stdout == ""
    assert r.stderr.startswith("pylab: error: the tour stopped at claim ") and r.stderr.count("\n") == 1, r.stderr
    assert "no C compiler" in r.stderr and "Traceback" not in r.stderr
    # a claim that needs no compiler is still checked
    r = subprocess.run([sys.executable, "-P", "-m", "pylab", "tour", "--only", "pid-range", "--json"],
                       capture_output=True, text=True, timeout=120, env=_no_compiler_env())
    assert r.returncode == 0, r.stderr
    assert [c["id"] for c in json.loads(r.stdout)["claims"]] == ["pid-range"]


def test_a_finding_must_carry_what_its_verdict_needs():
    with pytest.raises(ValueError):
        Finding("qualified", {})  # a condition is needed
    with pytest.raises(ValueError):
        Finding("unverified", {})  # what was missing is needed
    with pytest.raises(ValueError):
        Finding("confirmed", {}, condition="only on Tuesdays")
    with pytest.raises(ValueError):
        Finding("maybe", {})
    assert unverified("no strace").missing == "no strace"


def test_one_renderer_shows_condition_missing_and_documentation_labelled():
    rows = [{"id": "a", "seed": "processes", "claim": "A", "verdict": "qualified", "condition": "only here",
             "missing": None, "documentation": "fork(2) says so", "evidence": {"k": 1}},
            {"id": "b", "seed": "lab:sockets", "claim": "B", "verdict": "unverified", "condition": None,
             "missing": "no namespaces", "documentation": None, "evidence": {"k": "v"}}]
    summary = {"confirmed": 0, "qualified": 1, "refuted": 0, "unverified": 1, "error": 0, "total": 2}
    out = io.StringIO()
    registry.render_text({"claims": rows, "summary": summary}, out)
    text = out.getvalue()
    assert "[QUALIFIED] a: A\n    only when: only here\n    documentation (read, not observed here): fork(2) says so" in text
    assert "[UNVERIFIED] b: B\n    not observed: no namespaces" in text
    assert "== seed: processes.md ==" in text and "== the sockets lab's own claims (not in a seed) ==" in text
    assert text.rstrip().endswith("2 claims: 0 confirmed, 1 qualified, 0 refuted, 1 unverified")


def test_evidence_is_shown_whole_never_cut_off():
    """A long record is unfolded, a long sentence wrapped, a newline escaped: every word
    of the evidence reaches the student, one value per line."""
    conclusion = "so the verdict rests on this last word: " + "because " * 20 + "THE-END"
    evidence = {"probe": {f"key{i}": f"value{i}" for i in range(15)}, "so": conclusion,
                "cases": [{"closes first": "server", "restart": "EADDRINUSE", "states": ["TIME_WAIT"] * 8}],
                "bytes": "line\n", "short": [1, 2]}
    row = {"id": "a", "seed": "processes", "claim": "A", "verdict": "confirmed", "condition": None,
           "missing": None, "documentation": None, "evidence": evidence}
    lines = registry.render_row(row)
    text = "\n".join(lines)
    assert "..." not in text and all(len(ln) <= 100 for ln in lines)
    long = registry.render_row({**row, "verdict": "qualified", "condition": "the end of it: " + "word " * 40 + "LAST"})
    assert long[1].startswith("    only when: the end of it:") and all(len(ln) <= 100 for ln in long)
    assert any(ln.endswith("LAST") for ln in long)  # wrapped, not cut
    assert all(f"key{i}: value{i}" in text for i in range(15))
    assert "THE-END" in text and " ".join(text.split()).count("because") == 20
    assert "restart: EADDRINUSE" in text and text.count("TIME_WAIT") == 8
    assert '      bytes: "line\\n"' in lines and "      short: [1, 2]" in lines


def test_tour_workers_come_from_the_environment_and_a_bad_value_is_a_usage_error():
    assert registry.workers_from_env({}) == registry.WORKERS
    assert registry.workers_from_env({"PYLAB_TOUR_WORKERS": ""}) == registry.WORKERS
    assert registry.workers_from_env({"PYLAB_TOUR_WORKERS": " 2 "}) == 2
    for bad in ("abc", "0", "-1", "2.5"):
        with pytest.raises(UsageError, match=f"PYLAB_TOUR_WORKERS must be a whole number of 1 or more .*not '{bad}'"):
            registry.workers_from_env({"PYLAB_TOUR_WORKERS": bad})


def test_a_bad_pylab_tour_workers_is_one_line_and_exit_2():
    r = subprocess.run([sys.executable, "-P", "-m", "pylab", "tour", "--only", "pid-range"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "PYLAB_TOUR_WORKERS": "abc"})
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("pylab: error: PYLAB_TOUR_WORKERS must be a whole number of 1 or more (how many "
                        "observations the tour runs side by side; default 4), not 'abc'\n")


SEED_QUOTE = "net.ipv4.tcp_fin_timeout修改系統默认的TIMEOUT时间 (changes the system's default TIMEOUT)"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_cannot_hold_the_seeds_text_gets_escapes_not_a_traceback(encoding):
    """The seed quote in Chinese: text output degrades to backslash escapes, JSON to \\u
    escapes (the same JSON), on a stdout of another encoding."""
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    argv = [sys.executable, "-P", "-m", "pylab", "tour", "--only", "sysctl-fin-timeout"]
    text = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    assert text.returncode == 0 and b"Traceback" not in text.stderr, text.stderr.decode()
    assert text.stdout.decode(encoding).count("the seed says: net.ipv4.tcp_fin_timeout\\u4fee\\u6539") == 1
    assert "\n1 claims: " in text.stdout.decode(encoding)
    js = subprocess.run([*argv, "--json"], capture_output=True, env=env, timeout=120)
    assert js.returncode == 0 and b"Traceback" not in js.stderr, js.stderr.decode()
    js.stdout.decode("ascii")  # every character escaped
    assert json.loads(js.stdout)["claims"][0]["evidence"]["the seed says"] == SEED_QUOTE


def test_output_keeps_utf8_where_the_stream_holds_it_and_escapes_where_it_cannot():
    from pylab.core import output
    doc = {"the seed says": SEED_QUOTE}
    for encoding, readable in (("utf-8", True), ("ascii", False), ("latin-1", False)):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding)  # errors="strict", as a stdout of that encoding
        output.emit_json(doc, stream)
        print(output.for_stream(SEED_QUOTE, stream), file=stream)
        stream.flush()
        written = raw.getvalue().decode(encoding)
        json_text, line = written.rsplit("}\n", 1)
        assert json.loads(json_text + "}") == doc
        assert (SEED_QUOTE in json_text) == readable and (line == SEED_QUOTE + "\n") == readable
        if not readable:
            assert line.startswith("net.ipv4.tcp_fin_timeout\\u4fee\\u6539") and line.endswith("TIMEOUT)\n")
    plain = io.StringIO()  # no encoding: any str
    output.emit_json(doc, plain)
    assert SEED_QUOTE in plain.getvalue() and output.for_stream(SEED_QUOTE, plain) == SEED_QUOTE


def test_the_tour_runs_concurrently_but_keeps_the_registry_order():
    ids = ["getpid-differs", "pid-range", "udp-boundaries", "wait-collects"]
    report = registry.tour(ids, workers=4)
    assert [r["id"] for r in report["claims"]] == [i for i in registry.collect() if i in ids]
    assert report["summary"]["total"] == 4 and report["summary"]["error"] == 0


TIMING_SENSITIVE = ("fork-test-order", "sched-time-slices", "recv-empty-spins", "socket-facade", "af-inet-most-used")


def test_claims_that_need_the_machine_to_themselves_are_registered_alone():
    claims = registry.collect()
    assert [i for i in TIMING_SENSITIVE if not claims[i].alone] == []


def test_an_alone_claim_is_observed_while_nothing_else_of_the_tour_runs(monkeypatch):
    """The real registrations (their alone flags, their shared observes), observed by stubs
    that count what runs: the scheduler's probe runs in the tour's own thread, before the
    pool, with no other observation started."""
    import dataclasses
    import threading
    real = registry.collect()
    ids = ["pid-range", "getpid-differs", "sched-time-slices", "pcb-per-process", "ps-aux", "sessions-hold-groups"]
    lock, state, caller = threading.Lock(), {"in flight": 0, "started": []}, threading.current_thread()
    seen_by_sched = {}

    def stub(name):
        def observe():
            with lock:
                if name == "sched-time-slices":
                    seen_by_sched.update({"in flight": state["in flight"], "started": list(state["started"]),
                                          "thread": threading.current_thread()})
                state["in flight"] += 1
                state["started"].append(name)
            with lock:
                state["in flight"] -= 1
            return {"cpus": "2", "tasks_while_spinning": "3", "wall_ms": "40", "cpu_ms": "80",
                    "slice_before_ns": "1400000", "slice_after_ns": "3000000"} if "sched" in name or "pcb" in name else {}
        return observe
    stubs: dict[int, object] = {}
    chosen = {i: dataclasses.replace(real[i], observe=stubs.setdefault(id(real[i].observe), stub(i))) for i in ids}
    monkeypatch.setattr(registry, "collect", lambda: chosen)
    report = registry.tour(workers=4)
    assert state["started"].count("sched-time-slices") == 1 and "pcb-per-process" not in state["started"]
    assert seen_by_sched == {"in flight": 0, "started": [], "thread": caller}
    rows = {r["id"]: r for r in report["claims"]}
    assert rows["sched-time-slices"]["verdict"] == "qualified" and rows["pcb-per-process"]["verdict"] == "qualified"


def _counting_tour(monkeypatch, calls):
    """A registry of four claims over probes that count their runs: shared_probe("x") from
    two observations (one alone, one in the tour's worker threads), broken_probe (it
    fails) from two."""
    @memo.shared
    def shared_probe(arg):
        calls.append(arg)
        return {"arg": arg, "run": len(calls)}

    @memo.shared
    def broken_probe():
        calls.append("broken")
        raise OSError("no such probe")

    m = types.ModuleType("pylab.tour.counting")
    m.CLAIMS = ClaimList()
    judge = lambda seen: Finding("confirmed", seen)  # noqa: E731
    m.CLAIMS.claim("one", "processes", "t", observe=lambda: shared_probe("x"))(judge)
    m.CLAIMS.claim("two", "processes", "t", observe=lambda: {"again": shared_probe("x"), "other": shared_probe("y")},
                   alone=True)(judge)
    m.CLAIMS.claim("three", "processes", "t", observe=lambda: {"a": broken_probe()})(judge)
    m.CLAIMS.claim("four", "processes", "t", observe=lambda: {"b": broken_probe()})(judge)
    collect = registry.collect
    monkeypatch.setattr(registry, "collect", lambda: collect([m]))
    return shared_probe


def test_a_shared_probe_runs_once_per_tour_and_again_in_the_next_tour(monkeypatch):
    calls = []
    shared_probe = _counting_tour(monkeypatch, calls)
    first = {r["id"]: r for r in registry.tour(workers=4)["claims"]}
    assert sorted(calls) == ["broken", "x", "y"]  # each once, from the alone claim and the worker threads
    assert first["one"]["evidence"] == first["two"]["evidence"]["again"]  # the same run, judged twice
    for failed in ("three", "four"):  # one failure, reported by both
        assert first[failed]["verdict"] == "error" and "no such probe" in first[failed]["evidence"]["error"]
    registry.tour(workers=4)
    assert sorted(calls) == ["broken", "broken", "x", "x", "y", "y"]  # a new tour runs them afresh
    assert shared_probe("x")["run"] == 7 and shared_probe("x")["run"] == 8  # outside a tour: every call runs


def test_probes_are_c_files_under_csrc_built_by_the_toolchain():
    names = probes.names()
    assert set(names) >= {"abi", "forkret", "exitstatus", "forklimit", "system", "pgroup", "states", "cpuzombie"}
    for name in names:
        src = probes.source(name)
        assert src.parent == toolchain.csrc_dir() / "probes"
        assert src.read_text().startswith("/* probe "), name  # the first comment says what it shows
        assert probes.build(name) == toolchain.build(src, flags=(*toolchain.FLAGS, "-Werror"))
