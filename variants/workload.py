"""The workload every design shares: item format, arrival schedules, consumer work, the sentinel.

One place for all of it, so that designs differ only in how they hand items over. Each concurrency model
gets a thin form of the waits: a blocking sleep for threads, processes and greenlets; an absolute wake-up
time yielded to the scheduler for generators; ``await asyncio.sleep`` for asyncio (see the designs).

Specs (strings, so they fit benchmark names and command lines):
  arrival  flat                 closed loop: each producer puts as fast as the buffer lets it
           steady:RATE          evenly spaced, RATE items/s in total over all producers
           burst:SIZE:RATE      bursts of SIZE items back to back, RATE items/s on average in total
           poisson:RATE         exponential gaps (seeded), RATE items/s on average in total
  work     none                 the consumer records the item in its local list, nothing more
           cpu:DURATION         plus a calibrated pure-Python busy loop (holds the GIL), e.g. cpu:20us
           io:DURATION          plus a wait that releases the GIL / yields, e.g. io:1ms
"""

from __future__ import annotations

import random
import re
import resource
import time
from dataclasses import dataclass

__all__ = [
    "SENTINEL", "SEED", "Arrival", "Work", "Plan",
    "parse_arrival", "parse_work", "parse_duration", "plan", "item_id", "spin", "spins_per_second",
    "TimedRegion", "cpu_seconds", "set_spins_per_second",
]

SENTINEL = None  # the stop marker: one per consumer, after every producer has finished; pickles as itself
SEED = 20261123  # seeds the poisson gaps; producer p uses SEED + p

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"  # plain decimal: no sign, exponent, spaces or underscores
_DURATION = re.compile(_NUMBER + r"(s|ms|us|ns)")


