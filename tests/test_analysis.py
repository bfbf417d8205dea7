"""analysis/: the frame, intervals over processes, charts, REPORT.md, `bench report` and `bench compare`.

The fixture tests/fixtures/runs/quick-subset is a real tiny run (see its README.md): 7 designs plus two
broken fixture designs (one failed, one timed-out cell), 2 worker processes x 3 values per benchmark, one
paced cell with the workers' latency figures. Tests copy it before writing anything.

Most tests call build_report and compare_runs in this process; the `reported` fixture,
test_compare_of_a_run_with_itself_gives_ratios_of_one and test_bad_arguments_are_one_line_and_exit_2 run
`python -m bench report` and `compare` as a user does.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyperf
import pytest

from analysis.aggregate import aggregate, analyse, process_frame
from analysis.compare import compare_runs, rank_stability
from analysis.load import load_run
from analysis.names import parse_name
from analysis.report import build_report, chart_caption, partial_notice
from runs.errors import UsageError
from runs.stats import MIN_PROCESSES, median_interval, ratio_interval
from tests.cli_helpers import ROOT, bench

FIXTURE = ROOT / "tests" / "fixtures" / "runs" / "quick-subset"
CHARTS = ("throughput_heatmap", "choices_heatmap", "throughput_vs_capacity", "consumer_work", "cpu_per_item",
          "latency_vs_load", "latency_seed002", "latency_paced")
OUTPUTS = ("REPORT.md", "frame.csv", "benchmarks.csv", "charts")

pytestmark = pytest.mark.timeout(120)


def _copy(tmp_path: Path, name: str = "run") -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURE, folder)
    return folder


def _run_json(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


def _add_latency_cells(folder: Path) -> None:
    """Clone the fixture's paced cells into a load sweep (steady at 3 rates), seed 002's scenario and a
    poisson cell.

    The clones carry scaled latency figures and no histogram, so they also exercise the path where
    percentiles come from the values' own figures.
    """
    suite = json.loads((folder / "suite.json").read_text())
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    state = _run_json(folder)
    clones = {"p1c1/cap16/steady:5000/io:50us": 0.5, "p1c1/cap16/steady:20000/io:50us": 3.0,
              "p1c1/cap16/burst:100:2000/io:1ms": 4.0, "p1c4/cap1/burst:100:2000/io:1ms": 6.0,
              "p1c1/cap16/poisson:10000/io:50us": 1.5}
    for benchmark in list(suite["benchmarks"]):
        name = benchmark["metadata"]["name"]
        if "/steady:10000/" not in name:
            continue
        variant = name.split("/")[0]
        for scenario, factor in clones.items():
            fields = parse_name(f"{variant}/{scenario}")
            copy = json.loads(json.dumps(benchmark))
            copy["metadata"].update(name=fields["benchmark"], prodcon_arrival=fields["arrival"],
                                    prodcon_work=fields["work"], prodcon_consumers=fields["consumers"],
                                    prodcon_capacity=int(fields["capacity"]))
            for run in copy["runs"]:
                run["values"] = [value * factor for value in run["values"]]
            suite["benchmarks"].append(copy)
            for line in [line for line in lines if line["benchmark"] == name]:
                clone = dict(line, benchmark=fields["benchmark"])
                clone.pop("latency_hist", None)
                for key in [k for k in clone if k.startswith("latency_") and k.endswith("_s")]:
                    clone[key] *= factor
                lines.append(clone)
            state["cells"][fields["benchmark"]] = {"status": "ok", "reason": None}
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (folder / "run.json").write_text(json.dumps(state))


def _add_a_process(folder: Path, factor: float) -> None:
    """Give every benchmark one more worker process: a copy of its first, values (and sidecar times)
    scaled by `factor`, under a new pid (so that it can be called again)."""
    suite = json.loads((folder / "suite.json").read_text())
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    for benchmark in suite["benchmarks"]:
        run = json.loads(json.dumps(benchmark["runs"][0]))
        run["values"] = [value * factor for value in run["values"]]
        benchmark["runs"].append(run)
        name = benchmark["metadata"]["name"]
        first = next(line["pid"] for line in lines if line["benchmark"] == name)
        pid = first + 100_000 * len(benchmark["runs"])  # one of its own on every call
        for line in [line for line in lines if line["benchmark"] == name and line["pid"] == first]:
            scaled = {key: line[key] * factor for key in ("elapsed_s", "latency_mean_s") if key in line}
            lines.append({**line, "pid": pid, **scaled})
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def _keep_one_value(folder: Path) -> None:
    """Make the run look like the smoke profile's: one worker process and one value per benchmark."""
    suite = json.loads((folder / "suite.json").read_text())
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    kept = []
    for benchmark in suite["benchmarks"]:
        benchmark["runs"] = benchmark["runs"][:1]
        benchmark["runs"][0]["values"] = benchmark["runs"][0]["values"][:1]
        name = benchmark["metadata"]["name"]
        first = next(line for line in lines if line["benchmark"] == name and line["phase"] == "value")
        kept += [line for line in lines if line["benchmark"] == name and line["pid"] == first["pid"]
                 and (line["phase"] != "value" or line["call"] == first["call"])]
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in kept))


