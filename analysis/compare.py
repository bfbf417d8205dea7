"""`python -m bench compare RUN_A RUN_B [--out DIR]`: how every benchmark moved from run A to run B.

Writes a comparison folder: compare.csv (one row per benchmark in both runs), forest.png (B/A ratios,
sorted, each with its interval) and COMPARE.md (the table, the benchmarks only in one run, status changes,
and how stable the ranking of the designs was between the runs). It decides nothing: two stored runs carry
the machine's drift between them as well as any change (the regression gate, `bench check`, measures both
sides in one job instead).

Each benchmark's figure is pyperf's value (seconds per item, or the mean latency where the run stored
latency); the ratio B/A is of the medians over worker processes, with a 95% bootstrap interval over
processes (runs/stats.py; missing with fewer than 3 processes on a side).
"""

from __future__ import annotations

import math
from pathlib import Path

from analysis.names import KINDS
from analysis.report import NOISY, machine_noise, machine_noise_text
from analysis.standings import value_figure
from runs import fmt
from runs.comparison import Entry, match
from runs.errors import UsageError
from runs.stats import MIN_PROCESSES, ratio_interval

__all__ = ["compare_tables", "rank_stability", "compare_runs", "format_compare", "COMPARE", "MAX_FOREST"]

COMPARE = "COMPARE.md"
MAX_FOREST = 150  # rows of the forest plot; beyond, the most changed are shown


def _entries(table, procs) -> dict:
    """benchmark -> runs.comparison.Entry of one run's aggregate table and its per-process figures."""
    kinds = dict(zip(table["benchmark"], table.get("value_kind", [None] * len(table)), strict=True))
    figures: dict[str, list[float]] = {}
    for row in procs.to_dict("records"):
        value = row.get(value_figure(kinds.get(row["benchmark"])))
        if not fmt.missing(value):
            figures.setdefault(row["benchmark"], []).append(float(value))
    return {row["benchmark"]: Entry(row["status"],
                                    None if fmt.missing(row.get("items")) else int(row["items"]),
                                    None if fmt.missing(row.get("value_kind")) else row["value_kind"],
                                    tuple(figures.get(row["benchmark"], ())))
            for row in table.to_dict("records")}


def compare_tables(table_a, procs_a, table_b, procs_b):
    """(ratios, only_a, only_b, changed): the per-benchmark comparison of two aggregate tables.

    Which benchmarks are compared is runs/comparison.py's rule, shared with the stored-run check.
    ratios: a pandas frame, one row per benchmark measured (status ok) in both over the same items and
    kind of value, sorted by ratio: benchmark, variant, scenario, figure, a, b, ratio (b/a), low, high,
    n_a, n_b. only_a / only_b: benchmark names found in one table only. changed: (benchmark, status in A,
    status in B, why) for the benchmarks in both that cannot be compared (a status that differs, other
    item counts or another kind of value).
    """
    import pandas as pd  # analysis only

    found = match(_entries(table_a, procs_a), _entries(table_b, procs_b))
    a, b = table_a.set_index("benchmark"), table_b.set_index("benchmark")
    changed = []
    for name, status_a, status_b, why in found.changed:
        reason = b.loc[name].get("reason") if status_b != "ok" else a.loc[name].get("reason")
        changed.append((name, status_a, status_b, why if fmt.missing(reason) or status_a == status_b
                        else str(reason)))
    rows = []
    for name in found.both:
        left, right = a.loc[name], b.loc[name]
        figure = value_figure(left.get("value_kind"))
        top = procs_b.loc[procs_b["benchmark"] == name, figure]
        bottom = procs_a.loc[procs_a["benchmark"] == name, figure]
        low, high = ratio_interval(top, bottom)
        rows.append({"benchmark": name, "variant": left["variant"], "scenario": left["scenario"],
                     "figure": figure, "a": left[figure], "b": right[figure],
                     "ratio": right[figure] / left[figure], "low": low, "high": high,
                     "n_a": int(left["n_processes"]), "n_b": int(right["n_processes"])})
    columns = ["benchmark", "variant", "scenario", "figure", "a", "b", "ratio", "low", "high", "n_a", "n_b"]
    ratios = pd.DataFrame(rows, columns=columns)
    return (ratios.sort_values("ratio", kind="stable").reset_index(drop=True), sorted(found.only_a),
            sorted(found.only_b), changed)


