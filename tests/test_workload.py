"""The shared workload: spec parsing, arrival schedules, plans, and the Scenario's checks and name."""

from __future__ import annotations

import dataclasses
import itertools
import re
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from variants import workload
from variants.contract import Outcome, Scenario
from variants.workload import (
    Arrival,
    Work,
    item_id,
    parse_arrival,
    parse_duration,
    parse_work,
    payload_bytes,
    plan,
)


def _exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


# --- parse_duration ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("20us", 20e-6), ("1.5ms", 1.5e-3), ("2s", 2.0), ("100ns", 100e-9), (".5s", 0.5), ("3.ms", 3e-3),
    ("0s", 0.0), ("0.25us", 0.25e-6),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("text", [
    "", "5", "ms", "1.5.2ms", "-1ms", "+1ms", "1 ms", " 1ms", "1e3us", "20US", "1m", "1h", "inf s", "nanus",
    ".s",
])
def test_parse_duration_rejects(text):
    message = f"bad duration {text!r}: expected a number with a unit s, ms, us or ns, e.g. 20us"
    with pytest.raises(ValueError, match=_exactly(message)):
        parse_duration(text)


# --- parse_arrival -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, arrival", [
    ("flat", Arrival("flat")),
    ("steady:1000", Arrival("steady", 1000.0)),
    ("steady:2.5", Arrival("steady", 2.5)),
    ("poisson:50000", Arrival("poisson", 50000.0)),
    ("burst:10:500", Arrival("burst", 500.0, 10)),
    ("burst:1:0.5", Arrival("burst", 0.5, 1)),
])
def test_parse_arrival(spec, arrival):
    assert parse_arrival(spec) == arrival


@pytest.mark.parametrize("spec", [
    "", "bogus", "flat:1", "steady", "steady:", "poisson", "steady:1:2", "burst", "burst:10", "burst:1:2:3",
    "STEADY:5", "Flat",
])
def test_parse_arrival_rejects_the_shape(spec):
    message = f"bad arrival spec {spec!r}: expected flat, steady:RATE, burst:SIZE:RATE or poisson:RATE"
    with pytest.raises(ValueError, match=_exactly(message)):
        parse_arrival(spec)


@pytest.mark.parametrize("spec, what, text", [
    ("steady:0", "RATE", "0"),
    ("steady:-5", "RATE", "-5"),
    ("steady:abc", "RATE", "abc"),
    ("steady:inf", "RATE", "inf"),
    ("steady:nan", "RATE", "nan"),
    ("poisson:0.0", "RATE", "0.0"),
    ("burst:10:0", "RATE", "0"),
    ("burst:0:10", "SIZE", "0"),
    ("burst:-2:10", "SIZE", "-2"),
    ("burst:2.5:10", "SIZE", "2.5"),
    ("burst:x:10", "SIZE", "x"),
    ("steady: 1_000 ", "RATE", " 1_000 "),
    ("steady:1e3", "RATE", "1e3"),
])
def test_parse_arrival_rejects_the_numbers(spec, what, text):
    number = "whole number" if what == "SIZE" else "number"
    message = f"bad arrival spec {spec!r}: {what} must be a positive {number}, got {text!r}"
    with pytest.raises(ValueError, match=_exactly(message)):
        parse_arrival(spec)


def test_parse_arrival_wants_a_str():
    with pytest.raises(TypeError, match=_exactly("arrival must be a str, got 5")):
        parse_arrival(5)


# --- parse_work ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, kind, seconds", [
    ("none", "none", 0.0), ("cpu:20us", "cpu", 20e-6), ("io:1ms", "io", 1e-3), ("io:1.5s", "io", 1.5),
    ("cpu:500ns", "cpu", 500e-9),
])
def test_parse_work(spec, kind, seconds):
    work = parse_work(spec)
    assert work.kind == kind
    assert work.seconds == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("spec", [
    "", "none:1ms", "cpu", "cpu:", "io", "cpu:0us", "io:0s", "sleep:1ms", "CPU:1ms",
])
def test_parse_work_rejects_the_shape(spec):
    message = f"bad work spec {spec!r}: expected none, cpu:DURATION or io:DURATION, e.g. cpu:20us"
    with pytest.raises(ValueError, match=_exactly(message)):
        parse_work(spec)


@pytest.mark.parametrize("spec, duration", [("cpu:5", "5"), ("io:-1ms", "-1ms"), ("cpu:1 ms", "1 ms")])
def test_parse_work_rejects_the_duration(spec, duration):
    message = (f"bad work spec {spec!r}: bad duration {duration!r}: expected a number with a unit s, ms, us "
               "or ns, e.g. 20us")
    with pytest.raises(ValueError, match=_exactly(message)):
        parse_work(spec)


