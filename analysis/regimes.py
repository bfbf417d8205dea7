"""Regimes: the separated modes of one benchmark's per-run values, named instead of averaged.

Some designs settle one way or the other from one run to the next (`queue` at 1:1 unbounded takes 1.0-1.2 or
2.2-2.4 us per item, as the GIL hand-off falls): a median of such runs jumps between the modes. This module
finds the modes, so that the report can give each one's figure and share of the runs.

Method: a Gaussian kernel density estimate of the log values (scipy.stats.gaussian_kde, Silverman's
bandwidth), its peaks (scipy.signal.find_peaks), the values split at the lowest density between two peaks.
Silverman's normal-reference bandwidth over-smooths a multimodal sample, which is the side to err on: the
machine's own noise (values spread 1.2-2x) must not read as regimes. A split stands only if every mode
- holds at least MIN_SHARE of the values and at least MIN_COUNT values, and
- lies a factor apart: its figure at least MIN_RATIO times the next lower mode's.
A peak whose mode fails is dropped (the one with fewer values first) and the values are split again. With
fewer than MIN_VALUES values there is one mode: too few to tell. No randomness: the same values give the
same modes.

Measured on 500 seeded synthetic samples per cell (n = 8, 16, 32, 48 values): steady benchmarks are split by
mistake in 0-1.4% of samples for log-normal noise with sd of log up to 0.2, a heavy right tail or 10% slow
outliers (up to 2.4%), and 3-6% at sd of log 0.3; two regimes 2x apart in equal shares are found in 97-100%
of samples of 16 or more values (55-71% of 8). A true 1.5x or 20% regime sits on the rule's edge and is
found about half the time at best. Not told apart: values that cluster by worker process look like
regimes (processes off by sd of log 0.15: 0.2-4.6% split; 0.3, a noisy day's 1.5-2.5x: 12-39%); and
Silverman's bandwidth can smooth several evenly spaced modes into one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from runs import fmt

__all__ = ["Mode", "MIN_VALUES", "MIN_SHARE", "MIN_COUNT", "MIN_RATIO", "MAX_MODES",
           "regimes", "regime_columns", "regime_text"]

MIN_VALUES = 8  # fewer values than this: one mode (too few to tell)
MIN_SHARE = 0.2  # a mode holds at least a fifth of the values...
MIN_COUNT = 3  # ...and at least 3 of them
MIN_RATIO = 1.5  # neighbouring modes' figures at least this factor apart: closer is the machine's noise
MAX_MODES = 3
_GRID = 512  # points at which the density is evaluated


@dataclass(frozen=True)
class Mode:
    """One regime of a benchmark's per-run values."""

    figure: float  # the median of the mode's values
    share: float  # its fraction of the values


def _split(values: np.ndarray, grid: np.ndarray, density: np.ndarray, peaks: list[int]) -> list[np.ndarray]:
    """The sorted values cut at the lowest density (over their logs) between each two neighbouring peaks."""
    cuts = [grid[a + int(np.argmin(density[a:b + 1]))] for a, b in zip(peaks, peaks[1:], strict=False)]
    return np.split(values, np.searchsorted(values, np.exp(cuts)))


def _weakest(groups: list[np.ndarray]) -> int | None:
    """Index of a group to merge into its neighbours: one with too few values, else the smaller of the two
    closest neighbours when they are under MIN_RATIO apart or there are over MAX_MODES groups; None when
    every group stands."""
    sizes = [len(group) for group in groups]
    small = min(range(len(groups)), key=sizes.__getitem__)
    if sizes[small] < max(MIN_COUNT, MIN_SHARE * sum(sizes)):
        return small
    medians = [np.median(group) for group in groups]
    i = min(range(len(groups) - 1), key=lambda i: medians[i + 1] / medians[i])
    if medians[i + 1] < MIN_RATIO * medians[i] or len(groups) > MAX_MODES:
        return i if sizes[i] <= sizes[i + 1] else i + 1
    return None


