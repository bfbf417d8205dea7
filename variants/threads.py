"""The thread form of the workload: producer and consumer loops, and one run of P:C threads.

Shared by the designs whose workers are threads (lock_list, two_lock, queue); each gives only its `put`
and `get`. Stop protocol: the main thread joins the producers, then puts one sentinel per consumer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from variants import workload
from variants.contract import Outcome, Scenario

__all__ = ["produce", "consume", "run_threads"]


def produce(put: Callable, items: list, offsets: list[float] | None) -> None:
    """Put every item, each no earlier than its scheduled offset from this producer's start."""
    if offsets is None:
        for item in items:
            put(item)
        return
    clock, sleep = time.perf_counter, time.sleep
    origin = clock()
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            sleep(delay)
        put(item)


def consume(get: Callable, got: list, work: workload.Work, spins: int) -> None:
    """Get items until the sentinel, recording each in `got` and doing the scenario's work on it."""
    append, sentinel = got.append, workload.SENTINEL
    if work.kind == "none":
        while (item := get()) is not sentinel:
            append(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := get()) is not sentinel:
            append(item)
            spin(spins)
    else:
        sleep, seconds = time.sleep, work.seconds
        while (item := get()) is not sentinel:
            append(item)
            sleep(seconds)


def _guarded(target: Callable, errors: list, name: str) -> Callable:
    def worker(*args):
        try:
            target(*args)
        except BaseException as exc:  # reported in the Outcome; the verifier fails the run
            errors.append(f"{name}: {exc!r}")
    return worker


def run_threads(scenario: Scenario, put: Callable, get: Callable) -> Outcome:
    """Run a scenario with P producer and C consumer threads handing over through put/get."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    errors: list[str] = []
    consumers = [
        threading.Thread(target=_guarded(consume, errors, f"consumer {c}"),
                         args=(get, received[c], plan.work, plan.spins), daemon=True)
        for c in range(scenario.consumers)
    ]
    producers = [
        threading.Thread(target=_guarded(produce, errors, f"producer {p}"),
                         args=(put, plan.items[p], plan.offsets[p]), daemon=True)
        for p in range(scenario.producers)
    ]
    with workload.TimedRegion() as timed:
        for thread in consumers + producers:
            thread.start()
        for thread in producers:
            thread.join()
        for _ in consumers:
            put(workload.SENTINEL)
        for thread in consumers:
            thread.join()
    return Outcome(timed.elapsed, received, tuple(errors), {"cpu_s": timed.cpu})
