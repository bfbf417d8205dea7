"""`python -m bench verify MODULE`: the checks a design must pass before its figures mean anything.

The battery the suite's own designs pass in tests/ (test_designs, test_fairness, test_safety_net), packed
for a user's design (docs/your-design.md). Each check runs the design in this process, through the same
watched, verified run as every benchmark (bench/once.py), and gives one line: ok, FAIL with why, or n/a
when the design refuses every scenario the check needs.

- contract: NAME, MODEL, SUMMARY, SEED, FIFO, unsupported(scenario) and run(scenario), of the right kinds.
- random scenarios: seeded random cells over topologies 1:1 to 8:8, capacities 1 to unbounded, consumer
  work none, cpu and io, payloads, 1,000 to 3,000 items; every one the design takes must verify (every
  item once, intact, in order per producer where FIFO).
- stop protocols: each of barrier, event and event:1ms that the design takes must verify.
- timed region: the consumer's work and the arrival schedule lie inside the clock (50 items of io:2ms
  through one consumer take at least 0.1 s; 100 items at steady:1000 at least 0.099 s).
- producer failure, consumer failure: an exception injected into one producer (its items raise at item
  FAIL_AT) and into one consumer (its cpu work raises) must fail the run with that exception, in time,
  leaving nothing running.
- nothing left running: no thread and no child process of the design outlives the battery.
- capacity bound: with producers far ahead of one slow consumer, the buffer never holds more than its
  capacity. Read from the design's put and take stamps at quiet moments: in the middle of the consumer's
  long work on one item, when every producer has put what it could, the items put and not yet taken are
  exactly what the buffer holds.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

from bench.once import run_once
from variants import MODELS, workload
from variants.contract import Scenario

__all__ = ["Check", "InjectedError", "failing_items", "failing_spin", "run_battery", "FAIL_AT"]

FAIL_AT = 5  # the item at which an injected failure strikes
RANDOM_RUNS = 16
STOPS = ("barrier", "event", "event:1ms")
HOLD = 0.04  # seconds of io work per item in the capacity check: long enough for producers to refill
LEFT_RUNNING = "workers still running"  # how bench/once.py's reason begins for a worker left behind
Check = tuple[str, str, str]  # (check, "ok" / "FAIL" / "n/a", detail)


class InjectedError(Exception):
    """Raised on purpose inside a worker."""


class _FailingItems(list):
    """A producer's items that raise when the producer reaches item FAIL_AT."""

    def __iter__(self) -> Iterator:
        for index, item in enumerate(list.__iter__(self)):
            if index == FAIL_AT:
                raise InjectedError(f"producer fails at item {FAIL_AT}")
            yield item


def failing_items(real_plan: Callable) -> Callable:
    """A stand-in for workload.plan whose producer 0 raises InjectedError at its item FAIL_AT."""
    def plan(scenario):
        made = real_plan(scenario)
        made.items[0] = _FailingItems(made.items[0])
        return made
    return plan


def failing_spin() -> Callable:
    """A stand-in for workload.spin that raises InjectedError on its FAIL_AT-th call (a consumer's item)."""
    calls = [0]

    def spin(n: int) -> None:
        calls[0] += 1
        if calls[0] == FAIL_AT:
            raise InjectedError(f"consumer fails at item {FAIL_AT}")
    return spin


@contextmanager
def _patched(name: str, replacement: Callable) -> Iterator[None]:
    """workload.<name> replaced within the block (worker processes fork from this one and inherit it)."""
    original = getattr(workload, name)
    setattr(workload, name, replacement)
    try:
        yield
    finally:
        setattr(workload, name, original)


def _taken(design: ModuleType, scenarios: list[Scenario]) -> Scenario | None:
    """The first of `scenarios` the design takes, or None."""
    return next((s for s in scenarios if design.unsupported(s) is None), None)


def _contract(design: ModuleType) -> Check:
    kinds = {"NAME": str, "MODEL": str, "SUMMARY": str, "SEED": str, "FIFO": bool}
    wrong = [name for name, kind in kinds.items() if not isinstance(getattr(design, name, None), kind)]
    wrong += [name for name in ("unsupported", "run") if not callable(getattr(design, name, None))]
    if wrong:
        return "contract", "FAIL", f"missing or of the wrong kind: {', '.join(wrong)} (docs/your-design.md)"
    if design.MODEL not in MODELS:
        return "contract", "FAIL", f"MODEL {design.MODEL!r} is none of {', '.join(MODELS)}"
    answer = design.unsupported(Scenario(1, 1, 10))
    if answer is not None and not isinstance(answer, str):
        return "contract", "FAIL", f"unsupported() must return None or a reason (str), returned {answer!r}"
    return "contract", "ok", f"{design.NAME}: {design.SUMMARY}"


