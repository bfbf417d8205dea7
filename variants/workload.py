"""The workload every design shares: item format, arrival schedules, consumer work, the sentinel.

One place for all of it, so that designs differ only in how they hand items over. Each concurrency model
gets a thin form of the waits: a blocking sleep for threads, processes and greenlets; an absolute wake-up
time yielded to the scheduler for generators; ``await asyncio.sleep`` for asyncio (see the designs).

Specs (strings, so they fit benchmark names and command lines):
  arrival  flat                 closed loop: each producer puts as fast as the buffer lets it
           steady:RATE          evenly spaced, RATE items/s in total over all producers (taking turns)
           burst:SIZE:RATE      bursts of SIZE items back to back, RATE items/s on average in total; the
                                producers take turns burst by burst
           poisson:RATE         exponential gaps (seeded), RATE items/s on average in total: P producers
                                are P independent Poisson streams of RATE/P
  work     none                 the consumer records the item in its local list, nothing more
           cpu:DURATION         plus a calibrated pure-Python busy loop (holds the GIL), e.g. cpu:20us
           io:DURATION          plus a wait that releases the GIL / yields, e.g. io:1ms
  stop     sentinels            the suite's common protocol: when every producer has finished, one
                                sentinel per consumer
           barrier              seed 004: producers meet at a Barrier, producer 0 puts one sentinel, and
                                each consumer that takes it puts it back before leaving
           event[:DURATION]     seed 004: when every producer has finished an Event is set; consumers take
                                with a timeout (EVENT_TIMEOUT unless given) and leave once the event was set
                                before a take that found the buffer empty
"""

from __future__ import annotations

import random
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "SENTINEL", "SEED", "Arrival", "Work", "Plan",
    "parse_arrival", "parse_work", "parse_duration", "plan", "schedule", "item_id", "spin",
    "spins_per_second", "TimedRegion", "cpu_seconds", "set_spins_per_second", "set_timer_slack",
    "timer_slack_ns", "measure_wait", "force_stamps", "payload_bytes", "recorder", "stamp_lists",
    "paced_offsets", "stamp_extras", "share", "Stop", "parse_stop", "EVENT_TIMEOUT", "sentinels_only",
]

