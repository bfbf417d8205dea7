"""The command line: one parser builder; each subcommand's main() in bench/commands/<name>.py, by name.

Bad input raises UsageError; main() prints it as one line `error: ...` on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bench.brokers import take_broker_flags, use_brokers
from bench.designs import add_designs, take_design_flags
from bench.flags import add_scenario_flags
from bench.interpreters import take_python_flags
from runs.errors import UsageError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (UsageError) instead of usage text and exit."""

    def error(self, message: str):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The parser for `python -m bench`."""
    from bench.gate.options import DEFAULT_MAX_ROUNDS, DEFAULT_ROUNDS, DEFAULT_THRESHOLD  # --help shows them

    parser = _Parser(prog="python -m bench", description="Producer/consumer designs, measured.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="show the designs, or a profile's benchmarks")
    listing.add_argument("--profile", metavar="NAME", help="show this profile's cells and time estimate")

    every = commands.add_parser("all", help="run a profile's whole matrix under pyperf")
    every.add_argument("--profile", metavar="NAME", help="smoke, quick (default) or full")
    every.add_argument("--only", metavar="REGEX", help="run only the benchmarks whose name matches")
    every.add_argument("--out", metavar="DIR", help="run folder (default results/<UTC time>-<profile>)")
    every.add_argument("--resume", metavar="DIR", help="finish an interrupted run in DIR")
    every.add_argument("--deadline", metavar="SECONDS",
                       help="watchdog deadline of each scenario run (default: derived from the scenario)")
    _add_design_flag(every)
    _add_python_flag(every)
    every.add_argument("--alone", action="store_true",
                       help="every cell in processes of its own, as before paired rounds (to compare)")

    fidelity = commands.add_parser("fidelity", help="compare the suite's figures with plain hand-timed loops")
    fidelity.add_argument("variants", nargs="*", metavar="DESIGN", help="designs to measure (default: all)")
    fidelity.add_argument("--rounds", default="4", metavar="N", help="interleaved rounds (default 4)")
    fidelity.add_argument("--stamps", action="store_true",
                          help="instead: what per-item latency stamps cost, stamped vs plain hand loops")
    fidelity.add_argument("--brokers", action="store_true",
                          help="instead: each broker design's run() vs a hand loop doing the same broker "
                          "commands (DESIGN... default: every broker design)")
    fidelity.add_argument("--items", metavar="N", help="with --brokers: items per run (default 20000)")

    report = commands.add_parser("report", help="(re)build a run's frame, charts and REPORT.md")
    report.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of `bench all`")

    compare = commands.add_parser("compare", help="compare two runs: B/A ratios, a forest plot, COMPARE.md")
    compare.add_argument("run_a", metavar="RUN_A", help="the run compared against")
    compare.add_argument("run_b", metavar="RUN_B", help="the run compared with it")
    compare.add_argument("--out", metavar="DIR",
                         help="comparison folder (default: compare-A-vs-B beside RUN_B)")

    check = commands.add_parser("check", help="regression check: head vs base, both measured now (exit 0 "
                                "only when every benchmark is decided and none slower)", epilog=CHECK_EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--base", metavar="REF", help="git ref to compare against (measured in a worktree)")
    check.add_argument("--head", metavar="REF", help="git ref to check (default: the working tree as it is)")
    check.add_argument("--baseline", nargs="?", const="", metavar="RUN_OR_SUITE",
                       help="instead of --base: a stored run (default results/baseline) ...")
    check.add_argument("--current", metavar="RUN_OR_SUITE", help="... compared with this stored run")
    check.add_argument("--profile", metavar="NAME", help="benchmarks to check (default ci)")
    check.add_argument("--only", metavar="REGEX", help="check only the benchmarks whose name matches")
    check.add_argument("--threshold", default=str(DEFAULT_THRESHOLD), metavar="FRACTION",
                       help=f"smallest slowdown that counts (default {DEFAULT_THRESHOLD})")
    check.add_argument("--rounds", metavar="N", help="rounds per benchmark, one worker per side each "
                       f"(default {DEFAULT_ROUNDS})")
    check.add_argument("--max-rounds", metavar="N", help="rounds an undecided benchmark may reach, 10 more "
                       f"at a time (default {DEFAULT_MAX_ROUNDS}, or --rounds if higher)")
    check.add_argument("--allow-missing", action="store_true",
                       help="a benchmark present on one side only is listed but does not fail the check")
    check.add_argument("--seed", metavar="N", help="seed of the side order in each round (default: random, "
                       "printed)")
    check.add_argument("--format", default="text", metavar="FORMAT", help="text (default), markdown or json")
    check.add_argument("--repo", metavar="DIR", help="git repository (default: this project)")
    _add_design_flag(check)
    check.add_argument("--inject-slowdown", metavar="DESIGN=FACTOR",
                       help="multiply that design's measured time by FACTOR on the head side (to prove "
                       "the gate)")

    baseline = commands.add_parser("baseline", help="store a finished run for `check --baseline`")
    baseline.add_argument("action", choices=["save"], help="save: copy RUN_DIR's suite into "
                          "results/baseline/")
    baseline.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder of `bench all`")

    rounds = commands.add_parser("rounds", help="(a worker of `bench all`) one process measures a "
                                 "scenario's designs in rounds, in random order")
    rounds.add_argument("designs", metavar="D1,D2,...", help="the designs, separated by commas")
    rounds.add_argument("--rounds", default="5", metavar="N", help="rounds of every design (default 5)")
    rounds.add_argument("--warmups", default="1", metavar="N", help="warm-up runs of each design (default 1)")
    rounds.add_argument("--seed", default="0", metavar="N", help="seed of the rounds' orders (default 0)")
    rounds.add_argument("--budget", metavar="SECONDS",
                        help="cut the rounds to fit this time at the last warm-up round's pace (at least 1)")
    rounds.add_argument("--output", metavar="FILE", help="write the pyperf suite here")
    rounds.add_argument("--metrics", metavar="FILE", help="append one JSON line per scenario run here")
    rounds.add_argument("--python-tag", metavar="TAG",
                        help="name the benchmarks after this interpreter (`bench all --python` sets it)")
    rounds.add_argument("--depth", action="store_true",
                        help="first, one instrumented run per design (fails a design that overfills)")
    add_scenario_flags(rounds, items_default=20_000)

    sharing = commands.add_parser("sharing", help="does sharing a worker process (paired standings) change "
                                  "a design's figure? paired vs alone, exit 1 if biased")
    sharing.add_argument("variants", nargs="*", metavar="DESIGN", help="designs (default: all that run)")
    sharing.add_argument("--processes", default="12", metavar="N",
                         help="worker processes paired, and as many alone per design (default 12)")
    sharing.add_argument("--rounds", default="5", metavar="N", help="rounds per process (default 5)")
    sharing.add_argument("--seed", metavar="N",
                         help="seed of the processes' order (default: random, printed)")
    add_scenario_flags(sharing, items_default=20_000)
    sharing.set_defaults(capacity="16")

    run = commands.add_parser("run", help="run one design on one scenario (under pyperf unless --once)")
    run.add_argument("variant", metavar="DESIGN", help="design name (see `list`)")
    run.add_argument("--once", action="store_true", help="one verified run, without pyperf")
    run.add_argument("--json", action="store_true", help="with --once: print one JSON object")
    run.add_argument("--python-tag", metavar="TAG", help=argparse.SUPPRESS)  # set by run_under
    _add_design_flag(run)
    _add_python_flag(run)
    add_scenario_flags(run)

    verify = commands.add_parser("verify", help="run the verification battery on a design module (yours: "
                                 "docs/your-design.md); exit 0 only if every check passes")
    verify.add_argument("module", metavar="MODULE", help="the design's module, as Python imports it")
    verify.add_argument("--seed", default="0", metavar="N", help="seed of the random scenarios (default 0)")
    return parser


def _add_design_flag(parser: argparse.ArgumentParser) -> None:
    """--design MODULE and --broker URL (taken out of argv by main before any parser; here for --help and
    docs/cli.md)."""
    parser.add_argument("--design", action="append", metavar="MODULE",
                        help="add your design module to every process of the run (repeatable; "
                        "docs/your-design.md)")
    parser.add_argument("--broker", action="append", metavar="URL",
                        help="run the broker designs against your server, redis://HOST:PORT or "
                        "nats://HOST:PORT (one of each at most), instead of one the suite starts; only the "
                        "run's own keys or subjects are touched")


def _add_python_flag(parser: argparse.ArgumentParser) -> None:
    """--python PATH (taken out of argv by main before any parser; here for --help and docs/cli.md)."""
    parser.add_argument("--python", action="append", metavar="PATH",
                        help="run the workers under this interpreter (repeatable: each benchmark under each; "
                        "default: this one); each gets a virtual environment of its own, made once")


CHECK_EPILOG = """\
per benchmark: slower (ratio above 1 + threshold, interval above 1), improvement (the mirror),
unchanged (the whole interval below 1 + threshold), undecided (otherwise, or too few rounds or
worker processes for an interval at the level); --base: an undecided benchmark gets more rounds,
up to --max-rounds, then keeps its verdict.

