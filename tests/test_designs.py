"""The contract suite, run against every design in variants.REGISTRY.

One behaviour suite parametrised over the registry (see ../shared/STYLE.md, "Tests"):

- the matrix: every topology x capacity x work cell, run through bench.once.run_once (watchdog and
  verifier), plus direct checks of exactly-once, per-producer FIFO, exact order for 1:1 and no workers left;
- random scenarios over the same space with hypothesis, derandomized so every run tests the same cases;
- (the capacity bound is checked by the harness's own instrumented run: see test_fairness.py);
- a cross-check of the registry against the files in variants/ and the seed documents.
"""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
import threading
import zlib
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import assume, given, seed, settings
from hypothesis import strategies as st

import variants
from bench.once import RunResult, run_once
from variants import REGISTRY
from variants.contract import Scenario
from variants.workload import item_id, payload_bytes

DESIGNS = sorted(REGISTRY)
TOPOLOGIES = [(1, 1), (1, 4), (4, 1), (4, 4), (3, 5)]
CAPACITIES = [1, 2, 16, 1024, None]
WORKS = ["none", "cpu:20us", "io:200us"]
ITEMS = {"none": 400, "cpu:20us": 400, "io:200us": 200}  # io waits add up: greenlet serializes them

VARIANTS_DIR = Path(variants.__file__).parent
NON_DESIGN_MODULES = {"__init__", "contract", "workload", "threads", "servers"}
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def expected_unsupported(name: str, scenario: Scenario) -> bool:
    """The only cells a design may refuse with the common stop protocol: two_lock has a single slot,
    simple_queue no bound."""
    if name == "simple_queue":
        return scenario.capacity is not None
    return name == "two_lock" and scenario.capacity != 1


REFUSALS = {  # the one-line reason of each expected refusal, {cap} the scenario's capacity
    "two_lock": "two_lock has a single slot: capacity must be 1, got {cap}",
    "simple_queue": "queue.SimpleQueue has no bound: capacity must be unbounded, got {cap}",
}


class RunHung(BaseException):  # noqa: N818 - not an Exception on purpose, see check_run
    """A run missed its deadline: its threads may still be running, so stop at once."""


# --- shared checks ----------------------------------------------------------------------------------------


def check_run(design: ModuleType, scenario: Scenario) -> RunResult:
    """Run the scenario once under the watchdog and check the outcome directly as well as by verify."""
    threads_before = set(threading.enumerate())
    result = run_once(design, scenario)
    where = f"{design.NAME} {scenario.name} ({scenario.items} items)"
    if result.status == "timeout" or result.poisoned:
        # A BaseException: hypothesis re-raises it instead of shrinking, which would rerun hung scenarios
        # in a process whose hung threads are still running.
        raise RunHung(f"{where}: {result.status}: {result.reason}")
    assert result.ok, f"{where}: {result.status}: {result.reason}"

    leftover = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert not leftover, f"{where}: threads left running: {leftover}"
    children = multiprocessing.active_children()
    assert not children, f"{where}: processes left running: {children}"

    outcome = result.outcome
    assert len(outcome.received) == scenario.consumers, where
    assert outcome.errors == (), where
    for got in outcome.received:
        for item in got:
            i = item_id(item)
            expected = (i, payload_bytes(i, scenario.payload)) if scenario.payload else i
            assert item == expected, f"{where}: malformed item {item!r}"

    ids = [item_id(item) for got in outcome.received for item in got]
    assert sorted(ids) == list(range(scenario.items)), f"{where}: not exactly once"

    if design.FIFO:
        for c, got in enumerate(outcome.received):
            for p in range(scenario.producers):
                from_p = [item_id(item) for item in got if item_id(item) % scenario.producers == p]
                assert from_p == sorted(from_p), f"{where}: consumer {c}: producer {p}'s items out of order"
        if scenario.producers == 1 and scenario.consumers == 1:
            assert [item_id(item) for item in outcome.received[0]] == list(range(scenario.items)), where
    return result


# --- 1. the matrix ----------------------------------------------------------------------------------------


def matrix_cells():
    for name in DESIGNS:
        for producers, consumers in TOPOLOGIES:
            for capacity in CAPACITIES:
                for work in WORKS:
                    scenario = Scenario(producers, consumers, ITEMS[work], capacity=capacity, work=work)
                    if REGISTRY[name].unsupported(scenario):
                        continue  # n/a, not a skip: test_unsupported_only_where_expected checks each one
                    cap = "inf" if capacity is None else capacity
                    yield pytest.param(name, producers, consumers, capacity, work,
                                       id=f"{name}-p{producers}c{consumers}-cap{cap}-{work}")


@pytest.mark.parametrize("name", DESIGNS)
def test_unsupported_only_where_expected(name):
    """Nothing is skipped silently: only two_lock and simple_queue refuse cells, with a one-line reason."""
    design = REGISTRY[name]
    for producers, consumers in TOPOLOGIES:
        for capacity in CAPACITIES:
            for work in WORKS:
                for payload in (0, 16):
                    scenario = Scenario(producers, consumers, ITEMS[work], capacity=capacity, work=work,
                                        payload=payload)
                    reason = design.unsupported(scenario)
                    if not expected_unsupported(name, scenario):
                        assert reason is None, f"{name} refuses {scenario.name}: {reason!r}"
                        continue
                    assert isinstance(reason, str), f"{name} takes {scenario.name}"
                    cap = "unbounded" if capacity is None else capacity
                    assert reason == REFUSALS[name].format(cap=cap), reason
                    assert reason.strip() and "\n" not in reason


