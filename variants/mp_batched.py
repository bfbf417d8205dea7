"""multiprocessing.Queue carrying lists of up to BATCH items between processes (not from the seeds).

The commonest fix users apply to a slow multiprocessing.Queue: put lists of items, so that one pickle, one
pipe write and one wake-up carry many items. Processes, start gate, stop protocols and clean-up are the
`multiprocess` design's (variants/multiprocess.py, run_processes); only the workers' loops differ. The
figure stays per item, and a consumer records, stamps and works on the items of a batch one by one.

Capacity counts items, as for every design: the items producers are ahead of consumers, put and not yet
begun, whether in the queue or in the rest of a batch a consumer holds. A batch holds at most `size`
items, capacity // (consumers + 2) clamped to 1..BATCH, and the queue's maxsize is (capacity - consumers
* (size - 1)) // size batches, so a full queue plus one batch less one item in every consumer's hands is
still within capacity, and from capacity 2 up at least two batches fit in the queue (capacity 16 at 1:1:
2 batches of 5; at 4:4: 6 of 2; capacity 1024 at 1:1: 9 of 100; capacity 1: 1 of 1, the `multiprocess`
design's hand-off). Unbounded: batches of BATCH, no maxsize. A sentinel travels alone in one place.

A producer puts a batch when it is full or its items are done. Paced, it also puts it when its next item
is not yet due: a producer that keeps to its schedule sends each item on its own at once, and only one
that has fallen behind (its next item already due) gathers a batch, so latency still means time from an
item's scheduled arrival to its take. Each item's put stamp is the time its batch's put returned.

Stop protocols, as in `multiprocess`: sentinels (one per consumer from the parent once every producer
has flushed its pipe), barrier (producers flush, meet at a Barrier, producer 0 puts one sentinel that
consumers put back) and event (consumers take a batch with a timeout).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from functools import partial

from variants import workload
from variants.contract import Outcome, Scenario
from variants.multiprocess import Buffer, _flush, run_processes
from variants.threads import StartGate, consume, event_get

NAME = "mp_batched"
MODEL = "process"
SUMMARY = "multiprocessing.Queue carrying lists of up to 100 items between processes"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one pipe behind the queue, and each batch keeps its producer's order

BATCH = 100  # items per batch at most


def batching(capacity: int | None, consumers: int) -> tuple[int, int]:
    """(items per batch, the queue's maxsize in batches, 0 unbounded) for `capacity` items (see above)."""
    if capacity is None:
        return BATCH, 0
    size = max(1, min(BATCH, capacity // (consumers + 2)))
    return size, (capacity - consumers * (size - 1)) // size


def produce_batches(put: Callable, items: list, offsets: list[float] | None, origin: float,
                    stamps: list | None, size: int) -> None:
    """Put every item in batches of up to `size`; paced, put a batch early when the next item is not due."""
    batch: list = []
    if offsets is None:
        for item in items:
            batch.append(item)
            if len(batch) == size:
                put(batch)
                batch = []  # a new list: the queue's feeder thread pickles the one put, later
        if batch:
            put(batch)
        return
    clock, sleep = time.perf_counter, time.sleep
    last = len(offsets) - 1
    for i, (item, offset) in enumerate(zip(items, offsets, strict=True)):
        delay = origin + offset - clock()
        if delay > 0:
            sleep(delay)
        batch.append(item)
        if len(batch) == size or i == last or origin + offsets[i + 1] > clock():
            put(batch)
            stamps.extend([clock()] * len(batch))
            batch = []


def unbatched(get: Callable) -> Callable:
    """A `get` that returns the items of the batches `get` gives, one at a time, then the sentinel."""
    def items():
        while (batch := get()) is not workload.SENTINEL:
            yield from batch
        yield workload.SENTINEL
    return items().__next__


def _worker(role: str, index: int, gate: StartGate, done, results, buffer, task: tuple,
            stamped: bool, stop: workload.Stop, barrier, finished, size: int) -> None:
    """multiprocess's worker with batches of up to `size`: a producer (task: items, offsets) or a consumer
    (task: work, spins), from the gate to `done`."""
    workload.set_timer_slack()  # equal waits: see docs/design.md, "Equal waits"
    origin = gate.wait()
    cpu = time.process_time()
    got, stamps, error = [], [] if stamped else None, None
    try:
        if role == "producer":
            produce_batches(buffer.put, *task, origin, stamps, size)
            if stop.kind == "barrier" and index == 0:
                barrier.wait()  # the others have flushed their batches into the pipe
                buffer.put(workload.SENTINEL)  # one sentinel for all consumers, after every item
                _flush(buffer)
            else:
                _flush(buffer)  # every batch is in the pipe before `done`: sentinels never overtake them
                if stop.kind == "barrier":
                    barrier.wait()
        else:
            get = buffer.get
            if stop.kind == "event":
                get = event_get(partial(buffer.get, True), finished, stop.timeout, queue.Empty)
            consume(unbatched(get), got, *task, stamps)
            if stop.kind == "barrier":
                buffer.put(workload.SENTINEL)  # put it back for the next consumer
                _flush(buffer)
    except BaseException as exc:  # reported to the parent; the verifier fails the run
        if barrier is not None:
            barrier.abort()  # the other producers would wait for this one for ever
        error = repr(exc)
    done.put(time.process_time() - cpu)  # the parent's clock waits for this
    results.put((role, index, got, stamps, error))


def unsupported(scenario: Scenario) -> str | None:
    """Batches over multiprocessing.Queue take every scenario and every stop protocol."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes passing batches."""
    size, maxsize = batching(scenario.capacity, scenario.consumers)
    outcome = run_processes(scenario, lambda ctx: Buffer(ctx, maxsize), partial(_worker, size=size))
    outcome.extras["batch_size"] = size
    return outcome
