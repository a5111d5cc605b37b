"""`pylab bench`: every figure is reported, with sane types. No timing is asserted here:
speed goals are the benchmark's to report, not the suite's to fail on a busy machine."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylab.bench import containment, costs as bench, suite as bench_suite, targets as bench_targets
from pylab.bindings import lab_bench
from pylab.grading import bwrap
from pylab.grading.assignment import builtin
from pylab.observe import procstate
from pylab.run import runner, toolchain, tracer


ROUNDS = 3  # the report's shape is the subject here, not its statistics: few samples a figure


@pytest.fixture(scope="module")
def report():
    out = subprocess.run([sys.executable, "-P", "-m", "pylab", "bench", "--json", "--quick", "--rounds", str(ROUNDS)],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_bench_json_quick_reports_every_measurement_once_or_says_why_its_group_was_not(report):
    keys = [f["key"] for f in report["figures"]]
    missing = report["unmeasured"]
    assert set(missing) <= set(bench.FLOORS) and all(why.startswith("not measured: ") for why in missing.values())
    assert sorted(keys) == sorted(m.key for m in bench.MEASURES if m.group not in missing)
    for f in report["figures"]:
        assert isinstance(f["median_s"], float) and f["median_s"] > 0, f
        assert f["p10_s"] <= f["median_s"] <= f["p90_s"], f
        assert isinstance(f["reps"], int) and f["reps"] == ROUNDS, f  # as --rounds asked
        assert f["group"] in bench.FLOORS and f["label"]
    assert report["rounds"] == ROUNDS and report["command"] == f"pylab bench --quick --rounds {ROUNDS}"


def test_without_rounds_each_figure_takes_its_own_count_and_quick_a_tenth_of_it():
    assert bench.reps("c_fork", quick=False) == 1000 and bench.reps("c_fork", quick=True) == 100
    assert bench.reps("state_ps", quick=True) == 10  # a tenth, but at least 10
    assert bench.reps("c_fork", quick=True, rounds=4) == bench.reps("state_ps", quick=False, rounds=4) == 4


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_rounds_must_be_a_whole_number_of_1_or_more(pylab_cli, value):
    r = pylab_cli("bench", "--rounds", value)
    assert r.returncode == 2 and r.stdout == ""
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "--rounds" in err[0] and "1 or more" in err[0], err


def test_bench_ratios_are_to_the_floor_of_the_group(report):
    by_key = {f["key"]: f for f in report["figures"]}
    for f in report["figures"]:
        if f["key"] in bench.RATIO_FREE:
            assert f["ratio"] is None and f["floor"] is None
            continue
        floor = by_key[bench.FLOORS[f["group"]]]
        assert f["floor"] == floor["key"]
        assert f["ratio"] == pytest.approx(f["median_s"] / floor["median_s"])
    assert by_key["c_fork"]["ratio"] == 1.0 and by_key["c_fork_exec"]["ratio"] == 1.0


def test_bench_checks_that_proc_ps_and_psutil_agree(report):
    states = report["states"]
    assert states["states"]["zombie"] == {"proc": "Z", "ps": "Z", "psutil": "Z"}
    assert states["states"]["sleeper"] == {"proc": "S", "ps": "S", "psutil": "S"}
    assert states["agree"] is True


@pytest.mark.parametrize("ps, psutil, agree", [("error: ps is not installed", "S", True), ("R", "S", False),
                                               ("S", "S", True), ("error: ps is not installed", "gone", None)])
def test_state_agreement_compares_only_the_sources_that_gave_a_state(monkeypatch, ps, psutil, agree):
    lab = type("FakeLab", (), {"zombie": 1, "sleeper": type("P", (), {"pid": 2})()})()
    monkeypatch.setattr(procstate, "states", lambda pid: {"proc": "S", "ps": ps, "psutil": psutil})
    seen = bench.state_agreement(lab)
    assert seen["agree"] is agree  # None: fewer than two gave a state
    assert seen["no_answer"] == sorted(who for who, s in (("ps", ps), ("psutil", psutil)) if len(s) != 1)


def test_bench_reports_each_target_and_says_why_when_not_measured(report):
    targets = {t["target"]: t for t in report["targets"]}
    assert len(targets) == len(report["targets"]) == 7
    for t in targets.values():
        assert t["rule"] in bench_targets.RULES and isinstance(t["limit"], (int, float))
        if t["value"] is None:
            assert t["met"] is None and t["note"]
        else:
            assert isinstance(t["met"], bool) and isinstance(t["value"], float)
            assert t["met"] == bench_targets.RULES[t["rule"]](t["value"], t["limit"])
    # --quick leaves out the suite and the grader, and says so
    for key in ("suite", "grader"):
        assert report[key]["seconds"] is None and "--quick" in report[key]["note"]
    assert report["quick"] is True and report["machine"]["cpus"] >= 1


def test_traced_target_is_the_ratio_of_the_two_runs_and_names_the_tracers_start_up(report):
    traced = next(t for t in report["targets"] if t["target"].startswith("traced / untraced"))
    by_key = {f["key"]: f for f in report["figures"]}
    if "trace" in report["unmeasured"]:  # no strace here: the reason is the target's note
        assert traced["value"] is None and traced["note"] == report["unmeasured"]["trace"]
        return
    assert traced["value"] == pytest.approx(by_key["traced_10"]["median_s"] / by_key["run_10"]["median_s"])
    assert "the tracer's own start-up" in traced["note"] and "parsing the log" in traced["note"]
    assert "ptrace stops" in traced["note"] and "stdio preload" in traced["note"]
    # the figure is of a 10-process program, and the tracer followed every one of them
    assert report["traced_processes"] == bench.TRACED_PROCESSES == 10
    assert f"followed {bench.TRACED_PROCESSES} processes" in traced["note"]


def test_bench_table_shows_every_figure_and_target(report):
    table = bench.render(report)
    for f in report["figures"]:
        assert f["label"] in table
    for t in report["targets"]:
        assert t["target"] in table
    assert "States agree across /proc, ps, psutil: yes" in table


@pytest.mark.parametrize("loop", [lab_bench.fork_loop, lab_bench.vfork_loop])
def test_c_creation_loops_time_every_round(loop):
    ns = loop(3)
    assert len(ns) == 3 and all(isinstance(x, int) and x > 0 for x in ns)


@pytest.mark.parametrize("loop", [lab_bench.fork_exec_loop, lab_bench.posix_spawn_loop,
                                  lab_bench.forked_supervisor_loop])
def test_c_exec_loops_run_the_tiny_program(loop):
    ns = loop(3, bench.tiny_program())
    assert len(ns) == 3 and all(x > 0 for x in ns)


def test_c_exec_loops_report_a_program_that_cannot_run():
    with pytest.raises(FileNotFoundError):
        lab_bench.posix_spawn_loop(3, "/nonexistent/tiny")
    with pytest.raises(ChildProcessError):  # the child exits 127: no round to time
        lab_bench.fork_exec_loop(3, "/nonexistent/tiny")


def test_stamped_child_writes_its_clock_then_exits():
    r, w = os.pipe()
    before = lab_bench.now_ns()
    pid = lab_bench.stamped_child(w)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        stamp = int.from_bytes(f.read(8), sys.byteorder, signed=True)
    assert procstate.wait_for_state(pid, "Z") == "Z"  # our own child: a zombie until reaped
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert before <= stamp <= time.monotonic_ns()  # the same clock: CLOCK_MONOTONIC


def test_zombie_floor_is_a_positive_latency_and_reaps_its_child():
    assert lab_bench.zombie_seen_ns() > 0  # the autouse fixture checks the reaping


def test_ten_procs_is_ten_processes_that_each_write_a_line():
    result = runner.run([bench.ten_processes()], trace=True)
    assert result.exit_code == 0
    lines = result.stdout.decode().splitlines()
    assert sorted(lines) == sorted([f"child {i}" for i in range(9)] + ["parent"])
    assert lines[-1] == "parent"  # the parent writes after it has reaped all nine
    assert bench.tree_size(result.trace.processes(), str(bench.ten_processes())) == 10


def test_exec_chain_times_a_program_run_directly_and_through_a_middle_and_counts_its_moves():
    # benchmarks/c/exec_chain.c, which docs/performance.md quotes; built as the supervisor is
    source = Path(__file__).resolve().parent.parent / "benchmarks" / "c" / "exec_chain.c"
    chain = toolchain.build(source, flags=toolchain.TOOL_FLAGS + ("-static",))
    r = subprocess.run([chain, "4", bench.tiny_program()], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [re.fullmatch(r"(direct|through a middle) +([0-9.]+) us a run, the program changed CPU (\d+) times in 4 runs", ln)
            for ln in r.stdout.splitlines()]
    assert [m and m.group(1) for m in rows] == ["direct", "through a middle"], r.stdout
    assert all(float(m.group(2)) > 0 for m in rows)
    bad = subprocess.run([chain, "2", "/nonexistent/tiny"], capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stdout.strip()) == (1, "exec_chain: could not run /nonexistent/tiny")
    usage = subprocess.run([chain], capture_output=True, text=True, timeout=60)
    assert (usage.returncode, usage.stderr.strip()) == (2, "usage: exec_chain N PROG")


def test_tree_size_counts_the_program_and_its_descendants_only():
    P = tracer.Proc
    procs = {1: P(1, argv=["strace"]), 2: P(2, parent=1, argv=["supervise"]), 3: P(3, parent=2, argv=["./p"]),
             4: P(4, parent=3), 5: P(5, parent=4), 6: P(6, parent=2)}
    assert bench.tree_size(procs, "./p") == 3
    assert bench.tree_size(procs, "./other") == 0


def _report(**over) -> dict:
    """A report as collect() makes it, with figures of made-up medians."""
    figs = {"runner_pipe": 2.0, "subprocess_capture": 1.0, "runner_tty": 2.0, "state_ps": 300.0,
            "state_proc": 1.0, "zombie_seen": 0.001, "run_10": 1.0, "traced_10": 5.0,
            "tracer_tiny": 3.0, "tiny_alone": 0.5, "parse_10": 0.5, "ten_alone": 0.8,
            "tracer_ten": 4.0, "tracer_ten_stdio": 4.25}
    report = {"figures": [{"key": k, "median_s": v, "p10_s": v} for k, v in figs.items()],
              "unmeasured": {}, "states": {"agree": True}, "traced_processes": 10,
              "suite": {"seconds": None, "note": "skipped with --quick"},
              "grader": {"seconds": 1.0, "score": 62.0, "max_score": 62.0, "note": ""}}
    report.update(over)
    return report


def test_targets_judge_each_ratio_and_say_what_the_traced_run_is_made_of():
    got = {t["target"]: t for t in bench_targets.judge(_report())}
    assert got["runner, pipe / subprocess.run(capture_output=True)"]["met"] is False  # 2.0 > 1.3
    assert got["state from ps / state from /proc"]["met"] is True  # 300 >= 100
    traced = got["traced / untraced run of a 10-process program"]
    assert traced["value"] == 5.0 and traced["met"] is False
    # 4.0 s added: start-up 2.5 (3.0 - 0.5), stops 0.7 (4.0 - 0.8 - 2.5), preload 0.25,
    # parsing 0.5, the rest 0.05
    for part in ("adds 4000.0 ms", "start-up 2500.0 ms", "ptrace stops 700.0 ms", "preload 250.0 ms",
                 "parsing the log 500.0 ms", "the runner) 50.0 ms"):
        assert part in traced["note"], part
    assert got["grading one full submission"]["met"] is True  # 1.0 s < 1.5 s, full marks


def test_a_part_below_zero_is_called_noise_not_a_saving():
    report = _report()
    for f in report["figures"]:
        if f["key"] == "tracer_ten_stdio":  # the preload "costing" less than nothing
            f["median_s"] = f["p10_s"] = 3.9
    traced = next(t for t in bench_targets.judge(report) if t["target"].startswith("traced"))
    assert "the stdio preload ~0 (within the noise: -100.0 ms)" in traced["note"]


def test_a_value_just_past_its_limit_is_not_shown_as_the_limit():
    t = bench_targets.target("ratio", 1.302, 1.3, "x", "<=")
    assert t["met"] is False and bench._decimals(t) == 3
    assert bench._decimals(bench_targets.target("ratio", 1.26, 1.3, "x", "<=")) == 2


def test_a_fast_grade_without_full_marks_does_not_meet_the_target():
    grader = {"seconds": 0.2, "score": 10.0, "max_score": 62.0, "note": "not full marks"}
    got = {t["target"]: t for t in bench_targets.judge(_report(grader=grader))}
    assert got["grading one full submission"]["met"] is False


def test_a_group_not_measured_leaves_its_target_without_a_value_and_with_the_reason():
    report = _report(unmeasured={"trace": "not measured: strace is not installed"})
    report["figures"] = [f for f in report["figures"] if f["key"] not in
                         {m.key for m in bench.MEASURES if m.group == "trace"}]
    traced = next(t for t in bench_targets.judge(report) if t["target"].startswith("traced"))
    assert traced["value"] is None and traced["met"] is None
    assert traced["note"] == "not measured: strace is not installed"


def test_without_strace_or_the_labs_tracer_the_trace_group_is_unavailable(monkeypatch):
    def missing():
        raise tracer.TracerMissing("tracing needs strace, which is not installed")

    monkeypatch.setattr(tracer, "strace_path", missing)
    monkeypatch.setattr(tracer, "lab_tracer", lambda: None)
    with bench.Lab() as lab:
        with pytest.raises(bench.Unavailable, match="needs strace"):
            lab.prepare("trace")


def test_sandbox_group_is_measured_beside_a_bare_run_or_says_why_not(report):
    by_key = {f["key"]: f for f in report["figures"]}
    if "sandbox" in report["unmeasured"]:
        assert report["unmeasured"]["sandbox"].startswith("not measured: ") and "sandboxed" not in by_key
        return
    assert report["sandbox_source"] == containment.SOURCE
    bare = by_key["sandbox_bare"]
    for key in ("sandboxed", "sandboxed_traced"):
        assert by_key[key]["floor"] == "sandbox_bare"
        assert by_key[key]["ratio"] == pytest.approx(by_key[key]["median_s"] / bare["median_s"])
        assert by_key[key]["reps"] == bare["reps"]  # sampled round-robin, as many of each
    assert f"measured by {containment.SOURCE}" in bench.render(report)


def test_without_bubblewrap_the_sandbox_group_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("PYLAB_BWRAP", str(tmp_path / "no-bwrap"))  # the sandbox's own knob
    got, source, why = containment.sample(bench.tiny_program(), runs=1)
    assert got == {} and source == containment.SOURCE and "bubblewrap" in why
    with bench.Lab() as lab:
        with pytest.raises(bench.Unavailable, match="bubblewrap"):
            bench.measure_group(lab, "sandbox", quick=True)


def test_every_practice_exercise_has_a_reference_for_the_bench_submission():
    refs = bench_suite._references()
    exercises = builtin().exercises
    assert len(refs) == len(exercises) and all(p.is_file() for p in refs.values())
    assert set(refs) == {e.source for e in exercises}


def test_grading_the_bench_submission_gives_full_marks():
    r = bench_suite.grader_time()
    n = len(builtin().exercises)
    assert r["exit_code"] == 0, r
    assert r["score"] == r["max_score"] == builtin().max_score > 0
    assert r["seconds"] > 0 and f"{n} of {n} starter files replaced" in r["note"]
    # the grader says how it contained the code, and its own time is inside the wall time
    assert r["containment"] in bwrap.LEVELS and f"containment: {r['containment']}" in r["note"]
    assert 0 < r["execution_time"] <= r["seconds"]


def test_reference_for_a_starter_file_is_the_lab_program_never_a_tool(tmp_path):
    assert bench_suite._reference_for(tmp_path / "zombie.c") == toolchain.find("zombie").source
    assert bench_suite._reference_for(tmp_path / "supervise.c") is None
    assert bench_suite._reference_for(tmp_path / "no_such_exercise.c") is None


def test_suite_and_grader_are_skipped_with_quick_and_say_so():
    for fn in (bench_suite.suite_time, bench_suite.grader_time):
        r = fn(skip=True)
        assert r["seconds"] is None and r["note"] == "skipped with --quick" and r["label"]


def test_source_tree_is_this_checkout():
    assert bench_suite.source_tree() == Path(__file__).resolve().parent.parent


def test_tool_falls_back_to_the_next_build_when_a_compiler_is_missing(monkeypatch):
    monkeypatch.setattr(toolchain, "_tools", {})
    monkeypatch.setattr(toolchain, "TOOL_BUILDS", (("no-such-cc-pylab", ("-static",)), (None, ())))
    binary = toolchain.tool("tiny")
    assert bench.linkage(binary) == "dynamic"  # the last recipe: gcc, no -static
    assert subprocess.run([binary], capture_output=True).stdout == b"tiny\n"


def test_tool_is_remembered_until_its_binary_goes(monkeypatch, tmp_path):
    monkeypatch.setenv("PYLAB_CACHE", str(tmp_path))
    builds = []
    real_build = toolchain.build

    def counted(*args, **kwargs):  # counts the builds that produced a binary
        builds.append(real_build(*args, **kwargs))
        return builds[-1]

    monkeypatch.setattr(toolchain, "build", counted)
    first = toolchain.tool("tiny")
    assert toolchain.tool("tiny") == first and len(builds) == 1
    first.unlink()
    assert toolchain.tool("tiny").exists() and len(builds) == 2


def test_the_supervisor_is_statically_linked_when_a_static_libc_exists():
    # Debian's libc6-dev ships libc.a, so here the supervisor never needs ld.so at exec
    assert bench.linkage(toolchain.tool("supervise")).startswith("static")


def test_a_figure_that_cannot_be_measured_is_one_line_and_exit_2(monkeypatch, capsys):
    def no_ps(pid):
        raise FileNotFoundError("ps is not installed (Debian: apt-get install procps)")

    monkeypatch.setattr(procstate, "state_ps", no_ps)
    with bench.Lab() as lab:
        with pytest.raises(bench.BenchError, match="could not measure state from ps.*not installed"):
            bench.measure(lab, ["state_ps"], quick=True)

    def failing_collect(quick, rounds=None):
        raise bench.BenchError("could not measure X: why")

    monkeypatch.setattr(bench, "collect", failing_collect)
    assert bench.main(type("Args", (), {"json": False, "quick": True})()) == 2
    err = capsys.readouterr().err
    assert err == "pylab: error: bench: could not measure X: why\n"


def test_failed_tests_are_read_from_pytests_short_summary():
    out = ("=========================== short test summary info ============================\n"
           "FAILED tests/test_a.py::test_x[pipe] - AssertionError: 1 != 2\n"
           "ERROR tests/test_b.py::test_y - IsADirectoryError: [Errno 21]\n"
           "SKIPPED [1] tests/test_c.py:3: no\n1 failed, 1 error, 3 passed in 1.00s\n")
    assert bench_suite.failed_tests(out) == ["tests/test_a.py::test_x[pipe]", "tests/test_b.py::test_y"]
    assert bench_suite.failed_tests("3 passed in 1.00s\n") == []


def test_slowest_tests_are_read_from_pytests_durations_table():
    out = ("....\n============ slowest 3 durations ============\n"
           "2.00s setup    tests/test_tour.py::test_tour_json\n"
           "1.58s call     tests/test_semantics.py::test_cli_json[a b]\n"
           "0.10s teardown tests/test_x.py::test_y\n355 passed in 19.87s\n")
    assert bench_suite.slowest_tests(out) == [
        {"seconds": 2.0, "phase": "setup", "test": "tests/test_tour.py::test_tour_json"},
        {"seconds": 1.58, "phase": "call", "test": "tests/test_semantics.py::test_cli_json[a b]"},
        {"seconds": 0.1, "phase": "teardown", "test": "tests/test_x.py::test_y"},
    ]


def test_the_runner_targets_say_what_a_new_session_costs_here():
    report = _report()
    report["figures"] += [{"key": "session_on", "median_s": 1.5, "p10_s": 1.0},
                          {"key": "session_off", "median_s": 1.0, "p10_s": 1.0}]
    got = {t["target"]: t for t in bench_targets.judge(report)}
    note = got["runner, pipe / subprocess.run(capture_output=True)"]["note"]
    assert "a new session before fork + exec + wait costs 500.0 ms here now" in note
    report["figures"][-2]["median_s"] = 0.9  # less than without: noise, not a saving
    got = {t["target"]: t for t in bench_targets.judge(report)}
    assert "costs ~0 (within the noise: -100.0 ms)" in got["runner, tty / subprocess.run(capture_output=True)"]["note"]
