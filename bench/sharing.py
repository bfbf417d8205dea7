"""`python -m bench sharing [DESIGN...]`: does sharing a worker process change a design's figure?

Paired standings (bench/rounds.py) measure a scenario's designs in the same processes. That is honest only
if a design runs as fast beside its rivals as alone: a design that leaves state behind (threads, an event
loop policy, a module patched) or that another design slows would be misjudged. This command measures it:
N worker processes run every named design in rounds (paired), and N more per design run it alone (the same
`bench rounds` worker with one design), all in one random order of processes, so that both kinds see the
same minutes of the machine. Per design: each process gives the median of its rounds; the figure is
paired / alone, the ratio of the medians over processes, with a 95% bootstrap interval over processes
(runs/stats.ratio_interval). `biased` when the whole interval lies beyond 1 +- TOLERANCE; `ok` when it
lies within; `unclear` otherwise (too noisy to tell at this many processes). Exit 1 when a design is biased.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

from bench.children import interruptible, run_child
from bench.designs import all_designs
from bench.flags import scenario_flags
from bench.machine import ROOT, load_average
from runs.errors import UsageError
from variants.contract import Scenario

__all__ = ["measure_sharing", "format_sharing", "verdict", "TOLERANCE"]

TOLERANCE = 0.05  # paired within 5% of alone counts as no bias
WORKER_TIMEOUT = 600.0


def _worker(designs: list[str], scenario: Scenario, rounds: int, seed: int, folder: Path) -> dict[str, float]:
    """One `bench rounds` process: each design's median over its rounds (seconds per item)."""
    metrics = folder / f"m{seed}.jsonl"
    cmd = [sys.executable, "-m", "bench", "rounds", ",".join(designs), *scenario_flags(scenario),
           f"--rounds={rounds}", "--warmups=1", f"--seed={seed}", f"--metrics={metrics}"]
    returncode, output = run_child(cmd, WORKER_TIMEOUT, ROOT)
    if returncode != 0:
        lines = [line for line in output.splitlines() if line.strip()]
        raise UsageError(f"a worker of {','.join(designs)} failed: {(lines or ['no output'])[-1]}")
    values: dict[str, list[float]] = {}
    for line in metrics.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("phase") == "value":
            values.setdefault(record["benchmark"].split("/")[0], []).append(record["elapsed_s"] /
                                                                             record["items"])
    return {design: statistics.median(found) for design, found in values.items()}


def measure_sharing(names: list[str], scenario: Scenario, processes: int, rounds: int,
                    seed: int) -> list[dict]:
    """Paired and alone process medians per design; one dict per design (see format_sharing)."""
    from runs.stats import ratio_interval  # statistics: this command's process only

    jobs = [("paired", names)] * processes + [("alone", [name]) for name in names] * processes
    rng = random.Random(seed)
    rng.shuffle(jobs)
    found: dict[str, dict[str, list[float]]] = {name: {"paired": [], "alone": []} for name in names}
    with interruptible(), tempfile.TemporaryDirectory(prefix="prodcon-sharing-") as tmp:
        for index, (kind, designs) in enumerate(jobs):
            print(f"\r{index + 1}/{len(jobs)} worker processes", end="", file=sys.stderr, flush=True)
            for design, median in _worker(designs, scenario, rounds, rng.randrange(2**31), Path(tmp)).items():
                found[design][kind].append(median)
    print(file=sys.stderr)
    rows = []
    for name in names:
        paired, alone = found[name]["paired"], found[name]["alone"]
        low, high = ratio_interval(paired, alone)
        middle = {"paired_s": statistics.median(paired), "alone_s": statistics.median(alone)}
        rows.append({"variant": name, **middle, "ratio": middle["paired_s"] / middle["alone_s"], "low": low,
                     "high": high, "processes": processes})
    return rows


def verdict(row: dict) -> str:
    """biased, ok or unclear (see the module docstring)."""
    low, high = row["low"], row["high"]
    if not (low == low and high == high):  # NaN: too few processes for an interval
        return "unclear"
    if low > 1 + TOLERANCE or high < 1 - TOLERANCE:
        return "biased"
    if low >= 1 - TOLERANCE and high <= 1 + TOLERANCE:
        return "ok"
    return "unclear"


def format_sharing(rows: list[dict], scenario: Scenario, load: tuple) -> list[str]:
    """The table `bench sharing` prints."""
    lines = [f"scenario {scenario.name}, {rows[0]['processes']} processes paired and {rows[0]['processes']} "
             f"alone per design; load {load[0]} -> {load[1]}",
             f"{'design':<18} {'alone us/item':>13} {'paired us/item':>14} {'paired/alone (95%)':>24}"
             "  verdict"]
    for row in rows:
        interval = f"{row['ratio']:.3f} ({row['low']:.3f}-{row['high']:.3f})"
        lines.append(f"{row['variant']:<18} {row['alone_s'] * 1e6:>13.3f} {row['paired_s'] * 1e6:>14.3f} "
                     f"{interval:>24}  {verdict(row)}")
    lines.append(f"biased: the interval lies beyond 1 +- {TOLERANCE}; ok: within it; unclear: neither")
    return lines


def run_sharing(names: list[str], scenario: Scenario, processes: int, rounds: int, seed: int) -> int:
    """Measure, print the table; exit status 1 when a design is biased."""
    known = all_designs()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"unknown design {unknown[0]!r}; known: {', '.join(known)}")
    names = names or [name for name, design in known.items() if design.unsupported(scenario) is None]
    if len(names) < 2:
        raise UsageError("sharing needs two designs or more (one design has no rival to share with)")
    for name in names:
        why = known[name].unsupported(scenario)
        if why:
            raise UsageError(f"{name} does not support this scenario: {why}")
    before = load_average()
    rows = measure_sharing(names, scenario, processes, rounds, seed)
    for line in format_sharing(rows, scenario, (before, load_average())):
        print(line)
    return 1 if any(verdict(row) == "biased" for row in rows) else 0
