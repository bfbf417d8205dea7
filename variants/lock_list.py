"""Seed 000's Buffer: a list guarded by a Lock; threads poll when it is empty (or full, when bounded).

The bounded form is the capacity-and-sleep polling queue from the comment in seed 003
(ToyQueueWithPollingNotForProduction). Changed from the seeds: `pop(0)` instead of seed 000's `pop()`,
which made the buffer a stack (LIFO); and a poll interval of POLL_INTERVAL instead of seed 003's 50 ms,
which would make one hand-off through a one-slot buffer cost 50 ms. Polling is the point of this design:
its cost shows up as CPU per item and as latency, not as a hidden wait.
"""

from __future__ import annotations

import threading
import time

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "lock_list"
MODEL = "thread"
SUMMARY = "list guarded by a Lock, pop(0), threads poll with a short sleep when empty or full"
SEED = "000, 003"
FIFO = True  # append at the end, pop(0) from the front

# seconds a thread asks to sleep before it looks again (about 70 us really: docs/design.md, "Equal waits")
POLL_INTERVAL = 50e-6


class Buffer:
    """A FIFO list with an optional capacity; `put` and `get` poll, built on try_put and try_get."""

    _EMPTY = object()  # what try_get returns when there is nothing to take

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity
        self._list: list = []
        self._lock = threading.Lock()  # guards _list; nobody waits on it for long: waiting is polling

    def try_put(self, item: object) -> bool:
        """Append item unless the buffer is full; say whether it went in."""
        with self._lock:
            if self.capacity is not None and len(self._list) >= self.capacity:
                return False
            self._list.append(item)
            return True

    def try_get(self) -> object:
        """Take the oldest item, or return _EMPTY."""
        with self._lock:
            if self._list:
                return self._list.pop(0)
            return self._EMPTY

    def put(self, item: object) -> None:
        """Put item, polling every POLL_INTERVAL while the buffer is full."""
        while not self.try_put(item):
            time.sleep(POLL_INTERVAL)

    def get(self) -> object:
        """Take the oldest item, polling every POLL_INTERVAL while the buffer is empty."""
        while (item := self.try_get()) is self._EMPTY:
            time.sleep(POLL_INTERVAL)
        return item

    def __repr__(self) -> str:
        return f"<Buffer depth={len(self._list)} capacity={self.capacity}>"


def unsupported(scenario: Scenario) -> str | None:
    """The polling list takes every scenario; its get has no timeout, so not the event stop."""
    if scenario.stop.startswith("event"):
        return "lock_list's polling get has no timeout: the event stop protocol needs one"
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one polling Buffer."""
    buffer = Buffer(scenario.capacity)
    return run_threads(scenario, buffer.put, buffer.get)
