"""Latency and backpressure figures of one paced run, computed from its stamps after the clock has stopped.

A stamped run (see variants.workload.Plan) gives, in its Outcome's extras, `origin` (the perf_counter()
time the timed region began), `take_stamps` (per consumer, when it took each item it received, before its
work) and `put_stamps` (per producer, when each of its puts returned, in send order). With the scenario's
schedule that makes, per item:

  latency        take time - scheduled send time. Measured from the schedule, never from when `put`
                 returned: a producer held up by a full buffer shows as latency (no coordinated omission).
  producer lag   put-return time - scheduled send time: how far the design pushed its producers behind.

and, from puts and takes merged in time order, the buffer's depth: its maximum and its time-weighted mean
over the span from the first put to the last take.

Latencies also go into an HdrHistogram (1 ns to 1 h, 3 significant digits, in whole nanoseconds) whose
encoded form (encode: 'ns:' and HdrHistogram's base64 text) travels in the metrics sidecar, so analysis can
merge the histograms of several processes (merge_histograms) and read percentiles from the merge
(percentiles). Runs made before the nanosecond histograms carry the base64 text alone, in microseconds:
decode and merge_histograms read both.

Only the standard library and hdrhistogram here: this module runs in pyperf workers after every measured
paced run (0.036-0.047 s for 20,000 items at 4:4 on this machine).
"""

from __future__ import annotations

import statistics

from hdrh.histogram import HdrHistogram

from variants import workload
from variants.contract import Outcome, Scenario

__all__ = ["LOWEST_NS", "HIGHEST_NS", "DIGITS", "NS", "US", "figures", "new_histogram", "histogram", "encode",
           "decode", "merge_histograms", "percentiles", "format_figures"]

LOWEST_NS = 1  # the histogram's lowest discernible value: 1 ns (smaller latencies are recorded as 1 ns)
HIGHEST_NS = 3_600_000_000_000  # its highest trackable value: 1 h (larger ones are recorded as 1 h)
DIGITS = 3  # significant digits kept: a value is read back within 0.1% from 500 ns up, 0.5 ns below that
NS, US = 1e-9, 1e-6  # seconds per count unit: the histograms' since 'ns:', and the older ones'
_PREFIX = "ns:"  # marks an encoded histogram in nanoseconds; the older ones (microseconds) have none
_OLD_RANGE = (1, 3_600_000_000)  # the older histograms' range in microseconds: 1 us to 1 h

_PERCENTILES = {"latency_p50_s": 50.0, "latency_p90_s": 90.0, "latency_p99_s": 99.0, "latency_p999_s": 99.9}


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


def _rank(ordered: list[float], percentile: float) -> float:
    """The value of the given percentile of a sorted list, by the nearest-rank rule HdrHistogram uses."""
    rank = max(int(percentile * len(ordered) / 100 + 0.5), 1)
    return ordered[min(rank, len(ordered)) - 1]


def _depths(puts: list[float], takes: list[float]) -> tuple[int, float]:
    """Maximum and time-weighted mean of (puts so far - takes so far), over first put .. last take.

    Events at the same instant are applied together before the depth is read, so an item put and taken
    at one instant never counts.
    """
    puts, takes = sorted(puts), sorted(takes)
    n = len(puts)
    i = j = 0  # puts and takes applied so far
    depth = max_depth = 0
    area = 0.0
    now = start = puts[0]
    while j < n:
        t = takes[j] if i == n or takes[j] < puts[i] else puts[i]
        area += depth * (t - now)
        now = t
        while i < n and puts[i] == t:
            i += 1
        while j < n and takes[j] == t:
            j += 1
        depth = i - j
        if depth > max_depth:
            max_depth = depth
    span = now - start
    return max_depth, (area / span if span > 0 else 0.0)


