"""Batch grading split over machines: `--shard K/N` grades every N-th submission, and
`pylab assignment merge` puts the shards back together.

Submissions are taken in name order; shard K of N grades those at positions K-1,
K-1+N, ... Each shard's results folder holds NAME.json per submission, its own
summary.csv and shard.json (which shard it is, every submission of the batch, and
the reports in full). merge() checks that the shards are all there, once each, from
the same batch, and writes what one unsharded run writes: the NAME.json files and a
summary.csv made by the same function from the same reports."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.grading import reporters
from pylab.grading.files import os_error_text, output_problem
from pylab.grading.grader import CheckResult, Report

MANIFEST = "shard.json"


def parse(spec: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"--shard must look like K/N with 1 <= K <= N (e.g. 2/4), not {spec!r}")
    return int(m.group(1)), int(m.group(2))


def take(items: list, part: tuple[int, int]) -> list:
    k, n = part
    return items[k - 1::n]


def _report_dict(rep: Report) -> dict:
    return {"submission": rep.submission, "execution_time": rep.execution_time, "env_error": rep.env_error,
            "results": [dataclasses.asdict(r) for r in rep.results]}


def _report(doc: dict) -> Report:
    fields = {f.name for f in dataclasses.fields(CheckResult)}
    rep = Report(doc["submission"], execution_time=doc["execution_time"], env_error=doc["env_error"])
    rep.results = [CheckResult(**{k: v for k, v in r.items() if k in fields}) for r in doc["results"]]
    return rep


def write_manifest(out: Path, part: tuple[int, int], every: list[str], ordered: list[tuple[str, Report]]) -> None:
    doc = {"shard": part[0], "of": part[1], "submissions": every,
           "reports": {name: _report_dict(rep) for name, rep in ordered}}
    reporters.write_atomic(out / MANIFEST, json.dumps(doc, ensure_ascii=False))


def merge(folders: list[Path], out: Path) -> list[str]:
    """Merge shard result folders into `out`; returns the submissions, in order. An `out`
    that cannot be a folder of results is a usage error before anything is read."""
    why = output_problem(out, directory=True)
    if why:
        raise UsageError(f"{out}: {why}: the merged results go into a folder")
    docs = []
    for folder in folders:
        path = folder / MANIFEST
        try:
            docs.append((folder, json.loads(path.read_text())))
        except FileNotFoundError:
            raise UsageError(f"{folder}: not the results of a shard (no {MANIFEST}; grade with --shard K/N)") from None
        except (OSError, ValueError) as e:
            raise UsageError(f"{path}: unreadable: {e}") from None
    counts = {d["of"] for _, d in docs}
    batches = {tuple(d["submissions"]) for _, d in docs}
    if len(counts) != 1 or len(batches) != 1:
        raise UsageError("these shards come from different batches (their N or their submissions differ)")
    n = counts.pop()
    have = sorted(d["shard"] for _, d in docs)
    if have != list(range(1, n + 1)):
        missing = sorted(set(range(1, n + 1)) - set(have))
        twice = sorted({k for k in have if have.count(k) > 1})
        raise UsageError(f"shards of {n}: " + (f"missing {', '.join(map(str, missing))}" if missing else "")
                         + (f"{'; ' if missing else ''}given twice: {', '.join(map(str, twice))}" if twice else ""))
    every = list(batches.pop())
    reports, origin = {}, {}
    for folder, d in docs:
        for name, rep in d["reports"].items():
            reports[name], origin[name] = _report(rep), folder
    missing = [s for s in every if s not in reports]
    if missing:
        raise UsageError(f"no result for {', '.join(missing[:5])} in the shards")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in every:
            for suffix in (".json",):
                src = origin[name] / f"{name}{suffix}"
                if src.exists():
                    shutil.copyfile(src, out / src.name)
        reporters.write_atomic(out / "summary.csv", reporters.csv_summary([(s, reports[s]) for s in every]))
    except OSError as e:
        raise UsageError(f"cannot write the merged results in {out}: {os_error_text(e)}") from None
    return every
