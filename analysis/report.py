"""`python -m bench report RUN_DIR`: the frame, the charts and REPORT.md of one run folder.

Writes into the run folder: frame.csv (one row per measured value), benchmarks.csv (one row per cell),
charts/*.png and REPORT.md, each atomically. Everything is read and checked first: bad input writes nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

from analysis.choices import choice_lines
from analysis.decide import FIGURE_TITLES, decisions
from analysis.interpreters import interpreter_label, interpreter_lines, interpreters
from analysis.names import KINDS
from analysis.regimes import regime_text
from runs import fmt
from runs.stats import MIN_PROCESSES
from variants import ONE_THREAD_MODELS

__all__ = ["build_report", "chart_caption", "format_report", "noise", "machine_noise", "machine_noise_text",
           "partial_notice", "NOISY", "REPORT"]

REPORT = "REPORT.md"
_CHARTS = ("throughput_heatmap", "choices_heatmap", "throughput_vs_capacity", "consumer_work", "cpu_per_item",
           "latency_vs_load", "latency_seed002", "latency_paced")


def _quantiles(values) -> dict | None:
    import numpy as np

    data = np.asarray([v for v in values if v == v], dtype=float)
    if not len(data):
        return None
    return {"median": float(np.median(data)), "p90": float(np.quantile(data, 0.9)), "max": float(data.max()),
            "count": len(data)}


# Models whose design schedules no threads or processes of its own: their worker processes of one benchmark
# should agree, so when they do not, the machine (not a design's regimes) is what moved. In an earlier quiet
# quick run generator's and coroutine's capacity-16 cells spread 1.03-1.09x; on 2026-12-04 the one-thread
# designs' median spread was 1.7-2.2x and two quick runs' standings moved 73% at the 90th percentile
# (docs/noise.md, "A noisy day"). The one-thread designs: variants.ONE_THREAD_MODELS.
NOISY = 1.25  # above this machine_noise, REPORT.md and COMPARE.md call the run noisy


def machine_noise(table) -> float:
    """The machine's own noise in a run: the median slowest/fastest process spread of one-thread designs.

    Over closed-loop benchmarks (no paced arrivals) of ONE_THREAD_MODELS with 2+ processes; NaN if none.
    """
    if not {"process_spread", "model", "kind", "status"} <= set(table.columns):
        return math.nan
    chosen = table[(table["status"] == "ok") & (table["kind"] != "paced")
                   & table["model"].isin(ONE_THREAD_MODELS)]
    return float(chosen["process_spread"].median())  # NaN when there is none


def noisy_warning(spread: float, designs: list[str]) -> list[str]:
    """The lines that call a run noisy (none when machine_noise is within NOISY or unknown)."""
    if not spread > NOISY:
        return []
    return [f"**This run was noisy.** The designs that schedule no threads or processes of their own "
            f"({', '.join(designs)}) saw the worker processes of one benchmark "
            f"disagree by {spread:.2f}x at the median (above {NOISY}x, this report calls a run noisy). The "
            f"machine moved under every design: take no standing closer than that as settled, and rerun "
            f"on a quieter machine.", ""]


def chart_caption(info: dict, table) -> str:
    """The caption under every chart: the machine line, and on a noisy run a second line that says so.

    A chart travels without its report (a README, a slide), so it carries the warning itself.
    """
    caption = fmt.machine_line(info)
    spread = machine_noise(table)
    if spread > NOISY:
        caption += (f"\nnoisy run: worker processes of the one-thread designs disagreed by {spread:.2f}x at "
                    f"the median (above {NOISY}x); standings closer than that are not settled")
    return caption


def machine_noise_text(spread: float) -> str:
    """machine_noise as REPORT.md and COMPARE.md print it."""
    if fmt.missing(spread):
        return "not measurable (no one-thread design with 2+ processes)"
    return f"{spread:.2f}x"


def noise(frame, table) -> dict:
    """How noisy the run was: spread between processes and within them (time per item), load, wall time.

    `between`: per benchmark with 2+ processes, slowest / fastest process median; `within`: per process
    with 2+ values, largest / smallest value; each summarised as median, p90, max, count (None if none).
    """
    between = _quantiles(table["process_spread"]) if "process_spread" in table.columns else None
    worst = None
    if between:
        worst = table.loc[table["process_spread"].idxmax(), "benchmark"]
    groups = frame[frame["s_per_item"] > 0].groupby(["benchmark", "process"])["s_per_item"]
    within = _quantiles((groups.max() / groups.min())[groups.count() > 1])
    return {"between": between, "worst": worst, "within": within, "machine": machine_noise(table)}


def _margin(entry: dict) -> str:
    text = fmt.ratio(entry["ratio"], entry["low"], entry["high"])
    if not fmt.missing(entry["low"]) and entry["low"] <= 1:
        text += " within noise"
    return text


def _value(figure: str, value: float) -> str:
    return f"{fmt.rate(1 / value)}/s" if figure == "s_per_item" else fmt.seconds(value)


def _decision_lines(found: list[dict], table, tags: list[str] | None = None) -> list[str]:
    """One table per kind of scenario; `tags`: the run's interpreters, named in each label when 2+."""
    tags = tags or []
    lines = []
    for kind, title in KINDS:
        entries = [entry for entry in found if entry["kind"] == kind]
        if not entries:
            continue
        figures = {entry["figure"] for entry in entries}
        lines += ["", f"### {title}", ""]
        if kind == "paced":
            names = ", ".join(FIGURE_TITLES[f] for f in sorted(figures))
            if figures == {"s_per_item"}:
                lines += ["No latency figures in this run: paced scenarios are ranked by time per item, "
                          "which mostly measures the schedule.", ""]
            lines += [f"Ranked by {names} (lower is better).", ""]
            head = "| scenario | best | figure | runner-up | runner-up / best (95% interval) | " \
                   "cheapest CPU per item |"
        else:
            head = "| scenario | fastest | items/s | runner-up | runner-up / fastest (95% interval) | " \
                   "cheapest CPU per item |"
        lines += [head + " no figure |", "|---|---|---|---|---|---|---|"]
        for entry in entries:
            first = table[table["scenario"] == entry["scenario"]].iloc[0]
            cheapest = ("-" if entry["cheapest_cpu"] is None else
                        f"{entry['cheapest_cpu']} ({fmt.seconds(entry['cheapest_cpu_value'])})")
            others = "; ".join(f"{variant} {status}" for variant, status in entry["others"].items()) or "-"
            best = f"**{entry['best']}**{_modes_mark(table, entry['scenario'], entry['best'])}"
            value = _value(entry["figure"], entry["best_value"])
            if kind == "paced" and entry["figure"] != "s_per_item":
                value = f"{FIGURE_TITLES[entry['figure']]} {value}"
            runner = (f"{entry['runner']}{_modes_mark(table, entry['scenario'], entry['runner'])}"
                      if entry["runner"] else "-")
            lines.append(f"| {interpreter_label(first, tags)} | {best} | {value} | {runner} | "
                         f"{_margin(entry) if entry['runner'] else '-'} | {cheapest} | {others} |")
    return lines


