"""The mutation smoke test's mechanism (tests/mutation_smoke.py, which CI runs over every
lesson): a mutant the tests notice is reported killed, one they miss is reported as
surviving and fails the run, and bad arguments get one line and exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mutation_smoke  # tests/ is on sys.path, as for support

SCRIPT = Path(__file__).with_name("mutation_smoke.py")
SEED = "tests/test_seed_programs.py"


def smoke(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def verdicts(stdout: str) -> dict[str, str]:
    """program -> verdict, from the table's rows (name, seconds, verdict)."""
    rows = stdout.splitlines()
    assert rows[0].split() == ["program", "secs", "killed", "by"], stdout
    return {name: verdict for name, _, verdict in (ln.split(None, 2) for ln in rows[1:-1])}


def test_a_noticed_mutant_is_killed_and_a_missed_one_fails_the_run():
    # getpid_test's own test sees an empty main; a test about something else cannot
    r = smoke(f"getpid_test={SEED}::test_getpid_prints_the_pid_the_runner_started",
              f"exit_test1={SEED}::test_getpid_differs_between_runs")
    table = verdicts(r.stdout)
    assert table["getpid_test"].startswith(f"{SEED}::test_getpid_prints_the_pid_the_runner_started"), r.stdout
    assert table["exit_test1"].startswith("SURVIVED (every test passed"), r.stdout
    assert r.stdout.splitlines()[-1] == "1 of 2 mutants killed"
    assert r.returncode == 1, r.stdout + r.stderr


def test_every_killed_mutant_alone_exits_0(monkeypatch, capsys):
    # main()'s verdict with the hunt replaced (the real hunt runs end to end above, and
    # CI runs the whole script, which must exit 0): all killed -> 0, one unproven -> 1
    def hunt(mutants, *_):
        for m in mutants:
            m.killer = f"t::kills_{m.program}"
        return set()

    monkeypatch.setattr(mutation_smoke, "hunt", hunt)
    assert mutation_smoke.main(["exit2=t::a", "zombie=t::b"]) == 0  # (=TESTS: no search of the test files)
    table = verdicts(capsys.readouterr().out)
    assert table == {"exit2": "t::kills_exit2", "zombie": "t::kills_zombie"}

    def hunt_one_unproven(mutants, *_):
        mutants[0].killer = "t::kills_exit2"
        mutants[1].rejected = ["t::broken"]
        return {"t::broken"}

    monkeypatch.setattr(mutation_smoke, "hunt", hunt_one_unproven)
    assert mutation_smoke.main(["exit2=t::a", "zombie=t::b"]) == 1
    out = capsys.readouterr().out
    assert verdicts(out)["zombie"].startswith("UNPROVEN: killed only by tests that fail on the real sources too (t::broken)")
    assert out.splitlines()[-1] == "set aside, failing on the real sources too: t::broken"


def test_an_unknown_program_is_a_usage_error():
    r = smoke("no_such_lesson")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].endswith("no program 'no_such_lesson' in csrc/programs/")


def test_a_kill_by_a_test_that_fails_on_the_real_sources_is_set_aside_and_rerun(monkeypatch, tmp_path):
    # the loop alone, with the two pytest runs replaced: "t::broken" fails everywhere,
    # "t::real" only on the mutant; the mutant must end up killed by the real one
    runs = []

    def run_mutant(m, work, cache, skip):
        runs.append(set(skip))
        m.killer = "t::real" if "t::broken" in skip else "t::broken"
        return m

    monkeypatch.setattr(mutation_smoke, "run_mutant", run_mutant)
    monkeypatch.setattr(mutation_smoke, "unproven", lambda killers, *_: killers & {"t::broken"})
    m = mutation_smoke.Mutant("zombie", ["t"])
    assert mutation_smoke.hunt([m], tmp_path, tmp_path, 1) == {"t::broken"}
    assert (m.killer, m.rejected, runs) == ("t::real", ["t::broken"], [set(), {"t::broken"}])
