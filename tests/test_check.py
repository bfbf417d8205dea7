"""`python -m bench check`: the verdict rule, stored runs on synthetic suites, and the gate end to end.

The end-to-end tests measure for real (a few seconds each): HEAD against HEAD on this repository passes;
a snapshot of this working tree committed in a scratch repository, checked against itself with an injected
3x slowdown, fails; two commits whose design differs (10x) measure differently (so each side really runs
its own code); a design that overfills its buffer fails in its first round (the one whole `bench run` a
side makes, with its depth run); worktrees and workers are gone after SIGINT or SIGTERM, in the rounds or in
the re-measure.

What the end-to-end tests prove, and what they do not: they were loosened over time to survive noisy days
(an injected 1.5x, then 3x, then a 10x code change), because one worker process here can run 2x slower than
the next and a handful of rounds must not depend on a quiet machine. So the end-to-end proof is at 3x and
up. The claim that the gate resolves about 10% rests on the unit tests of the statistics below (the sign
test's and Mann-Whitney's intervals against the tables, coverage, the verdict rule) and on the proof program
of docs/regression-gate.md ("The proof runs": 10 same-code runs and 10 injected runs per factor, data in
results/check-proof/), not on these tests.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from bench.designs import EXTRA_DESIGNS_ENV
from bench.gate import rounds
from bench.gate import stats as gate_stats
from bench.gate.inject import parse_slowdown
from bench.gate.options import CheckOptions
from bench.gate.sides import Side, side_command, worker_environ
from bench.gate.stored import BASELINE, compare_stored, load_stored, save_baseline
from bench.gate.table import format_report
from bench.profiles import Cell, cells, get_profile
from runs.errors import UsageError
from tests.cli_helpers import (
    ROOT,
    alive_with,
    assert_no_stray_process,
    bench,
    bench_env,
    default_sigint,
    run_bounded,
    time_left,
)
from variants.contract import Scenario

pytestmark = pytest.mark.timeout(120)

GEN = "generator/p1c1/cap16/flat/none"
QUEUE = "queue/p1c1/cap16/flat/none"


# ---- the verdict rule on synthetic per-round ratios -------------------------------------------------------

def _decide(ratios: list[float], benchmarks: int = 13, threshold: float = 0.05) -> gate_stats.Verdict:
    level = gate_stats.family_level(benchmarks)
    interval = gate_stats.sign_interval(ratios, level)
    return gate_stats.decide(statistics.median(ratios), interval, threshold)


def test_constant_slowdown_with_small_noise_is_slower():
    rng = random.Random(1)
    verdict = _decide([1.3 * rng.gauss(1, 0.03) for _ in range(15)])
    assert verdict.status == "slower"
    assert 1 < verdict.low < 1.3 < verdict.high


def test_noise_around_one_with_one_wild_round_is_not():
    rng = random.Random(2)
    ratios = [rng.gauss(1, 0.01) for _ in range(14)] + [3.0]
    assert _decide(ratios).status == "unchanged"
    assert _decide([1 / r for r in ratios]).status == "unchanged"
    rng = random.Random(2)
    noisier = [rng.gauss(1, 0.03) for _ in range(14)] + [3.0]  # its 2nd largest ratio is past 1.05
    assert _decide(noisier).status == "undecided"


def test_improvement_mirrors_slower():
    rng = random.Random(3)
    assert _decide([0.7 * rng.gauss(1, 0.03) for _ in range(15)]).status == "improvement"


def test_a_sure_but_small_slowdown_is_unchanged():
    rng = random.Random(4)
    assert _decide([1.02 * rng.gauss(1, 0.002) for _ in range(15)]).status == "unchanged"


def test_a_large_but_unsure_slowdown_is_undecided():
    ratios = [1.5, 1.4, 0.9, 1.6, 0.95, 1.3, 0.8, 1.45, 1.2, 0.85, 1.5, 1.35, 0.9, 1.4, 1.25]
    verdict = _decide(ratios)
    assert verdict.ratio > 1.05 and verdict.low < 1
    assert verdict.status == "undecided"


def test_unchanged_only_when_the_whole_interval_lies_below_the_threshold():
    # 2026-12-04, queue x1.10 injected on a loaded machine: it said "unchanged" and the check exited 0
    assert gate_stats.decide(1.099, (0.981, 1.233), 0.05).status == "undecided"
    assert gate_stats.decide(1.02, (0.99, 1.049), 0.05).status == "unchanged"
    assert gate_stats.decide(1.02, (0.99, 1.05), 0.05).status == "undecided"
    assert gate_stats.decide(1.04, (1.01, 1.08), 0.05).status == "undecided"  # surely slower, but by 5%?
    assert gate_stats.decide(1.06, (1.01, 1.08), 0.05).status == "slower"
    assert gate_stats.decide(0.9, (0.85, 0.99), 0.05).status == "improvement"
    assert gate_stats.decide(0.97, (0.85, 1.01), 0.05).status == "unchanged"
    assert gate_stats.decide(1.3, None, 0.05).status == "undecided"


def test_exit_status_orders_failure_before_undecided():
    exit_status = gate_stats.exit_status
    assert exit_status(["unchanged", "improvement", "not confirmed"], 0, 0) == 0
    assert exit_status(["unchanged", "undecided"], 0, 0) == 3
    assert exit_status(["slower", "undecided"], 0, 0) == 1
    assert exit_status(["failed", "unchanged"], 0, 0) == 1
    assert exit_status(["unchanged"], 1, 0) == 1  # a failure outside the table (a stored run's cell)
    assert exit_status(["undecided"], 0, 2) == 1  # missing on one side, not allowed
    assert exit_status([], 0, 0) == 0


def test_each_look_is_paid_for_in_the_level():
    assert rounds.looks(30, 30) == 1 and rounds.looks(30, 50) == 3 and rounds.looks(30, 55) == 4
    assert gate_stats.family_level(9, looks=3) == pytest.approx(1 - 0.05 / 27)
    assert gate_stats.family_level(9) == pytest.approx(1 - 0.05 / 9)


def test_sign_interval_matches_the_tables():
    ratios = [math.exp(i) for i in (3, 1, 10, 7, 2, 5, 9, 4, 8, 6)]
    # n=10, two-sided 0.05: 2 * P(X <= 1) = 0.021 (standard tables), so the 2nd smallest to the 2nd largest
    low, high = gate_stats.sign_interval(ratios, 0.95)
    assert (math.log(low), math.log(high)) == pytest.approx((2, 9))
    low, high = gate_stats.sign_interval(ratios[:6], 0.95)  # n=6: only min and max reach it
    assert (math.log(low), math.log(high)) == pytest.approx((1, 10))
    assert gate_stats.sign_interval(ratios[:5], 0.95) is None  # 2 * 0.5**5 = 0.0625 > 0.05
    low, high = gate_stats.sign_interval([math.exp(i) for i in range(30)], gate_stats.family_level(9))
    assert (math.log(low), math.log(high)) == pytest.approx((7, 22))  # n=30, 99.44%: the 8th, P(X<=7)=.0026
    assert gate_stats.min_rounds(0.95) == 6
    assert gate_stats.min_rounds(gate_stats.family_level(13)) == 10
    assert _decide([1.3] * 5, benchmarks=1).status == "undecided"


def test_sign_interval_covers_as_promised():
    rng = random.Random(5)
    trials, level = 400, 0.9
    covered = 0
    for _ in range(trials):
        ratios = [math.exp(rng.gauss(0.1, 0.2) if rng.random() < 0.9 else rng.gauss(0.1, 1.0))
                  for _ in range(12)]
        low, high = gate_stats.sign_interval(ratios, level)
        covered += low <= math.exp(0.1) <= high
    assert covered / trials >= level - 0.03


def test_rounds_in_another_regime_do_not_hide_a_slowdown():
    # queue at 1:1 on this machine: a worker now and then lands in a regime 2-3x off, on either side; a
    # 1.5x slowdown measured so (per-round ratios of a real injected run) must stay slower
    ratios = [0.43, 0.48, 0.50, 0.59, 1.05, 1.10, 1.42, 1.42, 1.43, 1.45, 1.46, 1.50, 1.50, 1.51, 1.51,
              1.52, 1.52, 1.52, 1.53, 1.53, 1.53, 1.54, 1.60, 1.61, 1.62, 1.63, 1.74, 1.74, 2.11, 4.46]
    verdict = _decide(ratios, benchmarks=9)
    assert verdict.status == "slower" and 1.3 < verdict.low < 1.5 < verdict.high


def test_process_interval_matches_the_tables():
    base = [math.exp(i) for i in (0, 1, 2, 3, 4)]
    head = [math.exp(i + 0.5) for i in (0, 1, 2, 3, 4)]
    diffs = sorted(math.log(b / a) for a in base for b in head)
    # n = m = 5, two-sided 0.05: critical U = 2 (standard tables): the 3rd smallest to 3rd largest difference
    low, high = gate_stats.process_interval(base, head, 0.95)
    assert (math.log(low), math.log(high)) == pytest.approx((diffs[2], diffs[-3]))
    assert gate_stats.process_interval(base[:3], head[:3], 0.95) is None  # 2 / 20 > 0.05
    assert gate_stats.process_interval(base[:4], head[:4], 0.95) is not None  # 2 / 70 <= 0.05
    low, high = gate_stats.process_interval(base, [x * 1.3 for x in base], 0.95)
    assert low < 1.3 < high


@pytest.mark.parametrize("level, fewest", [(0.95, 4), (gate_stats.family_level(9), 6),
                                           (gate_stats.family_level(50), 7),
                                           (gate_stats.family_level(264), 8)])
def test_min_processes_is_where_the_interval_begins_to_exist(level, fewest):
    assert gate_stats.min_processes(level) == fewest
    values = [1 + i / 100 for i in range(fewest)]
    assert gate_stats.process_interval(values, values, level) is not None
    assert gate_stats.process_interval(values[1:], values[1:], level) is None


# ---- stored runs: synthetic pyperf suites -----------------------------------------------------------------

def _processes(seed: int, processes: int, values: int, scale: float = 1.0,
               spread: float = 0.3) -> list[list[float]]:
    """Values shaped like this machine's: a factor per process (up to 1 + spread: 1.3x here) times a little
    noise per value. A quiet machine's, with spread=0.02, is what a stored comparison can decide."""
    rng = random.Random(seed)
    found = []
    for _ in range(processes):
        factor = rng.uniform(1.0, 1.0 + spread)
        found.append([scale * 2e-6 * factor * rng.gauss(1, 0.02) for _ in range(values)])
    return found


