"""The seeds' own mechanisms: seed 001's multitask coroutines (`coroutine`), seed 003's semaphores and
seed 004's stop protocols. (Both designs are in the registry, so test_designs.py runs its matrix and random
scenarios over them, and test_fairness.py its lower bounds, failure injection and capacity checks.)

- the coroutine scheduler never polls: a parked task is resumed only once its operation has completed;
- a bounded coroutine queue parks producers, and each get wakes exactly one;
- a task that raises ends the run with its error, nothing left parked;
- stamped runs give aligned stamp lists, unstamped runs none;
- the semaphore buffer blocks on its semaphores;
- the barrier stop sends one sentinel that every consumer puts back; the event stop leaves nothing behind.
"""

from __future__ import annotations

import threading
import time

import pytest

from bench.once import run_once
from tests.test_designs import check_run
from variants import coroutine, semaphores, workload
from variants.contract import Scenario

DESIGNS = {"coroutine": coroutine, "semaphores": semaphores}


# --- 2. the coroutine scheduler never polls ---------------------------------------------------------------


def counted(task, log: list, name: str):
    """Pass everything through to `task`, logging (name, value sent) at each resumption."""
    value = None
    while True:
        log.append((name, value))
        try:
            op = task.send(value)
        except StopIteration:
            return
        value = yield op


@pytest.mark.timeout(10)
def test_consumer_on_empty_queue_is_resumed_only_after_a_put(monkeypatch):
    idle: list[float] = []  # the real waits the scheduler asks for when nothing is runnable
    real_sleep = time.sleep

    def recorded_sleep(seconds):
        idle.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recorded_sleep)  # this test runs no threads of its own
    scheduler = coroutine.Scheduler()
    queue = scheduler.queue()
    log: list = []

    def consumer():
        for _ in range(3):
            item = yield queue.get()
            log.append(("took", item))

    def producer():
        for item in ("a", "b", "c"):
            yield coroutine.sleep(0.005)  # the consumer waits 5 ms on an empty queue, three times over
            log.append(("put", item))
            yield queue.put(item)

    scheduler.add(counted(consumer(), log, "consumer"), "consumer")
    scheduler.add(producer(), "producer")
    scheduler.run()

    assert scheduler.finished and scheduler.errors == []
    resumes = [entry for entry in log if entry[0] == "consumer"]
    assert resumes == [("consumer", None), ("consumer", "a"), ("consumer", "b"), ("consumer", "c")]
    assert [entry for entry in log if entry[0] != "consumer"] == [
        ("put", "a"), ("took", "a"), ("put", "b"), ("took", "b"), ("put", "c"), ("took", "c")]
    assert sum(idle) > 0.012  # the three 5 ms waits were spent in real sleeps, not spinning on the clock


@pytest.mark.timeout(20)
def test_consumers_are_resumed_once_per_item_in_a_paced_run(monkeypatch):
    """Through run(): a slow paced producer leaves the consumers waiting between items; no extra resumes."""
    logs: list[list] = []
    original = coroutine.consumer

    def counted_consumer(*args):
        logs.append([])
        return counted(original(*args), logs[-1], "consumer")

    monkeypatch.setattr(coroutine, "consumer", counted_consumer)
    scenario = Scenario(1, 2, 40, capacity=16, arrival="steady:4000")  # an item every 250 us, 10 ms in all
    result = check_run(coroutine, scenario)
    for log, got in zip(logs, result.outcome.received, strict=True):
        assert len(log) == 1 + len(got) + 1  # the start, each item, the sentinel
        assert [value for _, value in log[1:-1]] == got


# --- 3. a bounded coroutine queue parks producers; each get wakes one ---------------------------------------


@pytest.mark.timeout(10)
def test_bounded_queue_parks_putters_and_each_get_wakes_one():
    scheduler = coroutine.Scheduler()
    queue = scheduler.queue(1)
    log: list = []
    seen: list = []

    def producer(item):
        yield queue.put(item)

    def consumer():
        yield coroutine.sleep(0.005)  # the producers run first: one fills the slot, two park
        seen.append((len(queue.items), len(queue.putters)))
        for _ in range(3):
            item = yield queue.get()
            seen.append((item, len(queue.items), len(queue.putters)))

    scheduler.add(consumer(), "consumer")
    for p in range(3):
        scheduler.add(counted(producer(p), log, f"producer {p}"), f"producer {p}")
    scheduler.run()

    assert scheduler.finished
    assert seen == [(1, 2), (0, 1, 1), (1, 1, 0), (2, 0, 0)]
    for p in range(3):  # started, then resumed once: when its put completed, not while parked
        assert [entry for entry in log if entry[0] == f"producer {p}"] == [(f"producer {p}", None)] * 2


