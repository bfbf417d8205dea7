"""Seed 001's greenlet producer/consumer: greenlets handing over with switch() through a round-robin hub.

Each producer and consumer is a greenlet whose parent is the hub; a worker that finds the buffer full or
empty, or has handled an item, calls `Hub.pause`, which queues it and switches to the hub; the hub switches
to the next ready greenlet. Plain greenlets have no non-blocking wait: paced arrivals and `io` work use a
blocking time.sleep, which stalls every greenlet in the thread (the report says so). Every greenlet is
made before the clock; the first switch to the hub is the start gate.
"""

from __future__ import annotations

import time
from collections import deque

try:
    from greenlet import getcurrent, greenlet
except ImportError as exc:  # the design is then n/a, saying why (unsupported); e.g. no wheel for a new build
    getcurrent = greenlet = None
    MISSING: str | None = f"greenlet cannot be imported: {exc}"
else:
    MISSING = None

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
        self.workers: list = []  # every worker spawned, to tell at the end that all of them finished
        self.greenlet = greenlet(self._main)

    def spawn(self, function, *args) -> None:
        """Make a worker greenlet that will run function(*args) on its first turn."""
        worker = greenlet(lambda: function(*args), parent=self.greenlet)
        self.workers.append(worker)
        self.ready.append(worker)

    def finished(self) -> bool:
        """True when the hub and every worker ran to its end and nothing waits for a turn."""
        return not self.ready and self.greenlet.dead and all(worker.dead for worker in self.workers)

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


def produce(hub: Hub, buffer: deque, limit: float, items: list, stop) -> None:
    """Put each item as soon as there is room, pausing after each; then call `stop`."""
    pause = hub.pause
    for item in items:
        while len(buffer) >= limit:
            pause()
        buffer.append(item)
        pause()
    stop()


def produce_paced(hub: Hub, buffer: deque, limit: float, items: list, offsets: list[float], timed,
                  stamps: list, stop) -> None:
    """Put each item no earlier than its due time (a blocking wait), stamping when each put is done."""
    pause, clock, sleep, stamp = hub.pause, time.perf_counter, time.sleep, stamps.append
    origin = timed.start  # first switched to inside the clock
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            sleep(delay)
        while len(buffer) >= limit:
            pause()
        buffer.append(item)
        stamp(clock())
        pause()
    stop()


def consume(hub: Hub, buffer: deque, record, work: workload.Work, spins: int) -> None:
    """Take items until the sentinel, recording each and doing the scenario's work (a loop per kind)."""
    pause, popleft, sentinel = hub.pause, buffer.popleft, workload.SENTINEL
    if work.kind == "none":
        while True:
            while not buffer:
                pause()
            if (item := popleft()) is sentinel:
                return
            record(item)
            pause()
    elif work.kind == "cpu":
        spin = workload.spin
        while True:
            while not buffer:
                pause()
            if (item := popleft()) is sentinel:
                return
            record(item)
            spin(spins)
            pause()
    else:
        sleep, seconds = time.sleep, work.seconds
        while True:
            while not buffer:
                pause()
            if (item := popleft()) is sentinel:
                return
            record(item)
            sleep(seconds)
            pause()


def unsupported(scenario: Scenario) -> str | None:
    """n/a without greenlet; else every scenario with the suite's common stop protocol (seed 004's
    shutdowns are for threads)."""
    return MISSING or workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer and C consumer greenlets switched by one Hub."""
    plan = workload.plan(scenario)
    buffer = Buffer()
    limit = scenario.capacity or float("inf")
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
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

    timed = workload.TimedRegion()
    hub = Hub()
    for got, stamps in zip(received, takes, strict=True):
        hub.spawn(consume, hub, buffer, workload.recorder(got, stamps), plan.work, plan.spins)
    for p, offsets in enumerate(workload.paced_offsets(plan)):
        if offsets is None:
            hub.spawn(produce, hub, buffer, limit, plan.items[p], stop)
        else:
            hub.spawn(produce_paced, hub, buffer, limit, plan.items[p], offsets, timed, puts[p], stop)
    with timed:
        hub.greenlet.switch()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": hub.finished(),
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, extras=extras)