def _relative(table) -> dict:
    """scenario -> {variant: figure} over the ok cells with a figure."""
    found: dict[str, dict[str, float]] = {}
    for row in table[table["status"] == "ok"].to_dict("records"):
        value = row.get("standing")  # paired or not, over the scenario's reference (analysis/standings.py)
        if fmt.missing(value):
            value = row.get(value_figure(row.get("value_kind")))
        if not fmt.missing(value) and value > 0:
            found.setdefault(row["scenario"], {})[row["variant"]] = float(value)
    return found


def rank_stability(table_a, table_b) -> dict:
    """How each design's standing in its scenario moved between two runs (for tuning a profile's effort).

    Per scenario, over the designs measured in both runs: each design's figure relative to the scenario's
    fastest design (1 = fastest) in A and in B; its change is max(B/A, A/B) of that relative figure, minus 1
    (0.10 = moved by 10%). Pairs where the design is the fastest in both runs are left out (1 both times
    by definition). Returns pairs, median, p90, max (fractions; NaN without pairs), worst (scenario,
    design), scenarios (compared), fastest_differs (how many of those have another fastest design),
    differs ([(scenario, fastest in A, fastest in B)]) and by_kind (kind of scenario -> pairs, median,
    p90, max: closed-loop figures and latencies move by very different amounts).
    """
    import numpy as np

    a, b = _relative(table_a), _relative(table_b)
    kinds = dict(zip(table_a["scenario"], table_a["kind"], strict=True)) if "kind" in table_a.columns else {}
    changes, where, differs, compared = [], [], [], 0
    for scenario in sorted(set(a) & set(b)):
        common = sorted(set(a[scenario]) & set(b[scenario]))
        if len(common) < 2:
            continue
        compared += 1
        best_a = min(common, key=lambda d: a[scenario][d])
        best_b = min(common, key=lambda d: b[scenario][d])
        if best_a != best_b:
            differs.append((scenario, best_a, best_b))
        for design in common:
            if design == best_a == best_b:
                continue
            rel_a = a[scenario][design] / a[scenario][best_a]
            rel_b = b[scenario][design] / b[scenario][best_b]
            changes.append(max(rel_b / rel_a, rel_a / rel_b) - 1)
            where.append((scenario, design))
    def summary(values: list[float]) -> dict:
        if not values:
            return {"pairs": 0, "median": math.nan, "p90": math.nan, "max": math.nan}
        data = np.asarray(values)
        return {"pairs": len(values), "median": float(np.median(data)), "p90": float(np.quantile(data, 0.9)),
                "max": float(data.max())}

    by_kind: dict[str, list[float]] = {kind: [] for kind, _ in KINDS}  # in the report's order
    for (scenario, _), change in zip(where, changes, strict=True):
        by_kind.setdefault(kinds.get(scenario, "?"), []).append(change)
    by_kind = {kind: values for kind, values in by_kind.items() if values}
    return {**summary(changes), "worst": where[int(np.argmax(changes))] if changes else None,
            "scenarios": compared, "fastest_differs": len(differs), "differs": differs,
            "by_kind": {kind: summary(values) for kind, values in by_kind.items()}}


