"""Stored runs: `bench check --baseline RUN_OR_SUITE --current RUN_OR_SUITE`, `bench baseline save RUN_DIR`.

Two stored runs are compared benchmark by benchmark with the gate's rule (bench/gate/stats.py), over worker
processes: each pyperf run (one worker process) gives the median of its values, and the interval is a
rank test over those medians, never over pooled values, so unequal numbers of processes or values are fine.
Runs from different times or machines carry machine drift (whole runs here differ by up to 1.2x): the report
says so, and `bench check --base REF`, which measures both sides in one job, is the real gate.

What a side can tell depends on what it is: a run folder's run.json names its failed cells (they count on
either side) and says whether the run finished (an unfinished one is refused, as `baseline save` refuses
it); a bare suite file only holds what succeeded, so a benchmark absent from it is missing (failed or never
run), which fails the check unless missing benchmarks are allowed. Runs whose item counts differ measure
different things and are refused.

results/baseline/ holds one small stored run (its suite.json and run.json), written by `baseline save`.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.gate import stats
from bench.machine import ROOT
from runs.comparison import Entry, match
from runs.errors import UsageError
from runs.store import TIME_PER_ITEM, read_run, write_atomic

__all__ = ["BASELINE", "load_stored", "compare_stored", "save_baseline"]

BASELINE = ROOT / "results" / "baseline"
DRIFT_WARNING = ("stored runs: measured at different times (perhaps on different machines); whole runs "
                 "here differ by up to 1.2x from machine drift alone, which this comparison cannot tell "
                 "from a change. `bench check --base REF` measures both sides in one job.")


def _suite_path(path: Path) -> tuple[Path, Path | None]:
    """(suite file, run.json or None) for a run folder or a suite file."""
    if path.is_dir():
        if not (path / "suite.json").exists():
            raise UsageError(f"{path}: no suite.json: not a run folder of `bench all`")
        return path / "suite.json", (path / "run.json" if (path / "run.json").exists() else None)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    return path, None


def _refuse_unfinished(folder: Path, state: dict) -> None:
    """UsageError when run.json says the run was interrupted or never finished."""
    if state.get("interrupted") or "finished" not in state:
        raise UsageError(f"{folder}: the run did not finish; finish it with "
                         f"`python -m bench all --resume {folder}` first")


def load_stored(path: Path) -> dict:
    """A stored run: {"path", "benchmarks": {name: {"medians", "values", "items"}}, "failed", "about"}.

    `medians` holds one median per worker process; "failed" lists the cells run.json calls failed (none for
    a suite file). UsageError, one line, for anything unreadable and for an unfinished run.
    """
    import pyperf  # the check's process only

    suite_file, run_file = _suite_path(Path(path))
    try:
        json.loads(suite_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{suite_file}: not a pyperf suite: {exc}") from None
    try:
        suite = pyperf.BenchmarkSuite.load(str(suite_file))
        benchmarks = {}
        for bench in suite.get_benchmarks():
            medians = [statistics.median(run.values) for run in bench.get_runs() if run.values]
            benchmarks[bench.get_name()] = {
                "medians": medians, "values": sum(len(run.values) for run in bench.get_runs()),
                "items": bench.get_metadata().get("prodcon_items"),
                "value_kind": bench.get_metadata().get("prodcon_value", TIME_PER_ITEM),
                "commit": bench.get_metadata().get("prodcon_git_commit"),
                "date": bench.get_dates()[0].isoformat(timespec="seconds") if bench.get_dates() else None}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{suite_file}: not a pyperf suite: {type(exc).__name__}: {exc}") from None
    failed = []
    if run_file is not None:
        state = read_run(run_file.parent)
        _refuse_unfinished(run_file.parent, state)
        failed = [{"benchmark": name, "status": cell["status"], "reason": cell.get("reason")}
                  for name, cell in state["cells"].items() if cell.get("status") in ("failed", "timeout")]
    dates = sorted(entry["date"] for entry in benchmarks.values() if entry["date"])
    commits = sorted({entry["commit"] for entry in benchmarks.values() if entry["commit"]})
    about = f"{path} ({len(benchmarks)} benchmarks"
    about += f", {dates[0]}" if dates else ""
    about += f", commit {', '.join(c[:12] for c in commits)}" if commits else ""
    about += "" if run_file is not None else "; a suite file: a failed benchmark shows as missing"
    return {"path": str(path), "benchmarks": benchmarks, "failed": failed, "about": about + ")"}


def _entries(run: dict) -> dict[str, Entry]:
    """benchmark -> runs.comparison.Entry of a stored run (load_stored's dict): its failed cells too."""
    found = {name: Entry("ok", entry["items"], entry["value_kind"], tuple(entry["medians"]))
             for name, entry in run["benchmarks"].items()}
    found.update({entry["benchmark"]: Entry(entry["status"]) for entry in run["failed"]})
    return found


def compare_stored(base: dict, head: dict, threshold: float, allow_missing: bool = False) -> dict:
    """Compare two stored runs (load_stored's dicts); the report has the same shape as run_check's.

    Which benchmarks are compared is runs/comparison.py's rule, shared with `bench compare`. UsageError
    when a benchmark's item counts or kind of value differ (the runs measured different things). A
    benchmark failed on either side fails the check; one present on one side only does too unless
    `allow_missing`.
    """
    found = match(_entries(base), _entries(head))
    differ = [f"{name} ({why.replace(' in A', ' in the baseline').replace(' in B', ' now')})"
              for name, status_a, status_b, why in found.changed
              if status_a == status_b == "ok" and not why.startswith("no process figure")]
    if differ:
        more = " ..." if len(differ) > 3 else ""
        raise UsageError(f"the runs cannot be compared: {len(differ)} of {len(found.both) + len(differ)} "
                         f"benchmarks measured different things: {', '.join(differ[:3])}{more}")
    names = found.both + [name for name, _, _, why in found.changed if why.startswith("no process figure")]
    level = stats.family_level(max(len(names), 1))
    rows = []
    for name in names:
        a, b = base["benchmarks"][name], head["benchmarks"][name]
        row = {"benchmark": name, "variant": name.split("/")[0], "processes": [len(a["medians"]),
                                                                                len(b["medians"])],
               "values": [a["values"], b["values"]], "failure": None,
               "base_s": statistics.median(a["medians"]) if a["medians"] else None,
               "head_s": statistics.median(b["medians"]) if b["medians"] else None}
        if not a["medians"] or not b["medians"]:
            row.update(ratio=None, low=None, high=None, verdict="undecided")
        else:
            ratio = row["head_s"] / row["base_s"]
            verdict = stats.decide(ratio, stats.process_interval(a["medians"], b["medians"], level),
                                        threshold)
            row.update(ratio=ratio, low=verdict.low, high=verdict.high, verdict=verdict.status)
        rows.append(row)
    failed = ([{"side": "baseline", **entry} for entry in base["failed"]]
              + [{"side": "current", **entry} for entry in head["failed"]])
    missing = [name for name in found.only_a if name in base["benchmarks"]]  # failed ones count as failed
    new = [name for name in found.only_b if name in head["benchmarks"]]
    unaccepted = 0 if allow_missing else len(missing) + len(new)
    return {
        "format": 1, "mode": "stored", "threshold": threshold, "alpha": stats.ALPHA, "level": level,
        "looks": 1, "interval": "Mann-Whitney over worker processes",
        "min_processes": stats.min_processes(level),
        "base": {"label": "baseline", "text": f"baseline: {base['about']}"},
        "head": {"label": "current", "text": f"current: {head['about']}"},
        "injected": None, "benchmarks": rows, "failed": failed, "missing": missing, "new": new,
        "allow_missing": allow_missing, "drift_warning": DRIFT_WARNING,
        "exit_status": stats.exit_status([row["verdict"] for row in rows], len(failed), unaccepted),
    }


def save_baseline(run_dir: str, target: Path = BASELINE) -> str:
    """Copy a finished run's suite.json and run.json into `target`; return a one-line summary."""
    folder = Path(run_dir)
    state = read_run(folder)
    _refuse_unfinished(folder, state)
    stored = load_stored(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("suite.json", "run.json"):
        write_atomic(target / name, (folder / name).read_text(encoding="utf-8"))
    return (f"baseline: {len(stored['benchmarks'])} benchmarks of profile {state['profile']} "
            f"(commit {str(state.get('git_commit'))[:12]}) saved in {target}")
