"""Seed 003's pointer made real: the classic bounded buffer, a deque with a Lock and two counting semaphores.

Seed 003's lesson ends its two-lock pipeline with "for the real implementation one wants semaphores";
this is that implementation, the textbook form (Dijkstra's bounded buffer): `Semaphore(capacity)` counts
free slots, `Semaphore(0)` counts filled ones, and a Lock guards the deque itself. The unbounded form
leaves the free-slot semaphore out: there is no bound to count down, and a `Semaphore(sys.maxsize)` would
only add an acquire and a release to every item.
"""

# Each semaphore's acquire is the wait loop: threading.Semaphore waits on its own Condition in
# `while self._value == 0`, re-checking after every wake-up, so put and get add no loop of their own; the
# non-blocking form is the same call with blocking=False. The release after the lock is what wakes one
# waiter of the other side. Invariant, outside the lock: filled <= len(items) <= capacity - free.

from __future__ import annotations

import threading
from collections import deque

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "semaphores"
MODEL = "thread"
SUMMARY = "deque guarded by a Lock, Semaphore(capacity) for free slots and Semaphore(0) for filled ones"
SEED = "003"
FIFO = True  # append at the back and popleft from the front, both under the lock

Buffer = deque  # a module name, so a test can substitute an instrumented subclass


def _waiters(semaphore: threading.Semaphore) -> int:
    return len(getattr(getattr(semaphore, "_cond", None), "_waiters", ()))  # CPython's Semaphore internals


class UnboundedBuffer:
    """A deque and a filled-slot semaphore: put never waits, get waits until an item is there."""

    def __init__(self) -> None:
        self._items = Buffer()
        self._lock = threading.Lock()  # guards _items; held only for one append or popleft, nobody waits long
        self._filled = threading.Semaphore(0)  # counts items a get may take; consumers wait on it

    def put(self, item: object) -> None:
        """Append item and signal one filled slot."""
        with self._lock:
            self._items.append(item)
        self._filled.release()

    def get(self) -> object:
        """Wait for a filled slot, then take the oldest item."""
        self._filled.acquire()
        with self._lock:
            return self._items.popleft()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} depth={len(self._items)} filled={self._filled._value}"
                f" getters waiting={_waiters(self._filled)}>")


class BoundedBuffer(UnboundedBuffer):
    """The classic bounded buffer: put waits for a free slot, get waits for a filled one."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self._free = threading.Semaphore(capacity)  # counts free slots; producers wait on it

    def put(self, item: object) -> None:
        """Wait for a free slot, append item, signal one filled slot."""
        self._free.acquire()
        with self._lock:
            self._items.append(item)
        self._filled.release()

    def get(self) -> object:
        """Wait for a filled slot, take the oldest item, signal one free slot."""
        self._filled.acquire()
        with self._lock:
            item = self._items.popleft()
        self._free.release()
        return item

    def __repr__(self) -> str:
        return (f"<BoundedBuffer depth={len(self._items)}/{self.capacity} filled={self._filled._value}"
                f" free={self._free._value} getters waiting={_waiters(self._filled)}"
                f" putters waiting={_waiters(self._free)}>")


def unsupported(scenario: Scenario) -> str | None:
    """The semaphore buffer takes every scenario but the event stop (its get has no timeout)."""
    if scenario.stop.startswith("event"):
        return "the semaphore buffer's get has no timeout: the event stop protocol needs one"
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one semaphore buffer (bounded when the scenario has a capacity)."""
    buffer = UnboundedBuffer() if scenario.capacity is None else BoundedBuffer(scenario.capacity)
    return run_threads(scenario, buffer.put, buffer.get)
