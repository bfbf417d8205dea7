"""`python -m bench baseline`: copy a finished run's suite.json and run.json into results/baseline/."""

from __future__ import annotations

import argparse

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Copy a finished run's suite.json and run.json into results/baseline/."""
    from bench.gate.stored import save_baseline

    print(save_baseline(args.run_dir))
    return 0