def figures(scenario: Scenario, outcome: Outcome) -> dict | None:
    """The latency, producer-lag and depth figures of a stamped paced run; None if it has no stamps.

    A flat run (no schedule) gives None even when stamped: without send times there is no latency.
    The outcome must be verified first (every item received once). Keys, in seconds unless told:
    latency_count, latency_sum_s (exact, for pyperf's mean latency per item), latency_mean_s,
    latency_p50_s, latency_p90_s, latency_p99_s, latency_p999_s, latency_max_s (from the histogram),
    max_depth and mean_depth (items), producer_lag_p99_s, producer_lag_max_s, latency_hist (the
    HdrHistogram as encode gives it, a str) and latency_growth: the median latency of the last tenth of
    items by scheduled time over that of the first tenth (None when the first is not positive).

    Depth is approximate where the stamps are: a stamp is taken just after the put or take it marks.
    An item is counted as put at min(put stamp, take stamp), since a consumer can take an item before
    its producer's put has returned; and a take stamp lags the real take, so the depth read can exceed
    the real one by at most one item per consumer (the item each has taken but not yet stamped).
    """
    extras = outcome.extras
    if "take_stamps" not in extras:
        return None
    offsets = workload.schedule(scenario)
    if offsets[0] is None:
        return None
    try:
        origin, put_stamps, take_stamps = extras["origin"], extras["put_stamps"], extras["take_stamps"]
    except KeyError as exc:
        raise ValueError(f"stamped outcome has no {exc.args[0]!r} in its extras") from None
    if len(take_stamps) != len(outcome.received):
        raise ValueError(f"take_stamps has {len(take_stamps)} lists for {len(outcome.received)} consumers")
    if len(put_stamps) != len(offsets):
        raise ValueError(f"put_stamps has {len(put_stamps)} lists for {len(offsets)} producers")
    for p, (stamps, due) in enumerate(zip(put_stamps, offsets, strict=True)):
        if len(stamps) != len(due):
            raise ValueError(f"producer {p} has {len(stamps)} put stamps for {len(due)} items")

    p_count = scenario.producers
    latencies, lags, puts, takes, by_schedule = [], [], [], [], []
    for got, stamps in zip(outcome.received, take_stamps, strict=True):
        if len(got) != len(stamps):
            raise ValueError(f"a consumer has {len(stamps)} take stamps for {len(got)} items")
        for item, taken in zip(got, stamps, strict=True):
            seq, p = divmod(workload.item_id(item), p_count)
            due = origin + offsets[p][seq]
            put = put_stamps[p][seq]
            latencies.append(taken - due)
            lags.append(put - due)
            puts.append(put if put < taken else taken)
            takes.append(taken)
            by_schedule.append((due, taken - due))
    count = len(latencies)
    if count == 0:
        return None

    hist = histogram(latencies)
    max_depth, mean_depth = _depths(puts, takes)
    lags.sort()
    by_schedule.sort()
    tenth = max(count // 10, 1)
    first = statistics.median(latency for _, latency in by_schedule[:tenth])
    last = statistics.median(latency for _, latency in by_schedule[-tenth:])
    total = sum(latencies)
    return {
        "latency_count": count,
        "latency_sum_s": total,
        "latency_mean_s": total / count,
        **percentiles(hist),
        "max_depth": max_depth,
        "mean_depth": mean_depth,
        "producer_lag_p99_s": _rank(lags, 99.0),
        "producer_lag_max_s": lags[-1],
        "latency_growth": last / first if first > 0 else None,
        "latency_hist": encode(hist),  # text: a JSON string in the sidecar
    }


def _seconds(value: float) -> str:
    """A duration in a readable unit, 3 significant digits: '420 ns', '850 us', '1.23 ms', '2.5 s'."""
    size = abs(value)
    if size < 1e-6:
        return f"{value * 1e9:.3g} ns"
    if size < 1e-3:
        return f"{value * 1e6:.3g} us"
    if size < 1.0:
        return f"{value * 1e3:.3g} ms"
    return f"{value:.3g} s"


def format_figures(fig: dict) -> str:
    """One readable line of a run's figures, for the plain `--once` output."""
    latency = " ".join(f"{label} {_seconds(fig[key])}" for label, key in (
        ("p50", "latency_p50_s"), ("p90", "latency_p90_s"), ("p99", "latency_p99_s"),
        ("p99.9", "latency_p999_s"), ("max", "latency_max_s")))
    growth = fig.get("latency_growth")
    if growth is not None:
        latency += f" (last/first tenth x{growth:.3g})"
    lag = f"p99 {_seconds(fig['producer_lag_p99_s'])} max {_seconds(fig['producer_lag_max_s'])}"
    return f"latency {latency}; depth max {fig['max_depth']} mean {fig['mean_depth']:.3g}; producer lag {lag}"
