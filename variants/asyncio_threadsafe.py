"""Producer threads, consumer tasks on one event loop: loop.call_soon_threadsafe into an asyncio.Queue.

The standard library's own bridge from threads to asyncio (not from the seeds): a producer thread hands
each item to the loop with `loop.call_soon_threadsafe(queue.put_nowait, item)`, which wakes the loop
through its self-pipe, and consumer tasks `await queue.get()`. Consumers work as the `asyncio` design's
do (its `consume`, on its select() loop: `io` work is `await asyncio.sleep`).

Capacity: asyncio.Queue's own bound cannot hold a thread back (its `put` is a coroutine, and `put_nowait`
would raise QueueFull in the loop after the producer has moved on), so the bound is a
threading.Semaphore(capacity) of free slots. A producer acquires a slot before it hands an item over,
and blocks there while the buffer is full; a consumer's take releases one (in the queue's `_get`, on the
loop). Items handed over and not yet taken, in the loop's callback list or in the queue, are never more
than capacity. Unbounded: no semaphore, and a hand-over never waits.

Stop protocols, the thread designs' (variants/threads.py) with consumers on the loop, all in the clock:
  sentinels  the main thread joins the producers, then hands one sentinel per consumer over like an item
             (each takes a slot);
  barrier    (seed 004) producers meet at a threading.Barrier and producer 0 hands one sentinel over; a
             consumer task that takes it puts it back with put_nowait, on the loop, into the slot its take
             freed (every producer is done by then, so that slot is still free);
  event      (seed 004) the main thread sets a threading.Event once every producer has finished;
             consumers take with `asyncio.wait_for(queue.get(), timeout)` and leave once a take that
             began after the event found nothing.
The loop thread and the producer threads start before the clock: consumer tasks wait on the empty queue,
producers at a StartGate. The clock stops when every consumer task has ended; the loop is closed and its
thread joined after that.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from variants import workload
from variants.asyncio import _loop, consume
from variants.contract import Outcome, Scenario
from variants.threads import StartGate, produce

NAME = "asyncio_threadsafe"
MODEL = "bridge"
SUMMARY = ("producer threads, consumer tasks on one loop: call_soon_threadsafe into an asyncio.Queue "
           "(a Semaphore for bounded)")
SEED = "-"  # not from the suite's seed documents
FIFO = True  # a thread's callbacks run in the order it scheduled them, into a FIFO queue


class Buffer(asyncio.Queue):
    """An asyncio.Queue fed from other threads, bounded by a semaphore of free slots (None: unbounded)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int | None) -> None:
        super().__init__()  # no maxsize: the slots are the bound
        self._call_soon_threadsafe = loop.call_soon_threadsafe
        # free slots: producers wait on it while the buffer is full; a take on the loop releases one
        self._slots = None if capacity is None else threading.Semaphore(capacity)

    def put_threadsafe(self, item: object) -> None:
        """From any thread but the loop's: wait for a free slot, then hand item over to the loop."""
        if self._slots is not None:
            self._slots.acquire()
        self._call_soon_threadsafe(self.put_nowait, item)

    def put_back(self, item: object) -> None:
        """On the loop, once every producer is done: put item into the slot its take has just freed."""
        if self._slots is not None and not self._slots.acquire(blocking=False):
            raise RuntimeError("no free slot to put the sentinel back into")
        self.put_nowait(item)

    def _get(self) -> object:
        item = super()._get()
        if self._slots is not None:
            self._slots.release()
        return item

    def _format(self) -> str:
        free = "inf" if self._slots is None else self._slots._value
        return f"{super()._format()} free_slots={free}"


class _EventTake:
    """The event stop's take: the sentinel once the event was set before a take that found nothing."""

    def __init__(self, queue: Buffer, finished: threading.Event, timeout: float) -> None:
        self._queue, self._finished, self._timeout = queue, finished, timeout

    async def get(self) -> object:
        """An item, or the sentinel (see the class)."""
        while True:
            done = self._finished.is_set()
            try:
                return await asyncio.wait_for(self._queue.get(), self._timeout)
            except TimeoutError:
                if done:
                    return workload.SENTINEL