def _scale(folder: Path, factor: float) -> None:
    """Multiply every measured value of the run (pyperf's, and the sidecar times that must match them) by
    `factor`."""
    suite = json.loads((folder / "suite.json").read_text())
    for benchmark in suite["benchmarks"]:
        for run in benchmark["runs"]:
            if run.get("values"):
                run["values"] = [value * factor for value in run["values"]]
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    for line in lines:
        if line["phase"] == "value":
            line.update({key: line[key] * factor for key in ("elapsed_s", "latency_mean_s") if key in line})
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def _keep_only(folder: Path, keep) -> list[str]:
    """Drop every benchmark whose name fails `keep` from the run (suite, metrics and run.json's cells);
    return the names dropped."""
    suite = json.loads((folder / "suite.json").read_text())
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    state = _run_json(folder)
    dropped = [name for name in state["cells"] if not keep(name)]
    suite["benchmarks"] = [b for b in suite["benchmarks"] if keep(b["metadata"]["name"])]
    state["cells"] = {name: cell for name, cell in state["cells"].items() if keep(name)}
    (folder / "suite.json").write_text(json.dumps(suite))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines
                                                  if keep(line["benchmark"])))
    (folder / "run.json").write_text(json.dumps(state))
    return dropped


def _interrupt(folder: Path, pending: list[str]) -> None:
    """Make the run look like one stopped by Ctrl-C (bench/orchestrate.py, _finish) before `pending`
    ran: those cells are pending in run.json, with no value in suite.json or metrics.jsonl."""
    _keep_only(folder, lambda name: name not in pending)
    state = _run_json(folder)
    state["cells"].update({name: {"status": "pending", "reason": None} for name in pending})
    state["interrupted"] = True
    (folder / "run.json").write_text(json.dumps(state))


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> tuple[Path, object]:
    """A copy of the fixture after `python -m bench report` (the finished process)."""
    folder = _copy(tmp_path_factory.mktemp("reported"))
    proc = bench("report", str(folder))
    return folder, proc


@pytest.fixture(scope="module")
def with_latency(tmp_path_factory) -> Path:
    """A copy of the fixture with a load sweep and seed 002's cells added, after build_report."""
    folder = _copy(tmp_path_factory.mktemp("latency"))
    _add_latency_cells(folder)
    build_report(folder)
    return folder


# ---------------------------------------------------------------- the frame


def test_the_frame_has_one_row_per_measured_value_equal_to_pyperfs():
    run = load_run(FIXTURE)
    frame, _, _ = analyse(run)
    suite = pyperf.BenchmarkSuite.load(str(FIXTURE / "suite.json"))
    expected = [(b.get_name(), p, i, value) for b in suite.get_benchmarks()
                for p, r in enumerate([r for r in b.get_runs() if r.values])
                for i, value in enumerate(r.values)]
    got = list(zip(frame["benchmark"], frame["process"], frame["value_index"], frame["value"], strict=True))
    assert got == expected
    assert len(frame) == sum(len(b.get_values()) for b in suite.get_benchmarks())


