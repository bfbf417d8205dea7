"""Seed 001's multitask coroutines: generator tasks yield get/put/sleep operations; a scheduler parks them.

A get on an empty queue parks the task until a put hands it an item, a put on a full queue parks it until
a get makes room, a sleep parks it on a timer heap; the scheduler resumes a task with send() only once its
operation has completed (no polling). multitask is a Python 2 library: nothing of it is imported.
"""

# Kept from multitask 0.2.0 (Christopher Stawarz), the library seed 001 uses: tasks are plain generators
# that yield an operation, `item = (yield queue.get())`, `yield queue.put(item)`, `yield sleep(seconds)`;
# the TaskManager keeps a run queue of (task, value) pairs and resumes each with `send(value)`, a get with
# its item. A put finding a getter parked hands the item to the longest-waiting one; a get freeing a slot
# moves the longest-waiting putter's item in; the woken task goes to the back of the run queue, after the
# one that woke it. Each cycle runs the tasks runnable at its start, then looks at the timers; with nothing
# runnable it sleeps for real until the first one. A task yielding anything else is resumed with it.
# Changed: the Python 2 idioms (`except StopIteration, e`, time.time()) are gone and only the queue and
# timer core is kept (no I/O waits, child tasks or timeouts on get/put). `sleep` returns an absolute
# perf_counter() wake-up time (multitask also fixes the expiry when the operation is made), so a paced
# producer yields its due time directly. multitask lets a task's exception escape run() and leaves the
# rest parked; here it is recorded and every other task closed. The stop protocol is the suite's.

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque

from variants import workload
from variants.contract import Outcome, Scenario

NAME = "coroutine"
MODEL = "generator"
SUMMARY = "generators yield get/put/sleep to a multitask-style scheduler that parks them (one thread)"
SEED = "001"
FIFO = True  # a deque; parked getters and putters are served in the order they parked

Buffer = deque  # a module name, so a test can substitute an instrumented subclass


class Get:
    """The operation `yield queue.get()`: resume me with the oldest item. One per queue, reused."""

    __slots__ = ("queue",)

    def __init__(self, queue: Queue) -> None:
        self.queue = queue


Put = tuple  # the operation `yield queue.put(item)`: the pair (queue, item), see Queue.put


def sleep(seconds: float) -> float:
    """The operation `yield sleep(seconds)`: an absolute perf_counter() wake-up time."""
    return time.perf_counter() + seconds


class Queue:
    """multitask's Queue: items in a `Buffer()` deque and the tasks parked on it (no lock: one thread).

    Invariant: getters are parked only while the deque is empty, putters only while it holds `limit` items.
    """

    def __init__(self, capacity: int | None = None) -> None:
        self.items = Buffer()  # only ever added to with append, so the harness can watch its depth
        self.limit = capacity or float("inf")
        self.getters: deque = deque()  # tasks parked in get; the next put resumes the first with its item
        self.putters: deque = deque()  # (task, item) parked in put; the next get moves the first one in
        self._get = Get(self)

    def get(self) -> Get:
        """The get operation to yield."""
        return self._get

    def put(self, item: object) -> Put:
        """The put operation to yield: resume me once item is in the queue or handed to a getter.

        A plain tuple: a small class made per item made a 1:1 hand-off a third dearer (0.43 against 0.32 us).
        """
        return (self, item)

    def __repr__(self) -> str:
        return (f"<Queue depth={len(self.items)}/{self.limit} getters waiting={len(self.getters)}"
                f" putters waiting={len(self.putters)}>")


