"""The thread form of the workload: start gate, producer and consumer loops, and one run of P:C threads.

Shared by the designs whose workers are threads (lock_list, two_lock, queue, semaphores); each gives only
its `put` and `get` (and `get_timeout` for the event stop). The multiprocess design runs the same loops in
processes. Workers are started before the clock and wait at a StartGate; the clock starts when the gate
opens. Stop protocols (workload.parse_stop), all inside the clock: `sentinels`, the main thread joins the
producers, then puts one sentinel per consumer, then joins the consumers; `barrier` (seed 004), producers
meet at a Barrier, producer 0 puts one sentinel and every consumer that takes it puts it back; `event`
(seed 004), the main thread sets an Event once every producer has finished and consumers take with a
timeout until a take that began after the event found nothing (event_get).

Each worker picks its loop once (flat or paced producer; consumer by work kind), so nothing is decided per
item. In stamped runs (paced arrivals) each take and each put is stamped with perf_counter(), one call
beside the hand-off; flat runs record nothing per item.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from variants import workload
from variants.contract import Outcome, Scenario

__all__ = ["StartGate", "produce", "consume", "event_get", "run_threads"]


class StartGate:
    """Start-up outside the clock: workers check in, then wait for the clock to start and read its origin.

    `sync` is the threading module or a multiprocessing context (anything with Barrier, Event, Value).
    """

    def __init__(self, workers: int, sync=threading) -> None:
        self._ready = sync.Barrier(workers + 1)  # every worker and the starter: passed when all are up
        self._go = sync.Event()  # set by the starter the moment the clock starts; workers wait on it
        # the run's origin (perf_counter), written before _go is set, read by workers after it
        self._origin = sync.Value("d", 0.0, lock=False) if hasattr(sync, "Value") else _Box()

    def wait(self) -> float:
        """Worker side: check in, wait until the clock starts, return the run's origin."""
        self._ready.wait()
        self._go.wait()
        return self._origin.value

    def ready(self) -> None:
        """Starter side: wait until every worker has checked in (the end of start-up)."""
        self._ready.wait()

    def open(self, origin: float) -> None:
        """Starter side, first thing inside the clock: release every worker at once."""
        self._origin.value = origin
        self._go.set()

    def __repr__(self) -> str:
        return f"<StartGate waiting={self._ready.n_waiting} open={self._go.is_set()}>"


class _Box:
    value = 0.0


def produce(put: Callable, items: list, offsets: list[float] | None, origin: float,
            stamps: list | None) -> None:
    """Put every item; paced (offsets given): each no earlier than origin + its offset, stamped."""
    if offsets is None:
        for item in items:
            put(item)
        return
    clock, sleep, stamp = time.perf_counter, time.sleep, stamps.append
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            sleep(delay)
        put(item)
        stamp(clock())


def consume(get: Callable, got: list, work: workload.Work, spins: int, stamps: list | None) -> None:
    """Get items until the sentinel, recording each (see recorder) and doing the scenario's work on it."""
    record, sentinel = workload.recorder(got, stamps), workload.SENTINEL
    if work.kind == "none":
        while (item := get()) is not sentinel:
            record(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := get()) is not sentinel:
            record(item)
            spin(spins)
    else:
        sleep, seconds = time.sleep, work.seconds
        while (item := get()) is not sentinel:
            record(item)
            sleep(seconds)


def event_get(get_timeout: Callable, event, timeout: float, empty: type[Exception]) -> Callable:
    """A `get` for the event stop protocol: the sentinel once the event was set before a take that found
    the buffer empty. Looking at the event before the take, not after, is what keeps an item put just
    before the last producer finished from being left behind."""
    def get():
        while True:
            done = event.is_set()
            try:
                return get_timeout(timeout)
            except empty:
                if done:
                    return workload.SENTINEL
    return get


def _worker(gate: StartGate, errors: list, name: str, body: Callable[[float], None]) -> None:
    origin = gate.wait()
    try:
        body(origin)
    except BaseException as exc:  # reported in the Outcome; the verifier fails the run
        errors.append(f"{name}: {exc!r}")


def run_threads(scenario: Scenario, put: Callable, get: Callable, get_timeout: Callable | None = None,
                empty: type[Exception] = Exception) -> Outcome:
    """Run a scenario with P producer and C consumer threads handing over through put/get.

    `get_timeout(seconds)` (raising `empty` when nothing came) is needed for the event stop protocol only.
    """
    plan = workload.plan(scenario)
    stop = workload.parse_stop(scenario.stop)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors: list[str] = []
    timed = workload.TimedRegion()
    gate = StartGate(scenario.consumers + scenario.producers)
    barrier = threading.Barrier(scenario.producers)  # barrier stop: producers wait here for each other
    finished = threading.Event()  # event stop: set by the main thread when every producer has finished
    take = event_get(get_timeout, finished, stop.timeout, empty) if stop.kind == "event" else get

    def consumer(c: int) -> Callable[[float], None]:
        def body(origin: float) -> None:
            consume(take, received[c], plan.work, plan.spins, takes[c])
            if stop.kind == "barrier":
                put(workload.SENTINEL)  # put it back for the next consumer
        return body

    def producer(p: int, offsets: list[float] | None) -> Callable[[float], None]:
        def body(origin: float) -> None:
            try:
                produce(put, plan.items[p], offsets, origin, puts[p])
            except BaseException:
                barrier.abort()  # the others would wait for this producer for ever
                raise
            if stop.kind == "barrier":
                barrier.wait()
                if p == 0:  # every producer is done: one sentinel for all consumers
                    put(workload.SENTINEL)
        return body

    consumers = [threading.Thread(target=_worker, args=(gate, errors, f"consumer {c}", consumer(c)),
                                  daemon=True) for c in range(scenario.consumers)]
    producers = [threading.Thread(target=_worker, args=(gate, errors, f"producer {p}", producer(p, offsets)),
                                  daemon=True) for p, offsets in enumerate(workload.paced_offsets(plan))]
    for thread in consumers + producers:
        thread.start()
    gate.ready()
    with timed:
        gate.open(timed.start)
        for thread in producers:
            thread.join()
        if stop.kind == "sentinels":
            for _ in consumers:
                put(workload.SENTINEL)
        elif stop.kind == "event":
            finished.set()
        for thread in consumers:
            thread.join()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
