"""The decision table: for each scenario, which design wins, by how much, and how sure that is.

Designs are ranked within a scenario on its deciding figure (lower is better): seconds per item for
closed-loop scenarios (throughput, consumer work); for paced arrivals the p99 latency when the run has
latency figures, else the mean latency, else seconds per item (which a paced scenario mostly spends
waiting for its schedule: the report says which figure decided). The winner's margin is runner-up /
winner of that figure, with a 95% interval over worker processes (runs/stats.py). Where the run
measured a closed-loop scenario's designs side by side in rounds, they are ranked by their paired
standings instead, and the margin is the runner-up's standing with its interval (analysis/standings.py).
"""

from __future__ import annotations

import math

from analysis.names import scenario_key
from runs.stats import ratio_interval

__all__ = ["FIGURE_TITLES", "deciding_figure", "decisions", "scenarios"]

FIGURE_TITLES = {"s_per_item": "time per item", "latency_p99_s": "p99 latency",
                 "latency_mean_s": "mean latency"}


def _has(rows, column: str) -> bool:
    return column in rows.columns and rows[column].notna().any()


def deciding_figure(kind: str, rows) -> str:
    """The column that ranks the designs of one scenario (`rows`: its ok cells)."""
    if kind == "paced":
        for column in ("latency_p99_s", "latency_mean_s"):
            if _has(rows, column):
                return column
    return "s_per_item"


def scenarios(table) -> list[str]:
    """The scenarios of an aggregate table, in report order."""
    firsts = table.groupby("scenario", sort=False).first().reset_index()
    return [row["scenario"] for row in sorted(firsts.to_dict("records"), key=scenario_key)]


def _best(rows, column: str):
    """(variant, value) of the lowest finite `column`, or (None, nan)."""
    if column not in rows.columns:
        return None, math.nan
    ranked = rows[rows[column].notna()].sort_values(column, kind="stable")
    if ranked.empty:
        return None, math.nan
    return ranked["variant"].iloc[0], float(ranked[column].iloc[0])


def decisions(table, processes) -> list[dict]:
    """One dict per scenario with at least one measured design, in report order.

    Keys: scenario, kind, figure (the deciding column), best, best_value, runner, runner_value, ratio,
    low, high (runner / best with its interval; NaN without a runner-up or interval), processes (fewest
    processes behind the two figures), designs (how many ranked), cheapest_cpu, cheapest_cpu_value,
    lowest_latency, lowest_latency_value (p99, paced scenarios with latency figures), others (variant ->
    status of the cells that did not run or failed).
    """
    found = []
    for scenario in scenarios(table):
        cells = table[table["scenario"] == scenario]
        ok = cells[cells["status"] == "ok"]
        kind = cells["kind"].iloc[0]
        figure = deciding_figure(kind, ok)
        paired = (figure == "s_per_item" and _has(ok, "standing") and "standing_paired" in ok.columns
                  and bool(ok["standing_paired"].fillna(False).astype(bool).all()))
        order = "standing" if paired else figure
        ranked = ok[ok[figure].notna()].sort_values(order, kind="stable") if figure in ok.columns else ok[:0]
        if ranked.empty:
            continue
        entry = {"scenario": scenario, "kind": kind, "figure": figure, "designs": len(ranked),
                 "best": ranked["variant"].iloc[0], "best_value": float(ranked[figure].iloc[0]),
                 "runner": None, "runner_value": math.nan, "ratio": math.nan, "low": math.nan,
                 "high": math.nan, "processes": int(ranked["n_processes"].iloc[0]), "paired": paired}
        if paired and len(ranked) > 1:  # round by round in shared processes (analysis/standings.py)
            best, runner = ranked.iloc[0], ranked.iloc[1]
            entry.update(runner=runner["variant"], runner_value=float(runner[figure]),
                         ratio=float(runner["standing"] / best["standing"]),
                         processes=int(min(ranked["n_processes"].iloc[:2])))
            if best["variant"] == runner["standing_ref"]:
                entry["low"], entry["high"] = float(runner["standing_low"]), float(runner["standing_high"])
        elif len(ranked) > 1:
            best, runner = ranked["benchmark"].iloc[0], ranked["benchmark"].iloc[1]
            entry.update(runner=ranked["variant"].iloc[1], runner_value=float(ranked[figure].iloc[1]))
            entry["ratio"] = entry["runner_value"] / entry["best_value"]
            top = processes.loc[processes["benchmark"] == runner, figure]
            bottom = processes.loc[processes["benchmark"] == best, figure]
            entry["low"], entry["high"] = ratio_interval(top, bottom)
            entry["processes"] = int(min(ranked["n_processes"].iloc[:2]))
        entry["cheapest_cpu"], entry["cheapest_cpu_value"] = _best(ok, "cpu_s_per_item")
        entry["lowest_latency"], entry["lowest_latency_value"] = (
            _best(ok, "latency_p99_s") if kind == "paced" else (None, math.nan))
        entry["others"] = dict(zip(cells.loc[cells["status"] != "ok", "variant"],
                                   cells.loc[cells["status"] != "ok", "status"], strict=True))
        found.append(entry)
    return found
