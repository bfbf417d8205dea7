"""`python -m bench fidelity`: the table it prints and its input checks (the ratio itself is a figure)."""

from __future__ import annotations

import random
import re
import statistics

import pytest

from bench.fidelity import LIMIT, format_fidelity, measure_fidelity, paced_gaps, ratio_interval, verdict
from tests.cli_helpers import bench


def _row(name: str, ratio: float, low: float, high: float) -> dict:
    return {"benchmark": f"{name}/p1c1/capinf/flat/none", "items": 20000, "suite_s": ratio * 1e-6,
            "hand_s": 1e-6, "ratio": ratio, "ci_low": low, "ci_high": high, "processes": 10}


def test_verdict_needs_the_whole_interval_over_the_limit():
    assert verdict(_row("a", 1.0, 0.9, 1.2)) == "ok"
    assert verdict(_row("a", LIMIT, 1.0, 1.3)) == "ok"
    assert verdict(_row("b", 1.2, 1.05, 1.3)) == "unclear"
    assert verdict(_row("c", 1.3, 1.15, 1.4)) == "over"


def test_format_shows_ratio_interval_and_verdict():
    header, first, second = format_fidelity([_row("a", 1.0, 0.9, 1.1), _row("c", 1.3, 1.15, 1.4)])
    assert header.split() == ["benchmark", "items", "suite", "hand", "ratio", "95%", "interval", "verdict"]
    assert first.split()[-3:] == ["1.000", "0.90-1.10", "ok"]
    assert second.split()[-3:] == ["1.300", "1.15-1.40", "over"]


def test_interval_brackets_the_ratio_and_narrows_with_data():
    rng = random.Random(1)
    suite = [1.2 + rng.gauss(0, 0.1) for _ in range(200)]
    hand = [1.0 + rng.gauss(0, 0.1) for _ in range(200)]
    low, high = ratio_interval(suite, hand)
    assert low < statistics.median(suite) / statistics.median(hand) < high
    assert 1.1 < low and high < 1.3
    wide_low, wide_high = ratio_interval(suite[:10], hand[:10])
    assert wide_high - wide_low > high - low


@pytest.mark.timeout(120)
def test_one_design_one_round_prints_its_row():
    proc = bench("fidelity", "generator", "--rounds", "1")
    assert proc.returncode in (0, 1), proc.stderr  # 1 only if the measured ratio is clearly over the limit
    header, row = proc.stdout.splitlines()
    match = re.fullmatch(r"generator/p1c1/capinf/flat/none\s+20000\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+)"
                         r"\s+([\d.]+)-([\d.]+)\s+(ok|unclear|over)", row)
    assert match, row
    suite, hand, ratio, low, high = map(float, match.groups()[:5])
    assert suite > 0 and hand > 0
    assert ratio == pytest.approx(suite / hand, rel=0.01)
    assert low <= ratio <= high
    assert (proc.returncode == 1) == (match[6] == "over")


@pytest.mark.parametrize("args, message", [
    (["--rounds", "0"], "error: --rounds must be >= 1, got 0"),
    (["--rounds", "x"], "error: --rounds must be a whole number, got 'x'"),
    (["nope"], "error: unknown design 'nope'; known: lock_list, two_lock, semaphores, queue, generator, "
               "coroutine, greenlet, multiprocess, asyncio, simple_queue, condition, asyncio_threadsafe, "
               "janus, culsans, uvloop, trio, gevent, mp_batched, faster_fifo, zmq, redis_list, "
               "redis_stream, nats"),
])
def test_bad_input(args, message):
    proc = bench("fidelity", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == message + "\n"


@pytest.mark.timeout(120)
def test_stamp_cost_prints_stamped_against_plain():
    proc = bench("fidelity", "generator", "--rounds", "1", "--stamps")
    assert proc.returncode == 0, proc.stderr
    header, row, gaps_header, gaps = proc.stdout.splitlines()
    assert gaps_header.startswith("paced cells' smallest mean gap, per producer (P/RATE)")
    assert gaps == "  smoke 50 / 50 us, quick 50 / 12.5 us, full 33.3 / 8.33 us"
    assert header.split() == ["benchmark", "items", "stamped", "plain", "ratio", "95%", "interval",
                              "cost/item"]
    match = re.fullmatch(r"generator/p1c1/capinf/flat/none\s+20000\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+)"
                         r"\s+([\d.]+)-([\d.]+)\s+(-?[\d.]+) us", row)
    assert match, row
    stamped, plain, ratio, low, high, cost = map(float, match.groups())
    assert ratio == pytest.approx(stamped / plain, rel=0.01)
    assert cost == pytest.approx(stamped - plain, abs=0.002)
    assert low <= ratio <= high


def test_paced_gaps_are_the_profiles_smallest():
    """What the stamps' cost is read against: the profiles' tightest paced cells (steady:30000 at 1:1 and
    120000 over 4 producers in full), and nothing for a profile without paced cells."""
    assert paced_gaps("smoke") == pytest.approx((50e-6, 50e-6))  # steady:20000 at 1:1
    assert paced_gaps("quick") == pytest.approx((50e-6, 12.5e-6))  # steady:20000 at 1:1, 80000 at 4:4
    assert paced_gaps("full") == pytest.approx((1 / 30000, 1 / 120000))
    assert paced_gaps("ci") is None


def test_forced_stamps_stamp_a_flat_run():
    from variants import REGISTRY, workload
    from variants.contract import Scenario

    workload.force_stamps(True)
    try:
        outcome = REGISTRY["queue"].run(Scenario(2, 2, 100, capacity=4))
    finally:
        workload.force_stamps(False)
    assert [len(stamps) for stamps in outcome.extras["take_stamps"]] == [len(got) for got in outcome.received]
    assert [len(stamps) for stamps in outcome.extras["put_stamps"]] == [50, 50]
    assert "take_stamps" not in REGISTRY["queue"].run(Scenario(2, 2, 100, capacity=4)).extras


@pytest.mark.timeout(120)
def test_each_process_is_one_figure():
    """Values of one process are not independent: the interval is over processes, never pooled values."""
    rows = measure_fidelity(rounds=1, processes=2, values=3, names=["generator"])
    assert [row["processes"] for row in rows] == [2]