def test_the_frame_joins_each_value_with_its_own_sidecar_line():
    frame, _, _ = analyse(load_run(FIXTURE))
    values = [json.loads(line) for line in (FIXTURE / "metrics.jsonl").read_text().splitlines()]
    values = [line for line in values if line["phase"] == "value"]
    assert len(values) == len(frame)  # warm-up and depth lines are not measured values
    by_key = {(line["benchmark"], line["pid"], line["call"]): line for line in values}
    for row in frame.to_dict("records"):
        calls = sorted(c for (b, p, c) in by_key if b == row["benchmark"] and p == row["pid"])
        line = by_key[(row["benchmark"], row["pid"], calls[row["value_index"]])]
        assert row["cpu_s_per_item"] == pytest.approx(line["cpu_s_per_item"], rel=1e-12)
        if row["value_kind"] == "time per item":
            assert row["value"] == pytest.approx(line["elapsed_s"] / line["items"], rel=1e-9)
            assert row["items_per_s"] == pytest.approx(1 / row["value"])
        else:
            assert row["value"] == pytest.approx(line["latency_mean_s"], rel=1e-9)


def test_the_frame_has_latency_columns_for_paced_cells_and_nan_elsewhere():
    frame, _, _ = analyse(load_run(FIXTURE))
    paced = frame["kind"] == "paced"
    assert paced.any() and (~paced).any()
    for column in ("latency_p50_s", "latency_p99_s", "max_depth", "producer_lag_p99_s"):
        assert frame.loc[paced, column].notna().all(), column
        assert frame.loc[~paced, column].isna().all(), column


def test_frame_csv_is_the_frame_without_histograms(reported):
    folder, proc = reported
    assert proc.returncode == 0, proc.stderr
    csv = pd.read_csv(folder / "frame.csv")
    frame, _, _ = analyse(load_run(FIXTURE))
    assert "latency_hist" not in csv.columns
    assert len(csv) == len(frame)
    assert csv["value"].tolist() == pytest.approx(frame["value"].tolist(), rel=1e-12)


def test_a_run_without_metrics_still_gives_a_frame(tmp_path):
    folder = _copy(tmp_path)
    (folder / "metrics.jsonl").unlink()
    frame, _, table = analyse(load_run(folder))
    assert "cpu_s_per_item" not in frame.columns
    timed = (table["status"] == "ok") & (table["value_kind"] == "time per item")
    assert timed.any() and table.loc[timed, "s_per_item"].notna().all()
    latency = (table["status"] == "ok") & (table["value_kind"] == "latency")
    assert latency.any() and table.loc[latency, "latency_mean_s"].notna().all()


def test_benchmark_names_parse_with_their_optional_parts():
    fields = parse_name("queue/p4c2/cap16/burst:100:2000/io:1ms/payload64/stop-barrier")
    assert (fields["producers"], fields["consumers"], fields["capacity_n"], fields["offered_rate"],
            fields["burst_size"], fields["work_kind"], fields["work_s"], fields["payload"], fields["stop"],
            fields["kind"]) == (4, 2, 16.0, 2000.0, 100.0, "io", 1e-3, 64, "barrier", "paced")
    assert parse_name("asyncio/p1c1/capinf/flat/cpu:20us")["capacity_n"] == math.inf
    with pytest.raises(ValueError, match=r"^not a benchmark name of this suite: 'bm_telco'$"):
        parse_name("bm_telco")


# ---------------------------------------------------------------- intervals over processes


def _synthetic(per_process: list[list[float]]):
    rows = [dict(parse_name("queue/p1c1/capinf/flat/none"), model="thread", items=1,
                 value_kind="time per item", process=p, value_index=i, loops=1, value=v, s_per_item=v,
                 items_per_s=1 / v)
            for p, values in enumerate(per_process) for i, v in enumerate(values)]
    frame = pd.DataFrame(rows)
    return aggregate(frame, process_frame(frame), {"cells": {}}).iloc[0]


def test_the_benchmark_figure_and_interval_are_over_processes_not_pooled_values():
    row = _synthetic([[1.0] * 9, [2.0, 2.1], [3.0, 2.9]])  # pooled median 1.0; process medians 1, 2.05, 2.95
    assert row["n_processes"] == 3 and row["n_values"] == 13
    assert row["s_per_item"] == pytest.approx(2.05)
    assert 1.0 <= row["s_per_item_low"] < row["s_per_item_high"] <= 2.95
    assert (row["s_per_item_min"], row["s_per_item_max"]) == (1.0, 3.0)


