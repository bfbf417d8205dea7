"""Latency percentiles from the workers' HdrHistograms (the `hdrhistogram` package, microsecond units).

Each measured value's sidecar line may carry `latency_hist`, an encoded histogram. Histograms merge
exactly, so a process's percentiles come from the merge of its values' histograms and a benchmark's from
the merge of all of them: percentiles are never averaged.
"""

from __future__ import annotations

__all__ = ["PERCENTILES", "merged_percentiles"]

# (column suffix, percentile) of the figures read from a merged histogram
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))
_US = 1e-6  # the histograms count microseconds


def merged_percentiles(encoded: list[str]) -> dict:
    """`latency_{p50,p90,p99,p999,max}_s` and `latency_count` of the merged histograms.

    The mean is not taken from here: the values' own mean (exact) is kept.

    `encoded` holds encoded histograms (a value of several scenario runs holds several, joined by ';').
    Empty input gives an empty dict.
    """
    from hdrh.histogram import HdrHistogram  # analysis only

    merged = None
    for text in encoded:
        for part in filter(None, text.split(";")):
            histogram = HdrHistogram.decode(part)
            if merged is None:
                merged = histogram
            else:
                merged.add(histogram)
    if merged is None or merged.get_total_count() == 0:
        return {}
    figures = {f"latency_{name}_s": merged.get_value_at_percentile(p) * _US for name, p in PERCENTILES}
    figures.update(latency_max_s=merged.get_max_value() * _US, latency_count=merged.get_total_count())
    return figures
