"""Fair figures: tests that hold the harness and every design to the timed region's word (issue 7).

- lower bounds no design can beat without skipping its waits (a figure that stops its clock early, or
  ignores its arrival schedule, fails here);
- failures injected into the real designs (the idea of CPython's FailingQueueTest): a producer or a
  consumer raises at item k, and the run must fail with that error and leave nothing running;
- one broken fixture design per loophole, each failing with its own reason;
- the capacity bound, checked by the harness's own instrumented run (bench.depth) for every design;
- equal waits: timer slack set in every process that runs a design.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from bench.battery import failing_items, failing_spin
from bench.depth import depth_run, watchable, watched
from bench.once import run_once
from tests.cli_helpers import bench, realtime
from tests.fixtures import broken_clock_early, broken_corrupts, broken_leaves_task, broken_overfills
from variants import REGISTRY, workload
from variants.contract import Scenario

DESIGNS = sorted(REGISTRY)


def supported(name: str, scenario: Scenario) -> Scenario:
    """The scenario, or its capacity-1 form for a design that has a single slot, or its unbounded form for
    a design that has no bound."""
    design = REGISTRY[name]
    for capacity in (scenario.capacity, 1, None):
        candidate = replace(scenario, capacity=capacity)
        if design.unsupported(candidate) is None:
            return candidate
    raise AssertionError(f"{name} refuses {scenario.name} at every capacity")


def assert_nothing_left(before: set) -> None:
    leftover = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"
    assert not multiprocessing.active_children(), "processes left running"


# --- lower bounds: the timed region covers the work and the schedule -------------------------------------


@pytest.mark.parametrize("name", DESIGNS)
def test_io_work_is_inside_the_clock(name):
    """50 items through one consumer doing io:2ms cannot take less than 0.1 s."""
    result = run_once(REGISTRY[name], supported(name, Scenario(1, 1, 50, capacity=16, work="io:2ms")))
    assert result.ok, result.reason
    assert result.outcome.elapsed >= 0.1


@pytest.mark.parametrize("name", DESIGNS)
def test_the_arrival_schedule_is_inside_the_clock(name):
    """100 items at steady:1000 are due over 99 ms: the run cannot end sooner."""
    scenario = Scenario(2, 2, 100, capacity=16, arrival="steady:1000")
    result = run_once(REGISTRY[name], supported(name, scenario))
    assert result.ok, result.reason
    assert result.outcome.elapsed >= 0.099


@pytest.mark.parametrize("name", DESIGNS)
def test_every_design_reports_its_startup_outside_the_clock(name):
    result = run_once(REGISTRY[name], supported(name, Scenario(2, 2, 100, capacity=16)))
    assert result.ok, result.reason
    assert result.outcome.extras["startup_s"] > 0


# --- failures injected into the real designs --------------------------------------------------------------


# (the injections are bench/battery.py's, which `bench verify` runs on a user's design)


def _check_failed_with_injection(name: str, scenario: Scenario) -> None:
    before = set(threading.enumerate())
    result = run_once(REGISTRY[name], supported(name, scenario))
    assert result.status == "failed", f"{name}: {result.status}: {result.reason}"
    assert "InjectedError" in result.reason, result.reason
    assert not result.poisoned
    assert_nothing_left(before)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", DESIGNS)
def test_a_producer_that_raises_fails_the_run(name, monkeypatch):
    monkeypatch.setattr(workload, "plan", failing_items(workload.plan))
    _check_failed_with_injection(name, Scenario(2, 2, 200))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", DESIGNS)
def test_a_consumer_that_raises_fails_the_run(name, monkeypatch):
    workload.spins_per_second()  # measured by calling spin: before spin is patched
    monkeypatch.setattr(workload, "spin", failing_spin())
    _check_failed_with_injection(name, Scenario(2, 2, 200, work="cpu:1us"))


# --- one broken fixture per loophole ----------------------------------------------------------------------


def test_a_design_that_stops_its_clock_before_joining_fails():
    result = run_once(broken_clock_early, Scenario(1, 2, 20))
    assert result.status == "failed"
    assert result.reason.startswith("workers still running when run() returned: consumer ")
    assert_nothing_left(set(threading.enumerate()))


def test_a_design_that_leaves_a_task_pending_fails():
    result = run_once(broken_leaves_task, Scenario(1, 1, 20))
    assert (result.status, result.reason) == (
        "failed", "tasks did not finish: the design left a task unfinished or cancelled")


def test_a_corrupted_payload_fails():
    result = run_once(broken_corrupts, Scenario(2, 2, 40, payload=32))
    reason = f"payload of item {broken_corrupts.CORRUPT_ID} corrupted"
    assert (result.status, result.reason) == ("failed", reason)
    assert run_once(broken_corrupts, Scenario(2, 2, 40)).ok  # without a payload there is nothing to damage


def test_a_buffer_that_overfills_fails_the_depth_run():
    peak, reason = depth_run(broken_overfills, Scenario(4, 1, 400, capacity=4))
    assert peak > 4
    assert reason == f"the buffer held {peak} items; capacity 4"
    assert run_once(broken_overfills, Scenario(4, 1, 400, capacity=4)).ok  # the plain run cannot see it


def test_an_overfilling_buffer_fails_its_benchmark(tmp_path):
    out = tmp_path / "out.json"
    proc = bench("run", "broken_overfills", "--producers", "4", "--items", "400", "--capacity", "4",
                 "--processes", "1", "--values", "1", "--warmups", "0", "--loops", "1", "-o", str(out),
                 extra="tests.fixtures.broken_overfills")
    assert proc.returncode == 1
    assert "instrumented run: the buffer held " in proc.stderr
    assert not out.exists()


# --- the capacity bound, for every design -----------------------------------------------------------------


def test_every_design_is_watchable():
    assert [name for name in DESIGNS if not watchable(REGISTRY[name])] == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("name", "capacity"), [
    (name, capacity) for name in DESIGNS for capacity in (1, 2, 16)
    if REGISTRY[name].unsupported(Scenario(1, 1, 1, capacity=capacity)) is None
])
def test_the_buffer_never_exceeds_its_capacity(name, capacity):
    peak, reason = depth_run(REGISTRY[name], Scenario(4, 4, 400, capacity=capacity))
    assert reason is None
    assert 1 <= peak


ROUND_ROBIN = [name for name in DESIGNS if REGISTRY[name].MODEL in ("generator", "greenlet")]


@pytest.mark.parametrize("name", ROUND_ROBIN)
def test_a_round_robin_buffer_fills_to_its_capacity_and_no_further(name):
    """Four producers resumed in turn outpace one consumer until the buffer is full, never beyond."""
    peak, reason = depth_run(REGISTRY[name], Scenario(4, 1, 200, capacity=16))
    assert (peak, reason) == (16, None)


@pytest.mark.parametrize("name", [name for name in DESIGNS if name != "two_lock"])
def test_an_unbounded_buffer_is_made_unbounded(name):
    """Four producers against one consumer, no capacity: the one buffer grows well past any small bound."""
    design = REGISTRY[name]
    with watched(design) as made:
        assert run_once(design, Scenario(4, 1, 400, capacity=None)).ok
    assert len(made) == 1, f"{name} made {len(made)} buffers"
    assert made[0].peak > 16


# --- equal waits ------------------------------------------------------------------------------------------


def test_once_sets_the_timer_slack_and_reports_the_real_wait():
    proc = bench("run", "queue", "--once", "--json", "--items", "20", "--work", "io:50us")
    assert proc.returncode == 0, proc.stderr  # the run verified
    report = json.loads(proc.stdout)
    assert (report["status"], report["verified"]) == ("ok", True)
    assert report["timer_slack_ns"] == 1
    assert 50e-6 <= report["io_wait_s"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="timer slack is Linux's")
@pytest.mark.skipif(realtime(), reason="under a real-time scheduling policy Linux ignores timer slack")
@pytest.mark.machine("the kernel must honour timer slack; a descheduled process overruns both sleeps alike")
def test_setting_the_slack_takes_linux_s_50us_overrun_off_a_50us_sleep():
    """Slack 50 us (Linux's default) against 1 ns, alternated in one process: the 1 ns sleeps are shorter.

    A paired comparison, not a time limit: on a noisy machine a 50 us sleep took 88 us with the slack set
    (over the 85 us limit this test once had) while the default's took about 120 us; the gap stays near 50 us.
    """
    code = ("import statistics; from variants import workload; slow, fast = [], []\n"
            "for _ in range(7):\n"
            "    assert workload.set_timer_slack(50_000); slow.append(workload.measure_wait(50e-6, 21))\n"
            "    assert workload.set_timer_slack(1); fast.append(workload.measure_wait(50e-6, 21))\n"
            "print(workload.timer_slack_ns(), statistics.median(slow), statistics.median(fast))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=60)
    slack, slow, fast = proc.stdout.split()
    assert int(slack) == 1
    assert float(slow) - float(fast) > 20e-6, (slow, fast)


# Every (design, stop protocol) that the design takes; the others are refused with a reason, which
# test_designs checks. Built from the registry, so that no case passes without running.
STOP_SCENARIOS = [Scenario(2, 3, 300, capacity=4, stop=stop) for stop in ("barrier", "event:1ms")]
STOP_CASES = [pytest.param(name, scenario, id=f"{name}-{scenario.stop}") for scenario in STOP_SCENARIOS
              for name in DESIGNS if REGISTRY[name].unsupported(scenario) is None]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, scenario", STOP_CASES)
def test_the_depth_run_takes_every_stop_protocol_a_design_takes(name, scenario):
    peak, reason = depth_run(REGISTRY[name], scenario)
    assert reason is None and 1 <= peak
