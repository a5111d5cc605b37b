"""The figures of `pylab bench`, under pytest-benchmark.

    pip install -e '.[bench]' && pytest benchmarks/

Each benchmark calls one round of a `pylab bench` measurement. pytest-benchmark times the
call from Python; the round's own figure (timed in C for the C loops, so without the
interpreter's overhead) is kept as extra_info["self_timed_median_s"]. For the side-by-side
ratios measured under the same load, use `pylab bench` or `python benchmarks/run.py`.
"""
from __future__ import annotations

import statistics

import pytest

from pylab.bench import costs as bench


@pytest.fixture(scope="module")
def lab():
    with bench.Lab() as shared:
        yield shared


@pytest.mark.parametrize("key", [m.key for m in bench.MEASURES if m.once is not None])
def test_cost(benchmark, lab, key):
    measure = bench.BY_KEY[key]
    lab.prepare(measure.group)
    own: list[float] = []
    benchmark.group = bench.GROUP_TITLES[measure.group]
    benchmark.extra_info["label"] = measure.label
    benchmark(lambda: own.append(measure.once(lab)))
    benchmark.extra_info["self_timed_median_s"] = statistics.median(own)
    assert own and all(x > 0 for x in own)
