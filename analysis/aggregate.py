"""From the tidy frame to one row per worker process, then one row per benchmark (cell).

A process's figure is the median of its values (latency percentiles: read from the merge of its values'
histograms when the run has them). A benchmark's figure is the median of its process figures, with a 95%
interval over processes (runs/stats.py says how, and when it is missing); `_min`/`_max` are the
extremes of the single values. Cells that did not produce values (n/a, failed, timeout, pending in
run.json) get a row too, with their status and reason and no figures.
"""

from __future__ import annotations

from analysis.names import parse_name
from analysis.regimes import regime_columns
from analysis.standings import round_relative, standings
from runs.histograms import merged_percentiles
from runs.stats import median_interval, spread_ratio

__all__ = ["FIGURES", "INTERVAL_FIGURES", "process_frame", "aggregate", "analyse"]

# figures summarised per benchmark when the frame has them (lower is better for the time-like ones)
FIGURES = ("s_per_item", "cpu_s_per_item", "cpu_cores", "latency_mean_s", "latency_p50_s", "latency_p90_s",
           "latency_p99_s", "latency_p999_s", "latency_max_s", "max_depth", "mean_depth",
           "producer_lag_p99_s", "producer_lag_max_s", "latency_growth", "startup_s", "io_wait_s")
INTERVAL_FIGURES = ("s_per_item", "cpu_s_per_item", "latency_mean_s", "latency_p50_s", "latency_p99_s")
_SCENARIO = ("benchmark", "variant", "model", "scenario", "kind", "producers", "consumers", "topology",
             "capacity", "capacity_n", "items", "arrival", "arrival_kind", "offered_rate", "burst_size",
             "work", "work_kind", "work_s", "payload", "stop", "value_kind", "python", "base_scenario")


def _figures(frame) -> list[str]:
    return [name for name in FIGURES if name in frame.columns and frame[name].notna().any()]


def _hists(rows) -> list[str]:
    if "latency_hist" not in rows.columns:
        return []
    return [text for text in rows["latency_hist"] if isinstance(text, str) and text]


def process_frame(frame):
    """One row per (benchmark, process): the median of each figure over the process's values."""
    import pandas as pd  # analysis only

    figures = _figures(frame)
    rows = []
    for (benchmark, process), values in frame.groupby(["benchmark", "process"], sort=False):
        row = {"benchmark": benchmark, "process": process, "n_values": len(values)}
        if "pid" in values.columns:
            row["pid"] = values["pid"].iloc[0]
        row.update({name: values[name].median() for name in figures})
        row.update(merged_percentiles(_hists(values)))  # exact percentiles beat medians of percentiles
        rows.append(row)
    return pd.DataFrame(rows)


def _model_of(frame) -> dict[str, str]:
    if frame.empty or "model" not in frame.columns:
        return {}
    return dict(frame.groupby("variant")["model"].first())


def aggregate(frame, processes, info: dict):
    """One row per cell of the run (measured or not); see the module docstring for the figures."""
    import pandas as pd  # analysis only

    cells = info.get("cells", {})
    figures = [name for name in FIGURES if name in processes.columns and processes[name].notna().any()]
    rows = []
    relatives = round_relative(frame)
    for benchmark, values in frame.groupby("benchmark", sort=False):
        row = {key: values[key].iloc[0] for key in _SCENARIO if key in values.columns}
        procs = processes[processes["benchmark"] == benchmark]
        row.update(status=cells.get(benchmark, {}).get("status", "ok"), reason=None,
                   n_values=len(values), n_processes=len(procs))
        for name in figures:
            row[name] = procs[name].median()
            if name in values.columns:
                row[f"{name}_min"], row[f"{name}_max"] = values[name].min(), values[name].max()
            if name in INTERVAL_FIGURES:
                row[f"{name}_low"], row[f"{name}_high"] = median_interval(procs[name])
        merged = merged_percentiles(_hists(values))
        row.update(merged)  # the benchmark's percentiles from every histogram merged
        # the extremes of the process figures, where the single values have none
        for name in (key for key in merged if key in FIGURES):
            row.setdefault(f"{name}_min", procs[name].min())
            row.setdefault(f"{name}_max", procs[name].max())
        row["process_spread"] = spread_ratio(procs["s_per_item"])
        relative = relatives.loc[values.index]  # paired: regimes on values the moment's noise left alone
        basis = relative if relative.notna().all() else values["value"]
        row.update(regime_columns(basis, values["process"], figures=values["value"]))  # analysis/regimes.py
        rows.append(row)
    models = _model_of(frame)
    measured = {row["benchmark"] for row in rows}
    for name, cell in cells.items():
        if name in measured:
            continue
        try:
            fields = parse_name(name)
        except ValueError:
            continue  # run.json lists it, but it is no benchmark of this suite: nothing to show
        rows.append(dict(fields, model=models.get(fields["variant"], ""), status=cell.get("status"),
                         reason=cell.get("reason"), n_values=0, n_processes=0))
    table = pd.DataFrame(rows)
    if not table.empty and "scenario" in table.columns and "status" in table.columns:
        found = standings(frame, processes, table)
        for column in ("standing", "standing_low", "standing_high", "standing_ref", "standing_paired"):
            table[column] = [found.get(name, {}).get(column) for name in table["benchmark"]]
    if "s_per_item" in table.columns:
        table["items_per_s"] = 1 / table["s_per_item"]
        for a, b in (("low", "high"), ("high", "low"), ("min", "max"), ("max", "min")):
            if f"s_per_item_{b}" in table.columns:
                table[f"items_per_s_{a}"] = 1 / table[f"s_per_item_{b}"]
    return table



def analyse(run):
    """(frame, processes, table) of a loaded run: see build_frame, process_frame and aggregate."""
    from analysis.frame import build_frame

    frame = build_frame(run)
    processes = process_frame(frame)
    return frame, processes, aggregate(frame, processes, run.info)