def _forest(ratios, style, caption: str, path: Path) -> tuple[Path, int]:
    """The forest plot: one row per benchmark, point and 95% interval of B/A, a line at 1."""
    import numpy as np

    from analysis.style import log_axis, new_figure, save

    shown = ratios
    if len(ratios) > MAX_FOREST:
        order = np.argsort(-np.abs(np.log(ratios["ratio"].to_numpy(float))))[:MAX_FOREST]
        shown = ratios.iloc[np.sort(order)]
    count = len(shown)
    width = 4.5 + 0.062 * max(len(name) for name in shown["benchmark"])
    fig, ax = new_figure(width + 4.5, 1.9 + 0.2 * count,
                         f"{caption}\nbars: 95% interval over processes; hollow: no interval (fewer than "
                         f"{MIN_PROCESSES} processes on a side)")
    ys = np.arange(count)
    for y, row in zip(ys, shown.to_dict("records"), strict=True):
        color = style(row["variant"])["color"]
        has = not fmt.missing(row["low"])
        if has:
            ax.plot([row["low"], row["high"]], [y, y], color=color, linewidth=1.6)
        ax.plot([row["ratio"]], [y], marker="o", color=color, markersize=5,
                markerfacecolor=color if has else "white")
    ax.axvline(1.0, color="0.3", linewidth=1)
    ax.set_xscale("log")
    log_axis(ax.xaxis, "ratio")
    low = min(shown["ratio"].min(), shown["low"].min(skipna=True) if shown["low"].notna().any() else 1)
    high = max(shown["ratio"].max(), shown["high"].max(skipna=True) if shown["high"].notna().any() else 1)
    pad = max(1.1, (high / low) ** 0.08)
    ax.set_xlim(min(low, 0.9) / pad, max(high, 1.1) * pad)
    ax.set_yticks(ys, shown["benchmark"], fontsize=7.5)
    ax.set_ylim(count - 0.5, -0.5)
    ax.set_xlabel("B / A (log scale; right of 1: B took longer per item)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    title = "How did each benchmark change from run A to run B?"
    if count < len(ratios):
        title += f"\n(the {count} most changed of {len(ratios)} benchmarks)"
    ax.set_title(title, fontsize=11)
    return save(fig, path), count


def _run_line(label: str, run) -> str:
    return f"- **{label}**: `{run.folder}`: {fmt.machine_line(run.info)}."


def format_compare(run_a, run_b, ratios, only_a, only_b, changed, stability: dict,
                   forest: str | None, noise_a: float = math.nan, noise_b: float = math.nan) -> str:
    """COMPARE.md as text."""
    with_interval = ratios[ratios["low"].notna()]
    above = int((with_interval["low"] > 1).sum())
    below = int((with_interval["high"] < 1).sum())
    lines = [
        f"# Comparison: {run_b.folder.name} (B) against {run_a.folder.name} (A)", "",
        _run_line("A", run_a), _run_line("B", run_b), "",
        "Two stored runs: every ratio carries the machine's drift between the runs as well as any change "
        "(whole runs differ by up to 1.2x on these machines). This shows; it decides nothing (`bench check` "
        "measures both sides in one job).", "",
        f"- {len(ratios)} benchmarks measured in both; median B/A "
        f"{ratios['ratio'].median():.3f}." if len(ratios) else "- No benchmark was measured in both runs.",
        *([f"- Interval wholly above 1 (B slower): {above}; wholly below 1 (B faster): {below}; no interval "
           f"(fewer than {MIN_PROCESSES} processes on a side): {len(ratios) - len(with_interval)}."]
          if len(ratios) else []),
        "", "## Precision: how stable the ranking is", "",
        "Each design's figure relative to its scenario's fastest design, in A and in B; the change is "
        "max(B/A, A/B) - 1 of that relative figure (designs fastest in both runs left out).", "",
        f"- The machine's own noise (median slowest / fastest process of one-thread designs' closed-loop "
        f"benchmarks): A {machine_noise_text(noise_a)}, B {machine_noise_text(noise_b)}; above {NOISY}x a "
        f"run is noisy, and standings move with the machine, not the designs.",
    ]
    if stability["pairs"]:
        scenario, design = stability["worst"]
        lines += [
            f"- Change over {stability['pairs']} (scenario, design) pairs: median "
            f"{stability['median'] * 100:.1f}%, 90th percentile {stability['p90'] * 100:.1f}%, max "
            f"{stability['max'] * 100:.1f}% ({design} at {scenario}).",
        ]
        for kind, found in stability["by_kind"].items():
            lines.append(f"  - {kind} scenarios, {found['pairs']} pairs: median "
                         f"{found['median'] * 100:.1f}%, 90th percentile {found['p90'] * 100:.1f}%, max "
                         f"{found['max'] * 100:.1f}%.")
    else:
        lines.append("- No scenario has two designs measured in both runs.")
    differs = "; ".join(f"{s}: {x} in A, {y} in B" for s, x, y in stability["differs"])
    lines.append(f"- The fastest design differs in {stability['fastest_differs']} of "
                 f"{stability['scenarios']} scenarios{': ' + differs if differs else ''}.")
    lines += ["", "## Forest plot", ""]
    lines.append(f"![B / A per benchmark]({forest})" if forest else "Not drawn: no benchmark in both runs.")
    lines += ["", "## Ratios (B / A, sorted)", ""]
    if len(ratios):
        lines += ["| benchmark | A | B | B / A (95% interval) | processes A, B |", "|---|---|---|---|---|"]
        for row in ratios.to_dict("records"):
            lines.append(f"| `{row['benchmark']}` | {fmt.seconds(row['a'])} | {fmt.seconds(row['b'])} | "
                         f"{fmt.ratio(row['ratio'], row['low'], row['high'])} | {row['n_a']}, {row['n_b']} |")
    else:
        lines.append("None: no benchmark was measured in both runs.")
    lines += ["", "## Only in one run", ""]
    lines.append(f"- Only in A ({len(only_a)}): " + (", ".join(f"`{n}`" for n in only_a) or "none") + ".")
    lines.append(f"- Only in B ({len(only_b)}): " + (", ".join(f"`{n}`" for n in only_b) or "none") + ".")
    lines += ["", "## Status changed", ""]
    if changed:
        lines += ["| benchmark | A | B | why |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {a} | {b} | {str(why or '-').replace('|', '/')} |"
                  for name, a, b, why in changed]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _out_folder(run_a, run_b, out: str | None) -> Path:
    folder = Path(out) if out else run_b.folder.parent / f"compare-{run_a.folder.name}-vs-{run_b.folder.name}"
    if folder.exists() and (not folder.is_dir() or
                            (any(folder.iterdir()) and not (folder / COMPARE).exists())):
        raise UsageError(f"{folder}: exists and is not a comparison folder; choose another --out")
    return folder


def compare_runs(run_a: str | Path, run_b: str | Path, out: str | None = None) -> Path:
    """Compare two run folders; write the comparison folder; return COMPARE.md's path."""
    from analysis.aggregate import analyse
    from analysis.load import load_run
    from analysis.progress import steps
    from analysis.style import DesignStyle
    from runs.store import write_atomic

    with steps(5, "compare") as step:
        step("reading")
        first, second = load_run(run_a), load_run(run_b)  # every check before anything is written
        folder = _out_folder(first, second, out)
        step("aggregating")
        _, procs_a, table_a = analyse(first)
        _, procs_b, table_b = analyse(second)
        step("comparing")
        ratios, only_a, only_b, changed = compare_tables(table_a, procs_a, table_b, procs_b)
        stability = rank_stability(table_a, table_b)
        folder.mkdir(parents=True, exist_ok=True)
        step("forest plot")
        forest = None
        if len(ratios):
            style = DesignStyle(list(dict.fromkeys([*table_a["variant"], *table_b["variant"]])))
            caption = f"A: {fmt.machine_line(first.info)}\nB: {fmt.machine_line(second.info)}"
            forest = _forest(ratios, style, caption, folder / "forest.png")[0].name
        else:
            (folder / "forest.png").unlink(missing_ok=True)
        step("writing")
        write_atomic(folder / "compare.csv", ratios.to_csv(index=False))
        text = format_compare(first, second, ratios, only_a, only_b, changed, stability, forest,
                              machine_noise(table_a), machine_noise(table_b))
        write_atomic(folder / COMPARE, text)
    return folder / COMPARE
