"""Seed 001's greenlet producer/consumer: greenlets handing over with switch() through a round-robin hub.

Each producer and consumer is a greenlet whose parent is the hub; a worker that finds the buffer full or
empty, or has handled an item, calls `Hub.pause`, which queues it and switches to the hub; the hub switches
to the next ready greenlet. Plain greenlets have no non-blocking wait: paced arrivals and `io` work use a
blocking time.sleep, which stalls every greenlet in the thread (the report says so).
"""

from __future__ import annotations

import time
from collections import deque

from greenlet import getcurrent, greenlet

from variants import workload
from variants.contract import Outcome, Scenario

NAME = "greenlet"
MODEL = "greenlet"
SUMMARY = "greenlets over a deque buffer, switched round-robin by a hub (blocking waits)"
SEED = "001"
FIFO = True  # a deque: append at the back, popleft from the front

Buffer = deque  # a module name, so a test can substitute an instrumented subclass


class Hub:
    """Switches to ready greenlets in turn until none is left."""

    def __init__(self) -> None:
        self.ready: deque = deque()  # greenlets waiting for their turn
        self.greenlet = greenlet(self._main)

    def spawn(self, function, *args) -> None:
        """Make a worker greenlet that will run function(*args) on its first turn."""
        self.ready.append(greenlet(lambda: function(*args), parent=self.greenlet))

    def pause(self) -> None:
        """Give the turn away: queue the current greenlet and switch to the hub."""
        self.ready.append(getcurrent())
        self.greenlet.switch()

    def _main(self) -> None:
        ready = self.ready
        while ready:
            ready.popleft().switch()  # returns when that greenlet pauses or finishes

    def __repr__(self) -> str:
        return f"<Hub ready={len(self.ready)}>"


def produce(hub: Hub, buffer: deque, limit: float, items: list, offsets: list[float] | None, stop) -> None:
    """Put each item when it is due (blocking wait) and there is room; then call `stop`."""
    origin = time.perf_counter()
    for index, item in enumerate(items):
        if offsets is not None:
            delay = origin + offsets[index] - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        while len(buffer) >= limit:
            hub.pause()
        buffer.append(item)
        hub.pause()
    stop()


def consume(hub: Hub, buffer: deque, got: list, work: workload.Work, spins: int) -> None:
    """Take items until the sentinel, recording each and doing the scenario's work on it."""
    append, sentinel = got.append, workload.SENTINEL
    cpu, io = work.kind == "cpu", work.kind == "io"  # decided once, not per item
    while True:
        while not buffer:
            hub.pause()
        item = buffer.popleft()
        if item is sentinel:
            return
        append(item)
        if cpu:
            workload.spin(spins)
        elif io:
            time.sleep(work.seconds)
        hub.pause()


def unsupported(scenario: Scenario) -> str | None:
    """The hub takes every scenario."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer and C consumer greenlets switched by one Hub."""
    plan = workload.plan(scenario)
    buffer = Buffer()
    limit = scenario.capacity or float("inf")
    received = [[] for _ in range(scenario.consumers)]
    producers_left = [scenario.producers]

    def stop() -> None:
        """Stop protocol: the last producer to finish puts one sentinel per consumer."""
        producers_left[0] -= 1
        if producers_left[0] == 0:
            for _ in range(scenario.consumers):
                while len(buffer) >= limit:
                    hub.pause()
                buffer.append(workload.SENTINEL)
                hub.pause()

    hub = Hub()
    with workload.TimedRegion() as timed:
        for got in received:
            hub.spawn(consume, hub, buffer, got, plan.work, plan.spins)
        for items, offsets in zip(plan.items, plan.offsets, strict=True):
            hub.spawn(produce, hub, buffer, limit, items, offsets, stop)
        hub.greenlet.switch()
    return Outcome(timed.elapsed, received, extras={"cpu_s": timed.cpu})