def _suite(path: Path, benchmarks: dict[str, list[list[float]]], items: int = 20000) -> Path:
    import pyperf

    made = []
    for name, processes in benchmarks.items():
        runs = [pyperf.Run(values, warmups=None, collect_metadata=False,
                           metadata={"name": name, "prodcon_items": items, "loops": 1, "unit": "second"})
                for values in processes]
        made.append(pyperf.Benchmark(runs))
    pyperf.BenchmarkSuite(made).dump(str(path))
    return path


def _stored(base: Path, current: Path, form: str = "text", allow_missing: bool = False) -> tuple[int, str]:
    """(exit status, output) of `bench check --baseline BASE --current CURRENT`, computed in this process:
    each test runs the CLI itself once, and its other forms here."""
    report = compare_stored(load_stored(base), load_stored(current), 0.05, allow_missing)
    return report["exit_status"], format_report(report, form)


def test_values_scaled_by_1_25_are_slower(tmp_path):
    base = {GEN: _processes(1, 8, 3, spread=0.02), QUEUE: _processes(2, 8, 3, spread=0.02)}
    head = {GEN: [[v * 1.25 for v in p] for p in base[GEN]], QUEUE: base[QUEUE]}
    proc = bench("check", "--baseline", str(_suite(tmp_path / "a.json", base)),
                 "--current", str(_suite(tmp_path / "b.json", head)))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    row = next(line for line in lines if line.startswith(GEN))
    assert row.split()[5] == "1.250" and row.endswith("slower")
    assert next(line for line in lines if line.startswith("queue/")).endswith("unchanged")
    assert any("machine drift" in line for line in lines)
    assert lines[-1] == f"result: 1 slower: {GEN}"