def _random_scenarios(seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    return [Scenario(rng.randint(1, 8), rng.randint(1, 8), rng.randint(1000, 3000),
                     rng.choice([1, 2, 16, 1024, None]), "flat", rng.choice(["none", "cpu:5us", "io:20us"]),
                     rng.choice([0, 0, 64])) for _ in range(RANDOM_RUNS)]


def _failure(check: str, scenario: Scenario, result) -> Check:
    """The line of a run that should have verified and did not; a worker left running is its own check."""
    if (result.reason or "").startswith(LEFT_RUNNING):
        check = "nothing left running"
    return check, "FAIL", f"{scenario.name}: {result.status}: {result.reason}"


def _random(design: ModuleType, seed: int) -> Check:
    ran = 0
    for scenario in _random_scenarios(seed):
        if design.unsupported(scenario) is not None:
            continue
        result = run_once(design, scenario)
        if not result.ok:
            return _failure("random scenarios", scenario, result)
        ran += 1
    if not ran:
        return "random scenarios", "n/a", f"the design took none of {RANDOM_RUNS} scenarios"
    return "random scenarios", "ok", f"{ran} of {RANDOM_RUNS} verified (the rest refused), seed {seed}"


def _stops(design: ModuleType) -> Check:
    taken = []
    for stop in STOPS:
        scenario = _taken(design, [Scenario(2, 3, 300, capacity, stop=stop) for capacity in (4, 1, None)])
        if scenario is None:
            continue
        result = run_once(design, scenario)
        if not result.ok:
            return _failure("stop protocols", scenario, result)
        taken.append(stop)
    if not taken:
        return "stop protocols", "n/a", "the design takes only the default (sentinels), checked above"
    return "stop protocols", "ok", f"{', '.join(taken)} verified"


def _timed(design: ModuleType) -> Check:
    lower_bounds = [(Scenario(1, 1, 50, capacity, work="io:2ms"), 0.1) for capacity in (16, 1, None)]
    lower_bounds += [(Scenario(2, 2, 100, capacity, "steady:1000"), 0.099) for capacity in (16, 1, None)]
    ran = []
    for work in ("io:2ms", "steady:1000"):
        found = next(((s, low) for s, low in lower_bounds
                      if work in s.name and design.unsupported(s) is None), None)
        if found is None:
            continue
        scenario, low = found
        result = run_once(design, scenario)
        if not result.ok:
            return _failure("timed region", scenario, result)
        if result.outcome.elapsed < low:
            return ("timed region", "FAIL", f"{scenario.name}: {result.outcome.elapsed:.4f} s, but its "
                    f"{'work' if work.startswith('io') else 'schedule'} alone takes {low} s: the clock "
                    "stopped before the run ended")
        ran.append(f"{scenario.name} {result.outcome.elapsed:.3f} s >= {low} s")
    if not ran:
        return "timed region", "n/a", "the design took none of the scenarios"
    return "timed region", "ok", "; ".join(ran)


def _injected(design: ModuleType, check: str, patch: tuple[str, Callable], work: str) -> Check:
    scenario = _taken(design, [Scenario(2, 2, 200, capacity, work=work) for capacity in (None, 16, 1)])
    if scenario is None:
        return check, "n/a", "the design took no 2:2 scenario"
    workload.spins_per_second()  # measured once per process, by calling spin: before spin is patched
    with _patched(*patch):
        result = run_once(design, scenario)
    if result.status != "failed" or "InjectedError" not in (result.reason or ""):
        why = f"{result.status}: {result.reason}" if result.reason else "the run verified anyway"
        return check, "FAIL", f"expected the run to fail with the injected InjectedError; got {why}"
    return check, "ok", f"failed as it should: {result.reason}"


def _capacity(design: ModuleType) -> Check:
    scenarios = [Scenario(2, 1, 4 * (capacity + 3), capacity, "steady:100000", f"io:{HOLD * 1000:g}ms")
                 for capacity in (4, 1)]
    taken = [scenario for scenario in scenarios if design.unsupported(scenario) is None]
    if not taken:
        return "capacity bound", "n/a", "the design takes no bounded capacity"
    for scenario in taken:
        result = run_once(design, scenario)
        if not result.ok:
            return _failure("capacity bound", scenario, result)
        extras = result.outcome.extras
        if "put_stamps" not in extras or "take_stamps" not in extras:
            return ("capacity bound", "FAIL", "no put and take stamps in a paced run: the design must stamp "
                    "each put and take as docs/your-design.md says")
        puts = sorted(t for stamps in extras["put_stamps"] for t in stamps)
        takes = sorted(t for stamps in extras["take_stamps"] for t in stamps)
        held = [sum(p <= t + HOLD / 2 for p in puts) - (index + 1) for index, t in enumerate(takes)]
        if max(held) > scenario.capacity:
            return ("capacity bound", "FAIL", f"{scenario.name}: the buffer held {max(held)} items at "
                    f"capacity {scenario.capacity}")
    return "capacity bound", "ok", f"capacity {', '.join(str(s.capacity) for s in taken)} never exceeded"


def _nothing_left(before: set) -> Check:
    threads = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    processes = [p.name for p in multiprocessing.active_children()]
    if threads or processes:
        return "nothing left running", "FAIL", f"still running: {', '.join(threads + processes)}"
    return "nothing left running", "ok", "no thread and no child process outlived the runs"


def run_battery(design: ModuleType, seed: int = 0) -> Iterator[Check]:
    """Run every check on `design`, yielding each one's line as it ends.

    Stops after a failed contract (nothing else can run) and after a worker was left running (the
    process is no longer clean enough to judge the next check).
    """
    before = set(threading.enumerate())
    contract = _contract(design)
    yield contract
    if contract[1] != "ok":
        return
    checks = [lambda: _random(design, seed), lambda: _stops(design), lambda: _timed(design),
              lambda: _injected(design, "producer failure", ("plan", failing_items(workload.plan)), "none"),
              lambda: _injected(design, "consumer failure", ("spin", failing_spin()), "cpu:1us"),
              lambda: _capacity(design), lambda: _nothing_left(before)]
    for check in checks:
        line = check()
        yield line
        if line[0] == "nothing left running" and line[1] == "FAIL":
            return
