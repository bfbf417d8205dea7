"""`python -m bench run VARIANT [scenario flags] [pyperf options]`: one scenario as one pyperf benchmark.

pyperf re-executes `python -m bench run VARIANT ...` for each worker (program_args plus the scenario flags
added back by add_cmdline_args). The time function runs the scenario `loops` times, each through the
watchdog and the verifier, and returns the sum of the designs' own timed regions; with inner_loops=items
pyperf stores seconds per item. A run that fails verification or times out ends the worker with exit
status 1 and a line `prodcon: ...` on stderr: the benchmark fails, the run never becomes a value.

Each scenario run also appends one JSON line to the --metrics sidecar (after its clock has stopped):
benchmark, pid, phase (calibration, warmup or value), elapsed and CPU seconds, status and reason.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys

from bench.designs import EXTRA_DESIGNS_ENV, get_design
from bench.errors import UsageError
from bench.flags import (
    add_scenario_flags,
    apply_spin_rate,
    deadline_from_args,
    scenario_flags,
    scenario_from_args,
)
from bench.machine import git_commit
from bench.once import run_once
from variants import workload

__all__ = ["run_pyperf", "DEFAULT_ITEMS"]

DEFAULT_ITEMS = 20_000  # under pyperf; DESIGN.md's reference figures use this count


class _Sidecar:
    """Appends one JSON line per scenario run; tells calibration and warm-up calls from values."""

    def __init__(self, path: str | None, benchmark: str, args) -> None:
        self.path = path
        self.benchmark = benchmark
        self.calibrating = bool(args.calibrate_loops or args.recalibrate_loops
                                or args.calibrate_warmups or args.recalibrate_warmups)
        self.warmups = args.warmups or 0
        self.calls = 0  # time-function calls so far in this worker

    def phase(self) -> str:
        """The phase of the current time-function call."""
        if self.calibrating:
            return "calibration"
        return "warmup" if self.calls <= self.warmups else "value"

    def write(self, record: dict) -> None:
        """Append one record (a no-op without --metrics)."""
        if self.path is None:
            return
        record = {"benchmark": self.benchmark, "pid": os.getpid(), "call": self.calls,
                  "phase": self.phase(), **record}
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, sort_keys=True) + "\n")


def _time_func(loops: int, design, scenario, deadline: float | None, sidecar: _Sidecar) -> float:
    sidecar.calls += 1
    total = 0.0
    for _ in range(loops):
        result = run_once(design, scenario, deadline)
        if not result.ok:
            sidecar.write({"status": result.status, "reason": result.reason, "verified": False})
            print(f"prodcon: {sidecar.benchmark}: {result.status}: {result.reason}", file=sys.stderr,
                  flush=True)
            sys.stdout.flush()
            os._exit(1)  # the worker fails, so the benchmark fails; a hung design's threads die with it
        outcome = result.outcome
        total += outcome.elapsed
        cpu = outcome.extras.get("cpu_s")
        sidecar.write({"status": "ok", "verified": True, "items": scenario.items, "loops": loops,
                       "elapsed_s": outcome.elapsed, "cpu_s": cpu,
                       "cpu_s_per_item": None if cpu is None else cpu / scenario.items})
    return total


def run_pyperf(argv: list[str]) -> int:
    """Run one design and scenario as a pyperf benchmark; argv is what follows `run`."""
    import pyperf  # only this command needs it

    def add_flags(cmd: list[str], args) -> None:
        cmd.extend([args.variant, *scenario_flags(scenario_from_args(args))])
        if args.metrics:
            cmd.append(f"--metrics={args.metrics}")
        if args.deadline:
            cmd.append(f"--deadline={args.deadline}")
        cmd.append(f"--spin-rate={workload.spins_per_second()}")  # one rate for every worker

    runner = pyperf.Runner(program_args=("-m", "bench", "run"), add_cmdline_args=add_flags)
    parser = runner.argparser
    parser.prog = "python -m bench run"

    def error(message: str):
        raise UsageError(message)

    parser.error = error
    parser.add_argument("variant", help="design name (see `python -m bench list`)")
    parser.add_argument("--metrics", metavar="FILE", help="append one JSON line per scenario run here")
    add_scenario_flags(parser, items_default=DEFAULT_ITEMS)
    args = runner.parse_args(argv)
    design = get_design(args.variant)
    scenario = scenario_from_args(args)
    deadline = deadline_from_args(args)
    apply_spin_rate(args)
    why = design.unsupported(scenario)
    if why:
        raise UsageError(f"{design.NAME} does not support this scenario: {why}")
    if os.environ.get(EXTRA_DESIGNS_ENV):
        args.inherit_environ = [*(args.inherit_environ or []), EXTRA_DESIGNS_ENV]

    name = f"{design.NAME}/{scenario.name}"
    metadata = {
        "description": design.SUMMARY, "prodcon_variant": design.NAME, "prodcon_model": design.MODEL,
        "prodcon_producers": scenario.producers, "prodcon_consumers": scenario.consumers,
        "prodcon_capacity": "inf" if scenario.capacity is None else scenario.capacity,
        "prodcon_items": scenario.items, "prodcon_arrival": scenario.arrival, "prodcon_work": scenario.work,
        "prodcon_payload": scenario.payload, "prodcon_switch_interval": sys.getswitchinterval(),
        "prodcon_spin_rate": workload.spins_per_second(),
        "prodcon_git_commit": git_commit(), "prodcon_mp_start_method": multiprocessing.get_start_method(),
    }
    if hasattr(os, "sched_getaffinity"):
        metadata["prodcon_cpu_affinity"] = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    sidecar = _Sidecar(args.metrics, name, args)
    try:
        runner.bench_time_func(name, _time_func, design, scenario, deadline, sidecar,
                               inner_loops=scenario.items, metadata=metadata)
    except RuntimeError as exc:  # pyperf: a worker failed; it has said why on stderr
        print(f"prodcon: {name}: {exc}", file=sys.stderr)
        return 1
    return 0