def test_identical_suites_of_a_quiet_machine_pass(tmp_path):
    suite = _suite(tmp_path / "a.json", {GEN: _processes(1, 8, 3, spread=0.02)})
    proc = bench("check", "--baseline", str(suite), "--current", str(suite), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (row,) = report["benchmarks"]
    assert (row["ratio"], row["verdict"], report["exit_status"]) == (1.0, "unchanged", 0)
    assert row["low"] < 1 < row["high"] < 1.05


def test_identical_suites_of_a_noisy_machine_are_undecided(tmp_path):
    # 8 processes a side whose speeds differ by up to 1.3x cannot tell 5% from nothing, even on equal data
    suite = _suite(tmp_path / "a.json", {GEN: _processes(1, 8, 3)})
    proc = bench("check", "--baseline", str(suite), "--current", str(suite), "--format", "json")
    assert proc.returncode == 3, proc.stderr
    (row,) = json.loads(proc.stdout)["benchmarks"]
    assert (row["ratio"], row["verdict"]) == (1.0, "undecided") and row["high"] >= 1.05


def test_unequal_sample_counts_are_compared_per_process(tmp_path):
    base = _suite(tmp_path / "a.json", {GEN: _processes(1, 6, 3, spread=0.02)})
    head = _suite(tmp_path / "b.json", {GEN: _processes(2, 7, 2, spread=0.02)})  # other counts
    proc = bench("check", "--baseline", str(base), "--current", str(head), "--format", "json")
    assert proc.returncode == 0, proc.stdout
    (row,) = json.loads(proc.stdout)["benchmarks"]
    assert row["processes"] == [6, 7] and row["values"] == [18, 14]
    assert row["verdict"] == "unchanged" and row["low"] < 1 < row["high"]


def test_too_few_processes_are_undecided_exit_3(tmp_path):
    base = _suite(tmp_path / "a.json", {GEN: _processes(1, 2, 3)})
    head = _suite(tmp_path / "b.json", {GEN: _processes(1, 2, 3, scale=2.0)})
    proc = bench("check", "--baseline", str(base), "--current", str(head))
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert next(line for line in lines if line.startswith(GEN)).endswith("undecided")
    assert lines[-1] == ("result: undecided: 1 of 1 benchmark (2 and 2 worker processes; at 95% Mann-Whitney "
                         "needs at least 4 a side)")
    status, markdown = _stored(base, head, "markdown")
    assert status == 3 and markdown.startswith("### bench check: undecided\n")


def test_missing_and_new_benchmarks_fail_unless_allowed(tmp_path):
    same = _processes(1, 6, 3, spread=0.02)
    base = _suite(tmp_path / "a.json", {GEN: same, QUEUE: _processes(2, 6, 3)})
    head = _suite(tmp_path / "b.json", {GEN: same, "asyncio/p1c1/cap16/flat/none": _processes(3, 6, 3)})
    proc = bench("check", "--baseline", str(base), "--current", str(head))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "missing in current: queue/p1c1/cap16/flat/none" in lines
    assert "new in current (not compared): asyncio/p1c1/cap16/flat/none" in lines
    assert lines[-1] == ("result: 2 on one side only (--allow-missing accepts them): "
                         "queue/p1c1/cap16/flat/none, asyncio/p1c1/cap16/flat/none")
    status, markdown = _stored(base, head, "markdown")
    assert status == 1 and "| benchmark | base | head | ratio | interval | processes | verdict |" in markdown
    assert "missing in current: queue/p1c1/cap16/flat/none  " in markdown.splitlines()
    status, allowed = _stored(base, head, allow_missing=True)
    assert status == 0, allowed
    assert "missing in current: queue/p1c1/cap16/flat/none" in allowed.splitlines()
    assert allowed.splitlines()[-1] == "result: no regression in 1 benchmark (2 on one side only, allowed)"


def test_different_item_counts_are_refused(tmp_path):
    base = _suite(tmp_path / "a.json", {GEN: _processes(1, 6, 3)})
    head = _suite(tmp_path / "b.json", {GEN: _processes(1, 6, 3, scale=3.0)}, items=2000)
    proc = bench("check", "--baseline", str(base), "--current", str(head), "--format", "json")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"error: the runs cannot be compared: 1 of 1 benchmarks measured different "
                           f"things: {GEN} (items differ: 20000 in the baseline, 2000 now)\n")


@pytest.mark.parametrize("content, message", [
    ("not json at all", r"not a pyperf suite: Expecting value"),
    ('{"benchmarks": 3}', r"not a pyperf suite: "),
    ('{"version": "1.0", "benchmarks": [{"runs": [{"values": "x"}]}]}', r"not a pyperf suite: "),
])
def test_corrupt_suite_is_one_line_and_exit_2(tmp_path, content, message):
    good = _suite(tmp_path / "good.json", {GEN: _processes(1, 6, 3)})
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for first, second in ((bad, good), (good, bad)):
        args = ["--baseline", str(first), "--current", str(second)]
        proc = bench("check", *args)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: {bad}: ")
        assert message in proc.stderr


