"""Intervals over worker processes: the unit of repetition is the process, never the pooled value.

A whole worker process can run 1.2-1.5x slower than its neighbour throughout, so values of one process are
not independent samples: each process is reduced to one figure (the median of its values) and every
interval is taken over those process figures.

Method: a percentile bootstrap (scipy.stats.bootstrap, 95%, 4,000 resamples, seeded so a report is
reproducible). With fewer than MIN_PROCESSES processes (on either side of a ratio) no honest interval
exists, and the interval is missing (NaN), never zero width. A bootstrap interval of a median cannot be
wider than the range of the process figures: with 3 to 5 processes it covers the true median less often
than 95% (an order-statistic argument gives 75% at 3, 88% at 4, 94% at 5), so read those as the spread
seen, not a guarantee; the report says how many processes each figure has.
"""

from __future__ import annotations

import math

__all__ = ["MIN_PROCESSES", "LEVEL", "median_interval", "ratio_interval", "spread_ratio"]

MIN_PROCESSES = 3  # fewer process figures than this: no interval
LEVEL = 0.95
RESAMPLES = 4000
_NAN2 = (math.nan, math.nan)


def _clean(values):
    import numpy as np  # here, not above: the runner imports this module, and numpy only when it asks

    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def median_interval(process_figures) -> tuple[float, float]:
    """95% percentile-bootstrap interval (low, high) of the median of `process_figures`.

    One figure per worker process (the median of its values). Returns (nan, nan) with fewer than
    MIN_PROCESSES finite figures.
    """
    import numpy as np
    from scipy.stats import bootstrap  # statistics: never in a worker

    data = _clean(process_figures)
    if len(data) < MIN_PROCESSES:
        return _NAN2
    if np.ptp(data) == 0:  # identical figures: the bootstrap has nothing to resample
        return _NAN2
    result = bootstrap((data,), np.median, vectorized=True, n_resamples=RESAMPLES, confidence_level=LEVEL,
                       method="percentile", rng=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def ratio_interval(numerator, denominator) -> tuple[float, float]:
    """95% percentile-bootstrap interval (low, high) of median(numerator) / median(denominator).

    Both sides are process figures of different processes (not paired), resampled independently.
    Returns (nan, nan) when either side has fewer than MIN_PROCESSES finite figures.
    """
    import numpy as np
    from scipy.stats import bootstrap  # statistics: never in a worker

    top, bottom = _clean(numerator), _clean(denominator)
    if min(len(top), len(bottom)) < MIN_PROCESSES or not np.all(bottom > 0):
        return _NAN2

    def ratio(a, b, axis=-1):
        return np.median(a, axis=axis) / np.median(b, axis=axis)

    result = bootstrap((top, bottom), ratio, vectorized=True, paired=False, n_resamples=RESAMPLES,
                       confidence_level=LEVEL, method="percentile", rng=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def spread_ratio(process_figures) -> float:
    """Slowest over fastest process figure (1.0 = processes agree); NaN with fewer than 2 processes."""
    data = [float(x) for x in process_figures if math.isfinite(x)]
    if len(data) < 2 or min(data) <= 0:
        return math.nan
    return max(data) / min(data)
