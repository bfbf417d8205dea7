"""asyncio.Queue between tasks on one event loop, unbounded or bounded with maxsize.

The event loop replaces the hand-made schedulers of the generator and greenlet designs: a task that finds
the queue empty (or full) waits on a future the queue resolves, instead of polling. Paced arrivals and
`io` work are `await asyncio.sleep`, on a select()-based loop for microsecond timers (see _loop). The loop
and every task are made before the clock; the tasks wait on an asyncio.Event that opens when it starts.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable

from variants import workload
from variants.contract import Outcome, Scenario

NAME = "asyncio"
MODEL = "asyncio"
SUMMARY = "asyncio.Queue between tasks on one event loop (maxsize for bounded)"
SEED = "000, 004"
FIFO = True  # asyncio.Queue is a FIFO

Buffer = asyncio.Queue  # a module name, so a test can substitute an instrumented subclass


async def produce(queue: asyncio.Queue, items: list) -> None:
    """Put every item as soon as the queue takes it."""
    put = queue.put
    for item in items:
        await put(item)


async def produce_paced(queue: asyncio.Queue, items: list, offsets: list[float], timed, stamps: list) -> None:
    """Put each item no earlier than the run's origin + its offset, stamping when each put is done."""
    put, clock, sleep, stamp = queue.put, time.perf_counter, asyncio.sleep, stamps.append
    origin = timed.start  # first run past the gate, inside the clock
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            await sleep(delay)
        await put(item)
        stamp(clock())


async def consume(queue: asyncio.Queue, record, work: workload.Work, spins: int) -> None:
    """Get items until the sentinel, recording each and doing the scenario's work (a loop per kind)."""
    get, sentinel = queue.get, workload.SENTINEL
    if work.kind == "none":
        while (item := await get()) is not sentinel:
            record(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := await get()) is not sentinel:
            record(item)
            spin(spins)
    else:
        sleep, seconds = asyncio.sleep, work.seconds
        while (item := await get()) is not sentinel:
            record(item)
            await sleep(seconds)


async def _gated(gate: asyncio.Event, work, *args) -> None:
    await gate.wait()
    await work(*args)


async def _main(scenario: Scenario, plan: workload.Plan, received: list[list], takes: list, puts: list,
                timed: workload.TimedRegion, buffer: type[asyncio.Queue]) -> list[asyncio.Task]:
    queue = buffer(maxsize=scenario.capacity or 0)
    gate = asyncio.Event()  # every task waits on it; set the moment the clock starts
    consumers = [asyncio.create_task(_gated(gate, consume, queue, workload.recorder(got, stamps),
                                            plan.work, plan.spins))
                 for got, stamps in zip(received, takes, strict=True)]
    producers = []
    for p, offsets in enumerate(workload.paced_offsets(plan)):
        if offsets is None:
            producers.append(asyncio.create_task(_gated(gate, produce, queue, plan.items[p])))
        else:
            producers.append(asyncio.create_task(
                _gated(gate, produce_paced, queue, plan.items[p], offsets, timed, puts[p])))
    await asyncio.sleep(0)  # one turn of the loop: every task is now waiting at the gate
    with timed:
        gate.set()
        await asyncio.gather(*producers)
        for _ in consumers:  # stop protocol: producers done, one sentinel per consumer
            await queue.put(workload.SENTINEL)
        await asyncio.gather(*consumers)
    return consumers + producers


def _loop() -> asyncio.AbstractEventLoop:
    # The default loop on Linux waits in epoll, whose timeout is whole milliseconds (selectors.py rounds
    # up): `await asyncio.sleep(200e-6)` takes over 1 ms, so sub-millisecond io work and arrival gaps
    # would measure the selector's granularity, not the design. select() takes microseconds; with the
    # loop's one self-pipe to watch it costs no more than epoll here.
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


def unsupported(scenario: Scenario) -> str | None:
    """Every scenario with the suite's common stop protocol; seed 004's shutdowns are for threads."""
    return workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once on a fresh event loop."""
    return run_on(scenario, _loop, Buffer)


def run_on(scenario: Scenario, loop_factory: Callable[[], asyncio.AbstractEventLoop],
           buffer: type[asyncio.Queue]) -> Outcome:
    """Run the scenario once on a fresh loop from `loop_factory`, through a `buffer` queue.

    The hook of designs that are this one on another event loop (variants/uvloop.py).
    """
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        timed = workload.TimedRegion()
        tasks = runner.run(_main(scenario, plan, received, takes, puts, timed, buffer))
        finished = all(task.done() and not task.cancelled() for task in tasks) and not asyncio.all_tasks(
            runner.get_loop())
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": finished,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, extras=extras)
