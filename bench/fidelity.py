"""`python -m bench fidelity`: does the harness add to what it measures?

For every design at 1:1, work none (unbounded, or the design's only capacity), two figures side by side in
one run, interleaved round by round so that both see the same machine noise:
  suite  the median seconds per item that `python -m bench run` stores (pyperf workers, the watchdog
         thread, verification and the metrics sidecar around every run);
  hand   the median seconds per item of a plain loop in a bare subprocess that calls the design's run()
         back to back and reads its Outcome.elapsed: no pyperf, no watchdog, no verification.
Both read the design's own clock around its timed region and have the same shape (fresh processes, one
warm-up each), so the ratio suite/hand shows what the harness does to that region (it should be within
1.10). The ratio is of the medians over all rounds; the range is that of the per-round ratios.
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
import json, sys
from bench.designs import get_design
from variants.contract import Scenario
design, scenario = get_design(sys.argv[1]), Scenario(**json.loads(sys.argv[2]))
warmups, runs = int(sys.argv[3]), int(sys.argv[4])
values = [design.run(scenario).elapsed / scenario.items for _ in range(warmups + runs)][warmups:]
print(json.dumps(values))
"""


def _scenario(design) -> Scenario:
    scenario = Scenario(1, 1, 20_000)
    return scenario if design.unsupported(scenario) is None else Scenario(1, 1, 2_000, capacity=1)


def _suite(name: str, scenario: Scenario, processes: int, values: int, folder: Path) -> list[float]:
    import pyperf  # the orchestrating process only

    out = folder / f"{name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench", "run", name, *scenario_flags(scenario), f"--processes={processes}",
           f"--values={values}", "--warmups=1", "--loops=1", "--quiet", f"--output={out}"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return list(pyperf.Benchmark.load(str(out)).get_values())


def _hand(name: str, scenario: Scenario, processes: int, values: int) -> list[float]:
    """The same shape as the suite's: `processes` fresh processes, each 1 warm-up and `values` runs."""
    spec = {"producers": scenario.producers, "consumers": scenario.consumers, "items": scenario.items,
            "capacity": scenario.capacity}
    found: list[float] = []
    for _ in range(processes):
        cmd = [sys.executable, "-c", _HAND, name, json.dumps(spec), "1", str(values)]
        done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=600)
        found.extend(json.loads(done.stdout))
    return found


def measure_fidelity(rounds: int = 5, processes: int = 2, values: int = 5,
                     names: list[str] | None = None) -> list[dict]:
    """Measure suite and hand figures for every design, `rounds` times interleaved; one row per design.

    `ratio` is the median of all suite values over the median of all hand values; `ratio_min` and
    `ratio_max` are the lowest and highest of the per-round ratios of medians (the spread).
    """
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        designs = all_designs()
        for name in names or list(designs):
            design = designs[name]
            scenario = _scenario(design)
            suites, hands, ratios = [], [], []
            for _ in range(rounds):
                suite = _suite(name, scenario, processes, values, Path(tmp))
                hand = _hand(name, scenario, processes, values)
                suites += suite
                hands += hand
                ratios.append(statistics.median(suite) / statistics.median(hand))
            suite_s, hand_s = statistics.median(suites), statistics.median(hands)
            rows.append({"benchmark": f"{name}/{scenario.name}", "items": scenario.items,
                         "suite_s": suite_s, "hand_s": hand_s, "ratio": suite_s / hand_s,
                         "ratio_min": min(ratios), "ratio_max": max(ratios), "values": len(suites)})
    return rows


def format_fidelity(rows: list[dict]) -> list[str]:
    """The table of measure_fidelity's rows, as lines."""
    width = max(len(row["benchmark"]) for row in rows)
    lines = [f"{'benchmark':<{width}}  {'items':>6}  {'suite':>10}  {'hand':>10}  {'ratio':>6}  round range"]
    for row in rows:
        flag = "" if row["ratio"] <= LIMIT else f"  > {LIMIT}"
        lines.append(f"{row['benchmark']:<{width}}  {row['items']:>6}  {row['suite_s'] * 1e6:>7.3f} us  "
                     f"{row['hand_s'] * 1e6:>7.3f} us  {row['ratio']:>6.3f}  "
                     f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}{flag}")
    return lines