class Scheduler:
    """multitask's TaskManager cut down to queues and timers: runs named generator tasks to their end."""

    def __init__(self) -> None:
        self.runnable: deque = deque()  # (task, value to send); the head runs next
        self.timers: list = []  # heap of (wake-up time, tie-break, task) for sleeping tasks
        self.live: dict = {}  # task -> name, for every task not yet finished
        self.queues: list[Queue] = []  # the queues made here: their parked tasks are this scheduler's
        self.errors: list[str] = []  # "name: repr(exc)" for a task that raised; or the tasks left parked
        self._ties = itertools.count()

    def queue(self, capacity: int | None = None) -> Queue:
        """Make a queue for this scheduler's tasks."""
        self.queues.append(Queue(capacity))
        return self.queues[-1]

    def add(self, task, name: str) -> None:
        """Add a generator to the back of the run queue."""
        self.live[task] = name
        self.runnable.append((task, None))

    def run(self) -> None:
        """Resume tasks until none is runnable or sleeping; on a task's error, close every task and return."""
        runnable, timers, live, clock = self.runnable, self.timers, self.live, time.perf_counter
        push, pop = runnable.append, runnable.popleft
        while runnable or timers:
            if timers:
                now = clock()
                if not runnable and timers[0][0] > now:
                    time.sleep(timers[0][0] - now)  # nothing runnable: a real idle wait
                    now = clock()
                while timers and timers[0][0] <= now:
                    push((heapq.heappop(timers)[2], None))
            for _ in range(len(runnable)):  # the tasks runnable now; then the timers again: none starves
                task, value = pop()
                try:
                    op = task.send(value)
                except StopIteration:
                    del live[task]
                    continue
                except Exception as exc:  # recorded in the Outcome; the verifier fails the run
                    self.errors.append(f"{live.pop(task)}: {exc!r}")
                    self.close()
                    return
                kind = type(op)
                if kind is Put:
                    queue, item = op
                    if queue.getters:  # so the deque is empty: hand the item to the longest-waiting getter
                        push((task, None))
                        push((queue.getters.popleft(), item))
                    elif len(queue.items) < queue.limit:
                        queue.items.append(item)
                        push((task, None))
                    else:
                        queue.putters.append((task, item))
                elif kind is Get:
                    queue = op.queue
                    if queue.items:
                        push((task, queue.items.popleft()))
                        if queue.putters:  # so it was full: the longest-waiting putter's item goes in
                            putter, item = queue.putters.popleft()
                            queue.items.append(item)
                            push((putter, None))
                    else:
                        queue.getters.append(task)
                elif kind is float:
                    heapq.heappush(timers, (op, next(self._ties), task))
                else:  # as in multitask: any other value is sent straight back, from the back of the queue
                    push((task, op))
        if live:  # parked with nobody left to wake them
            self.errors.append(f"scheduler: parked for good: {', '.join(live.values())}")
            self.close()

    @property
    def finished(self) -> bool:
        """True when every task ran to its end: none raised, none is left runnable, sleeping or parked."""
        parked = any(queue.getters or queue.putters for queue in self.queues)
        return not (self.errors or self.live or self.runnable or self.timers or parked)

    def close(self) -> None:
        """Close every unfinished task and forget where it was runnable, sleeping or parked."""
        for task in self.live:
            task.close()
        self.live.clear()
        self.runnable.clear()
        self.timers.clear()
        for queue in self.queues:
            queue.getters.clear()
            queue.putters.clear()

    def __repr__(self) -> str:
        return f"<Scheduler runnable={len(self.runnable)} sleeping={len(self.timers)} live={len(self.live)}>"


def producer(queue: Queue, items: list, finish):
    """Put every item as soon as the queue takes it; then `yield from finish()`."""
    put = queue.put
    for item in items:
        yield put(item)
    yield from finish()


def paced_producer(queue: Queue, items: list, offsets: list[float], timed, stamps: list, finish):
    """Put each item no earlier than due (origin + offset), stamping each completed put; then finish."""
    put, clock, stamp = queue.put, time.perf_counter, stamps.append
    origin = timed.start  # read here: the body first runs inside the timed region
    for item, offset in zip(items, offsets, strict=True):
        if origin + offset > clock():
            yield origin + offset  # ahead of schedule: sleep until due; behind: put at once
        yield put(item)
        stamp(clock())  # resumed, so the put has completed
    yield from finish()


def consumer(queue: Queue, record, work: workload.Work, spins: int):
    """Take items until a sentinel, recording each (workload.recorder) and doing the work: a loop per kind."""
    get, sentinel = queue.get(), workload.SENTINEL
    if work.kind == "none":
        while (item := (yield get)) is not sentinel:
            record(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := (yield get)) is not sentinel:
            record(item)
            spin(spins)
    else:
        seconds = work.seconds
        while (item := (yield get)) is not sentinel:
            record(item)
            yield sleep(seconds)


def unsupported(scenario: Scenario) -> str | None:
    """Every scenario with the suite's common stop protocol; seed 004's shutdowns are for threads."""
    return workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer and C consumer tasks on one Scheduler, all built before the clock."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    producers_left = [scenario.producers]

    def finish():
        """Stop protocol: the last producer to finish puts one sentinel per consumer (a put: bounded)."""
        producers_left[0] -= 1
        if producers_left[0] == 0:
            for _ in range(scenario.consumers):
                yield queue.put(workload.SENTINEL)

    timed = workload.TimedRegion()
    scheduler = Scheduler()
    queue = scheduler.queue(scenario.capacity)
    for c, (got, stamps) in enumerate(zip(received, takes, strict=True)):
        scheduler.add(consumer(queue, workload.recorder(got, stamps), plan.work, plan.spins), f"consumer {c}")
    for p, offsets in enumerate(workload.paced_offsets(plan)):
        task = (producer(queue, plan.items[p], finish) if offsets is None
                else paced_producer(queue, plan.items[p], offsets, timed, puts[p], finish))
        scheduler.add(task, f"producer {p}")
    with timed:
        scheduler.run()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": scheduler.finished,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(scheduler.errors), extras)
