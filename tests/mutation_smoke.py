"""Mutation smoke test: every lesson's tests must notice when the lesson does nothing.

For each program in csrc/programs/ (the seed's six among them), a copy of csrc/ gets
that program's source replaced by `int main(void){return 0;}` (its first comment is
kept, so `pylab list` still shows a summary and a listing test cannot be what notices),
and the tests that name the program (found in tests/test_*.py by reading their code)
run against the copy (PYLAB_CSRC points there; PYLAB_CACHE at a cache of this run's
own), serially, stopping at the first failure; two mutants at a time. At least one
test must fail: the mutant is then killed. Every test that killed a mutant is run
again on an unmutated copy, where it must pass, so a flaky or broken test is never
counted as a kill (it is set aside, and the mutant runs again without it).

    python tests/mutation_smoke.py               # every program; exit 0 only if all killed
    python tests/mutation_smoke.py zombie exit2  # just these
    python tests/mutation_smoke.py zombie=tests/test_seed_programs.py::test_x  # these tests

Prints a table, program -> the test that killed it (or SURVIVED). Exit status: 0 when
every mutant was killed by a test that passes on the real sources; 1 otherwise; 2 for
bad arguments.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
TESTS = ROOT / "tests"
SEED = ("getpid_test", "fork_test", "exit_test1", "exit2", "_exit1", "zombie")
MUTANT_BODY = "int main(void){return 0;}\n"
# -P: import the installed pylab, never the source tree's (it has no built extension);
# -p no:cacheprovider: no cache files in the tree
PYTEST = [sys.executable, "-P", "-m", "pytest", "-q", "-rfE", "-p", "no:randomly", "-p", "no:cacheprovider"]
# each mutant: serial, in the order given, stop at the first failure
MUTANT_RUN = [*PYTEST, "-x", "-n", "0"]
TIMEOUT = 600
ROUNDS = 3  # a mutant is re-run at most this often when its killers were unsound
FAILED = re.compile(r"^(FAILED|ERROR) (\S+::\S+)", re.M)


@dataclass
class Mutant:
    program: str
    tests: list[str]
    killer: str | None = None          # the first test that failed on the mutant
    error: bool = False                # ...with an error (setup/teardown) rather than a failure
    problem: str | None = None         # why the run said nothing (no tests, a crash...)
    rejected: list[str] = field(default_factory=list)  # killers that fail on the real sources too
    seconds: float = 0.0               # its last run's
    output: str = field(default="", repr=False)


def programs() -> list[str]:
    return sorted(p.stem for p in (CSRC / "programs").glob("*.c"))


def tests_for(program: str) -> list[str]:
    """The tests that name the program as a string: in each test file that does, the
    test functions whose code (decorators and fixtures included) names it, directly or
    through a module-level helper or constant that does. The file most about it (mentions
    per line) comes first, so the kill is by the lesson's own tests when they can make it."""
    quoted = re.compile(rf"""["']{re.escape(program)}["']""")
    found = {}
    for path in sorted(TESTS.glob("test_*.py")):
        text = path.read_text()
        if path.name.startswith("test_mutation") or not (n := len(quoted.findall(text))):
            continue
        rel = str(path.relative_to(ROOT))
        found[rel] = (n / (text.count("\n") + 1), _tests_naming(quoted, text) or [rel])
    ordered = sorted(found, key=lambda f: -found[f][0])
    return [f"{f}::{t}" if t != f else f for f in ordered for t in found[f][1]]


