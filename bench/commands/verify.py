"""`python -m bench verify MODULE`: the verification battery (bench/battery.py) on one design module."""

from __future__ import annotations

import argparse
import importlib
import sys

from bench.battery import run_battery
from runs.errors import UsageError

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """One line per check as it ends; exit 0 when every check passed (n/a counts as passed), else 1."""
    if not args.seed.isdigit():
        raise UsageError(f"--seed must be a whole number, got {args.seed!r}")
    try:
        design = importlib.import_module(args.module)
    except ImportError as exc:
        raise UsageError(f"cannot import {args.module!r}: {exc} (run from its folder, or put the folder on "
                         "PYTHONPATH)") from None
    failed = 0
    for check, status, detail in run_battery(design, int(args.seed)):
        print(f"{status:<4}  {check}: {detail}", flush=True)
        failed += status == "FAIL"
    print(f"{args.module}: {'every check passed' if not failed else f'{failed} check(s) failed'}",
          file=sys.stderr)
    return 1 if failed else 0
