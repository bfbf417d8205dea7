"""REPORT.md and the charts of a run whose workers ran under two interpreters (`bench all --python`).

The run is faked from the committed fixture (tests/fixtures/runs/quick-subset): a third worker process is
added to every benchmark (so that intervals exist), every benchmark `N` becomes `N/py-3.11.7`, and a copy
`N/py-3.13.5t` holds the same values times a known factor per design (FACTORS), in suite.json, in the
sidecar and in run.json's cells; run.json gets its `pythons`. The report must find each factor back.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis.aggregate import analyse
from analysis.interpreters import QUESTION, interpreter_lines, interpreters
from analysis.load import load_run
from analysis.report import build_report
from tests.cli_helpers import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "runs" / "quick-subset"
A, B = "3.11.7", "3.13.5t"
FACTORS = {"queue": 0.5, "generator": 2.0}  # B's values over A's; 1.0 for every other design
SCALES = {"queue/p4c4/cap16/flat/cpu:20us": 0.25}  # but queue's 4:4 with cpu work gains 2x more on B
THIRD = 1.1  # the added worker process: the first one's values times this
PYTHONS = [
    {"tag": A, "path": "/usr/bin/python3.11", "executable": "/usr/bin/python3.11",
     "version": "3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]", "implementation": "cpython",
     "free_threaded": False, "gil": True, "environment": None},
    {"tag": B, "path": "/work/py313t/bin/python3.13t", "executable": "/cache/prodcon/py313t/bin/python",
     "version": "3.13.5 experimental free-threading build (main, Jun 11 2026) [GCC 12.2.0]",
     "implementation": "cpython", "free_threaded": True, "gil": False,
     "environment": "/cache/prodcon/py313t"},
]
_SCALED = ("elapsed_s", "cpu_s")  # sidecar times that must follow pyperf's values

pytestmark = pytest.mark.timeout(60)


def _read(folder: Path) -> tuple[dict, list[dict], dict]:
    suite = json.loads((folder / "suite.json").read_text())
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return suite, lines, json.loads((folder / "run.json").read_text())


def _write(folder: Path, suite: dict, lines: list[dict], state: dict) -> None:
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (folder / "run.json").write_text(json.dumps(state))


def _scaled(line: dict, factor: float) -> dict:
    """A sidecar line whose figures are `factor` times the original's: times for a flat cell, latency for a
    paced one (whose time mostly follows its schedule). The latency histogram is dropped (percentiles then
    come from the scaled figures, on both interpreters alike)."""
    line = {key: value for key, value in line.items() if key != "latency_hist"}
    paced = "latency_mean_s" in line
    for key in list(line):
        if (key.startswith("latency_") and key.endswith("_s")) if paced else key in _SCALED:
            line[key] *= factor
    return line


def _add_a_process(suite: dict, lines: list[dict]) -> list[dict]:
    """A third worker process per benchmark: the first one's values times THIRD, under a new pid."""
    added = []
    for benchmark in suite["benchmarks"]:
        runs = [run for run in benchmark["runs"] if run.get("values")]
        run = json.loads(json.dumps(runs[0]))
        run["values"] = [value * THIRD for value in run["values"]]
        benchmark["runs"].append(run)
        name = benchmark["metadata"]["name"]
        first = next(line["pid"] for line in lines if line["benchmark"] == name and line["phase"] == "value")
        added += [dict(_scaled(line, THIRD), pid=first + 100_000) for line in lines
                  if line["benchmark"] == name and line["pid"] == first]
    return lines + added


