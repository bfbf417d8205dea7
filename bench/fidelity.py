"""`python -m bench fidelity`: does the harness add to what it measures?

For every design at 1:1, work none (unbounded, or the design's only capacity), two figures side by side in
one run, interleaved round by round so that both see the same machine noise:
  suite  the median seconds per item that `python -m bench run` stores (pyperf workers, the watchdog
         thread, verification and the metrics sidecar around every run);
  hand   the median seconds per item of a plain loop in a bare subprocess that calls the design's run()
         back to back and reads its Outcome.elapsed: no pyperf, no watchdog, no verification.
Both read the design's own clock around its timed region and have the same shape (fresh processes, the
same warm-ups; many processes, because one process here can run 1.5x slower than the next throughout), so
the ratio suite/hand shows what the harness does to that region (it should be within 1.10). Each process
gives one figure, the median of its values (the process is the unit of repetition: a process's values are
not independent of each other); the ratio is of the medians of those figures over all rounds, with a
bootstrap 95% interval over processes. On this noisy machine a ratio above the limit is called `over` only
when the whole interval is above it, else `unclear`.

`bench fidelity --brokers` checks the broker designs themselves, not the harness: at 1:1, flat, unbounded
(no permits), two figures interleaved the same way:
  design  the hand figure above (the design's own run() in a bare subprocess);
  loop    the median seconds per item of a plain hand loop in a bare subprocess doing the same broker
          commands with the same batches and bytes, and none of the design's machinery
          (bench/broker_loops.py).
A ratio design/loop above LIMIT means the design adds to its broker's own cost (permits, extra round trips,
pickling twice, a slow hand-off between its client and its consumer loop).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.designs import all_designs
from bench.flags import scenario_flags
from bench.machine import ROOT
from runs.stats import ratio_interval
from variants.contract import Scenario

__all__ = ["measure_fidelity", "measure_broker_fidelity", "measure_stamp_cost", "format_fidelity",
           "format_stamp_cost", "paced_gaps", "LIMIT"]

LIMIT = 1.10  # suite / hand above this means the harness adds to the timed region

_HAND = """
import json, sys
from bench.designs import get_design
from variants import workload
from variants.contract import Scenario
workload.set_timer_slack()  # as every suite worker does
design, scenario = get_design(sys.argv[1]), Scenario(**json.loads(sys.argv[2]))
warmups, runs = int(sys.argv[3]), int(sys.argv[4])
workload.force_stamps(sys.argv[5] == "stamped")  # only `bench fidelity --stamps` asks for this
values = [design.run(scenario).elapsed / scenario.items for _ in range(warmups + runs)][warmups:]
print(json.dumps(values))
"""

_LOOP = """
import json, sys
from bench.broker_loops import LOOPS
from variants import workload
workload.set_timer_slack()  # as every suite worker does
loop, items = LOOPS[sys.argv[1]], int(sys.argv[2])
warmups, runs = int(sys.argv[3]), int(sys.argv[4])
print(json.dumps([loop(items) for _ in range(warmups + runs)][warmups:]))
"""


def _scenario(design) -> Scenario:
    scenario = Scenario(1, 1, 20_000)
    return scenario if design.unsupported(scenario) is None else Scenario(1, 1, 2_000, capacity=1)


WARMUPS = 3  # per process, both sides: a fresh process runs its first few scenarios slower here


def _suite(name: str, scenario: Scenario, processes: int, values: int, folder: Path) -> list[float]:
    import pyperf  # the orchestrating process only

    out = folder / f"{name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench", "run", name, *scenario_flags(scenario), f"--processes={processes}",
           f"--values={values}", f"--warmups={WARMUPS}", "--loops=1", "--quiet", f"--output={out}"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return [statistics.median(run.values) for run in pyperf.Benchmark.load(str(out)).get_runs() if run.values]


def _bare(script: str, args: list[str], processes: int) -> list[float]:
    """`processes` fresh bare processes, one after the other, each running `script` with `args` and printing
    its values as a JSON list; one median per process."""
    found: list[float] = []
    for _ in range(processes):
        cmd = [sys.executable, "-c", script, *args]
        done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=600)
        found.append(statistics.median(json.loads(done.stdout)))
    return found


def _hand(name: str, scenario: Scenario, processes: int, values: int, stamped: bool = False) -> list[float]:
    """The same shape as the suite's: `processes` fresh processes, each WARMUPS warm-ups and `values` runs;
    one median per process.

    `stamped` forces per-item stamps on, as paced runs have them (workload.force_stamps)."""
    spec = {"producers": scenario.producers, "consumers": scenario.consumers, "items": scenario.items,
            "capacity": scenario.capacity}
    stamps = "stamped" if stamped else "plain"
    return _bare(_HAND, [name, json.dumps(spec), str(WARMUPS), str(values), stamps], processes)


def _loop(name: str, scenario: Scenario, processes: int, values: int) -> list[float]:
    """The design's hand loop (bench/broker_loops.py) in _hand's shape: `processes` fresh processes, each
    WARMUPS warm-ups and `values` runs of `scenario.items` items; one median per process."""
    return _bare(_LOOP, [name, str(scenario.items), str(WARMUPS), str(values)], processes)


def verdict(row: dict) -> str:
    """'ok' (ratio within LIMIT), 'over' (the whole 95% interval above LIMIT) or 'unclear' (noise)."""
    if row["ratio"] <= LIMIT:
        return "ok"
    return "over" if row["ci_low"] > LIMIT else "unclear"


def _interleaved(names: list[str] | None, rounds: int, first, second, scenario_of: Callable = _scenario):
    """For each design: (name, scenario, first's values, second's values, interval low, high).

    `first` and `second` map (name, scenario) to a list of seconds per item; they are measured in turn,
    round by round, so both see the same machine noise; the interval is ratio_interval's of their medians.
    `scenario_of(design)` is the scenario both measure.
    """
    designs = all_designs()
    for name in names or list(designs):
        scenario = scenario_of(designs[name])
        a, b = [], []
        for _ in range(rounds):
            a += first(name, scenario)
            b += second(name, scenario)
        yield (name, scenario, a, b, *ratio_interval(a, b))


def measure_fidelity(rounds: int = 4, processes: int = 6, values: int = 3,
                     names: list[str] | None = None) -> list[dict]:
    """Measure suite and hand figures for every design, `rounds` times interleaved; one row per design.

    `ratio` is the median of the suite's per-process medians over the hand's, with its bootstrap 95%
    interval over processes (`ci_low`, `ci_high`); `processes` is how many each side had.
    """
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, scenario, suites, hands, low, high in _interleaved(
                names, rounds, lambda n, s: _suite(n, s, processes, values, Path(tmp)),
                lambda n, s: _hand(n, s, processes, values)):
            suite_s, hand_s = statistics.median(suites), statistics.median(hands)
            rows.append({"benchmark": f"{name}/{scenario.name}", "items": scenario.items,
                         "suite_s": suite_s, "hand_s": hand_s, "ratio": suite_s / hand_s,
                         "ci_low": low, "ci_high": high, "processes": len(suites)})
    return rows


def broker_scenario(items: int = 20_000) -> Scenario:
    """What `--brokers` measures: 1:1, flat, no work, unbounded (so a design's permits are off)."""
    return Scenario(1, 1, items)


def measure_broker_fidelity(rounds: int = 4, processes: int = 6, values: int = 3,
                            names: list[str] | None = None, items: int = 20_000) -> list[dict]:
    """Measure each broker design's run() against its hand loop (bench/broker_loops.py), `rounds` times
    interleaved, at broker_scenario(items); one row per design (default: every design with a hand loop).

    `ratio` is the median of the design's per-process medians over the loop's, with its bootstrap 95%
    interval over processes (`ci_low`, `ci_high`); `processes` is how many each side had.
    """
    from bench.broker_loops import LOOPS

    missing = [name for name in names or () if name not in LOOPS]
    if missing:
        raise ValueError(f"no hand loop for {', '.join(missing)}; loops: {', '.join(LOOPS)}")
    rows = []
    for name, scenario, designs, loops, low, high in _interleaved(
            names or list(LOOPS), rounds, lambda n, s: _hand(n, s, processes, values),
            lambda n, s: _loop(n, s, processes, values), scenario_of=lambda _: broker_scenario(items)):
        design_s, loop_s = statistics.median(designs), statistics.median(loops)
        rows.append({"benchmark": f"{name}/{scenario.name}", "items": scenario.items, "design_s": design_s,
                     "loop_s": loop_s, "ratio": design_s / loop_s, "ci_low": low, "ci_high": high,
                     "processes": len(designs)})
    return rows


def measure_stamp_cost(rounds: int = 4, processes: int = 6, values: int = 3,
                       names: list[str] | None = None) -> list[dict]:
    """What per-item stamps cost each design: the 1:1 flat scenario with stamps forced on against off.

    Both sides are plain hand loops in bare processes, interleaved round by round. `ratio` is the median
    stamped over the median plain (of per-process medians), with its bootstrap 95% interval over processes;
    `cost_s` the difference per item,
    the price a paced run pays beside every hand-off. A stamped flat run goes through the paced loops
    with every item due at once, so the cost includes their due-time check: an upper bound.
    """
    rows = []
    for name, scenario, stamped, plain, low, high in _interleaved(
            names, rounds, lambda n, s: _hand(n, s, processes, values, stamped=True),
            lambda n, s: _hand(n, s, processes, values)):
        stamped_s, plain_s = statistics.median(stamped), statistics.median(plain)
        rows.append({"benchmark": f"{name}/{scenario.name}", "items": scenario.items, "stamped_s": stamped_s,
                     "plain_s": plain_s, "ratio": stamped_s / plain_s, "ci_low": low, "ci_high": high,
                     "cost_s": stamped_s - plain_s, "processes": len(stamped)})
    return rows


def paced_gaps(profile: str) -> tuple[float, float] | None:
    """The smallest mean gaps of a profile's paced cells, in seconds: between one producer's items (P/RATE)
    and between any two items (1/RATE: what designs whose workers share one GIL have per item); None if
    the profile has no paced cell. Within a burst items are due together: its mean gap is the average."""
    from bench.profiles import cells, get_profile
    from variants.workload import parse_arrival

    paced = {(cell.scenario.producers, parse_arrival(cell.scenario.arrival).rate)
             for cell in cells(get_profile(profile))}
    paced = {(producers, rate) for producers, rate in paced if rate}
    if not paced:
        return None
    return min(producers / rate for producers, rate in paced), min(1 / rate for _, rate in paced)


def format_stamp_cost(rows: list[dict]) -> list[str]:
    """The table of measure_stamp_cost's rows, as lines, then the gaps to read the costs against."""
    width = max(len(row["benchmark"]) for row in rows)
    lines = [f"{'benchmark':<{width}}  {'items':>6}  {'stamped':>10}  {'plain':>10}  {'ratio':>6}  "
             f"{'95% interval':<12}  {'cost/item':>9}"]
    for row in rows:
        lines.append(f"{row['benchmark']:<{width}}  {row['items']:>6}  {row['stamped_s'] * 1e6:>7.3f} us  "
                     f"{row['plain_s'] * 1e6:>7.3f} us  {row['ratio']:>6.3f}  "
                     f"{row['ci_low']:.2f}-{row['ci_high']:.2f}     {row['cost_s'] * 1e6:>6.3f} us")
    gaps = {name: paced_gaps(name) for name in ("smoke", "quick", "full")}
    lines.append("paced cells' smallest mean gap, per producer (P/RATE) / between any two items (1/RATE):")
    lines.append("  " + ", ".join(f"{name} {gap[0] * 1e6:.3g} / {gap[1] * 1e6:.3g} us"
                                  for name, gap in gaps.items() if gap))
    return lines


def format_fidelity(rows: list[dict], sides: tuple[str, str] = ("suite", "hand")) -> list[str]:
    """The table of measure_fidelity's rows, as lines; `sides` ("design", "loop") for
    measure_broker_fidelity's."""
    top, bottom = sides
    width = max(len(row["benchmark"]) for row in rows)
    lines = [f"{'benchmark':<{width}}  {'items':>6}  {top:>10}  {bottom:>10}  {'ratio':>6}  "
             f"{'95% interval':<12}  verdict"]
    for row in rows:
        lines.append(f"{row['benchmark']:<{width}}  {row['items']:>6}  {row[top + '_s'] * 1e6:>7.3f} us  "
                     f"{row[bottom + '_s'] * 1e6:>7.3f} us  {row['ratio']:>6.3f}  "
                     f"{row['ci_low']:.2f}-{row['ci_high']:.2f}     {verdict(row)}")
    return lines
