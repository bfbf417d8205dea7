"""Paired standings: a scenario's designs measured in rounds by the same worker processes.

`bench rounds` (the worker), `bench all` running scenarios paired, the standings computed round by round,
and `bench sharing`, which must catch a design that sharing a process slows (tests.fixtures.slow_when_shared).
Every command runs in a subprocess, as a user would run it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pyperf
import pytest

from analysis.standings import paired_rounds, sidecar_rounds, standings, widest_interval
from bench.profiles import Cell, get_profile
from bench.scenario_run import run_scenario
from runs.store import part_stem
from tests.cli_helpers import assert_no_stray_process, bench
from variants.contract import Scenario

SMALL = ("--capacity=16", "--items=2000")


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def orders(lines: list[dict]) -> list[str]:
    """The recorded order of every measured round, checked against each value's position in it."""
    rounds: dict[int, dict] = {}
    for line in lines:
        if line["phase"] != "value":
            continue
        design = line["benchmark"].split("/")[0]
        assert line["order"].split(",")[line["position"]] == design
        rounds.setdefault(line["round"], {})[line["position"]] = (design, line["order"])
    found = []
    for number in sorted(rounds):
        placed = rounds[number]
        recorded = {order for _, order in placed.values()}
        assert len(recorded) == 1  # every value of a round names the same order
        assert [placed[p][0] for p in sorted(placed)] == next(iter(recorded)).split(",")
        found.append(next(iter(recorded)))
    return found


def rounds_worker(tmp_path: Path, designs: str, seed: int, *extra_args: str, extra: str | None = None):
    """One `bench rounds` worker writing new files in tmp_path: (process, suite file, metrics file)."""
    tag = len(list(tmp_path.iterdir()))
    out, metrics = tmp_path / f"o{tag}.json", tmp_path / f"m{tag}.jsonl"
    proc = bench("rounds", designs, *SMALL, "--rounds=6", "--warmups=1", f"--seed={seed}", f"--output={out}",
                 f"--metrics={metrics}", *extra_args, extra=extra)
    return proc, out, metrics


@pytest.mark.timeout(120)
def test_round_order_is_random_seeded_and_recorded(tmp_path):
    proc, out, metrics = rounds_worker(tmp_path, "queue,generator,coroutine", 1)
    assert proc.returncode == 0, proc.stderr
    first = orders(lines_of(metrics))
    assert len(first) == 6
    assert len(set(first)) > 1  # a fresh order each round
    again, other = rounds_worker(tmp_path, "queue,generator,coroutine", 1)[2], \
        rounds_worker(tmp_path, "queue,generator,coroutine", 2)[2]
    assert orders(lines_of(again)) == first  # the seed decides the orders
    assert orders(lines_of(other)) != first
    suite = pyperf.BenchmarkSuite.load(str(out))
    by_name = {bench.get_name(): bench for bench in suite.get_benchmarks()}
    assert sorted(by_name) == [f"{d}/p1c1/cap16/flat/none" for d in ("coroutine", "generator", "queue")]
    values = {line["benchmark"]: [] for line in lines_of(metrics)}
    for line in lines_of(metrics):
        if line["phase"] == "value":
            values[line["benchmark"]].append(line["elapsed_s"] / line["items"])
    for name, benchmark in by_name.items():
        runs = benchmark.get_runs()
        assert len(runs) == 1 and len(runs[0].values) == 6 and len(runs[0].warmups) == 1
        assert list(runs[0].values) == pytest.approx(values[name], rel=1e-12)  # the design's own clock
        assert benchmark.get_metadata()["prodcon_paired_with"] == "coroutine,generator,queue"
        assert benchmark.get_metadata()["prodcon_items"] == 2000


@pytest.mark.timeout(120)
def test_a_design_failing_in_a_shared_worker_fails_its_own_cell_only(tmp_path):
    proc, out, metrics = rounds_worker(tmp_path, "queue,broken_drops,generator", 3,
                                       extra="tests.fixtures.broken_drops")
    assert proc.returncode == 1
    assert "prodcon: broken_drops/p1c1/cap16/flat/none: failed: " in proc.stderr
    names = pyperf.BenchmarkSuite.load(str(out)).get_benchmark_names()
    assert sorted(names) == ["generator/p1c1/cap16/flat/none", "queue/p1c1/cap16/flat/none"]
    for benchmark in pyperf.BenchmarkSuite.load(str(out)).get_benchmarks():
        assert len(benchmark.get_runs()[0].values) == 6  # the others ran every round
    failed = [line for line in lines_of(metrics) if line["status"] != "ok"]
    assert [line["benchmark"] for line in failed] == ["broken_drops/p1c1/cap16/flat/none"]


