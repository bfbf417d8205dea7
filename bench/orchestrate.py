"""The matrix runner of `python -m bench all` (bench/commands/all.py): a profile's matrix, in subprocesses.

Each benchmark runs as `python -m bench run DESIGN <scenario flags> <profile's pyperf flags> -o TMP`
in its own session (so Ctrl-C and timeouts can stop its whole process tree). pyperf's output goes to
pyperf.log in the run folder; the terminal gets one progress bar. A finished benchmark's files are renamed
into parts/ (atomic), run.json is rewritten after every benchmark (with its status, processes and wall
seconds), and suite.json is merged from the parts at the end, or when the run is interrupted.
`--resume DIR` skips the benchmarks already in parts/.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.children import held_interrupts, interruptible, run_child
from bench.designs import all_designs
from bench.flags import scenario_flags
from bench.interpreters import cells_under, prepare_all
from bench.machine import ROOT, git_commit, load_average, machine_metadata
from bench.once import deadline_for
from bench.profiles import Cell, Profile, get_profile, python_tag_flag
from bench.scenario_run import run_scenario, store_scenario
from runs.errors import UsageError
from runs.stats import spread_ratio
from runs.store import RUN_FORMAT, merge_parts, part_stem, read_run, write_json
from variants import workload

__all__ = ["run_all", "run_cell", "in_run_order", "by_scenario", "process_spread", "RESULTS",
           "ALONE_NO_RIVAL"]

RESULTS = ROOT / "results"
Settle = Callable[[list[dict]], float]  # a scenario's sidecar lines -> its widest standing interval (+-)
BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}"  # the progress bar's layout
ALONE_NO_RIVAL = "no other design of its scenario in this run"  # run.json's `alone` of such a cell
ALONE_ASKED = "bench all --alone"
CELL_TIMEOUT_FLOOR = 60.0  # seconds any benchmark subprocess gets before it is killed, whatever its size


def _cell_timeout(cell: Cell, profile: Profile, deadline: float | None, processes: int) -> float:
    """Backstop for one benchmark subprocess: every run hitting its watchdog deadline, plus start-up."""
    runs = processes * (profile.warmups + profile.values) * profile.loops
    return CELL_TIMEOUT_FLOOR + runs * (deadline or deadline_for(cell.scenario))


def _failure_reason(metrics: Path, output: str, returncode: int) -> tuple[str, str]:
    """Why a benchmark failed: the worker's own sidecar line if it wrote one, else pyperf's last words."""
    if metrics.exists():
        for line in reversed(metrics.read_text(encoding="utf-8").splitlines()):
            record = json.loads(line)
            if record.get("status") not in (None, "ok"):
                return record["status"], record.get("reason") or "no reason given"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith("prodcon: ")]
    last = ours[-1] if ours else (lines[-1] if lines else f"exit status {returncode}")
    if returncode < 0:
        last = f"killed by signal {-returncode}: {last}"
    return "failed", last[:300]


def process_spread(path: Path) -> float:
    """How far a benchmark's worker processes disagree: the slowest process's median over the fastest's."""
    import pyperf  # the orchestrator reads what its benchmark subprocess wrote

    medians = [statistics.median(run.values) for run in pyperf.Benchmark.load(str(path)).get_runs()
               if run.values]
    return spread_ratio(medians) if len(medians) > 1 else 1.0


def run_cell(cell: Cell, profile: Profile, folder: Path, log, spin_rate: float,
             deadline: float | None = None, python: str = sys.executable) -> dict:
    """Run one benchmark in a subprocess; return its run.json entry (status, reason, processes).

    Files land in parts/ only when ok. When the profile asks for it, a benchmark whose first processes
    disagree by more than profile.spread_limit gets profile.more_processes more, appended by a second
    subprocess (Profile: effort goes where the variance is). Its temporary files are gone when this returns
    or raises, whenever a Ctrl-C or SIGTERM lands. `python` runs the benchmark (cell.python's interpreter).
    """
    parts = folder / "parts"
    stem = part_stem(cell.name)
    tmp_json, tmp_metrics = parts / f".{stem}.json.tmp", parts / f".{stem}.metrics.tmp"
    try:
        for tmp in (tmp_json, tmp_metrics):
            tmp.unlink(missing_ok=True)
        cmd = [python, "-m", "bench", "run", cell.variant, *scenario_flags(cell.scenario), "--quiet",
               f"--metrics={tmp_metrics}", f"--spin-rate={spin_rate}", *python_tag_flag(cell)]
        if deadline:
            cmd.append(f"--deadline={deadline}")
        passes = [(profile.processes, f"--output={tmp_json}")]
        processes = 0
        while passes:
            count, where = passes.pop(0)
            status, reason = _run_pass([*cmd, *profile.pyperf_flags(count), where], cell, profile, count,
                                       deadline, log, tmp_json, tmp_metrics)
            if status != "ok":
                return {"status": status, "reason": reason}
            processes += count
            if processes == profile.processes and profile.wants_more(cell, process_spread(tmp_json)):
                passes.append((profile.more_processes, f"--append={tmp_json}"))
        if tmp_metrics.exists():
            os.replace(tmp_metrics, parts / f"{stem}.metrics.jsonl")
        os.replace(tmp_json, parts / f"{stem}.json")
        return {"status": "ok", "reason": None, "processes": processes}
    finally:  # renamed into parts/ when ok; otherwise, or interrupted anywhere, never left behind
        for tmp in (tmp_json, tmp_metrics):
            tmp.unlink(missing_ok=True)


