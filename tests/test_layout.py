"""The layout's promises (docs/architecture.md): imports go one way, with no circles, and
the command line's registries are imports, so a broken module fails loudly."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def _mains_in_a_fresh_process(prelude: str, *argvs: list[str]) -> list[list[str]]:
    """pylab.cli.main.main(argv) for each argv in turn, in one new interpreter, after
    `prelude`. For each: [what it raised (type and module name) or its exit status, then
    every pylab module imported so far]."""
    code = (f"import sys\n{prelude}\nfrom pylab.cli.main import main\n"
            f"for argv in {list(argvs)!r}:\n"
            "    try:\n        print('status', main(argv))\n"
            "    except ImportError as e:\n        print(type(e).__name__, e.name)\n"
            "    except SystemExit as e:\n        print('exit', e.code)\n"
            "    print('imported', ' '.join(sorted(m for m in sys.modules if m.startswith('pylab'))))")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60)
    marks = [ln for ln in r.stdout.splitlines() if ln.split(" ", 1)[0] in
             ("status", "exit", "ImportError", "ModuleNotFoundError", "imported")]
    assert len(marks) == 2 * len(argvs), r.stdout + r.stderr
    return [[marks[i], marks[i + 1].split()[1:]] for i in range(0, len(marks), 2)]


@pytest.mark.parametrize("argv", [["list"], ["run", "echo-load", "--json"]])
def test_a_broken_demo_module_stops_the_command_line_loudly(argv):
    """Demos and commands are found by import: a missing module is an ImportError when the
    command that needs it runs, never a silently shorter `pylab list` or an unknown demo."""
    [(raised, _)] = _mains_in_a_fresh_process("sys.modules['pylab.sockets.load'] = None", argv)
    assert raised == "ModuleNotFoundError pylab.sockets.load"


def test_every_command_in_the_table_imports_and_has_its_function():
    """COMMANDS is the registry: each entry's module imports and holds the function named,
    and the parser offers exactly the commands of the table."""
    from pylab.cli import main as cli
    for name, (module, function) in cli.COMMANDS.items():
        assert callable(cli.command(name)), f"{name}: {module}.{function} is not a function"
    offered = next(a for a in cli.build_parser()._actions if a.dest == "command").choices
    assert set(offered) == set(cli.COMMANDS)


@pytest.mark.parametrize("entry, raised", [(("pylab.cli.doctr", "main"), ModuleNotFoundError),
                                           (("pylab.cli.doctor", "mian"), AttributeError)])
def test_a_misspelt_command_entry_fails_loudly(entry, raised, monkeypatch):
    """A typo in the table is an exception when the command is chosen, not exit 2 or a
    command that quietly does nothing."""
    from pylab.cli import main as cli
    monkeypatch.setitem(cli.COMMANDS, "doctor", entry)
    with pytest.raises(raised, match="doctr|mian"):
        cli.main(["doctor"])


def test_a_command_imports_only_what_it_uses():
    """A pylab process pays at start-up only for its command: `pylab --help` and the socket
    servers the lab starts by the dozen import neither the run layer nor the grader (checked
    one after another in one interpreter: each check sees everything imported so far)."""
    steps = [(["--help"], [], ["pylab.run", "pylab.observe", "pylab.sockets", "pylab.tour", "pylab.grading",
                                "pylab.bench", "pylab.compare"]),
             (["sockets", "--help"], ["pylab.sockets.echo", "pylab.sockets.seed_server", "pylab.sockets.pyfork_server"],
              ["pylab.run", "pylab.observe", "pylab.tour", "pylab.grading", "pylab.bench", "pylab.compare"]),
             (["run", "exit_codes", "--help"], [], ["pylab.run", "pylab.tour", "pylab.grading", "pylab.bench"])]
    seen = _mains_in_a_fresh_process("", *(argv for argv, _, _ in steps))
    for (argv, needs, spared), (raised, imported) in zip(steps, seen):
        assert raised == "exit 0", (argv, raised)
        for m in needs:
            assert m in imported, (argv, m, imported)
        for m in spared:
            assert not any(i == m or i.startswith(m + ".") for i in imported), (argv, m, imported)
