"""gevent.queue.Queue between greenlets on gevent's hub, whose waits yield to the hub instead of blocking.

What the `greenlet` design lacks: a hub with an event loop (libev) under the greenlets, so a greenlet that
finds the queue full or empty, or waits for a paced arrival or for its `io` work (`gevent.sleep`), lets
the others run until its wake-up, instead of stalling the thread. Not from the seeds. No monkey-patching:
other designs share the worker process, so nothing of the standard library is touched.

Each run makes its own hub for the running thread and destroys it at the end. Its libev loop waits in
select(), not epoll: libev waits at least a millisecond in epoll, so `gevent.sleep(20e-6)` would last
about 1 ms; in select() it lasts tens of microseconds (the `asyncio` design chooses select() for the same
reason). Every greenlet is spawned before the clock and waits on a gevent Event that opens when it starts.

Capacity: `gevent.queue.Queue(maxsize=capacity)` (None, unbounded, when there is none). A put that finds
the queue full waits holding its item, and enters it only once a get has made room: never more than
capacity items in the queue. The queue's deque (`queue`, as in the standard library's Queue) is a
`Buffer`, so that the harness can count its depth (bench/depth.py).

Stop protocol: the suite's common one, sentinels: a stopper greenlet joins the producers, then puts one
sentinel per consumer; the clock stops when every greenlet has ended. Seed 004's barrier and event
shutdowns are refused, as by the other one-thread designs. A greenlet that raises is reported in
`errors` and kills the others, so nothing waits for it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from variants import workload
from variants.contract import Outcome, Scenario

try:
    import gevent
    import gevent.event
    import gevent.hub
    import gevent.queue
    from gevent._hub_local import get_hub_if_exists  # gevent has no public look without making a hub
except ImportError as exc:  # the design is then n/a, saying why (unsupported)
    gevent, MISSING = None, f"gevent cannot be imported: {exc}"
else:
    MISSING = None

NAME = "gevent"
MODEL = "greenlet"
SUMMARY = "gevent.queue.Queue between greenlets on gevent's hub (maxsize for bounded; no monkey-patching)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # gevent's Queue is a deque, and blocked getters and putters are served in order

Buffer = deque  # the queue's storage: a module name, so the harness can substitute a depth-counting deque
BACKEND = "select"  # the hub's libev backend: microsecond waits (see the module docstring)


def produce(queue, items: list) -> None:
    """Put every item as soon as the queue takes it."""
    put = queue.put
    for item in items:
        put(item)


def produce_paced(queue, items: list, offsets: list[float], timed, stamps: list) -> None:
    """Put each item no earlier than the run's origin + its offset, stamping when each put is done."""
    put, clock, sleep, stamp = queue.put, time.perf_counter, gevent.sleep, stamps.append
    origin = timed.start  # first run past the gate, inside the clock
    for item, offset in zip(items, offsets, strict=True):
        delay = origin + offset - clock()
        if delay > 0:
            sleep(delay)
        put(item)
        stamp(clock())


def consume(queue, record, work: workload.Work, spins: int) -> None:
    """Get items until the sentinel, recording each and doing the scenario's work (a loop per kind)."""
    get, sentinel = queue.get, workload.SENTINEL
    if work.kind == "none":
        while (item := get()) is not sentinel:
            record(item)
    elif work.kind == "cpu":
        spin = workload.spin
        while (item := get()) is not sentinel:
            record(item)
            spin(spins)
    else:
        sleep, seconds = gevent.sleep, work.seconds
        while (item := get()) is not sentinel:
            record(item)
            sleep(seconds)


def stop(queue, producers: list, consumers: int) -> None:
    """The stop protocol: once every producer has finished, one sentinel per consumer."""
    gevent.joinall(producers)
    for _ in range(consumers):
        queue.put(workload.SENTINEL)


def _workers(scenario: Scenario, plan: workload.Plan, received: list[list], takes: list, puts: list,
             timed: workload.TimedRegion, errors: list[str]) -> list:
    """Run the scenario's greenlets on the current hub; return them, all ended."""
    queue = gevent.queue.Queue(scenario.capacity)
    queue.queue = Buffer()  # its storage (a plain deque, as gevent's own), for the harness to count its depth
    gate = gevent.event.Event()  # every greenlet waits on it; set the moment the clock starts
    workers: list = []

    def spawn(name: str, work: Callable, *args) -> gevent.Greenlet:
        def body() -> None:
            gate.wait()
            try:
                work(*args)
            except Exception as exc:  # reported in the Outcome; the verifier fails the run
                errors.append(f"{name}: {exc!r}")
                gevent.killall([w for w in workers if w is not gevent.getcurrent()], block=False)
        worker = gevent.spawn(body)
        workers.append(worker)
        return worker

    for c, (got, stamps) in enumerate(zip(received, takes, strict=True)):
        spawn(f"consumer {c}", consume, queue, workload.recorder(got, stamps), plan.work, plan.spins)
    producers = []
    for p, offsets in enumerate(workload.paced_offsets(plan)):
        if offsets is None:
            producers.append(spawn(f"producer {p}", produce, queue, plan.items[p]))
        else:
            producers.append(spawn(f"producer {p}", produce_paced, queue, plan.items[p], offsets, timed,
                                   puts[p]))
    spawn("stop", stop, queue, producers, scenario.consumers)
    gevent.sleep(0)  # one turn of the hub: every greenlet now waits at the gate
    with timed:
        gate.set()
        gevent.joinall(workers)
    return workers


def unsupported(scenario: Scenario) -> str | None:
    """n/a without gevent; else every scenario with the common stop protocol, as the one-thread designs."""
    return MISSING or workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once on a fresh hub of this thread, destroyed at the end."""
    plan = workload.plan(scenario)
    received = [[] for _ in range(scenario.consumers)]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors: list[str] = []
    previous = get_hub_if_exists()  # None unless something else uses gevent in this thread
    hub = gevent.hub.Hub(BACKEND, default=False)
    gevent.hub.set_hub(hub)
    try:
        timed = workload.TimedRegion()
        workers = _workers(scenario, plan, received, takes, puts, timed, errors)
    finally:
        hub.destroy(destroy_loop=True)
        gevent.hub.set_hub(previous)
    finished = all(worker.dead and worker.successful() for worker in workers)
    extras = {"cpu_s": timed.cpu, "startup_s": timed.startup, "tasks_finished": finished,
              **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
