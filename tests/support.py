"""Small helpers shared by the foundation's tests."""
from __future__ import annotations

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