def test_queue_repr_shows_depth_and_waiters():
    queue = coroutine.Queue(2)
    queue.items.append(1)
    queue.putters.append((None, 2))
    assert repr(queue) == "<Queue depth=1/2 getters waiting=0 putters waiting=1>"


# --- 4. a task that raises ends the run, nothing left parked ----------------------------------------------


def _watch_scheduler(monkeypatch) -> list:
    made = []

    class Watched(coroutine.Scheduler):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(coroutine, "Scheduler", Watched)
    return made


def _assert_all_closed(scheduler, tasks):
    assert scheduler.live == {} and not scheduler.runnable and not scheduler.timers
    assert all(not q.getters and not q.putters for q in scheduler.queues)
    assert all(task.gi_frame is None for task in tasks), "a task is still suspended"


@pytest.mark.timeout(10)
def test_producer_that_raises_ends_the_run(monkeypatch):
    made, tasks = _watch_scheduler(monkeypatch), []
    original = coroutine.producer

    def producer(queue, items, finish):
        if items[0] != 1:  # producer 1 raises after one put; producer 0 runs as usual
            tasks.append(original(queue, items, finish))
            return tasks[-1]

        def failing():
            yield queue.put(items[0])
            raise RuntimeError("boom")

        tasks.append(failing())
        return tasks[-1]

    monkeypatch.setattr(coroutine, "producer", producer)
    scenario = Scenario(2, 2, 200, capacity=1)
    outcome = coroutine.run(scenario)
    assert outcome.errors == ("producer 1: RuntimeError('boom')",)
    assert outcome.extras["tasks_finished"] is False
    _assert_all_closed(made[0], tasks)

    result = run_once(coroutine, scenario)
    assert result.status == "failed"
    assert result.reason == "a worker raised: producer 1: RuntimeError('boom')"


@pytest.mark.timeout(10)
def test_consumer_that_raises_ends_the_run(monkeypatch):
    made, tasks = _watch_scheduler(monkeypatch), []
    original = coroutine.consumer

    def consumer(queue, record, work, spins):
        if tasks:  # consumers after the first run as usual
            tasks.append(original(queue, record, work, spins))
            return tasks[-1]

        def failing():
            record((yield queue.get()))
            raise ValueError("bad item")

        tasks.append(failing())
        return tasks[-1]

    monkeypatch.setattr(coroutine, "consumer", consumer)
    outcome = coroutine.run(Scenario(3, 2, 300, capacity=2))
    assert outcome.errors == ("consumer 0: ValueError('bad item')",)
    assert outcome.extras["tasks_finished"] is False
    _assert_all_closed(made[0], tasks)


@pytest.mark.timeout(10)
def test_tasks_parked_for_good_are_reported_and_closed(monkeypatch):
    """A consumer that leaves without taking anything: the producers park on the full queue for good."""
    made = _watch_scheduler(monkeypatch)

    def consumer(queue, record, work, spins):
        yield from ()

    monkeypatch.setattr(coroutine, "consumer", consumer)
    outcome = coroutine.run(Scenario(2, 1, 20, capacity=1))
    assert outcome.errors == ("scheduler: parked for good: producer 0, producer 1",)
    assert outcome.extras["tasks_finished"] is False
    _assert_all_closed(made[0], [])


# --- 5. stamps: aligned when stamped, absent otherwise ------------------------------------------------------


def _check_stamps(scenario: Scenario, outcome) -> None:
    extras = outcome.extras
    plan = workload.plan(scenario)
    origin, takes, puts = extras["origin"], extras["take_stamps"], extras["put_stamps"]
    assert [len(s) for s in takes] == [len(got) for got in outcome.received]
    assert [len(s) for s in puts] == [len(items) for items in plan.items]
    for stamps in takes + puts:
        assert all(origin <= a <= b for a, b in zip(stamps, stamps[1:] + [float("inf")], strict=True))
    if plan.offsets[0] is not None:  # paced: nothing is put, nor taken, before it is due
        due = {item: origin + offset for items, offsets in zip(plan.items, plan.offsets, strict=True)
               for item, offset in zip(items, offsets, strict=True)}
        for items, stamps in zip(plan.items, puts, strict=True):
            assert all(stamp >= due[item] for item, stamp in zip(items, stamps, strict=True))
        for got, stamps in zip(outcome.received, takes, strict=True):
            assert all(stamp >= due[item] for item, stamp in zip(got, stamps, strict=True))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_forced_stamps_are_aligned(name):
    scenario = Scenario(2, 3, 300, capacity=2, work="cpu:20us")
    workload.force_stamps(True)
    try:
        result = check_run(DESIGNS[name], scenario)
    finally:
        workload.force_stamps(False)
    _check_stamps(scenario, result.outcome)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_paced_runs_are_stamped_and_never_early(name):
    scenario = Scenario(3, 2, 150, capacity=4, arrival="steady:20000", work="io:200us")
    _check_stamps(scenario, check_run(DESIGNS[name], scenario).outcome)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_flat_runs_record_no_stamps(name):
    extras = check_run(DESIGNS[name], Scenario(2, 2, 200, capacity=16)).outcome.extras
    assert not {"origin", "take_stamps", "put_stamps"} & extras.keys()
    assert extras["cpu_s"] >= 0 and extras["startup_s"] >= 0


