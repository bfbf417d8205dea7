"""multiprocessing.Queue between producer and consumer processes (maxsize for bounded).

Each worker is a process running the same loops as the thread designs (variants.threads). A consumer that
receives its sentinel reports `done` on a pipe; the parent stops the clock when every consumer has done
so, and only then collects the received lists (their transfer is outside the timed region). Process
start-up is inside it, as thread start-up is for the thread designs; the start method is recorded.
"""

from __future__ import annotations

import multiprocessing
import time

from variants import workload
from variants.contract import Outcome, Scenario
from variants.threads import consume, produce

NAME = "multiprocess"
MODEL = "process"
SUMMARY = "multiprocessing.Queue between processes (maxsize for bounded)"
SEED = "004"
FIFO = True  # one pipe behind the queue: each producer's items arrive in the order it put them


def Buffer(ctx, maxsize: int):  # noqa: N802 - a factory named like the other designs' Buffer
    """The queue between the processes (a module name, so a test can watch it)."""
    return ctx.Queue(maxsize)


def _producer(buffer, items: list, offsets: list[float] | None) -> None:
    produce(buffer.put, items, offsets)


def _consumer(index: int, buffer, done, results, work: workload.Work, spins: int) -> None:
    got: list = []
    error = None
    try:
        consume(buffer.get, got, work, spins)
    except BaseException as exc:  # reported to the parent; the verifier fails the run
        error = f"consumer {index}: {exc!r}"
    done.put(time.process_time())  # the parent's clock stops when every consumer has said this
    results.put((index, got, error))


def unsupported(scenario: Scenario) -> str | None:
    """multiprocessing.Queue takes every scenario."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes."""
    plan = workload.plan(scenario)
    ctx = multiprocessing.get_context()
    buffer = Buffer(ctx, scenario.capacity or 0)
    done, results = ctx.SimpleQueue(), ctx.SimpleQueue()
    consumers = [ctx.Process(target=_consumer, args=(c, buffer, done, results, plan.work, plan.spins),
                             daemon=True) for c in range(scenario.consumers)]
    producers = [ctx.Process(target=_producer, args=(buffer, items, offsets), daemon=True)
                 for items, offsets in zip(plan.items, plan.offsets, strict=True)]
    with workload.TimedRegion() as timed:
        for process in consumers + producers:
            process.start()
        for process in producers:
            process.join()  # joined: their CPU time counts in timed.cpu
        for _ in consumers:
            buffer.put(workload.SENTINEL)
        consumer_cpu = sum(done.get() for _ in consumers)  # not joined yet: they report their own

    received: list[list] = [[] for _ in consumers]
    errors = [f"producer {p}: exit code {process.exitcode}"
              for p, process in enumerate(producers) if process.exitcode != 0]
    for _ in consumers:
        index, got, error = results.get()
        received[index] = got
        if error:
            errors.append(error)
    for process in consumers:
        process.join()
    buffer.close()
    buffer.join_thread()
    for queue in (done, results):
        queue.close()
    extras = {"cpu_s": timed.cpu + consumer_cpu, "start_method": ctx.get_start_method()}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