def _run_pass(cmd: list[str], cell: Cell, profile: Profile, processes: int, deadline: float | None, log,
              tmp_json: Path, tmp_metrics: Path) -> tuple[str, str | None]:
    """One benchmark subprocess (pyperf's parent and its workers); (status, reason)."""
    log.write(f"\n=== {cell.name}\n$ {' '.join(cmd)}\n")
    log.flush()
    timeout = _cell_timeout(cell, profile, deadline, processes)
    returncode, output = run_child(cmd, timeout, ROOT)
    log.write(output)
    log.flush()
    if returncode is None:
        return "timeout", f"benchmark killed after {timeout:.0f} s"
    if returncode == 0 and tmp_json.exists():
        return "ok", None
    return _failure_reason(tmp_metrics, output, returncode)


def alone_reason(cell: Cell) -> str | None:
    """Why a cell's design must run in processes of its own (its module's ALONE), or None if it can share."""
    return getattr(all_designs()[cell.variant], "ALONE", None)


def by_scenario(todo: list[Cell]) -> list[list[Cell]]:
    """The cells grouped by scenario, in run order (in_run_order)."""
    groups: dict[str, list[Cell]] = {}
    for cell in in_run_order(todo):
        groups.setdefault(cell.scenario_key, []).append(cell)
    return list(groups.values())