def _modes_mark(table, scenario: str, variant: str) -> str:
    """' (N regimes)' after a design whose values in this scenario fall in separated modes, else ''."""
    if "modes" not in table.columns:
        return ""
    found = table[(table["scenario"] == scenario) & (table["variant"] == variant)]
    modes = found["modes"].iloc[0] if not found.empty else math.nan
    return f" ({modes:.0f} regimes)" if not fmt.missing(modes) and modes > 1 else ""


def _regime_lines(table, noisy: bool) -> list[str]:
    """The benchmarks whose values fall in separated regimes, each mode with its share of the runs."""
    found = [(row["benchmark"], text) for row in table.to_dict("records") if (text := regime_text(row))]
    if not found:
        return []
    lines = ["", "## Regimes", "",
             "These benchmarks' values fall in separated modes (analysis/regimes.py: at least a fifth of the "
             "values each, 1.5x apart): their median is one mode or lies between them, so read each mode "
             "and its share."]
    if noisy:
        lines.append("This run was noisy: values that cluster by worker process look like regimes, so a "
                     "split here may be the machine's.")
    return lines + [""] + [f"- `{name}`: {text}." for name, text in found]


def _summary(found: list[dict], quiet: dict) -> list[str]:
    lines = []
    for kind, title in KINDS:
        entries = [entry for entry in found if entry["kind"] == kind]
        if not entries:
            continue
        wins: dict[str, int] = {}
        for entry in entries:
            wins[entry["best"]] = wins.get(entry["best"], 0) + 1
        parts = ", ".join(f"{name} in {count}" for name, count in sorted(wins.items(), key=lambda i: -i[1]))
        label = title.split(":")[0].lower()
        lines.append(f"- **{label}** ({len(entries)} scenario{'s' if len(entries) > 1 else ''}): "
                     f"best is {parts}.")
    paired = [entry for entry in found if entry["runner"]]
    with_interval = [entry for entry in paired if not fmt.missing(entry["low"])]
    if with_interval:
        close = sum(1 for entry in with_interval if entry["low"] <= 1)
        lines.append(f"- The runner-up is within noise of the winner (interval reaches 1) in {close} of "
                     f"{len(with_interval)} scenarios with an interval.")
    elif paired:
        fewest = min(entry["processes"] for entry in paired)
        text = (f"- No margin has an interval: this run has {fewest} worker process(es) per benchmark, an "
                f"interval needs {MIN_PROCESSES}.")
        if quiet["between"]:
            text += (f" In one benchmark of ten here, the slowest worker process ran "
                     f"{quiet['between']['p90']:.2f}x its fastest or more (90th percentile): a margin "
                     f"smaller than that may be noise.")
        lines.append(text)
    return lines