def test_with_fewer_than_three_processes_the_interval_is_missing_never_zero_width():
    row = _synthetic([[1.0, 1.1, 1.2, 0.9] * 5, [2.0, 2.2] * 10])  # many values, but 2 processes
    assert math.isnan(row["s_per_item_low"]) and math.isnan(row["s_per_item_high"])
    assert row["s_per_item"] == pytest.approx(statistics.median([1.05, 2.1]))
    assert MIN_PROCESSES == 3
    assert all(math.isnan(x) for x in median_interval([1.0, 2.0]) + median_interval([1.0]))
    assert all(math.isnan(x) for x in ratio_interval([1.0, 2.0, 3.0], [1.0, 2.0]))


def test_the_fixture_has_two_processes_per_benchmark_so_no_interval():
    run = load_run(FIXTURE)
    _, processes, table = analyse(run)
    ok = table[table["status"] == "ok"]
    assert (ok["n_processes"] == 2).all() and (ok["n_values"] == 6).all()
    assert ok["s_per_item_low"].isna().all()
    for row in ok.to_dict("records"):
        medians = processes.loc[processes["benchmark"] == row["benchmark"], "s_per_item"]
        assert row["s_per_item"] == pytest.approx(statistics.median(medians))


def test_ratio_interval_brackets_the_ratio_of_medians():
    low, high = ratio_interval([2.0, 2.2, 1.9, 2.1], [1.0, 1.05, 0.95, 1.1])
    assert low < 2.1 / 1.025 < high
    assert low > 1.5 and high < 2.5


def test_latency_percentiles_come_from_the_merged_histograms():
    from hdrh.histogram import HdrHistogram

    run = load_run(FIXTURE)
    _, _, table = analyse(run)
    name = next(b for b in table["benchmark"] if b.startswith("queue/") and "/steady:" in b)
    merged = None
    for line in run.metrics:
        if line["benchmark"] == name and line["phase"] == "value":
            histogram = HdrHistogram.decode(line["latency_hist"])
            merged = histogram if merged is None else (merged.add(histogram) or merged)
    row = table[table["benchmark"] == name].iloc[0]
    assert row["latency_p99_s"] == pytest.approx(merged.get_value_at_percentile(99.0) * 1e-6)
    assert row["latency_max_s"] == pytest.approx(merged.get_max_value() * 1e-6)


# ---------------------------------------------------------------- charts and REPORT.md


def test_report_prints_the_path_and_writes_every_output(reported):
    folder, proc = reported
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{folder / 'REPORT.md'}\n"
    for name in OUTPUTS:
        assert (folder / name).exists(), name


def test_every_chart_the_fixture_can_draw_is_a_png_and_the_others_say_why(reported):
    folder, _ = reported
    report = (folder / "REPORT.md").read_text()
    drawn = {"throughput_heatmap", "throughput_vs_capacity", "consumer_work", "cpu_per_item", "latency_paced"}
    for name in CHARTS:
        path = folder / "charts" / f"{name}.png"
        if name in drawn:
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, name
            assert f"](charts/{name}.png)" in report
        else:
            assert not path.exists(), name
    assert "Not drawn: no load sweep in this run" in report
    assert "Not drawn: no seed-002 cells (burst:100:2000, work io:1ms) in this run." in report


def test_latency_charts_are_drawn_when_the_cells_exist(with_latency):
    report = (with_latency / "REPORT.md").read_text()
    for name in CHARTS:
        if name == "choices_heatmap":  # every design of this fixture ran everywhere: tests/test_choices.py
            continue
        path = with_latency / "charts" / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, name
        assert f"](charts/{name}.png)" in report
    assert report.count("Not drawn") == 1
    assert "Not drawn: no design people choose instead in this run (the heatmap shows every" in report


