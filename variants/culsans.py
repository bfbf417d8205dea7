"""Producer threads, consumer tasks on one event loop, through culsans.Queue: `sync_q.put`, `async_q.get`.

culsans keeps janus's API (Queue with `sync_q` and `async_q`, janus 2.0) on aiologic's primitives: one
deque under a thread lock, and conditions that wake a thread or a task alike, without a notifier task per
wake-up and without binding the queue to one loop. So this design is the `janus` design with another
queue: the same threads, tasks, start gate and stop protocols (variants/janus.py, its `run_on`), and the
consumers of the `asyncio` design (its `consume` on its select() loop). Not from the seeds.

Capacity: `culsans.Queue(maxsize=capacity)` (0, unbounded, when there is none). An item put is in the
deque until a consumer takes it, and a put waits while the deque holds maxsize: the bound is exact. The
deque is a `Buffer` (a plain deque, as culsans's own), behind culsans's storage methods, so that the
harness can count its depth (bench/depth.py).

Stop protocols, as in `janus`, all in the clock:
  sentinels  the main thread joins the producers, then `sync_q.put`s one sentinel per consumer;
  barrier    (seed 004) producers meet at a threading.Barrier and producer 0 puts one sentinel; a consumer
             task that takes it puts it back with `await async_q.put`;
  event      (seed 004) the main thread sets a threading.Event once every producer has finished;
             consumers take with `asyncio.wait_for(async_q.get(), timeout)` and leave once a take that
             began after the event found nothing.
"""

from __future__ import annotations

from collections import deque

from variants import janus as janus_design
from variants.contract import Outcome, Scenario

try:
    import culsans
except ImportError as exc:  # the design is then n/a, saying why (unsupported)
    culsans, MISSING = None, f"culsans cannot be imported: {exc}"
else:
    MISSING = None

NAME = "culsans"
MODEL = "bridge"
SUMMARY = "producer threads, consumer tasks on one loop: culsans.Queue (janus's API on aiologic)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # culsans.Queue is a FIFO: append at the back, popleft from the front

Buffer = deque  # the queue's storage: a module name, so the harness can substitute a depth-counting deque


if culsans is not None:
    class Queue(culsans.Queue):
        """culsans.Queue keeping its items in a Buffer: its storage methods (the override points culsans
        names), as culsans's own on a plain deque; all but _init (its constructor's) run under its lock."""

        __slots__ = ("_items",)

        def _init(self, maxsize: int) -> None:
            self._items = Buffer()

        def _qsize(self) -> int:
            return len(self._items)

        def _put(self, item: object) -> None:
            self._items.append(item)

        def _get(self) -> object:
            return self._items.popleft()

        def _peek(self) -> object:
            return self._items[0]

        def _clear(self) -> None:
            self._items.clear()


def unsupported(scenario: Scenario) -> str | None:
    """n/a without culsans; else every scenario and every stop protocol."""
    return MISSING


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once: P producer threads, C consumer tasks on one event-loop thread."""
    return janus_design.run_on(scenario, Queue)