# --- 7. the semaphore buffer blocks on its semaphores -------------------------------------------------------


def _wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.mark.timeout(10)
def test_semaphore_buffer_blocks_a_put_when_full_and_a_get_when_empty():
    buffer = semaphores.BoundedBuffer(1)
    buffer.put("a")
    putter = threading.Thread(target=buffer.put, args=("b",), daemon=True)
    putter.start()
    assert _wait_until(lambda: "putters waiting=1" in repr(buffer)), repr(buffer)
    assert putter.is_alive()
    assert buffer.get() == "a"
    putter.join(5)
    assert not putter.is_alive()
    assert buffer.get() == "b"

    got = []
    getter = threading.Thread(target=lambda: got.append(buffer.get()), daemon=True)
    getter.start()
    assert _wait_until(lambda: "getters waiting=1" in repr(buffer)), repr(buffer)
    assert got == []
    buffer.put("c")
    getter.join(5)
    assert got == ["c"]
    assert repr(buffer) == ("<BoundedBuffer depth=0/1 filled=0 free=1 getters waiting=0"
                            " putters waiting=0>")


def test_unbounded_semaphore_buffer_has_no_free_slot_semaphore():
    buffer = semaphores.UnboundedBuffer()
    for item in range(1000):
        buffer.put(item)
    assert not hasattr(buffer, "_free")
    assert repr(buffer) == "<UnboundedBuffer depth=1000 filled=1000 getters waiting=0>"
    assert [buffer.get() for _ in range(1000)] == list(range(1000))


# --- seed 004's stop protocols ------------------------------------------------------------------------


def test_event_get_looks_at_the_event_before_the_take():
    """An item put after a take timed out but before the event was set is still taken, not left behind."""
    import queue as queue_module
    import threading

    from variants.threads import event_get

    finished, late = threading.Event(), []
    calls = []

    def get_timeout(seconds):
        calls.append(seconds)
        if len(calls) == 1:  # this take times out; meanwhile the last item is put and the event set
            late.append("last item")
            finished.set()
            raise queue_module.Empty
        if late:
            return late.pop()
        raise queue_module.Empty

    get = event_get(get_timeout, finished, 0.01, queue_module.Empty)
    assert get() == "last item"
    assert get() is workload.SENTINEL
    assert calls == [0.01, 0.01, 0.01]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("design_name", ["queue", "multiprocess"])
def test_the_event_stop_leaves_no_item_behind_when_a_producer_is_slow(design_name):
    from variants import REGISTRY

    # consumers poll every 1 ms while the producers trickle items in, 2 ms apart
    scenario = Scenario(2, 3, 60, capacity=4, arrival="steady:500", stop="event:1ms")
    result = run_once(REGISTRY[design_name], scenario)
    assert result.ok, result.reason
    assert sorted(workload.item_id(i) for got in result.outcome.received for i in got) == list(range(60))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("consumers", [1, 5])
def test_the_barrier_stop_sends_one_sentinel_that_every_consumer_puts_back(consumers, monkeypatch):
    import queue as queue_module

    from variants import queue as queue_design

    sentinels = []

    class Counting(queue_module.Queue):
        def put(self, item, block=True, timeout=None):
            if item is workload.SENTINEL:
                sentinels.append(item)
            super().put(item, block, timeout)

    monkeypatch.setattr(queue_design, "Buffer", Counting)
    result = run_once(queue_design, Scenario(3, consumers, 300, capacity=4, stop="barrier"))
    assert result.ok, result.reason
    assert len(sentinels) == 1 + consumers  # producer 0's one, and each consumer's put-back