class _Runner:
    """Runs the scenarios of one `bench all`: paired where designs can share a process, else alone."""

    def __init__(self, profile: Profile, folder: Path, log, bar, state: dict, deadline: float | None,
                 alone: bool = False) -> None:
        self.profile, self.folder, self.log, self.bar = profile, folder, log, bar
        self.state, self.deadline, self.all_alone = state, deadline, alone
        self.executables = {python["tag"]: python["executable"] for python in state.get("pythons", [])}
        self.paired: dict[str, list[Cell]] = {}  # scenario -> its cells measured in rounds, all ok
        self.cost: dict[str, float] = {}  # scenario -> wall seconds per worker process

    def python(self, cell: Cell) -> str:
        """The python that runs the cell's workers: its interpreter's (--python), else this one."""
        return self.executables[cell.python] if cell.python else sys.executable

    def _record(self, cell: Cell, entry: dict) -> None:
        self.state["cells"][cell.name] = entry
        write_json(self.folder / "run.json", self.state)
        if entry["status"] != "ok":
            self.bar.write(f"{entry['status']}: {cell.name}: {entry['reason']}", file=sys.stderr)

    def alone(self, cell: Cell, why: str | None) -> None:
        """One cell in its own pyperf processes (bench run), as every cell ran before pairing."""
        self.bar.set_postfix_str(cell.name)
        began = time.monotonic()
        entry = run_cell(cell, self.profile, self.folder, self.log, self.state["spin_rate"], self.deadline,
                         self.python(cell))
        entry["seconds"] = round(time.monotonic() - began, 2)  # wall time, set-up included
        if why:
            entry["alone"] = why
        self._record(cell, entry)
        self.bar.update(1)

    def scenario(self, group: list[Cell]) -> None:
        """A scenario's cells: those that can share a process in rounds (two or more), the rest alone."""
        shared = [cell for cell in group if not alone_reason(cell)]
        if len(shared) < 2 or self.all_alone:
            shared = []
        lone = [(cell, alone_reason(cell) or (ALONE_ASKED if self.all_alone else ALONE_NO_RIVAL))
                for cell in group if cell not in shared]
        if shared:
            name = group[0].scenario_key
            self.bar.set_postfix_str(f"{name} ({len(shared)} designs)")
            began = time.monotonic()
            entries, staged = run_scenario(shared, self.profile, self.folder, self.log,
                                           self.state["spin_rate"], self.deadline, self.profile.processes, 0,
                                           self.state["seed"], self.python(shared[0]))
            seconds = time.monotonic() - began
            self.cost[name] = seconds / self.profile.processes
            paired_with = ",".join(sorted(cell.variant for cell in shared))
            with held_interrupts():  # parts/ and run.json agree whenever an interrupt lands
                store_scenario(shared, self.folder, entries, staged)
                for cell in shared:
                    entry = entries[cell.name]
                    if entry["status"] == "crashed":
                        lone.append((cell, f"{entry['reason']}; measured alone instead"))
                        continue
                    entry.update(seconds=round(seconds / len(shared), 2), paired_with=paired_with)
                    if entry["status"] == "ok":
                        entry["effort"] = [{"processes": entry["processes"], "why": "first pass"}]
                    else:
                        del entry["processes"]
                    self._record(cell, entry)
                    self.bar.update(1)
            self.paired[name] = [cell for cell in shared if entries[cell.name]["status"] == "ok"]
        for cell, why in lone:
            self.alone(cell, why)

    def more_effort(self, start: float, settle: Settle) -> None:
        """Spend what is left of the profile's budget on the least settled paired standings (+-width)."""
        skipped: set[str] = set()
        while True:
            widths = {}
            for name, paired in self.paired.items():
                done = self.state["cells"][paired[0].name]["processes"] if paired else 0
                if name in skipped or len(paired) < 2 or done >= self.profile.max_processes:
                    continue
                lines = []
                for cell in paired:
                    path = self.folder / "parts" / f"{part_stem(cell.name)}.metrics.jsonl"
                    if path.exists():
                        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
                widths[name] = settle(lines)
            ranked = sorted((w, name) for name, w in widths.items() if w == w)  # NaN: no interval yet
            if not ranked:
                return
            width, name = ranked[-1]
            cost = self.cost[name] * self.profile.more_processes
            if not self.profile.wants_more_rounds(time.monotonic() - start, width, cost):
                if width <= self.profile.target_width or not self.profile.more_processes:
                    return
                skipped.add(name)  # too costly for what is left; a cheaper scenario may still fit
                continue
            paired = self.paired[name]
            self.bar.set_postfix_str(f"{name}: +-{width:.0%}, {self.profile.more_processes} more processes")
            first = self.state["cells"][paired[0].name]["processes"]
            count = min(self.profile.more_processes, self.profile.max_processes - first)
            entries, staged = run_scenario(paired, self.profile, self.folder, self.log,
                                           self.state["spin_rate"], self.deadline, count, first,
                                           self.state["seed"], self.python(paired[0]))
            with held_interrupts():
                store_scenario(paired, self.folder, entries, staged)
                for cell in paired:
                    entry, added = self.state["cells"][cell.name], entries[cell.name]
                    if added["status"] != "ok":  # crashed too: its earlier parts are gone, its cell failed
                        entry.update(status="failed" if added["status"] == "crashed" else added["status"],
                                     reason=added["reason"])
                    else:
                        entry["processes"] += added["processes"]
                        entry["effort"].append({"processes": added["processes"],
                                                "why": f"widest standing interval +-{width:.1%}"})
                    self._record(cell, entry)
            self.paired[name] = [cell for cell in paired if self.state["cells"][cell.name]["status"] == "ok"]


def in_run_order(chosen: list[Cell]) -> list[Cell]:
    """Scenario by scenario (in the profile's order), each scenario's designs back to back.

    The machine's drift over minutes then falls on a scenario's designs alike, and what the report quotes
    are ratios between the designs of one scenario.
    """
    first_seen: dict[str, int] = {}
    for cell in chosen:  # a scenario's interpreters back to back too
        first_seen.setdefault(cell.scenario.name, len(first_seen))
    return sorted(chosen, key=lambda cell: first_seen[cell.scenario.name])


def _new_folder(profile: Profile, out: str | None) -> Path:
    """The new run's folder with its parts/: --out (new or empty), else a dated folder under results/."""
    if out:
        folder = Path(out).resolve()
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{out}: a file, not a run folder; --out takes a new or empty folder")
        if (folder / "run.json").exists():
            raise UsageError(f"{out}: holds a run already; results are never overwritten "
                             f"(use --resume {out} to finish that run)")
        if folder.exists() and any(folder.iterdir()):
            raise UsageError(f"{out}: exists and is not empty, and is not a run folder (it has no run.json); "
                             "--out takes a new or empty folder")
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = RESULTS / f"{stamp}-{profile.name}"
    try:
        (folder / "parts").mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way (NotADirectoryError), no permission, ...
        raise UsageError(f"{out or folder}: cannot create the run folder: {exc.strerror}") from None
    return folder


