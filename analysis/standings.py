"""Standings: each design's figure over its scenario's fastest, side by side where the run paired them.

In a paired scenario (`bench all` measured its designs in rounds inside the same worker processes, see
bench/rounds.py) a design's standing is computed round by round: in each process, the median over rounds of
its value over the reference design's value in the same round; the run's standing is the median of those
process standings, with a 95% bootstrap interval over processes (runs/stats.py). A round's ratio holds
the machine's noise of one moment, which both designs shared, so it cancels where two independent
processes would add theirs. The reference is the design with the lowest standing: the one with the lowest
median value first, then the design that beats it round by round, if one does.

In a scenario measured benchmark by benchmark (older runs, a design that runs alone), the standing is the
ratio of the medians over processes, with the unpaired bootstrap interval (stats.ratio_interval).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from runs.stats import MIN_PROCESSES, median_interval, ratio_interval

__all__ = ["paired_rounds", "sidecar_rounds", "process_standings", "standings", "value_figure",
           "widest_interval", "round_relative"]


def value_figure(value_kind: str) -> str:
    """The column of a benchmark's pyperf value: mean latency for paced cells, else time per item."""
    return "latency_mean_s" if value_kind == "latency" else "s_per_item"


def paired_rounds(rows) -> dict:
    """pid -> round -> {variant: value} from a scenario's frame rows that carry a `round` (paired runs)."""
    found: dict = defaultdict(lambda: defaultdict(dict))
    if "round" not in rows.columns or "pid" not in rows.columns:
        return {}
    for pid, number, variant, value in zip(rows["pid"], rows["round"], rows["variant"], rows["value"],
                                           strict=True):
        if isinstance(number, float) and math.isnan(number) or not value > 0:
            continue
        found[pid][int(number)][variant] = float(value)
    return {pid: dict(by_round) for pid, by_round in found.items()}


def round_relative(frame):
    """Each paired value over the geometric mean of the other designs' values in its round (else NaN).

    The machine's noise of the moment falls on every design of a round alike and cancels here; what a
    design does on its own (a regime it settles in) stays. A Series aligned with `frame`.
    """
    import numpy as np
    import pandas as pd

    found = pd.Series(np.nan, index=frame.index)
    if "round" not in frame.columns or "pid" not in frame.columns:
        return found
    paired = frame[frame["round"].notna() & (frame["value"] > 0)]
    logs = np.log(paired["value"])
    keys = [paired["scenario"], paired["pid"], paired["round"]]
    total, count = logs.groupby(keys).transform("sum"), logs.groupby(keys).transform("count")
    others = (total - logs) / (count - 1)
    found.loc[paired.index] = np.where(count > 1, np.exp(logs - others), np.nan)
    return found


def sidecar_rounds(lines: list[dict]) -> dict:
    """pid -> round -> {variant: value} from sidecar lines of measured values (bench/rounds.py writes them).

    A value is the line's latency sum (paced) or timed region over its items, as pyperf stores it.
    """
    found: dict = defaultdict(lambda: defaultdict(dict))
    for line in lines:
        if line.get("phase") != "value" or line.get("status") != "ok" or "round" not in line:
            continue
        total = line.get("latency_sum_s", line.get("elapsed_s"))
        if total and line.get("items"):
            found[line["pid"]][line["round"]][line["benchmark"].split("/")[0]] = total / line["items"]
    return {pid: dict(by_round) for pid, by_round in found.items()}


def widest_interval(rounds: dict) -> float:
    """The widest 95% interval of a paired scenario's standings, as a half-width relative to the standing.

    0.05 means every design's standing is known within +-5%; NaN when no interval exists (fewer than 3
    processes, or one design).
    """
    designs = sorted({design for by_round in rounds.values() for values in by_round.values()
                      for design in values})
    widths = [(found["standing_high"] - found["standing_low"]) / 2 / found["standing"]
              for found in _paired(rounds, designs).values() if not math.isnan(found["standing_low"])]
    return max(widths) if widths else math.nan


def process_standings(rounds: dict, design: str, reference: str) -> list[float]:
    """One standing per process: the median over its rounds of design / reference (rounds with both)."""
    found = []
    for by_round in rounds.values():
        ratios = [values[design] / values[reference] for values in by_round.values()
                  if design in values and reference in values]
        if ratios:
            found.append(statistics.median(ratios))
    return found


def _paired(rounds: dict, designs: list[str]) -> dict[str, dict]:
    medians = {}
    for design in designs:
        values = [v[design] for by_round in rounds.values() for v in by_round.values() if design in v]
        if values:
            medians[design] = statistics.median(values)
    if not medians:
        return {}
    reference = min(medians, key=medians.get)
    for _ in range(len(medians)):  # the design that beats the reference round by round becomes it
        current = {d: statistics.median(process_standings(rounds, d, reference) or [math.nan])
                   for d in medians}
        best = min(current, key=lambda d: current[d] if not math.isnan(current[d]) else math.inf)
        if best == reference or not current[best] < 1:
            break
        reference = best
    found = {}
    for design in medians:
        per_process = process_standings(rounds, design, reference)
        low, high = (math.nan, math.nan) if design == reference else median_interval(per_process)
        if len(per_process) >= MIN_PROCESSES and len(set(per_process)) == 1:  # processes agree exactly
            low = high = per_process[0]
        found[design] = {"standing": statistics.median(per_process) if per_process else math.nan,
                         "standing_low": low, "standing_high": high, "standing_ref": reference,
                         "standing_paired": True}
    return found


def _unpaired(figures: dict[str, float], per_process: dict[str, list[float]]) -> dict[str, dict]:
    usable = {d: f for d, f in figures.items() if f is not None and f > 0}
    if not usable:
        return {}
    reference = min(usable, key=usable.get)
    found = {}
    for design, figure in usable.items():
        low, high = ((math.nan, math.nan) if design == reference
                     else ratio_interval(per_process[design], per_process[reference]))
        found[design] = {"standing": figure / usable[reference], "standing_low": low, "standing_high": high,
                         "standing_ref": reference, "standing_paired": False}
    return found


def standings(frame, processes, table) -> dict[str, dict]:
    """benchmark -> {standing, standing_low, standing_high, standing_ref, standing_paired} for ok cells.

    Scenarios are ranked on pyperf's value (value_figure): round by round where paired, else on the medians
    over processes. A scenario is paired when every one of its measured designs has values in rounds that
    held two designs or more.
    """
    found: dict[str, dict] = {}
    ok = table[table["status"] == "ok"]
    for scenario, cells in ok.groupby("scenario", sort=False):
        rows = frame[frame["scenario"] == scenario]
        rounds = paired_rounds(rows)
        designs = list(cells["variant"])
        together = {d for by_round in rounds.values() for v in by_round.values() if len(v) > 1 for d in v}
        if together and set(designs) <= together:
            by_design = _paired(rounds, designs)
        else:
            figure = value_figure(cells["value_kind"].iloc[0])
            if figure not in cells.columns:
                continue
            names = dict(zip(cells["variant"], cells["benchmark"], strict=True))
            per_process = {d: list(processes.loc[processes["benchmark"] == names[d], figure]) for d in names}
            by_design = _unpaired(dict(zip(cells["variant"], cells[figure], strict=True)), per_process)
        names = dict(zip(cells["variant"], cells["benchmark"], strict=True))
        for design, figures in by_design.items():
            found[names[design]] = figures
    return found
