"""One scenario's designs measured side by side: worker processes of `bench rounds`, merged into parts/.

`bench all` hands a scenario's cells here when two or more of its designs can share a process. Each worker
process (`python -m bench rounds`, bench/rounds.py) runs every design in rounds and writes a pyperf suite of
one run per design; the runs are added to each cell's part in parts/ (one pyperf benchmark per cell, as
`bench run` writes it) and the sidecar lines to its metrics part, so `--resume`, the merge and the report
read paired and lone cells alike. A design that fails in a worker fails its own cell and leaves the later
processes; a worker that dies without saying which design failed leaves its remaining cells `crashed`, for
the caller to run each alone.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path

from bench.children import run_child
from bench.flags import scenario_flags
from bench.machine import ROOT
from bench.once import deadline_for
from bench.profiles import Cell, Profile, python_tag_flag
from runs.store import part_stem, write_atomic

__all__ = ["run_scenario", "store_scenario", "process_seed", "WORKER_TIMEOUT_FLOOR"]

WORKER_TIMEOUT_FLOOR = 60.0  # seconds any rounds worker gets before it is killed, whatever its size


def process_seed(run_seed: int, scenario: str, index: int) -> int:
    """The seed of the rounds' order in worker `index` of a scenario: from the run's seed, reproducible."""
    return zlib.crc32(f"{run_seed}/{scenario}/{index}".encode())


def _timeout(cells: list[Cell], profile: Profile, deadline: float | None, depth: bool) -> float:
    runs = len(cells) * (profile.warmups + profile.rounds + (1 if depth else 0))
    return WORKER_TIMEOUT_FLOOR + runs * (deadline or deadline_for(cells[0].scenario))


def _read_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _drop(cell: Cell, parts: Path) -> None:
    """Remove a cell's part files: a design that failed in a later worker keeps no figure."""
    stem = part_stem(cell.name)
    for path in (parts / f"{stem}.json", parts / f"{stem}.metrics.jsonl"):
        path.unlink(missing_ok=True)


def _store(cell: Cell, parts: Path, runs: list, lines: list[dict]) -> None:
    """Add workers' runs and sidecar lines to the cell's part files (each replaced atomically)."""
    import pyperf  # the orchestrator only

    stem = part_stem(cell.name)
    part, metrics = parts / f"{stem}.json", parts / f"{stem}.metrics.jsonl"
    bench = pyperf.Benchmark.load(str(part)) if part.exists() else pyperf.Benchmark([runs.pop(0)])
    for run in runs:
        bench.add_run(run)
    tmp = parts / f".{stem}.json.tmp"
    tmp.unlink(missing_ok=True)
    try:
        bench.dump(str(tmp))
        old = metrics.read_text(encoding="utf-8") if metrics.exists() else ""
        write_atomic(metrics, old + "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
        os.replace(tmp, part)
    finally:
        tmp.unlink(missing_ok=True)


def store_scenario(cells: list[Cell], folder: Path, entries: dict[str, dict], staged: dict) -> None:
    """Write what run_scenario staged: ok cells gain their runs and lines, the others lose their parts.

    Call it with interrupts held (bench.children.held_interrupts) together with recording `entries`, so
    that parts/ and run.json always agree.
    """
    parts = folder / "parts"
    for cell in cells:
        if entries[cell.name]["status"] == "ok":
            runs, lines = staged[cell.name]
            if runs:
                _store(cell, parts, list(runs), lines)
        else:
            _drop(cell, parts)


def run_scenario(cells: list[Cell], profile: Profile, folder: Path, log, spin_rate: float,
                 deadline: float | None, processes: int, first: int, run_seed: int,
                 python: str = sys.executable) -> tuple[dict, dict]:
    """Run `processes` rounds workers (numbered from `first`) over `cells`, one scenario: (entries, staged).

    Each entry is {"status", "reason", "processes"} for the processes this call added: "ok", "failed" or
    "timeout" with the design's own reason, or "crashed" when a worker died without naming the design.
    Worker 0 of a scenario first makes every design's instrumented depth run. `staged` holds each cell's
    new pyperf runs and sidecar lines, for store_scenario: nothing is written to parts/ here, so an
    interrupt leaves parts/ as it was. `python` runs the workers (the cells' interpreter).
    """
    import pyperf  # the orchestrator only

    parts = folder / "parts"
    active = list(cells)
    entries = {cell.name: {"status": "ok", "reason": None, "processes": 0} for cell in cells}
    staged: dict[str, tuple[list, list[dict]]] = {cell.name: ([], []) for cell in cells}
    scenario = cells[0].scenario
    for index in range(first, first + processes):
        if not active:
            break
        out, side = parts / f".rounds.{index}.json.tmp", parts / f".rounds.{index}.metrics.tmp"
        try:
            for tmp in (out, side):
                tmp.unlink(missing_ok=True)
            cmd = [python, "-m", "bench", "rounds", ",".join(cell.variant for cell in active),
                   *python_tag_flag(cells[0]),
                   *scenario_flags(scenario), f"--rounds={profile.rounds}", f"--warmups={profile.warmups}",
                   f"--seed={process_seed(run_seed, scenario.name, index)}", f"--output={out}",
                   f"--metrics={side}", f"--spin-rate={spin_rate}"]
            if deadline:
                cmd.append(f"--deadline={deadline}")
            if profile.round_budget_s:
                cmd.append(f"--budget={profile.round_budget_s}")
            if index == 0:
                cmd.append("--depth")
            log.write(f"\n=== {' '.join(cell.name for cell in active)} (rounds worker {index})\n"
                      f"$ {' '.join(cmd)}\n")
            log.flush()
            returncode, output = run_child(cmd, _timeout(active, profile, deadline, index == 0), ROOT)
            log.write(output)
            log.flush()
            lines = _read_lines(side)
            runs = {}
            if out.exists():
                runs = {bench.get_name(): bench.get_runs()[0]
                        for bench in pyperf.BenchmarkSuite.load(str(out)).get_benchmarks()}
        finally:
            for tmp in (out, side):
                tmp.unlink(missing_ok=True)
        failures = {line["benchmark"]: line for line in lines if line.get("status", "ok") != "ok"}
        for cell in list(active):
            if cell.name in failures:
                line = failures[cell.name]
                entries[cell.name] = {"status": line["status"], "reason": line.get("reason"), "processes": 0}
                active.remove(cell)
            elif cell.name in runs:
                staged[cell.name][0].append(runs[cell.name])
                staged[cell.name][1].extend(line for line in lines if line["benchmark"] == cell.name)
                entries[cell.name]["processes"] += 1
            else:
                why = ("it stopped after another design's timeout" if failures else
                       "killed at its time limit" if returncode is None else f"exit status {returncode}")
                entries[cell.name] = {"status": "crashed", "processes": 0,
                                      "reason": f"its rounds worker gave no value ({why})"}
                active.remove(cell)
    return entries, staged
