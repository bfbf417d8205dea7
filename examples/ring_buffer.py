"""A design of your own, worked through: a fixed ring of slots between threads (docs/your-design.md).

The ring holds at most `capacity` items in a list used circularly: `head` is the next slot to take, `count`
how many are full. One `threading.Condition` guards both ends; a producer waits while the ring is full, a
consumer while it is empty, and each wakes the other side after its hand-off. A ring needs a bound, so
unbounded scenarios are refused (with the reason, as the contract asks).

The workers, the start gate, the clock, the stop protocols, the stamps and the consumer's work all come
from the suite's thread harness, `variants.threads.run_threads`: this module gives only `put` and `get`
(and `get_timeout`, which the `event` stop protocol needs). Try it:

    cd examples && python -m bench verify ring_buffer        # the verification battery, one line a check
    python -m bench run ring --design ring_buffer --once     # one verified run, from this folder
"""

from __future__ import annotations

import threading
import time

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "ring"  # the design's name in benchmark names, charts and baselines: keep it once chosen
MODEL = "thread"  # how its workers run: thread, process, generator, greenlet, asyncio or bridge
SUMMARY = "example: a ring of slots guarded by one Condition (docs/your-design.md)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one lock, one ring: each producer's items come out in the order they went in


class Empty(Exception):  # noqa: N818 (named as queue.Empty is)
    """Raised by get(timeout) when no item came in time."""


class Ring:
    """A bounded first-in first-out buffer between threads."""

    def __init__(self, capacity: int) -> None:
        self.slots: list = [None] * capacity
        self.head = 0  # the next slot to take from
        self.count = 0  # full slots
        self.changed = threading.Condition()

    def put(self, item: object) -> None:
        """Put `item`, waiting while every slot is full."""
        with self.changed:
            while self.count == len(self.slots):
                self.changed.wait()
            self.slots[(self.head + self.count) % len(self.slots)] = item
            self.count += 1
            self.changed.notify_all()

    def get(self, timeout: float | None = None) -> object:
        """Take the oldest item, waiting while the ring is empty (at most `timeout` seconds if given)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.changed:
            while self.count == 0:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Empty
                self.changed.wait(left)
            item, self.slots[self.head] = self.slots[self.head], None
            self.head = (self.head + 1) % len(self.slots)
            self.count -= 1
            self.changed.notify_all()
            return item


def unsupported(scenario: Scenario) -> str | None:
    """Bounded scenarios only: a ring has as many slots as its capacity."""
    return "a ring needs a capacity (unbounded scenarios are refused)" if scenario.capacity is None else None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one Ring of `capacity` slots."""
    ring = Ring(scenario.capacity)
    return run_threads(scenario, ring.put, ring.get, ring.get, Empty)
