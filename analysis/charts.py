"""The closed-loop charts: where each design stands, buffer size, consumer work, CPU per item.

Each function answers one question, draws it from the aggregate table (one row per cell) into a PNG and
returns a Chart: the file, the question, and one or two sentences that state only what the figures show.
A chart without data is skipped with a one-line reason. Spread drawn on every point: the 95% interval
over processes when there is one, else the min-max of the single values (the caption says which).

A run of two or more interpreters (`bench all --python`, analysis/interpreters.py) keeps them apart in
every chart: a scenario's label names its interpreter, the consumer-work chart gives each design one row
per interpreter, the capacity chart one panel per topology and interpreter, the CPU chart one marker fill
per interpreter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from analysis.decide import scenarios
from analysis.interpreters import interpreter_label, interpreters
from analysis.names import format_capacity
from analysis.style import (
    STATUS_LOOK,
    DesignStyle,
    designs_in,
    errorbar,
    log_axis,
    missing_note,
    new_figure,
    not_shown,
    plt,
    save,
    spread,
)
from runs import fmt
from variants import MODELS, MODULES, load

__all__ = ["Chart", "heatmap", "choices_heatmap", "capacity_chart", "work_chart", "cpu_chart", "SPREAD_NOTE"]

_LINESTYLES = ("-", "--", ":", "-.")  # work_chart: one per interpreter, in the run's order
_FILLS = ("full", "none", "left", "bottom")  # cpu_chart: one marker fill per interpreter
SPREAD_NOTE = ("bars: 95% interval over processes, or min-max of the values where there is none "
               "(no bar: a single value)")


@dataclass
class Chart:
    """One chart of the report: its file (None when skipped), question, sentences, why it was skipped."""

    name: str
    question: str
    path: Path | None = None
    sentences: list[str] = field(default_factory=list)
    skipped: str | None = None


def _first(table, scenario: str):
    return table[table["scenario"] == scenario].iloc[0]


def _alternatives(designs) -> set[str]:
    """The designs people choose instead of the seeds' (a registry design whose SEED is "-"), which the
    profiles run at their choice scenarios only; the seeds' designs and a user's own run everywhere."""
    return {design for design in designs if design in MODULES and load(design).SEED == "-"}


def heatmap(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """Designs x closed-loop scenarios, coloured by throughput relative to the scenario's fastest design; a
    cell whose values fall in separated regimes (the table's `modes` over 1) is marked 'N modes'.

    Without the designs people choose instead, which the profiles run at the choice scenarios only: they
    have a chart of their own, choices_heatmap, where every design stands beside them.
    """
    chart = Chart("throughput_heatmap", "Which design moves items fastest in each scenario?")
    cells = table[table["kind"] == "throughput"]
    if cells.empty or not (cells["status"] == "ok").any():
        chart.skipped = "no measured closed-loop scenario without consumer work in this run"
        return chart
    partial = _alternatives(designs_in(style, cells))
    designs = [design for design in designs_in(style, cells) if design not in partial]
    if partial:  # "fastest" is among the designs drawn: say so where the question is read
        chart.question = ("Which design moves items fastest in each scenario (the designs people choose "
                          "instead: next chart)?")
    _grid(chart, cells[cells["variant"].isin(designs)], designs, caption, folder)
    partial = [design for design in designs_in(style, cells) if design in partial]
    if partial:
        chart.sentences.append(f"The designs people choose instead ran at the choice scenarios only and "
                               f"are in the next chart: {', '.join(partial)}.")
    return chart


def choices_heatmap(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """Every design x the scenarios where the designs people choose instead ran (closed-loop, consumer work
    included), columns grouped by model; the same colours and marks as the heatmap."""
    chart = Chart("choices_heatmap", "Which design moves items fastest where every design ran, by model?")
    cells = table[(table["kind"] == "throughput") | (table["kind"] == "work")]
    cells = cells[cells["stop"] == "sentinels"] if "stop" in cells.columns else cells
    partial = _alternatives(designs_in(style, cells))
    if not partial:
        chart.skipped = "no design people choose instead in this run (the heatmap shows every design)"
        return chart
    chosen = set(cells.loc[cells["variant"].isin(partial) & (cells["status"] == "ok"), "scenario"])
    if not chosen:
        chart.skipped = "no design people choose instead was measured in this run"
        return chart
    order = {model: i for i, model in enumerate(MODELS)}
    models = dict(zip(cells["variant"], cells["model"], strict=False))
    designs = sorted(designs_in(style, cells), key=lambda d: order.get(models.get(d, ""), len(order)))
    _grid(chart, cells[cells["scenario"].isin(chosen)], designs, caption, folder, models)
    return chart


def _grid(chart: Chart, cells, designs: list[str], caption: str, folder: Path,
          models: dict[str, str] | None = None) -> None:
    """Draw designs x scenarios of `cells` into the chart (with a model row under the names if given)."""
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    rows = scenarios(cells)
    tags = interpreters(cells)
    marked = "modes" in cells.columns and bool((cells["modes"].astype(float) > 1).any())
    modes_note = ("\n'N modes' (top right of a cell): its values fall in N separated regimes, each one's "
                  "figure and share in REPORT.md" if marked else "")
    if len(tags) > 1:
        modes_note += ("\na row is one scenario on one interpreter, its colour relative to that row's "
                       "fastest: each design on one interpreter over another, with intervals, in REPORT.md")
    fig, ax = new_figure(2.4 + 1.1 * len(designs), 1.9 + (0.58 if marked else 0.46) * len(rows),
                         f"{caption}\ncell: items/s (median over processes) above its spread (95% interval "
                         f"over processes, or min-max of the values where there is none; '(1 value)': no "
                         f"spread){modes_note}")
    grid = [[math.nan] * len(designs) for _ in rows]
    best_count: dict[str, int] = {}
    relatives = []
    regime_cells = []
    for i, scenario in enumerate(rows):
        here = cells[cells["scenario"] == scenario]
        ok = here[(here["status"] == "ok") & here["s_per_item"].notna()]
        # relative to the fastest: the paired standing where the run has it (analysis/standings.py),
        # so that the chart and the decision table crown the same design
        standing = ok["standing"] if "standing" in ok.columns and ok["standing"].notna().all() else None
        ranks = standing if standing is not None else ok["s_per_item"]
        best = ranks.min() if not ok.empty else math.nan
        if not ok.empty:
            winner = ok.loc[ranks.idxmin(), "variant"]
            best_count[winner] = best_count.get(winner, 0) + 1
        for j, design in enumerate(designs):
            found = here[here["variant"] == design]
            if found.empty:
                ax.text(j, i, "not run", ha="center", va="center", fontsize=8, color="0.5")
                continue
            row = found.iloc[0].to_dict()
            if row["status"] != "ok" or fmt.missing(row.get("s_per_item")):
                status = row["status"] if row["status"] in STATUS_LOOK else "failed"
                face, hatch, color = STATUS_LOOK[status]
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=face, hatch=hatch,
                                       edgecolor=color, linewidth=0))
                ax.text(j, i, row["status"], ha="center", va="center", fontsize=9, color=color,
                        fontweight="bold", bbox={"facecolor": face, "edgecolor": "none", "pad": 1})
                continue
            relative = best / (row["standing"] if standing is not None else row["s_per_item"])
            grid[i][j] = relative
            relatives.append(relative)
            low, high, _ = spread(row, "items_per_s")
            text = fmt.rate(row["items_per_s"])
            if low == low and high == high:
                text += f"\n{fmt.rate(low)}-{fmt.rate(high)}"
            else:
                text += f"\n({row['n_values']} value{'s' if row['n_values'] != 1 else ''})"
            dark = relative < 0.25
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5, linespacing=1.1,
                    color="white" if dark else "black", fontweight="bold" if relative == 1 else "normal")
            modes = row.get("modes")
            if not fmt.missing(modes) and modes > 1:  # regimes (analysis/regimes.py): a median hides them
                ax.text(j + 0.46, i - 0.41, f"{modes:.0f} modes", ha="right", va="top", fontsize=7.5,
                        color="black", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none",
                                             "pad": 0.8})
                regime_cells.append(f"{design} at {interpreter_label(row, tags)} ({modes:.0f})")
    low = 10 ** math.floor(math.log10(max(min(relatives or [1.0]), 1e-4)))
    image = ax.imshow(grid, cmap="viridis", norm=LogNorm(vmin=min(low, 0.1), vmax=1), aspect="auto")
    bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
    bar.set_label("speed relative to the fastest (1 = fastest)")
    log_axis(bar.ax.yaxis, "ratio")
    labels = [f"{d}\n({models.get(d, '?')})" for d in designs] if models else designs
    ax.set_xticks(range(len(designs)), labels, fontsize=9)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), [interpreter_label(_first(cells, s), tags) for s in rows], fontsize=9)
    ax.set_ylabel("producers:consumers, capacity" + (" · interpreter" if len(tags) > 1 else ""))
    ax.tick_params(length=0)
    for i in range(1, len(rows)):  # a rule between topologies
        if _first(cells, rows[i])["topology"] != _first(cells, rows[i - 1])["topology"]:
            ax.axhline(i - 0.5, color="white", linewidth=3)
        elif len(tags) > 1 and _first(cells, rows[i])["base_scenario"] != _first(cells, rows[i - 1])[
                "base_scenario"]:  # a thinner one between the interpreters of one scenario and the next
            ax.axhline(i - 0.5, color="white", linewidth=1.2)
    for j in range(1, len(designs)) if models else ():  # a rule between models
        if models.get(designs[j]) != models.get(designs[j - 1]):
            ax.axvline(j - 0.5, color="white", linewidth=3)
    paired = "standing_paired" in cells.columns and cells["standing_paired"].fillna(False).astype(bool).any()
    judged = " (judged round by round: designs shared processes)" if paired else ""
    ax.set_title(f"{chart.question}\nitems/s of each design; colour relative to the fastest, bold = "
                 f"fastest{judged}; n/a and failed cells hatched", fontsize=11)
    chart.path = save(fig, folder / f"{chart.name}.png")
    wins = ", ".join(f"{name} in {count}" for name, count in
                     sorted(best_count.items(), key=lambda item: (-item[1], item[0])))
    chart.sentences.append(f"Fastest design per scenario ({len(rows)} scenarios): {wins}.")
    if regime_cells:
        chart.sentences.append(f"Values in separated regimes (modes), not one steady figure: "
                               f"{'; '.join(regime_cells)}.")
    chart.sentences += _missing_notes(cells, tags)


def _missing_notes(cells, tags: list[str]) -> list[str]:
    """missing_note's sentences, one set per interpreter in a run of two or more ('On 3.13.5t, n/a: ...')."""
    if len(tags) < 2:
        return [f"{note}." for note in missing_note(cells)]
    return [f"On {tag}, {note}." for tag in tags for note in missing_note(cells[cells["python"] == tag])]


def capacity_chart(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """Items/s against buffer capacity, one line per design, one panel per topology (and interpreter, in a
    run of two or more: the panels share their y axis).

    Without the designs people choose instead: run at one or two capacities (the choice scenarios), they
    draw no trend, and their figures are in choices_heatmap.
    """
    chart = Chart("throughput_vs_capacity", "How does buffer capacity change each design's throughput?")
    cells = table[(table["kind"] == "throughput") & (table["payload"] == 0) & (table["stop"] == "sentinels")]
    tags = interpreters(cells)
    topologies = [t for t in dict.fromkeys(cells.sort_values(["producers", "consumers"])["topology"])
                  if cells.loc[cells["topology"] == t, "capacity"].nunique() > 1]
    panels = [(topology, tag) for topology in topologies for tag in (tags or [""])
              if (cells.loc[(cells["topology"] == topology) & (cells["python"] == tag), "capacity"].nunique()
                  > 1)]
    if not panels or "items_per_s" not in cells.columns:
        chart.skipped = "no topology measured at two or more buffer capacities in this run"
        return chart
    capacities = sorted(set(cells["capacity_n"]))
    position = {c: i for i, c in enumerate(capacities)}
    partial = _alternatives(designs_in(style, cells))
    designs = [design for design in designs_in(style, cells) if design not in partial]
    partial = [design for design in designs_in(style, cells) if design in partial]
    cells = cells[cells["variant"].isin(designs)]
    columns = 2 if len(panels) <= 4 else 4  # 2 x 2 keeps four panels tall enough to read
    lines = math.ceil(len(panels) / columns)
    columns = min(columns, len(panels))
    fig, axes = new_figure(2.0 + 5.0 * columns, 1.4 + 4.0 * lines,
                           f"{caption}\n{SPREAD_NOTE}", nrows=lines, ncols=columns, squeeze=False,
                           sharey=True)
    growth: dict[tuple[str, str], list[float]] = {}
    drawn: set[str] = set()
    for ax, (topology, tag) in zip(axes.flat, panels, strict=False):
        here = cells[(cells["topology"] == topology) & (cells["python"] == tag)]
        for i, design in enumerate(designs):
            rows = here[(here["variant"] == design) & (here["status"] == "ok")].sort_values("capacity_n")
            rows = rows[rows["items_per_s"].notna()]
            if rows.empty:
                continue
            dodge = 0.03 * (i - (len(designs) - 1) / 2)  # side by side, so that error bars do not hide
            errorbar(ax, [position[c] + dodge for c in rows["capacity_n"]], rows, "items_per_s",
                     style(design), None)
            drawn.add(design)
            if len(rows) > 1:
                gain = rows["items_per_s"].iloc[-1] / rows["items_per_s"].iloc[0]
                growth.setdefault((tag, design), []).append(gain)
        ax.set_yscale("log")
        log_axis(ax.yaxis, "rate")
        ax.set_xticks(range(len(capacities)), ["∞" if math.isinf(c) else f"{c:g}" for c in capacities])
        on = f", on {tag}" if len(tags) > 1 else ""
        ax.set_title(f"{topology} (producers:consumers){on}\n{not_shown(here)}", fontsize=9.5)
        ax.set_xlabel("buffer capacity (items)")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("items/s (log scale; higher is better)")
    handles = [plt.Line2D([], [], **style(design), label=design) for design in designs if design in drawn]
    fig.legend(handles=handles, loc="outside right center", title="design", fontsize=9)
    fig.suptitle(chart.question, fontsize=12)
    chart.path = save(fig, folder / f"{chart.name}.png")
    for tag in tags or [""]:
        found = {design: values for (where, design), values in growth.items() if where == tag}
        if not found:
            continue
        parts = ", ".join(f"{design} x{_median(values):.2g}" for design, values in
                          sorted(found.items(), key=lambda item: -_median(item[1])))
        on = f" on {tag}" if len(tags) > 1 else ""
        chart.sentences.append(f"Throughput at the largest buffer over the smallest{on} (median over "
                               f"topologies): {parts}.")
    if partial:
        chart.sentences.append(f"Not drawn, measured at the choice scenarios only (see the previous chart): "
                               f"{', '.join(partial)}.")
    return chart


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def work_chart(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """Items/s per design at each topology the consumer work was measured, one panel per work spec: a
    dumbbell per design (hollow: fewest producers and consumers; filled: most), their ratio at the right.

    In a run of two or more interpreters each design has one row per interpreter, named on the axis, the
    rows of the interpreters after the first drawn dashed: the same design on two interpreters is never one
    line.
    """
    chart = Chart("consumer_work", "What do more producers and consumers buy each design, by consumer work?")
    work = table[table["kind"] == "work"]
    if work.empty:
        chart.skipped = "no scenario with consumer work in this run"
        return chart
    capacity = work["capacity_n"].mode().iloc[0]
    topologies = list(dict.fromkeys(work.sort_values(["producers", "consumers"])["topology"]))
    if len(topologies) < 2:
        chart.skipped = f"consumer work measured at one topology only ({topologies[0]}): nothing to compare"
        return chart
    cells = table[table["kind"].isin(["throughput", "work"]) & (table["capacity_n"] == capacity)
                  & table["topology"].isin(topologies) & (table["payload"] == 0)
                  & (table["stop"] == "sentinels")]
    works = [w for w in ["none", *dict.fromkeys(work.sort_values(["work_kind", "work_s"])["work"])]
             if w in set(cells["work"])]
    tags = interpreters(cells)
    several = len(tags) > 1
    # one row per design and interpreter, the interpreters of a design next to each other
    rows = [(design, tag) for design in designs_in(style, cells) for tag in (tags or [""])
            if ((cells["variant"] == design) & (cells["python"] == tag)).any()]
    small, large = topologies[0], topologies[-1]
    fig, axes = new_figure(1.4 + 4.4 * len(works), 2.0 + 0.45 * len(rows),
                           f"{caption}\n{SPREAD_NOTE}; capacity {format_capacity(capacity)}",
                           ncols=len(works), squeeze=False, sharey=True)
    for ax, spec in zip(axes[0], works, strict=True):
        here = cells[cells["work"] == spec]
        gains: dict[str, list[tuple[str, float]]] = {}
        for j, (design, tag) in enumerate(rows):
            figures, color, missing = {}, style(design)["color"], []
            if several and j and rows[j - 1][0] != design:  # a rule between designs
                ax.axhline(j - 0.5, color="0.85", linewidth=0.8, zorder=1)
            for k, topology in enumerate(topologies):
                found = here[(here["variant"] == design) & (here["python"] == tag)
                             & (here["topology"] == topology)]
                if found.empty:
                    continue
                row = found.iloc[0].to_dict()
                if row["status"] != "ok" or fmt.missing(row.get("items_per_s")):
                    missing.append(f"{topology} {row['status']}")
                    continue
                low, high, _ = spread(row, "items_per_s")
                value = row["items_per_s"]
                filled = topology == large
                ax.errorbar([value], [j], xerr=[[value - low], [high - value]] if low == low else None,
                            marker="o" if k in (0, len(topologies) - 1) else "s", markersize=8,
                            color=color, markerfacecolor=color if filled else "white", capsize=3,
                            elinewidth=1, linestyle="none", zorder=3)
                figures[topology] = value
            if len(figures) > 1:
                ordered = [figures[t] for t in topologies if t in figures]
                ax.plot(ordered, [j] * len(ordered), color=color, linewidth=2, alpha=0.5, zorder=2,
                        linestyle=_LINESTYLES[(tags.index(tag) if tag in tags else 0) % len(_LINESTYLES)])
            if missing:
                ax.text(0.02, j, ", ".join(missing), va="center", fontsize=8,
                        color=STATUS_LOOK["n/a"][2], transform=ax.get_yaxis_transform())
            if small in figures and large in figures:
                gain = figures[large] / figures[small]
                gains.setdefault(tag, []).append((design, gain))
                ax.text(1.01, j, f"x{gain:.2f}", va="center", fontsize=9,
                        transform=ax.get_yaxis_transform(), clip_on=False)
        ax.set_xscale("log")
        log_axis(ax.xaxis, "rate")
        ax.margins(x=0.15)
        ax.set_title(f"work {spec}", fontsize=10)
        ax.set_xlabel("items/s (log scale; higher is better)")
        ax.grid(True, axis="x", which="both", alpha=0.25)
        parts = [("on " + tag + ": " if several else "") + ", ".join(
                     f"{d} x{g:.2f}" for d, g in sorted(gains[tag], key=lambda item: -item[1]))
                 for tag in tags or [""] if gains.get(tag)]
        if parts:
            chart.sentences.append(f"Work {spec}, {large} over {small}: {'; '.join(parts)}.")
    axes[0][0].set_yticks(range(len(rows)), [f"{design} · {tag}" if several else design
                                             for design, tag in rows])
    axes[0][0].set_ylim(len(rows) - 0.5, -0.5)
    handles = [plt.Line2D([], [], marker="o", color="0.3", markerfacecolor="white", linestyle="none",
                          markersize=8, label=small),
               plt.Line2D([], [], marker="o", color="0.3", linestyle="none", markersize=8, label=large)]
    handles[1:1] = [plt.Line2D([], [], marker="s", color="0.3", markerfacecolor="white", linestyle="none",
                               markersize=8, label=t) for t in topologies[1:-1]]
    if several:
        handles += [plt.Line2D([], [], color="0.3", linewidth=2, alpha=0.5, label=tag,
                               linestyle=_LINESTYLES[i % len(_LINESTYLES)]) for i, tag in enumerate(tags)]
    fig.legend(handles=handles, loc="outside right center",
               title="producers:\nconsumers" + ("\n(lines: interpreter)" if several else ""), fontsize=9)
    on = "; one row per design and interpreter" if several else ""
    fig.suptitle(f"{chart.question}\n(right of each panel: items/s at {large} / at {small}{on})", fontsize=12)
    chart.path = save(fig, folder / f"{chart.name}.png")
    return chart


def cpu_chart(table, style: DesignStyle, caption: str, folder: Path) -> Chart:
    """CPU seconds per item against items/s, one panel per kind of scenario, with 'cores busy' guides.

    In a run of two or more interpreters a point's fill names its interpreter (filled: the first).
    """
    import numpy as np

    chart = Chart("cpu_per_item", "What does each item cost in CPU time, and is it bought with busy waiting?")
    needed = {"cpu_s_per_item", "items_per_s"}
    ok = table[table["status"] == "ok"] if needed <= set(table.columns) else table[:0]
    ok = ok[ok["cpu_s_per_item"].notna() & ok["items_per_s"].notna()] if not ok.empty else ok
    if ok.empty:
        chart.skipped = "no CPU figures in this run's metrics"
        return chart
    kinds = [k for k in ("throughput", "work", "paced") if k in set(ok["kind"])]
    titles = {"throughput": "flat out, no work", "work": "flat out, consumer work",
              "paced": "paced arrivals"}
    designs = designs_in(style, ok)
    tags = interpreters(ok)
    fills = {tag: _FILLS[i % len(_FILLS)] for i, tag in enumerate(tags)}
    fig, axes = new_figure(0.8 + 4.6 * len(kinds), 5.4, f"{caption}\n{SPREAD_NOTE}; one point per "
                           f"benchmark; grey lines: CPU time / wall time = 1 and 2 cores busy",
                           ncols=len(kinds), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        here = ok[ok["kind"] == kind]
        for design, tag in [(design, tag) for design in designs for tag in tags or [""]]:
            rows = here[(here["variant"] == design) & (here["python"] == tag)]
            if rows.empty:
                continue
            xs, ys = rows["items_per_s"].to_numpy(float), rows["cpu_s_per_item"].to_numpy(float)
            xerr, yerr = [[], []], [[], []]
            for row in rows.to_dict("records"):
                for figure, err in (("items_per_s", xerr), ("cpu_s_per_item", yerr)):
                    low, high, _ = spread(row, figure)
                    err[0].append(row[figure] - low if low == low else 0.0)
                    err[1].append(high - row[figure] if high == high else 0.0)
            look = style(design)
            bars = ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, linestyle="none", marker=look["marker"],
                               color=look["color"], elinewidth=0.7, capsize=1.5,
                               fillstyle=fills.get(tag, "full"),  # larger unless filled: a ring shows
                               markersize=6 if fills.get(tag, "full") == "full" else 8)  # around a twin
            for line in bars.lines[1] + bars.lines[2]:  # caps and bars lighter than the points
                line.set_alpha(0.45)
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_axis(ax.xaxis, "rate")
        log_axis(ax.yaxis, "seconds")
        left, right = ax.get_xlim()
        xs = np.geomspace(left, right, 20)
        for cores in (1, 2):
            ax.plot(xs, cores / xs, color="0.6", linewidth=0.8, linestyle="--" if cores == 2 else "-")
        ax.set_xlim(left, right)
        ax.set_title(titles[kind], fontsize=10)
        ax.set_xlabel("items/s (log; right is faster)")
        ax.set_ylabel("CPU seconds per item (log; lower is cheaper)")
        ax.grid(True, which="major", alpha=0.3)
    handles = [plt.Line2D([], [], linestyle="none", marker=style(d)["marker"], color=style(d)["color"],
                          label=d) for d in designs]
    if len(tags) > 1:
        handles += [plt.Line2D([], [], linestyle="none", marker="o", color="0.3", fillstyle=fills[tag],
                               label=f"on {tag}") for tag in tags]
    handles += [plt.Line2D([], [], color="0.6", linewidth=0.8, label="1 core busy"),
                plt.Line2D([], [], color="0.6", linewidth=0.8, linestyle="--", label="2 cores busy")]
    fig.legend(handles=handles, loc="outside right center", title="design", fontsize=9)
    fig.suptitle(chart.question, fontsize=12)
    chart.path = save(fig, folder / f"{chart.name}.png")
    for tag in tags or [""]:
        here = ok[ok["python"] == tag]
        here = here[here["cpu_cores"].notna()] if "cpu_cores" in here.columns else here[:0]
        if here.empty:
            continue
        busy = here.groupby("variant")["cpu_cores"].median().sort_values(ascending=False)
        parts = ", ".join(f"{name} {value:.2f}" for name, value in busy.items())
        on = f" on {tag}" if len(tags) > 1 else ""
        chart.sentences.append(f"CPU time over wall time (cores kept busy){on}, median over scenarios: "
                               f"{parts}.")
    return chart
