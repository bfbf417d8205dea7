"""`python -m bench fidelity`: does the harness add to what it measures?

For every design at 1:1, work none (unbounded, or the design's only capacity), two figures side by side in
one run, interleaved round by round so that both see the same machine noise:
  suite  the median seconds per item that `python -m bench run` stores (pyperf workers, the watchdog
         thread, verification and the metrics sidecar around every run);
  hand   the median seconds per item of a plain loop in a bare subprocess that calls the design's run()
         back to back and reads its Outcome.elapsed: no pyperf, no watchdog, no verification.
Both read the design's own clock around its timed region, so the ratio suite/hand shows what the harness
does to that region (it should be within 1.10). The ratio is reported per round and as a median.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.designs import all_designs
from bench.flags import scenario_flags
from bench.machine import ROOT
from variants.contract import Scenario

__all__ = ["measure_fidelity", "LIMIT"]

LIMIT = 1.10  # suite / hand above this means the harness adds to the timed region

_HAND = """
import json, statistics, sys
from bench.designs import get_design
from variants.contract import Scenario
design, scenario = get_design(sys.argv[1]), Scenario(**json.loads(sys.argv[2]))
warmups, runs = int(sys.argv[3]), int(sys.argv[4])
values = [design.run(scenario).elapsed / scenario.items for _ in range(warmups + runs)][warmups:]
print(json.dumps(statistics.median(values)))
"""


def _scenario(design) -> Scenario:
    scenario = Scenario(1, 1, 20_000)
    return scenario if design.unsupported(scenario) is None else Scenario(1, 1, 2_000, capacity=1)


def _suite(name: str, scenario: Scenario, processes: int, values: int, folder: Path) -> float:
    import pyperf  # the orchestrating process only

    out = folder / f"{name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench", "run", name, *scenario_flags(scenario), f"--processes={processes}",
           f"--values={values}", "--warmups=1", "--loops=1", "--quiet", f"--output={out}"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return pyperf.Benchmark.load(str(out)).median()


def _hand(name: str, scenario: Scenario, runs: int) -> float:
    spec = {"producers": scenario.producers, "consumers": scenario.consumers, "items": scenario.items,
            "capacity": scenario.capacity}
    cmd = [sys.executable, "-c", _HAND, name, json.dumps(spec), "1", str(runs)]
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=600)
    return float(done.stdout)


def measure_fidelity(rounds: int = 3, processes: int = 2, values: int = 3) -> list[dict]:
    """Measure suite and hand figures for every design, `rounds` times interleaved; one row per design."""
    rows = []
    designs = all_designs()
    with tempfile.TemporaryDirectory() as tmp:
        for name, design in designs.items():
            scenario = _scenario(design)
            ratios, suites, hands = [], [], []
            for _ in range(rounds):
                suite = _suite(name, scenario, processes, values, Path(tmp))
                hand = _hand(name, scenario, processes * values)
                suites.append(suite)
                hands.append(hand)
                ratios.append(suite / hand)
            rows.append({"benchmark": f"{name}/{scenario.name}", "items": scenario.items,
                         "suite_s": statistics.median(suites), "hand_s": statistics.median(hands),
                         "ratio": statistics.median(ratios),
                         "ratio_min": min(ratios), "ratio_max": max(ratios)})
    return rows


def format_fidelity(rows: list[dict]) -> list[str]:
    """The table of measure_fidelity's rows, as lines."""
    width = max(len(row["benchmark"]) for row in rows)
    lines = [f"{'benchmark':<{width}}  {'items':>6}  {'suite':>10}  {'hand':>10}  {'ratio':>6}  range"]
    for row in rows:
        flag = "" if row["ratio"] <= LIMIT else f"  > {LIMIT}"
        lines.append(f"{row['benchmark']:<{width}}  {row['items']:>6}  {row['suite_s'] * 1e6:>7.3f} us  "
                     f"{row['hand_s'] * 1e6:>7.3f} us  {row['ratio']:>6.3f}  "
                     f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}{flag}")
    return lines
