"""Small helpers shared by the foundation's tests."""
from __future__ import annotations

import fcntl
import json
import os
import sys
import textwrap
from pathlib import Path

from pylab.run import runner, toolchain


def env_without_unbuffered(**extra) -> dict:
    """The environment with PYTHONUNBUFFERED cleared: stdio buffering as on a plain machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def run_python(code: str, mode: str = "pipe", unbuffered: bool = False, **kwargs) -> runner.RunResult:
    """Run a Python snippet supervised, with PYTHONUNBUFFERED set or cleared explicitly."""
    env = env_without_unbuffered(**({"PYTHONUNBUFFERED": "1"} if unbuffered else {}))
    # -P: never import pylab from the current folder (a source tree has no built extension)
    return runner.run([sys.executable, "-P", "-c", textwrap.dedent(code)], mode=mode, env=env, **kwargs)


def build_c(tmp_path: Path, name: str, source: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(textwrap.dedent(source))
    return toolchain.build(src)


def once_per_run(tmp_path_factory, worker_id: str, name: str, produce):
    """produce() once for the whole test run, however many xdist workers ask: the first
    computes it under a file lock in the run's shared temp folder and stores it as JSON;
    the others wait for the lock and read it (the xdist-documented pattern). Serially
    (worker "master") it is simply produce(). The value must be JSON data."""
    if worker_id == "master":
        return produce()
    shared = Path(tmp_path_factory.getbasetemp().parent)  # one folder per run, all workers
    stored = shared / f"once-{name}.json"
    with open(shared / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.exists():
            return json.loads(stored.read_text())
        value = produce()
        tmp = stored.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, stored)
        return value
