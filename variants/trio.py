"""trio memory channels between tasks in one nursery, under trio.run on one thread.

Producers `await send.send(item)` and consumers `await receive.receive()` on one channel from
`trio.open_memory_channel(max_buffer_size)`, every task started in one nursery before the clock and
waiting on a trio.Event that opens when it starts. Paced arrivals and `io` work are `await trio.sleep`.
Not from the seeds. MODEL is `asyncio`, the nearest of the suite's models: every task runs on one thread,
scheduled by an event loop that waits in the kernel (epoll) when no task is ready, not by polling.

Capacity: `max_buffer_size` = capacity (math.inf when unbounded). A send waits while the buffer holds
that many; a send that finds a receiver waiting hands the item straight to it (the receive has then
returned) and does not enter the buffer. So the buffer never holds more than capacity; the stamps can
read one more per consumer (an item handed over, its take not yet stamped), as bench/latency.py allows.
The buffer's deepest is trio's own count, `send.statistics().peak_buffer_used`. A deque that counts its
appends (bench/depth.py) would read one too many: a receive that frees a slot for a blocked send appends
that send's item before it pops its own, within one step no other task can see.

Stop protocol: the suite's common one, sentinels. When every producer task has finished, the main task
sends one sentinel per consumer, then waits for every consumer task to end; all in the clock. (trio's
own way, closing the send channel, would end the consumers with EndOfChannel; sentinels keep every
design's stop alike.) Seed 004's barrier and event shutdowns are refused, as by the other one-thread
designs. A worker that raises is reported in `errors` and cancels the nursery, so nothing waits for it.

trio's only I/O wait on Linux is epoll, whose timeout is whole milliseconds (rounded up): `trio.sleep(20e-6)`
would last about 1 ms. So the run's clock (`_Clock`, trio's Clock interface on perf_counter(), as trio's
own) lets trio sleep only the whole milliseconds to the next deadline and poll through the rest: every
wait ends on time, as in the generator design, at the price of a busy core for the last fraction of a
millisecond (the CPU chart shows it). Runs without timers never reach that code.
"""

from __future__ import annotations

import math
import time

from variants import workload
from variants.contract import Outcome, Scenario

try:
    import trio
    import trio.testing  # wait_all_tasks_blocked: the start gate's "every task is waiting"
except ImportError as exc:  # the design is then n/a, saying why (unsupported)
    trio, MISSING = None, f"trio cannot be imported: {exc}"
else:
    MISSING = None

NAME = "trio"
MODEL = "asyncio"
SUMMARY = "trio memory channel between tasks in one nursery (max_buffer_size for bounded)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # a memory channel's buffer is a deque, and waiting receivers are woken in order

# the channel factory: a module name, so the harness can substitute one that keeps the channels it made
Buffer = None if trio is None else trio.open_memory_channel


class _Clock:
    """trio's Clock interface: perf_counter() time, sleeps cut to whole milliseconds (see the docstring)."""

    def start_clock(self) -> None:
        """Nothing to start: perf_counter() runs on its own."""

    def current_time(self) -> float:
        return time.perf_counter()

    def deadline_to_sleep_time(self, deadline: float) -> float:
        left = deadline - time.perf_counter()  # inf when no task has a deadline
        return int(left * 1000) / 1000 if left < math.inf else left  # epoll would round a fraction up


async def produce(send, items: list) -> None:
    """Send every item as soon as the channel takes it."""
    put = send.send
    for item in items:
        await put(item)


async def produce_paced(send, items: list, offsets: list[float], timed, stamps: list) -> None:
    """Send each item no earlier than the run's origin + its offset, stamping when each send is done."""
    put, clock, sleep, stamp = send.send, time.perf_counter, trio.sleep, stamps.append
    origin = timed.start  # first run past the gate, inside the clock
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            await sleep(delay)
        await put(item)
        stamp(clock())


async def consume(receive, record, work: workload.Work, spins: int) -> None:
    """Receive items until the sentinel, recording each and doing the scenario's work (a loop per kind)."""
    get, sentinel = receive.receive, workload.SENTINEL
    if work.kind == "none":
        while (item := await get()) is not sentinel:
            record(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := await get()) is not sentinel:
            record(item)
            spin(spins)
    else:
        sleep, seconds = trio.sleep, work.seconds
        while (item := await get()) is not sentinel:
            record(item)
            await sleep(seconds)


class _Group:
    """Workers of one kind: counts those still running and opens `done` when the last one has ended."""

    def __init__(self, count: int) -> None:
        self.running = count
        self.done = trio.Event()

    def __repr__(self) -> str:
        return f"<_Group running={self.running} done={self.done.is_set()}>"


async def _main(scenario: Scenario, plan: workload.Plan, received: list[list], takes: list, puts: list,
                timed: workload.TimedRegion, errors: list[str]) -> tuple[_Group, _Group]:
    send, receive = Buffer(scenario.capacity or math.inf)
    gate = trio.Event()  # every task waits on it; set the moment the clock starts
    producing, consuming = _Group(scenario.producers), _Group(scenario.consumers)

    async with trio.open_nursery() as nursery:
        async def worker(name: str, group: _Group, work, *args) -> None:
            await gate.wait()
            try:
                await work(*args)
            except Exception as exc:  # reported in the Outcome; the verifier fails the run
                errors.append(f"{name}: {exc!r}")
                nursery.cancel_scope.cancel()  # nobody waits for a worker that died
                return
            group.running -= 1
            if not group.running:
                group.done.set()

        for c, (got, stamps) in enumerate(zip(received, takes, strict=True)):
            nursery.start_soon(worker, f"consumer {c}", consuming, consume, receive,
                               workload.recorder(got, stamps), plan.work, plan.spins)
        for p, offsets in enumerate(workload.paced_offsets(plan)):
            if offsets is None:
                nursery.start_soon(worker, f"producer {p}", producing, produce, send, plan.items[p])
            else:
                nursery.start_soon(worker, f"producer {p}", producing, produce_paced, send, plan.items[p],
                                   offsets, timed, puts[p])
        await trio.testing.wait_all_tasks_blocked()  # every task now waits at the gate
        with timed:
            gate.set()
            await producing.done.wait()
            for _ in range(scenario.consumers):  # stop protocol: producers done, one sentinel per consumer
                await send.send(workload.SENTINEL)
            await consuming.done.wait()
    return producing, consuming


def unsupported(scenario: Scenario) -> str | None:
    """n/a without trio; else every scenario with the common stop protocol, as the one-thread designs."""
    return MISSING or workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once under a fresh trio.run."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors: list[str] = []
    timed = workload.TimedRegion()
    producing, consuming = trio.run(_main, scenario, plan, received, takes, puts, timed, errors,
                                    clock=_Clock())
    finished = producing.done.is_set() and consuming.done.is_set()  # every task ran to its end
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": finished,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