def test_parse_work_wants_a_str():
    with pytest.raises(TypeError, match=_exactly("work must be a str, got None")):
        parse_work(None)


# --- Arrival.offsets -----------------------------------------------------------------------------------


def test_flat_has_no_schedule():
    assert parse_arrival("flat").offsets(10, 2, 0) is None


@pytest.mark.parametrize("producers", [1, 2, 4])
def test_steady_spacing_is_producers_over_rate(producers):
    offsets = parse_arrival("steady:1000").offsets(50 * producers, producers, producers - 1)
    assert len(offsets) == 50
    assert offsets[0] == pytest.approx((producers - 1) / 1000)  # staggered: producer p starts at p/RATE
    gap = producers / 1000
    assert _gaps(offsets) == pytest.approx([gap] * 49)


@pytest.mark.parametrize("producers", [2, 3, 4])
def test_steady_producers_take_turns(producers):
    """Merged, P staggered producers send one item every 1/RATE: never in clumps of P."""
    arrival = parse_arrival("steady:1000")
    merged = sorted(t for p in range(producers) for t in arrival.offsets(20 * producers, producers, p))
    assert _gaps(merged) == pytest.approx([1 / 1000] * (len(merged) - 1))


def test_burst_groups_share_an_offset():
    # burst:3:600 over 2 producers: one burst of 3 every 5 ms, producer 1 sending bursts 1, 3, 5...
    offsets = parse_arrival("burst:3:600").offsets(18, 2, 1)
    assert offsets == pytest.approx([t * 1e-3 for t in (5, 5, 5, 15, 15, 15, 25, 25, 25)])
    # with a last burst of 2 before it, producer 1's last burst of 2 is due 2/600 s after that one
    offsets = parse_arrival("burst:3:600").offsets(16, 2, 1)
    assert offsets == pytest.approx([t * 1e-3 for t in (5, 5, 5, 15, 15, 15, 20 + 10 / 3, 20 + 10 / 3)])


@pytest.mark.parametrize("size, producers", [(1, 1), (4, 1), (5, 3)])
def test_burst_averages_the_rate(size, producers):
    rate, count = 1200.0, 10 * size
    offsets = parse_arrival(f"burst:{size}:{rate}").offsets(count * producers, producers, 0)
    groups = [offsets[i:i + size] for i in range(0, count, size)]
    assert all(len(set(group)) == 1 for group in groups)
    starts = [group[0] for group in groups]
    assert _gaps(starts) == pytest.approx([size * producers / rate] * 9)


def _bursts(arrival: str, items: int, producers: int) -> list[tuple[float, int, int]]:
    """(due time, producer, size) of every burst of a schedule, in time order."""
    parsed = parse_arrival(arrival)
    return sorted((t, p, len(list(group))) for p in range(producers)
                  for t, group in itertools.groupby(parsed.offsets(items, producers, p)))


@pytest.mark.parametrize("size, producers, items", [
    (1, 2, 20), (3, 2, 60), (100, 3, 3000), (7, 4, 280), (1000, 4, 10_000), (100, 3, 1001), (5, 8, 77)])
