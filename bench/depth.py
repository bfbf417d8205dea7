"""The instrumented run: once per benchmark process, outside its values, a buffer that counts its depth.

`watched(design)` substitutes the design's module-level `Buffer` (two_lock: `Pipeline`) with a kind that
records the deepest it has been, chosen by what the buffer is:
  queue.Queue, asyncio.Queue   `_put` runs under the queue's own lock (the loop, for asyncio): exact
  collections.deque            one-thread designs and lock-guarded deques: `append` is the only way in: exact
  lock_list.Buffer             its list's `append` runs under the buffer's lock: exact
  two_lock.Pipeline            counts messages written to the slot and not yet read: exact
  trio.open_memory_channel     trio's own count of the channel's deepest buffer (peak_buffer_used): exact
  queue.SimpleQueue            `qsize()` read after each put returns: a take in between can hide an item, so
                               a lower bound (simple_queue is unbounded only: there is no bound to check)
  multiprocess's queue         a counter in shared memory, raised after each put returns and lowered after
                               each get returns; a get that has returned but not yet lowered it can make the
                               count exceed the true depth by one per consumer, so the bound allowed is
                               capacity + consumers (MULTIPROCESS_SLACK says so). mp_batched puts lists: the
                               counter moves by a list's length, so it can read one batch high per consumer;
                               the design keeps consumers * (batch - 1) items of its capacity for the batches
                               its consumers hold, so the same bound holds
`depth_run` runs the scenario once that way and fails when the bound was ever exceeded.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from bench.once import run_once
from variants import lock_list, two_lock
from variants.contract import Scenario

__all__ = ["watched", "depth_run", "watchable"]

MULTIPROCESS_SLACK = "consumers"  # see the module docstring


def _peak_queue(base: type, made: list) -> type:
    size = "qsize" if issubclass(base, asyncio.Queue) else "_qsize"  # queue.Queue's qsize takes the lock

    class PeakQueue(base):
        peak = 0

        def _init(self, maxsize):
            super()._init(maxsize)
            made.append(self)

        def _put(self, item):
            super()._put(item)
            self.peak = max(self.peak, getattr(self, size)())

    return PeakQueue


def _peak_deque(base: type, made: list) -> type:
    class PeakDeque(base):
        peak = 0

        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

        def append(self, item):
            super().append(item)
            self.peak = max(self.peak, len(self))

    return PeakDeque


def _peak_simple_queue(base: type, made: list) -> type:
    class PeakSimpleQueue(base):
        peak = 0

        def __init__(self):
            super().__init__()
            made.append(self)

        def put(self, item, block=True, timeout=None):
            super().put(item, block, timeout)
            self.peak = max(self.peak, self.qsize())

    return PeakSimpleQueue


class _PeakList(list):
    peak = 0

    def append(self, item):
        super().append(item)
        self.peak = max(self.peak, len(self))


def _peak_lock_list(base: type, made: list) -> type:
    class PeakBuffer(base):
        def __init__(self, capacity=None):
            super().__init__(capacity)
            self._list = _PeakList()
            made.append(self)

        @property
        def peak(self):
            return self._list.peak

    return PeakBuffer


def _peak_pipeline(base: type, made: list) -> type:
    class PeakPipeline(base):
        def __init__(self):
            self._count_lock = threading.Lock()  # guards _depth and peak: producers and consumers race
            self._depth = self.peak = 0
            self._armed = False
            super().__init__()  # its `self.message = None` is not a put
            self._armed = True
            made.append(self)

        @property
        def message(self):
            if self._armed:
                with self._count_lock:
                    self._depth -= 1
            return self._message

        @message.setter
        def message(self, value):
            if self._armed:
                with self._count_lock:
                    self._depth += 1
                    self.peak = max(self.peak, self._depth)
            self._message = value

    return PeakPipeline


def _items_in(put: object) -> int:
    """Items in one put: a list is a batch of items (mp_batched), anything else one item or a sentinel."""
    return len(put) if type(put) is list else 1


class _CountingQueue:
    """A multiprocessing queue with a shared put-minus-get counter (see the module docstring)."""

    def __init__(self, ctx, inner) -> None:
        self._inner = inner
        self._count = ctx.Value("q", 0)  # puts returned minus gets returned; its lock guards _peak too
        self._peak = ctx.Value("q", 0, lock=False)

    def put(self, item) -> None:
        self._inner.put(item)
        with self._count.get_lock():
            self._count.value += _items_in(item)
            self._peak.value = max(self._peak.value, self._count.value)

    def get(self, block: bool = True, timeout: float | None = None):
        item = self._inner.get(block, timeout)  # raises queue.Empty as the real one does: nothing taken
        with self._count.get_lock():
            self._count.value -= _items_in(item)
        return item

    def close(self) -> None:
        self._inner.close()

    def join_thread(self) -> None:
        self._inner.join_thread()

    @property
    def peak(self) -> int:
        return self._peak.value

    def __getattr__(self, name: str):  # what else a design's buffer offers (zmq's open, end, shut)
        return getattr(self._inner, name)


class _TrioPeak:
    """A trio memory channel's deepest buffer, as trio itself counts it (peak_buffer_used): exact."""

    def __init__(self, send) -> None:
        self._send = send

    @property
    def peak(self) -> int:
        return self._send.statistics().peak_buffer_used