def partial_notice(info: dict, table) -> list[str]:
    """The lines that call a run partial (none for a run that finished every cell).

    A run is partial when bench/orchestrate.py recorded it as interrupted, when run.json records no end
    (still running, or killed), or when cells are still pending.
    """
    pending = int((table["status"] == "pending").sum()) if "status" in table.columns else 0
    if info.get("interrupted"):
        why = "It was interrupted"
    elif not info.get("finished"):
        why = "It has not finished (still running, or killed)"
    elif pending:
        why = "It left cells unmeasured"
    else:
        return []
    return [f"**This run is partial.** {why}: {pending} of {len(table)} cells are pending, and the figures, "
            f"charts and decision table below cover only the cells that finished. Finish it with "
            f"`python -m bench all --resume RUN_DIR`, then rebuild this report.", ""]


def _reason(row: dict) -> str:
    """A cell's reason for REPORT.md's table ('|' escaped); a missing one (None or NaN) said in words."""
    reason = row.get("reason")
    if fmt.missing(reason):
        reason = ("not measured: the run stopped before this cell" if row.get("status") == "pending"
                  else "no reason given")
    return str(reason).replace("|", "\\|")


def _bad_lines(bad) -> list[str]:
    """Failed, timed-out and pending cells one row each; n/a cells one row per design and reason."""
    if bad.empty:
        return ["None: every cell of the run was measured."]
    lines = ["| cells | status | reason |", "|---|---|---|"]
    for row in bad[bad["status"] != "n/a"].to_dict("records"):
        reason = _reason(row)
        lines.append(f"| `{row['benchmark']}` | **{row['status']}** | {reason} |")
    na = bad[bad["status"] == "n/a"].fillna({"reason": "no reason given"})
    for (variant, reason), cells in na.groupby(["variant", "reason"], sort=False):
        if "base_scenario" in cells.columns and cells["python"].fillna("").astype(bool).any():
            # a run of interpreters: each scenario once, the interpreters where the design was n/a after it
            where = cells.groupby("base_scenario", sort=False)["python"].agg(lambda tags: ", ".join(tags))
            scenarios = ", ".join(f"`{s}` ({tags})" for s, tags in where.items())
        else:
            scenarios = ", ".join(f"`{s}`" for s in cells["scenario"])
        reason = str(reason).replace("|", "\\|")
        lines.append(f"| {variant}: {scenarios} | **n/a** | {reason} |")
    return lines


def _paired_lines(table, info: dict) -> list[str]:
    """How the run measured its scenarios: side by side in rounds, and the cells that ran alone, why."""
    paired = table.get("standing_paired")
    if paired is None or not paired.fillna(False).astype(bool).any():
        return []
    lines = ["", "Designs of one scenario shared their worker processes and ran in rounds, each round in a "
             "fresh random order: a design's **standing** is, in each process, the median over rounds of its "
             "time over the reference design's time in the same round, then the median over processes (95% "
             "interval over processes). The decision table ranks closed-loop scenarios by it."]
    alone = [(name, cell["alone"]) for name, cell in info.get("cells", {}).items()
             if cell.get("alone") and not cell["alone"].startswith("no other design")]
    if alone:
        lines.append("Measured alone, in processes of their own: " + "; ".join(
            f"`{name}` ({why})" for name, why in alone) + ".")
    return lines


