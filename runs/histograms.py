"""Latency histograms as the run folder carries them: HdrHistograms (the `hdrhistogram` package) recorded,
encoded, decoded, merged and read for percentiles.

Latencies go into an HdrHistogram (1 ns to 1 h, 3 significant digits, in whole nanoseconds) whose encoded
form (encode: 'ns:' and HdrHistogram's base64 text) travels in the metrics sidecar as `latency_hist`, so
analysis can merge the histograms of several processes (merge_histograms) and read percentiles from the
merge (percentiles, merged_percentiles). Runs made before the nanosecond histograms carry the base64 text
alone, in microseconds: decode and merge_histograms read both. Histograms merge exactly, so a process's
percentiles come from the merge of its values' histograms and a benchmark's from the merge of all of them:
percentiles are never averaged.

Only hdrhistogram here: the workers record with it (bench.latency) after every measured paced run.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

__all__ = ["LOWEST_NS", "HIGHEST_NS", "DIGITS", "NS", "US", "PERCENTILES", "new_histogram", "histogram",
           "encode", "decode", "merge_histograms", "percentiles", "merged_percentiles"]

LOWEST_NS = 1  # the histogram's lowest discernible value: 1 ns (smaller latencies are recorded as 1 ns)
HIGHEST_NS = 3_600_000_000_000  # its highest trackable value: 1 h (larger ones are recorded as 1 h)
DIGITS = 3  # significant digits kept: a value is read back within 0.1% from 500 ns up, 0.5 ns below that
NS, US = 1e-9, 1e-6  # seconds per count unit: the histograms' since 'ns:', and the older ones'
_PREFIX = "ns:"  # marks an encoded histogram in nanoseconds; the older ones (microseconds) have none
_OLD_RANGE = (1, 3_600_000_000)  # the older histograms' range in microseconds: 1 us to 1 h

# (column suffix, percentile) of the figures read from a histogram
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))
_PERCENTILES = {f"latency_{name}_s": pct for name, pct in PERCENTILES}


def new_histogram() -> HdrHistogram:
    """An empty latency histogram with the suite's range and precision (values in nanoseconds)."""
    return HdrHistogram(LOWEST_NS, HIGHEST_NS, DIGITS)


def histogram(latencies: list[float]) -> HdrHistogram:
    """A histogram of latencies given in seconds, recorded in whole nanoseconds.

    Values are rounded to the nanosecond and clamped into the histogram's range: below 1 ns (even a
    negative latency, from a stamp taken early) counts as 1 ns, beyond 1 h as 1 h.
    """
    result = new_histogram()
    record = result.record_value
    for latency in latencies:
        record(min(max(round(latency * 1e9), LOWEST_NS), HIGHEST_NS))
    return result


def encode(hist: HdrHistogram) -> str:
    """A nanosecond histogram as `latency_hist` carries it: 'ns:' then HdrHistogram's base64 text."""
    return _PREFIX + hist.encode().decode("ascii")


def decode(text: str) -> tuple[HdrHistogram, float]:
    """An encoded histogram and the seconds its unit stands for: NS with the 'ns:' prefix, else US (the
    histograms of runs made before nanoseconds)."""
    if text.startswith(_PREFIX):
        return HdrHistogram.decode(text[len(_PREFIX):]), NS
    return HdrHistogram.decode(text), US


def _in_nanoseconds(hist: HdrHistogram) -> HdrHistogram:
    """A microsecond histogram re-recorded in nanoseconds: each bucket at the value its percentiles read
    (its highest equivalent), x 1000, so within the old precision (1 us, 3 digits)."""
    result = new_histogram()
    for index in range(hist.counts_len):
        count = hist.get_count_at_index(index)
        if count:
            value = hist.get_highest_equivalent_value(hist.get_value_from_index(index))
            result.record_value(min(value * 1000, HIGHEST_NS), count)
    return result


def merge_histograms(encoded: list[str]) -> tuple[HdrHistogram, float]:
    """One histogram holding every value of the encoded histograms (as `latency_hist` carries them), and
    the seconds its unit stands for.

    Histograms all in microseconds (an older run's) merge as they are, so that the run's figures stay
    what they were; otherwise the result is in nanoseconds and any microsecond ones are converted.
    """
    decoded = [decode(text) for text in encoded]
    unit = US if decoded and all(unit == US for _, unit in decoded) else NS
    merged = HdrHistogram(*_OLD_RANGE, DIGITS) if unit == US else new_histogram()
    for hist, hist_unit in decoded:
        merged.add(hist if hist_unit == unit else _in_nanoseconds(hist))
    return merged, unit


def percentiles(hist: HdrHistogram, unit: float = NS) -> dict:
    """The latency percentiles of a histogram in seconds: latency_p50_s .. latency_p999_s, latency_max_s.

    `unit` is the seconds one count of the histogram stands for. Each is HdrHistogram's value at that
    percentile: the highest value equivalent (within the histogram's precision) to the recorded one of
    that rank. An empty histogram gives zeros.
    """
    values = hist.get_percentile_to_value_dict(list(_PERCENTILES.values()))
    result = {key: values.get(pct, 0) * unit for key, pct in _PERCENTILES.items()}
    result["latency_max_s"] = hist.get_max_value() * unit
    return result


def merged_percentiles(encoded: list[str]) -> dict:
    """`latency_{p50,p90,p99,p999,max}_s` and `latency_count` of the merged histograms.

    The mean is not taken from here: the values' own mean (exact) is kept.

    `encoded` holds encoded histograms (a value of several scenario runs holds several, joined by ';'),
    in either unit (merge_histograms: an older run's merge as they always did).
    Empty input gives an empty dict.
    """
    parts = [part for text in encoded for part in text.split(";") if part]
    if not parts:
        return {}
    merged, unit = merge_histograms(parts)
    if merged.get_total_count() == 0:
        return {}
    return {**percentiles(merged, unit), "latency_count": merged.get_total_count()}
