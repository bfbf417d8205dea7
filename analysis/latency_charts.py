"""The latency charts: the knee under rising load, and the percentiles of each paced scenario.

Latency is the time from an item's scheduled arrival to the start of its consumption (docs/design.md, "Latency
and coordinated omission"). These charts are drawn only when the run's paced cells carry latency figures
(latency_p50_s, latency_p99_s...); otherwise each is skipped with a one-line reason.
"""

from __future__ import annotations

import math
from pathlib import Path

from analysis.charts import SPREAD_NOTE, Chart
from analysis.names import format_capacity
from analysis.style import (
    STATUS_LOOK,
    DesignStyle,
    designs_in,
    errorbar,
    log_axis,
    missing_note,
    new_figure,
    plt,
    save,
    spread,
)
from runs import fmt
from variants.contract import SEED002  # seed 002's bursty producer, slow consumer

__all__ = ["sweep_groups", "load_chart", "percentile_chart", "seed002_cells"]

_GROUP = ["topology", "capacity", "work", "payload", "stop", "python"]  # python: the interpreter's tag or ""
_SHOWN = (("latency_p50_s", "p50"), ("latency_p90_s", "p90"), ("latency_p99_s", "p99"),
          ("latency_p999_s", "p99.9"), ("latency_max_s", "max"))


def _with_latency(table):
    if "latency_p99_s" not in table.columns:
        return table[:0]
    return table[(table["kind"] == "paced") & table["latency_p99_s"].notna()]


def sweep_groups(table) -> list[tuple]:
    """The (topology, capacity, work, payload, stop) groups measured at two or more steady rates."""
    steady = _with_latency(table)
    steady = steady[steady["arrival_kind"] == "steady"]
    if steady.empty:
        return []
    counts = steady.groupby(_GROUP, sort=False)["offered_rate"].nunique()
    return [key for key, count in counts.items() if count >= 2]


def seed002_cells(table):
    """The cells of seed 002's scenario (any capacity and topology)."""
    return table[(table["arrival"] == SEED002["arrival"]) & (table["work"] == SEED002["work"])]


def _no_latency_reason(table) -> str | None:
    if _with_latency(table).empty:
        if (table["kind"] == "paced").any():
            return "the paced cells of this run carry no latency figures (latency_p99_s)"
        return "no paced scenario in this run"
    return None


