"""The layout's promises (docs/architecture.md): imports go one way, with no circles, and
the command line's registries are imports, so a broken module fails loudly."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pylab

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")
    assert exe, "import-linter is in the test extra: pip install '.[test]'"
    # the contracts live in pyproject.toml; check the package that is installed
    env = {**os.environ, "PYTHONPATH": str(Path(pylab.__file__).parent.parent)}
    return subprocess.run([exe, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_import_linter_contracts_are_kept():
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout, r.stdout


def test_a_back_edge_breaks_the_layer_contract(tmp_path):
    """The contract is live: a copy of the package where the bindings import the command line fails."""
    pkg = tmp_path / "pylab"
    shutil.copytree(Path(pylab.__file__).parent, pkg, ignore=shutil.ignore_patterns("csrc", "*.so", "__pycache__"))
    with open(pkg / "bindings" / "native.py", "a") as f:
        f.write("\nfrom pylab.cli import main as _back_edge  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")
    r = subprocess.run([exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode != 0
    assert "pylab.bindings is not allowed to import pylab.cli" in r.stdout, r.stdout


def test_a_broken_demo_module_stops_the_command_line_loudly():
    """Demos and commands are found by import: a missing module is an ImportError, never a
    silently shorter `pylab list`."""
    code = ("import sys; sys.modules['pylab.sockets.load'] = None\n"
            "try:\n    import pylab.cli.main\nexcept ImportError as e:\n    print('ImportError', e.name)\n"
            "else:\n    print('imported')")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ImportError pylab.sockets.load", r.stdout + r.stderr
