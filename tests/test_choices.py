"""The queues people choose instead: where a profile measures them, and REPORT.md's section on them."""

from __future__ import annotations

import pandas as pd

from analysis.choices import choice_lines
from bench.profiles import CHOICES, alternative, cells, get_profile
from variants import REGISTRY


def test_alternatives_run_at_the_choices_only_and_the_seeds_everywhere():
    found = cells(get_profile("quick"))
    alternatives = {name for name, design in REGISTRY.items() if alternative(name, design)}
    assert alternatives  # the registry holds designs from outside the seeds
    for cell in found:
        if cell.variant in alternatives:
            assert cell.scenario in CHOICES, cell.name
    assert {cell.scenario for cell in found if cell.variant in alternatives} == set(CHOICES)
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
