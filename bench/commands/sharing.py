"""`python -m bench sharing`: paired vs alone per design (see bench/sharing.py); exit 1 when a design is
biased.
"""

from __future__ import annotations

import argparse
import sys

from bench.designs import get_design
from bench.flags import apply_spin_rate, scenario_from_args
from runs.errors import UsageError

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Paired vs alone per design (see bench/sharing.py); exit 1 when a design is biased."""
    import random

    from bench.sharing import run_sharing

    counts = {}
    for flag in ("processes", "rounds"):
        text = getattr(args, flag)
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"--{flag} must be a whole number >= 1, got {text!r}")
        counts[flag] = int(text)
    if args.seed is not None and not args.seed.isdigit():
        raise UsageError(f"--seed must be a whole number, got {args.seed!r}")
    seed = int(args.seed) if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}", file=sys.stderr)
    apply_spin_rate(args)
    return run_sharing([get_design(name).NAME for name in args.variants], scenario_from_args(args),
                       counts["processes"], counts["rounds"], seed)
