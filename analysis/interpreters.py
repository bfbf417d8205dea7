"""REPORT.md's "How does each design fare on each interpreter?": a run given `--python` twice or more.

`bench all --python PATH` (repeatable) runs each benchmark's workers under each interpreter given; the
benchmark names end in `/py-TAG` (analysis/names.py: `python` is the tag, `base_scenario` the scenario
without it). Within one interpreter the designs of a scenario are ranked as everywhere else (paired round
by round where they shared worker processes, analysis/standings.py). Across interpreters nothing is
paired: each interpreter ran in worker processes of its own. So a design's figure on interpreter B over
its figure on A is the ratio of the two medians over processes, and its 95% interval is the unpaired
bootstrap of runs/stats.py (`ratio_interval`: each process's median is one sample, each side's processes
resampled independently). A is the first interpreter of run.json's `pythons`, else the first tag sorted.

The second table answers the question issue 23 asks: does a design gain from more producers and consumers
on one interpreter where it cannot on another? Items/s at each topology over items/s at 1:1 with the same
consumer work, per design and interpreter, again unpaired (two benchmarks, two sets of processes).
"""

from __future__ import annotations

from analysis.decide import deciding_figure
from analysis.names import KINDS, scenario_key
from analysis.style import scenario_label
from runs import fmt
from runs.stats import MIN_PROCESSES, ratio_interval

__all__ = ["interpreters", "interpreter_label", "interpreter_ratios", "scaling_ratios",
           "interpreter_lines", "QUESTION"]

QUESTION = "How does each design fare on each interpreter?"
_COLUMNS = 6  # base scenarios per table at most: wider tables do not read


def interpreters(table, info: dict | None = None) -> list[str]:
    """The run's interpreter tags (distinct non-empty `python`), first A then the others.

    In the order of run.json's `pythons` (from `info`, else the `pythons` list in `table.attrs` that
    build_report sets), then the tags it does not list, sorted. Empty for a run without `--python`.
    """
    if "python" not in table.columns:
        return []
    found = {tag for tag in table["python"] if isinstance(tag, str) and tag}
    if info is not None:
        listed = [entry.get("tag") for entry in info.get("pythons") or []]
    else:
        listed = list(table.attrs.get("pythons") or [])
    ordered = [tag for tag in dict.fromkeys(listed) if tag in found]
    return ordered + sorted(found - set(ordered))


def interpreter_label(row, tags: list[str]) -> str:
    """scenario_label, plus ' · TAG' when the run has two or more interpreters (`tags`)."""
    label = scenario_label(row)
    tag = row.get("python")
    if len(tags) > 1 and isinstance(tag, str) and tag:
        label += f" · {tag}"
    return label


def _process_figures(processes, benchmark: str, figure: str):
    if figure not in processes.columns:
        return []
    values = processes.loc[processes["benchmark"] == benchmark, figure]
    return [float(v) for v in values if v == v and v > 0]


def _ratio(processes, top: str, bottom: str, figure: str) -> dict | None:
    """median(top's processes) / median(bottom's) of `figure`, with the unpaired interval; None if a side
    has no figure."""
    import statistics

    above, below = (_process_figures(processes, name, figure) for name in (top, bottom))
    if not above or not below:
        return None
    low, high = ratio_interval(above, below)
    return {"ratio": statistics.median(above) / statistics.median(below), "low": low, "high": high,
            "processes": min(len(above), len(below))}


def interpreter_ratios(table, processes, base: str, other: str) -> list[dict]:
    """One dict per (design, base scenario) measured on both interpreters, in report order.

    Keys: variant, base_scenario, kind, figure (time per item; for paced scenarios the decision table's
    figure, p99 latency where the run has it), row (A's table row, for labels), ratio (`other` over
    `base`), low, high (95% unpaired interval over processes; NaN with fewer than MIN_PROCESSES on a side),
    processes (the fewer of the two sides).
    """
    ok = table[table["status"] == "ok"]
    a, b = ok[ok["python"] == base], ok[ok["python"] == other]
    found = []
    for scenario in sorted(set(a["base_scenario"]) & set(b["base_scenario"]),
                           key=lambda s: scenario_key(a[a["base_scenario"] == s].iloc[0])):
        both = ok[(ok["base_scenario"] == scenario) & ok["python"].isin([base, other])]
        kind = both["kind"].iloc[0]
        figure = deciding_figure(kind, both)
        here_a, here_b = a[a["base_scenario"] == scenario], b[b["base_scenario"] == scenario]
        for row in here_a.to_dict("records"):
            match = here_b[here_b["variant"] == row["variant"]]
            if match.empty:
                continue
            ratio = _ratio(processes, match["benchmark"].iloc[0], row["benchmark"], figure)
            if ratio:
                found.append({"variant": row["variant"], "base_scenario": scenario, "kind": kind,
                              "figure": figure, "row": row, **ratio})
    return found


