"""The regression gate's statistics: a ratio per benchmark, a confidence interval for it, and a verdict.

Two kinds of evidence feed the same verdict rule:
  rounds     `bench check --base`: each round ran one fresh worker process of each side, back to back in
             random order; a round gives one ratio, head median / base median. The ratios are paired by
             round (both saw the same moment of the machine). Under same code the two sides are exchangeable,
             so each log ratio is symmetric about 0 and the Wilcoxon signed-rank test is exact: its inverted
             form (the Hodges-Lehmann interval over Walsh averages) bounds the ratio. It is rank-based, so one
             wild round moves it little, and it needs about 2/3 of the rounds the sign test would.
  processes  `bench check --baseline`: two stored runs, one median per worker process on each side, not
             paired; the interval is the inverted Mann-Whitney test over processes, never pooled values.

The level is corrected for the number of benchmarks (Bonferroni): at ALPHA = 0.05 a same-code check
flags any benchmark at most 5% of the time before the flagged ones are re-measured.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

__all__ = ["ALPHA", "Verdict", "family_level", "min_rounds", "signed_rank_interval",
           "process_interval", "decide", "round_ratio"]

ALPHA = 0.05  # family-wise error over all benchmarks of one check


@dataclass(frozen=True)
class Verdict:
    """A benchmark's ratio (head / base, above 1 = slower), its interval and what the gate makes of it."""

    ratio: float  # median of the per-round ratios, or ratio of the per-process medians' medians
    low: float | None  # interval bounds at the corrected level; None when the data cannot reach it
    high: float | None
    status: str  # "regression", "improvement", "unchanged" or "inconclusive" (too few rounds/processes)


def family_level(benchmarks: int, alpha: float = ALPHA) -> float:
    """Per-benchmark confidence level so that `benchmarks` intervals together err with chance <= alpha.

    Bonferroni correction; returns 1 - alpha / benchmarks.
    """
    if benchmarks < 1:
        raise ValueError(f"benchmarks must be >= 1, got {benchmarks}")
    return 1 - alpha / benchmarks


def min_rounds(level: float) -> int:
    """Fewest rounds for which signed_rank_interval exists at `level`.

    With n rounds the widest interval (smallest to largest Walsh average) misses the centre with chance
    2 * 0.5**n; returns the smallest n for which 1 - 2 * 0.5**n >= level.
    """
    return max(1, math.ceil(1 + math.log2(1 / (1 - level)) - 1e-9))


@functools.lru_cache(maxsize=64)
def _signed_rank_cdf(n: int) -> tuple[float, ...]:
    """P(T+ <= t) for t = 0 .. n(n+1)/4 under the null, T+ the signed-rank statistic of n rounds.

    Read from scipy's exact distribution: for each t, scipy.stats.wilcoxon (exact, alternative "less") of
    the ranks 1..n signed so that the positive ones sum to t.
    """
    from scipy.stats import wilcoxon  # the check's process only, never a worker

    found = []
    for t in range(n * (n + 1) // 4 + 1):
        left, signed = t, []
        for rank in range(n, 0, -1):  # any t up to n(n+1)/2 is a sum of distinct ranks, largest first
            positive = rank <= left
            left -= rank if positive else 0
            signed.append(rank if positive else -rank)
        found.append(float(wilcoxon(signed, alternative="less", method="exact").pvalue))
    return tuple(found)


def signed_rank_interval(ratios: list[float], level: float) -> tuple[float, float] | None:
    """Confidence interval for the centre of the per-round ratios (the inverted Wilcoxon signed-rank test).

    Test: the exact Wilcoxon signed-rank test on the log ratios (null distribution from scipy). With the
    N = n(n+1)/2 Walsh averages (pairwise means of log ratios, each with itself included) sorted, the
    interval runs from the k-th smallest to the k-th largest, k the largest order for which
    2 * P(T+ <= k - 1) <= 1 - level (Hodges-Lehmann); it covers the centre with chance >= level when the
    log ratios are symmetric about it, as they are under same code. Returns (low, high) as ratios, or None
    when n is too small for any interval at `level`.
    """
    n = len(ratios)
    if n == 0 or min(ratios) <= 0:
        return None
    cdf = _signed_rank_cdf(n)
    k = sum(1 for p in cdf if 2 * p <= (1 - level) * (1 + 1e-12))
    if k == 0:
        return None
    logs = [math.log(ratio) for ratio in ratios]
    walsh = sorted((logs[i] + logs[j]) / 2 for i in range(n) for j in range(i, n))
    return math.exp(walsh[k - 1]), math.exp(walsh[len(walsh) - k])


@functools.lru_cache(maxsize=64)
def _rank_sum_cdf(n: int, m: int) -> tuple[float, ...]:
    """P(U <= u) for u = 0 .. nm/2 under the null, U the Mann-Whitney statistic of n against m values.

    Read from scipy's exact distribution: for each u, scipy.stats.mannwhitneyu (exact, alternative "less")
    of n values placed among m so that they sit above u of them in all.
    """
    from scipy.stats import mannwhitneyu  # the check's process only, never a worker

    found = []
    below = list(range(1, m + 1))
    for u in range(n * m // 2 + 1):
        left, placed = u, []
        for _ in range(n):  # a value above c of the m others, largest counts first
            count = min(m, left)
            left -= count
            placed.append(count + 0.5)
        found.append(float(mannwhitneyu(placed, below, alternative="less", method="exact").pvalue))
    return tuple(found)


def process_interval(base: list[float], head: list[float], level: float) -> tuple[float, float] | None:
    """Confidence interval of the ratio head / base over worker processes (two unpaired samples).

    Test: the exact Mann-Whitney (Wilcoxon rank-sum) test on log values (null distribution from scipy),
    inverted: with the n*m differences log(head_j) - log(base_i) sorted, the interval runs from the k-th
    smallest to the k-th largest, k the largest order for which 2 * P(U <= k - 1) <= 1 - level
    (Hodges-Lehmann). `base` and `head` hold one median per worker process, so unequal numbers of
    processes or values are fine. Returns (low, high) as ratios, or None when so few processes cannot
    reach `level` (4 a side are the fewest for 95%).
    """
    if not base or not head or min(base + head) <= 0:
        return None
    cdf = _rank_sum_cdf(len(base), len(head))
    k = sum(1 for p in cdf if 2 * p <= (1 - level) * (1 + 1e-12))
    if k == 0:
        return None
    diffs = sorted(math.log(b) - math.log(a) for a in base for b in head)
    return math.exp(diffs[k - 1]), math.exp(diffs[len(diffs) - k])


def decide(ratio: float, interval: tuple[float, float] | None, threshold: float) -> Verdict:
    """The gate's rule: "regression" when the ratio is beyond 1 + threshold and the interval lies above 1.

    "improvement" mirrors it (ratio below 1 / (1 + threshold), interval below 1); "inconclusive" when
    there is no interval; "unchanged" otherwise.
    """
    if interval is None:
        return Verdict(ratio, None, None, "inconclusive")
    low, high = interval
    if ratio > 1 + threshold and low > 1:
        status = "regression"
    elif ratio < 1 / (1 + threshold) and high < 1:
        status = "improvement"
    else:
        status = "unchanged"
    return Verdict(ratio, low, high, status)


def round_ratio(base_values: list[float], head_values: list[float]) -> float:
    """One round's ratio: the median of the head worker's values over the median of the base worker's."""
    return statistics.median(head_values) / statistics.median(base_values)
