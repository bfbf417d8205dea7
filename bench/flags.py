"""The scenario flags shared by every command that runs something, and their checks.

Flags are read as strings and checked here, so every mistake is one line naming the flag.
"""

from __future__ import annotations

import argparse
import re

from runs.errors import UsageError
from variants import workload
from variants.contract import Scenario

__all__ = ["add_scenario_flags", "scenario_from_args", "scenario_flags", "deadline_from_args",
           "apply_spin_rate"]


def add_scenario_flags(parser: argparse.ArgumentParser, items_default: int = 100_000) -> None:
    """Add --producers, --consumers, --capacity, --items, --arrival, --work, --payload, --stop."""
    group = parser.add_argument_group("scenario")
    group.add_argument("--producers", default="1", metavar="P", help="producer workers (default 1)")
    group.add_argument("--consumers", default="1", metavar="C", help="consumer workers (default 1)")
    group.add_argument("--capacity", default="inf", metavar="N|inf", help="buffer slots (default inf)")
    group.add_argument("--items", default=str(items_default), metavar="K",
                       help=f"items in total (default {items_default})")
    group.add_argument("--arrival", default="flat", metavar="SPEC",
                       help="flat, steady:RATE, burst:SIZE:RATE or poisson:RATE (default flat)")
    group.add_argument("--work", default="none", metavar="SPEC",
                       help="none, cpu:DURATION or io:DURATION, e.g. cpu:20us (default none)")
    group.add_argument("--payload", default="0", metavar="BYTES", help="bytes per item (default 0)")
    group.add_argument("--stop", default="sentinels", metavar="SPEC",
                       help="stop protocol: sentinels (default), barrier, event or event:DURATION")
    parser.add_argument("--deadline", metavar="SECONDS",
                        help="watchdog deadline of each run (default: derived from the scenario)")
    parser.add_argument("--spin-rate", metavar="STEPS_PER_S",
                        help="steps per second of the cpu-work loop (default: measured in this process)")


def apply_spin_rate(args: argparse.Namespace) -> None:
    """Set the cpu-work rate from --spin-rate, if given."""
    if args.spin_rate is None:
        return
    try:
        rate = float(args.spin_rate)
    except ValueError:
        rate = 0.0
    if not 0 < rate < float("inf"):
        raise UsageError(f"--spin-rate must be a positive number, got {args.spin_rate!r}")
    workload.set_spins_per_second(rate)


def deadline_from_args(args: argparse.Namespace) -> float | None:
    """The --deadline value in seconds, or None for the scenario's own deadline."""
    if args.deadline is None:
        return None
    try:
        seconds = float(args.deadline)
    except ValueError:
        raise UsageError(f"--deadline must be a number of seconds, got {args.deadline!r}") from None
    if not 0 < seconds < float("inf"):
        raise UsageError(f"--deadline must be a positive finite number of seconds, got {args.deadline!r}")
    return seconds


def _int(value: str, flag: str, minimum: int) -> int:
    if not re.fullmatch(r"-?\d+", value):
        raise UsageError(f"{flag} must be a whole number, got {value!r}")
    number = int(value)
    if number < minimum:
        raise UsageError(f"{flag} must be >= {minimum}, got {number}")
    return number


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Build the Scenario the flags describe; UsageError on any bad value."""
    capacity = None if args.capacity == "inf" else _int(args.capacity, "--capacity", 1)
    try:
        return Scenario(
            producers=_int(args.producers, "--producers", 1),
            consumers=_int(args.consumers, "--consumers", 1),
            items=_int(args.items, "--items", 1),
            capacity=capacity,
            arrival=args.arrival,
            work=args.work,
            payload=_int(args.payload, "--payload", 0),
            stop=args.stop,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def scenario_flags(scenario: Scenario) -> list[str]:
    """The command-line flags that rebuild `scenario` (the inverse of scenario_from_args)."""
    return [
        f"--producers={scenario.producers}", f"--consumers={scenario.consumers}",
        f"--capacity={'inf' if scenario.capacity is None else scenario.capacity}",
        f"--items={scenario.items}", f"--arrival={scenario.arrival}", f"--work={scenario.work}",
        f"--payload={scenario.payload}",
        *([f"--stop={scenario.stop}"] if scenario.stop != "sentinels" else []),  # older commits lack --stop
    ]


def take_flag(argv: list[str], flag: str, needs: str) -> tuple[list[str], list[str]]:
    """(values given as `FLAG VALUE` or `FLAG=VALUE`, argv without them), for a flag taken out before any
    parser sees argv (pyperf's parser would refuse it); `needs` completes "FLAG needs ..." when it has no
    value."""
    found, rest, args = [], [], iter(argv)
    for arg in args:
        if arg == flag:
            value = next(args, None)
            if value is None:
                raise UsageError(f"{flag} needs {needs}")
            found.append(value)
        elif arg.startswith(f"{flag}="):
            found.append(arg.removeprefix(f"{flag}="))
        else:
            rest.append(arg)
    return found, rest
