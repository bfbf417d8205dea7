"""asyncio.Queue between tasks on one event loop, unbounded or bounded with maxsize.

The event loop replaces the hand-made schedulers of the generator and greenlet designs: a task that finds
the queue empty (or full) waits on a future the queue resolves, instead of polling. Paced arrivals and
`io` work are `await asyncio.sleep`, on a select()-based loop for microsecond timers (see _loop). The loop
is built before the clock starts; tasks start inside it.
"""

from __future__ import annotations

import asyncio
import selectors
import time

from variants import workload
from variants.contract import Outcome, Scenario

NAME = "asyncio"
MODEL = "asyncio"
SUMMARY = "asyncio.Queue between tasks on one event loop (maxsize for bounded)"
SEED = "000, 004"
FIFO = True  # asyncio.Queue is a FIFO

Buffer = asyncio.Queue  # a module name, so a test can substitute an instrumented subclass


async def produce(queue: asyncio.Queue, items: list, offsets: list[float] | None) -> None:
    """Put every item, each no earlier than its scheduled offset from this task's start."""
    put = queue.put
    if offsets is None:
        for item in items:
            await put(item)
        return
    origin = time.perf_counter()
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await put(item)


async def consume(queue: asyncio.Queue, got: list, work: workload.Work, spins: int) -> None:
    """Get items until the sentinel, recording each in `got` and doing the scenario's work on it."""
    get, append, sentinel = queue.get, got.append, workload.SENTINEL
    cpu, io = work.kind == "cpu", work.kind == "io"  # decided once, not per item
    while (item := await get()) is not sentinel:
        append(item)
        if cpu:
            workload.spin(spins)
        elif io:
            await asyncio.sleep(work.seconds)


async def _main(scenario: Scenario, plan: workload.Plan, received: list[list]) -> workload.TimedRegion:
    with workload.TimedRegion() as timed:
        queue = Buffer(maxsize=scenario.capacity or 0)
        consumers = [asyncio.create_task(consume(queue, got, plan.work, plan.spins)) for got in received]
        producers = [asyncio.create_task(produce(queue, items, offsets))
                     for items, offsets in zip(plan.items, plan.offsets, strict=True)]
        await asyncio.gather(*producers)
        for _ in consumers:  # stop protocol: producers done, one sentinel per consumer
            await queue.put(workload.SENTINEL)
        await asyncio.gather(*consumers)
    return timed


def _loop() -> asyncio.AbstractEventLoop:
    # The default loop on Linux waits in epoll, whose timeout is whole milliseconds (selectors.py rounds
    # up): `await asyncio.sleep(200e-6)` takes over 1 ms, so sub-millisecond io work and arrival gaps
    # would measure the selector's granularity, not the design. select() takes microseconds; with the
    # loop's one self-pipe to watch it costs no more than epoll here.
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


def unsupported(scenario: Scenario) -> str | None:
    """asyncio.Queue takes every scenario."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once on a fresh event loop."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    with asyncio.Runner(loop_factory=_loop) as runner:
        timed = runner.run(_main(scenario, plan, received))
    return Outcome(timed.elapsed, received, extras={"cpu_s": timed.cpu})
