"""Seed 000's generator round-robin Scheduler: producers and consumers are generators in one thread.

The scheduler resumes the task at the head of a deque and rotates it to the back, as in seed 000; a task
that finds the buffer full (producer) or empty (consumer) just yields and is tried again on its next turn.
Each task yields after every item it handles, as the seed's tasks do. Added to the seed, in the manner of
seed 001's multitask `sleep`: a task may yield an absolute wake-up time (perf_counter seconds); it then
leaves the rotation until that time, so paced arrivals and `io` work wait in the scheduler, not in a
blocking sleep. The scheduler sleeps for real only when no task is runnable, which is rare: a consumer on
an empty buffer is runnable (it polls), so this design busy-waits through its waits and pays a core for
it. Every task is made before the clock; the scheduler's first turn is the start gate.
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
SEED = "000"  # the timed wait is borrowed from seed 001; its send-based coroutines are `coroutine`
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

    def finished(self) -> bool:
        """True when every task ran to its end: nothing runnable, nothing sleeping."""
        return not self.tasks and not self.sleeping

    def __repr__(self) -> str:
        return f"<Scheduler runnable={len(self.tasks)} sleeping={len(self.sleeping)}>"


def producer(buffer: deque, limit: float, items: list, stop):
    """Put each item as soon as there is room, yielding after each; then run `stop` (a generator)."""
    for item in items:
        while len(buffer) >= limit:
            yield
        buffer.append(item)
        yield
    yield from stop()


def paced_producer(buffer: deque, limit: float, items: list, offsets: list[float], timed, stamps: list,
                   stop):
    """Put each item no earlier than its due time (origin + offset), stamping when each put is done."""
    clock, stamp, origin = time.perf_counter, stamps.append, timed.start  # first resumed inside the clock
    for item, offset in zip(items, offsets, strict=True):
        if origin + offset > clock():
            yield origin + offset
        while len(buffer) >= limit:
            yield
        buffer.append(item)
        stamp(clock())
        yield
    yield from stop()


def consumer(buffer: deque, record, work: workload.Work, spins: int):
    """Take items until the sentinel, recording each and doing the scenario's work (a loop per kind)."""
    sentinel, popleft = workload.SENTINEL, buffer.popleft
    if work.kind == "none":
        while True:
            while not buffer:
                yield
            if (item := popleft()) is sentinel:
                return
            record(item)
            yield
    elif work.kind == "cpu":
        spin = workload.spin
        while True:
            while not buffer:
                yield
            if (item := popleft()) is sentinel:
                return
            record(item)
            spin(spins)
            yield
    else:
        clock, seconds = time.perf_counter, work.seconds
        while True:
            while not buffer:
                yield
            if (item := popleft()) is sentinel:
                return
            record(item)
            yield clock() + seconds


def unsupported(scenario: Scenario) -> str | None:
    """Every scenario with the suite's common stop protocol; seed 004's shutdowns are for threads."""
    return workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer and C consumer generators on one Scheduler."""
    plan = workload.plan(scenario)
    buffer = Buffer()
    limit = scenario.capacity or float("inf")
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
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

    timed = workload.TimedRegion()
    scheduler = Scheduler()
    for got, stamps in zip(received, takes, strict=True):
        scheduler.add_task(consumer(buffer, workload.recorder(got, stamps), plan.work, plan.spins))
    for p, offsets in enumerate(workload.paced_offsets(plan)):
        if offsets is None:
            scheduler.add_task(producer(buffer, limit, plan.items[p], stop))
        else:
            scheduler.add_task(paced_producer(buffer, limit, plan.items[p], offsets, timed, puts[p], stop))
    with timed:
        scheduler.main()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": scheduler.finished(),
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, extras=extras)
