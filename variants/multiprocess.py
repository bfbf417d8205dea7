"""multiprocessing.Queue between producer and consumer processes (maxsize for bounded).

Each worker is a process running the same loops as the thread designs (variants.threads). Every process
is started before the clock and waits at a StartGate, so fork (or spawn, with the items pickled) is timed
as start-up, not as hand-off. Inside the clock: a producer puts its items, flushes its queue's feeder
thread and says `done`; when every producer has, the parent puts one sentinel per consumer (or, with the
event stop, sets the Event; with the barrier stop the producers meet at a Barrier and producer 0 puts the
one sentinel that consumers put back); a consumer that stops says `done`; the clock stops when every
consumer has. The received lists, stamps
and errors travel back after the clock; every process is joined before run() returns. Each worker reports
its own CPU seconds from the gate to `done`.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from functools import partial

from variants import workload
from variants.contract import Outcome, Scenario
from variants.threads import StartGate, consume, event_get, produce

NAME = "multiprocess"
MODEL = "process"
SUMMARY = "multiprocessing.Queue between processes (maxsize for bounded)"
SEED = "004"
FIFO = True  # one pipe behind the queue: each producer's items arrive in the order it put them


def Buffer(ctx, maxsize: int):  # noqa: N802 - a factory named like the other designs' Buffer
    """The queue between the processes (a module name, so the harness can watch it)."""
    return ctx.Queue(maxsize)


def _worker(role: str, index: int, gate: StartGate, done, results, buffer, task: tuple,
            stamped: bool, stop: workload.Stop, barrier, finished) -> None:
    """One producer (task: items, offsets) or consumer (task: work, spins), from the gate to `done`."""
    workload.set_timer_slack()  # equal waits: see docs/design.md, "Equal waits"
    origin = gate.wait()
    cpu = time.process_time()
    got, stamps, error = [], [] if stamped else None, None
    try:
        if role == "producer":
            produce(buffer.put, *task, origin, stamps)
            if stop.kind == "barrier" and index == 0:
                barrier.wait()  # the others have flushed their items into the pipe
                buffer.put(workload.SENTINEL)  # one sentinel for all consumers, after every item
                _flush(buffer)
            else:
                _flush(buffer)  # every item is in the pipe before `done`: sentinels never overtake them
                if stop.kind == "barrier":
                    barrier.wait()
        else:
            get = buffer.get
            if stop.kind == "event":
                get = event_get(partial(buffer.get, True), finished, stop.timeout, queue.Empty)
            consume(get, got, *task, stamps)
            if stop.kind == "barrier":
                buffer.put(workload.SENTINEL)  # put it back for the next consumer
                _flush(buffer)
    except BaseException as exc:  # reported to the parent; the verifier fails the run
        if barrier is not None:
            barrier.abort()  # the other producers would wait for this one for ever
        error = repr(exc)
    done.put(time.process_time() - cpu)  # the parent's clock waits for this
    results.put((role, index, got, stamps, error))


def _flush(buffer) -> None:
    """Wait until this process's puts are in the pipe (multiprocessing.Queue feeds it from a thread)."""
    buffer.close()
    buffer.join_thread()


def unsupported(scenario: Scenario) -> str | None:
    """multiprocessing.Queue takes every scenario and every stop protocol."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes."""
    return run_processes(scenario, lambda ctx: Buffer(ctx, scenario.capacity or 0))


# --- the run around any buffer: shared with the other between-process designs (faster_fifo, zmq) ---------


def run_processes(scenario: Scenario, make_buffer: Callable, worker: Callable = _worker,
                  parent_sentinels: bool = True) -> Outcome:
    """Run the scenario once with P producer and C consumer processes, each running `worker`.

    `make_buffer(ctx)` makes, before the clock, what every worker is given as its buffer: an object with
    put, get, close and join_thread as multiprocessing.Queue has them (the parent closes it once every worker
    is joined). `worker` has _worker's signature. `parent_sentinels`: the parent puts the common protocol's
    sentinels (False: the workers carry that stop themselves, as zmq's producers do).
    """
    plan = workload.plan(scenario)
    ctx = multiprocessing.get_context()
    timed = workload.TimedRegion()
    buffer = make_buffer(ctx)
    done, results = ctx.SimpleQueue(), ctx.SimpleQueue()
    gate = StartGate(scenario.producers + scenario.consumers, ctx)
    stop = workload.parse_stop(scenario.stop)
    barrier = ctx.Barrier(scenario.producers) if stop.kind == "barrier" else None  # producers meet here
    finished = ctx.Event()  # event stop: set by the parent when every producer has said `done`
    common = (gate, done, results, buffer)
    consumers = [ctx.Process(target=worker, daemon=True, name=f"consumer {c}", args=(
        "consumer", c, *common, (plan.work, plan.spins), plan.stamped, stop, barrier, finished))
        for c in range(scenario.consumers)]
    producers = [ctx.Process(target=worker, daemon=True, name=f"producer {p}", args=(
        "producer", p, *common, (plan.items[p], offsets), plan.stamped, stop, barrier, finished))
        for p, offsets in enumerate(workload.paced_offsets(plan))]
    for process in consumers + producers:
        process.start()
    gate.ready()
    with timed:
        gate.open(timed.start)
        worker_cpu = sum(done.get() for _ in producers)
        if stop.kind == "sentinels" and parent_sentinels:
            for _ in consumers:
                buffer.put(workload.SENTINEL)
        elif stop.kind == "event":
            finished.set()
        worker_cpu += sum(done.get() for _ in consumers)

    received: list[list] = [[] for _ in consumers]
    takes, puts = workload.stamp_lists(plan, scenario.consumers)
    errors = []
    for _ in consumers + producers:
        role, index, got, stamps, error = results.get()
        if role == "consumer":
            received[index], takes[index] = got, stamps
        else:
            puts[index] = stamps
        if error:
            errors.append(f"{role} {index}: {error}")
    for process in consumers + producers:
        process.join()
    buffer.close()
    buffer.join_thread()
    for pipe in (done, results):
        pipe.close()
    extras = {"cpu_s": timed.cpu + worker_cpu, "startup_s": timed.startup,
              "start_method": ctx.get_start_method(), **workload.stamp_extras(plan, timed.start, takes, puts)}
    return Outcome(timed.elapsed, received, tuple(errors), extras)