def test_the_report_names_every_design_and_marks_na_failed_and_timeout_cells(reported):
    folder, _ = reported
    report = (folder / "REPORT.md").read_text()
    state = _run_json(FIXTURE)
    designs = {name.split("/")[0] for name in state["cells"]}
    assert designs == {"lock_list", "two_lock", "queue", "generator", "greenlet", "multiprocess", "asyncio",
                       "broken_drops", "stuck"}
    for design in designs:
        assert design in report, design
    bad = {name: cell for name, cell in state["cells"].items() if cell["status"] != "ok"}
    assert {cell["status"] for cell in bad.values()} == {"n/a", "failed", "timeout"}
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    for name, cell in bad.items():
        if cell["status"] == "n/a":  # one row per design and reason, naming every scenario
            variant, scenario = name.split("/", 1)
            assert any(row.startswith(f"| {variant}: ") and f"`{scenario}`" in row
                       and row.endswith(f"| **n/a** | {cell['reason']} |") for row in rows), name
        else:
            assert f"| `{name}` | **{cell['status']}** | {cell['reason']} |" in rows
    assert "broken_drops failed; stuck timeout" in report  # in the decision table's row


def test_the_report_opens_with_the_decision_table_and_shows_missing_intervals(reported):
    folder, _ = reported
    report = (folder / "REPORT.md").read_text()
    assert report.index("## Decision table") < report.index("## Charts") < report.index("## Cells without")
    assert "| 1:1  cap 1 | **generator** |" in report
    assert "x (-) |" in report  # a ratio whose interval is missing says so
    assert "No margin has an interval: this run has 2 worker process(es) per benchmark" in report


def test_with_three_processes_the_report_quotes_each_margin_with_its_interval(tmp_path):
    folder = _copy(tmp_path)
    _add_a_process(folder, 1.05)
    frame, processes, table = analyse(load_run(folder))
    ok = table[table["status"] == "ok"]
    assert (ok["n_processes"] == 3).all() and ok["s_per_item_low"].notna().all()
    assert len(frame) == 3 * 3 * len(ok)
    report = build_report(folder).read_text()
    margins = re.findall(r"\| (\d+\.\d\d)x \((\d+\.\d\d)-(\d+\.\d\d)\)( within noise)? \|", report)
    assert len(margins) == ok["scenario"].nunique()  # one per scenario of the decision table
    for ratio, low, high, noise in margins:
        assert float(low) <= float(ratio) <= float(high)
        assert bool(noise) == (float(low) <= 1)
    assert "No margin has an interval" not in report


def test_one_process_with_one_value_reports_no_spread_rather_than_a_zero_width_one(tmp_path):
    folder = _copy(tmp_path)
    _keep_one_value(folder)
    _, _, table = analyse(load_run(folder))
    ok = table[table["status"] == "ok"]
    assert (ok["n_values"] == 1).all() and (ok["n_processes"] == 1).all()
    report = build_report(folder).read_text()
    assert "not measurable (fewer than 2 per benchmark)" in report
    assert "this run has 1 worker process(es) per benchmark" in report
    assert (folder / "charts" / "latency_paced.png").stat().st_size > 10_000


def test_a_rebuild_leaves_no_chart_of_an_earlier_build(with_latency, tmp_path):
    folder = _copy(tmp_path)
    shutil.copytree(with_latency / "charts", folder / "charts")  # charts this run cannot draw
    build_report(folder)
    assert not (folder / "charts" / "latency_vs_load.png").exists()
    assert (folder / "charts" / "throughput_heatmap.png").exists()


PENDING = ("asyncio/p1c1/cap1/flat/none", "queue/p4c4/cap16/flat/none",
           "multiprocess/p1c1/cap16/steady:10000/io:50us")


def test_the_report_of_an_interrupted_run_says_it_is_partial_at_its_top_and_shows_no_nan(tmp_path):
    folder = _copy(tmp_path)
    _interrupt(folder, list(PENDING))
    report = build_report(folder).read_text()
    assert not re.search(r"\bnan\b", report, re.IGNORECASE), report
    top = report[:report.index("## Decision table")]
    cells = len(_run_json(folder)["cells"])
    assert f"**This run is partial.** It was interrupted: {len(PENDING)} of {cells} cells are pending" in top
    assert "`python -m bench all --resume RUN_DIR`" in top
    assert f", {len(PENDING)} pending." in top  # in the line that counts the cells
    rows = [line for line in report.splitlines() if "**pending**" in line]
    assert rows == [f"| `{name}` | **pending** | not measured: the run stopped before this cell |"
                    for name in sorted(PENDING)]


