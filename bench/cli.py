"""The command line: one parser builder, one cmd_<name> per subcommand, one dispatch table.

Bad input raises UsageError; main() prints it as one line `error: ...` on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.designs import all_designs, get_design
from bench.flags import add_scenario_flags, apply_spin_rate, deadline_from_args, scenario_from_args
from bench.once import run_once
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
    every.add_argument("--alone", action="store_true",
                       help="every cell in processes of its own, as before paired rounds (to compare)")

    fidelity = commands.add_parser("fidelity", help="compare the suite's figures with plain hand-timed loops")
    fidelity.add_argument("variants", nargs="*", metavar="VARIANT", help="designs to measure (default: all)")
    fidelity.add_argument("--rounds", default="4", metavar="N", help="interleaved rounds (default 4)")
    fidelity.add_argument("--stamps", action="store_true",
                          help="instead: what per-item latency stamps cost, stamped vs plain hand loops")

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
    check.add_argument("--inject-slowdown", metavar="VARIANT=FACTOR",
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
    rounds.add_argument("--depth", action="store_true",
                        help="first, one instrumented run per design (fails a design that overfills)")
    add_scenario_flags(rounds, items_default=20_000)

    sharing = commands.add_parser("sharing", help="does sharing a worker process (paired standings) change "
                                  "a design's figure? paired vs alone, exit 1 if biased")
    sharing.add_argument("variants", nargs="*", metavar="VARIANT", help="designs (default: all that run)")
    sharing.add_argument("--processes", default="12", metavar="N",
                         help="worker processes paired, and as many alone per design (default 12)")
    sharing.add_argument("--rounds", default="5", metavar="N", help="rounds per process (default 5)")
    sharing.add_argument("--seed", metavar="N",
                         help="seed of the processes' order (default: random, printed)")
    add_scenario_flags(sharing, items_default=20_000)
    sharing.set_defaults(capacity="16")

    run = commands.add_parser("run", help="run one design on one scenario (under pyperf unless --once)")
    run.add_argument("variant", help="design name (see `list`)")
    run.add_argument("--once", action="store_true", help="one verified run, without pyperf")
    run.add_argument("--json", action="store_true", help="with --once: print one JSON object")
    add_scenario_flags(run)
    return parser


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


def cmd_list(args: argparse.Namespace) -> int:
    """Print the designs (name, model, seeds, summary), or with --profile that profile's cells."""
    if args.profile:
        return _list_profile(args.profile)
    designs = all_designs()
    width = max(map(len, designs))
    print(f"{'name':<{width}}  {'model':<9}  {'seeds':<8}  summary")
    for name, design in designs.items():
        print(f"{name:<{width}}  {design.MODEL:<9}  {design.SEED:<8}  {design.SUMMARY}")
    return 0


def _list_profile(name: str) -> int:
    from bench.profiles import cells, get_profile

    profile = get_profile(name)
    listed = cells(profile)
    runnable = [cell for cell in listed if not cell.unsupported]
    width = max(len(cell.name) for cell in listed)
    for cell in listed:
        note = f"n/a: {cell.unsupported}" if cell.unsupported else f"{cell.scenario.items} items"
        print(f"{cell.name:<{width}}  {note}")
    minutes = len(runnable) * profile.seconds_per_cell / 60
    print(f"profile {profile.name}: {len(runnable)} benchmarks, {len(listed) - len(runnable)} n/a; "
          f"pyperf {' '.join(profile.pyperf_flags())}; about {minutes:.1f} min on 2 cores")
    return 0


def cmd_all(args: argparse.Namespace) -> int:
    """Run a profile's matrix (see bench/orchestrate.py), then build its report."""
    from bench.orchestrate import run_all

    status, folder = run_all(args.profile, args.only, args.out, args.resume, _widest_standing,
                             deadline_from_args(args), args.alone)
    if folder is not None:
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


def cmd_fidelity(args: argparse.Namespace) -> int:
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