@pytest.mark.timeout(40)  # run_once's own deadline (>= 10 s) and grace come first, with their reason
@pytest.mark.parametrize(("name", "producers", "consumers", "capacity", "work"), list(matrix_cells()))
def test_matrix(name, producers, consumers, capacity, work):
    design = REGISTRY[name]
    scenario = Scenario(producers, consumers, ITEMS[work], capacity=capacity, work=work)
    check_run(design, scenario)


STOP_SUPPORT = {  # which designs take seed 004's shutdowns at 2:2 (each refusal says why: checked below)
    "barrier": {"lock_list", "two_lock", "semaphores", "queue", "multiprocess", "simple_queue", "condition",
                "asyncio_threadsafe", "janus", "culsans", "mp_batched", "faster_fifo", "redis_list",
                "redis_stream"},
    "event": {"queue", "multiprocess", "condition", "asyncio_threadsafe", "janus", "culsans", "mp_batched",
              "faster_fifo"},
}


@pytest.mark.parametrize("name", DESIGNS)
def test_stop_protocols_are_supported_or_refused_with_a_reason(name):
    design = REGISTRY[name]
    capacity = {"two_lock": 1, "simple_queue": None}.get(name, 16)  # a capacity the design takes
    for stop, takers in STOP_SUPPORT.items():
        reason = design.unsupported(Scenario(2, 2, 10, capacity=capacity, stop=stop))
        if name in takers:
            assert reason is None, reason
        else:
            assert isinstance(reason, str) and reason.strip() and "\n" not in reason, reason


# --- 2. random scenarios ----------------------------------------------------------------------------------

RATES = st.integers(20_000, 200_000)  # items/s over all producers: 300 items arrive within 15 ms
ARRIVALS = st.one_of(
    st.just("flat"),
    st.builds("steady:{}".format, RATES),
    st.builds("burst:{}:{}".format, st.integers(1, 50), RATES),
    st.builds("poisson:{}".format, RATES),
)


@st.composite
def scenarios(draw, design: ModuleType) -> Scenario:
    """A random scenario the design takes: its capacity is drawn among those it supports."""
    base = Scenario(
        producers=draw(st.integers(1, 5)),
        consumers=draw(st.integers(1, 5)),
        items=draw(st.integers(1, 300)),
        arrival=draw(ARRIVALS),
        work=draw(st.sampled_from(["none", "cpu:5us", "io:50us"])),
        payload=draw(st.sampled_from([0, 16])),
    )
    capacities = [c for c in (1, 2, 3, 16, None) if design.unsupported(replace(base, capacity=c)) is None]
    assume(capacities)
    base = replace(base, capacity=draw(st.sampled_from(capacities)))
    stops = [stop for stop in ("sentinels", "barrier", "event:1ms")
             if design.unsupported(replace(base, stop=stop)) is None]
    return replace(base, stop=draw(st.sampled_from(stops)))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", DESIGNS)
def test_random_scenarios(name):
    design = REGISTRY[name]

    # Deterministic: derandomized, no example database, and a fixed seed per design (so the designs do not
    # all draw the same scenarios; the matrix already runs them all on the same cells).
    @settings(max_examples=8 if design.MODEL == "process" else 25, deadline=None, derandomize=True,
              database=None)
    @seed(zlib.crc32(name.encode()))
    @given(scenarios(design))
    def check(scenario):
        check_run(design, scenario)

    check()


# --- 3. cross-check: the registry against variants/ and the seeds -----------------------------------------


def test_every_module_in_variants_is_a_design_or_known():
    files = {path.stem for path in VARIANTS_DIR.glob("*.py")}
    registered = {Path(module.__file__).stem for module in REGISTRY.values()}
    assert files - NON_DESIGN_MODULES == registered, "a module in variants/ is neither registered nor known"
    assert NON_DESIGN_MODULES <= files


@pytest.mark.parametrize("name", DESIGNS)
def test_design_module_keeps_the_contract(name):
    module = REGISTRY[name]
    assert Path(module.__file__).parent == VARIANTS_DIR
    assert module.NAME == name
    assert module.MODEL in variants.MODELS
    assert isinstance(module.SUMMARY, str) and module.SUMMARY.strip() and "\n" not in module.SUMMARY
    assert isinstance(module.FIFO, bool)
    assert callable(module.unsupported)
    assert callable(module.run)
    assert re.fullmatch(r"\d{3}(, \d{3})*|-", module.SEED), f"SEED {module.SEED!r}: want '000, 003' or '-'"


@pytest.mark.parametrize("name", [name for name in DESIGNS if REGISTRY[name].SEED != "-"])  # "-": no seed
def test_design_seeds_exist(name):
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"no seed folder at {SEEDS_DIR}")
    for number in REGISTRY[name].SEED.split(", "):
        assert list(SEEDS_DIR.glob(f"{number}_*.txt")), f"{name}: seed {number} not in {SEEDS_DIR}"


def test_a_worker_imports_its_own_design_only():
    """A pyperf worker runs one design: finding it imports no other (asyncio's import alone cost each worker
    30 ms here), and REGISTRY, built on first use, still lists them all in MODULES' order."""
    code = ("import sys, bench.pyperf_run, variants; from bench.designs import get_design; "
            "get_design('generator'); "
            "print(' '.join(n for n in variants.MODULES if f'variants.{n}' in sys.modules)); "
            "print('asyncio' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["generator", "False"]
    assert list(REGISTRY) == list(variants.MODULES)


def test_every_model_has_a_design():
    assert {module.MODEL for module in REGISTRY.values()} == set(variants.MODELS)
