"""The bounded buffer people write by hand: a deque, one lock and two Conditions on it (not from the seeds).

put waits with `wait_for` until there is room, appends, and `notify()`s one consumer; get waits until
there is an item, pops it, and `notify()`s one producer. Unbounded, put never waits and nobody waits on
`_not_full`. This is queue.Queue's own scheme without its extras (task tracking, timeouts on put,
`_qsize` and `_put` hooks), so the difference between the two is what those extras cost.
"""

# Why two Conditions and not one: with a single Condition, producers and consumers wait on the same
# waiter list, and `notify()` can wake a thread of the same side (a consumer waking a consumer), which
# re-checks, waits again, and leaves the thread that could proceed asleep: with capacity 1 that is a
# deadlock. One Condition is only correct with `notify_all()`, which wakes every waiter for each item.
# Two Conditions sharing one lock make `notify()` wake exactly the side that can now proceed.
# Invariant, under the lock: 0 <= len(_items) <= capacity.

from __future__ import annotations

import queue
import threading
from collections import deque

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "condition"
MODEL = "thread"
SUMMARY = "deque with a Lock and two Conditions (not_empty, not_full), wait_for and notify"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # append at the back and popleft from the front, both under the lock

Buffer = deque  # a module name, so a test can substitute an instrumented subclass


class ConditionBuffer:
    """A FIFO deque with an optional capacity: put waits while it is full, get while it is empty."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity
        self._items = Buffer()
        self._lock = threading.Lock()  # guards _items; held for one append or popleft, released by waits
        self._not_empty = threading.Condition(self._lock)  # consumers wait on it until there is an item
        self._not_full = threading.Condition(self._lock)  # producers wait on it until there is room

    def _has_room(self) -> bool:
        return len(self._items) < self.capacity

    def put(self, item: object) -> None:
        """Wait until there is room (bounded only), append item, wake one consumer."""
        with self._lock:
            if self.capacity is not None:
                self._not_full.wait_for(self._has_room)
            self._items.append(item)
            self._not_empty.notify()

    def get(self, timeout: float | None = None) -> object:
        """Wait until there is an item, take the oldest, wake one producer; queue.Empty after `timeout` s."""
        with self._lock:
            if not self._not_empty.wait_for(self._items.__len__, timeout):
                raise queue.Empty
            item = self._items.popleft()
            if self.capacity is not None:
                self._not_full.notify()
            return item

    def __repr__(self) -> str:
        capacity = "inf" if self.capacity is None else self.capacity
        return (f"<ConditionBuffer depth={len(self._items)}/{capacity}"
                f" getters waiting={len(self._not_empty._waiters)}"
                f" putters waiting={len(self._not_full._waiters)}>")


def unsupported(scenario: Scenario) -> str | None:
    """The Condition buffer takes every scenario and every stop protocol (its get takes a timeout)."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one ConditionBuffer (bounded when the scenario has a capacity)."""
    buffer = ConditionBuffer(scenario.capacity)
    return run_threads(scenario, buffer.put, buffer.get, buffer.get, queue.Empty)
