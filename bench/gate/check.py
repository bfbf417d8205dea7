"""`python -m bench check --base REF`: did a change make a design slower? Both sides measured in one job.

The sides (sides.py) each run their own code; the rounds (rounds.py) measure every benchmark of the profile
N times, a fresh worker process per side back to back. The verdict is stats.decide on the median of the
rounds' ratios and their sign-test interval (bench/gate/stats.py), at a level corrected for the number of
benchmarks and for the looks (rounds.looks). A benchmark still undecided after N rounds gets
rounds.EXTRA_ROUNDS more at a time, up to --max-rounds, and keeps the verdict it has then. A benchmark
flagged as slower is re-measured once in N fresh rounds (extended the same way) and stays flagged only if it
is flagged again. The report is a dict; bench/gate/table.py turns it into text, markdown or JSON.

Exit status (stats.exit_status): 0 every benchmark decided and none slower; 1 a benchmark slower, or
failed, or (unless --allow-missing) present on one side only; 2 bad input (UsageError, raised before any
verdict: an unknown ref, a design to inject that no compared benchmark runs, a worker that ran another
commit than its side's); 3 nothing failed but a benchmark stayed undecided.

Worktrees, temporary files and worker processes are removed on every exit, Ctrl-C included.
"""

from __future__ import annotations

import os
import random
import sys
import time

from bench.children import interruptible
from bench.gate import stats
from bench.gate.options import CheckOptions, compile_only
from bench.gate.rounds import EXTRA_ROUNDS, Measure, looks, measure_rounds, settle, verdict_row
from bench.gate.sides import Side, Sides, designs_of, flags_of, repository, side_command
from bench.interpreters import cells_under
from bench.machine import load_average
from bench.profiles import Cell
from runs.errors import UsageError

__all__ = ["run_check"]


def _inject_target(options: CheckOptions, sides: dict[str, Side], chosen: list[Cell]) -> None:
    """UsageError when --inject-slowdown names a design no compared benchmark runs (nothing injected)."""
    if not options.inject or any(cell.variant == options.inject[0] for cell in chosen):
        return
    variant = options.inject[0]
    for label in ("head", "base"):
        if variant not in sides[label].designs:
            raise UsageError(f"--inject-slowdown {variant}: {sides[label].describe()} has no design "
                             f"{variant}; nothing would be injected")
    raise UsageError(f"--inject-slowdown {variant}: no compared benchmark runs that design")


