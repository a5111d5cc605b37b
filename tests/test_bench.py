"""`pylab bench`: every figure is reported, with sane types. No timing is asserted here:
speed goals are the benchmark's to report, not the suite's to fail on a busy machine."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylab.bench import costs as bench, suite as bench_suite

from pylab.observe import procstate

from pylab.run import toolchain
from pylab.bindings._native import ffi, lib


@pytest.fixture(scope="module")
def report():
    out = subprocess.run([sys.executable, "-P", "-m", "pylab", "bench", "--json", "--quick"],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_bench_json_quick_reports_every_measurement_once(report):
    keys = [f["key"] for f in report["figures"]]
    assert sorted(keys) == sorted(m.key for m in bench.MEASURES)
    for f in report["figures"]:
        assert isinstance(f["median_s"], float) and f["median_s"] > 0, f
        assert f["p10_s"] <= f["median_s"] <= f["p90_s"], f
        assert isinstance(f["reps"], int) and f["reps"] >= 10, f
        assert f["group"] in bench.FLOORS and f["label"]


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


def test_bench_reports_each_target_and_says_why_when_not_measured(report):
    targets = {t["target"]: t for t in report["targets"]}
    assert len(targets) == 6
    for t in targets.values():
        assert t["rule"] in ("<=", ">=") and isinstance(t["limit"], (int, float))
        if t["value"] is None:
            assert t["met"] is None and t["note"]
        else:
            assert isinstance(t["met"], bool) and isinstance(t["value"], float)
    # --quick leaves out the suite and the grader, and says so
    for key in ("suite", "grader"):
        assert report[key]["seconds"] is None and "--quick" in report[key]["note"]
    assert report["quick"] is True and report["machine"]["cpus"] >= 1


def test_bench_table_shows_every_figure_and_target(report):
    table = bench.render(report)
    for f in report["figures"]:
        assert f["label"] in table
    for t in report["targets"]:
        assert t["target"] in table
    assert "States agree across /proc, ps, psutil: yes" in table


def _samples(fn, *args, n=3):
    ns = ffi.new("long long[]", n)
    rc = fn(n, *args, ns)
    return rc, list(ns)


@pytest.mark.parametrize("loop", ["lab_bench_fork", "lab_bench_vfork"])
def test_c_creation_loops_time_every_round(loop):
    rc, ns = _samples(getattr(lib, loop))
    assert rc == 0 and all(x > 0 for x in ns)


@pytest.mark.parametrize("loop", ["lab_bench_fork_exec", "lab_bench_posix_spawn"])
def test_c_exec_loops_run_the_tiny_program(loop):
    tiny = ffi.new("char[]", str(bench.tiny_program()).encode())
    rc, ns = _samples(getattr(lib, loop), tiny)
    assert rc == 0 and all(x > 0 for x in ns)


def test_c_exec_loops_report_a_program_that_cannot_run():
    missing = ffi.new("char[]", b"/nonexistent/tiny")
    assert _samples(lib.lab_bench_posix_spawn, missing)[0] == -1
    assert ffi.errno == errno.ENOENT
    assert _samples(lib.lab_bench_fork_exec, missing)[0] == -1  # the child exits 127
    assert ffi.errno == errno.ECHILD


def test_stamped_child_writes_its_clock_then_exits():
    r, w = os.pipe()
    pid = lib.lab_bench_stamped_child(w)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        stamp = int.from_bytes(f.read(8), sys.byteorder, signed=True)
    assert procstate.wait_for_state(pid, "Z") == "Z"  # our own child: a zombie until reaped
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert 0 < stamp <= time.monotonic_ns()  # the same clock: CLOCK_MONOTONIC


def test_zombie_floor_is_a_positive_latency_and_reaps_its_child():
    assert lib.lab_bench_zombie_seen() > 0  # the autouse fixture checks the reaping


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

    def failing_collect(quick):
        raise bench.BenchError("could not measure X: why")

    monkeypatch.setattr(bench, "collect", failing_collect)
    assert bench.main(type("Args", (), {"json": False, "quick": True})()) == 2
    err = capsys.readouterr().err
    assert err == "pylab: error: bench: could not measure X: why\n"


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