def _follows_processes(groups: list[np.ndarray], values: np.ndarray, processes: np.ndarray) -> bool:
    """Whether the modes only sort whole worker processes: no process with 2+ values has values in two
    modes, and at least two processes have 2+ values. Such a split is the machine's (a whole process ran
    slower), not the design's, which switches regime from one run to the next."""
    tops = [group[-1] for group in groups]
    mode = np.searchsorted(tops, values)  # groups are sorted and cut between neighbours
    seen: dict = {}
    for process, index in zip(processes, mode, strict=True):
        seen.setdefault(process, []).append(int(index))
    judged = [set(found) for found in seen.values() if len(found) >= 2]
    return len(judged) >= 2 and all(len(found) == 1 for found in judged)


def regimes(values, processes=None, figures=None) -> list[Mode]:
    """The modes of one benchmark's per-run values (seconds), sorted by figure.

    Method: Gaussian kernel density of the log values with Silverman's bandwidth, split at the density's
    dips; a mode stands only if it holds MIN_SHARE and MIN_COUNT of the values and lies MIN_RATIO from its
    neighbours (see the module docstring). Values that are not finite and positive (NaN) are ignored.
    With `processes` (each value's worker process), a split that only sorts whole processes is refused
    (_follows_processes). With `figures` (each value's figure in seconds, when `values` are the runs'
    values relative to something else, e.g. to the other designs of their round), the modes are found on
    `values` and each mode's figure is the median of its runs' `figures`. Returns one Mode (the median,
    share 1.0) for a steady benchmark or fewer than MIN_VALUES values, at most MAX_MODES modes, and []
    when no value is left.
    """
    from scipy.signal import find_peaks  # analysis only
    from scipy.stats import gaussian_kde

    array = np.asarray(values, dtype=float).ravel()
    raw = np.asarray(figures, dtype=float).ravel() if figures is not None else array
    keep = np.isfinite(array) & (array > 0) & np.isfinite(raw)
    owners = np.asarray(processes).ravel()[keep] if processes is not None else None
    order = np.argsort(array[keep], kind="stable")
    array, raw = array[keep][order], raw[keep][order]
    owners = owners[order] if owners is not None else None
    if len(array) == 0:
        return []
    logs = np.log(array)
    groups = [array]
    if len(logs) >= MIN_VALUES and np.ptp(logs) > 0:
        kde = gaussian_kde(logs, bw_method="silverman")
        width = math.sqrt(kde.covariance[0, 0])
        grid = np.linspace(logs[0] - 3 * width, logs[-1] + 3 * width, _GRID)
        density = kde(grid)
        peaks = [int(p) for p in find_peaks(density)[0]]
        groups = _split(array, grid, density, peaks)
        while len(groups) > 1 and (weak := _weakest(groups)) is not None:
            del peaks[weak]  # group i holds peak i
            groups = _split(array, grid, density, peaks)
        if len(groups) > 1 and owners is not None and _follows_processes(groups, array, owners):
            groups = [array]
    member = np.searchsorted([group[-1] for group in groups], array)  # groups are cut between neighbours
    return [Mode(float(np.median(raw[member == index])), len(group) / len(array))
            for index, group in enumerate(groups)]


def regime_columns(values, processes=None, figures=None) -> dict:
    """benchmarks.csv's regime columns for one benchmark's per-run values (see regimes()):
    {"modes": n, "mode_1_s": figure, "mode_1_share": share, "mode_2_s": ...}, the present modes' keys only
    ({"modes": 0} without values)."""
    found = regimes(values, processes, figures)
    columns: dict = {"modes": len(found)}
    for number, mode in enumerate(found, start=1):
        columns[f"mode_{number}_s"] = mode.figure
        columns[f"mode_{number}_share"] = mode.share
    return columns


def regime_text(row: Mapping) -> str | None:
    """'2 regimes: 1 us in 40% of runs, 2.3 us in 60%' for a benchmarks.csv row with modes > 1; None for a
    row with one mode or without the columns."""
    modes = row.get("modes")
    if fmt.missing(modes) or modes <= 1:
        return None
    parts = [f"{fmt.seconds(row[f'mode_{i}_s'], 2)} in {row[f'mode_{i}_share']:.0%}"
             for i in range(1, int(modes) + 1)]
    return f"{int(modes)} regimes: {parts[0]} of runs, {', '.join(parts[1:])}"