async def _serve(queue: Buffer, plan: workload.Plan, received: list[list], takes: list, stop: workload.Stop,
                 finished: threading.Event, ready: threading.Event, ended: threading.Event) -> list:
    """The loop thread's work: park one task per consumer on the queue, say so, wait for them all."""
    take = _EventTake(queue, finished, stop.timeout) if stop.kind == "event" else queue

    async def consumer(got: list, stamps: list | None) -> None:
        await consume(take, workload.recorder(got, stamps), plan.work, plan.spins)
        if stop.kind == "barrier":
            queue.put_back(workload.SENTINEL)  # for the next consumer

    tasks = [asyncio.create_task(consumer(got, stamps)) for got, stamps in zip(received, takes, strict=True)]
    await asyncio.sleep(0)  # one turn of the loop: every task now waits on the empty queue
    ready.set()
    try:
        return await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        ended.set()


def unsupported(scenario: Scenario) -> str | None:
    """The bridge takes every scenario and every stop protocol."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer threads, C consumer tasks on one event-loop thread."""
    return run_bridge(scenario, lambda loop: Buffer(loop, scenario.capacity),
                      lambda queue: queue.put_threadsafe, _serve)


def run_bridge(scenario: Scenario, make_queue: Callable, put_of: Callable, serve_tasks: Callable) -> Outcome:
    """The bridge harness: P producer threads put with `put_of(queue)`, C consumer tasks on one loop thread.

    `make_queue(loop)` builds the queue; `serve_tasks(queue, plan, received, takes, stop, finished, ready,
    ended)` is the coroutine that runs the consumer tasks (this module's `_serve`, or janus's).
    """
    plan = workload.plan(scenario)
    stop = workload.parse_stop(scenario.stop)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors: list[str] = []
    timed = workload.TimedRegion()
    loop = _loop()
    queue = make_queue(loop)
    put = put_of(queue)
    gate = StartGate(scenario.producers)
    barrier = threading.Barrier(scenario.producers)  # barrier stop: producers wait here for each other
    finished = threading.Event()  # event stop: set by the main thread when every producer has finished
    ready = threading.Event()  # set by the loop thread once every consumer task waits on the queue
    ended = threading.Event()  # set by the loop thread once every consumer task has ended

    def serve() -> None:
        try:
            with asyncio.Runner(loop_factory=lambda: loop) as runner:
                results = runner.run(serve_tasks(queue, plan, received, takes, stop, finished, ready, ended))
            errors.extend(f"consumer {c}: {result!r}" for c, result in enumerate(results)
                          if isinstance(result, BaseException))
        except BaseException as exc:  # reported in the Outcome; the verifier fails the run
            errors.append(f"event loop: {exc!r}")
        finally:
            ready.set()
            ended.set()

    def producer(p: int, offsets: list[float] | None) -> None:
        origin = gate.wait()
        try:
            produce(put, plan.items[p], offsets, origin, puts[p])
            if stop.kind == "barrier":
                barrier.wait()
                if p == 0:  # every producer is done: one sentinel for all consumers
                    put(workload.SENTINEL)
        except BaseException as exc:  # reported in the Outcome; the verifier fails the run
            barrier.abort()  # the others would wait for this producer for ever
            errors.append(f"producer {p}: {exc!r}")

    loop_thread = threading.Thread(target=serve, name="event loop", daemon=True)
    producers = [threading.Thread(target=producer, args=(p, offsets), name=f"producer {p}", daemon=True)
                 for p, offsets in enumerate(workload.paced_offsets(plan))]
    loop_thread.start()
    for thread in producers:
        thread.start()
    ready.wait()
    gate.ready()
    with timed:
        gate.open(timed.start)
        for thread in producers:
            thread.join()
        if stop.kind == "sentinels":
            for _ in range(scenario.consumers):
                try:
                    put(workload.SENTINEL)
                except RuntimeError:  # every consumer task ended (a failed one early) and the loop closed
                    if not loop.is_closed():
                        raise
                    break
        elif stop.kind == "event":
            finished.set()
        ended.wait()
    loop_thread.join()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
