"""`python -m bench run DESIGN` under pyperf: one scenario as one pyperf benchmark, plus its metrics sidecar.

Every test runs `python -m bench` in a subprocess (see ../shared/STYLE.md, "Tests") on a small scenario:
the stored values are seconds per item and agree with the sidecar's own figures; calibration runs are
told from measured ones; pyperf's own commands read our files; a hung design fails the benchmark without
leaving a process behind; bad input is one `error: ...` line and exit status 2.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pyperf
import pytest

from tests.cli_helpers import ROOT, assert_no_stray_process, bench

ITEMS = 2000
NAME = "queue/p1c1/capinf/flat/none"
SMALL = ["--items", str(ITEMS), "--processes", "1", "--values", "2", "--warmups", "1"]


def read_sidecar(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def value_groups(records: list[dict]) -> dict[tuple[int, int], list[dict]]:
    """The sidecar's "value" lines by (pid, call): one group per pyperf value, one line per scenario run."""
    groups: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for record in records:
        if record["phase"] == "value":
            groups[record["pid"], record["call"]].append(record)
    return dict(sorted(groups.items()))


def assert_ok_record(record: dict, items: int = ITEMS) -> None:
    assert record["benchmark"] == NAME
    assert record["status"] == "ok"
    assert record["verified"] is True
    assert record["items"] == items
    assert isinstance(record["pid"], int)
    assert record["elapsed_s"] > 0
    assert isinstance(record["cpu_s"], float) and record["cpu_s"] >= 0
    assert math.isclose(record["cpu_s_per_item"], record["cpu_s"] / items, rel_tol=1e-12)


@pytest.fixture(scope="module")
def fixed_loops(tmp_path_factory):
    """One small benchmark with --loops 1 (no calibration): (output file, sidecar file, process)."""
    folder = tmp_path_factory.mktemp("fixed")
    out, metrics = folder / "out.json", folder / "metrics.jsonl"
    proc = bench("run", "queue", *SMALL, "--loops", "1", "-o", str(out), "--metrics", str(metrics))
    return out, metrics, proc


@pytest.mark.timeout(90)
def test_run_writes_one_benchmark_in_seconds_per_item(fixed_loops):
    out, _, proc = fixed_loops
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    benchmark = pyperf.Benchmark.load(str(out))
    assert benchmark.get_name() == NAME
    metadata = benchmark.get_metadata()
    assert metadata["prodcon_items"] == ITEMS
    assert metadata["prodcon_variant"] == "queue"
    assert metadata["prodcon_capacity"] == "inf"
    assert metadata["inner_loops"] == ITEMS
    assert metadata["unit"] == "second"
    runs = [run for run in benchmark.get_runs() if run.values]
    assert len(runs) == 1
    assert len(runs[0].warmups) == 1 and len(runs[0].values) == 2
    values = benchmark.get_values()
    assert len(values) == 2
    assert all(0 < value < 1e-2 for value in values)  # seconds per item: an item takes far less than 10 ms


@pytest.mark.timeout(90)
def test_sidecar_has_a_line_per_run_matching_the_values(fixed_loops):
    out, metrics, proc = fixed_loops
    assert proc.returncode == 0, proc.stderr
    records = read_sidecar(metrics)
    depth, *records = records  # each worker's first line: the instrumented run, before any value
    assert depth["phase"] == "depth" and depth["status"] == "ok" and depth["max_depth"] >= 1
    for record in records:
        assert_ok_record(record)
        assert record["loops"] == 1
    assert [record["phase"] for record in records] == ["warmup", "value", "value"]
    assert len({record["pid"] for record in records}) == 1  # --processes 1: one worker

    run = next(run for run in pyperf.Benchmark.load(str(out)).get_runs() if run.values)
    value_lines = [record for record in records if record["phase"] == "value"]
    assert len(value_lines) == len(run.values)
    for record, value in zip(value_lines, run.values, strict=True):
        assert math.isclose(record["elapsed_s"] / record["items"], value, rel_tol=1e-9)
    (_, warmup), = run.warmups
    assert math.isclose(records[0]["elapsed_s"] / ITEMS, warmup, rel_tol=1e-9)