exit status:
  0  every benchmark decided, none slower
  1  a benchmark slower, or failed on either side, or present on one side only (see --allow-missing)
  2  bad input: unknown ref, unreadable or corrupt file, runs that cannot be compared (different
     item counts, an unfinished run), --inject-slowdown naming a design no compared benchmark runs
  3  could not decide: nothing failed, but a benchmark stayed undecided
"""


def main(argv: list[str] | None = None) -> int:
    """Parse argv and run the command; bad input is one line on stderr and exit status 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        designs, argv = take_design_flags(argv)
        if designs:  # before any parser: pyperf's (bench run) would not know the flag
            add_designs(designs)
        brokers, argv = take_broker_flags(argv)
        if brokers:  # the same
            use_brokers(brokers)
        pythons, argv = take_python_flags(argv)  # the same (pyperf's parser has a --python of its own)
        if pythons and argv[:1] not in (["all"], ["run"], ["check"]):
            raise UsageError("--python applies to bench all, bench run and bench check")
        if pythons and argv[:1] == ["run"]:  # each interpreter runs the whole command
            from bench.commands.run import run_under
            return run_under(pythons, argv[1:])
        if argv[:1] == ["run"] and "--once" not in argv:  # under pyperf: its parser takes the rest
            from bench.pyperf_run import run_pyperf
            return run_pyperf(argv[1:])
        args = build_parser().parse_args(argv)
        args.pythons = pythons
        return importlib.import_module(f"bench.commands.{args.command}").main(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
