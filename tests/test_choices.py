"""The queues people choose instead: where a profile measures them, and REPORT.md's section on them."""

from __future__ import annotations

import pandas as pd

from analysis.choices import choice_lines
from bench.profiles import CHOICES, alternative, cells, get_profile
from variants import REGISTRY


def test_alternatives_run_at_the_choices_only_and_the_seeds_everywhere():
    """A broker design at the profile's broker scenarios, every other alternative at CHOICES."""
    profile = get_profile("quick")
    found = cells(profile)
    alternatives = {name for name, design in REGISTRY.items() if alternative(name, design)}
    brokers = {name for name in alternatives if REGISTRY[name].MODEL == "broker"}
    assert alternatives - brokers and brokers  # the registry holds designs from outside the seeds
    for cell in found:
        if cell.variant in alternatives:
            assert cell.scenario in (profile.brokers if cell.variant in brokers else CHOICES), cell.name
    assert {cell.scenario for cell in found if cell.variant in alternatives - brokers} == set(CHOICES)
    assert {cell.scenario for cell in found if cell.variant in brokers} == set(profile.brokers)
    assert all(cell.unsupported is None for cell in found if cell.variant in brokers)
    seeds = {cell.scenario for cell in found if cell.variant == "queue"}
    assert set(CHOICES) < seeds  # the seeds' designs run at the choices too (1:8 is added for them)
    assert not any(cell.variant in alternatives for cell in cells(get_profile("ci")))  # the baseline's


def _row(variant: str, scenario: str, s_per_item: float, standing: float) -> dict:
    return {"variant": variant, "scenario": scenario, "status": "ok", "s_per_item": s_per_item,
            "standing": standing, "standing_low": standing * 0.9, "standing_high": standing * 1.1}


def test_the_report_compares_each_group_with_its_first_design():
    table = pd.DataFrame([
        _row("queue", "p1c1/cap16/flat/none", 4e-6, 10.0), _row("janus", "p1c1/cap16/flat/none", 20e-6, 50.0),
        _row("queue", "p4c4/cap16/flat/none", 6e-6, 12.0), _row("culsans", "p4c4/cap16/flat/none", 3e-6, 6.0),
        _row("generator", "p1c1/cap16/flat/none", 0.4e-6, 1.0),
    ])
    text = "\n".join(choice_lines(table))
    assert text.startswith("## The queues people choose instead")
    assert "| design | `p1c1/cap16/flat/none` | `p4c4/cap16/flat/none` |" in text
    assert "| `janus` | 20 us; 50.00x (45.00-55.00) fastest; 5.00x queue | - |" in text
    assert "| `culsans` | - | 3 us; 6.00x (5.40-6.60) fastest; 0.50x queue |" in text
    assert "asyncio_threadsafe" not in text  # not measured: left out
    assert "Between processes" not in text  # no alternative of that group measured


def test_no_section_without_an_alternative():
    table = pd.DataFrame([_row("queue", "p1c1/cap16/flat/none", 4e-6, 10.0),
                          _row("generator", "p1c1/cap16/flat/none", 0.4e-6, 1.0)])
    assert choice_lines(table) == []


def test_the_figure_over_the_baseline_is_paired_round_by_round_with_an_interval():
    """With the rounds behind the table, the figure over the group's first design is the median over
    processes of each process's median round ratio, not the ratio of the two standings (here 5.00x)."""
    scenario = "p1c1/cap16/flat/none"
    table = pd.DataFrame([_row("queue", scenario, 4e-6, 10.0), _row("janus", scenario, 20e-6, 50.0)])
    ratios = {1: (3.0, 3.2, 3.1), 2: (2.9, 3.0, 3.05), 3: (3.3, 3.1, 3.2), 4: (3.0, 3.0, 2.95)}
    frame = pd.DataFrame([
        {"scenario": scenario, "pid": pid, "round": number, "variant": variant, "value": value}
        for pid, by_round in ratios.items() for number, ratio in enumerate(by_round)
        for variant, value in (("queue", 1e-6 * (1 + number)), ("janus", ratio * 1e-6 * (1 + number)))])
    text = "\n".join(choice_lines(table, frame))
    row = next(line for line in text.splitlines() if line.startswith("| `janus`"))
    assert "5.00x queue" not in row
    assert "3.05x (" in row and row.endswith("queue |"), row  # process medians 3.1, 3.0, 3.2, 3.0


def test_designs_measured_at_some_scenarios_only_get_the_choice_chart(tmp_path):
    """The committed smoke run (seeds' designs only: no choice chart) with asyncio's rows renamed `uvloop`
    (an alternative) and kept at one scenario, as the profiles run one: the heatmap and the capacity chart
    leave it out and say so; the choice chart draws every design over that scenario alone."""
    from pathlib import Path

    from analysis.aggregate import analyse
    from analysis.charts import capacity_chart, choices_heatmap, heatmap
    from analysis.load import load_run
    from analysis.style import DesignStyle

    _, _, table = analyse(load_run(Path(__file__).parent.parent / "results" / "example"))
    style = DesignStyle(list(dict.fromkeys(table["variant"])))
    whole = choices_heatmap(table, style, "caption", tmp_path)
    assert whole.path is None and "no design people choose instead" in whole.skipped

    kept = "p1c1/capinf/flat/none"
    table = table[(table["variant"] != "asyncio") | (table["scenario"] == kept)]
    table = table.replace({"asyncio": "uvloop"})
    style = DesignStyle(list(dict.fromkeys(table["variant"])))
    grid = heatmap(table, style, "caption", tmp_path)
    assert ("The designs people choose instead ran at the choice scenarios only and are in the next chart: "
            "uvloop.") in grid.sentences
    assert "uvloop" not in grid.sentences[0]
    lines = capacity_chart(table, style, "caption", tmp_path)
    assert lines.sentences[-1] == ("Not drawn, measured at the choice scenarios only (see the previous "
                                   "chart): uvloop.")
    chosen = choices_heatmap(table, style, "caption", tmp_path)
    assert chosen.path.exists() and chosen.path.name == "choices_heatmap.png"
    assert chosen.sentences[0].startswith("Fastest design per scenario (1 scenarios): ")
