"""faster_fifo.Queue between producer and consumer processes (not from the seeds).

faster-fifo's queue is a circular buffer in shared memory under one process-shared mutex and two
condition variables: a put writes the pickled item into it before it returns (no feeder thread), a get
reads one out. Processes, start gate, stop protocols (sentinels, barrier, event) and clean-up are the
`multiprocess` design's (variants/multiprocess.py: `_worker` and `run_processes`); only the buffer differs.

Capacity counts items, as for every design, and faster-fifo bounds bytes: item sizes differ (a pickled id
grows with its value, payloads add to it), so no byte size is a bound in items. The bound is a
multiprocessing semaphore of `capacity` permits that every put acquires before it writes and every get
releases after it reads, sentinels included: the items in the queue never exceed capacity, exactly. The
ring's bytes are sized to hold that many of the run's largest message (its length word and pickle), so
they never bind first; unbounded, to hold every item of the run and its sentinels, so a producer never
waits.
"""

from __future__ import annotations

import importlib
import queue
from functools import cache
from multiprocessing.reduction import ForkingPickler

from variants import workload
from variants.contract import Outcome, Scenario
from variants.multiprocess import _worker, run_processes

NAME = "faster_fifo"
MODEL = "process"
SUMMARY = "faster_fifo.Queue (shared-memory ring) between processes, a semaphore bounding items"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one ring under one mutex: each producer's items are read in the order it wrote them

LENGTH_WORD = 8  # bytes faster-fifo writes before each message (a size_t)


@cache
def _library():
    """The faster_fifo module, or the ImportError that says why not (imported on first use only)."""
    try:
        return importlib.import_module("faster_fifo")  # the library: this module is variants.faster_fifo
    except ImportError as exc:
        return exc


class Fifo:
    """A faster_fifo.Queue with multiprocessing.Queue's put, get, close and join_thread, bounded in items.

    Invariant: items put and not yet got <= capacity, held by `_slots` (None: unbounded).
    """

    def __init__(self, ctx, capacity: int | None, message_bytes: int, messages: int) -> None:
        self._fifo = _library().Queue(max_size_bytes=message_bytes * messages)
        # every worker forks with a read buffer big enough for any message: without one, a get first reads
        # nothing, grows its buffer and tries again without waiting, which can find the queue empty
        self._fifo.reallocate_msg_buffer(message_bytes)
        self._slots = None if capacity is None else ctx.BoundedSemaphore(capacity)  # free places: a put
        # waits on it, a get gives one back

    def put(self, item) -> None:
        """Wait for a free place, then write the item (its bytes always fit: see the module docstring)."""
        if self._slots is not None:
            self._slots.acquire()
        self._fifo.put(item)  # raises queue.Full only after 10 s without room: a sizing error, reported

    def get(self, block: bool = True, timeout: float | None = None):
        """Take the next item; with a timeout, raise queue.Empty if none came (nothing is taken then)."""
        if block and timeout is None:
            while True:  # faster-fifo's blocking get gives up after 10 s: wait again
                try:
                    item = self._fifo.get()
                    break
                except queue.Empty:
                    pass
        else:
            item = self._fifo.get(block, timeout)
        if self._slots is not None:
            self._slots.release()
        return item

    def close(self) -> None:
        """Nothing to flush: a put is in shared memory when it returns (no feeder thread)."""

    def join_thread(self) -> None:
        """No feeder thread to join."""

    def __repr__(self) -> str:
        free = "unbounded" if self._slots is None else f"free={self._slots.get_value()}"
        return f"<Fifo items={self._fifo.qsize()} bytes={self._fifo.data_size()} {free}>"


def Buffer(ctx, scenario: Scenario) -> Fifo:  # noqa: N802 - a factory named like the other designs' Buffer
    """The run's queue, its ring sized so that bytes never bind before items (see the module docstring)."""
    last = scenario.items - 1  # the largest id pickles longest
    item = (last, workload.payload_bytes(last, scenario.payload)) if scenario.payload else last
    message = LENGTH_WORD + len(ForkingPickler.dumps(item)) + LENGTH_WORD  # and a word to spare
    extra = scenario.consumers + 1  # the sentinels: one per consumer, or the barrier stop's one
    messages = scenario.items + extra if scenario.capacity is None else min(scenario.capacity,
                                                                             scenario.items + extra)
    return Fifo(ctx, scenario.capacity, message, messages)


def unsupported(scenario: Scenario) -> str | None:
    """Every scenario and stop protocol, if the library imports."""
    library = _library()
    if isinstance(library, ImportError):
        return f"faster_fifo cannot be imported (pip install faster-fifo): {library}"
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes around one faster_fifo.Queue."""
    return run_processes(scenario, lambda ctx: Buffer(ctx, scenario), _worker)
