"""`bench check` never passes what it could not judge (issue 18): exit 0 only when every benchmark is decided.

Stored mode on suites shaped like the smoke profile's (50 benchmarks, so a 99.9% level): 1, 5 and 10 worker
processes a side, the current one 1.3x slower; the same code in 10; a suite file missing a benchmark; an
unfinished run; different item counts; a failed cell in the baseline. Round mode with a fake worker, no
measurement: a re-measure that failed, confirmed, did not confirm or could not decide; a worker, first or
later, in the first pass or the re-measure, that ran another commit; an undecided benchmark's extra rounds;
a design on one side only (either side), and none left that both sides run. (The injected design a head
lacks, for real: test_check.py.)
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.gate import check, rounds
from bench.gate.options import CheckOptions
from bench.gate.sides import Side, check_commit
from bench.gate.stored import compare_stored, load_stored
from bench.gate.table import format_report
from bench.profiles import cells, get_profile
from runs.errors import UsageError
from tests.cli_helpers import bench

pytestmark = pytest.mark.timeout(120)

SMOKE = {cell.name: cell.scenario.items for cell in cells(get_profile("smoke")) if not cell.unsupported}
FIRST = next(iter(SMOKE))


# ---- stored mode ------------------------------------------------------------------------------------------

def _suite(path: Path, processes: int, scale: float = 1.0, seed: int = 1, drop: tuple[str, ...] = (),
           items: int | None = None) -> Path:
    """A pyperf suite of the smoke profile's benchmarks: `processes` runs of 3 values each, every process
    within about 1% of the next (a quiet machine), times `scale`."""
    import pyperf

    rng = random.Random(seed)
    made = []
    for name, count in SMOKE.items():
        runs = []
        for _ in range(processes):
            factor = rng.lognormvariate(0, 0.01)
            values = [scale * 2e-6 * factor * rng.gauss(1, 0.005) for _ in range(3)]
            meta = {"name": name, "prodcon_items": items or count, "loops": 1, "unit": "second"}
            runs.append(pyperf.Run(values, warmups=None, collect_metadata=False, metadata=meta))
        if name not in drop:
            made.append(pyperf.Benchmark(runs))
    pyperf.BenchmarkSuite(made).dump(str(path))
    return path


def _run_folder(folder: Path, seed: int, failed: tuple[str, ...] = (), pending: tuple[str, ...] = (),
                finished: bool = True) -> Path:
    """A run folder of `bench all`: suite.json without the failed and pending cells, run.json naming them."""
    folder.mkdir()
    _suite(folder / "suite.json", 10, seed=seed, drop=failed + pending)
    state = {"format": 1, "profile": "smoke", "git_commit": "0" * 40,
             "cells": {name: {"status": "ok", "reason": None} for name in SMOKE}}
    state["cells"].update({name: {"status": "failed", "reason": "dropped 3 items"} for name in failed})
    state["cells"].update({name: {"status": "pending", "reason": None} for name in pending})
    state.update(finished="2026-12-05T00:00:00+00:00", interrupted=not finished)
    (folder / "run.json").write_text(json.dumps(state))
    return folder


def _stored(base: Path, current: Path, *more: str) -> tuple[int, str, list[str]]:
    proc = bench("check", "--baseline", str(base), "--current", str(current), *more)
    return proc.returncode, proc.stderr, proc.stdout.splitlines()


def test_the_fixture_is_the_smoke_profile():
    assert len(SMOKE) == 50


@pytest.mark.parametrize("processes, status", [(1, 3), (5, 3), (10, 1)])
def test_a_slowdown_is_caught_or_said_undecided_never_passed(tmp_path, processes, status):
    base = _suite(tmp_path / "base.json", processes, seed=1)
    slow = _suite(tmp_path / "slow.json", processes, scale=1.3, seed=2)
    code, err, lines = _stored(base, slow)
    assert code == status, err
    rows = [line for line in lines if line.split()[:1] and line.split()[0] in SMOKE]
    assert len(rows) == 50
    if status == 3:  # 7 a side are the fewest for any Mann-Whitney interval at 99.9%
        assert all(row.endswith("undecided") for row in rows)
        assert lines[-1] == (f"result: undecided: 50 of 50 benchmarks ({processes} and {processes} worker "
                             f"processes; at 99.9% Mann-Whitney needs at least 7 a side)")
    else:
        assert all(row.endswith("slower") for row in rows)
        assert lines[-1].startswith("result: 50 slower: ") and lines[-1].endswith(" and 45 more")


def test_same_code_in_ten_processes_passes(tmp_path):
    code, err, lines = _stored(_suite(tmp_path / "a.json", 10, seed=1),
                               _suite(tmp_path / "b.json", 10, seed=3))
    assert code == 0, err
    assert lines[-1] == "result: no regression in 50 benchmarks"


def test_a_suite_file_missing_a_benchmark_fails(tmp_path):
    base = _suite(tmp_path / "a.json", 10, seed=1)
    current = _suite(tmp_path / "b.json", 10, seed=3, drop=(FIRST,))
    code, err, lines = _stored(base, current)
    assert code == 1, err
    assert f"missing in current: {FIRST}" in lines
    assert lines[-1] == f"result: 1 on one side only (--allow-missing accepts them): {FIRST}"
    report = compare_stored(load_stored(base), load_stored(current), 0.05, allow_missing=True)
    assert report["exit_status"] == 0
    lines = format_report(report, "text").splitlines()
    assert f"missing in current: {FIRST}" in lines
    assert lines[-1] == "result: no regression in 49 benchmarks (1 on one side only, allowed)"


def test_an_unfinished_current_run_is_refused(tmp_path):
    run = _run_folder(tmp_path / "run", seed=3, pending=tuple(list(SMOKE)[25:]), finished=False)
    code, err, lines = _stored(_suite(tmp_path / "a.json", 10, seed=1), run)
    assert (code, lines) == (2, [])
    assert err == (f"error: {run}: the run did not finish; finish it with "
                   f"`python -m bench all --resume {run}` first\n")


def test_different_item_counts_are_bad_input(tmp_path):
    code, err, lines = _stored(_suite(tmp_path / "a.json", 10, seed=1),
                               _suite(tmp_path / "b.json", 10, seed=3, items=999))
    assert (code, lines) == (2, [])
    assert err.startswith("error: the runs cannot be compared: 50 of 50 benchmarks measured different "
                          "things: ")
    assert err.count("\n") == 1


def test_a_failed_cell_in_the_baseline_fails(tmp_path):
    base = _run_folder(tmp_path / "base", seed=1, failed=(FIRST,))
    current = _run_folder(tmp_path / "current", seed=3)
    code, err, lines = _stored(base, current)
    assert code == 1, err
    assert f"failed (baseline): {FIRST}: failed: dropped 3 items" in lines
    assert lines[-1] == f"result: 1 failed: {FIRST} (baseline)"
    assert not any(line.startswith(("missing in", "new in")) for line in lines)


# ---- round mode, with a fake worker -----------------------------------------------------------------------

FLAGS = {"--producers", "--consumers", "--capacity", "--items", "--processes", "--values", "--warmups",
         "--loops", "--quiet", "--output", "--spin-rate", "--inject-slowdown"}


@pytest.fixture
def fake_sides(monkeypatch, tmp_path):
    """run_check on a scratch repository whose sides know FLAGS and run designs per `designs`; workers are
    `worker(side, cell, call)`, call counting from 1, returning (values, commit) or None for a failure.

    Whatever the test did (a verdict, UsageError, an interrupt), the check's worktrees and temporary folder
    must be gone afterwards: checked on teardown.
    """
    from variants import workload

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "f").write_text("x\n")
    for args in (["init", "-q"], ["add", "f"], ["commit", "-q", "-m", "one"]):
        _git(repo, *args)
    scratch = tmp_path / "tmp"  # where the check's Sides make their temporary folder
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    setup = {"designs": {"base": {"queue", "generator"}, "head": {"queue", "generator"}}, "worker": None}
    calls = []

    def run_worker(side, cell, cmd, output, env, timeout):
        calls.append((side.label, cell.variant))
        found = setup["worker"](side, cell, len(calls))
        if found is None:
            return None, {"status": "failed", "reason": "prodcon: dropped 3 items"}
        values, commit = found
        return values, {"prodcon_git_commit": commit}

    monkeypatch.setattr(check, "flags_of", lambda side, env: set(FLAGS))
    monkeypatch.setattr(check, "designs_of", lambda side, env: set(setup["designs"][side.label]))
    monkeypatch.setattr(rounds, "run_worker", run_worker)
    monkeypatch.setattr(workload, "spins_per_second", lambda: 1e7)

    def run(rounds: int = 10, max_rounds: int = 10, inject: tuple[str, float] | None = None, **more):
        options = CheckOptions(base="HEAD", head="HEAD", profile=get_profile("ci"),
                               only="^(queue|generator)/", threshold=0.05, rounds=rounds, seed=1,
                               repo=repo, inject=inject, max_rounds=max_rounds, **more)
        return check.run_check(options)

    setup["run"], setup["calls"] = run, calls
    yield setup
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # the repository's own
    assert list(scratch.iterdir()) == []


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x", *args],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def _steady(side, cell, call, slow: float = 1.0):
    factor = slow if side.label == "head" and cell.variant == "queue" else 1.0
    return [factor * (1 + 0.001 * (call % 7))] * 3, side.commit


def test_a_failed_re_measure_shows_as_failed(fake_sides):
    def worker(side, cell, call):  # queue 1.3x slower; its re-measure fails on the head side
        if call > 2 * 2 * 10 and cell.variant == "queue" and side.label == "head":
            return None
        return _steady(side, cell, call, slow=1.3)

    fake_sides["worker"] = worker
    report = fake_sides["run"]()
    assert report["exit_status"] == 1
    lines = format_report(report, "text").splitlines()
    row = next(line for line in lines if line.startswith("queue/"))
    assert row.endswith("failed on head: prodcon: dropped 3 items (in the re-measure; first pass 1.301 "
                        "flagged)"), row
    assert lines[-1] == "result: 1 failed: queue/p1c1/cap16/flat/none"


# 2 benchmarks x 2 sides x 10 rounds: calls 1-4 are round 1 (whole `bench run`s), 37-40 round 10 (workers
# alone); with queue flagged, calls 41-60 are its re-measure
@pytest.mark.parametrize("odd", [1, 4, 23, 40, 41, 60])
def test_every_worker_s_commit_is_checked(fake_sides, odd):
    def worker(side, cell, call):  # queue 1.3x slower (so re-measured); worker `odd` ran another commit
        values, commit = _steady(side, cell, call, slow=1.3)
        return values, "f" * 40 if call == odd else commit

    fake_sides["worker"] = worker
    with pytest.raises(UsageError, match=r"^(base|head): HEAD \(\w{12}\): its worker ran code of commit "
                                         r"f{12}: the side's own code was not imported \(PYTHONPATH or an "
                                         r"installed copy in the way\?\)$"):
        fake_sides["run"]()
    assert len(fake_sides["calls"]) == odd  # refused at that worker, before another one ran


def test_a_result_s_commit_is_compared_without_the_dirty_mark():
    clean = Side("head", None, "a" * 40, Path("."))
    dirty = Side("head", None, "a" * 40 + "+dirty", Path("."))
    for side in (clean, dirty):
        for found in ("a" * 40, "a" * 40 + "+dirty", "unknown", ""):  # "unknown": no git where it ran
            check_commit(side, {"prodcon_git_commit": found})
        check_commit(side, {})  # a base from before results carried a commit
        with pytest.raises(UsageError, match=r"^head: working tree \(a{12}(\+dirty)?\): its worker ran code "
                                             r"of commit b{12}: "):
            check_commit(side, {"prodcon_git_commit": "b" * 40 + "+dirty"})


@pytest.mark.parametrize("second, verdict, status, text", [
    (1.0, "not confirmed", 0, r"not confirmed \(first pass 1\.3\d\d flagged, re-measured 1\.00\d\)"),
    (1.04, "not confirmed", 0, r"not confirmed \(first pass 1\.3\d\d flagged, re-measured 1\.04\d\)"),
    (1.3, "slower", 1, r"slower \(confirmed; first pass 1\.3\d\d\)"),
], ids=["same", "4%", "confirmed"])
def test_a_flagged_benchmark_stays_slower_only_if_its_re_measure_confirms_it(fake_sides, second, verdict,
                                                                           status, text):
    def worker(side, cell, call):  # queue: 1.3x slower in the first pass, `second` in its re-measure
        return _steady(side, cell, call, slow=1.3 if call <= 2 * 2 * 10 else second)

    fake_sides["worker"] = worker
    report = fake_sides["run"]()
    assert report["exit_status"] == status
    rows = {row["variant"]: row for row in report["benchmarks"]}
    assert (rows["generator"]["verdict"], rows["generator"]["rounds"], "first" in rows["generator"]) == (
        "unchanged", 10, False)
    queue = rows["queue"]
    assert (queue["verdict"], queue["rounds"], queue["first"]["verdict"], queue["first"]["rounds"]) == (
        verdict, 10, "slower", 10)
    assert queue["first"]["ratio"] == pytest.approx(1.3, rel=0.01)
    assert queue["ratio"] == pytest.approx(second, rel=0.01)
    assert fake_sides["calls"].count(("head", "queue")) == 20
    lines = format_report(report, "text").splitlines()
    row = next(line for line in lines if line.startswith("queue/"))
    assert re.fullmatch(r"queue/p1c1/cap16/flat/none .* " + text, row), row
    assert lines[-1] == ("result: no regression in 2 benchmarks" if status == 0
                         else "result: 1 slower: queue/p1c1/cap16/flat/none")


def test_a_re_measure_that_cannot_decide_is_undecided(fake_sides):
    rng = random.Random(5)

    def worker(side, cell, call):  # queue: 1.3x slower, then the same but with workers up to 1.5x apart
        if call <= 2 * 2 * 10:
            return _steady(side, cell, call, slow=1.3)
        values, commit = _steady(side, cell, call)
        return [v * rng.uniform(1, 1.5) for v in values], commit

    fake_sides["worker"] = worker
    report = fake_sides["run"]()
    assert report["exit_status"] == 3
    queue = next(row for row in report["benchmarks"] if row["variant"] == "queue")
    assert (queue["verdict"], queue["first"]["verdict"]) == ("undecided", "slower")
    row = next(line for line in format_report(report, "text").splitlines() if line.startswith("queue/"))
    assert re.search(r" undecided \(first pass 1\.3\d\d flagged, re-measured \d\.\d{3}\)$", row), row


def test_an_undecided_benchmark_gets_more_rounds_then_keeps_its_verdict(fake_sides):
    rng = random.Random(4)

    def worker(side, cell, call):  # generator: steady; queue: workers up to 1.5x apart, never decided
        values, commit = _steady(side, cell, call)
        return ([v * rng.uniform(1, 1.5) for v in values] if cell.variant == "queue" else values), commit

    fake_sides["worker"] = worker
    report = fake_sides["run"](rounds=10, max_rounds=35)
    assert (report["looks"], report["max_rounds"]) == (4, 35)
    assert report["level"] == pytest.approx(1 - 0.05 / (2 * 4))
    rows = {row["variant"]: row for row in report["benchmarks"]}
    assert (rows["generator"]["verdict"], rows["generator"]["rounds"]) == ("unchanged", 10)
    assert (rows["queue"]["verdict"], rows["queue"]["rounds"]) == ("undecided", 35)
    assert fake_sides["calls"].count(("head", "queue")) == 35
    assert report["exit_status"] == 3
    lines = format_report(report, "text").splitlines()
    assert lines[-1].startswith("result: undecided: 1 of 2 benchmarks (intervals reaching past the 5% "
                                "threshold: queue/p1c1/cap16/flat/none ")
    assert "10 rounds per benchmark, up to 35 while undecided (seed 1)" in "\n".join(lines)
    assert "(5% family-wise over 2 benchmarks and up to 4 looks)" in "\n".join(lines)
    assert format_report(report, "markdown").startswith("### bench check: undecided\n")


@pytest.mark.parametrize("lacking, key, line", [
    ("head", "missing", "missing in head: generator/p1c1/cap16/flat/none"),
    ("base", "new", "new in head (not compared): generator/p1c1/cap16/flat/none"),
])
def test_a_design_on_one_side_only_fails_unless_allowed(fake_sides, lacking, key, line):
    fake_sides["worker"] = _steady
    fake_sides["designs"][lacking] = {"queue"}
    report = fake_sides["run"]()
    assert report[key] == ["generator/p1c1/cap16/flat/none"] and report["exit_status"] == 1
    assert [row["benchmark"] for row in report["benchmarks"]] == ["queue/p1c1/cap16/flat/none"]
    assert {variant for label, variant in fake_sides["calls"]} == {"queue"}  # generator never ran
    assert report["level"] == pytest.approx(1 - 0.05)  # the level counts only what is compared
    lines = format_report(report, "text").splitlines()
    assert line in lines
    assert lines[-1] == ("result: 1 on one side only (--allow-missing accepts them): "
                         "generator/p1c1/cap16/flat/none")
    report = fake_sides["run"](allow_missing=True)
    assert report["exit_status"] == 0
    lines = format_report(report, "text").splitlines()
    assert line in lines
    assert lines[-1] == "result: no regression in 1 benchmark (1 on one side only, allowed)"


def test_no_benchmark_left_that_both_sides_can_run_is_refused(fake_sides):
    fake_sides["worker"] = _steady
    fake_sides["designs"].update(base={"generator"}, head={"queue"})
    with pytest.raises(UsageError, match=r"^no benchmark left that both sides can run \(designs missing on "
                                         r"one side\)$"):
        fake_sides["run"](allow_missing=True)
    assert fake_sides["calls"] == []


def test_injecting_into_a_design_the_head_lacks_is_refused(fake_sides):
    fake_sides["worker"] = _steady
    fake_sides["designs"]["head"] = {"queue"}
    with pytest.raises(UsageError, match=r"^--inject-slowdown generator: head: HEAD \(\w{12}\) has no design "
                                         r"generator; nothing would be injected$"):
        fake_sides["run"](inject=("generator", 1.5))
    assert fake_sides["calls"] == []
