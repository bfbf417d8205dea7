"""The thread form of the workload: start gate, producer and consumer loops, and one run of P:C threads.

Shared by the designs whose workers are threads (lock_list, two_lock, queue, semaphores); each gives only
its `put` and `get`. The multiprocess design runs the same loops in processes. Workers are started before
the clock and wait at a StartGate; the clock starts when the gate opens. Stop protocol: the main thread
joins the producers, then puts one sentinel per consumer, then joins the consumers: all inside the clock.

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

__all__ = ["StartGate", "produce", "consume", "run_threads"]


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


def _worker(gate: StartGate, errors: list, name: str, body: Callable[[float], None]) -> None:
    origin = gate.wait()
    try:
        body(origin)
    except BaseException as exc:  # reported in the Outcome; the verifier fails the run
        errors.append(f"{name}: {exc!r}")


def run_threads(scenario: Scenario, put: Callable, get: Callable) -> Outcome:
    """Run a scenario with P producer and C consumer threads handing over through put/get."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors: list[str] = []
    timed = workload.TimedRegion()
    gate = StartGate(scenario.consumers + scenario.producers)
    def consumer(c: int) -> Callable[[float], None]:
        return lambda origin: consume(get, received[c], plan.work, plan.spins, takes[c])

    def producer(p: int, offsets: list[float] | None) -> Callable[[float], None]:
        return lambda origin: produce(put, plan.items[p], offsets, origin, puts[p])

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
        for _ in consumers:
            put(workload.SENTINEL)
        for thread in consumers:
            thread.join()
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
