"""The profiles: which cells of the matrix `bench all` runs, and how hard pyperf works on each.

The matrix is not a blind cross product (docs/design.md, "The matrix"): throughput over topology x capacity
with no work; consumer work at a few topologies; arrival patterns at one topology with a slow consumer (the
bursty network producer feeding a slow database consumer). Item counts are fixed per kind of cell and recorded
in every benchmark's metadata, because the count changes the figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import variants
from bench.designs import all_designs
from runs.errors import UsageError
from variants.contract import SEED002, Scenario

__all__ = ["Profile", "PROFILES", "get_profile", "Cell", "cells", "alternative", "CHOICES",
           "broker_scenarios", "python_tag_flag"]

THROUGHPUT_ITEMS = 20_000  # per run for closed-loop cells with a buffer of 16 or more
SLOW_ITEMS = 2_000  # per run where each hand-off costs tens of us or more: capacity 1 or 2, or real work
# per run where each consumer waits on io: 1,000 x 200 us is 0.2 s a run at 1:1, long enough to time and half
# what 2,000 cost quick (65 s of its 10 minutes, 2026-12-05), which pays for the brokers at 1:4 and 4:4
IO_ITEMS = 1_000


def work_items(work: str) -> int:
    """The item count of a consumer-work cell doing `work` ("cpu:20us", "io:200us", ...)."""
    return IO_ITEMS if work.startswith("io:") else SLOW_ITEMS


@dataclass(frozen=True)
class Profile:
    """A named matrix and pyperf's effort on each benchmark of it."""

    name: str
    topologies: tuple[tuple[int, int], ...]  # (P, C) for the throughput grid
    capacities: tuple[int | None, ...]  # for the throughput grid
    work_topologies: tuple[tuple[int, int], ...]  # where consumer work is measured (capacity 16)
    works: tuple[str, ...]  # consumer work specs other than none
    arrivals: tuple[str, ...]  # paced arrival specs, measured at 1:1, capacity 16, ARRIVAL_WORK
    processes: int  # pyperf worker processes per benchmark
    values: int  # measured values per process
    warmups: int  # warm-up runs per process
    loops: int  # scenario runs per value (fixed: no calibration run)
    seconds_per_cell: float  # the estimate `list --profile` shows, measured on 2 cores
    extra: tuple[tuple[str, Scenario], ...] = ()  # (design, scenario) cells outside the grids
    # latency against offered load: ((P, C), steady rates in items/s), capacity 16, ARRIVAL_WORK
    load_sweep: tuple[tuple[tuple[int, int], tuple[int, ...]], ...] = ()
    seed002_consumers: tuple[int, ...] = ()  # the seed-002 scenario (SEED002) with these consumer counts
    seed002_capacities: tuple[int, ...] = ()  # ... at these capacities
    seed002_items: int = 400  # with one consumer (overloaded) a run takes about items / 930 s
    sweep_seconds: float = 0.1  # items in a sweep cell: RATE x this (at least SWEEP_MIN_ITEMS)
    stops: tuple[str, ...] = ()  # stop protocols other than sentinels, at stop_topologies, capacity 16
    # (each of stop_topologies must be in the throughput grid with capacity 16: that is the sentinels cell)
    stop_topologies: tuple[tuple[int, int], ...] = ()
    # effort where the variance is: a closed-loop (flat) benchmark whose first `processes` disagree (the
    # slowest process's median over the fastest's above spread_limit) gets more_processes more
    more_processes: int = 0
    spread_limit: float = float("inf")
    # paired scenarios (bench/rounds.py): each worker process runs every design `rounds` times; after the
    # first pass, `bench all` adds more_processes at a time to the scenario whose standings are known least
    # well, until each is within +-target_width or the benchmarks have taken budget_s seconds
    rounds: int = 1
    round_budget_s: float | None = None  # per worker process: rounds cut to fit it (bench/rounds.py)
    budget_s: float = 0.0
    target_width: float = 0.05
    max_processes: int = 16  # per paired scenario, first pass included
    # where the designs people choose instead of the seeds' (`alternative`: a registry design whose SEED is
    # "-") run: these scenarios only, each added to the matrix if the grids lack it. Every other design (the
    # seeds', and a user's own from --design) runs in every scenario.
    choices: tuple[Scenario, ...] = ()
    # where a broker design (MODEL "broker": a server between processes) runs instead of `choices`
    brokers: tuple[Scenario, ...] = ()

    def wants_more(self, cell: Cell, spread: float) -> bool:
        """Whether `cell`, whose first processes disagreed by `spread`, gets more_processes more.

        Closed-loop cells only: their processes are cheap and disagree most; a paced cell's run lasts its
        schedule, so more of them would cost the profile its time budget (docs/design.md, "Effort where the
        doubt is").
        """
        return bool(self.more_processes) and cell.scenario.arrival == "flat" and spread > self.spread_limit

    def wants_more_rounds(self, elapsed: float, width: float, cost: float) -> bool:
        """Whether a paired scenario whose widest standing interval is +-`width` gets more processes.

        `elapsed`: the run's benchmark seconds so far; `cost`: what more_processes will take. Wide
        intervals get effort first (the caller picks the widest); none once the budget is spent.
        """
        return (bool(self.more_processes) and width > self.target_width
                and elapsed + cost <= self.budget_s)

    def paired_effort(self) -> str:
        """One line: how hard `bench all` works on a paired scenario (run.json and REPORT.md show it)."""
        text = (f"{self.processes} worker processes per scenario, each {self.warmups} warm-up round(s) "
                f"then up to {self.rounds} rounds")
        if self.round_budget_s:
            text += f" (cut to fit {self.round_budget_s:g} s)"
        if self.more_processes and self.budget_s:
            text += (f"; then {self.more_processes} more at a time for the scenario whose standings are "
                     f"least settled (widest interval over +-{self.target_width:.0%}), while the run is "
                     f"under {self.budget_s:g} s, up to {self.max_processes} per scenario")
        return text

    def pyperf_flags(self, processes: int | None = None) -> list[str]:
        """The pyperf options of this profile's effort (with `processes` worker processes if given)."""
        return [f"--processes={processes or self.processes}", f"--values={self.values}",
                f"--warmups={self.warmups}", f"--loops={self.loops}"]


