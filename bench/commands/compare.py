"""`python -m bench compare`: write a comparison folder of RUN_B against RUN_A; print COMPARE.md's path."""

from __future__ import annotations

import argparse

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Write a comparison folder of RUN_B against RUN_A; print COMPARE.md's path."""
    from analysis import compare_runs  # pandas and matplotlib: this command only, never in a worker

    print(compare_runs(args.run_a, args.run_b, args.out))
    return 0