def make_two_interpreter_run(folder: Path, pythons: list[dict] | None = PYTHONS) -> Path:
    """Copy the fixture into `folder` as a run of two interpreters (see the module docstring)."""
    shutil.copytree(FIXTURE, folder)
    suite, lines, state = _read(folder)
    lines = [_scaled(line, 1.0) for line in _add_a_process(suite, lines)]
    copies, extra = [], []
    for benchmark in suite["benchmarks"]:
        name = benchmark["metadata"]["name"]
        factor = SCALES.get(name, FACTORS.get(name.split("/")[0], 1.0))
        copy = json.loads(json.dumps(benchmark))
        benchmark["metadata"].update(name=f"{name}/py-{A}", prodcon_python=A)
        copy["metadata"].update(name=f"{name}/py-{B}", prodcon_python=B)
        for run in copy["runs"]:
            if run.get("values"):
                run["values"] = [value * factor for value in run["values"]]
        copies.append(copy)
        extra += [dict(_scaled(line, factor), benchmark=f"{name}/py-{B}") for line in lines
                  if line["benchmark"] == name]
    suite["benchmarks"] += copies
    for line in lines:
        line["benchmark"] += f"/py-{A}"
    state["cells"] = {f"{name}/py-{tag}": cell for name, cell in state["cells"].items() for tag in (A, B)}
    if pythons is not None:
        state["pythons"] = pythons
    _write(folder, suite, lines + extra, state)
    return folder


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[Path, str]:
    """The fake two-interpreter run after build_report, and its REPORT.md."""
    folder = make_two_interpreter_run(tmp_path_factory.mktemp("interpreters") / "run")
    return folder, build_report(folder).read_text()


def _section(report: str) -> str:
    start = report.index(f"## {QUESTION}")
    return report[start:report.index("\n## ", start + 1)]