def _spread_line(name: str, found: dict | None, worst: str | None = None) -> str:
    if not found:
        return f"- {name}: not measurable (fewer than 2 per benchmark)."
    text = (f"- {name}: median {found['median']:.2f}x, 90th percentile {found['p90']:.2f}x, "
            f"max {found['max']:.2f}x")
    return text + (f" ({worst})" if worst else "") + f", over {found['count']}."


def _on_interpreters(tags: list[str]) -> str:
    """' on 2 interpreters (3.11.7, 3.13.5t)' for a run of two or more, else ''."""
    return f" on {len(tags)} interpreters ({', '.join(tags)})" if len(tags) > 1 else ""


def format_report(run, table, found: list[dict], charts: list, quiet: dict, frame=None,
                  processes=None) -> str:
    """REPORT.md as text: decision table, interpreters (2+), charts, cells without figures, machine, noise.

    `processes` (one row per worker process, analysis/aggregate.py) gives the intervals of the
    interpreters section; without it that section is left out.
    """
    info = run.info
    tags = interpreters(table, info)
    measured = table[table["status"] == "ok"]
    statuses = table["status"].value_counts().to_dict()
    bad = table[table["status"] != "ok"].sort_values(["status", "benchmark"])
    counts = sorted(set(measured["n_processes"]))
    pending = f", {statuses['pending']} pending" if statuses.get("pending") else ""
    lines = [
        f"# Results: {run.folder.name}", "",
        f"Profile **{info.get('profile')}**: {len(measured)} benchmarks measured over "
        f"{measured['scenario'].nunique()} scenarios and {table['variant'].nunique()} designs"
        f"{_on_interpreters(tags)}; "
        f"{statuses.get('n/a', 0)} n/a, {statuses.get('failed', 0)} failed, "
        f"{statuses.get('timeout', 0)} timed out{pending}. {fmt.machine_line(info)}.", "",
        *partial_notice(info, table),
        f"Every figure is the median over worker processes (a process's figure: the median of its values; "
        f"{'/'.join(map(str, counts))} processes per benchmark here). Ratios carry a 95% bootstrap "
        f"interval over processes, shown `-` where a side has fewer than {MIN_PROCESSES} processes (no "
        f"honest interval exists then); with 3 to 5 processes an interval is no wider than the spread seen, "
        f"so read it as that.",
        *_paired_lines(table, info),
        "", *noisy_warning(quiet.get("machine", math.nan),
                           sorted(set(table.loc[table["model"].isin(ONE_THREAD_MODELS), "variant"]))),
        "## Decision table", "", *_summary(found, quiet), *_decision_lines(found, table, tags),
        *_regime_lines(table, quiet.get("machine", math.nan) > NOISY), "",
        *choice_lines(table, frame),
        *(interpreter_lines(table, processes, info) if processes is not None else []),
        "## Charts",
    ]
    for chart in charts:
        lines += ["", f"### {chart.question}", ""]
        if chart.path is None:
            lines.append(f"Not drawn: {chart.skipped}.")
            continue
        lines += [f"![{chart.question}](charts/{chart.path.name})", ""]
        lines += [" ".join(chart.sentences)] if chart.sentences else []
    lines += ["", "## Cells without figures", "", *_bad_lines(bad)]
    machine = info.get("machine", {})
    load_start, load_end = info.get("load_start"), info.get("load_end")
    lines += [
        "", "## Machine and noise", "",
        f"- {fmt.machine_line(info)}.",
        f"- Python build: {machine.get('python_build', '?')}; {machine.get('platform', '?')}; "
        f"switch interval {machine.get('switch_interval_s', '?')} s; "
        f"pyperf {machine.get('pyperf_version', '?')}.",
        *([f"- Effort on a paired scenario: {info['paired_effort']}."] if info.get("paired_effort") else []),
        f"- pyperf effort per benchmark{' measured alone' if info.get('paired_effort') else ''}: "
        f"{' '.join(info.get('pyperf_effort') or ['?'])}; wall time {info.get('wall_s', '?')} s.",
        f"- Load average (1, 5, 15 min) at start {load_start or '?'}, at end {load_end or '?'} "
        f"(on {machine.get('cpu_count', '?')} cores).",
        _spread_line("Slowest / fastest worker process of one benchmark (time per item)", quiet["between"],
                     quiet["worst"]),
        _spread_line("Largest / smallest value within one worker process", quiet["within"]),
        f"- The machine's own noise (slowest / fastest process of one-thread designs' closed-loop "
        f"benchmarks, median): {machine_noise_text(quiet.get('machine', math.nan))}; above {NOISY}x a "
        f"run is noisy.",
        "", "## Files", "",
        "- `frame.csv`: one row per measured value (scenario, process, pid, seconds per item, items/s, CPU, "
        "verification, and the sidecar's other figures).",
        "- `benchmarks.csv`: one row per cell: medians over processes, `_low`/`_high` 95% intervals, "
        "`_min`/`_max` of the values, status and reason.",
        "- `suite.json` (pyperf: `python -m pyperf stats suite.json`), `metrics.jsonl`, `run.json`.",
        "- Rebuild this report: `python -m bench report RUN_DIR`; compare two runs: "
        "`python -m bench compare RUN_A RUN_B`.", "",
    ]
    return "\n".join(lines)