def test_a_run_with_no_recorded_end_or_with_pending_cells_is_partial_too():
    table = pd.DataFrame({"status": ["ok", "pending", "n/a", "pending"]})
    finished = {"finished": "2026-12-04T16:25:00+00:00", "interrupted": False}
    killed = partial_notice({}, table)  # run.json as bench all writes it at the start: no end yet
    assert killed[0].startswith("**This run is partial.** It has not finished (still running, or killed): "
                                "2 of 4 cells are pending,")
    assert partial_notice(finished, table)[0].startswith("**This run is partial.** It left cells unmeasured: "
                                                         "2 of 4 cells are pending,")
    assert partial_notice(finished, table[table["status"] != "pending"]) == []


def test_the_report_of_a_finished_run_does_not_call_it_partial(reported):
    folder, _ = reported
    report = (folder / "REPORT.md").read_text()
    assert "partial" not in report and "pending" not in report
    assert not re.search(r"\bnan\b", report, re.IGNORECASE)


# ---------------------------------------------------------------- compare


def test_compare_of_a_run_with_itself_gives_ratios_of_one(tmp_path):
    out = tmp_path / "cmp"
    proc = bench("compare", str(FIXTURE), str(FIXTURE), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{out / 'COMPARE.md'}\n"
    ratios = pd.read_csv(out / "compare.csv")
    ok = _run_json(FIXTURE)["cells"]
    assert len(ratios) == sum(1 for cell in ok.values() if cell["status"] == "ok")
    assert (ratios["ratio"] == 1.0).all()
    text = (out / "COMPARE.md").read_text()
    assert "- Only in A (0): none.\n- Only in B (0): none." in text
    assert "The fastest design differs in 0 of" in text
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_lists_benchmarks_only_in_one_run_and_status_changes(tmp_path):
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    suite = json.loads((b / "suite.json").read_text())
    gone = suite["benchmarks"].pop(0)["metadata"]["name"]
    (b / "suite.json").write_text(json.dumps(suite))
    state = _run_json(b)
    state["cells"][gone] = {"status": "failed", "reason": "lost 1 items (7)"}
    (b / "run.json").write_text(json.dumps(state))
    out = tmp_path / "compare-a-vs-b"  # beside B, by default
    assert compare_runs(a, b) == out / "COMPARE.md"
    text = (out / "COMPARE.md").read_text()
    assert f"| `{gone}` | ok | failed | lost 1 items (7) |" in text
    assert gone not in set(pd.read_csv(out / "compare.csv")["benchmark"])


@pytest.mark.parametrize("forward", [True, False])
def test_compare_gives_b_over_a_with_an_interval_on_the_side_of_1_that_b_moved_to(tmp_path, forward):
    slow = _copy(tmp_path, "slow")
    _keep_one_value(slow)
    _add_a_process(slow, 1.02)
    _add_a_process(slow, 0.98)  # three processes a benchmark that agree within 4%: intervals exist
    fast = tmp_path / "fast"
    shutil.copytree(slow, fast)
    _scale(slow, 1.5)  # every value of `slow` is 1.5x `fast`'s
    a, b = (fast, slow) if forward else (slow, fast)
    text = compare_runs(a, b, str(tmp_path / "cmp")).read_text()
    ratios = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    measured = sum(1 for cell in _run_json(FIXTURE)["cells"].values() if cell["status"] == "ok")
    assert len(ratios) == measured and (ratios["n_a"] == 3).all() and (ratios["n_b"] == 3).all()
    expected = 1.5 if forward else 1 / 1.5  # B / A, as README.md and the forest plot's axis say
    assert ratios["ratio"].tolist() == pytest.approx([expected] * measured, rel=1e-9)
    assert (ratios["b"] / ratios["a"]).tolist() == pytest.approx([expected] * measured, rel=1e-9)
    assert ((ratios["low"] <= ratios["ratio"]) & (ratios["ratio"] <= ratios["high"])).all()
    if forward:
        assert (ratios["low"] > 1).all(), ratios
        assert f"Interval wholly above 1 (B slower): {measured}; wholly below 1 (B faster): 0;" in text
    else:
        assert (ratios["high"] < 1).all(), ratios
        assert f"Interval wholly above 1 (B slower): 0; wholly below 1 (B faster): {measured};" in text
    assert f"median B/A {expected:.3f}." in text
    table = text[text.index("## Ratios"):text.index("## Only in one run")]
    assert len(re.findall(rf"\| {expected:.2f}x \(\d\.\d\d-\d\.\d\d\) \| 3, 3 \|$", table, re.M)) == measured


def test_compare_of_runs_with_different_designs_lists_each_side_and_leaves_no_empty_section(tmp_path):
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    mine = ("queue/", "asyncio/")
    only_a = _keep_only(b, lambda name: name.startswith(mine))
    only_b = _keep_only(a, lambda name: not name.startswith(mine))
    text = compare_runs(a, b, str(tmp_path / "cmp")).read_text()
    assert not re.search(r"^#+ .*\n\s*^#+ ", text, re.M), text  # every heading has something under it
    assert not re.search(r"\n\n$", text), text
    assert "\n## Ratios (B / A, sorted)\n\nNone: no benchmark was measured in both runs.\n" in text
    assert "- No benchmark was measured in both runs." in text and "Interval wholly" not in text
    assert f"- Only in A ({len(only_a)}): " in text and f"- Only in B ({len(only_b)}): " in text
    assert all(f"`{name}`" in text for name in only_a + only_b)
    assert "Not drawn: no benchmark in both runs." in text
    assert not (tmp_path / "cmp" / "forest.png").exists()
    assert pd.read_csv(tmp_path / "cmp" / "compare.csv").empty


def test_rank_stability_measures_how_each_designs_standing_moved():
    def table(figures: dict[str, dict[str, float]]):
        return pd.DataFrame([{"scenario": s, "variant": v, "status": "ok", "value_kind": "time per item",
                              "s_per_item": x} for s, row in figures.items() for v, x in row.items()])

    a = table({"s1": {"x": 1.0, "y": 2.0, "z": 4.0}, "s2": {"x": 1.0, "y": 1.1}})
    b = table({"s1": {"x": 1.0, "y": 2.2, "z": 4.0}, "s2": {"x": 1.2, "y": 1.1}})
    found = rank_stability(a, b)
    assert found["scenarios"] == 2 and found["fastest_differs"] == 1
    assert found["differs"] == [("s2", "x", "y")]
    # s1: y 2 -> 2.2 (10%), z 4 -> 4 (0%); s2: x 1 -> 1.2/1.1, y 1.1 -> 1
    expected = sorted([0.1, 0.0, 1.2 / 1.1 - 1, 0.1])
    assert found["pairs"] == 4
    assert found["median"] == pytest.approx(statistics.median(expected))
    assert found["max"] == pytest.approx(max(expected))


# ---------------------------------------------------------------- bad input


def _break(folder: Path, how: str) -> None:
    if how == "no suite":
        (folder / "suite.json").unlink()
    elif how == "truncated suite":
        text = (folder / "suite.json").read_text()
        (folder / "suite.json").write_text(text[: len(text) // 2])
    elif how == "another tool's suite":
        suite = json.loads((folder / "suite.json").read_text())
        for benchmark in suite["benchmarks"]:
            benchmark["metadata"] = {k: v for k, v in benchmark["metadata"].items()
                                     if not k.startswith("prodcon_")}
        (folder / "suite.json").write_text(json.dumps(suite))
    elif how == "not pyperf":
        (folder / "suite.json").write_text('{"results": [1, 2, 3]}')
    elif how == "corrupt metrics":
        with open(folder / "metrics.jsonl", "a") as file:
            file.write('{"benchmark": "queue/p1c1/cap1/flat/none", "pha')
    elif how == "no run.json":
        (folder / "run.json").unlink()


BAD = {
    "no suite": r"^error: .*/run: no suite.json: no benchmark of this run finished$",
    "truncated suite": r"^error: .*/run/suite.json: not a readable pyperf suite: JSONDecodeError: .*$",
    "another tool's suite": r"^error: .*/run/suite.json: benchmark '[^']+' has no prodcon_\* metadata: "
                            r"not a suite written by `bench all`$",
    "not pyperf": r"^error: .*/run/suite.json: not a readable pyperf suite: .*$",
    "corrupt metrics": r"^error: .*/run/metrics.jsonl:\d+: not a JSON line: .*$",
    "no run.json": r"^error: .*/run: no run.json: not a run folder of `bench all`$",
}


def _main(capsys, *args: str) -> tuple[int, str, str]:
    """`bench ARGS` through bench.cli.main in this process: (exit status, stdout, stderr).

    The same code as `python -m bench` without starting an interpreter; test_bad_arguments_are_one_line_
    and_exit_2 runs the real command line.
    """
    from bench.cli import main

    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("how", list(BAD))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, how):
    folder = _copy(tmp_path)
    _break(folder, how)
    before = sorted(p.name for p in folder.iterdir())
    status, out, err = _main(capsys, "report", str(folder))
    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1, err
    assert re.match(BAD[how], err.strip()), err
    assert sorted(p.name for p in folder.iterdir()) == before
    cmp = tmp_path / "cmp"
    status, out, err = _main(capsys, "compare", str(FIXTURE), str(folder), "--out", str(cmp))
    assert (status, out, len(err.splitlines())) == (2, "", 1), err
    assert not cmp.exists()


@pytest.mark.parametrize("args, message", [
    (("report", "/nonexistent/run"), r"^error: /nonexistent/run: no such folder\n$"),
    (("report",), r"^error: the following arguments are required: RUN_DIR\n$"),
    (("compare", str(FIXTURE)), r"^error: the following arguments are required: RUN_B\n$"),
    (("compare", str(FIXTURE), str(FIXTURE), "--out", str(FIXTURE)),
     r"^error: .*quick-subset: exists and is not a comparison folder; choose another --out\n$"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, message):
    proc = bench(*args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert re.match(message, proc.stderr), proc.stderr


def test_load_run_refuses_a_folder_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(UsageError, match=r"not a folder$"):
        load_run(path)


# ---------------------------------------------------------------- bench all, workers


def test_a_report_that_fails_after_bench_all_costs_one_line_not_the_run(tmp_path, capsys):
    from bench.commands.all import _report

    folder = _copy(tmp_path)
    _break(folder, "truncated suite")
    _report(folder)
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("report not built (UsageError: ") and f"python -m bench report {folder}" in err


def test_the_worker_path_never_imports_pandas_or_matplotlib():
    code = ("import sys, bench.cli, bench.pyperf_run, bench.rounds, bench.orchestrate, bench.scenario_run, "
            "bench.once, bench.latency, bench.commands.rounds, bench.commands.run, variants, runs.errors, "
            "runs.store, runs.histograms, runs.fmt, runs.stats; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy', 'analysis') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_machine_noise_is_the_spread_of_one_thread_designs_in_closed_loop_cells_only():
    from analysis.report import machine_noise

    table = pd.DataFrame([
        {"model": "generator", "kind": "throughput", "status": "ok", "process_spread": 1.10},
        {"model": "asyncio", "kind": "work", "status": "ok", "process_spread": 1.20},
        {"model": "greenlet", "kind": "throughput", "status": "ok", "process_spread": 1.30},
        {"model": "thread", "kind": "throughput", "status": "ok", "process_spread": 5.0},  # regimes
        {"model": "process", "kind": "throughput", "status": "ok", "process_spread": 5.0},
        {"model": "generator", "kind": "paced", "status": "ok", "process_spread": 9.0},  # its schedule
        {"model": "generator", "kind": "throughput", "status": "n/a", "process_spread": math.nan},
    ])
    assert machine_noise(table) == pytest.approx(1.20)
    assert math.isnan(machine_noise(table[table["model"] == "thread"]))


@pytest.mark.parametrize("factor, noisy", [(1.0, False), (3.0, True)])
def test_the_report_and_compare_call_a_run_noisy_when_one_thread_designs_processes_disagree(
        tmp_path, factor, noisy):
    folder = _copy(tmp_path)
    _keep_one_value(folder)
    _add_a_process(folder, factor)  # two processes a benchmark: alike, or one 3x slower everywhere
    report = build_report(folder).read_text()
    assert ("This run was noisy" in report) == noisy
    assert f"closed-loop benchmarks, median): {factor:.2f}x" in report
    if noisy:
        assert report.index("This run was noisy") < report.index("## Decision table")
    info, table = json.loads((folder / "run.json").read_text()), pd.read_csv(folder / "benchmarks.csv")
    assert ("\nnoisy run:" in chart_caption(info, table)) == noisy  # a chart travels without its report
    compared = compare_runs(folder, folder, str(tmp_path / "cmp")).read_text()
    assert f"A {factor:.2f}x, B {factor:.2f}x" in compared