def _ratio_cells(section: str) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(design, scenario label) -> (ratio, low, high) from the section's interpreter-over-interpreter tables
    (not the scaling table, whose second column is the interpreter)."""
    found, head = {}, []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| design | "):
            head = [] if cells[1] == "interpreter" else cells
        elif head and line.startswith("| `"):
            for label, cell in zip(head[1:], cells[1:], strict=True):
                match = re.match(r"(\d+\.\d\d)x \((\d+\.\d\d)-(\d+\.\d\d)\)", cell)
                if match:
                    found[cells[0].strip("`"), label] = tuple(map(float, match.groups()))
    return found


def test_the_section_names_both_interpreters_and_says_the_interval_is_unpaired(two):
    _, report = two
    section = _section(report)
    assert report.index("## Decision table") < report.index(f"## {QUESTION}") < report.index("## Charts")
    assert f"**A** (the reference) `{A}`" in section and f"**B** `{B}`" in section
    assert "free-threaded build, GIL off" in section and "/work/py313t/bin/python3.13t" in section
    assert "**not paired**" in section and "bootstrap over worker processes" in section
    assert "standings are paired as elsewhere" in section


@pytest.mark.parametrize("design", sorted({*FACTORS, "lock_list"}))
def test_each_designs_ratio_is_its_factor_and_its_interval_holds_it(two, design):
    found = {label: figures for (name, label), figures in _ratio_cells(_section(two[1])).items()
             if name == design}
    assert len(found) == 6  # 3 throughput, 2 consumer-work and 1 paced scenario, each with an interval
    for label, (ratio, low, high) in found.items():
        factor = FACTORS.get(design, 1.0)
        if design == "queue" and label == "4:4  cap 16  cpu:20us":
            factor = SCALES["queue/p4c4/cap16/flat/cpu:20us"]
        assert ratio == pytest.approx(factor, abs=0.006), label
        assert low <= factor <= high, label


def test_the_scaling_table_gives_4_4_over_1_1_per_design_and_interpreter(two):
    folder, report = two
    section = _section(report)
    assert "### Does adding producers and consumers pay on each interpreter?" in section
    table = analyse(load_run(folder))[2]
    ratios = {}
    for design in ("queue", "generator"):
        for tag in (A, B):
            row = next(line for line in section.splitlines() if line.startswith(f"| `{design}` | {tag} |"))
            cells = table[(table["variant"] == design) & (table["python"] == tag)
                          & (table["work"] == "cpu:20us")]
            small = cells.loc[cells["topology"] == "1:1", "items_per_s"].iloc[0]
            large = cells.loc[cells["topology"] == "4:4", "items_per_s"].iloc[0]
            ratio = float(re.search(r"\| (\d+\.\d\d)x \(", row).group(1))
            assert ratio == pytest.approx(large / small, abs=0.006)
            if design == "queue":
                ratios[tag] = ratio
    # the question the table is for: queue gains from 4:4 with cpu work on B where it cannot on A
    assert ratios[B] == pytest.approx(2 * ratios[A], rel=0.01)
    assert "**gains**" in next(line for line in section.splitlines() if line.startswith(f"| `queue` | {B} |"))


def test_the_table_and_the_heatmap_name_each_interpreter(two):
    folder, report = two
    table = analyse(load_run(folder))[2]
    assert {A, B} <= set(table["python"]) and table["base_scenario"].notna().all()
    assert f"| 1:1  cap 16 · {A} | " in report and f"| 1:1  cap 16 · {B} | " in report
    for name in ("throughput_heatmap", "consumer_work", "throughput_vs_capacity", "cpu_per_item"):
        assert (folder / "charts" / f"{name}.png").stat().st_size > 10_000


def test_the_heatmap_labels_name_both_interpreters(two, monkeypatch, tmp_path):
    import analysis.charts as charts
    from analysis.style import DesignStyle

    folder, _ = two
    labels = []
    original = charts.plt.Axes.set_yticks

    def record(ax, ticks, names=None, **kwargs):
        labels.extend(names or [])
        return original(ax, ticks, names, **kwargs)

    monkeypatch.setattr(charts.plt.Axes, "set_yticks", record)
    table = analyse(load_run(folder))[2]
    charts.heatmap(table, DesignStyle(list(dict.fromkeys(table["variant"]))), "caption", tmp_path)
    assert f"1:1  cap 16 · {A}" in labels and f"4:4  cap 16 · {B}" in labels


def test_a_run_with_one_interpreter_has_no_such_section(tmp_path):
    table = analyse(load_run(FIXTURE))[2]
    assert interpreters(table) == [] and interpreter_lines(table, None, {}) == []
    folder = make_two_interpreter_run(tmp_path / "run")
    frame, processes, table = analyse(load_run(folder))
    one = table[table["benchmark"].str.endswith(f"/py-{A}")]
    assert interpreters(one) == [A] and interpreter_lines(one, processes, {"pythons": PYTHONS}) == []


def test_without_pythons_in_run_json_a_is_the_first_tag_sorted(tmp_path):
    folder = make_two_interpreter_run(tmp_path / "run", pythons=None)
    frame, processes, table = analyse(load_run(folder))
    assert interpreters(table, {}) == [A, B]
    text = "\n".join(interpreter_lines(table, processes, {}))
    assert f"`{A}`: not in run.json's `pythons`" in text and f"### Throughput: {B} over {A}" in text


def test_the_section_says_how_long_cpu_work_is_on_each_interpreter(two):
    """cpu:20us is the run's steps everywhere; each interpreter's own rate turns them into its duration."""
    folder, _ = two
    frame, processes, table = analyse(load_run(folder))
    rates = [dict(PYTHONS[0], spin_rate=50e6), dict(PYTHONS[1], spin_rate=25e6)]  # B runs the loop at half
    text = "\n".join(interpreter_lines(table, processes, {"pythons": rates, "spin_rate": 50e6}))
    assert "the same 1000 steps of a pure-Python loop" in text
    assert f"`{A}` 20.0 us; `{B}` 40.0 us" in text
    unmeasured = [PYTHONS[0], dict(PYTHONS[1], spin_rate=None)]  # a run.json from before: no sentence at all
    before = interpreter_lines(table, processes, {"pythons": unmeasured, "spin_rate": 50e6})
    assert not any("steps of a pure-Python loop" in line for line in before)