def _tests_naming(quoted: re.Pattern, text: str) -> list[str]:
    """Names of the module's test functions that reach a string `quoted` matches."""
    body = ast.parse(text).body

    def names(node) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
            a.arg for n in ast.walk(node) if isinstance(n, ast.arguments) for a in n.args}

    def says(node) -> bool:
        return any(quoted.search(ast.get_source_segment(text, n) or "") for n in [node, *getattr(node, "decorator_list", [])])

    helpers = {}  # module-level name -> its node, for everything that is not a test
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("test"):
            helpers[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    helpers[target.id] = node
    reach = {name for name, node in helpers.items() if says(node)}
    while grown := {name for name, node in helpers.items() if name not in reach and names(node) & reach}:
        reach |= grown
    return [node.name for node in body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
            and (says(node) or names(node) & reach)]


def mutate(source: Path) -> str:
    """The program replaced by an empty main, its first comment kept."""
    m = re.match(r"\s*/\*.*?\*/\n", source.read_text(), re.S)
    return (m.group(0) if m else "") + MUTANT_BODY


def copy_of_csrc(into: Path) -> Path:
    target = into / "csrc"
    shutil.copytree(CSRC, target)
    return target


def pytest_env(csrc: Path, cache: Path) -> dict:
    env = dict(os.environ, PYLAB_CSRC=str(csrc), PYLAB_CACHE=str(cache))
    env.pop("PYTEST_XDIST_WORKER", None)  # a nested pytest is a session of its own
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_mutant(m: Mutant, work: Path, cache: Path, skip: set[str]) -> Mutant:
    """Run m's tests against its mutant (tests in `skip` deselected); note the first failure."""
    m.killer, m.error, m.problem = None, False, None
    if not m.tests:
        m.problem = "no test names it"
        return m
    scratch = Path(tempfile.mkdtemp(prefix=f"{m.program}.", dir=work))
    csrc = copy_of_csrc(scratch)
    (csrc / "programs" / f"{m.program}.c").write_text(mutate(CSRC / "programs" / f"{m.program}.c"))
    t0 = time.monotonic()
    try:
        deselect = [f"--deselect={t}" for t in sorted(skip)]
        proc = subprocess.run([*MUTANT_RUN, *deselect, *m.tests], cwd=ROOT, env=pytest_env(csrc, cache),
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        m.problem = f"its tests ran over {TIMEOUT}s"
        return m
    finally:
        m.seconds = time.monotonic() - t0
        shutil.rmtree(scratch, ignore_errors=True)
    m.output = proc.stdout + proc.stderr
    found = FAILED.search(proc.stdout)
    if proc.returncode == 1 and found:
        m.killer, m.error = found.group(2), found.group(1) == "ERROR"
    elif proc.returncode != 0:
        m.problem = f"pytest exited {proc.returncode}: {m.output.strip().splitlines()[-1:]}"
    return m


def unproven(killers: set[str], work: Path, cache: Path, jobs: int) -> set[str]:
    """The killing tests that do not pass on unmutated sources (each should pass)."""
    if not killers:
        return set()
    csrc = copy_of_csrc(Path(tempfile.mkdtemp(prefix="original.", dir=work)))
    ids = sorted(killers)
    # as many xdist workers as there are tests, up to jobs; one test runs in this pytest
    # itself (starting workers costs more than a test does)
    workers = min(jobs, len(ids))
    proc = subprocess.run([*PYTEST, "-n", str(workers if workers > 1 else 0), *ids], cwd=ROOT,
                          env=pytest_env(csrc, cache),
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode == 0:
        return set()
    bad = {m.group(2) for m in FAILED.finditer(proc.stdout)}
    return bad or set(ids)  # pytest failed without naming a test: trust none of them


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("programs", nargs="*", metavar="NAME[=TEST,...]",
                    help="programs to mutate (default: all of csrc/programs/); =TESTS runs those instead")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="show pytest's output for survivors")
    args = ap.parse_args(argv)
    known = programs()
    missing = [s for s in SEED if s not in known]
    if missing:
        ap.error(f"the seed's programs are missing from csrc/programs/: {', '.join(missing)}")
    mutants = []
    for spec in args.programs or known:
        name, _, tests = spec.partition("=")
        if name not in known:
            ap.error(f"no program {name!r} in csrc/programs/")
        mutants.append(Mutant(name, tests.split(",") if tests else tests_for(name)))
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    return args, mutants


def hunt(mutants: list[Mutant], work: Path, cache: Path, jobs: int) -> set[str]:
    """Run every mutant; a kill by a test that also fails on the real sources does not
    count: that test is set aside and the mutant runs again without it. Returns the
    tests set aside."""
    broken: set[str] = set()
    pending = mutants
    for _ in range(ROUNDS):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(lambda m: run_mutant(m, work, cache, broken), pending))
        bad = unproven({m.killer for m in pending if m.killer}, work, cache, jobs)
        broken |= bad
        pending = [m for m in pending if m.killer in bad]
        for m in pending:
            m.rejected.append(m.killer)
            m.killer = None
        if not pending:
            break
    return broken


def main(argv=None) -> int:
    args, mutants = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pylab-mutants.") as tmp:
        broken = hunt(mutants, Path(tmp), Path(tmp) / "cache", args.jobs)
    width = max(len(m.program) for m in mutants)
    print(f"{'program':{width}}  {'secs':>5}  killed by")
    for m in mutants:
        if m.killer:
            verdict = m.killer + (" (an error)" if m.error else "")
        elif m.rejected:
            verdict = f"UNPROVEN: killed only by tests that fail on the real sources too ({', '.join(m.rejected)})"
        else:
            verdict = f"SURVIVED ({m.problem or 'every test passed'}; ran {' '.join(m.tests) or 'nothing'})"
        if args.verbose and not m.killer and m.output:
            print(m.output, file=sys.stderr)
        print(f"{m.program:{width}}  {m.seconds:5.1f}  {verdict}")
    killed = sum(bool(m.killer) for m in mutants)
    print(f"{killed} of {len(mutants)} mutants killed")
    if broken:
        print(f"set aside, failing on the real sources too: {', '.join(sorted(broken))}")
    return 0 if killed == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