@pytest.mark.timeout(180)
def test_bench_all_pairs_a_scenario_and_a_failure_stays_in_its_cell(tmp_path):
    folder = tmp_path / "run"
    proc = bench("all", "--profile", "smoke", "--only", "^(broken_drops|queue|generator)/p1c1/capinf/",
                 "--out", str(folder), extra="tests.fixtures.broken_drops")
    try:
        assert proc.returncode == 1, proc.stderr
        state = json.loads((folder / "run.json").read_text())
        cells = state["cells"]
        broken = cells["broken_drops/p1c1/capinf/flat/none"]
        assert broken["status"] == "failed" and "lost" in broken["reason"] or "missing" in broken["reason"]
        for design in ("queue", "generator"):
            entry = cells[f"{design}/p1c1/capinf/flat/none"]
            assert entry["status"] == "ok"
            assert entry["paired_with"] == "broken_drops,generator,queue"
            assert entry["effort"] == [{"processes": 1, "why": "first pass"}]
        suite = pyperf.BenchmarkSuite.load(str(folder / "suite.json"))
        assert sorted(suite.get_benchmark_names()) == ["generator/p1c1/capinf/flat/none",
                                                       "queue/p1c1/capinf/flat/none"]
        table = pd.read_csv(folder / "benchmarks.csv")
        ok = table[table["status"] == "ok"].set_index("variant")
        assert ok["standing_paired"].all()
        reference = ok["standing_ref"].iloc[0]
        assert ok.loc[reference, "standing"] == 1.0
        other = ({"queue", "generator"} - {reference}).pop()
        assert ok.loc[other, "standing"] > 1.0
    finally:
        assert_no_stray_process(str(tmp_path))


@pytest.mark.timeout(180)
def test_effort_goes_to_the_least_settled_scenario_within_its_caps(tmp_path):
    """target 0 means never settled: each paired scenario gets 2 more processes, up to max_processes."""
    profile = dataclasses.replace(get_profile("smoke"), processes=3, rounds=2, warmups=0, more_processes=2,
                                  budget_s=1e9, target_width=0.0, max_processes=5)
    from bench.orchestrate import _Runner

    class Bar:
        def set_postfix_str(self, text):
            pass

        def write(self, text, file=None):
            pass

        def update(self, n):
            pass

    (tmp_path / "parts").mkdir()
    state = {"cells": {}, "spin_rate": 1e7, "seed": 5}
    scenario = Scenario(1, 1, 2000, 16)
    group = [Cell("queue", scenario, None), Cell("generator", scenario, None)]
    with open(tmp_path / "pyperf.log", "w", encoding="utf-8") as log:
        runner = _Runner(profile, tmp_path, log, Bar(), state, None)
        runner.scenario(group)
        runner.more_effort(start=0.0, settle=lambda lines: widest_interval(sidecar_rounds(lines)))
    for cell in group:
        entry = state["cells"][cell.name]
        assert entry["processes"] == 5
        assert [step["processes"] for step in entry["effort"]] == [3, 2]
        assert entry["effort"][1]["why"].startswith("widest standing interval +-")
        part = pyperf.Benchmark.load(str(tmp_path / "parts" / f"{part_stem(cell.name)}.json"))
        assert len(part.get_runs()) == 5
        lines = lines_of(tmp_path / "parts" / f"{part_stem(cell.name)}.metrics.jsonl")
        assert len({line["pid"] for line in lines if line["phase"] == "value"}) == 5
        assert [line["phase"] for line in lines].count("depth") == 1  # worker 0 only


@pytest.mark.timeout(180)
def test_sharing_catches_a_design_that_sharing_slows(tmp_path):
    proc = bench("sharing", "coroutine", "slow_when_shared", "--processes=10", "--rounds=5", "--items=20000",
                 "--seed=1", extra="tests.fixtures.slow_when_shared", timeout=170)
    assert proc.returncode == 1, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[2:-1]}
    assert rows["slow_when_shared"][-1] == "biased"
    assert float(rows["slow_when_shared"][3]) > 1.2
    # The fixture's doubling is its own, not its partner's. Each design's alone processes are its own draws
    # of the machine, so an innocent design's paired/alone ratio alone moves 0.8-1.6x between runs (CI,
    # 2026-12-04: 1.596 at 4,000 items); against the fixture's it stood 1.37-2.6x lower in 8 runs here.
    assert float(rows["slow_when_shared"][3]) > 1.25 * float(rows["coroutine"][3]), proc.stdout


# --- standings computed round by round ---------------------------------------------------------------


def _frame(values: dict[tuple[int, int], dict[str, float]]) -> pd.DataFrame:
    rows = [{"scenario": "s", "variant": d, "benchmark": f"{d}/s", "pid": pid, "round": number, "value": v,
             "value_kind": "time per item", "s_per_item": v}
            for (pid, number), by_design in values.items() for d, v in by_design.items()]
    return pd.DataFrame(rows)


