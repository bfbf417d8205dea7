"""Latency percentiles from the workers' HdrHistograms (the `hdrhistogram` package; bench.latency says how
they are recorded and encoded: nanoseconds, or microseconds in runs made before nanoseconds).

Each measured value's sidecar line may carry `latency_hist`, an encoded histogram. Histograms merge
exactly, so a process's percentiles come from the merge of its values' histograms and a benchmark's from
the merge of all of them: percentiles are never averaged.
"""

from __future__ import annotations

__all__ = ["PERCENTILES", "merged_percentiles"]

# (column suffix, percentile) of the figures read from a merged histogram
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))


def merged_percentiles(encoded: list[str]) -> dict:
    """`latency_{p50,p90,p99,p999,max}_s` and `latency_count` of the merged histograms.

    The mean is not taken from here: the values' own mean (exact) is kept.

    `encoded` holds encoded histograms (a value of several scenario runs holds several, joined by ';'),
    in either unit (bench.latency.merge_histograms: an older run's merge as they always did).
    Empty input gives an empty dict.
    """
    from bench.latency import merge_histograms  # analysis only: hdrhistogram

    parts = [part for text in encoded for part in text.split(";") if part]
    if not parts:
        return {}
    merged, unit = merge_histograms(parts)
    if merged.get_total_count() == 0:
        return {}
    figures = {f"latency_{name}_s": merged.get_value_at_percentile(p) * unit for name, p in PERCENTILES}
    figures.update(latency_max_s=merged.get_max_value() * unit, latency_count=merged.get_total_count())
    return figures