def run_check(options: CheckOptions) -> dict:
    """Measure both sides round by round, settle undecided benchmarks, re-measure flagged ones; the report.

    The report (see table.py) has "exit_status" from stats.exit_status: 1 when a benchmark was
    slower (confirmed), failed on either side, or is on one side only (unless options.allow_missing); else
    3 when one stayed undecided; else 0. Bad input raises UsageError.
    """
    from tqdm import tqdm  # the check's process only

    from variants import workload

    pattern = compile_only(options.only)
    chosen = [cell for cell in cells_under(options.profile, list(options.pythons))
              if not cell.unsupported and (pattern is None or pattern.search(cell.name))]
    if not chosen:
        raise UsageError(f"--only {options.only!r} matches no benchmark of profile {options.profile.name}")
    if options.inject and not any(cell.variant == options.inject[0] for cell in chosen):
        raise UsageError(f"--inject-slowdown {options.inject[0]}: no chosen benchmark runs that design")
    if options.max_rounds < options.rounds:
        raise UsageError(f"--max-rounds {options.max_rounds} is below --rounds {options.rounds}")
    looked = looks(options.rounds, options.max_rounds)
    level = stats.family_level(len(chosen), looks=looked)
    need = stats.min_rounds(level)
    if options.rounds < need:
        raise UsageError(f"--rounds {options.rounds} cannot decide {len(chosen)} benchmarks at level "
                         f"{level:.4f} ({stats.ALPHA * 100:g}% over {len(chosen)} benchmarks and "
                         f"{looked} looks, --max-rounds {options.max_rounds}): the sign test needs at least "
                         f"{need} rounds")
    repo = repository(options.repo)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    started, load_start = time.monotonic(), load_average()
    holder = Sides(repo)
    with interruptible():  # Ctrl-C and SIGTERM end the check; worktrees go either way
        try:
            sides = {"base": holder.side("base", options.base), "head": holder.side("head", options.head)}
            for side in sides.values():
                side.flags, side.designs = flags_of(side, env), designs_of(side, env)
            missing = [cell.name for cell in chosen if cell.variant not in sides["head"].designs]
            new = [cell.name for cell in chosen if cell.variant not in sides["base"].designs]
            chosen = [cell for cell in chosen if cell.name not in missing and cell.name not in new]
            _inject_target(options, sides, chosen)
            if not chosen:
                raise UsageError("no benchmark left that both sides can run (designs missing on one side)")
            level = stats.family_level(len(chosen), looks=looked)
            if options.inject and "--inject-slowdown" not in sides["head"].flags:
                raise UsageError(f"{sides['head'].describe()}: its `bench run` has no --inject-slowdown")
            for cell in chosen:  # flags every side needs, checked before anything runs
                for side in sides.values():
                    side_command(side, cell, options.profile, holder.tmp / "x.json", 1.0, options.inject,
                                 python=options.python(cell))
            spin_rate = workload.spins_per_second()  # one cpu-work rate for both sides, as bench all does
            rng = random.Random(options.seed)
            measures = [Measure(cell) for cell in chosen]
            whole: set[tuple[str, str]] = set()  # depth run done: see rounds.measure_rounds
            steps = (sides, options, env, spin_rate, rng, holder.tmp)
            with tqdm(total=options.rounds * len(chosen), unit="pair", file=sys.stderr, mininterval=1.0,
                      desc="check: worker pairs") as progress:
                measure_rounds(measures, *steps, progress, whole)
                settle(measures, *steps, progress, whole, level)
                rows = [verdict_row(measure, level, options.threshold) for measure in measures]
                flagged = [measure for measure, row in zip(measures, rows, strict=True)
                           if row["verdict"] == "slower"]
                again = [Measure(measure.cell) for measure in flagged]
                progress.total += options.rounds * len(again)
                progress.refresh()
                measure_rounds(again, *steps, progress, whole)
                settle(again, *steps, progress, whole, level)
            for measure in again:
                row = next(row for row in rows if row["benchmark"] == measure.cell.name)
                second = verdict_row(measure, level, options.threshold)
                row["first"] = {key: row[key] for key in ("ratio", "low", "high", "verdict", "round_ratios",
                                                           "orders", "base_s", "head_s", "rounds")}
                for key in ("ratio", "low", "high", "round_ratios", "orders", "base_s", "head_s", "failure",
                            "rounds"):
                    row[key] = second[key]
                row["wall_s"] += second["wall_s"]
                row["verdict"] = second["verdict"] if second["verdict"] in ("slower", "failed", "undecided") \
                    else "not confirmed"
        finally:
            holder.close()
    verdicts = [row["verdict"] for row in rows]
    unaccepted = 0 if options.allow_missing else len(missing) + len(new)
    return {
        "format": 1, "mode": "rounds", "profile": options.profile.name, "only": options.only,
        "base": sides["base"].as_report(), "head": sides["head"].as_report(),
        "rounds": options.rounds, "max_rounds": options.max_rounds, "extra_rounds": EXTRA_ROUNDS,
        "looks": looked, "seed": options.seed, "threshold": options.threshold,
        "alpha": stats.ALPHA, "level": level, "min_rounds": stats.min_rounds(level),
        "interval": "sign test over rounds",
        "injected": None if options.inject is None else
        {"variant": options.inject[0], "factor": options.inject[1]},
        "spin_rate": spin_rate, "values_per_worker": options.profile.values,
        "warmups_per_worker": options.profile.warmups, "load_start": load_start,
        "load_end": load_average(), "wall_s": round(time.monotonic() - started, 1),
        "benchmarks": rows, "failed": [], "missing": missing, "new": new,
        "allow_missing": options.allow_missing, "drift_warning": None,
        "exit_status": stats.exit_status(verdicts, 0, unaccepted),
    }