@pytest.mark.timeout(90)
def test_calibration_calls_are_not_values(tmp_path):
    out, metrics = tmp_path / "out.json", tmp_path / "metrics.jsonl"
    proc = bench("run", "queue", *SMALL, "--min-time", "0.02", "-o", str(out), "--metrics", str(metrics))
    assert proc.returncode == 0, proc.stderr
    benchmark = pyperf.Benchmark.load(str(out))
    records = [record for record in read_sidecar(metrics) if record["phase"] != "depth"]
    for record in records:
        assert_ok_record(record)

    calibration_pids = {record["pid"] for record in records if record["phase"] == "calibration"}
    assert calibration_pids, "pyperf calibrated the loops, so some lines must say so"
    measuring_pids = {record["pid"] for record in records if record["phase"] != "calibration"}
    assert calibration_pids.isdisjoint(measuring_pids)  # the calibration worker measures nothing

    # One sidecar line per scenario run: a value is `loops` runs, and their mean is the stored value.
    groups = value_groups(records)
    values = benchmark.get_values()
    assert len(groups) == len(values) == 2
    loops = benchmark.get_metadata()["loops"]
    for lines in groups.values():
        assert len(lines) == loops
        assert {line["loops"] for line in lines} == {loops}
    for lines, value in zip(groups.values(), values, strict=True):
        assert math.isclose(sum(line["elapsed_s"] for line in lines) / (loops * ITEMS), value, rel_tol=1e-9)
    warmups = [record for record in records if record["phase"] == "warmup"]
    assert len(warmups) == loops  # one warm-up call of `loops` runs


PYPERF_READS = {  # pyperf command -> lines it must print about the fixed_loops benchmark (2 values, no loops)
    "stats": ["Number of value per run: 2", "Total number of values: 2",
              f"Loop iterations per value: {ITEMS} (1 outer-loop x {ITEMS} inner-loops)"],
    "compare_to": [f"Benchmark hidden because not significant (1): {NAME}"],  # the file against itself
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("command, expected", list(PYPERF_READS.items()), ids=list(PYPERF_READS))
def test_pyperf_reads_the_output(fixed_loops, command, expected):
    out, _, proc = fixed_loops
    assert proc.returncode == 0, proc.stderr
    files = [str(out)] * (2 if command == "compare_to" else 1)
    done = subprocess.run([sys.executable, "-m", "pyperf", command, *files], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for line in expected:
        assert line in lines, done.stdout


@pytest.mark.timeout(90)
def test_a_stuck_design_fails_the_benchmark_and_leaves_no_process(tmp_path):
    out, metrics = tmp_path / "out.json", tmp_path / "metrics.jsonl"
    proc = bench("run", "stuck", "--deadline", "1", "--items", "100", "--processes", "1", "--values", "1",
                 "--warmups", "0", "--loops", "1", "-o", str(out), "--metrics", str(metrics),
                 extra="tests.fixtures.stuck", timeout=60)
    try:
        assert proc.returncode == 1, proc.stderr  # a benchmark that failed, not bad input (2) or a crash
        assert not out.exists()
        records = read_sidecar(metrics)
        timeouts = [record for record in records if record["status"] == "timeout"]
        assert len(timeouts) == 1
        assert timeouts[0]["benchmark"] == "stuck/p1c1/capinf/flat/none"
        assert timeouts[0]["verified"] is False
        assert timeouts[0]["reason"] == "did not finish within 1 s"
        assert "prodcon: stuck/p1c1/capinf/flat/none: timeout: did not finish within 1 s" in proc.stderr
    finally:
        assert_no_stray_process(str(tmp_path))


BAD_RUNS = {
    "unknown design": (["nope"], r"unknown design 'nope'; known: .*\bqueue\b.*"),
    "no items": (["queue", "--items", "0"], r"--items must be >= 1, got 0"),
    "unsupported": (["two_lock", "--capacity", "16"],
                    r"two_lock does not support this scenario: two_lock has a single slot: "
                    r"capacity must be 1, got 16"),
    "unknown flag": (["queue", "--no-such-flag"], r"unrecognized arguments: --no-such-flag"),
    "bad deadline": (["queue", "--deadline", "soon"], r"--deadline must be a number of seconds, got 'soon'"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, message", list(BAD_RUNS.values()), ids=list(BAD_RUNS))
def test_bad_input_under_pyperf_is_one_line_and_exit_2(tmp_path, args, message):
    out = tmp_path / "out.json"
    proc = bench("run", *args, "-o", str(out), "--metrics", str(tmp_path / "metrics.jsonl"), timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert re.fullmatch(f"error: {message}\n", proc.stderr), proc.stderr
    assert not out.exists()
    assert not (tmp_path / "metrics.jsonl").exists()