ARRIVAL_WORK = "io:50us"  # the slow consumer behind paced arrivals: 50 us per item, below the mean gap
SWEEP_MIN_ITEMS = 500


# The scenarios where the report compares the queues people choose instead (docs/findings.md): threads to
# an event loop, and processes, at 1:1 and at their many-sided topology; unbounded at 4:4 (SimpleQueue has no
# bound); every event loop and greenlet hub where 4 consumers wait on io. Left out to keep quick within 10
# minutes (measured 2026-12-05, quiet: the whole profile took 621 s with them): 1:1 io:200us (45 s for 11
# designs; one consumer's wait paces every design alike) and 1:1 unbounded (5 s; a producer fills an
# unbounded buffer within one GIL switch interval there)
CHOICES = (Scenario(1, 1, THROUGHPUT_ITEMS, 16), Scenario(4, 4, THROUGHPUT_ITEMS, 16),
           Scenario(4, 4, THROUGHPUT_ITEMS), Scenario(1, 8, THROUGHPUT_ITEMS, 16),
           Scenario(4, 4, work_items("io:200us"), 16, work="io:200us"))


# Where the broker designs run: beside `multiprocess`, `zmq` and the in-process designs at 1:1, 1:4 and
# 4:4, and in the seed-002 scenario with 1 and 4 consumers (a bursty producer feeding slow consumers: what
# people put a broker in front of). The same in quick and full; only seed 002's item count differs.
def broker_scenarios(seed002_items: int) -> tuple[Scenario, ...]:
    """The broker designs' scenarios in a profile whose seed-002 cells carry `seed002_items`."""
    return (Scenario(1, 1, THROUGHPUT_ITEMS, 16), Scenario(1, 4, THROUGHPUT_ITEMS, 16),
            Scenario(4, 4, THROUGHPUT_ITEMS, 16),
            Scenario(consumers=4, items=seed002_items, capacity=16, **SEED002),
            Scenario(consumers=1, items=seed002_items, capacity=16, **SEED002))


