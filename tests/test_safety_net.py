"""The safety net: every kind of broken design is caught, whether it loses, repeats, reorders, raises,
hangs or leaves workers behind; never reported as a figure. Plus the verifier on hand-made outcomes and
the deadline it is given.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from bench import once
from bench.designs import EXTRA_DESIGNS_ENV
from bench.once import deadline_for, run_once
from bench.verify import verify
from tests import fixtures
from tests.fixtures import (
    broken_deadlocks,
    broken_drops,
    broken_duplicates,
    broken_leaves_thread,
    broken_raises,
    broken_reorders,
    broken_stuck_process,
)
from variants import REGISTRY
from variants.contract import Outcome, Scenario
from variants.workload import payload_bytes

ROOT = Path(__file__).parents[1]

# Shapes the data-breaking fixtures are run on: one pair, many of each, bounded and unbounded.
SHAPES = [
    Scenario(1, 1, 100),
    Scenario(2, 3, 500, capacity=4),
    Scenario(3, 2, 500, capacity=1, payload=8),
]


def _shape_id(scenario: Scenario) -> str:
    return scenario.name


@pytest.fixture
def deadlocks():
    """The deadlocking fixture, armed; its stuck workers are released (and end) after the test."""
    broken_deadlocks.arm()
    yield broken_deadlocks
    broken_deadlocks.release()
    for thread in threading.enumerate():
        if thread.name == f"run {broken_deadlocks.NAME}":
            thread.join(10)


# --- the fixtures themselves ---------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", fixtures.MODULES)
def test_fixture_keeps_the_contract(module_name):
    design = importlib.import_module(f"tests.fixtures.{module_name}")
    assert design.NAME == module_name
    assert design.NAME not in REGISTRY
    assert design.MODEL in ("thread", "process", "asyncio")
    assert isinstance(design.SUMMARY, str) and design.SUMMARY
    assert design.SEED == "fixture"
    assert design.FIFO is True
    assert design.unsupported(Scenario(2, 2, 10, capacity=1)) is None
    assert callable(design.run)


def test_fixture_list_matches_the_folder():
    on_disk = {p.stem for p in Path(fixtures.__file__).parent.glob("broken_*.py")}
    assert on_disk == set(fixtures.MODULES)


@pytest.mark.parametrize("module", [broken_drops, broken_duplicates, broken_raises])
def test_id_based_fixtures_are_correct_below_their_id(module):
    """Below their faulty id these fixtures are plain queue.Queue: the failures above are really theirs."""
    result = run_once(module, Scenario(1, 1, 7), deadline=30)
    assert (result.status, result.reason) == ("ok", None)


# --- run_once catches every broken design --------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("scenario", SHAPES, ids=_shape_id)
def test_run_once_catches_a_lost_item(scenario):
    result = run_once(broken_drops, scenario)
    assert result.status == "failed"
    assert not result.ok
    assert re.fullmatch(r"lost 1 items \(7\)", result.reason)
    assert result.outcome is not None
    assert not result.poisoned


@pytest.mark.timeout(30)
@pytest.mark.parametrize("scenario", SHAPES, ids=_shape_id)
def test_run_once_catches_a_duplicated_item(scenario):
    result = run_once(broken_duplicates, scenario)
    assert result.status == "failed"
    assert re.fullmatch(r"duplicated 1 items \(7\)", result.reason)
    assert not result.poisoned


@pytest.mark.timeout(30)
@pytest.mark.parametrize("producers", [1, 2, 3])
def test_run_once_catches_broken_fifo(producers):
    result = run_once(broken_reorders, Scenario(producers, 1, 100, capacity=8))
    assert result.status == "failed"
    assert re.fullmatch(rf"order broken: consumer 0 got item 0 after {producers} from producer 0",
                        result.reason)


@pytest.mark.timeout(30)
def test_reordering_passes_when_the_design_promises_no_fifo(monkeypatch):
    monkeypatch.setattr(broken_reorders, "FIFO", False)
    result = run_once(broken_reorders, Scenario(2, 1, 100))
    assert (result.status, result.reason) == ("ok", None)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("scenario", [Scenario(1, 1, 100), Scenario(1, 2, 100, capacity=2)], ids=_shape_id)
def test_run_once_catches_a_worker_that_raised(scenario):
    result = run_once(broken_raises, scenario)
    assert result.status == "failed"
    assert result.reason == f"a worker raised: producer 0: RuntimeError({broken_raises.MESSAGE!r})"
    assert not result.poisoned


@pytest.mark.timeout(30)
def test_run_once_catches_a_design_that_raised():
    design = types.ModuleType("crashes")
    design.NAME, design.FIFO = "crashes", True

    def run(scenario):
        raise ValueError("no buffer today")

    design.run = run
    result = run_once(design, Scenario(1, 1, 10))
    assert (result.status, result.reason, result.outcome) == (
        "failed", "the design raised ValueError: no buffer today", None)


@pytest.mark.timeout(30)
def test_run_once_catches_a_thread_left_running():
    try:
        result = run_once(broken_leaves_thread, Scenario(2, 2, 100))
    finally:
        broken_leaves_thread.release()
    assert result.status == "failed"
    assert result.reason == f"workers still running when run() returned: {broken_leaves_thread.THREAD_NAME}"
    assert result.poisoned  # a thread of the run is still alive: the process must not be reused


@pytest.mark.timeout(30)
@pytest.mark.parametrize("capacity", [None, 2])
def test_run_once_times_out_a_deadlock(deadlocks, capacity):
    result = run_once(deadlocks, Scenario(2, 2, 50, capacity=capacity), deadline=1.0)
    assert result.status == "timeout"
    assert not result.ok
    assert result.reason == "did not finish within 1 s"
    assert result.outcome is None
    assert result.poisoned  # the runner thread is still stuck


@pytest.mark.timeout(30)
def test_run_once_times_out_a_stuck_child_process_and_terminates_it():
    result = run_once(broken_stuck_process, Scenario(1, 1, 10), deadline=1.0)
    assert result.status == "timeout"
    assert result.reason == "did not finish within 1 s; 1 child processes terminated"
    assert result.outcome is None
    assert not result.poisoned  # join returned once the child was gone: the runner thread ended
    assert multiprocessing.active_children() == []


@pytest.mark.timeout(60)
def test_cli_reports_a_deadlock_and_exits():
    """A hung run through the CLI: exit status 1 with the reason on stderr, although its threads are stuck."""
    env = {**os.environ, EXTRA_DESIGNS_ENV: "tests.fixtures.broken_deadlocks"}
    command = [sys.executable, "-m", "bench", "run", "broken_deadlocks", "--once", "--items", "100",
               "--deadline", "1"]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=45)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == "broken_deadlocks/p1c1/capinf/flat/none: timeout: did not finish within 1 s\n"


# --- verify on hand-made outcomes ----------------------------------------------------------------------


def _verify(received, producers=1, items=None, payload=0, fifo=True, errors=()):
    items = len({x if type(x) is int else x[0] for got in received for x in got}) if items is None else items
    scenario = Scenario(producers, len(received), items, payload=payload)
    return verify(scenario, Outcome(0.001, received, tuple(errors)), fifo=fifo)


@pytest.mark.parametrize("received, producers", [
    ([[0, 1, 2, 3]], 1),
    ([[0, 2, 4], [1, 3, 5]], 2),  # each consumer one producer's items
    ([[0, 1, 3], [2, 4, 5]], 2),  # interleaved, but in order per producer
    ([[1, 0, 3, 2]], 2),  # producers may overtake one another
    ([[], [0, 1, 2]], 1),  # a consumer that got nothing
])
def test_verify_accepts_exactly_once_in_order(received, producers):
    assert _verify(received, producers) is None


def test_verify_reports_a_lost_item():
    assert _verify([[0, 1, 3]], items=4) == "lost 1 items (2)"


def test_verify_reports_at_most_three_examples():
    assert _verify([[0]], items=10) == "lost 9 items (1, 2, 3, ...)"
    assert _verify([[0, 4]], items=5) == "lost 3 items (1, 2, 3)"


def test_verify_reports_a_duplicate():
    assert _verify([[0, 1, 2, 2, 3]], items=4) == "duplicated 1 items (2)"
    assert _verify([[0, 1], [1, 0]], items=2) == "duplicated 2 items (0, 1)"


def test_verify_reports_lost_and_duplicated_at_the_same_count():
    assert _verify([[0, 1, 1, 3]], items=4) == "lost 1 items (2); duplicated 1 items (1)"


def test_verify_reports_unknown_ids():
    assert _verify([[0, 1, 2, 3, 99]], items=4) == "received 1 unknown items (99)"
    assert _verify([[-1, 0, 1, 2]], items=3) == "received 1 unknown items (-1)"
    assert _verify([[0, 1, 7]], items=3) == "lost 1 items (2); received 1 unknown items (7)"


@pytest.mark.parametrize("thing", [None, 1.5, (), "", True])
def test_verify_reports_things_that_are_not_items(thing):
    assert _verify([[0, thing]], items=1) == "a consumer received something that is not an item"


def test_verify_reports_a_wrong_number_of_consumer_lists():
    scenario = Scenario(1, 2, 2)
    assert verify(scenario, Outcome(0.001, [[0, 1]])) == "expected 2 consumer lists, got 1"


def test_verify_reports_worker_errors_first():
    one = ("consumer 0: RuntimeError('x')",)
    assert _verify([[0, 1]], errors=one) == "a worker raised: consumer 0: RuntimeError('x')"
    two = one + ("producer 1: OSError()",)
    assert _verify([[0, 1]], errors=two) == "a worker raised: consumer 0: RuntimeError('x') (and 1 more)"


def test_verify_checks_fifo_per_producer_and_consumer():
    assert _verify([[1, 0]]) == "order broken: consumer 0 got item 0 after 1 from producer 0"
    assert _verify([[2, 1, 0, 3]], producers=2) == (
        "order broken: consumer 0 got item 0 after 2 from producer 0")
    assert _verify([[0, 1], [2, 5, 4, 3]], producers=2) == (
        "order broken: consumer 1 got item 3 after 5 from producer 1")


def test_verify_skips_fifo_when_not_promised():
    assert _verify([[1, 0]], fifo=False) is None
    assert _verify([[3, 2], [1, 0]], producers=2, fifo=False) is None
    assert _verify([[1, 1]], items=2, fifo=False) == "lost 1 items (0); duplicated 1 items (1)"


def test_verify_reads_ids_from_payload_tuples():
    def item(i):
        return (i, payload_bytes(i, 4))

    assert _verify([[item(0), item(2)], [item(1)]], producers=2, payload=4) is None
    assert _verify([[item(0), item(1), item(1)]], items=3, payload=4) == (
        "lost 1 items (2); duplicated 1 items (1)")
    assert _verify([[item(1), item(0)]], payload=4) == (
        "order broken: consumer 0 got item 0 after 1 from producer 0")


def test_verify_checks_every_payload_byte():
    good = [(0, payload_bytes(0, 16)), (1, payload_bytes(1, 16))]
    assert _verify([good], items=2, payload=16) is None
    for bad in [(1, payload_bytes(0, 16)), (1, payload_bytes(1, 15)), (1, bytes(16)), (1,), 1]:
        assert _verify([[good[0], bad]], items=2, payload=16) == "payload of item 1 corrupted", bad


@pytest.mark.parametrize("model", ["generator", "greenlet", "asyncio"])
def test_verify_fails_a_one_thread_design_that_does_not_say_its_tasks_finished(model):
    scenario = Scenario(1, 1, 2)
    said_nothing = Outcome(0.1, [[0, 1]])
    assert verify(scenario, said_nothing, model=model) == "did not report that its tasks finished"
    left_one = Outcome(0.1, [[0, 1]], extras={"tasks_finished": False})
    assert verify(scenario, left_one, model=model) == (
        "tasks did not finish: the design left a task unfinished or cancelled")
    assert verify(scenario, Outcome(0.1, [[0, 1]], extras={"tasks_finished": True}), model=model) is None
    assert verify(scenario, said_nothing, model="thread") is None  # joined threads are checked directly


# --- deadline_for --------------------------------------------------------------------------------------


def test_deadline_has_a_floor():
    assert deadline_for(Scenario(1, 1, 1)) >= once.DEADLINE_FLOOR >= 10


def test_deadline_is_the_documented_sum():
    scenario = Scenario(1, 1, 1000, arrival="steady:500", work="io:1ms")
    spread, work, handoff = 1000 / 500, 1000 * 1e-3, 1000 * once.DEADLINE_PER_ITEM
    expected = once.DEADLINE_FLOOR + once.DEADLINE_SLACK * (spread + work + handoff)
    assert deadline_for(scenario) == pytest.approx(expected)


def test_deadline_grows_with_items():
    deadlines = [deadline_for(Scenario(1, 1, n)) for n in (1, 1_000, 100_000, 10_000_000)]
    assert deadlines == sorted(deadlines) and len(set(deadlines)) == len(deadlines)


def test_deadline_grows_with_work():
    works = ("none", "cpu:1us", "io:20us", "cpu:1ms")
    deadlines = [deadline_for(Scenario(1, 1, 10_000, work=w)) for w in works]
    assert deadlines == sorted(deadlines) and len(set(deadlines)) == len(deadlines)


def test_deadline_grows_as_arrivals_slow_down():
    arrivals = ("flat", "steady:1000000", "poisson:10000", "burst:10:1000", "steady:100")
    deadlines = [deadline_for(Scenario(2, 2, 10_000, arrival=a)) for a in arrivals]
    assert deadlines == sorted(deadlines) and len(set(deadlines)) == len(deadlines)
    # the arrival spread counts in full: 10_000 items at 100/s take 100 s at least
    assert deadlines[-1] > 100


def test_deadline_ignores_the_shape():
    """Workers, capacity and payload do not change the worst case the deadline assumes."""
    base = deadline_for(Scenario(1, 1, 5000, work="io:1us"))
    assert deadline_for(Scenario(8, 3, 5000, capacity=1, work="io:1us", payload=100)) == base