def _substitute(design: ModuleType, made: list) -> tuple[str, object] | None:
    """(module attribute, depth-counting replacement) for the design's buffer, or None if unknown."""
    if isinstance(getattr(design, "Pipeline", None), type) and issubclass(design.Pipeline, two_lock.Pipeline):
        return "Pipeline", _peak_pipeline(design.Pipeline, made)
    buffer = getattr(design, "Buffer", None)
    between_processes = getattr(design, "MODEL", None) in ("process", "broker")
    if between_processes and callable(buffer) and not isinstance(buffer, type):
        def counting(ctx, *args):  # multiprocess's factory, or one like it (faster_fifo, zmq, redis_list)
            watched_queue = _CountingQueue(ctx, buffer(ctx, *args))
            made.append(watched_queue)
            return watched_queue
        return "Buffer", counting
    if (getattr(buffer, "__module__", None), getattr(buffer, "__name__", None)) == ("trio",
                                                                                     "open_memory_channel"):
        def channel(max_buffer_size):
            send, receive = buffer(max_buffer_size)
            made.append(_TrioPeak(send))
            return send, receive
        return "Buffer", channel
    if not isinstance(buffer, type):
        return None
    if issubclass(buffer, queue.SimpleQueue):
        return "Buffer", _peak_simple_queue(buffer, made)
    if issubclass(buffer, (queue.Queue, asyncio.Queue)):
        return "Buffer", _peak_queue(buffer, made)
    if issubclass(buffer, deque):
        return "Buffer", _peak_deque(buffer, made)
    if issubclass(buffer, lock_list.Buffer):
        return "Buffer", _peak_lock_list(buffer, made)
    return None


def watchable(design: ModuleType) -> bool:
    """Whether the harness knows how to count this design's buffer depth."""
    return _substitute(design, []) is not None


@contextmanager
def watched(design: ModuleType) -> Iterator[list]:
    """Within the block the design makes depth-counting buffers; yields the list of those it made.

    Each has `peak`, the deepest it has been. Raises ValueError for a design whose buffer is unknown.
    """
    made: list = []
    found = _substitute(design, made)
    if found is None:
        raise ValueError(f"{design.NAME}: no Buffer or Pipeline the harness can watch")
    name, replacement = found
    original = getattr(design, name)
    setattr(design, name, replacement)
    try:
        yield made
    finally:
        setattr(design, name, original)


def depth_run(design: ModuleType, scenario: Scenario, deadline: float | None = None
              ) -> tuple[int | None, str | None]:
    """One verified run with a depth-counting buffer: (max depth, None), or (max depth, why it failed).

    Fails when the run itself fails, when the design made no buffer, or when the buffer ever held more
    than the scenario's capacity (multiprocess: capacity + consumers, see the module docstring). A design
    whose buffer the harness cannot watch gives (None, None).
    """
    if not watchable(design):
        return None, None
    with watched(design) as made:
        result = run_once(design, scenario, deadline)
    if not result.ok:
        return None, f"{result.status}: {result.reason}"
    if not made:
        return None, "the instrumented run made no buffer"
    peak = max(buffer.peak for buffer in made)
    bound = scenario.capacity
    if bound is not None and isinstance(made[0], _CountingQueue):
        bound += scenario.consumers
    if bound is not None and peak > bound:
        return peak, f"the buffer held {peak} items; capacity {scenario.capacity}"
    return peak, None
