"""The tidy frame: one row per measured value of a run (pyperf value joined with its sidecar line).

Read from suite.json (the values, which are pyperf's, and the `prodcon_*` metadata) and the `value`-phase
lines of metrics.jsonl (CPU, verification, and whatever figures the workers add: latency percentiles,
depths, producer lag, start-up, io wait). Calibration, warm-up and other phases are not measured values
and are left out. A worker process is one pyperf run: `process` numbers them 0, 1, ... per benchmark, in
the suite's order, and `pid` is the worker's pid from the sidecar.

Sidecar keys this module does not know become columns as they are, so new figures drop in; a key that is
missing is a missing column or NaN, never an error. `latency_hist` (an HdrHistogram, encoded) stays in
the frame for the aggregation but is not written to frame.csv.
"""

from __future__ import annotations

import math
from collections import defaultdict

from analysis.load import RunData
from analysis.names import parse_name
from runs.errors import UsageError
from runs.store import LATENCY, TIME_PER_ITEM

__all__ = ["build_frame", "CSV_SKIP"]

CSV_SKIP = ("latency_hist",)  # long encoded strings: in the frame, not in frame.csv
_BOOKKEEPING = {"benchmark", "pid", "call", "phase", "loops", "items"}
_SUMMED = {"elapsed_s", "cpu_s", "io_wait_s", "startup_s", "latency_count", "latency_sum_s"}


def _combine(lines: list[dict]) -> dict:
    """One value's sidecar figures: its lines are the `loops` scenario runs of one time-function call."""
    if len(lines) == 1:
        return {key: value for key, value in lines[0].items() if key not in _BOOKKEEPING}
    keys = [key for key in dict.fromkeys(k for line in lines for k in line) if key not in _BOOKKEEPING]
    combined = {}
    for key in keys:
        found = [line[key] for line in lines if line.get(key) is not None]
        if not found:
            combined[key] = None
        elif key == "latency_hist":
            combined[key] = ";".join(found)  # merged with the others of the benchmark later
        elif key == "verified":
            combined[key] = all(found)
        elif all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in found):
            combined[key] = (sum(found) if key in _SUMMED else max(found) if "max" in key
                             else sum(found) / len(found))
        else:
            combined[key] = found[0]
    return combined


def _sidecar_by_process(run: RunData) -> dict[str, list[list[list[dict]]]]:
    """benchmark -> processes (in first-seen order) -> values (by call) -> that call's value lines."""
    calls: dict[str, dict[int, dict[int, list[dict]]]] = defaultdict(dict)
    for record in run.metrics:
        if record.get("phase") != "value" or record.get("status", "ok") != "ok":
            continue
        by_pid = calls[record["benchmark"]].setdefault(record.get("pid"), {})
        by_pid.setdefault(record.get("call"), []).append(record)
    return {name: [list(by_call.values()) for by_call in by_pid.values()] for name, by_pid in calls.items()}


def _rows(benchmark, sidecar: list[list[list[dict]]] | None) -> list[dict]:
    name = benchmark.get_name()
    try:
        fields = parse_name(name)
    except ValueError as exc:
        raise UsageError(f"suite.json: {exc}") from None
    metadata = benchmark.get_metadata()
    fields.update(model=metadata.get("prodcon_model", ""), items=metadata.get("prodcon_items"),
                  stop=metadata.get("prodcon_stop", fields["stop"]),
                  value_kind=metadata.get("prodcon_value", TIME_PER_ITEM))
    runs = [run for run in benchmark.get_runs() if run.values]  # calibration-only runs hold no value
    if sidecar is not None and [len(p) for p in sidecar] != [len(run.values) for run in runs]:
        sidecar = None  # the sidecar does not line up with the suite (e.g. a worker's file was lost)
    rows = []
    for process, run in enumerate(runs):
        loops = run.get_loops()
        for index, value in enumerate(run.values):
            row = dict(fields, process=process, value_index=index, loops=loops, value=value)
            lines = sidecar[process][index] if sidecar is not None else []
            if lines:
                row["pid"] = lines[0].get("pid")
                row.update(_combine(lines))
            rows.append(row)
    return rows


def _derive(row: dict) -> None:
    """Seconds and CPU per item, items/s, cores busy; the latency mean when it is pyperf's value."""
    items = row.get("items")
    runs_items = items * row["loops"] if items else None
    elapsed = row.get("elapsed_s")
    if row["value_kind"] == TIME_PER_ITEM:
        row["s_per_item"] = row["value"]
        if elapsed is not None and runs_items and not math.isclose(elapsed / runs_items, row["value"],
                                                                    rel_tol=1e-6):
            raise UsageError(f"metrics.jsonl does not match suite.json for {row['benchmark']} "
                             f"(process {row['process']}, value {row['value_index']})")
    else:
        row["s_per_item"] = elapsed / runs_items if elapsed is not None and runs_items else math.nan
        if row["value_kind"] == LATENCY:
            row["latency_mean_s"] = row["value"]
    row["items_per_s"] = 1 / row["s_per_item"] if row["s_per_item"] > 0 else math.nan
    cpu = row.get("cpu_s")
    if cpu is not None and runs_items:
        row["cpu_s_per_item"] = cpu / runs_items
        row["cpu_cores"] = cpu / elapsed if elapsed else math.nan


def build_frame(run: RunData):
    """The tidy pandas frame of a run: one row per measured value, scenario columns first."""
    import pandas as pd  # analysis only: never in a worker

    sidecar = _sidecar_by_process(run)
    rows = []
    for benchmark in run.benchmarks:
        for row in _rows(benchmark, sidecar.get(benchmark.get_name())):
            _derive(row)
            rows.append(row)
    frame = pd.DataFrame(rows)
    first = ["benchmark", "variant", "model", "scenario", "kind", "producers", "consumers", "topology",
             "capacity", "capacity_n", "items", "arrival", "arrival_kind", "offered_rate", "burst_size",
             "work", "work_kind", "work_s", "payload", "stop", "value_kind", "process", "pid",
             "value_index", "loops", "value", "s_per_item", "items_per_s", "elapsed_s", "cpu_s",
             "cpu_s_per_item", "cpu_cores", "status", "verified"]
    ordered = [c for c in first if c in frame.columns] + sorted(c for c in frame.columns if c not in first)
    return frame[ordered]
