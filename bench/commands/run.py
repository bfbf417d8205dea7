"""`python -m bench run`: run one scenario once, verify it, print its figures; exit 0 only when it verified.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.designs import get_design
from bench.flags import apply_spin_rate, deadline_from_args, scenario_from_args
from bench.once import run_once
from runs.errors import UsageError

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Run one scenario once, verify it, print its figures; exit 0 only when it verified."""
    from bench.latency import format_figures
    from bench.once import measured_waits, run_record
    from variants import workload

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
        "variant": design.NAME, "benchmark": f"{design.NAME}/{scenario.name}",
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
            print(f"  {format_figures(report)}")
    else:
        print(f"{report['benchmark']}: {result.status}: {result.reason}", file=sys.stderr)
    if result.poisoned:  # threads of a hung design are still running: leave without waiting for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 0 if result.ok else 1