def test_a_standing_is_the_median_over_processes_of_per_round_ratios():
    # the machine moves 2x between rounds; b is always 1.5x a within its round
    values = {(pid, r): {"a": speed, "b": 1.5 * speed}
              for pid in range(4) for r, speed in enumerate([1.0, 2.0, 1.1, 2.2, 0.9])}
    frame = _frame(values)
    table = pd.DataFrame([{"scenario": "s", "variant": d, "benchmark": f"{d}/s", "status": "ok",
                           "value_kind": "time per item", "s_per_item": 1.0} for d in ("a", "b")])
    found = standings(frame, frame, table)
    assert found["b/s"]["standing"] == pytest.approx(1.5)
    assert found["b/s"]["standing_ref"] == "a" and found["b/s"]["standing_paired"] is True
    assert found["a/s"]["standing"] == 1.0
    rounds = paired_rounds(frame)
    assert widest_interval(rounds) == pytest.approx(0.0, abs=1e-12)  # every round says 1.5 exactly


def test_the_reference_is_the_design_that_wins_round_by_round():
    # a has the lowest median value (its slow rounds fall where the machine was fast) but b beats it in
    # 4 rounds of 5 within each process: b is the reference, a's standing above 1
    values = {}
    for pid in range(3):
        for r, (a, b) in enumerate([(1.0, 0.9), (1.0, 0.9), (1.0, 0.9), (1.0, 0.9), (0.5, 2.0)]):
            values[(pid, r)] = {"a": a, "b": b}
    frame = _frame(values)
    table = pd.DataFrame([{"scenario": "s", "variant": d, "benchmark": f"{d}/s", "status": "ok",
                           "value_kind": "time per item", "s_per_item": 1.0} for d in ("a", "b")])
    found = standings(frame, frame, table)
    assert found["a/s"]["standing_ref"] == "b"
    assert found["a/s"]["standing"] == pytest.approx(1.0 / 0.9)
    assert found["b/s"]["standing"] == 1.0


def test_sidecar_rounds_read_values_as_pyperf_stores_them():
    lines = [{"phase": "value", "status": "ok", "round": 0, "pid": 7, "benchmark": "a/s", "items": 10,
              "elapsed_s": 2.0},
             {"phase": "value", "status": "ok", "round": 0, "pid": 7, "benchmark": "b/s", "items": 10,
              "elapsed_s": 5.0, "latency_sum_s": 3.0},  # paced: pyperf stores the mean latency
             {"phase": "warmup", "status": "ok", "pid": 7, "benchmark": "a/s", "items": 10, "elapsed_s": 9.0},
             {"phase": "value", "status": "ok", "pid": 7, "benchmark": "c/s", "items": 10, "elapsed_s": 1.0}]
    assert sidecar_rounds(lines) == {7: {0: {"a": 0.2, "b": 0.3}}}
    assert math.isnan(widest_interval(sidecar_rounds(lines)))  # one process: no interval


@pytest.mark.timeout(120)
def test_a_worker_that_dies_unexplained_leaves_its_cells_crashed(tmp_path):
    """tests.fixtures.killer's worker dies by SIGKILL: no design named, every cell `crashed`, no part."""
    profile = dataclasses.replace(get_profile("smoke"), processes=1, rounds=1, warmups=0)
    scenario = Scenario(1, 1, 2000, 16)
    group = [Cell("queue", scenario, None), Cell("killer", scenario, None)]
    (tmp_path / "parts").mkdir()
    import os

    from bench.designs import EXTRA_DESIGNS_ENV
    os.environ[EXTRA_DESIGNS_ENV] = "tests.fixtures.killer"
    try:
        with open(tmp_path / "pyperf.log", "w", encoding="utf-8") as log:
            entries, staged = run_scenario(group, profile, tmp_path, log, 1e7, None, 1, 0, 1)
    finally:
        del os.environ[EXTRA_DESIGNS_ENV]
    assert {entry["status"] for entry in entries.values()} <= {"crashed", "ok"}
    assert entries["killer/p1c1/cap16/flat/none"]["status"] == "crashed"
    assert staged["killer/p1c1/cap16/flat/none"] == ([], [])
    assert list((tmp_path / "parts").iterdir()) == []  # nothing written before store_scenario


@pytest.mark.timeout(120)
def test_bench_all_alone_measures_every_cell_in_its_own_processes(tmp_path):
    folder = tmp_path / "run"
    proc = bench("all", "--profile", "smoke", "--only", "^(queue|generator)/p1c1/capinf/", "--alone",
                 "--out", str(folder))
    try:
        assert proc.returncode == 0, proc.stderr
        state = json.loads((folder / "run.json").read_text())
        assert state["alone"] is True and state["paired_effort"] is None
        for design in ("queue", "generator"):
            entry = state["cells"][f"{design}/p1c1/capinf/flat/none"]
            assert entry["alone"] == "bench all --alone" and "paired_with" not in entry
        log = (folder / "pyperf.log").read_text()
        assert "rounds worker" not in log and "bench rounds" not in log
        resumed = bench("all", "--resume", str(folder), "--alone")
        assert resumed.returncode == 2
        assert resumed.stderr.startswith("error: --resume takes the profile, --only, --alone, --python and "
                                         "folder")
    finally:
        assert_no_stray_process(str(tmp_path))