def scaling_ratios(table, processes, tags: list[str]) -> list[dict]:
    """Consumer-work scenarios: items/s at each topology over items/s at 1:1, same design, interpreter,
    capacity, work, payload and stop.

    One dict per (design, interpreter, scenario other than 1:1): variant, python, row (that scenario's
    table row), base_row (the 1:1 row), ratio, low, high (95% unpaired interval over processes),
    processes. In report order, then design, then interpreter in `tags` order.
    """
    ok = table[(table["status"] == "ok") & (table["kind"] == "work")]
    found = []
    for row in ok.to_dict("records"):
        if row["topology"] == "1:1" or row["python"] not in tags:
            continue
        same = ok[(ok["variant"] == row["variant"]) & (ok["python"] == row["python"])
                  & (ok["topology"] == "1:1")]
        for key in ("capacity", "work", "payload", "stop"):
            same = same[same[key] == row[key]]
        if same.empty:
            continue
        start = same.iloc[0].to_dict()
        # items/s over items/s = time per item at 1:1 over time per item here
        ratio = _ratio(processes, start["benchmark"], row["benchmark"], "s_per_item")
        if ratio:
            found.append({"variant": row["variant"], "python": row["python"], "row": row, "base_row": start,
                          **ratio})
    order = {tag: i for i, tag in enumerate(tags)}
    found.sort(key=lambda entry: (scenario_key(entry["row"])[:-1], entry["variant"], order[entry["python"]]))
    return found


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


def _gil(entry: dict) -> str:
    if entry.get("free_threaded"):
        return "free-threaded build, GIL off" if entry.get("gil") is False else \
            "free-threaded build, GIL on (turned back on at start-up)"
    return "GIL on" if entry.get("gil", True) else "GIL off"


def _interpreter_list(tags: list[str], info: dict) -> list[str]:
    recorded = {entry.get("tag"): entry for entry in info.get("pythons") or []}
    lines = []
    for i, tag in enumerate(tags):
        role = "**A** (the reference)" if i == 0 else "**B**" if len(tags) == 2 else f"**B{i}**"
        entry = recorded.get(tag)
        if entry is None:
            lines.append(f"- {role} `{tag}`: not in run.json's `pythons` (known from the benchmark names "
                         f"only).")
            continue
        name = _IMPLEMENTATIONS.get(entry.get("implementation"), entry.get("implementation") or "?")
        where = f"given as `{entry.get('path', '?')}`"
        if entry.get("executable") and entry["executable"] != entry.get("path"):
            where += f"; workers ran `{entry['executable']}`"
        if entry.get("environment"):
            where += f" (virtual environment `{entry['environment']}`)"
        lines.append(f"- {role} `{tag}`: {name} {entry.get('version', '?')}; {_gil(entry)}; {where}.")
    return lines + _spin_lines(tags, recorded, info.get("spin_rate"))


def _spin_lines(tags: list[str], recorded: dict, run_rate: float | None) -> list[str]:
    """What cpu:20us is on each interpreter: the run's steps at each one's own rate (bench/interpreters)."""
    own = {tag: (recorded.get(tag) or {}).get("spin_rate") for tag in tags}
    if not run_rate or not any(own.values()):
        return []
    steps = 20e-6 * run_rate
    spent = "; ".join(f"`{tag}` {steps / rate * 1e6:.1f} us" if rate else f"`{tag}` not measured"
                      for tag, rate in own.items())
    return ["", f"Consumer work `cpu:20us` is the same {steps:.0f} steps of a pure-Python loop on every "
                f"interpreter (the rate measured on the orchestrator's interpreter: the same code, not the "
                f"same duration). Measured on each interpreter alone, those steps take: {spent}."]


def _verdict(entry: dict, above: str, below: str) -> str:
    """The ratio with its interval, and a word when the interval leaves 1 out."""
    text = fmt.ratio(entry["ratio"], entry["low"], entry["high"])
    if not fmt.missing(entry["high"]) and entry["high"] < 1:
        return f"{text} **{below}**"
    if not fmt.missing(entry["low"]) and entry["low"] > 1:
        return f"{text} **{above}**"
    return text


