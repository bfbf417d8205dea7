"""The rounds of `bench check --base`: worker processes of both sides, back to back, and a row per benchmark.

For every benchmark, N rounds; a round runs one fresh worker process per side, back to back in random order
(seeded; the seed and every round's order are in the JSON output). A benchmark's first round runs each side
as a whole `bench run --processes=1`, whose pyperf parent makes the instrumented depth run (a design that
overfills its buffer fails there) and spawns the worker; later rounds start the worker alone (`--worker`, in
the environment the parent would give it): the parent measures nothing the gate uses and would double a
round's cost. A worker gives the median of its few values; a round gives head / base (stats.round_ratio).
A benchmark still undecided gets EXTRA_ROUNDS more at a time (settle), up to its options' max_rounds.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import run_child
from bench.gate import stats
from bench.gate.options import CheckOptions
from bench.gate.sides import Side, check_commit, side_command, worker_environ
from bench.once import deadline_for
from bench.profiles import Cell, Profile

__all__ = ["Measure", "EXTRA_ROUNDS", "looks", "run_worker", "measure_rounds", "settle", "verdict_row"]

EXTRA_ROUNDS = 10  # rounds added at a time to an undecided benchmark; each addition is one more look
WORKER_TIMEOUT_FLOOR = 60.0  # seconds any worker subprocess gets, whatever its scenario


@dataclass
class Measure:
    """Everything measured for one benchmark: rounds of both sides, or why it failed."""

    cell: Cell
    rounds: list[dict] = field(default_factory=list)  # {"order", "base", "head"}: values per worker
    failure: dict | None = None  # {"side", "status", "reason"}
    seconds: float = 0.0  # wall time its workers took


def looks(rounds: int, max_rounds: int) -> int:
    """How many times a benchmark's interval may be computed: after `rounds`, then after each EXTRA_ROUNDS
    more (the last addition perhaps shorter) until `max_rounds`."""
    return 1 + max(0, -(-(max_rounds - rounds) // EXTRA_ROUNDS))


def run_worker(side: Side, cell: Cell, cmd: list[str], output: Path, env: dict,
               timeout: float) -> tuple[list[float] | None, dict]:
    """Run one worker command; (values, metadata) when it finished, (None, {"status", "reason"}) if not."""
    import pyperf  # the check's process only

    output.unlink(missing_ok=True)
    returncode, text = run_child(cmd, timeout, side.root, env)  # an interrupt kills the worker's tree
    if returncode is None:
        return None, {"status": "timeout", "reason": f"worker killed after {timeout:.0f} s"}
    if returncode != 0 or not output.exists():
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        ours = [line for line in lines if line.startswith("prodcon: ")]
        reason = (ours or lines or [f"exit status {returncode}"])[-1]
        return None, {"status": "failed", "reason": reason[:300]}
    bench = pyperf.Benchmark.load(str(output))
    return list(bench.get_values()), dict(bench.get_metadata())


def _worker_timeout(cell: Cell, profile: Profile) -> float:
    return WORKER_TIMEOUT_FLOOR + (profile.warmups + profile.values) * deadline_for(cell.scenario)


def measure_rounds(measures: list[Measure], sides: dict[str, Side], options: CheckOptions, env: dict,
                    spin_rate: float, rng: random.Random, tmp: Path, progress, whole: set[tuple[str, str]],
                    count: int | None = None) -> None:
    """Run `count` (default options.rounds) rounds of every benchmark in `measures` that has not failed.

    The rounds are appended to each Measure. `whole` holds the (benchmark, side) pairs already run once as a
    whole `bench run` (parent with its depth run, and worker); a pair's first run is one, and joins `whole`
    when it succeeds; every later run is pyperf's worker alone (side_command's worker=True, in
    worker_environ's environment). Every result's commit is checked against its side's (check_commit).
    """
    alone_env = worker_environ(env)
    for _ in range(options.rounds if count is None else count):
        for measure in measures:
            if measure.failure:
                continue
            order = ("base", "head") if rng.random() < 0.5 else ("head", "base")
            found = {"order": "".join(label[0].upper() for label in order)}
            for label in order:
                side = sides[label]
                output = tmp / f"{label}.json"
                alone = (measure.cell.name, label) in whole
                cmd = side_command(side, measure.cell, options.profile, output, spin_rate, options.inject,
                                   worker=alone, python=options.python(measure.cell))
                began = time.monotonic()
                values, meta = run_worker(side, measure.cell, cmd, output, alone_env if alone else env,
                                          _worker_timeout(measure.cell, options.profile))
                measure.seconds += time.monotonic() - began
                if values is None:
                    measure.failure = {"side": label, **meta}
                    break
                whole.add((measure.cell.name, label))
                check_commit(side, meta)
                found[label] = values
            else:
                measure.rounds.append(found)
            progress.update(1)


def settle(measures: list[Measure], sides: dict[str, Side], options: CheckOptions, env: dict,
            spin_rate: float, rng: random.Random, tmp: Path, progress, whole: set[tuple[str, str]],
            level: float) -> None:
    """Add rounds, EXTRA_ROUNDS at a time, to every benchmark of `measures` still undecided, until it is
    decided or has options.max_rounds rounds (as many looks as looks() counts)."""
    while True:
        pending = [measure for measure in measures if not measure.failure
                   and len(measure.rounds) < options.max_rounds
                   and verdict_row(measure, level, options.threshold)["verdict"] == "undecided"]
        if not pending:
            return
        count = min(EXTRA_ROUNDS, options.max_rounds - max(len(measure.rounds) for measure in pending))
        progress.total += count * len(pending)
        progress.refresh()
        measure_rounds(pending, sides, options, env, spin_rate, rng, tmp, progress, whole, count)


def verdict_row(measure: Measure, level: float, threshold: float) -> dict:
    """A benchmark's row: medians per side, per-round ratios, ratio, interval and verdict."""
    ratios = [stats.round_ratio(r["base"], r["head"]) for r in measure.rounds]
    medians = {label: [statistics.median(r[label]) for r in measure.rounds] for label in ("base", "head")}
    row = {"benchmark": measure.cell.name, "variant": measure.cell.variant, "rounds": len(ratios),
           "wall_s": round(measure.seconds, 1),
           "failure": measure.failure, "round_ratios": ratios, "orders": [r["order"] for r in measure.rounds],
           "base_s": statistics.median(medians["base"]) if ratios else None,
           "head_s": statistics.median(medians["head"]) if ratios else None}
    if measure.failure or not ratios:
        row.update(ratio=None, low=None, high=None, verdict="failed")
        return row
    ratio = statistics.median(ratios)
    verdict = stats.decide(ratio, stats.sign_interval(ratios, level), threshold)
    row.update(ratio=verdict.ratio, low=verdict.low, high=verdict.high, verdict=verdict.status)
    return row
