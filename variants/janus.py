"""Producer threads, consumer tasks on one event loop, through janus.Queue: `sync_q.put`, `async_q.get`.

janus (aio-libs) is the mixed queue people reach for between threads and asyncio: one deque under a
threading.Lock, threading.Conditions for the threads' side and asyncio.Conditions for the tasks' side; a
thread's put wakes a waiting task with loop.call_soon_threadsafe and a short notifier task. Producer
threads `sync_q.put(item)`; consumer tasks `await async_q.get()` and work as the `asyncio` design's do
(its `consume`, on its select() loop: `io` work is `await asyncio.sleep`). Not from the seeds.

Capacity: `janus.Queue(maxsize=capacity)` (0, unbounded, when there is none). An item put is in the deque
until a consumer takes it, and a put waits while the deque holds maxsize: the bound is janus's own, exact.
The deque is a `Buffer` (a plain deque, as janus's own), made in janus's `_init` override point, so that
the harness can count its depth (bench/depth.py): janus appends to it only under its lock.

Stop protocols, the thread designs' (variants/threads.py) with consumers on the loop, all in the clock:
  sentinels  the main thread joins the producers, then `sync_q.put`s one sentinel per consumer;
  barrier    (seed 004) producers meet at a threading.Barrier and producer 0 puts one sentinel; a consumer
             task that takes it puts it back with `await async_q.put` (into the slot its take freed);
  event      (seed 004) the main thread sets a threading.Event once every producer has finished;
             consumers take with `asyncio.wait_for(async_q.get(), timeout)` and leave once a take that
             began after the event found nothing.
The loop thread and the producer threads start before the clock: consumer tasks wait on the empty queue,
producers at a StartGate. The clock stops when every consumer task has ended; the loop is closed and its
thread joined after that. culsans keeps janus's API and runs through `run_on` here (variants/culsans.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable

from variants import workload
from variants.asyncio import consume
from variants.asyncio_threadsafe import run_bridge
from variants.contract import Outcome, Scenario

try:
    import janus
except ImportError as exc:  # the design is then n/a, saying why (unsupported)
    janus, MISSING = None, f"janus cannot be imported: {exc}"
else:
    MISSING = None

NAME = "janus"
MODEL = "bridge"
SUMMARY = "producer threads, consumer tasks on one loop: janus.Queue (sync_q.put, async_q.get)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # a deque under one lock: append at the back, popleft from the front

Buffer = deque  # the queue's storage: a module name, so the harness can substitute a depth-counting deque


if janus is not None:
    class Queue(janus.Queue):
        """janus.Queue keeping its items in a Buffer: janus's own _init, with Buffer for its plain deque."""

        def _init(self, maxsize: int) -> None:  # janus's override point; called under no lock, once
            self._queue = Buffer()


class _EventTake:
    """The event stop's take: the sentinel once the event was set before a take that found nothing."""

    def __init__(self, async_q, finished: threading.Event, timeout: float) -> None:
        self._async_q, self._finished, self._timeout = async_q, finished, timeout

    async def get(self) -> object:
        """An item, or the sentinel (see the class)."""
        while True:
            done = self._finished.is_set()
            try:
                return await asyncio.wait_for(self._async_q.get(), self._timeout)
            except TimeoutError:
                if done:
                    return workload.SENTINEL


async def _serve(queue, plan: workload.Plan, received: list[list], takes: list, stop: workload.Stop,
                 finished: threading.Event, ready: threading.Event, ended: threading.Event) -> list:
    """The loop thread's work: park one task per consumer on the queue, say so, wait for them all."""
    async_q = queue.async_q
    take = _EventTake(async_q, finished, stop.timeout) if stop.kind == "event" else async_q

    async def consumer(got: list, stamps: list | None) -> None:
        await consume(take, workload.recorder(got, stamps), plan.work, plan.spins)
        if stop.kind == "barrier":
            await async_q.put(workload.SENTINEL)  # for the next consumer, into the slot just freed

    tasks = [asyncio.create_task(consumer(got, stamps)) for got, stamps in zip(received, takes, strict=True)]
    await asyncio.sleep(0)  # one turn of the loop: every task now waits on the empty queue
    ready.set()
    try:
        return await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        ended.set()


def unsupported(scenario: Scenario) -> str | None:
    """n/a without janus; else every scenario and every stop protocol."""
    return MISSING


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer threads, C consumer tasks on one event-loop thread."""
    return run_on(scenario, Queue)


def run_on(scenario: Scenario, buffer: Callable[[int], object]) -> Outcome:
    """Run the scenario once through `buffer(maxsize)`, a queue with janus's `sync_q` and `async_q`."""
    return run_bridge(scenario, lambda loop: buffer(scenario.capacity or 0), lambda queue: queue.sync_q.put,
                      _serve)