def parse_duration(text: str) -> float:
    """Parse '20us', '1.5ms', '2s' into seconds; ValueError on anything else."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: expected a number with a unit s, ms, us or ns, e.g. 20us")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _positive(text: str, what: str, spec: str, kind: type = float) -> float:
    pattern = r"\d+" if kind is int else _NUMBER
    value = kind(text) if re.fullmatch(pattern, text) else 0
    if not value > 0:
        number = "whole number" if kind is int else "number"
        raise ValueError(f"bad arrival spec {spec!r}: {what} must be a positive {number}, got {text!r}")
    return value


@dataclass(frozen=True)
class Arrival:
    """A parsed arrival spec; rate is in items/s over all producers (None for flat)."""

    kind: str  # flat, steady, burst, poisson
    rate: float | None = None
    burst: int = 1

    def offsets(self, count: int, producers: int, producer: int) -> list[float] | None:
        """Scheduled send times (seconds from the producer's start) of its `count` items; None if flat."""
        if self.kind == "flat":
            return None
        rate = self.rate / producers  # this producer's share of the offered load
        if self.kind == "steady":
            return [i / rate for i in range(count)]
        if self.kind == "burst":
            return [(i // self.burst) * self.burst / rate for i in range(count)]
        rng = random.Random(SEED + producer)
        now, times = 0.0, []
        for _ in range(count):
            times.append(now)
            now += rng.expovariate(rate)
        return times


def parse_arrival(spec: str) -> Arrival:
    """Parse an arrival spec (see the module docstring); ValueError saying what is wrong."""
    if not isinstance(spec, str):
        raise TypeError(f"arrival must be a str, got {spec!r}")
    kind, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    if kind == "flat" and not args:
        return Arrival("flat")
    if kind in ("steady", "poisson") and len(args) == 1:
        return Arrival(kind, _positive(args[0], "RATE", spec))
    if kind == "burst" and len(args) == 2:
        return Arrival("burst", _positive(args[1], "RATE", spec), int(_positive(args[0], "SIZE", spec, int)))
    raise ValueError(
        f"bad arrival spec {spec!r}: expected flat, steady:RATE, burst:SIZE:RATE or poisson:RATE")


@dataclass(frozen=True)
class Work:
    """A parsed consumer-work spec: kind none, cpu or io, and its duration per item in seconds."""

    kind: str
    seconds: float = 0.0


def parse_work(spec: str) -> Work:
    """Parse a work spec (see the module docstring); ValueError saying what is wrong."""
    if not isinstance(spec, str):
        raise TypeError(f"work must be a str, got {spec!r}")
    kind, _, rest = spec.partition(":")
    if kind == "none" and not rest:
        return Work("none")
    if kind in ("cpu", "io") and rest:
        try:
            seconds = parse_duration(rest)
        except ValueError as exc:
            raise ValueError(f"bad work spec {spec!r}: {exc}") from None
        if seconds > 0:
            return Work(kind, seconds)
    raise ValueError(f"bad work spec {spec!r}: expected none, cpu:DURATION or io:DURATION, e.g. cpu:20us")


_spins_per_second: float | None = None


def spin(n: int) -> None:
    """The cpu work: a pure-Python loop of n steps that holds the GIL."""
    for _ in range(n):
        pass


def spins_per_second() -> float:
    """Steps of `spin` per second: the rate set by set_spins_per_second, else measured once per process.

    Measured the way the work runs, in calls of about 1,000 steps (the call's own cost included), after a
    20 ms warm-up (a cold process here runs the loop up to 40% slower at first); the best of 20 runs of
    50 calls, the one least disturbed by other load. A whole benchmark run should measure it once and
    set it in every process (bench passes --spin-rate), so cpu:20us is the same work in every benchmark.
    """
    global _spins_per_second
    if _spins_per_second is None:
        spin(2_000_000)
        steps, calls, best = 1_000, 50, float("inf")
        for _ in range(20):
            start = time.perf_counter()
            for _ in range(calls):
                spin(steps)
            best = min(best, time.perf_counter() - start)
        _spins_per_second = steps * calls / best
    return _spins_per_second


def set_spins_per_second(rate: float) -> None:
    """Use this rate for cpu work instead of measuring it in this process."""
    global _spins_per_second
    if not rate > 0:
        raise ValueError(f"spin rate must be > 0, got {rate!r}")
    _spins_per_second = float(rate)


@dataclass(frozen=True)
class Plan:
    """A scenario made concrete, before the clock starts: every producer's items and send times."""

    items: list[list]  # per producer, the items it sends, in order
    offsets: list[list[float] | None]  # per producer, scheduled send times from its start (None: flat)
    work: Work
    spins: int  # steps of `spin` per item for cpu work, else 0


def item_id(item: object) -> int:
    """The id of an item: `seq * P + p` for sequence number seq of producer p."""
    return item if type(item) is int else item[0]


def plan(scenario) -> Plan:
    """Build the items and schedules of a scenario (outside any timed region).

    Producer p sends items seq*P + p for seq = 0, 1, ...; together the producers send exactly the ids
    0 .. items-1. With a payload, an item is the tuple (id, bytes of that size).
    """
    p_count = scenario.producers
    arrival = parse_arrival(scenario.arrival)
    work = parse_work(scenario.work)
    items, offsets = [], []
    for p in range(p_count):
        count = scenario.items // p_count + (p < scenario.items % p_count)
        ids = range(p, p + count * p_count, p_count)
        if scenario.payload:
            items.append([(i, bytes(scenario.payload)) for i in ids])
        else:
            items.append(list(ids))
        offsets.append(arrival.offsets(count, p_count, p))
    spins = round(work.seconds * spins_per_second()) if work.kind == "cpu" else 0
    return Plan(items, offsets, work, spins)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (all threads) and by its children that have been joined."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class TimedRegion:
    """Brackets a design's timed region: `elapsed` wall seconds and `cpu` seconds (see cpu_seconds)."""

    elapsed: float
    cpu: float

    def __enter__(self) -> TimedRegion:
        self._cpu = cpu_seconds()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        self.elapsed = time.perf_counter() - self._start
        self.cpu = cpu_seconds() - self._cpu
