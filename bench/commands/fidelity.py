"""`python -m bench fidelity`: print suite vs hand-timed seconds per item for every design at 1:1; exit 1 if
one is `over`.
"""

from __future__ import annotations

import argparse

from bench.designs import get_design
from runs.errors import UsageError

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Print suite vs hand-timed seconds per item for every design at 1:1; exit 1 if one is `over`."""
    from bench.fidelity import format_fidelity, measure_fidelity, verdict

    try:
        rounds = int(args.rounds)
    except ValueError:
        raise UsageError(f"--rounds must be a whole number, got {args.rounds!r}") from None
    if rounds < 1:
        raise UsageError(f"--rounds must be >= 1, got {rounds}")
    names = [get_design(name).NAME for name in args.variants] or None
    if args.stamps:
        from bench.fidelity import format_stamp_cost, measure_stamp_cost

        for line in format_stamp_cost(measure_stamp_cost(rounds, names=names)):
            print(line)
        return 0
    rows = measure_fidelity(rounds, names=names)
    for line in format_fidelity(rows):
        print(line)
    return 1 if any(verdict(row) == "over" for row in rows) else 0