def run_all(profile_name: str | None, only: str | None, out: str | None, resume: str | None, settle: Settle,
            deadline: float | None = None, alone: bool = False,
            pythons: list[str] | None = None) -> tuple[int, Path | None]:
    """Run (or resume) a profile's matrix; print the run folder. Returns the exit status (0 when every
    benchmark passed) and the folder to report on (None when interrupted or nothing was measured).

    A resumed run keeps the profile, --only, --alone and --python of the run it resumes. `pythons`: the
    interpreters the workers run under (bench/interpreters.py), each benchmark under each; none: this one,
    and benchmark names without a py part. `alone`: every cell in
    pyperf processes of its own, none paired (to compare the two ways, docs/noise.md). `settle` gives
    the width of the least settled standing of a scenario from its sidecar lines (NaN: no interval yet);
    the command passes analysis's, so that this runner needs no statistics of its own.
    """
    command = [sys.executable, "-m", "bench", *sys.argv[1:]]
    if resume:
        if profile_name or only or out or alone or pythons:
            raise UsageError("--resume takes the profile, --only, --alone, --python and folder of the run it "
                             "resumes; drop --profile, --only, --alone, --python and --out")
        folder = Path(resume).resolve()
        state = read_run(folder)
        profile = get_profile(state["profile"])
        only = state.get("only")
        alone = bool(state.get("alone"))
        pythons = [python["path"] for python in state.get("pythons", [])]
        state.setdefault("spin_rate", workload.spins_per_second())
        state.setdefault("resumed_with", []).append(command)
        (folder / "parts").mkdir(exist_ok=True)
    else:
        profile = get_profile(profile_name or "quick")
    try:
        pattern = re.compile(only) if only else None
    except re.error as exc:
        raise UsageError(f"--only: bad regular expression {only!r}: {exc}") from None
    interpreters = prepare_all(pythons) if pythons else []
    chosen = [cell for cell in in_run_order(cells_under(profile, interpreters))
              if pattern is None or pattern.search(cell.name)]
    if not chosen:
        raise UsageError(f"--only {only!r} matches no benchmark of profile {profile.name}")
    if not resume:
        folder = _new_folder(profile, out)
        # cpu work is calibrated once per run, so that cpu:20us is the same work in every benchmark
        state = {"format": RUN_FORMAT, "profile": profile.name, "only": only, "cells": {},
                 "spin_rate": workload.spins_per_second(), "command": command, "alone": alone}
    if interpreters:  # again on --resume: an environment may have moved
        state["pythons"] = [interpreter.record() for interpreter in interpreters]
    state.update(git_commit=git_commit(), machine=machine_metadata(), pyperf_effort=profile.pyperf_flags(),
                 paired_effort=None if alone else profile.paired_effort())
    state.setdefault("started", datetime.now(UTC).isoformat(timespec="seconds"))
    state.setdefault("load_start", load_average())
    todo = []
    for cell in chosen:
        if cell.unsupported:
            state["cells"][cell.name] = {"status": "n/a", "reason": cell.unsupported}
        elif not (folder / "parts" / f"{part_stem(cell.name)}.json").exists():
            state["cells"][cell.name] = {"status": "pending", "reason": None}
            todo.append(cell)
    todo = in_run_order(todo)
    write_json(folder / "run.json", state)

    from tqdm import tqdm  # the orchestrator only

    state.setdefault("seed", random.SystemRandom().randrange(2**32))  # of every worker's round order
    start = time.monotonic()
    with interruptible():
        try:
            with open(folder / "pyperf.log", "a", encoding="utf-8") as log, tqdm(
                    total=len(todo), unit="bench", file=sys.stderr, mininterval=0.5, bar_format=BAR) as bar:
                runner = _Runner(profile, folder, log, bar, state, deadline, alone)
                for group in by_scenario(todo):
                    runner.scenario(group)
                runner.more_effort(start, settle)
        except KeyboardInterrupt:
            _finish(folder, state, chosen, time.monotonic() - start, interrupted=True)
            print(f"interrupted; finished benchmarks are kept in {folder}\n"
                  f"resume with: python -m bench all --resume {folder}", file=sys.stderr)
            return 130, None
    return _finish(folder, state, chosen, time.monotonic() - start, interrupted=False)


def _finish(folder: Path, state: dict, chosen: list[Cell], wall: float,
            interrupted: bool) -> tuple[int, Path | None]:
    merged = merge_parts(folder, [cell.name for cell in chosen])
    state.update(finished=datetime.now(UTC).isoformat(timespec="seconds"), wall_s=round(wall, 1),
                 load_end=load_average(), interrupted=interrupted)
    write_json(folder / "run.json", state)
    if interrupted:
        return 130, None
    statuses = [entry["status"] for entry in state["cells"].values()]
    failed = [(name, entry) for name, entry in state["cells"].items()
              if entry["status"] in ("failed", "timeout")]
    print(f"{merged} benchmarks measured, {statuses.count('n/a')} n/a, {len(failed)} failed "
          f"in {wall:.0f} s")
    for name, entry in failed:
        print(f"  {entry['status']}: {name}: {entry['reason']}")
    print(f"results: {folder}")
    if merged:
        print(f"read them: python -m pyperf stats {folder / 'suite.json'}")
    return (1 if failed else 0), (folder if merged else None)