def load_chart(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """p50 and p99 latency against offered load (log scales), one line per design, a panel per group."""
    chart = Chart("latency_vs_load", "Where does each design's latency turn up as offered load rises?")
    reason = _no_latency_reason(table)
    groups = sweep_groups(table) if reason is None else []
    if not groups:
        chart.skipped = reason or ("no load sweep in this run: no scenario measured at two or more "
                                   "steady rates")
        return chart
    cells = _with_latency(table)
    cells = cells[cells["arrival_kind"] == "steady"]
    designs = designs_in(style, cells)
    fig, axes = new_figure(0.8 + 4.4 * len(groups), 8.0, f"{caption}\n{SPREAD_NOTE}",
                           nrows=2, ncols=len(groups), squeeze=False, sharex="col")
    knees = []
    for column, key in enumerate(groups):
        here = cells
        for name, value in zip(_GROUP, key, strict=True):
            here = here[here[name] == value]
        for line, (figure, label) in enumerate((("latency_p50_s", "p50"), ("latency_p99_s", "p99"))):
            ax = axes[line][column]
            for i, design in enumerate(designs):
                rows = here[here["variant"] == design].sort_values("offered_rate")
                dodge = 10 ** (0.008 * (i - (len(designs) - 1) / 2))  # side by side: error bars stay visible
                if not rows.empty:
                    xs = rows["offered_rate"].to_numpy(float) * dodge
                    errorbar(ax, xs, rows, figure, style(design), None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            log_axis(ax.xaxis, "rate")
            log_axis(ax.yaxis, "seconds")
            ax.grid(True, which="major", alpha=0.3)
            ax.set_ylabel(f"{label} latency (log scale)")
            if line == 0:
                topology, capacity, work, payload, stop, python = key
                extra = f", payload {payload} B" if payload else ""
                extra += f", on {python}" if python else ""
                extra += f", stop {stop}" if stop != "sentinels" else ""
                ax.set_title(f"{topology} (producers:consumers), capacity {capacity}, work {work}{extra}",
                             fontsize=10)
            else:
                ax.set_xlabel("offered load (items/s, log scale)")
        top = here.loc[here["offered_rate"] == here["offered_rate"].max()]
        if not top.empty:
            best = top.loc[top["latency_p99_s"].idxmin()]
            knees.append(f"at {fmt.rate(best['offered_rate'])} items/s ({key[0]}, capacity {key[1]}) "
                         f"the lowest p99 is {best['variant']}'s {fmt.seconds(best['latency_p99_s'])}")
    handles = [plt.Line2D([], [], **style(design), label=design) for design in designs]
    fig.legend(handles=handles, loc="outside right center", title="design", fontsize=9)
    fig.suptitle(chart.question, fontsize=12)
    chart.path = save(fig, folder / f"{chart.name}.png")
    chart.sentences = [f"At the highest load measured, {'; '.join(knees)}."] if knees else []
    return chart


def percentile_chart(table, style: DesignStyle, caption: str, folder: Path, name: str, question: str,
                     cells, absent: str) -> Chart:
    """Latency percentiles (p50 to max) per design, one panel per paced scenario in `cells`."""
    chart = Chart(name, question)
    reason = _no_latency_reason(cells) if not cells.empty else absent
    if reason:
        chart.skipped = reason
        return chart
    scenarios = list(dict.fromkeys(cells.sort_values(["capacity_n", "consumers", "producers", "arrival"])
                                   ["scenario"]))
    designs = designs_in(style, cells)
    columns = min(3, len(scenarios))
    lines = math.ceil(len(scenarios) / columns)
    width = max(4.4, 0.55 * len(designs) + 1.2)
    fig, axes = new_figure(0.8 + width * columns, 0.9 + 4.4 * lines,
                           f"{caption}\non p50 and p99 only: {SPREAD_NOTE}", nrows=lines, ncols=columns,
                           squeeze=False, sharey=True)
    marks = {"p50": ("o", 1.0), "p90": ("s", 0.8), "p99": ("D", 1.0), "p99.9": ("^", 0.8), "max": ("_", 1.0)}
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        here = cells[cells["scenario"] == scenario]
        for j, design in enumerate(designs):
            found = here[here["variant"] == design]
            if found.empty:
                continue
            row = found.iloc[0].to_dict()
            if row["status"] != "ok" or fmt.missing(row.get("latency_p99_s")):
                look = STATUS_LOOK.get(row["status"], STATUS_LOOK["failed"])
                ax.text(j, 0.03, row["status"] if row["status"] != "ok" else "no figure", rotation=0,
                        ha="center", va="bottom", fontsize=9, fontweight="bold", color=look[2],
                        transform=ax.get_xaxis_transform())
                continue
            color = style(design)["color"]
            ladder = [(j + 0.1 * (k - 2), row.get(figure)) for k, (figure, _) in enumerate(_SHOWN)]
            ladder = [(x, y) for x, y in ladder if not fmt.missing(y)]
            ax.plot([x for x, _ in ladder], [y for _, y in ladder], color=color, linewidth=1, alpha=0.4)
            for k, (figure, label) in enumerate(_SHOWN):
                value = row.get(figure)
                if fmt.missing(value):
                    continue
                marker, alpha = marks[label]
                err = None
                if label in ("p50", "p99"):
                    low, high, _ = spread(row, figure)
                    if low == low:
                        err = [[value - low], [high - value]]
                ax.errorbar([j + 0.1 * (k - 2)], [value], yerr=err, marker=marker, color=color, alpha=alpha,
                            markersize=7, capsize=3, linestyle="none",
                            markeredgewidth=2 if label == "max" else 1)
        ax.set_yscale("log")
        log_axis(ax.yaxis, "seconds")
        ax.set_xticks(range(len(designs)), designs, rotation=35, ha="right", fontsize=9)
        ax.set_xlim(-0.6, len(designs) - 0.4)
        first = here.iloc[0]
        on = f", on {first['python']}" if first.get("python") else ""
        ax.set_title(f"{first['topology']}, capacity {format_capacity(first['capacity_n'])}{on}\n"
                     f"{first['arrival']}, work {first['work']}", fontsize=10)
        ax.grid(True, axis="y", which="major", alpha=0.3)
        ok = here[(here["status"] == "ok") & here["latency_p99_s"].notna()]
        if not ok.empty:
            best, worst = ok.loc[ok["latency_p99_s"].idxmin()], ok.loc[ok["latency_p99_s"].idxmax()]
            chart.sentences.append(
                f"{first['topology']}, capacity {format_capacity(first['capacity_n'])}{on}, "
                f"{first['arrival']}: "
                f"lowest p99 {best['variant']} ({fmt.seconds(best['latency_p99_s'])}), highest "
                f"{worst['variant']} ({fmt.seconds(worst['latency_p99_s'])}).")
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("latency: scheduled arrival to consumption (log)")
    handles = [plt.Line2D([], [], linestyle="none", marker=m, color="0.3", alpha=a, label=label,
                          markersize=7, markeredgewidth=2 if label == "max" else 1)
               for label, (m, a) in marks.items()]
    fig.legend(handles=handles, loc="outside right center", title="percentile", fontsize=9)
    fig.suptitle(question, fontsize=12)
    chart.path = save(fig, folder / f"{name}.png")
    chart.sentences += [f"{note}." for note in missing_note(cells)]
    return chart
