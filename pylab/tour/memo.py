"""Observations shared within one tour: each probe runs once per tour, however many
claims' observations ask for it.

Several observations are composites that need the same experiment (the abi probe, the
wait probe, TIME_WAIT, UDP's message order...). A function decorated with `shared`
runs as usual outside a tour; inside one (`one_tour()`, which the tour enters), its
first call with given arguments runs it and later calls, from any of the tour's
threads, wait for and get (a deep copy of) that same result, or its exception. Nothing
is kept across tours: every verdict of a tour is decided from a run made in it.
"""
from __future__ import annotations

import contextvars
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

_TOUR: contextvars.ContextVar[dict | None] = contextvars.ContextVar("pylab_tour_observations", default=None)
_LOCK = threading.Lock()


@contextmanager
def one_tour() -> Iterator[None]:
    """The span of one tour: shared results live until it ends. The tour's worker
    threads see it when they run in a copy of this context (contextvars.copy_context)."""
    token = _TOUR.set({})
    try:
        yield
    finally:
        _TOUR.reset(token)


def shared(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn, run once per tour for each distinct set of (hashable) arguments."""
    @functools.wraps(fn)
    def once(*args, **kwargs):
        results = _TOUR.get()
        if results is None:  # not in a tour: a fresh run every time
            return fn(*args, **kwargs)
        key = (fn, args, tuple(sorted(kwargs.items())))
        with _LOCK:
            pending = results.get(key)
            mine = pending is None
            if mine:
                pending = results[key] = Future()
        if mine:
            try:
                pending.set_result(fn(*args, **kwargs))
            except BaseException as e:  # every caller of this tour gets the same failure
                pending.set_exception(e)
        return copy.deepcopy(pending.result())  # callers never see each other's edits
    return once