def cmd_report(args: argparse.Namespace) -> int:
    """Build RUN_DIR's frame, charts and REPORT.md; print REPORT.md's path."""
    from analysis import build_report  # pandas and matplotlib: this command only, never in a worker

    print(build_report(args.run_dir))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Write a comparison folder of RUN_B against RUN_A; print COMPARE.md's path."""
    from analysis import compare_runs  # pandas and matplotlib: this command only, never in a worker

    print(compare_runs(args.run_a, args.run_b, args.out))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Compare head with base (measured now, see bench/gate/check.py) or two stored runs; exit status as
    CHECK_EPILOG says (bench/gate/stats.exit_status)."""
    from bench.gate.table import FORMATS, format_report  # the check's modules: scipy, git, never in workers

    if args.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
    if args.baseline is not None:
        from bench.gate.options import parse_threshold
        from bench.gate.stored import BASELINE, compare_stored, load_stored

        if (args.base or args.head or args.inject_slowdown or args.rounds or args.max_rounds or args.seed
                or args.only):
            raise UsageError("--baseline compares stored runs: --base, --head, --rounds, --max-rounds, "
                             "--seed, --only and --inject-slowdown do not apply")
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


def cmd_baseline(args: argparse.Namespace) -> int:
    """Copy a finished run's suite.json and run.json into results/baseline/."""
    from bench.gate.stored import save_baseline

    print(save_baseline(args.run_dir))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario once, verify it, print its figures; exit 0 only when it verified."""
    from bench.latency import format_figures
    from bench.once import measured_waits, run_record
    from variants import workload

    design = get_design(args.variant)
    scenario = scenario_from_args(args)
    apply_spin_rate(args)
    why = design.unsupported(scenario)
    if why:
        raise UsageError(f"{design.NAME} does not support this scenario: {why}")
    # equal waits (docs/design.md, "Equal waits")
    slack = workload.timer_slack_ns() if workload.set_timer_slack() else None
    waits = measured_waits(scenario)
    result = run_once(design, scenario, deadline_from_args(args))
    report = {
        "variant": design.NAME, "benchmark": f"{design.NAME}/{scenario.name}",
        "producers": scenario.producers, "consumers": scenario.consumers,
        "capacity": scenario.capacity, "items": scenario.items, "arrival": scenario.arrival,
        "work": scenario.work, "payload": scenario.payload, "timer_slack_ns": slack, **waits,
        "status": result.status, "verified": result.ok, "error": result.reason,
        "elapsed_s": None, "items_per_s": None, "s_per_item": None, "cpu_s_per_item": None, "startup_s": None,
    }
    if result.ok:
        record = run_record(scenario, result.outcome)
        record.pop("latency_hist", None)  # for merging across processes; not for a terminal
        report.update(record, items_per_s=scenario.items / record["elapsed_s"],
                      s_per_item=record["elapsed_s"] / scenario.items)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    elif result.ok:
        print(f"{report['benchmark']}: {scenario.items} items in {report['elapsed_s']:.4f} s, "
              f"{report['items_per_s']:,.0f} items/s, {report['s_per_item'] * 1e6:.3f} us/item, verified")
        if "latency_p50_s" in report:
            print(f"  {format_figures(report)}")
    else:
        print(f"{report['benchmark']}: {result.status}: {result.reason}", file=sys.stderr)
    if result.poisoned:  # threads of a hung design are still running: leave without waiting for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 0 if result.ok else 1


def cmd_sharing(args: argparse.Namespace) -> int:
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


def cmd_rounds(args: argparse.Namespace) -> int:
    """Measure a scenario's designs in rounds in this process (see bench/rounds.py)."""
    from bench.rounds import run_rounds

    return run_rounds(args)


COMMANDS = {"list": cmd_list, "run": cmd_run, "rounds": cmd_rounds, "sharing": cmd_sharing, "all": cmd_all,
            "fidelity": cmd_fidelity, "check": cmd_check, "baseline": cmd_baseline, "report": cmd_report,
            "compare": cmd_compare}


def main(argv: list[str] | None = None) -> int:
    """Parse argv and run the command; bad input is one line on stderr and exit status 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["run"] and "--once" not in argv:  # under pyperf: its parser takes the rest
            from bench.pyperf_run import run_pyperf
            return run_pyperf(argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
