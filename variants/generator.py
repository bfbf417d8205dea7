"""Seed 000's generator round-robin Scheduler: producers and consumers are generators in one thread.

The scheduler resumes the task at the head of a deque and rotates it to the back, as in seed 000; a task
that finds the buffer full (producer) or empty (consumer) just yields and is tried again on its next turn.
Each task yields after every item it handles, as the seed's tasks do. Added to the seed, in the manner of
seed 001's multitask `sleep`: a task may yield an absolute wake-up time (perf_counter seconds); it then
leaves the rotation until that time, so paced arrivals and `io` work wait in the scheduler, not in a
blocking sleep. The scheduler sleeps for real only when no task is runnable.
"""

from __future__ import annotations

import heapq
import time
from collections import deque

from variants import workload
from variants.contract import Outcome, Scenario

NAME = "generator"
MODEL = "generator"
SUMMARY = "generators over a deque buffer, resumed round-robin by a tiny scheduler (one thread)"
SEED = "000, 001"
FIFO = True  # a deque: append at the back, popleft from the front

Buffer = deque  # a module name, so a test can substitute an instrumented subclass


class Scheduler:
    """Runs generator tasks round-robin until all of them are exhausted."""

    def __init__(self) -> None:
        self.tasks: deque = deque()  # runnable tasks; the head runs next
        self.sleeping: list = []  # heap of (wake time, tie-break, task) for tasks that yielded a time
        self._ties = 0

    def add_task(self, task) -> None:
        """Add a generator to the rotation."""
        self.tasks.append(task)

    def main(self) -> None:
        """Resume tasks in turn; a task's exception propagates to the caller."""
        tasks, sleeping, clock = self.tasks, self.sleeping, time.perf_counter
        while tasks or sleeping:
            if sleeping:
                now = clock()
                if not tasks and sleeping[0][0] > now:
                    time.sleep(sleeping[0][0] - now)  # nothing runnable: a real idle wait
                    now = clock()
                while sleeping and sleeping[0][0] <= now:
                    tasks.append(heapq.heappop(sleeping)[2])
            try:
                wake = next(tasks[0])
            except StopIteration:
                tasks.popleft()
                continue
            if wake is None:
                tasks.rotate(-1)
            else:
                self._ties += 1
                heapq.heappush(sleeping, (wake, self._ties, tasks.popleft()))

    def __repr__(self) -> str:
        return f"<Scheduler runnable={len(self.tasks)} sleeping={len(self.sleeping)}>"


def producer(buffer: deque, limit: float, items: list, offsets: list[float] | None, stop):
    """Put each item when it is due and there is room; then call `stop` (a generator) to finish."""
    origin = time.perf_counter()
    for index, item in enumerate(items):
        if offsets is not None and origin + offsets[index] > time.perf_counter():
            yield origin + offsets[index]
        while len(buffer) >= limit:
            yield
        buffer.append(item)
        yield
    yield from stop()


def consumer(buffer: deque, got: list, work: workload.Work, spins: int):
    """Take items until the sentinel, recording each and doing the scenario's work on it."""
    append, sentinel = got.append, workload.SENTINEL
    cpu, io = work.kind == "cpu", work.kind == "io"  # decided once, not per item
    while True:
        while not buffer:
            yield
        item = buffer.popleft()
        if item is sentinel:
            return
        append(item)
        if cpu:
            workload.spin(spins)
        elif io:
            yield time.perf_counter() + work.seconds
            continue
        yield


def unsupported(scenario: Scenario) -> str | None:
    """The scheduler takes every scenario."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer and C consumer generators on one Scheduler."""
    plan = workload.plan(scenario)
    buffer = Buffer()
    limit = scenario.capacity or float("inf")
    received = [[] for _ in range(scenario.consumers)]
    producers_left = [scenario.producers]

    def stop():
        """Stop protocol: the last producer to finish puts one sentinel per consumer."""
        producers_left[0] -= 1
        if producers_left[0] == 0:
            for _ in range(scenario.consumers):
                while len(buffer) >= limit:
                    yield
                buffer.append(workload.SENTINEL)
                yield

    scheduler = Scheduler()
    with workload.TimedRegion() as timed:
        for got in received:
            scheduler.add_task(consumer(buffer, got, plan.work, plan.spins))
        for items, offsets in zip(plan.items, plan.offsets, strict=True):
            scheduler.add_task(producer(buffer, limit, items, offsets, stop))
        scheduler.main()
    return Outcome(timed.elapsed, received, extras={"cpu_s": timed.cpu})