def _charts(table, info: dict, folder: Path, step) -> list:
    from analysis.charts import capacity_chart, choices_heatmap, cpu_chart, heatmap, work_chart
    from analysis.latency_charts import load_chart, percentile_chart, seed002_cells, sweep_groups
    from analysis.style import DesignStyle

    style = DesignStyle(list(dict.fromkeys(table["variant"])))
    caption = chart_caption(info, table)
    made = []
    for function in (heatmap, choices_heatmap, capacity_chart, work_chart, cpu_chart, load_chart):
        step(f"chart {function.__name__}")
        made.append(function(table, style, caption, folder))
    step("latency charts")
    seed = seed002_cells(table)
    made.append(percentile_chart(
        table, style, caption, folder, "latency_seed002",
        "How long do items wait in seed 002's scenario (bursts of 100 at 2,000 items/s, io:1ms consumers)?",
        seed, "no seed-002 cells (burst:100:2000, work io:1ms) in this run"))
    swept = {tuple(key) for key in sweep_groups(table)}
    paced = table[(table["kind"] == "paced") & ~table.index.isin(seed.index)]
    if swept:
        keys = paced[["topology", "capacity", "work", "payload", "stop", "python"]].apply(tuple, axis=1)
        paced = paced[~(keys.isin(swept) & (paced["arrival_kind"] == "steady"))]
    made.append(percentile_chart(table, style, caption, folder, "latency_paced",
                                 "How long do items wait under paced arrivals?", paced,
                                 "no other paced scenario in this run"))
    return made


def build_report(folder: str | Path) -> Path:
    """Read a run folder, write its frame, tables, charts and REPORT.md; return REPORT.md's path."""
    from analysis.aggregate import analyse
    from analysis.frame import CSV_SKIP
    from analysis.load import load_run
    from analysis.progress import steps
    from runs.store import write_atomic

    with steps(4 + len(_CHARTS), "report") as step:
        step("reading")
        run = load_run(folder)  # every check happens here, before anything is written
        step("aggregating")
        frame, processes, table = analyse(run)
        table.attrs["pythons"] = [entry.get("tag") for entry in run.info.get("pythons") or []]  # A first
        found = decisions(table, processes)
        charts_dir = run.folder / "charts"
        charts_dir.mkdir(exist_ok=True)
        charts = _charts(table, run.info, charts_dir, step)
        for name in _CHARTS:  # a chart this build skipped must not survive from an earlier build
            if not any(chart.name == name and chart.path for chart in charts):
                (charts_dir / f"{name}.png").unlink(missing_ok=True)
        step("writing")
        write_atomic(run.folder / "frame.csv", frame.drop(columns=[c for c in CSV_SKIP if c in frame.columns])
                     .to_csv(index=False))
        write_atomic(run.folder / "benchmarks.csv", table.to_csv(index=False))
        text = format_report(run, table, found, charts, noise(frame, table), frame, processes)
        write_atomic(run.folder / REPORT, text)
    return run.folder / REPORT
