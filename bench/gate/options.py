"""What `bench check` was asked to do: its flags, checked, as CheckOptions; the defaults its --help shows."""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.gate.inject import parse_slowdown
from bench.interpreters import prepare_all
from bench.machine import ROOT
from bench.profiles import Profile, get_profile
from runs.errors import UsageError

__all__ = ["CheckOptions", "options_from_args", "parse_threshold", "compile_only", "DEFAULT_THRESHOLD",
           "DEFAULT_PROFILE", "DEFAULT_ROUNDS", "DEFAULT_MAX_ROUNDS"]

DEFAULT_PROFILE = "ci"
DEFAULT_ROUNDS = 30  # per benchmark and side: 20 took 140 s for ci here (docs/regression-gate.md, "Rounds")
# Rounds an undecided benchmark may reach. The whole ci check at 30 rounds took 227-245 s on a quiet day
# (2026-12-03, about 0.9 s per worker pair); its 10 same-code runs, re-decided at this level, left 1-4
# benchmarks (2.7 on average) undecided after 30 rounds: 20 more rounds for 3 of them add about 55 s, which
# still fits in 5 minutes. Under load every benchmark may need them (docs/regression-gate.md, "Rounds").
DEFAULT_MAX_ROUNDS = 50
DEFAULT_THRESHOLD = 0.05  # smallest slowdown that counts; below the 10% the gate is meant to catch


@dataclass(frozen=True)
class CheckOptions:
    """What `bench check --base` was asked to do, checked."""

    base: str
    head: str | None  # None: the working tree
    profile: Profile
    only: str | None
    threshold: float
    rounds: int
    seed: int
    repo: Path
    inject: tuple[str, float] | None  # (variant, factor) on the head side only
    max_rounds: int = DEFAULT_MAX_ROUNDS  # rounds an undecided benchmark may reach (>= rounds)
    allow_missing: bool = False  # a design only one side has does not fail the check
    pythons: tuple = ()  # bench.interpreters.Interpreter: each benchmark under each (none: this interpreter)

    def python(self, cell) -> str:
        """The python that runs the cell's workers on both sides: its interpreter's, else this one."""
        return next((found.executable for found in self.pythons if found.tag == cell.python), sys.executable)


def compile_only(only: str | None) -> re.Pattern | None:
    """The --only pattern, compiled (None when not given); UsageError for a bad regular expression."""
    try:
        return re.compile(only) if only else None
    except re.error as exc:
        raise UsageError(f"--only: bad regular expression {only!r}: {exc}") from None


def parse_threshold(text: str) -> float:
    """The --threshold value: a fraction from 0 to 10; UsageError otherwise."""
    try:
        threshold = float(text)
    except ValueError:
        threshold = -1.0
    if not 0 <= threshold < 10:
        raise UsageError(f"--threshold must be a fraction such as 0.05 (0 to 10), got {text!r}")
    return threshold


def options_from_args(args) -> CheckOptions:
    """CheckOptions from `bench check` flags; UsageError naming the flag on bad input."""
    threshold = parse_threshold(args.threshold)
    if not re.fullmatch(r"\d+", args.rounds or ""):
        raise UsageError(f"--rounds must be a whole number, got {args.rounds!r}")
    if args.max_rounds is not None and not re.fullmatch(r"\d+", args.max_rounds):
        raise UsageError(f"--max-rounds must be a whole number, got {args.max_rounds!r}")
    if args.seed is not None and not re.fullmatch(r"\d+", args.seed):
        raise UsageError(f"--seed must be a whole number, got {args.seed!r}")
    inject = None
    if args.inject_slowdown:
        from bench.designs import get_design

        variant, factor = parse_slowdown(args.inject_slowdown)
        inject = (get_design(variant).NAME, factor)
    return CheckOptions(
        base=args.base, head=args.head, profile=get_profile(args.profile or DEFAULT_PROFILE),
        only=args.only, threshold=threshold, rounds=int(args.rounds),
        seed=int(args.seed) if args.seed is not None else random.SystemRandom().randrange(2**32),
        repo=Path(args.repo).resolve() if args.repo else ROOT, inject=inject,
        max_rounds=int(args.max_rounds) if args.max_rounds is not None else max(DEFAULT_MAX_ROUNDS,
                                                                                 int(args.rounds)),
        allow_missing=args.allow_missing,
        pythons=tuple(prepare_all(args.pythons)) if getattr(args, "pythons", None) else (),
    )
