"""The regression gate's statistics: a ratio per benchmark, a confidence interval for it, and a verdict.

Two kinds of evidence feed the same verdict rule:
  rounds     `bench check --base`: each round ran one fresh worker process of each side, back to back in
             random order; a round gives one ratio, head median / base median. The ratios are paired by
             round (both saw the same moment of the machine). Under same code the two sides are exchangeable,
             so a round's ratio is as likely above 1 as below and the sign test is exact: its inverted form
             (two order statistics of the ratios) bounds their median. It uses only which side of a value
             each round fell on, so designs with regimes (a worker landing 2-3x off, either side) widen it
             by a round or two; the Wilcoxon signed-rank interval, tried first, weighs how far such rounds
             fall and widened 2-4x on them (docs/regression-gate.md, "Why the sign test").
  processes  `bench check --baseline`: two stored runs, one median per worker process on each side, not
             paired; the interval is the inverted Mann-Whitney test over processes, never pooled values.

The level is corrected for the number of benchmarks (Bonferroni) and, in `bench check --base`, for the
times a benchmark's interval may be looked at as rounds are added: at ALPHA = 0.05 a check errs on some
benchmark (flags it under same code, or calls it unchanged while it is slower) at most 5% of the time.

A verdict is decided ("slower", "improvement", "unchanged") only when the interval says so; a benchmark
with no interval, or whose interval reaches past 1 + threshold without lying above 1, is "undecided".
exit_status turns the verdicts into the check's exit status (EXIT_OK ... EXIT_UNDECIDED).
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

__all__ = ["ALPHA", "Verdict", "family_level", "min_rounds", "min_processes", "sign_interval",
           "process_interval", "decide", "round_ratio", "exit_status", "EXIT_OK", "EXIT_FAILED",
           "EXIT_USAGE", "EXIT_UNDECIDED"]

ALPHA = 0.05  # family-wise error over all benchmarks of one check
EXIT_OK = 0  # every benchmark decided, none slower, none failed or missing
EXIT_FAILED = 1  # a benchmark slower, failed, or missing on one side (unless missing ones are allowed)
EXIT_USAGE = 2  # bad input: raised as UsageError, the CLI prints one line
EXIT_UNDECIDED = 3  # nothing failed, but at least one benchmark undecided


@dataclass(frozen=True)
class Verdict:
    """A benchmark's ratio (head / base, above 1 = slower), its interval and what the gate makes of it."""

    ratio: float  # median of the per-round ratios, or ratio of the per-process medians' medians
    low: float | None  # interval bounds at the corrected level; None when the data cannot reach it
    high: float | None
    status: str  # "slower", "improvement", "unchanged" or "undecided"


def family_level(benchmarks: int, alpha: float = ALPHA, looks: int = 1) -> float:
    """Per-interval confidence level: `benchmarks` x `looks` intervals together err with chance <= alpha.

    Bonferroni correction; returns 1 - alpha / (benchmarks * looks). `looks`: how many times one
    benchmark's interval may be computed as rounds are added (bench check --base), 1 for stored runs.
    """
    if benchmarks < 1 or looks < 1:
        raise ValueError(f"benchmarks and looks must be >= 1, got {benchmarks} and {looks}")
    return 1 - alpha / (benchmarks * looks)


def min_rounds(level: float) -> int:
    """Fewest rounds for which sign_interval exists at `level`.

    With n rounds the widest interval (smallest to largest ratio) misses the median with chance
    2 * 0.5**n; returns the smallest n for which 1 - 2 * 0.5**n >= level.
    """
    return max(1, math.ceil(1 + math.log2(1 / (1 - level)) - 1e-9))


def min_processes(level: float) -> int:
    """Fewest worker processes a side (as many on each) for which process_interval exists at `level`.

    With n against n processes the widest interval misses with chance 2 / C(2n, n); returns the smallest
    n for which that is <= 1 - level.
    """
    n = 1
    while 2 / math.comb(2 * n, n) > (1 - level) * (1 + 1e-12):
        n += 1
    return n


def sign_interval(ratios: list[float], level: float) -> tuple[float, float] | None:
    """Confidence interval for the median of the per-round ratios (the inverted sign test).

    With the n ratios sorted, the interval runs from the k-th smallest to the k-th largest, k the largest
    order for which 2 * P(X <= k - 1) <= 1 - level, X ~ Binomial(n, 1/2); it covers the median with chance
    >= level whatever the ratios' distribution. Returns (low, high), or None when n is too small for any
    interval at `level`.
    """
    n = len(ratios)
    if n == 0:
        return None
    k, below = 0, 0
    for j in range(1, n // 2 + 1):
        below += math.comb(n, j - 1)  # outcomes with exactly j - 1 of n ratios below the median
        if 2 * below / 2 ** n > (1 - level) * (1 + 1e-12):
            break
        k = j
    if k == 0:
        return None
    ordered = sorted(ratios)
    return ordered[k - 1], ordered[n - k]


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
    """The gate's rule: "slower" when the ratio is beyond 1 + threshold and the interval lies above 1.

    "improvement" mirrors it (ratio below 1 / (1 + threshold), interval below 1); "unchanged" when the
    whole interval lies below 1 + threshold; "undecided" otherwise, and when there is no interval (too few
    rounds or processes for the level): the data cannot tell a slowdown beyond the threshold from none.
    """
    if interval is None:
        return Verdict(ratio, None, None, "undecided")
    low, high = interval
    if ratio > 1 + threshold and low > 1:
        status = "slower"
    elif ratio < 1 / (1 + threshold) and high < 1:
        status = "improvement"
    elif high < 1 + threshold:
        status = "unchanged"
    else:
        status = "undecided"
    return Verdict(ratio, low, high, status)


def round_ratio(base_values: list[float], head_values: list[float]) -> float:
    """One round's ratio: the median of the head worker's values over the median of the base worker's."""
    return statistics.median(head_values) / statistics.median(base_values)


def exit_status(verdicts: list[str], failed: int, missing: int) -> int:
    """The check's exit status from its benchmarks' verdicts, its failures and its unaccepted missing ones.

    EXIT_FAILED when a verdict is "slower" or "failed", or `failed` or `missing` is not 0; else
    EXIT_UNDECIDED when a verdict is "undecided"; else EXIT_OK. (EXIT_USAGE is bad input, raised before.)
    """
    if failed or missing or any(verdict in ("slower", "failed") for verdict in verdicts):
        return EXIT_FAILED
    if "undecided" in verdicts:
        return EXIT_UNDECIDED
    return EXIT_OK