# Sweep rates: at io:50us one consumer serves 10-17k items/s here (every design, measured with
# `bench run D --once --work io:50us --items 4000`), four serve 13k (greenlet, whose waits block) to 61k
# (generator); the rates bracket every design's knee at each topology.

PROFILES = {
    "smoke": Profile(
        name="smoke", topologies=((1, 1), (2, 2)), capacities=(1, None), work_topologies=(),
        works=(), arrivals=(), processes=1, values=1, warmups=0, loops=1,
        seconds_per_cell=0.5, load_sweep=(((1, 1), (20000,)),), seed002_consumers=(4,),
        seed002_capacities=(16,), seed002_items=200,
    ),
    "quick": Profile(
        name="quick", topologies=((1, 1), (4, 1), (1, 4), (4, 4)), capacities=(1, 16, 1024, None),
        work_topologies=((1, 1), (4, 4)), works=("cpu:20us", "io:200us"),
        arrivals=("poisson:10000",),
        # a scenario's designs share 4 worker processes, each running every design in 5 rounds after 1
        # warm-up: processes, not values, make a median (and its interval, which needs 3) settle; then 2 more
        # processes at a time for the scenario whose standings are least settled, within the budget
        processes=4, values=1, warmups=1, loops=1, seconds_per_cell=1.78,  # 570 s / 321, measured 2026-12-05
        rounds=5, round_budget_s=2.0, more_processes=2, budget_s=480.0, spread_limit=1.15,
        load_sweep=(((1, 1), (5000, 10000, 20000)), ((4, 4), (10000, 20000, 40000, 80000))),
        # seed 002 with 1 consumer (overloaded) and 4 (keeping up); 8, which keeps up as 4 does, is full's
        # (it cost 17 s of quick's 10 minutes, 2026-12-05)
        seed002_consumers=(1, 4), seed002_capacities=(16,), seed002_items=400,
        stops=("barrier", "event"), stop_topologies=((1, 4), (4, 4)), choices=CHOICES,
        brokers=broker_scenarios(400),
    ),
    "full": Profile(
        name="full", topologies=((1, 1), (2, 1), (1, 2), (2, 2), (4, 1), (1, 4), (4, 4), (8, 8)),
        capacities=(1, 2, 16, 128, 1024, None),
        work_topologies=((1, 1), (1, 4), (4, 1), (4, 4)),
        works=("cpu:20us", "cpu:200us", "io:200us", "io:1ms"),
        arrivals=("burst:100:5000", "burst:1000:10000", "poisson:5000", "poisson:15000"),
        processes=4, values=2, warmups=1, loops=1, seconds_per_cell=3.69,  # 2847 s / 771, measured
        rounds=6, round_budget_s=4.0, more_processes=2, budget_s=2400.0,
        load_sweep=(((1, 1), (2000, 5000, 8000, 10000, 12000, 15000, 20000, 30000)),
                    ((4, 4), (5000, 10000, 15000, 20000, 30000, 40000, 60000, 80000, 120000))),
        seed002_consumers=(1, 4, 8), seed002_capacities=(1, 16), seed002_items=1000,
        stops=("barrier", "event", "event:1ms"), stop_topologies=((1, 1), (1, 4), (4, 1), (4, 4)),
        choices=CHOICES, brokers=broker_scenarios(1000),
    ),
    # `bench check`: one representative cell per design, so that 30 rounds of both sides fit in 5 minutes;
    # each round runs one process a side with these values and warm-ups (processes only matters to
    # `bench all --profile ci`, e.g. for the stored baseline)
    "ci": Profile(
        name="ci", topologies=((1, 1),), capacities=(16,), work_topologies=(), works=(), arrivals=(),
        processes=6, values=3, warmups=1, loops=1, seconds_per_cell=3.0, rounds=3,
        extra=(("two_lock", Scenario(1, 1, SLOW_ITEMS, 1)),),  # its only capacity
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called `name`; UsageError listing the known ones otherwise."""
    if name not in PROFILES:
        raise UsageError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


@dataclass(frozen=True)
class Cell:
    """One benchmark of a profile: a design on a scenario, or n/a with the design's reason."""

    variant: str
    scenario: Scenario
    unsupported: str | None  # the design's one-line reason, or None when it runs
    python: str | None = None  # the tag of the interpreter its workers run under, when the run names one

    @property
    def name(self) -> str:
        """The pyperf benchmark name: variant/p{P}c{C}/cap{N|inf}/{arrival}/{work}[/py-{tag}]."""
        return f"{self.variant}/{self.scenario_key}"

    @property
    def scenario_key(self) -> str:
        """The name without the design: what the cells measured side by side, in one interpreter, share."""
        return self.scenario.name + (f"/py-{self.python}" if self.python else "")


def python_tag_flag(cell: Cell) -> list[str]:
    """The worker flag that names its benchmarks after the cell's interpreter (none without one)."""
    return [f"--python-tag={cell.python}"] if cell.python else []


def _scenarios(profile: Profile) -> list[Scenario]:
    found: list[Scenario] = []
    for producers, consumers in profile.topologies:
        for capacity in profile.capacities:
            slow = capacity is not None and capacity <= 2
            found.append(Scenario(producers, consumers, SLOW_ITEMS if slow else THROUGHPUT_ITEMS, capacity))
    for producers, consumers in profile.work_topologies:
        for work in profile.works:
            found.append(Scenario(producers, consumers, work_items(work), 16, work=work))
    for arrival in profile.arrivals:
        found.append(Scenario(1, 1, SLOW_ITEMS, 16, arrival=arrival, work=ARRIVAL_WORK))
    for (producers, consumers), rates in profile.load_sweep:
        for rate in rates:
            items = max(SWEEP_MIN_ITEMS, round(rate * profile.sweep_seconds))
            found.append(Scenario(producers, consumers, items, 16, f"steady:{rate}", ARRIVAL_WORK))
    for producers, consumers in profile.stop_topologies:
        for stop in profile.stops:  # the default (sentinels) is the grid's cell at the same item count
            found.append(Scenario(producers, consumers, THROUGHPUT_ITEMS, 16, stop=stop))
    for capacity in profile.seed002_capacities:
        for consumers in profile.seed002_consumers:
            found.append(Scenario(consumers=consumers, items=profile.seed002_items, capacity=capacity,
                                  **SEED002))
    return found


def alternative(name: str, design) -> bool:
    """Whether a design is one of the registry's alternatives to the seeds' designs (runs at choices only,
    or at brokers for a broker design)."""
    return name in variants.MODULES and design.SEED == "-"


def cells(profile: Profile, designs: list[str] | None = None) -> list[Cell]:
    """Every cell of the profile, design by design, n/a cells included (they are listed, not run).

    An alternative design (see `alternative`) has cells only in the profile's `choices`, a broker design
    only in its `brokers`.
    """
    known = all_designs()
    names = designs if designs is not None else list(known)
    return [Cell(name, scenario, known[name].unsupported(scenario))
            for name in names for scenario in design_scenarios(profile, name, known[name])]


def design_scenarios(profile: Profile, name: str, design) -> list[Scenario]:
    """The profile's scenarios for one design (see `cells`), without importing any other design."""
    grid = _scenarios(profile)
    grid += [scenario for scenario in profile.choices if scenario not in grid]
    if alternative(name, design):
        where = profile.brokers if design.MODEL == "broker" else profile.choices
        grid = [s for s in grid if s in where]
    return [*grid, *(extra for owner, extra in profile.extra if owner == name)]
