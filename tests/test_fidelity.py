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


# --- `bench fidelity --brokers`: each broker design against a hand loop doing the same commands ----------

SLOW_DESIGN = '''"""redis_list with a sleep before every batch its producer sends (the lie-catcher's design).

Its NAME is redis_list's, so that `bench fidelity --brokers redis_list` measures it against redis_list's
own hand loop: an extra design named in PRODCON_EXTRA_DESIGNS comes before the registry's.
"""

import time

from variants import redis_list
from variants.redis_list import MODEL, SEED, SUMMARY, FIFO, unsupported  # noqa: F401

NAME = "redis_list"
DELAY = 0.002  # seconds slept before each LPUSH of the producer's


class SlowList(redis_list.RedisList):
    def flush(self):
        if self._pending:
            time.sleep(DELAY)  # the slowdown: the producer's path only
        super().flush()


def run(scenario):
    key = redis_list.run_key("items")
    return redis_list.run_on_broker(scenario, lambda ctx, url: SlowList(ctx, scenario, url, key))
'''

BROKER_ROW = (r"(\w+)/p1c1/capinf/flat/none\s+(\d+)\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+)"
              r"\s+([\d.]+)-([\d.]+)\s+(ok|unclear|over)")


@pytest.fixture
def own_brokers(monkeypatch):
    """No external broker; this process's own servers stopped before and after the test."""
    from variants import servers

    monkeypatch.delenv(servers.BROKER_ENV, raising=False)
    servers.stop_broker()
    yield servers
    servers.stop_broker()


def _loop_keys(servers) -> list[bytes]:
    """The hand loops' keys left on this process's Redis server."""
    import redis

    from bench.broker_loops import KEY_PREFIX

    client = redis.Redis.from_url(servers.broker("redis").url)
    try:
        return list(client.scan_iter(f"{KEY_PREFIX}*"))
    finally:
        client.close()


def _strays(servers) -> list[str]:
    """Processes this one started that still exist, its own broker servers aside."""
    import psutil

    own = {server.pid for kind in servers.KINDS if (server := servers.current_server(kind))}
    return [f"{child.pid} {child.name()}" for child in psutil.Process().children(recursive=True)
            if child.pid not in own]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["redis_list", "redis_stream", "nats"])
def test_hand_loop_gives_seconds_per_item_and_cleans_up(own_brokers, name):
    from bench.broker_loops import LOOPS

    figures = [LOOPS[name](2_000) for _ in range(2)]
    assert all(0 < figure < 1e-3 for figure in figures), figures  # seconds per item, not per run
    assert _strays(own_brokers) == []
    assert _loop_keys(own_brokers) == []


@pytest.mark.timeout(30)
def test_hand_loop_that_fails_says_why_and_leaves_nothing(own_brokers, monkeypatch):
    from bench import broker_loops

    def failing_consumer(url, key, gate, report):
        gate()
        raise OSError("the consumer broke")

    monkeypatch.setattr(broker_loops, "_list_consumer", failing_consumer)  # the forked workers inherit it
    with pytest.raises(RuntimeError, match="consumer: OSError\\('the consumer broke'\\)"):
        broker_loops.redis_list_loop(500)
    assert _strays(own_brokers) == []
    assert _loop_keys(own_brokers) == []


@pytest.mark.timeout(60)
def test_brokers_one_design_one_round_prints_its_row():
    proc = bench("fidelity", "--brokers", "redis_stream", "--rounds", "1", "--items", "1000", timeout=60)
    assert proc.returncode in (0, 1), proc.stderr  # 1 only if the measured ratio is clearly over the limit
    header, row = proc.stdout.splitlines()
    assert header.split() == ["benchmark", "items", "design", "loop", "ratio", "95%", "interval", "verdict"]
    match = re.fullmatch(BROKER_ROW, row)
    assert match, row
    assert match[1] == "redis_stream" and match[2] == "1000"
    design, loop, ratio, low, high = map(float, match.groups()[2:7])
    assert design > 0 and loop > 0
    assert ratio == pytest.approx(design / loop, rel=0.01)
    assert low <= ratio <= high
    assert (proc.returncode == 1) == (match[8] == "over")


@pytest.mark.timeout(60)
def test_brokers_catch_a_design_slowed_on_purpose(tmp_path, monkeypatch):
    (tmp_path / "slow_redis_list.py").write_text(SLOW_DESIGN)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the design's bare processes import it too
    proc = bench("fidelity", "--brokers", "redis_list", "--rounds", "1", "--items", "1000",
                 extra="slow_redis_list", timeout=60)
    header, row = proc.stdout.splitlines()
    match = re.fullmatch(BROKER_ROW, row)
    assert match, row
    ratio, low = float(match[5]), float(match[6])
    assert ratio > LIMIT and low > LIMIT, row  # 10 sleeps of 2 ms: the design's figure about 20 us/item over
    assert match[8] == "over" and proc.returncode == 1, (row, proc.stderr)


@pytest.mark.parametrize("args, message", [
    (["--brokers", "generator"], "error: --brokers: no hand loop for 'generator'; loops: redis_list, "
                                 "redis_stream, nats"),
    (["--brokers", "--stamps"], "error: --brokers and --stamps measure different things: give one"),
    (["--brokers", "--items", "0"], "error: --items must be >= 1, got 0"),
    (["--brokers", "--items", "x"], "error: --items must be a whole number, got 'x'"),
    (["--items", "10"], "error: --items goes with --brokers"),
])
def test_brokers_bad_input(args, message):
    proc = bench("fidelity", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == message + "\n"