EVENT_TIMEOUT = 10e-3  # seconds a consumer of the event stop protocol waits in one take before it looks again
SENTINEL = None  # the stop marker: one per consumer, after every producer has finished; pickles as itself
SEED = 20261123  # the run's seed of the poisson gaps; producer p draws from Random(f"{SEED}/{p}")

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

    def offsets(self, items: int, producers: int, producer: int, seed: int = SEED) -> list[float] | None:
        """Scheduled send times of one producer's share of `items` (see share), in seconds; None if flat.

        Every producer's times count from one origin shared by the whole run (the start of the timed
        region), and together the P producers offer RATE items/s:
          steady   item i of producer p (id i * P + p) is due at (i * P + p) / RATE: the producers take
                   turns, one item every 1/RATE;
          burst    bursts of SIZE items due at one instant, the producers taking turns burst by burst
                   (producer p sends bursts p, p + P, p + 2P...); a burst is due once every item of the
                   bursts before it has had its 1/RATE, so bursts never overlap (SIZE/RATE apart, less
                   after a last burst shorter than SIZE);
          poisson  P independent Poisson streams of RATE/P, whose merge is a Poisson stream of RATE:
                   producer p's gaps, its first from the origin included, are exponential, drawn from a
                   generator seeded with the run's `seed` and p.
        """
        if self.kind == "flat":
            return None
        count = share(items, producers, producer)
        if self.kind == "steady":
            return [(i * producers + producer) / self.rate for i in range(count)]
        if self.kind == "burst":
            size, shares = self.burst, [share(items, producers, q) for q in range(producers)]
            starts = [sum(min((j + (q < producer)) * size, n) for q, n in enumerate(shares)) / self.rate
                      for j in range(-(-count // size))]
            return [starts[i // size] for i in range(count)]
        rng = random.Random(f"{seed}/{producer}")
        rate = self.rate / producers  # this producer's share of the offered load
        now, times = 0.0, []
        for _ in range(count):
            now += rng.expovariate(rate)
            times.append(now)
        return times


def share(items: int, producers: int, producer: int) -> int:
    """How many of `items` producer `producer` of `producers` sends: items // P, one more for the first
    items % P producers."""
    return items // producers + (producer < items % producers)


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
class Stop:
    """A parsed stop-protocol spec: sentinels, barrier or event (with its take timeout in seconds)."""

    kind: str
    timeout: float = EVENT_TIMEOUT


def parse_stop(spec: str) -> Stop:
    """Parse a stop spec (see the module docstring); ValueError saying what is wrong."""
    if not isinstance(spec, str):
        raise TypeError(f"stop must be a str, got {spec!r}")
    kind, _, rest = spec.partition(":")
    if kind in ("sentinels", "barrier") and not rest:
        return Stop(kind)
    if kind == "event":
        if not rest:
            return Stop("event")
        try:
            seconds = parse_duration(rest)
        except ValueError as exc:
            raise ValueError(f"bad stop spec {spec!r}: {exc}") from None
        if seconds > 0:
            return Stop("event", seconds)
    raise ValueError(f"bad stop spec {spec!r}: expected sentinels, barrier, event or event:DURATION")


def sentinels_only(design: str, scenario) -> str | None:
    """The refusal of a design that stops with the common protocol only (the one-thread designs)."""
    if scenario.stop == "sentinels":
        return None
    return (f"{design} stops with the common protocol only (sentinels); seed 004's barrier and event "
            "shutdowns are measured on thread and process designs")


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


_force_stamps = False


def force_stamps(on: bool) -> None:
    """Stamp every item even in flat runs: only for measuring what stamping costs (bench stampcost)."""
    global _force_stamps
    _force_stamps = bool(on)


@dataclass(frozen=True)
class Plan:
    """A scenario made concrete, before the clock starts: every producer's items and send times.

    When `stamped`, every design records per item, beside its hand-off and nothing else: each consumer
    the perf_counter() time it took the item (a list aligned with what it received), each producer the
    time each put returned (aligned with its items). The Outcome's extras then carry them as
    `take_stamps` and `put_stamps`, with `origin`, the perf_counter() time the timed region started:
    producer p's item i was due at origin + offsets[p][i]. Flat runs record nothing per item.
    """

    items: list[list]  # per producer, the items it sends, in order
    offsets: list[list[float] | None]  # per producer, scheduled send times from the run's origin (None: flat)
    work: Work
    spins: int  # steps of `spin` per item for cpu work, else 0
    stamped: bool = False  # record take and put times per item (paced runs, or forced)


def item_id(item: object) -> int:
    """The id of an item: `seq * P + p` for sequence number seq of producer p."""
    return item if type(item) is int else item[0]


def schedule(scenario) -> list[list[float] | None]:
    """Per producer, the scheduled send times of its items from the run's origin (None for flat)."""
    arrival = parse_arrival(scenario.arrival)
    return [arrival.offsets(scenario.items, scenario.producers, p) for p in range(scenario.producers)]


def payload_bytes(item_id_: int, size: int) -> bytes:
    """The payload of item `item_id_`: `size` bytes derived from its id, so a corrupted payload shows."""
    return (item_id_.to_bytes(8, "little") * (size // 8 + 1))[:size]


def plan(scenario) -> Plan:
    """Build the items and schedules of a scenario (outside any timed region).

    Producer p sends items seq*P + p for seq = 0, 1, ...; together the producers send exactly the ids
    0 .. items-1. With a payload, an item is the tuple (id, payload_bytes(id, size)).
    """
    p_count = scenario.producers
    work = parse_work(scenario.work)
    items = []
    for p in range(p_count):
        ids = range(p, p + share(scenario.items, p_count, p) * p_count, p_count)
        if scenario.payload:
            items.append([(i, payload_bytes(i, scenario.payload)) for i in ids])
        else:
            items.append(list(ids))
    offsets = schedule(scenario)
    spins = round(work.seconds * spins_per_second()) if work.kind == "cpu" else 0
    stamped = _force_stamps or offsets[0] is not None
    return Plan(items, offsets, work, spins, stamped)


def recorder(got: list, stamps: list | None) -> Callable:
    """What a consumer calls on each item it takes: got.append, or (stamped) a stamp then the append."""
    if stamps is None:
        return got.append
    append, stamp, clock = got.append, stamps.append, time.perf_counter

    def record(item) -> None:
        stamp(clock())
        append(item)
    return record


def stamp_lists(plan: Plan, consumers: int) -> tuple[list, list]:
    """Empty take-stamp lists per consumer and put-stamp lists per producer when stamped, else Nones."""
    def lists(count: int) -> list:
        return [[] if plan.stamped else None for _ in range(count)]
    return lists(consumers), lists(len(plan.items))


def paced_offsets(plan: Plan) -> list[list[float] | None]:
    """Per producer, the offsets its loop follows: the schedule, or zeros for a flat run with stamps."""
    if plan.stamped:
        return [offsets if offsets is not None else [0.0] * len(items)
                for items, offsets in zip(plan.items, plan.offsets, strict=True)]
    return plan.offsets


def stamp_extras(plan: Plan, origin: float, takes: list, puts: list) -> dict:
    """The extras of a stamped run (see Plan), or nothing."""
    return {"origin": origin, "take_stamps": takes, "put_stamps": puts} if plan.stamped else {}


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (all threads) and by its children that have been joined."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class TimedRegion:
    """Brackets a design's timed region: `elapsed` wall seconds and `cpu` seconds (see cpu_seconds).

    `start` is the perf_counter() time the region began: the origin of the run's arrival schedule.
    Workers are made before it and released when it begins; `startup` is the seconds from the
    TimedRegion's creation to its start (making the workers, up to the moment all wait at the gate).
    """

    start: float
    elapsed: float
    cpu: float

    def __init__(self) -> None:
        self._made = time.perf_counter()

    def __enter__(self) -> TimedRegion:
        self._cpu = cpu_seconds()
        self.start = time.perf_counter()
        self.startup = self.start - self._made
        return self

    def __exit__(self, *exc_info) -> None:
        self.elapsed = time.perf_counter() - self.start
        self.cpu = cpu_seconds() - self._cpu


_PR_SET_TIMERSLACK, _PR_GET_TIMERSLACK = 29, 30  # linux/prctl.h


def set_timer_slack(nanoseconds: int = 1) -> bool:
    """Set this thread's timer slack (Linux; threads made later inherit it); False where not possible.

    Linux lets a sleep overrun by the slack, 50 us by default: `time.sleep(50e-6)` takes about 105 us.
    A design that busy-polls escapes that and one that sleeps pays it, so every process that runs a
    design sets the slack to 1 ns first (docs/design.md, "Equal waits").
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def timer_slack_ns() -> int | None:
    """This thread's timer slack in nanoseconds, or None where it cannot be read."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        value = libc.prctl(_PR_GET_TIMERSLACK, 0, 0, 0, 0)
    except (OSError, AttributeError):
        return None
    return value if value >= 0 else None


def measure_wait(seconds: float, repeats: int = 21) -> float:
    """The median real length of `time.sleep(seconds)` in this process: what a wait of that size costs."""
    lengths = []
    for _ in range(repeats):
        start = time.perf_counter()
        time.sleep(seconds)
        lengths.append(time.perf_counter() - start)
    return sorted(lengths)[repeats // 2]