def test_missing_stored_run_is_one_line(tmp_path):
    proc = bench("check", "--baseline", str(tmp_path / "nope"), "--current", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (2, f"error: {tmp_path / 'nope'}: no such file or folder\n")
    proc = bench("check", "--baseline", str(tmp_path), "--current", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (2, f"error: {tmp_path}: no suite.json: not a run folder of "
                                                 f"`bench all`\n")


def _run_folder(folder: Path, finished: bool = True) -> Path:
    folder.mkdir()
    _suite(folder / "suite.json", {GEN: _processes(1, 6, 3)})
    state = {"format": 1, "profile": "ci", "cells": {GEN: {"status": "ok", "reason": None},
                                                     "queue/p1c1/cap16/flat/none": {"status": "failed",
                                                                                    "reason": "dropped 3"}},
             "git_commit": "0123456789abcdef"}
    if finished:
        state["finished"] = "2026-11-24T00:00:00+00:00"
    (folder / "run.json").write_text(json.dumps(state))
    return folder


def test_failed_cells_of_a_stored_run_exit_1(tmp_path):
    run = _run_folder(tmp_path / "run")
    proc = bench("check", "--baseline", str(run / "suite.json"), "--current", str(run))
    assert proc.returncode == 1, proc.stderr
    assert "failed (current): queue/p1c1/cap16/flat/none: failed: dropped 3" in proc.stdout.splitlines()
    assert proc.stdout.splitlines()[-1].startswith("result: 1 failed: queue/p1c1/cap16/flat/none (current)")
    # the same run as the baseline: its failed cell counts as much, and is not also "new" or "missing"
    status, text = _stored(run, run / "suite.json", allow_missing=True)
    assert status == 1
    lines = text.splitlines()
    assert "failed (baseline): queue/p1c1/cap16/flat/none: failed: dropped 3" in lines
    assert not any(line.startswith(("missing in", "new in")) for line in lines)


def test_an_unfinished_run_is_refused(tmp_path):
    run = _run_folder(tmp_path / "run", finished=False)
    for args in (["--baseline", str(run), "--current", str(run / "suite.json")],
                 ["--baseline", str(run / "suite.json"), "--current", str(run)]):
        proc = bench("check", *args)
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == (f"error: {run}: the run did not finish; finish it with "
                               f"`python -m bench all --resume {run}` first\n")


def test_baseline_save_copies_suite_and_run(tmp_path):
    run = _run_folder(tmp_path / "run")
    message = save_baseline(str(run), tmp_path / "baseline")
    assert message == (f"baseline: 1 benchmarks of profile ci (commit 0123456789ab) saved in "
                       f"{tmp_path / 'baseline'}")
    for name in ("suite.json", "run.json"):
        assert (tmp_path / "baseline" / name).read_bytes() == (run / name).read_bytes()
    with pytest.raises(UsageError, match=r"the run did not finish"):
        save_baseline(str(_run_folder(tmp_path / "unfinished", finished=False)), tmp_path / "baseline2")
    assert not (tmp_path / "baseline2").exists()


def _medians(folder: Path) -> dict[str, list[float]]:
    """One median per worker process for each benchmark of a stored run, read from its suite.json by hand
    (not through the gate, which the tests below judge)."""
    suite = json.loads((folder / "suite.json").read_text())
    return {entry["metadata"]["name"]: [statistics.median(run["values"]) for run in entry["runs"]
                                        if run.get("values")] for entry in suite["benchmarks"]}


def _scaled_copy(folder: Path, target: Path, factor: float) -> Path:
    """A copy of stored run `folder` whose every measured value is `factor` times the original's."""
    suite = json.loads((folder / "suite.json").read_text())
    for entry in suite["benchmarks"]:
        for run in entry["runs"]:
            if run.get("values"):
                run["values"] = [value * factor for value in run["values"]]
    target.mkdir()
    (target / "suite.json").write_text(json.dumps(suite))
    shutil.copy(folder / "run.json", target / "run.json")
    return target


# results/baseline against itself. Its 6 processes a side are the fewest that can decide anything at
# 99.44% (9 benchmarks), so each interval runs from its slowest process over its fastest to the inverse:
# unchanged where the 6 processes lie within 5% of each other, undecided elsewhere. A refreshed baseline
# gives other verdicts: write them here.
BASELINE_VERDICTS = {
    "lock_list/p1c1/cap16/flat/none": "undecided", "two_lock/p1c1/cap1/flat/none": "undecided",
    "semaphores/p1c1/cap16/flat/none": "undecided", "queue/p1c1/cap16/flat/none": "unchanged",
    "generator/p1c1/cap16/flat/none": "undecided", "coroutine/p1c1/cap16/flat/none": "unchanged",
    "greenlet/p1c1/cap16/flat/none": "unchanged", "multiprocess/p1c1/cap16/flat/none": "undecided",
    "asyncio/p1c1/cap16/flat/none": "unchanged"}


def test_committed_baseline_has_every_ci_benchmark_with_enough_processes():
    medians = _medians(BASELINE)
    assert set(medians) == {cell.name for cell in cells(get_profile("ci")) if not cell.unsupported}
    fewest = gate_stats.min_processes(gate_stats.family_level(len(medians)))
    assert fewest == 6
    assert {name: len(found) for name, found in medians.items() if len(found) < fewest} == {}
    proc = bench("check", "--baseline", "--current", str(BASELINE), "--format", "json")
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["base"]["text"].startswith(f"baseline: {BASELINE} (9 benchmarks, ")
    assert {row["benchmark"]: row["verdict"] for row in report["benchmarks"]} == BASELINE_VERDICTS
    for row in report["benchmarks"]:
        assert row["ratio"] == 1.0 and row["low"] < 1 < row["high"], row
        assert row["processes"] == [len(medians[row["benchmark"]])] * 2


@pytest.mark.parametrize("factor, verdict, status", [(1.5, "slower", 1), (1 / 1.5, "improvement", 0)])
def test_committed_baseline_tells_a_known_factor_everywhere(tmp_path, factor, verdict, status):
    # 1.5x lies beyond the widest spread of any benchmark's processes, so even 6 a side can tell it
    spreads = {name: max(found) / min(found) for name, found in _medians(BASELINE).items()}
    assert max(spreads.values()) < 1.5, spreads
    scaled = _scaled_copy(BASELINE, tmp_path / "scaled", factor)
    report = compare_stored(load_stored(BASELINE), load_stored(scaled), 0.05)
    assert report["exit_status"] == status
    assert len(report["benchmarks"]) == 9 and report["missing"] == report["new"] == report["failed"] == []
    for row in report["benchmarks"]:
        assert row["verdict"] == verdict, row
        assert row["ratio"] == pytest.approx(factor, rel=1e-9), row  # head / base
        assert row["low"] < factor < row["high"], row
        assert (row["low"] > 1) if factor > 1 else (row["high"] < 1), row
    last = format_report(report, "text").splitlines()[-1]
    assert last == ("result: no regression in 9 benchmarks" if status == 0
                    else f"result: 9 slower: {', '.join(list(BASELINE_VERDICTS)[:5])} and 4 more")


# ---- options ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ([], "say what to compare: --base REF (measured now) or --baseline RUN --current RUN"),
    (["--base", "HEAD", "--current", "x"], "--current goes with --base"),
    (["--baseline", "x"], "--baseline needs --current RUN_OR_SUITE"),
    (["--baseline", "x", "--current", "y", "--rounds", "3"], "--baseline compares stored runs"),
    (["--baseline", "x", "--current", "y", "--max-rounds", "3"], "--baseline compares stored runs"),
    (["--base", "HEAD", "--threshold", "x"], "--threshold must be a fraction such as 0.05 (0 to 10), got "
                                             "'x'"),
    (["--base", "HEAD", "--rounds", "-1"], "--rounds must be a whole number, got '-1'"),
    (["--base", "HEAD", "--rounds", "5", "--only", "^(queue|generator)/"],
     "--rounds 5 cannot decide 2 benchmarks at level 0.9958 (5% over 2 benchmarks and 6 looks, --max-rounds "
     "50): the sign test needs at least 9 rounds"),
    (["--base", "HEAD", "--rounds", "5", "--max-rounds", "5", "--only", "^(queue|generator)/"],
     "--rounds 5 cannot decide 2 benchmarks at level 0.9750 (5% over 2 benchmarks and 1 looks, --max-rounds "
     "5): the sign test needs at least 7 rounds"),
    (["--base", "HEAD", "--max-rounds", "x"], "--max-rounds must be a whole number, got 'x'"),
    (["--base", "HEAD", "--rounds", "30", "--max-rounds", "20"], "--max-rounds 20 is below --rounds 30"),
    (["--base", "HEAD", "--format", "xml"], "--format must be one of text, markdown, json, got 'xml'"),
    (["--base", "HEAD", "--profile", "nope"], "unknown profile 'nope'"),
    (["--base", "HEAD", "--only", "nothing-matches"], "--only 'nothing-matches' matches no benchmark"),
    (["--base", "HEAD", "--only", "("], "--only: bad regular expression '('"),
    (["--base", "HEAD", "--inject-slowdown", "nope=1.5"], "unknown design 'nope'"),
    (["--base", "HEAD", "--inject-slowdown", "queue"], "--inject-slowdown must be DESIGN=FACTOR"),
    (["--base", "HEAD", "--inject-slowdown", "queue=-2"], "--inject-slowdown must be DESIGN=FACTOR"),
    (["--base", "HEAD", "--inject-slowdown", "queue=1.5", "--only", "generator"],
     "--inject-slowdown queue: no chosen benchmark runs that design"),
    (["--base", "no-such-ref-anywhere"], "unknown git ref 'no-such-ref-anywhere'"),
])
def test_bad_options_are_one_line_and_exit_2(args, message):
    proc = bench("check", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: " + message), proc.stderr


def test_missing_repository_is_one_line(tmp_path):
    proc = bench("check", "--base", "HEAD", "--repo", str(tmp_path), "--only", GEN, "--rounds", "6",
                 "--max-rounds", "6")
    assert (proc.returncode, proc.stderr) == (2, f"error: {tmp_path}: not a git repository\n")
    proc = bench("check", "--base", "HEAD", "--repo", str(tmp_path / "nope"))
    assert (proc.returncode, proc.stderr) == (2, f"error: {tmp_path / 'nope'}: no such folder\n")


def test_inject_spec_parses():
    assert parse_slowdown("queue=1.25") == ("queue", 1.25)
    for bad in ("queue", "=1.2", "queue=0", "queue=inf", "queue=nan", "queue=x"):
        with pytest.raises(UsageError, match=r"^--inject-slowdown must be DESIGN=FACTOR"):
            parse_slowdown(bad)


def test_a_side_gets_only_the_flags_it_knows():
    old = Side("base", "v0", "0" * 40, ROOT, flags={"--producers", "--consumers", "--capacity", "--items"})
    cell = Cell("queue", Scenario(1, 1, 2000, 16), None)
    cmd = side_command(old, cell, get_profile("ci"), Path("/tmp/x.json"), 1e7, ("queue", 1.5))
    assert cmd[3:] == ["run", "queue", "--producers=1", "--consumers=1", "--capacity=16", "--items=2000",
                       "--processes=1", "--values=3", "--warmups=1", "--loops=1", "--quiet",
                       "--output=/tmp/x.json"]
    head = Side("head", None, "1" * 40, ROOT, flags=old.flags | {"--spin-rate", "--inject-slowdown"})
    cmd = side_command(head, cell, get_profile("ci"), Path("/tmp/x.json"), 1e7, ("queue", 1.5))
    assert cmd[-2:] == ["--spin-rate=10000000.0", "--inject-slowdown=queue=1.5"]
    with pytest.raises(UsageError, match=r"^base: v0 \(000000000000\): its `bench run` has no --work, needed "
                                         r"by queue/p1c1/cap16/flat/cpu:20us; leave that benchmark out with "
                                         r"--only$"):
        side_command(old, Cell("queue", Scenario(1, 1, 2000, 16, work="cpu:20us"), None), get_profile("ci"),
                     Path("/tmp/x.json"), 1e7, None)


def test_later_rounds_run_the_worker_alone():
    side = Side("head", None, "1" * 40, ROOT, flags={"--producers", "--consumers", "--capacity", "--items",
                                                     "--spin-rate", "--inject-slowdown"})
    cell = Cell("queue", Scenario(1, 1, 2000, 16), None)
    whole = side_command(side, cell, get_profile("ci"), Path("/tmp/x.json"), 1e7, ("queue", 1.5))
    alone = side_command(side, cell, get_profile("ci"), Path("/tmp/x.json"), 1e7, ("queue", 1.5), worker=True)
    assert alone == [arg if arg != "--processes=1" else "--worker" for arg in whole]
    assert "--processes=1" in whole and not any(arg.startswith("--processes") for arg in alone)
    assert alone[-2:] == ["--spin-rate=10000000.0", "--inject-slowdown=queue=1.5"]


def test_a_worker_alone_gets_the_environment_pyperfs_parent_gives(monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")  # the check removes it (run_check): so must the worker env
    monkeypatch.setenv("PRODCON_TEST_UNRELATED", "x")
    monkeypatch.setenv(EXTRA_DESIGNS_ENV, "tests.fixtures.broken_overfills")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    found = worker_environ(env)
    assert found["LANG"] == "C.UTF-8" and found["PATH"] == os.environ["PATH"]
    assert found[EXTRA_DESIGNS_ENV] == "tests.fixtures.broken_overfills"  # bench/pyperf_run.py inherits it
    assert "PYTHONPATH" not in found and "PRODCON_TEST_UNRELATED" not in found
    assert found.items() <= env.items()
    before = dict(os.environ)
    other = worker_environ({**env, "LANG": "fr_FR.UTF-8", "PATH": "/nowhere"})  # from `env`, not os.environ
    assert (other["LANG"], other["PATH"]) == ("fr_FR.UTF-8", "/nowhere")
    del env[EXTRA_DESIGNS_ENV]
    assert EXTRA_DESIGNS_ENV not in worker_environ(env)
    assert dict(os.environ) == before  # this process's environment is as it was


class _Progress:
    def update(self, count: int) -> None:
        pass


def test_a_check_runs_each_benchmark_whole_once_per_side_then_the_worker_alone(monkeypatch, tmp_path):
    ran = []

    def fake_run_worker(side, cell, cmd, output, env, timeout):
        ran.append((cell.name, side.label, cmd, env))
        return [1.0, 1.0, 1.0], {"prodcon_git_commit": side.commit}

    monkeypatch.setattr(rounds, "run_worker", fake_run_worker)
    flags = {"--producers", "--consumers", "--capacity", "--items"}
    sides = {label: Side(label, None, "1" * 40, ROOT, flags=flags) for label in ("base", "head")}
    options = CheckOptions(base="HEAD", head=None, profile=get_profile("ci"), only=None, threshold=0.05,
                           rounds=3, seed=1, repo=ROOT, inject=None)
    cells = [Cell("queue", Scenario(1, 1, 2000, 16), None), Cell("generator", Scenario(1, 1, 2000, 16), None)]
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    whole: set[tuple[str, str]] = set()
    measures = [rounds.Measure(cell) for cell in cells]
    rounds.measure_rounds(measures, sides, options, env, 1e7, random.Random(1), tmp_path, _Progress(), whole)
    assert [len(measure.rounds) for measure in measures] == [3, 3]
    assert len(ran) == 2 * 2 * 3
    for number, (name, label, cmd, used) in enumerate(ran):
        first = number < 4  # round 1: both benchmarks, both sides
        assert ("--processes=1" in cmd, "--worker" in cmd) == (first, not first), (name, label, cmd)
        assert used == (env if first else worker_environ(env))
    assert {(name, label) for name, label, cmd, used in ran[:4]} == whole == {
        (cell.name, label) for cell in cells for label in ("base", "head")}
    ran.clear()  # a flagged benchmark's second pass: its depth run is done already
    rounds.measure_rounds([rounds.Measure(cells[0])], sides, options, env, 1e7, random.Random(2), tmp_path,
                          _Progress(), whole)
    assert len(ran) == 2 * 3 and all("--worker" in cmd for name, label, cmd, used in ran)


def test_run_records_an_injected_slowdown(tmp_path):
    import pyperf

    common = ["--items", "2000", "--processes=1", "--values=2", "--warmups=0", "--loops=1", "--quiet"]
    proc = bench("run", "generator", *common, "-o", str(tmp_path / "a.json"), "--inject-slowdown=generator=2")
    assert proc.returncode == 0, proc.stderr
    assert pyperf.Benchmark.load(str(tmp_path / "a.json")).get_metadata()["prodcon_injected_slowdown"] == 2.0
    proc = bench("run", "generator", *common, "-o", str(tmp_path / "b.json"), "--inject-slowdown=queue=2")
    assert proc.returncode == 0, proc.stderr
    assert "prodcon_injected_slowdown" not in pyperf.Benchmark.load(str(tmp_path / "b.json")).get_metadata()


# ---- end to end: real measurements on tiny subsets ---------------------------------------------------------
# Slowdowns of 3x and up only (the 10% claim rests on the statistics' unit tests and the proof program: see
# the module docstring).

def _git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    return subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def _snapshot(folder: Path, fixtures: bool = False) -> Path:
    """A scratch repository whose one commit holds this working tree's bench/ and variants/ (and with
    `fixtures`, tests/fixtures/'s designs)."""
    folder.mkdir()
    for package in ("bench", "variants"):
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    if fixtures:
        shutil.copytree(ROOT / "tests" / "fixtures", folder / "tests" / "fixtures",
                        ignore=shutil.ignore_patterns("__pycache__", "runs"))
        (folder / "tests" / "__init__.py").write_text("")
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "snapshot")
    return folder


SLOWER = '''

import dataclasses as _dataclasses

_run_at_full_speed = run


def run(scenario):  # a test's change: this design's timed region reads ten times longer
    outcome = _run_at_full_speed(scenario)
    return _dataclasses.replace(outcome, elapsed=outcome.elapsed * 10)
'''


def _check(*args: str, tmp: Path | None = None, extra: str | None = None) -> subprocess.CompletedProcess:
    env = bench_env(extra)
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return run_bounded([sys.executable, "-m", "bench", "check", *args], 110, cwd=ROOT, env=env,
                       stdin=subprocess.DEVNULL, text=True)


def _worktrees(repo: Path) -> list[str]:
    return [line for line in _git(repo, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")]


def test_head_against_head_passes(tmp_path):
    before = _worktrees(ROOT)
    proc = _check("--base", "HEAD", "--head", "HEAD", "--only", f"^{GEN}$", "--rounds", "6",
                  "--max-rounds", "6", "--seed", "7", "--format", "json", tmp=tmp_path)
    report = json.loads(proc.stdout)
    # 6 rounds at 95%: the interval runs from the smallest to the largest ratio, often past 1.05 on a noisy
    # machine; then the check says it could not decide (3), never that nothing changed (0)
    assert proc.returncode == {"unchanged": 0, "improvement": 0, "undecided": 3}[report["benchmarks"][0]
                                                                                  ["verdict"]], proc.stderr
    head = _git(ROOT, "rev-parse", "HEAD")
    assert report["base"]["commit"] == report["head"]["commit"] == head
    (row,) = report["benchmarks"]
    assert row["verdict"] not in ("slower", "failed") and row["rounds"] == 6
    assert len(row["orders"]) == 6 and set(row["orders"]) <= {"BH", "HB"} and report["seed"] == 7
    assert report["injected"] is None
    assert _worktrees(ROOT) == before and list(tmp_path.iterdir()) == []


def test_injected_slowdown_fails_the_check(tmp_path):
    repo = _snapshot(tmp_path / "repo")
    proc = _check("--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--only", f"^{GEN}$",
                  "--rounds", "10", "--max-rounds", "10", "--inject-slowdown", "generator=3")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[3] == ("INJECTED SLOWDOWN: generator x3 on the head side; its figures are not a real "
                        "measurement of the head's code")
    row = next(line for line in lines if line.startswith(GEN))
    assert "slower (confirmed; first pass" in row
    # 1.73 and 5.2 lie halfway (in log) between x3 and no slowdown, and x3 applied twice (x9)
    assert 1.73 < float(row.split()[5]) < 5.2
    assert lines[-1] == f"result: 1 slower: {GEN}"
    assert len(_worktrees(repo)) == 1


def test_an_overfilling_design_fails_the_check_in_its_first_round(tmp_path):
    # only the depth run of a whole `bench run` sees the overfill; a worker alone would pass
    repo = _snapshot(tmp_path / "repo", fixtures=True)
    proc = _check("--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--only", "^broken_overfills/",
                  "--rounds", "6", "--max-rounds", "6", "--format", "json",
                  extra="tests.fixtures.broken_overfills")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (row,) = report["benchmarks"]
    assert (row["benchmark"], row["verdict"], row["rounds"]) == ("broken_overfills/p1c1/cap16/flat/none",
                                                                 "failed", 0)
    assert row["failure"]["status"] == "failed"
    assert row["failure"]["reason"].startswith("prodcon: broken_overfills/p1c1/cap16/flat/none: failed: "
                                               "instrumented run: the buffer held ")
    assert row["failure"]["reason"].endswith(" items; capacity 16")
    assert report["exit_status"] == 1 and len(_worktrees(repo)) == 1
    side = Side("head", None, "1" * 40, repo, flags={"--producers", "--consumers", "--capacity", "--items"})
    cell = Cell("broken_overfills", Scenario(1, 1, 20000, 16), None)
    output = tmp_path / "alone.json"
    cmd = side_command(side, cell, get_profile("ci"), output, 1e7, None, worker=True)
    values, _ = rounds.run_worker(side, cell, cmd, output, worker_environ(bench_env("tests.fixtures."
                                                                                    "broken_overfills")), 60)
    assert values is not None and len(values) == 3  # what every later round runs cannot see it


def test_each_side_runs_its_own_code(tmp_path):
    repo = _snapshot(tmp_path / "repo")
    with open(repo / "variants" / "generator.py", "a", encoding="utf-8") as file:
        file.write(SLOWER)
    common = ["--repo", str(repo), "--only", f"^{GEN}$", "--rounds", "6", "--max-rounds", "6", "--format",
              "json"]
    dirty = _check("--base", "HEAD", *common)  # head: the working tree, with the uncommitted change
    assert dirty.returncode == 1, dirty.stderr
    report = json.loads(dirty.stdout)
    assert report["head"]["commit"] == _git(repo, "rev-parse", "HEAD") + "+dirty"
    assert report["head"]["text"].startswith("head: working tree (")
    # 3.16 lies halfway (in log) between no change and x10: 6 rounds of x3 once measured 1.96 on a 2x-noisy
    # machine, where a worker process can run 2x slower than the next
    assert report["benchmarks"][0]["ratio"] > 3.16 and report["benchmarks"][0]["verdict"] == "slower"
    _git(repo, "commit", "-q", "-am", "slower generator")
    refs = _check("--base", "HEAD~1", "--head", "HEAD", *common)  # two worktrees, two commits
    assert refs.returncode == 1, refs.stderr
    assert json.loads(refs.stdout)["benchmarks"][0]["ratio"] > 3.16
    back = _check("--base", "HEAD", "--head", "HEAD~1", *common)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["benchmarks"][0]["verdict"] == "improvement"
    assert len(_worktrees(repo)) == 1


def test_a_design_only_the_head_has_is_left_out_before_anything_runs(tmp_path):
    # each side's designs are read from its own `bench list`: the base's lacks asyncio, and nothing is left
    # to measure (how the rest runs and is reported: test_check_exit.py, with a fake worker)
    repo = _snapshot(tmp_path / "repo")
    registry = repo / "variants" / "__init__.py"
    full = registry.read_text()
    registry.write_text(full + '\nMODULES = tuple(n for n in MODULES if n != "asyncio")  # base before it\n')
    _git(repo, "commit", "-q", "-am", "no asyncio yet")
    base = _git(repo, "rev-parse", "HEAD")
    registry.write_text(full)  # the working tree (head) has it again
    common = ["--repo", str(repo), "--base", "HEAD", "--only", "^asyncio/p1c1/cap16/", "--rounds", "7",
              "--max-rounds", "7"]
    proc = _check(*common, "--allow-missing")
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr == "error: no benchmark left that both sides can run (designs missing on one side)\n"
    # the design the base lacks cannot carry an injected slowdown: refused before anything runs
    proc = _check(*common, "--inject-slowdown", "asyncio=1.5")
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr == (f"error: --inject-slowdown asyncio: base: HEAD ({base[:12]}) has no design "
                           f"asyncio; nothing would be injected\n")
    assert _worktrees(repo) == [f"worktree {repo}"]


def test_an_injected_design_the_head_lacks_is_exit_2(tmp_path):
    repo = _snapshot(tmp_path / "repo")
    registry = repo / "variants" / "__init__.py"
    registry.write_text(registry.read_text()
                        + '\nMODULES = tuple(n for n in MODULES if n != "asyncio")  # a head without it\n')
    _git(repo, "commit", "-q", "-am", "no asyncio")
    head = _git(repo, "rev-parse", "HEAD")
    proc = _check("--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--only",
                  "^(asyncio|generator)/p1c1/cap16/", "--rounds", "7", "--max-rounds", "7",
                  "--inject-slowdown", "asyncio=1.5")
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stdout + proc.stderr
    assert proc.stderr == (f"error: --inject-slowdown asyncio: head: HEAD ({head[:12]}) has no design "
                           f"asyncio; nothing would be injected\n")
    assert len(_worktrees(repo)) == 1


def test_a_base_too_old_for_the_check_is_one_line(tmp_path):
    repo = tmp_path / "repo"
    (repo / "bench").mkdir(parents=True)
    (repo / "bench" / "__init__.py").write_text("")
    (repo / "bench" / "__main__.py").write_text('print("usage: python -m bench run [--once] variant")\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "old")
    old = _git(repo, "rev-parse", "HEAD")
    proc = _check("--repo", str(repo), "--base", "HEAD", "--only", f"^{GEN}$", "--rounds", "6",
                  "--max-rounds", "6")
    assert proc.returncode == 2
    assert proc.stderr == (f"error: base: HEAD ({old[:12]}): its `python -m bench run` cannot run under "
                           f"pyperf (lacks --producers, --consumers, --capacity, --items, --processes, "
                           f"--values, --warmups, --loops, --quiet, --output); too old for bench check\n")
    assert len(_worktrees(repo)) == 1


HANG = '''

import os as _os
import threading as _threading

_run_unless_told = run


def run(scenario):  # a test's change: once told to (the file MARKER exists), hang, and say so in HUNG
    if _os.path.exists(MARKER):
        with open(HUNG, "a") as _file:
            _file.write(f"{_os.getpid()}\\n")
        _threading.Event().wait()  # until killed (or its own watchdog ends the run)
    return _run_unless_told(scenario)
'''


def _check_workers(tmp: Path) -> list[psutil.Process]:
    """Live worker processes of a check whose temporary folder is under `tmp`: each side's `bench run`
    writes its result there (--output=...), pyperf's parent and the worker it spawns alike."""
    return [proc for proc in psutil.process_iter() if alive_with(proc, f"--output={tmp}")]


def _wait_for(what: str, done, process: subprocess.Popen, stderr: Path, limit: float) -> None:
    while not done():
        assert process.poll() is None, f"the check ended before {what}: {stderr.read_text()}"
        assert time.monotonic() < limit, f"no {what} within 60 s: {stderr.read_text()}"
        time.sleep(0.02)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum, phase", [(signal.SIGINT, "rounds"), (signal.SIGTERM, "rounds"),
                                           (signal.SIGINT, "re-measure")],
                         ids=["SIGINT", "SIGTERM", "SIGINT-re-measure"])
def test_an_interrupt_removes_worktrees_and_workers(tmp_path, signum, phase):
    """The signal comes while a worker runs, hung on purpose (HANG) so that it cannot end on its own: in
    the first pass's rounds, or in the re-measure that a benchmark flagged slower (generator x10 injected)
    gets once its first 6 rounds are over. A worker the check failed to kill would outlive it."""
    repo = _snapshot(tmp_path / "repo")
    marker, hung = tmp_path / "hang-now", tmp_path / "hung"
    with open(repo / "variants" / "generator.py", "a", encoding="utf-8") as file:
        file.write(HANG.replace("MARKER", repr(str(marker))).replace("HUNG", repr(str(hung))))
    _git(repo, "commit", "-q", "-am", "generator hangs when told to")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    more = [] if phase == "rounds" else ["--inject-slowdown", "generator=10"]
    if phase == "rounds":
        marker.touch()  # the first worker hangs
    stderr = tmp_path / "stderr"
    with open(stderr, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "bench", "check", "--repo", str(repo), "--base",
                                    "HEAD", "--head", "HEAD", "--only", f"^{GEN}$", "--rounds", "6",
                                    "--max-rounds", "6", *more], cwd=ROOT,
                                   env={**bench_env(), "TMPDIR": str(tmp)}, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=default_sigint)
    try:
        limit = time.monotonic() + time_left(60)
        if phase == "re-measure":  # it adds its 6 rounds to the progress bar's total: 6 pairs, then 12
            _wait_for("the re-measure", lambda: "/12 [" in stderr.read_text(), process, stderr, limit)
            marker.touch()
        _wait_for("a hung worker", lambda: hung.exists() and _check_workers(tmp), process, stderr, limit)
        process.send_signal(signum)
        out, _ = process.communicate(timeout=time_left(30))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
        assert_no_stray_process(str(tmp_path))
    assert process.returncode == 130, stderr.read_text()
    assert stderr.read_text().splitlines()[-1] == "interrupted" and out == ""
    assert "Traceback" not in stderr.read_text()
    assert _worktrees(repo) == [f"worktree {repo}"]
    assert list(tmp.iterdir()) == []


# ---- the GitHub workflow ----------------------------------------------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"


def _validate(path: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_workflow_is_valid_and_runs_the_check():
    proc = _validate(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = WORKFLOW.read_text()
    assert "fetch-depth: 0" in text and "pull_request:" in text
    assert 'bench check --base "$BASE_SHA" --profile ci --format markdown' in text
    assert "GITHUB_STEP_SUMMARY" in text and "shell: bash" in text


def test_the_schema_check_can_fail(tmp_path):
    broken = tmp_path / "bench.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert _validate(broken).returncode == 1


@pytest.mark.parametrize("status, expected", [(0, 0), (1, 1), (2, 2), (3, 0)])
def test_workflow_fails_on_slower_or_bad_input_and_warns_when_undecided(tmp_path, status, expected):
    """The check step's script, with the check replaced by a stub exiting `status`: 3 only warns."""
    script = textwrap.dedent(WORKFLOW.read_text().split("run: |")[-1])
    assert ".venv/bin/python -m bench check" in script
    stub = script.replace(".venv/bin/python -m bench check", f"sh -c 'echo table; exit {status}' --")
    summary = tmp_path / "summary.md"
    done = subprocess.run(["bash", "-c", stub], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "BASE_SHA": "x"})
    assert done.returncode == expected, done.stdout + done.stderr
    assert summary.read_text() == "table\n"
    assert ("::warning::" in done.stdout) == (status == 3)
