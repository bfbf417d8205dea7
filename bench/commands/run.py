"""`python -m bench run`: run one scenario once, verify it, print its figures; exit 0 only when it verified.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.designs import get_design
from bench.flags import apply_spin_rate, deadline_from_args, scenario_from_args
from bench.interpreters import benchmark_name, check_tag, here_tag, prepare_all
from bench.once import run_once
from runs.errors import UsageError

__all__ = ["main", "run_under"]


def main(args: argparse.Namespace) -> int:
    """Run one scenario once, verify it, print its figures; exit 0 only when it verified."""
    from bench.once import measured_waits, run_record
    from variants import workload

    check_tag(args.python_tag)
    design = get_design(args.variant)
    scenario = scenario_from_args(args)
    apply_spin_rate(args)
    why = design.unsupported(scenario)
    if why:
        raise UsageError(f"{design.NAME} does not support this scenario: {why}")
    # equal waits (docs/design.md, "Equal waits")
    slack = workload.timer_slack_ns() if workload.set_timer_slack() else None
    waits = measured_waits(scenario)
    result = run_once(design, scenario, deadline_from_args(args))
    report = {
        "variant": design.NAME, "benchmark": benchmark_name(design.NAME, scenario.name, args.python_tag),
        "python": here_tag(),
        "producers": scenario.producers, "consumers": scenario.consumers,
        "capacity": scenario.capacity, "items": scenario.items, "arrival": scenario.arrival,
        "work": scenario.work, "payload": scenario.payload, "timer_slack_ns": slack, **waits,
        "status": result.status, "verified": result.ok, "error": result.reason,
        "elapsed_s": None, "items_per_s": None, "s_per_item": None, "cpu_s_per_item": None, "startup_s": None,
    }
    if result.ok:
        record = run_record(scenario, result.outcome)
        record.pop("latency_hist", None)  # for merging across processes; not for a terminal
        report.update(record, items_per_s=scenario.items / record["elapsed_s"],
                      s_per_item=record["elapsed_s"] / scenario.items)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    elif result.ok:
        print(f"{report['benchmark']}: {scenario.items} items in {report['elapsed_s']:.4f} s, "
              f"{report['items_per_s']:,.0f} items/s, {report['s_per_item'] * 1e6:.3f} us/item, verified")
        if "latency_p50_s" in report:
            from bench.latency import format_figures  # hdrhistogram: paced runs only (bench.once.run_record)

            print(f"  {format_figures(report)}")
    else:
        print(f"{report['benchmark']}: {result.status}: {result.reason}", file=sys.stderr)
    if result.poisoned:  # threads of a hung design are still running: leave without waiting for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 0 if result.ok else 1


def run_under(pythons: list[str], argv: list[str]) -> int:
    """`bench run ... --python A --python B`: the whole command under each interpreter in turn, its
    benchmark named after it; one output file (-o) gets every interpreter's benchmark. The worst exit
    status wins."""
    import subprocess

    from bench.machine import ROOT

    status = 0
    output = None
    rest = []
    args = iter(argv)
    for arg in args:  # pyperf's -o FILE: the first interpreter writes it, the others add to it
        if arg in ("-o", "--output"):
            output = next(args, None)
        elif arg.startswith("--output="):
            output = arg.removeprefix("--output=")
        else:
            rest.append(arg)
    if output is not None and os.path.exists(output):
        raise UsageError(f"{output}: exists already; pyperf never overwrites a result")
    for index, interpreter in enumerate(prepare_all(pythons)):
        where = ([] if output is None or "--once" in rest
                 else [f"--output={output}"] if index == 0 else [f"--append={output}"])
        cmd = [interpreter.executable, "-m", "bench", "run", *rest, *where, f"--python-tag={interpreter.tag}"]
        status = max(status, subprocess.run(cmd, cwd=ROOT).returncode)
        sys.stdout.flush()
    return status
