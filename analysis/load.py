"""Reading a run folder of `bench all`: run.json, suite.json (pyperf) and metrics.jsonl (the sidecar).

Everything is read and checked before anything is written, so bad input leaves the folder as it was:
a missing folder or file, corrupt or truncated JSON, a suite from another tool are one UsageError each.
metrics.jsonl may be missing (the frame then lacks the sidecar's columns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from runs.errors import UsageError
from runs.store import read_run

__all__ = ["RunData", "load_run"]


@dataclass(frozen=True)
class RunData:
    """One run folder, read and checked."""

    folder: Path
    info: dict  # run.json: profile, machine, load, cells with their status
    benchmarks: list  # pyperf.Benchmark, in the suite's order
    metrics: list[dict]  # every sidecar line, in file order


def _load_suite(path: Path) -> list:
    import pyperf  # the reading side only

    if not path.exists():
        raise UsageError(f"{path.parent}: no suite.json: no benchmark of this run finished")
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise UsageError(f"{path}: not a readable pyperf suite: {type(exc).__name__}: {exc}") from None
    benchmarks = suite.get_benchmarks()
    for benchmark in benchmarks:
        if "prodcon_variant" not in benchmark.get_metadata():
            raise UsageError(f"{path}: benchmark {benchmark.get_name()!r} has no prodcon_* metadata: "
                             f"not a suite written by `bench all`")
    return benchmarks


def _load_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: unreadable: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not a JSON line: {exc}") from None
        if not isinstance(record, dict) or not isinstance(record.get("benchmark"), str) \
                or "phase" not in record:
            raise UsageError(f"{path}:{number}: not a sidecar line (needs benchmark and phase)")
        records.append(record)
    return records


def load_run(folder: str | Path) -> RunData:
    """Read and check a run folder; UsageError saying what is wrong with it."""
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder}: no such folder")
    info = read_run(folder)
    benchmarks = _load_suite(folder / "suite.json")
    metrics = _load_metrics(folder / "metrics.jsonl")
    return RunData(folder.resolve(), info, benchmarks, metrics)
