"""`python -m bench rounds`: measure a scenario's designs in rounds in this process (see bench/rounds.py)."""

from __future__ import annotations

import argparse

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Measure a scenario's designs in rounds in this process (see bench/rounds.py)."""
    from bench.rounds import run_rounds

    return run_rounds(args)
