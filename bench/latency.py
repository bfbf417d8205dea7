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

Latencies also go into an HdrHistogram whose encoded form travels in the metrics sidecar (runs.histograms
says how: nanoseconds, 3 significant digits).

Only the standard library and hdrhistogram here: this module runs in pyperf workers after every measured
paced run (0.036-0.047 s for 20,000 items at 4:4 on this machine).
"""

from __future__ import annotations

import statistics

from runs import fmt
from runs.histograms import encode, histogram, percentiles
from variants import workload
from variants.contract import Outcome, Scenario

__all__ = ["figures", "format_figures"]

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


def format_figures(fig: dict) -> str:
    """One readable line of a run's figures, for the plain `--once` output."""
    latency = " ".join(f"{label} {fmt.seconds(fig[key])}" for label, key in (
        ("p50", "latency_p50_s"), ("p90", "latency_p90_s"), ("p99", "latency_p99_s"),
        ("p99.9", "latency_p999_s"), ("max", "latency_max_s")))
    growth = fig.get("latency_growth")
    if growth is not None:
        latency += f" (last/first tenth x{growth:.3g})"
    lag = f"p99 {fmt.seconds(fig['producer_lag_p99_s'])} max {fmt.seconds(fig['producer_lag_max_s'])}"
    return f"latency {latency}; depth max {fig['max_depth']} mean {fig['mean_depth']:.3g}; producer lag {lag}"
