"""`python -m bench fidelity`: print suite vs hand-timed seconds per item for every design at 1:1; exit 1 if
one is `over`. `--brokers`: each broker design's run() vs a hand loop doing the same broker commands.
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
    if args.brokers:
        return _brokers(args, rounds, names)
    if args.items is not None:
        raise UsageError("--items goes with --brokers")
    if args.stamps:
        from bench.fidelity import format_stamp_cost, measure_stamp_cost

        for line in format_stamp_cost(measure_stamp_cost(rounds, names=names)):
            print(line)
        return 0
    rows = measure_fidelity(rounds, names=names)
    for line in format_fidelity(rows):
        print(line)
    return 1 if any(verdict(row) == "over" for row in rows) else 0


def _brokers(args: argparse.Namespace, rounds: int, names: list[str] | None) -> int:
    """`--brokers`: each broker design's run() vs its hand loop; exit 1 if one is `over`."""
    from bench.broker_loops import ITEMS, LOOPS
    from bench.fidelity import broker_scenario, format_fidelity, measure_broker_fidelity, verdict

    if args.stamps:
        raise UsageError("--brokers and --stamps measure different things: give one")
    try:
        items = ITEMS if args.items is None else int(args.items)
    except ValueError:
        raise UsageError(f"--items must be a whole number, got {args.items!r}") from None
    if items < 1:
        raise UsageError(f"--items must be >= 1, got {items}")
    names = names or list(LOOPS)
    for name in names:
        if name not in LOOPS:
            raise UsageError(f"--brokers: no hand loop for {name!r}; loops: {', '.join(LOOPS)}")
        why = get_design(name).unsupported(broker_scenario(items))
        if why:
            raise UsageError(f"--brokers: {name} cannot run here: {why}")
    rows = measure_broker_fidelity(rounds, names=names, items=items)
    for line in format_fidelity(rows, sides=("design", "loop")):
        print(line)
    return 1 if any(verdict(row) == "over" for row in rows) else 0