def _ratio_tables(found: list[dict], base: str, other: str) -> list[str]:
    lines = []
    for kind, title in KINDS:
        entries = [entry for entry in found if entry["kind"] == kind]
        if not entries:
            continue
        scenarios = list(dict.fromkeys(entry["base_scenario"] for entry in entries))
        labels = {entry["base_scenario"]: scenario_label(entry["row"]) for entry in entries}
        cells = {(entry["variant"], entry["base_scenario"]): entry for entry in entries}
        figures = sorted({entry["figure"] for entry in entries})
        what = " and ".join({"s_per_item": "time per item", "latency_p99_s": "p99 latency",
                             "latency_mean_s": "mean latency"}.get(f, f) for f in figures)
        faster = sum(1 for e in entries if not fmt.missing(e["high"]) and e["high"] < 1)
        slower = sum(1 for e in entries if not fmt.missing(e["low"]) and e["low"] > 1)
        middle = sorted(entry["ratio"] for entry in entries)[len(entries) // 2]
        better, worse = ("faster", "slower") if figures == ["s_per_item"] else ("lower", "higher")
        lines += ["", f"### {title.split(':')[0]}: {other} over {base}", "",
                  f"Each cell: the design's {what} on {other} over its {what} on {base} (below 1 = {better} "
                  f"on {other}). Over {len(entries)} designs and scenarios the median ratio is "
                  f"{middle:.2f}x; it is {better} on {other} in {faster} and {worse} in {slower} (interval "
                  f"clear of 1), the rest are within noise or have no interval."]
        for start in range(0, len(scenarios), _COLUMNS):
            chunk = scenarios[start:start + _COLUMNS]
            designs = list(dict.fromkeys(entry["variant"] for entry in entries
                                         if entry["base_scenario"] in chunk))
            lines += ["", "| design | " + " | ".join(labels[s] for s in chunk) + " |",
                      "|---|" + "---|" * len(chunk)]
            for design in designs:
                row = [_verdict(cells[design, s], worse, better) if (design, s) in cells else "-"
                       for s in chunk]
                lines.append(f"| `{design}` | " + " | ".join(row) + " |")
    return lines


def _scaling_table(found: list[dict], tags: list[str], designs_order: list[str]) -> list[str]:
    if not found:
        return []
    columns = list(dict.fromkeys((entry["row"]["base_scenario"], entry["base_row"]["base_scenario"])
                                 for entry in found))
    heads = {}
    for entry in found:
        key = (entry["row"]["base_scenario"], entry["base_row"]["base_scenario"])
        heads[key] = f"{scenario_label(entry['row'])} over {entry['base_row']['topology']}"
    cells = {(entry["variant"], entry["python"], entry["row"]["base_scenario"]): entry for entry in found}
    designs = list(dict.fromkeys(entry["variant"] for entry in found))
    if designs_order:
        designs.sort(key=lambda design: designs_order.index(design) if design in designs_order else
                     len(designs_order))
    present = {(entry["variant"], entry["python"]) for entry in found}
    rows = [(design, tag) for design in designs for tag in tags if (design, tag) in present]
    lines = ["", "### Does adding producers and consumers pay on each interpreter?", "",
             "Consumer-work scenarios: a design's items/s at each topology over its items/s at 1:1 with the "
             "same work, on the same interpreter (above 1 = the extra producers and consumers moved more "
             "items), then its items/s at 1:1 → at that topology. The two topologies ran in different "
             "worker processes, so this interval is unpaired too, over processes.", ""]
    for start in range(0, len(columns), _COLUMNS):
        chunk = columns[start:start + _COLUMNS]
        lines += ["| design | interpreter | " + " | ".join(heads[key] for key in chunk) + " |",
                  "|---|---|" + "---|" * len(chunk)]
        for design, tag in rows:
            parts = []
            for key in chunk:
                entry = cells.get((design, tag, key[0]))
                if entry is None:
                    parts.append("-")
                    continue
                moved = (f"{fmt.rate(entry['base_row']['items_per_s'])} → "
                         f"{fmt.rate(entry['row']['items_per_s'])}/s")
                parts.append(f"{_verdict(entry, 'gains', 'loses')}; {moved}")
            lines.append(f"| `{design}` | {tag} | " + " | ".join(parts) + " |")
        lines.append("")
    return lines[:-1]


def interpreter_lines(table, processes, info: dict) -> list[str]:
    """The section's markdown lines; none when the run has fewer than two interpreters."""
    tags = interpreters(table, info)
    if len(tags) < 2:
        return []
    base = tags[0]
    lines = ["## " + QUESTION, "",
             f"This run's workers ran under {len(tags)} interpreters (`bench all --python`); each "
             f"benchmark's name ends in `/py-TAG`, and the decision table and the charts show each "
             f"interpreter's scenarios apart (`· TAG` after the scenario).", "",
             *_interpreter_list(tags, info), "",
             f"Each cell below: a design's figure on the other interpreter over its figure on {base}, both "
             f"medians over worker processes; for paced scenarios the figure the decision table ranks them "
             f"by. The two interpreters ran in different worker processes, so the ratio is **not paired**: "
             f"its 95% interval is a bootstrap over worker processes (each process's median is one sample, "
             f"each side's processes resampled independently) and carries both sides' noise; `-` where a "
             f"side has fewer than {MIN_PROCESSES} processes. Within each interpreter, the designs' "
             f"standings are paired as elsewhere in this report. A word in bold (**faster**, **slower**, "
             f"**lower**, **higher**): the interval leaves 1 out."]
    for other in tags[1:]:
        found = interpreter_ratios(table, processes, base, other)
        if not found:
            lines += ["", f"No design was measured on both {base} and {other} in one scenario."]
        lines += _ratio_tables(found, base, other)
    designs = list(dict.fromkeys(table["variant"]))  # the run's order, as the decision table's
    lines += _scaling_table(scaling_ratios(table, processes, tags), tags, designs)
    return lines + [""]