def test_burst_producers_take_turns_burst_by_burst(size, producers, items):
    """Merged, each burst is one producer's, the producers take turns, and each burst starts when the one
    before it has had SIZE/RATE (its size/RATE if shorter): never overlapping, never a clump of P x SIZE."""
    rate = 5000.0
    bursts = _bursts(f"burst:{size}:{rate}", items, producers)
    assert sum(n for _, _, n in bursts) == items
    for p in range(producers):  # whole bursts, then what is left
        count = workload.share(items, producers, p)
        rest = [count % size] if count % size else []
        assert [n for _, q, n in bursts if q == p] == [size] * (count // size) + rest
    assert [p for _, p, _ in bursts] == [k % producers for k in range(len(bursts))]
    assert bursts[0][0] == 0
    for (start, _, n), (following, _, _) in itertools.pairwise(bursts):
        assert following - start == pytest.approx(n / rate)


def _mean_rate(times: list[float]) -> float:
    """Items per second of a merged schedule: the items due before its last instant, over its span."""
    first, last = min(times), max(times)
    return sum(t < last for t in times) / (last - first)


@pytest.mark.parametrize("arrival", ["steady:20000", "burst:100:5000", "burst:1000:10000", "burst:3:7000",
                                     "poisson:5000", "poisson:15000"])
@pytest.mark.parametrize("producers", [1, 2, 3, 4, 8])
def test_schedules_offer_the_rate_over_all_producers(arrival, producers):
    scenario = Scenario(producers, 1, 10_000, arrival=arrival)
    offsets = workload.schedule(scenario)
    assert [len(o) for o in offsets] == [len(sent) for sent in plan(scenario).items]
    merged = [t for times in offsets for t in times]
    assert len(merged) == 10_000
    assert min(merged) >= 0
    assert _mean_rate(merged) == pytest.approx(parse_arrival(arrival).rate, rel=0.05)


def test_poisson_is_seeded():
    arrival = parse_arrival("poisson:1000")
    assert arrival.offsets(200, 2, 0) == arrival.offsets(200, 2, 0)
    assert parse_arrival("poisson:1000").offsets(200, 2, 1) == arrival.offsets(200, 2, 1)
    assert arrival.offsets(200, 2, 0) != arrival.offsets(200, 2, 1)  # each producer its own stream
    assert arrival.offsets(200, 2, 0, seed=1) != arrival.offsets(200, 2, 0)  # and each run's seed its own
    assert arrival.offsets(200, 2, 0) == arrival.offsets(200, 2, 0, seed=workload.SEED)


def test_poisson_mean_gap_is_producers_over_rate():
    offsets = parse_arrival("poisson:1000").offsets(80_000, 4, 2)
    gaps = [offsets[0], *_gaps(offsets)]  # the first gap is from the origin
    assert all(gap > 0 for gap in gaps)
    assert statistics.fmean(gaps) == pytest.approx(4 / 1000, rel=0.03)


def test_poisson_producers_do_not_start_together():
    """Not [[0.0, ...], [0.0, ...]]: each producer's stream starts with its own exponential gap."""
    firsts = [parse_arrival("poisson:10000").offsets(40, 4, p)[0] for p in range(4)]
    assert all(first > 0 for first in firsts)
    assert len(set(firsts)) == 4


def test_poisson_streams_first_offsets_are_independent():
    """Over 2,000 run seeds, the first offsets of 2 producers are independent exponentials of RATE/P:
    uncorrelated, each of mean P/RATE, their minimum (the merged stream's first) of mean 1/RATE."""
    arrival, rate, n = parse_arrival("poisson:1000"), 1000.0, 2000
    pairs = [(arrival.offsets(2, 2, 0, seed=s)[0], arrival.offsets(2, 2, 1, seed=s)[0]) for s in range(n)]
    first, second = zip(*pairs, strict=True)
    assert abs(statistics.correlation(first, second)) < 0.1  # 4.5 standard errors at n = 2,000
    assert statistics.fmean(first) == pytest.approx(2 / rate, rel=0.1)
    assert statistics.fmean(second) == pytest.approx(2 / rate, rel=0.1)
    assert statistics.fmean(min(pair) for pair in pairs) == pytest.approx(1 / rate, rel=0.1)
    # nor tied to other runs' streams: seed s's producer 1 is not seed s + 1's producer 0
    assert all(a != b for a, b in zip(second, first[1:], strict=False))


def test_share_splits_the_items_as_plan_does():
    assert [workload.share(10, 3, p) for p in range(3)] == [4, 3, 3]
    assert [workload.share(2, 4, p) for p in range(4)] == [1, 1, 0, 0]


# --- plan ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("producers, items", [(1, 1), (1, 10), (2, 10), (3, 10), (4, 3), (7, 1), (5, 101)])
def test_plan_sends_every_id_once(producers, items):
    made = plan(Scenario(producers, 1, items))
    assert len(made.items) == len(made.offsets) == producers
    assert sorted(i for sent in made.items for i in sent) == list(range(items))
    for p, sent in enumerate(made.items):
        assert sent == list(range(p, items, producers))  # id = seq * P + p, in order
    sizes = [len(sent) for sent in made.items]
    assert max(sizes) - min(sizes) <= 1


@settings(max_examples=200, deadline=None)
@given(producers=st.integers(1, 12), items=st.integers(1, 300))
def test_plan_ids_are_exactly_range_items(producers, items):
    made = plan(Scenario(producers, 1, items))
    ids = [item_id(item) for sent in made.items for item in sent]
    assert sorted(ids) == list(range(items))
    assert all(item_id(item) % producers == p for p, sent in enumerate(made.items) for item in sent)


def test_plan_with_payload_sends_id_bytes_tuples():
    made = plan(Scenario(3, 2, 20, payload=16))
    for sent in made.items:
        for item in sent:
            assert type(item) is tuple and len(item) == 2
            assert type(item[0]) is int
            assert item[1] == payload_bytes(item[0], 16) and len(item[1]) == 16
    assert sorted(item_id(item) for sent in made.items for item in sent) == list(range(20))


def test_plan_without_payload_sends_bare_ints():
    made = plan(Scenario(2, 1, 5))
    assert all(type(item) is int for sent in made.items for item in sent)


def test_plan_schedules_each_producer():
    made = plan(Scenario(3, 1, 10, arrival="steady:300"))
    assert [len(o) for o in made.offsets] == [len(s) for s in made.items] == [4, 3, 3]
    assert made.offsets[1] == pytest.approx([1 / 300, 0.01 + 1 / 300, 0.02 + 1 / 300])
    assert plan(Scenario(3, 1, 10)).offsets == [None, None, None]


def test_plan_work():
    assert plan(Scenario(1, 1, 1)).work == Work("none") and plan(Scenario(1, 1, 1)).spins == 0
    assert plan(Scenario(1, 1, 1, work="io:1ms")).spins == 0
    cpu = plan(Scenario(1, 1, 1, work="cpu:1ms"))
    assert cpu.work == Work("cpu", 1e-3)
    assert cpu.spins == round(1e-3 * workload.spins_per_second()) > 0


def test_item_id():
    assert item_id(5) == 5
    assert item_id((5, b"abc")) == 5


# --- Scenario ------------------------------------------------------------------------------------------


def test_scenario_defaults():
    scenario = Scenario(2, 3, 1000, capacity=16)
    assert (scenario.arrival, scenario.work, scenario.payload) == ("flat", "none", 0)
    assert Scenario(1, 1, 1).capacity is None


def test_scenario_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Scenario(1, 1, 1).items = 2


@pytest.mark.parametrize("kwargs, message", [
    ({"producers": "2"}, "producers must be an int, got '2'"),
    ({"producers": 2.0}, "producers must be an int, got 2.0"),
    ({"consumers": True}, "consumers must be an int, got True"),
    ({"items": None}, "items must be an int, got None"),
    ({"capacity": 1.5}, "capacity must be an int or None, got 1.5"),
    ({"capacity": "16"}, "capacity must be an int or None, got '16'"),
    ({"payload": "8"}, "payload must be an int, got '8'"),
    ({"arrival": 5}, "arrival must be a str, got 5"),
    ({"work": None}, "work must be a str, got None"),
])
def test_scenario_rejects_wrong_types(kwargs, message):
    fields = {"producers": 1, "consumers": 1, "items": 10, **kwargs}
    with pytest.raises(TypeError, match=_exactly(message)):
        Scenario(**fields)


@pytest.mark.parametrize("kwargs, message", [
    ({"producers": 0}, "producers must be >= 1, got 0"),
    ({"consumers": -1}, "consumers must be >= 1, got -1"),
    ({"items": 0}, "items must be >= 1, got 0"),
    ({"capacity": 0}, "capacity must be >= 1 or None, got 0"),
    ({"capacity": -3}, "capacity must be >= 1 or None, got -3"),
    ({"payload": -1}, "payload must be >= 0, got -1"),
    ({"arrival": "bogus"},
     "bad arrival spec 'bogus': expected flat, steady:RATE, burst:SIZE:RATE or poisson:RATE"),
    ({"work": "cpu:0us"},
     "bad work spec 'cpu:0us': expected none, cpu:DURATION or io:DURATION, e.g. cpu:20us"),
])
def test_scenario_rejects_wrong_values(kwargs, message):
    fields = {"producers": 1, "consumers": 1, "items": 10, **kwargs}
    with pytest.raises(ValueError, match=_exactly(message)):
        Scenario(**fields)


@pytest.mark.parametrize("scenario, name", [
    (Scenario(2, 3, 1000, capacity=16), "p2c3/cap16/flat/none"),
    (Scenario(1, 1, 10), "p1c1/capinf/flat/none"),
    (Scenario(4, 1, 10, capacity=1, arrival="burst:8:1000", work="cpu:20us"),
     "p4c1/cap1/burst:8:1000/cpu:20us"),
    (Scenario(1, 2, 10, arrival="poisson:500", work="io:1ms", payload=64),
     "p1c2/capinf/poisson:500/io:1ms/payload64"),
])
def test_scenario_name(scenario, name):
    assert scenario.name == name


def test_scenario_name_leaves_out_the_item_count():
    assert Scenario(2, 2, 10).name == Scenario(2, 2, 99_999).name


def test_outcome_defaults():
    outcome = Outcome(0.5, [[0]])
    assert (outcome.errors, outcome.extras) == ((), {})
    assert Outcome(0.5, [[0]]).extras is not outcome.extras  # no shared mutable default
