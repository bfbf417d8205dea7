"""`python -m bench check`: compare head with base (measured now, see bench/gate/check.py) or two stored
runs; exit status as bench/cli.py's CHECK_EPILOG says (bench/gate/stats.exit_status).
"""

from __future__ import annotations

import argparse

from runs.errors import UsageError

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Compare head with base (measured now, see bench/gate/check.py) or two stored runs; exit status as
    bench/cli.py's CHECK_EPILOG says (bench/gate/stats.exit_status)."""
    from bench.gate.table import FORMATS, format_report  # the check's modules: scipy, git, never in workers

    if args.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
    if args.baseline is not None:
        from bench.gate.options import parse_threshold
        from bench.gate.stored import BASELINE, compare_stored, load_stored

        if (args.base or args.head or args.inject_slowdown or args.rounds or args.max_rounds or args.seed
                or args.only or args.pythons):
            raise UsageError("--baseline compares stored runs: --base, --head, --rounds, --max-rounds, "
                             "--seed, --only, --python and --inject-slowdown do not apply")
        if not args.current:
            raise UsageError("--baseline needs --current RUN_OR_SUITE")
        threshold = parse_threshold(args.threshold)
        report = compare_stored(load_stored(args.baseline or BASELINE), load_stored(args.current), threshold,
                                args.allow_missing)
    else:
        from bench.gate.check import run_check
        from bench.gate.options import DEFAULT_ROUNDS, options_from_args

        if not args.base:
            raise UsageError("say what to compare: --base REF (measured now) or --baseline RUN --current RUN")
        if args.current:
            raise UsageError("--current goes with --baseline, not with --base")
        args.rounds = args.rounds or str(DEFAULT_ROUNDS)
        report = run_check(options_from_args(args))
    print(format_report(report, args.format), end="")
    return report["exit_status"]
