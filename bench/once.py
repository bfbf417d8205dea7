"""One run of one design on one scenario, under a watchdog, verified after the clock has stopped.

The design runs in a daemon thread; the caller waits for it until the scenario's deadline. A design that
misses it (a deadlock, a livelock) ends as a `timeout`: its child processes are terminated; its threads,
being daemonic, end with this process, so the caller must not reuse a process after a timeout
(`RunResult.poisoned`). A thread or child process of the run still alive the moment run() returns fails
the run: a design that stops its clock before joining its workers would report too short a time. The
grace period (GRACE) serves only the clean-up after such a failure.
"""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import dataclass
from types import ModuleType

from bench.verify import verify
from variants import workload
from variants.contract import Outcome, Scenario

__all__ = ["RunResult", "deadline_for", "run_once", "stop_children", "measured_waits", "run_record"]

DEADLINE_FLOOR = 10.0  # seconds every run gets, whatever its size
DEADLINE_PER_ITEM = 200e-6  # generous hand-off cost per item, on top of the scenario's own waits
DEADLINE_SLACK = 5.0  # multiplies the expected duration: a slow, noisy machine is not a deadlock
GRACE = 2.0  # seconds the clean-up gives leftover workers before they are killed or abandoned


@dataclass(frozen=True)
class RunResult:
    """What the harness makes of one run: status ok, failed or timeout, and why."""

    status: str  # "ok", "failed" (ran but wrong) or "timeout" (missed its deadline)
    reason: str | None  # one line for failed and timeout; None when ok
    outcome: Outcome | None  # None when the design raised or timed out
    poisoned: bool = False  # threads were left running: do not run anything more in this process

    @property
    def ok(self) -> bool:
        """True when the run finished in time and verified."""
        return self.status == "ok"


def deadline_for(scenario: Scenario) -> float:
    """Seconds a run of the scenario may take before it counts as hung.

    Assumes the worst: all consumer work done one item at a time (as one-thread designs do) and every
    arrival schedule stretched to its end, times DEADLINE_SLACK.
    """
    arrival = workload.parse_arrival(scenario.arrival)
    spread = scenario.items / arrival.rate if arrival.rate else 0.0
    work = workload.parse_work(scenario.work).seconds * scenario.items
    return DEADLINE_FLOOR + DEADLINE_SLACK * (spread + work + DEADLINE_PER_ITEM * scenario.items)


def stop_children() -> int:
    """Terminate (then kill) every child process of this process; return how many there were."""
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(GRACE)
        if child.is_alive():
            child.kill()
            child.join(GRACE)
    return len(children)


def _still_running(threads_before: set, runner: threading.Thread) -> tuple[list[threading.Thread], list]:
    """The run's threads and child processes alive now, the moment run() has returned: no grace."""
    threads = [t for t in threading.enumerate()
               if t not in threads_before and t is not runner and t.is_alive()]
    return threads, [p for p in multiprocessing.active_children() if p.is_alive()]


def _clean_up(threads: list[threading.Thread]) -> bool:
    """Give leftover threads GRACE seconds in all and stop leftover children; True if threads still run."""
    for thread in threads:
        thread.join(GRACE / max(len(threads), 1))
    stop_children()
    return any(thread.is_alive() for thread in threads)


def run_once(design: ModuleType, scenario: Scenario, deadline: float | None = None) -> RunResult:
    """Run `design` on `scenario` once under a watchdog and verify the outcome."""
    if deadline is None:
        deadline = deadline_for(scenario)
    box: dict = {}

    def target() -> None:
        try:
            box["outcome"] = design.run(scenario)
        except BaseException as exc:  # reported as the run's failure, never as a figure
            box["error"] = f"{type(exc).__name__}: {exc}"

    threads_before = set(threading.enumerate())
    runner = threading.Thread(target=target, name=f"run {design.NAME}", daemon=True)
    runner.start()
    runner.join(deadline)
    if runner.is_alive():
        killed = stop_children()
        runner.join(GRACE)  # a design blocked on a killed process may now finish
        detail = f"; {killed} child processes terminated" if killed else ""
        return RunResult("timeout", f"did not finish within {deadline:.3g} s{detail}", None,
                         poisoned=runner.is_alive())
    threads, processes = _still_running(threads_before, runner)
    if threads or processes:
        names = ", ".join([t.name for t in threads] + [p.name for p in processes])
        return RunResult("failed", f"workers still running when run() returned: {names}", box.get("outcome"),
                         poisoned=_clean_up(threads))
    if "error" in box:
        return RunResult("failed", f"the design raised {box['error']}", None)
    outcome = box["outcome"]
    reason = verify(scenario, outcome, fifo=getattr(design, "FIFO", True), model=design.MODEL)
    if reason:
        return RunResult("failed", reason, outcome)
    return RunResult("ok", None, outcome)


def measured_waits(scenario: Scenario) -> dict:
    """What the scenario's waits really last in this process (timer slack included), in seconds.

    `io_wait_s`: one `io:D` wait; `arrival_wait_s`: one producer's mean gap between sends (a burst's gap for
    burst arrivals). Only the keys the scenario has.
    """
    waits = {}
    work = workload.parse_work(scenario.work)
    if work.kind == "io":
        waits["io_wait_s"] = workload.measure_wait(work.seconds, 21 if work.seconds <= 1e-3 else 5)
    arrival = workload.parse_arrival(scenario.arrival)
    if arrival.rate:
        gap = scenario.producers * arrival.burst / arrival.rate
        waits["arrival_wait_s"] = workload.measure_wait(gap, 21 if gap <= 1e-3 else 5)
    return waits


def run_record(scenario: Scenario, outcome: Outcome) -> dict:
    """The figures of one verified run, computed after the clock stopped: timed region, CPU, start-up and,
    in stamped runs, latency and depth (bench.latency). Keys as in the metrics sidecar."""
    cpu = outcome.extras.get("cpu_s")
    record = {"items": scenario.items, "elapsed_s": outcome.elapsed, "cpu_s": cpu,
              "cpu_s_per_item": None if cpu is None else cpu / scenario.items,
              "startup_s": outcome.extras.get("startup_s")}
    if "server_startup_s" in outcome.extras:  # a broker design: its server's start, outside the clock
        record["server_startup_s"] = outcome.extras["server_startup_s"]
    if workload.parse_arrival(scenario.arrival).rate is not None:  # a flat run has no latency figures
        # only here: hdrhistogram's extension turns the GIL back on under a free-threaded build, so a
        # closed-loop cell must not import it (docs/design.md, "Other interpreters")
        from bench.latency import figures

        record.update(figures(scenario, outcome) or {})
    return record
