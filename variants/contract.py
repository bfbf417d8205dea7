"""The variant contract: what a scenario asks for and what a run gives back.

Every design in this package takes a `Scenario` and returns an `Outcome`; the harness (package `bench`)
verifies the outcome after the clock has stopped. See docs/design.md, "Verification".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from variants import workload

__all__ = ["Scenario", "Outcome", "SEED002"]

# The seed-002 scenario: seed 002's story, a bursty network producer feeding a slow database. One producer
# emits bursts of 100 messages back to back, 2,000 messages/s on average; consumers spend io:1ms per message
# (the database). With one consumer it is overloaded (about 1,000/s of service for 2,000/s offered): latency
# grows through the run and the producer falls behind; with 4 or 8 it keeps up. Capacity 1 is seed 002's own
# single-slot pipeline (`two_lock`); capacity 16 a small buffer.
SEED002 = {"producers": 1, "arrival": "burst:100:2000", "work": "io:1ms"}


@dataclass(frozen=True)
class Scenario:
    """One cell of the matrix: who produces, who consumes, how much, through what buffer."""

    producers: int  # producer workers (threads, processes, tasks...), >= 1
    consumers: int  # consumer workers, >= 1
    items: int  # items in total over all producers, >= 1
    capacity: int | None = None  # buffer slots, >= 1; None for unbounded
    arrival: str = "flat"  # arrival schedule spec, see workload.parse_arrival
    work: str = "none"  # consumer work spec, see workload.parse_work
    payload: int = 0  # bytes carried by each item besides its id; 0: the item is a bare int
    stop: str = "sentinels"  # stop protocol spec, see workload.parse_stop

    def __post_init__(self) -> None:
        for name in ("producers", "consumers", "items"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value!r}")
        if self.capacity is not None:
            if type(self.capacity) is not int:
                raise TypeError(f"capacity must be an int or None, got {self.capacity!r}")
            if self.capacity < 1:
                raise ValueError(f"capacity must be >= 1 or None, got {self.capacity!r}")
        if type(self.payload) is not int:
            raise TypeError(f"payload must be an int, got {self.payload!r}")
        if self.payload < 0:
            raise ValueError(f"payload must be >= 0, got {self.payload!r}")
        workload.parse_arrival(self.arrival)  # raises ValueError naming the spec
        workload.parse_work(self.work)
        workload.parse_stop(self.stop)

    @property
    def name(self) -> str:
        """The scenario part of a benchmark name: ``p{P}c{C}/cap{N|inf}/{arrival}/{work}``.

        A payload adds ``/payload{B}``, a stop protocol other than the default ``/stop-{spec}``.
        """
        cap = "inf" if self.capacity is None else str(self.capacity)
        name = f"p{self.producers}c{self.consumers}/cap{cap}/{self.arrival}/{self.work}"
        if self.payload:
            name += f"/payload{self.payload}"
        if self.stop != "sentinels":
            name += f"/stop-{self.stop}"
        return name


@dataclass(frozen=True)
class Outcome:
    """What one run of a scenario gave: the timed figure and everything needed to verify it."""

    elapsed: float  # seconds of the timed region: start-up, hand-off, work, stop protocol
    received: list[list]  # per consumer, the items it received, in consumption order
    errors: tuple[str, ...] = ()  # exceptions raised inside workers, as "worker: repr(exc)"
    extras: dict = field(default_factory=dict)  # optional figures: max_depth, blocked_s, ...
