"""`python -m bench all`: run a profile's matrix (see bench/orchestrate.py), then build its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.flags import deadline_from_args

__all__ = ["main", "BUILD_REPORT"]

# Whether `bench all` ends by building REPORT.md (seconds of pandas and matplotlib): always for a user, so
# not a flag. The runner's own tests, which read the run folder and not its report, set it False in the
# process they start (tests/test_orchestrate.py, `bench_all`).
BUILD_REPORT = True


def main(args: argparse.Namespace) -> int:
    """Run a profile's matrix (see bench/orchestrate.py), then build its report (see BUILD_REPORT)."""
    from bench.orchestrate import run_all

    status, folder = run_all(args.profile, args.only, args.out, args.resume, _widest_standing,
                             deadline_from_args(args), args.alone, args.pythons)
    if folder is not None and BUILD_REPORT:
        _report(folder)
    return status


def _widest_standing(lines: list[dict]) -> float:
    """The widest standing interval (+-) of a scenario's paired rounds, from its sidecar lines."""
    from analysis.standings import sidecar_rounds, widest_interval  # statistics: never in a worker

    return widest_interval(sidecar_rounds(lines))


def _report(folder: Path) -> None:
    """Build a finished run's REPORT.md and say where it is; a report that fails loses nothing of the run."""
    from analysis import build_report  # pandas, matplotlib: after every worker, never in one

    try:
        print(f"report: {build_report(folder)}")
    except Exception as exc:  # the run is already complete on disk: say why, keep the run's exit status
        why = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"report not built ({why}); the run is complete; rebuild it with: "
              f"python -m bench report {folder}", file=sys.stderr)
