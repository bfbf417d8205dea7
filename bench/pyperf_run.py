"""`python -m bench run DESIGN [scenario flags] [pyperf options]`: one scenario as one pyperf benchmark.

pyperf re-executes `python -m bench run DESIGN ...` for each worker (program_args plus the scenario flags
added back by add_cmdline_args). The time function runs the scenario `loops` times, each through the
watchdog and the verifier, and returns the sum of the designs' own timed regions; with inner_loops=items
pyperf stores seconds per item. For paced cells (arrival other than flat) it returns the sum of the
items' latencies instead, so pyperf stores the mean latency per item (metadata `prodcon_value` says
which). A run that fails verification or times out ends the worker with exit status 1 and a line
`prodcon: ...` on stderr: the benchmark fails, the run never becomes a value.

Each scenario run also appends one JSON line to the --metrics sidecar (after its clock has stopped):
benchmark, pid, phase (calibration, warmup or value), elapsed, CPU and start-up seconds, the worker's
measured waits, status and reason, and in paced cells the latency figures (bench.latency). Once per
benchmark, in pyperf's parent process before any worker starts, one instrumented run (bench.depth)
fails the benchmark if the buffer ever held more than its capacity; its line has phase `depth` and the
maximum depth (a pass that only --appends processes to a benchmark skips it: its first pass ran it).
Every worker sets its timer slack to 1 ns first (docs/design.md, "Equal waits"); metadata
records it and the measured waits.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys

from bench.designs import EXTRA_DESIGNS_ENV, get_design
from bench.flags import (
    add_scenario_flags,
    apply_spin_rate,
    deadline_from_args,
    scenario_flags,
    scenario_from_args,
)
from bench.gate.inject import parse_slowdown, slowed
from bench.interpreters import benchmark_name, check_tag, gil_turned_on, here_tag
from bench.machine import git_commit
from bench.once import measured_waits, run_once, run_record
from runs.errors import UsageError
from runs.store import LATENCY, TIME_PER_ITEM
from variants import workload
from variants.servers import BROKER_ENV

__all__ = ["run_pyperf", "benchmark_metadata", "DEFAULT_ITEMS"]

DEFAULT_ITEMS = 20_000  # under pyperf, as in the profiles' closed-loop cells (docs/design.md, "The matrix")


class _Sidecar:
    """Appends one JSON line per scenario run; tells calibration and warm-up calls from values."""

    def __init__(self, path: str | None, benchmark: str, args) -> None:
        self.path = path
        self.benchmark = benchmark
        self.calibrating = bool(args.calibrate_loops or args.recalibrate_loops
                                or args.calibrate_warmups or args.recalibrate_warmups)
        self.warmups = args.warmups or 0
        self.calls = 0  # time-function calls so far in this worker
        self.waits: dict = {}  # this worker's measured waits (see bench.once.measured_waits)
        self.tag = ""  # this worker's interpreter (bench.interpreters.here_tag) before any design import

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
                  "phase": self.phase(), **self.waits, **record}
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, sort_keys=True) + "\n")


def _fail(sidecar: _Sidecar, status: str, reason: str) -> None:
    """End the worker: the benchmark fails, the run never becomes a value."""
    sidecar.write({"status": status, "reason": reason, "verified": False})
    print(f"prodcon: {sidecar.benchmark}: {status}: {reason}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)  # a hung design's threads die with the worker


def _time_func(loops: int, design, scenario, deadline: float | None, sidecar: _Sidecar) -> float:
    """pyperf's time function: the sum of `loops` runs' timed regions (paced: of their items' latencies)."""
    sidecar.calls += 1
    total = 0.0
    for _ in range(loops):
        result = run_once(design, scenario, deadline)
        if not result.ok:
            _fail(sidecar, result.status, result.reason)
        if gil_turned_on(sidecar.tag):  # a lazy import inside the design's run
            _fail(sidecar, "failed", f"the GIL came on during the run under {sidecar.tag}")
        record = run_record(scenario, result.outcome)
        total += record["latency_sum_s"] if "latency_sum_s" in record else record["elapsed_s"]
        sidecar.write({"status": "ok", "verified": True, "loops": loops, **record})
    return total


def benchmark_metadata(design, scenario, waits: dict, timer_slack: bool) -> dict:
    """A benchmark's pyperf metadata: the design, the scenario, what makes its figure comparable."""
    paced = workload.parse_arrival(scenario.arrival).rate is not None
    metadata = {
        "description": design.SUMMARY, "prodcon_variant": design.NAME, "prodcon_model": design.MODEL,
        "prodcon_producers": scenario.producers, "prodcon_consumers": scenario.consumers,
        "prodcon_capacity": "inf" if scenario.capacity is None else scenario.capacity,
        "prodcon_items": scenario.items, "prodcon_arrival": scenario.arrival, "prodcon_work": scenario.work,
        "prodcon_payload": scenario.payload, "prodcon_switch_interval": sys.getswitchinterval(),
        "prodcon_spin_rate": workload.spins_per_second(),
        "prodcon_git_commit": git_commit(), "prodcon_mp_start_method": multiprocessing.get_start_method(),
        "prodcon_value": LATENCY if paced else TIME_PER_ITEM,
        "prodcon_timer_slack_ns": workload.timer_slack_ns() if timer_slack else "unset",
        "prodcon_python": here_tag(),
        **{f"prodcon_{key}": value for key, value in waits.items()},
    }
    if hasattr(os, "sched_getaffinity"):
        metadata["prodcon_cpu_affinity"] = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    return metadata


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
        if args.inject_slowdown:
            cmd.append(f"--inject-slowdown={args.inject_slowdown}")
        if args.python_tag:
            cmd.append(f"--python-tag={args.python_tag}")

    timer_slack = workload.set_timer_slack()  # equal waits (docs/design.md, "Equal waits"); threads too
    runner = pyperf.Runner(program_args=("-m", "bench", "run"), add_cmdline_args=add_flags)
    parser = runner.argparser
    parser.prog = "python -m bench run"

    def error(message: str):
        raise UsageError(message)

    parser.error = error
    parser.add_argument("variant", metavar="DESIGN", help="design name (see `python -m bench list`)")
    parser.add_argument("--metrics", metavar="FILE", help="append one JSON line per scenario run here")
    parser.add_argument("--python-tag", metavar="TAG", help="name the benchmark after this interpreter")
    parser.add_argument("--inject-slowdown", metavar="DESIGN=FACTOR",
                        help="multiply this design's measured values by FACTOR (proves `bench check`)")
    add_scenario_flags(parser, items_default=DEFAULT_ITEMS)
    args = runner.parse_args(argv)
    check_tag(args.python_tag)  # before any design is imported: one may turn the GIL on
    tag = here_tag()
    design = get_design(args.variant)
    scenario = scenario_from_args(args)
    deadline = deadline_from_args(args)
    apply_spin_rate(args)
    why = design.unsupported(scenario)
    if why:
        raise UsageError(f"{design.NAME} does not support this scenario: {why}")
    for passed_on in (EXTRA_DESIGNS_ENV, BROKER_ENV):  # pyperf gives its workers a bare environment
        if os.environ.get(passed_on):
            args.inherit_environ = [*(args.inherit_environ or []), passed_on]

    name = benchmark_name(design.NAME, scenario.name, args.python_tag)
    if gil_turned_on(tag):
        raise UsageError(f"importing {design.NAME} turned the GIL on under {tag}")
    waits = measured_waits(scenario)
    metadata = benchmark_metadata(design, scenario, waits, timer_slack)
    injected, factor = parse_slowdown(args.inject_slowdown) if args.inject_slowdown else (None, 1.0)
    if injected == design.NAME:  # recorded, so an injected result can never pass for a real one
        metadata["prodcon_injected_slowdown"] = factor
    sidecar = _Sidecar(args.metrics, name, args)
    sidecar.waits = waits
    sidecar.tag = tag
    if not args.worker and not args.append:  # once per benchmark, in its first pyperf parent process
        from bench.depth import depth_run  # imports asyncio (30 ms), which a worker need not pay for

        max_depth, reason = depth_run(design, scenario, deadline)
        if reason:
            _fail(sidecar, "failed", f"instrumented run: {reason}")
        sidecar.write({"phase": "depth", "status": "ok", "max_depth": max_depth})
    try:
        time_func = slowed(_time_func, factor) if injected == design.NAME else _time_func  # --inject-slowdown
        runner.bench_time_func(name, time_func, design, scenario, deadline, sidecar,
                               inner_loops=scenario.items, metadata=metadata)
    except RuntimeError as exc:  # pyperf: a worker failed; it has said why on stderr
        print(f"prodcon: {name}: {exc}", file=sys.stderr)
        return 1
    return 0
