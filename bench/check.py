"""`python -m bench check --base REF`: did a change make a design slower? Both sides measured in one job.

Each side runs its own code: a ref is checked out with `git worktree` in a temporary folder, the working
tree (the default head) is used where it is, and every benchmark runs as `python -m bench run ...` with the
side's folder as the working directory, so `-m` puts that folder first on sys.path, ahead of any installed
copy (each result's `prodcon_git_commit` is checked against the side's commit to prove it).

For every benchmark of the profile, N rounds; a round runs one fresh worker process per side, back to back
in random order (seeded; the seed and every round's order are in the JSON output). A benchmark's first round
runs each side as a whole `bench run --processes=1`, whose pyperf parent makes the instrumented depth run (a
design that overfills its buffer fails there) and spawns the worker; later rounds start the worker alone
(`--worker`, in the environment the parent would give it): the parent measures nothing the gate uses and
would double a round's cost. A worker gives the median of its few values; a round gives head / base. The
verdict is gate_stats.decide on the median of the rounds' ratios and their sign-test interval
(bench/gate_stats.py), at a level corrected for the number of benchmarks and for the looks below. A
benchmark still undecided after N rounds gets EXTRA_ROUNDS more at a time, up to --max-rounds, and keeps the
verdict it has then. A benchmark flagged as slower is re-measured once in N fresh rounds (extended the same
way) and stays flagged only if it is flagged again.

Exit status (gate_stats.exit_status): 0 every benchmark decided and none slower; 1 a benchmark slower, or
failed, or (unless --allow-missing) present on one side only; 2 bad input (UsageError, raised before any
verdict: an unknown ref, a design to inject that no compared benchmark runs, a worker that ran another
commit than its side's); 3 nothing failed but a benchmark stayed undecided.

"Dirty" is never an error: a ref is measured from a clean worktree whatever the working tree holds; the
working tree is measured as it is (uncommitted and untracked files included) and labelled `<commit>+dirty`.
Worktrees, temporary files and worker processes are removed on every exit, Ctrl-C included.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import gate_stats
from bench.children import interruptible, run_child
from bench.designs import EXTRA_DESIGNS_ENV
from bench.flags import scenario_flags
from bench.inject import parse_slowdown
from bench.machine import ROOT, load_average
from bench.once import deadline_for
from bench.profiles import Cell, Profile, cells, get_profile
from runs.errors import UsageError

__all__ = ["CheckOptions", "run_check", "options_from_args", "parse_threshold", "looks", "DEFAULT_THRESHOLD",
           "DEFAULT_PROFILE", "DEFAULT_ROUNDS", "DEFAULT_MAX_ROUNDS", "EXTRA_ROUNDS"]

DEFAULT_PROFILE = "ci"
DEFAULT_ROUNDS = 30  # per benchmark and side: 20 took 140 s for ci here (docs/regression-gate.md, "Rounds")
# Rounds an undecided benchmark may reach. The whole ci check at 30 rounds took 227-245 s on a quiet day
# (2026-12-03, about 0.9 s per worker pair); its 10 same-code runs, re-decided at this level, left 1-4
# benchmarks (2.7 on average) undecided after 30 rounds: 20 more rounds for 3 of them add about 55 s, which
# still fits in 5 minutes. Under load every benchmark may need them (docs/regression-gate.md, "Rounds").
DEFAULT_MAX_ROUNDS = 50
EXTRA_ROUNDS = 10  # rounds added at a time to an undecided benchmark; each addition is one more look
DEFAULT_THRESHOLD = 0.05  # smallest slowdown that counts; below the 10% the gate is meant to catch
WORKER_TIMEOUT_FLOOR = 60.0  # seconds any worker subprocess gets, whatever its scenario
REQUIRED_FLAGS = ("--producers", "--consumers", "--capacity", "--items", "--processes", "--values",
                  "--warmups", "--loops", "--quiet", "--output")
DEFAULTS = {"--arrival": "flat", "--work": "none", "--payload": "0"}  # omitted when a side lacks the flag


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


@dataclass
class Side:
    """One side of the comparison: where its code lives and what its `bench run` understands."""

    label: str  # "base" or "head"
    ref: str | None  # as the user gave it; None for the working tree
    commit: str  # full sha, with "+dirty" for a working tree with changes
    root: Path  # the folder `python -m bench run` runs in
    flags: set[str] = field(default_factory=set)
    designs: set[str] = field(default_factory=set)  # the design names its `bench list` shows

    def describe(self) -> str:
        """One line: label, ref and commit."""
        what = "working tree" if self.ref is None else self.ref
        dirty = "+dirty" if self.commit.endswith("+dirty") else ""
        return f"{self.label}: {what} ({self.commit[:12]}{dirty})"


@dataclass
class Measure:
    """Everything measured for one benchmark: rounds of both sides, or why it failed."""

    cell: Cell
    rounds: list[dict] = field(default_factory=list)  # {"order", "base", "head"}: values per worker
    failure: dict | None = None  # {"side", "status", "reason"}
    seconds: float = 0.0  # wall time its workers took


def _git(repo: Path, *args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UsageError("git is not installed: bench check needs it") from None
    if check and done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.strip().splitlines()[-1:] or 'failed'}")
    return done.stdout.strip()


def repository(path: Path) -> Path:
    """The top folder of the git repository at `path`; UsageError when there is none."""
    if not path.is_dir():
        raise UsageError(f"{path}: no such folder")
    top = _git(path, "rev-parse", "--show-toplevel", check=False)
    if not top:
        raise UsageError(f"{path}: not a git repository")
    return Path(top)


def resolve(repo: Path, ref: str) -> str:
    """The full sha of commit `ref`; UsageError for an unknown ref (say so if the clone is shallow)."""
    sha = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if not sha:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository", check=False) == "true"
        hint = " (the clone is shallow: fetch its full history, e.g. fetch-depth: 0)" if shallow else ""
        raise UsageError(f"unknown git ref {ref!r} in {repo}{hint}")
    return sha


def _flags_of(side: Side, env: dict) -> set[str]:
    """The long options of the side's `python -m bench run` (read from its --help)."""
    done = subprocess.run([sys.executable, "-m", "bench", "run", "--help"], cwd=side.root, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", done.stdout))
    missing = [flag for flag in REQUIRED_FLAGS if flag not in flags]
    if done.returncode != 0 or missing:
        why = f"lacks {', '.join(missing)}" if done.returncode == 0 else f"exit status {done.returncode}"
        raise UsageError(f"{side.describe()}: its `python -m bench run` cannot run under pyperf ({why}); "
                         f"too old for bench check")
    return flags


def _designs_of(side: Side, env: dict) -> set[str]:
    """The design names the side's `python -m bench list` prints (first column, after the header)."""
    done = subprocess.run([sys.executable, "-m", "bench", "list"], cwd=side.root, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise UsageError(f"{side.describe()}: `python -m bench list` failed: "
                         f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}


def side_command(side: Side, cell: Cell, profile: Profile, output: Path, spin_rate: float,
                 inject: tuple[str, float] | None, worker: bool = False) -> list[str]:
    """The `python -m bench run` command of one worker of `side`, with only the flags that side knows.

    worker=False: pyperf's parent with one worker process (its depth run included); True: pyperf's worker
    alone (`--worker`: no parent, no depth run), to run in worker_environ's environment.
    """
    flags = []
    for flag in scenario_flags(cell.scenario):
        name, _, value = flag.partition("=")
        if name in side.flags:
            flags.append(flag)
        elif DEFAULTS.get(name) != value:
            raise UsageError(f"{side.describe()}: its `bench run` has no {name}, needed by {cell.name}; "
                             f"leave that benchmark out with --only")
    mode = "--worker" if worker else "--processes=1"
    cmd = [sys.executable, "-m", "bench", "run", cell.variant, *flags, mode,
           f"--values={profile.values}", f"--warmups={profile.warmups}", "--loops=1", "--quiet",
           f"--output={output}"]
    if "--spin-rate" in side.flags:
        cmd.append(f"--spin-rate={spin_rate}")
    if inject and side.label == "head" and inject[0] == cell.variant:
        cmd.append(f"--inject-slowdown={inject[0]}={inject[1]}")
    return cmd


def worker_environ(env: dict) -> dict:
    """The environment pyperf's parent, run in `env`, gives the worker it spawns; for a `--worker` run alone.

    Mirrors pyperf's Manager.spawn_worker, which calls pyperf._utils.create_environ(args.inherit_environ,
    args.locale, args.copy_env) on its own os.environ: only PATH, HOME, a few Python and pyperf variables and
    the locale (the default; the check passes no --no-locale and no --copy-env), plus --inherit-environ,
    which bench/pyperf_run.py extends with EXTRA_DESIGNS_ENV when that is set. pyperf's own function is
    called, with os.environ set to `env` for the call (the parent's os.environ is `env`).
    """
    from unittest import mock

    from pyperf._utils import create_environ  # the check's process only

    inherit = [EXTRA_DESIGNS_ENV] if env.get(EXTRA_DESIGNS_ENV) else None
    with mock.patch.dict(os.environ, env, clear=True):  # restored on leaving, whatever happens
        return dict(create_environ(inherit, True, False))


def run_worker(side: Side, cell: Cell, cmd: list[str], output: Path, env: dict,
               timeout: float) -> tuple[list[float] | None, dict]:
    """Run one worker command; (values, metadata) when it finished, (None, {"status", "reason"}) if not."""
    import pyperf  # the check's process only

    output.unlink(missing_ok=True)
    returncode, text = run_child(cmd, timeout, side.root, env)  # an interrupt kills the worker's tree
    if returncode is None:
        return None, {"status": "timeout", "reason": f"worker killed after {timeout:.0f} s"}
    if returncode != 0 or not output.exists():
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        ours = [line for line in lines if line.startswith("prodcon: ")]
        reason = (ours or lines or [f"exit status {returncode}"])[-1]
        return None, {"status": "failed", "reason": reason[:300]}
    bench = pyperf.Benchmark.load(str(output))
    return list(bench.get_values()), dict(bench.get_metadata())


def _worker_timeout(cell: Cell, profile: Profile) -> float:
    return WORKER_TIMEOUT_FLOOR + (profile.warmups + profile.values) * deadline_for(cell.scenario)


class _Sides:
    """The two sides' folders: worktrees made in a temporary folder, removed on close()."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.tmp = Path(tempfile.mkdtemp(prefix="prodcon-check-"))
        self.worktrees: list[Path] = []

    def side(self, label: str, ref: str | None) -> Side:
        """A side for `ref` (a fresh worktree of its commit), or for the working tree when ref is None."""
        if ref is None:
            commit = _git(self.repo, "rev-parse", "HEAD")
            dirty = _git(self.repo, "status", "--porcelain", check=False)
            return Side(label, None, commit + ("+dirty" if dirty else ""), self.repo)
        commit = resolve(self.repo, ref)
        folder = self.tmp / label
        _git(self.repo, "worktree", "add", "--detach", "--quiet", str(folder), commit)
        self.worktrees.append(folder)
        return Side(label, ref, commit, folder)

    def close(self) -> None:
        """Remove every worktree made and the temporary folder (safe to call twice)."""
        for folder in self.worktrees:
            _git(self.repo, "worktree", "remove", "--force", str(folder), check=False)
        self.worktrees = []
        _git(self.repo, "worktree", "prune", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def looks(rounds: int, max_rounds: int) -> int:
    """How many times a benchmark's interval may be computed: after `rounds`, then after each EXTRA_ROUNDS
    more (the last addition perhaps shorter) until `max_rounds`."""
    return 1 + max(0, -(-(max_rounds - rounds) // EXTRA_ROUNDS))


def _check_commit(side: Side, metadata: dict) -> None:
    """Fail when a worker's results say it ran code from another commit than its side's."""
    found = str(metadata.get("prodcon_git_commit", ""))
    if found and found != "unknown" and found.split("+")[0] != side.commit.split("+")[0]:
        raise UsageError(f"{side.describe()}: its worker ran code of commit {found[:12]}: the side's own "
                         f"code was not imported (PYTHONPATH or an installed copy in the way?)")


def _measure_rounds(measures: list[Measure], sides: dict[str, Side], options: CheckOptions, env: dict,
                    spin_rate: float, rng: random.Random, tmp: Path, progress, whole: set[tuple[str, str]],
                    count: int | None = None) -> None:
    """Run `count` (default options.rounds) rounds of every benchmark in `measures` that has not failed.

    The rounds are appended to each Measure. `whole` holds the (benchmark, side) pairs already run once as a
    whole `bench run` (parent with its depth run, and worker); a pair's first run is one, and joins `whole`
    when it succeeds; every later run is pyperf's worker alone (side_command's worker=True, in
    worker_environ's environment). Every result's commit is checked against its side's (_check_commit).
    """
    alone_env = worker_environ(env)
    for _ in range(options.rounds if count is None else count):
        for measure in measures:
            if measure.failure:
                continue
            order = ("base", "head") if rng.random() < 0.5 else ("head", "base")
            found = {"order": "".join(label[0].upper() for label in order)}
            for label in order:
                side = sides[label]
                output = tmp / f"{label}.json"
                alone = (measure.cell.name, label) in whole
                cmd = side_command(side, measure.cell, options.profile, output, spin_rate, options.inject,
                                   worker=alone)
                began = time.monotonic()
                values, meta = run_worker(side, measure.cell, cmd, output, alone_env if alone else env,
                                          _worker_timeout(measure.cell, options.profile))
                measure.seconds += time.monotonic() - began
                if values is None:
                    measure.failure = {"side": label, **meta}
                    break
                whole.add((measure.cell.name, label))
                _check_commit(side, meta)
                found[label] = values
            else:
                measure.rounds.append(found)
            progress.update(1)


def _settle(measures: list[Measure], sides: dict[str, Side], options: CheckOptions, env: dict,
            spin_rate: float, rng: random.Random, tmp: Path, progress, whole: set[tuple[str, str]],
            level: float) -> None:
    """Add rounds, EXTRA_ROUNDS at a time, to every benchmark of `measures` still undecided, until it is
    decided or has options.max_rounds rounds (as many looks as looks() counts)."""
    while True:
        pending = [measure for measure in measures if not measure.failure
                   and len(measure.rounds) < options.max_rounds
                   and _row(measure, level, options.threshold)["verdict"] == "undecided"]
        if not pending:
            return
        count = min(EXTRA_ROUNDS, options.max_rounds - max(len(measure.rounds) for measure in pending))
        progress.total += count * len(pending)
        progress.refresh()
        _measure_rounds(pending, sides, options, env, spin_rate, rng, tmp, progress, whole, count)


def _row(measure: Measure, level: float, threshold: float) -> dict:
    """A benchmark's row: medians per side, per-round ratios, ratio, interval and verdict."""
    ratios = [gate_stats.round_ratio(r["base"], r["head"]) for r in measure.rounds]
    medians = {label: [statistics.median(r[label]) for r in measure.rounds] for label in ("base", "head")}
    row = {"benchmark": measure.cell.name, "variant": measure.cell.variant, "rounds": len(ratios),
           "wall_s": round(measure.seconds, 1),
           "failure": measure.failure, "round_ratios": ratios, "orders": [r["order"] for r in measure.rounds],
           "base_s": statistics.median(medians["base"]) if ratios else None,
           "head_s": statistics.median(medians["head"]) if ratios else None}
    if measure.failure or not ratios:
        row.update(ratio=None, low=None, high=None, verdict="failed")
        return row
    ratio = statistics.median(ratios)
    verdict = gate_stats.decide(ratio, gate_stats.sign_interval(ratios, level), threshold)
    row.update(ratio=verdict.ratio, low=verdict.low, high=verdict.high, verdict=verdict.status)
    return row


def _inject_target(options: CheckOptions, sides: dict[str, Side], chosen: list[Cell]) -> None:
    """UsageError when --inject-slowdown names a design no compared benchmark runs (nothing injected)."""
    if not options.inject or any(cell.variant == options.inject[0] for cell in chosen):
        return
    variant = options.inject[0]
    for label in ("head", "base"):
        if variant not in sides[label].designs:
            raise UsageError(f"--inject-slowdown {variant}: {sides[label].describe()} has no design "
                             f"{variant}; nothing would be injected")
    raise UsageError(f"--inject-slowdown {variant}: no compared benchmark runs that design")


def run_check(options: CheckOptions) -> dict:
    """Measure both sides round by round, settle undecided benchmarks, re-measure flagged ones; the report.

    The report (see check_report) has "exit_status" from gate_stats.exit_status: 1 when a benchmark was
    slower (confirmed), failed on either side, or is on one side only (unless options.allow_missing); else
    3 when one stayed undecided; else 0. Bad input raises UsageError.
    """
    from tqdm import tqdm  # the check's process only

    from variants import workload

    pattern = _compile(options.only)
    chosen = [cell for cell in cells(options.profile)
              if not cell.unsupported and (pattern is None or pattern.search(cell.name))]
    if not chosen:
        raise UsageError(f"--only {options.only!r} matches no benchmark of profile {options.profile.name}")
    if options.inject and not any(cell.variant == options.inject[0] for cell in chosen):
        raise UsageError(f"--inject-slowdown {options.inject[0]}: no chosen benchmark runs that design")
    if options.max_rounds < options.rounds:
        raise UsageError(f"--max-rounds {options.max_rounds} is below --rounds {options.rounds}")
    looked = looks(options.rounds, options.max_rounds)
    level = gate_stats.family_level(len(chosen), looks=looked)
    need = gate_stats.min_rounds(level)
    if options.rounds < need:
        raise UsageError(f"--rounds {options.rounds} cannot decide {len(chosen)} benchmarks at level "
                         f"{level:.4f} ({gate_stats.ALPHA * 100:g}% over {len(chosen)} benchmarks and "
                         f"{looked} looks, --max-rounds {options.max_rounds}): the sign test needs at least "
                         f"{need} rounds")
    repo = repository(options.repo)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    started, load_start = time.monotonic(), load_average()
    holder = _Sides(repo)
    with interruptible():  # Ctrl-C and SIGTERM end the check; worktrees go either way
        try:
            sides = {"base": holder.side("base", options.base), "head": holder.side("head", options.head)}
            for side in sides.values():
                side.flags, side.designs = _flags_of(side, env), _designs_of(side, env)
            missing = [cell.name for cell in chosen if cell.variant not in sides["head"].designs]
            new = [cell.name for cell in chosen if cell.variant not in sides["base"].designs]
            chosen = [cell for cell in chosen if cell.name not in missing and cell.name not in new]
            _inject_target(options, sides, chosen)
            if not chosen:
                raise UsageError("no benchmark left that both sides can run (designs missing on one side)")
            level = gate_stats.family_level(len(chosen), looks=looked)
            if options.inject and "--inject-slowdown" not in sides["head"].flags:
                raise UsageError(f"{sides['head'].describe()}: its `bench run` has no --inject-slowdown")
            for cell in chosen:  # flags every side needs, checked before anything runs
                for side in sides.values():
                    side_command(side, cell, options.profile, holder.tmp / "x.json", 1.0, options.inject)
            spin_rate = workload.spins_per_second()  # one cpu-work rate for both sides, as bench all does
            rng = random.Random(options.seed)
            measures = [Measure(cell) for cell in chosen]
            whole: set[tuple[str, str]] = set()  # depth run done: see _measure_rounds
            steps = (sides, options, env, spin_rate, rng, holder.tmp)
            with tqdm(total=options.rounds * len(chosen), unit="pair", file=sys.stderr, mininterval=1.0,
                      desc="check: worker pairs") as progress:
                _measure_rounds(measures, *steps, progress, whole)
                _settle(measures, *steps, progress, whole, level)
                rows = [_row(measure, level, options.threshold) for measure in measures]
                flagged = [measure for measure, row in zip(measures, rows, strict=True)
                           if row["verdict"] == "slower"]
                again = [Measure(measure.cell) for measure in flagged]
                progress.total += options.rounds * len(again)
                progress.refresh()
                _measure_rounds(again, *steps, progress, whole)
                _settle(again, *steps, progress, whole, level)
            for measure in again:
                row = next(row for row in rows if row["benchmark"] == measure.cell.name)
                second = _row(measure, level, options.threshold)
                row["first"] = {key: row[key] for key in ("ratio", "low", "high", "verdict", "round_ratios",
                                                           "orders", "base_s", "head_s", "rounds")}
                for key in ("ratio", "low", "high", "round_ratios", "orders", "base_s", "head_s", "failure",
                            "rounds"):
                    row[key] = second[key]
                row["wall_s"] += second["wall_s"]
                row["verdict"] = second["verdict"] if second["verdict"] in ("slower", "failed", "undecided") \
                    else "not confirmed"
        finally:
            holder.close()
    verdicts = [row["verdict"] for row in rows]
    unaccepted = 0 if options.allow_missing else len(missing) + len(new)
    return {
        "format": 1, "mode": "rounds", "profile": options.profile.name, "only": options.only,
        "base": _describe(sides["base"]), "head": _describe(sides["head"]),
        "rounds": options.rounds, "max_rounds": options.max_rounds, "extra_rounds": EXTRA_ROUNDS,
        "looks": looked, "seed": options.seed, "threshold": options.threshold,
        "alpha": gate_stats.ALPHA, "level": level, "min_rounds": gate_stats.min_rounds(level),
        "interval": "sign test over rounds",
        "injected": None if options.inject is None else
        {"variant": options.inject[0], "factor": options.inject[1]},
        "spin_rate": spin_rate, "values_per_worker": options.profile.values,
        "warmups_per_worker": options.profile.warmups, "load_start": load_start,
        "load_end": load_average(), "wall_s": round(time.monotonic() - started, 1),
        "benchmarks": rows, "failed": [], "missing": missing, "new": new,
        "allow_missing": options.allow_missing, "drift_warning": None,
        "exit_status": gate_stats.exit_status(verdicts, 0, unaccepted),
    }


def _describe(side: Side) -> dict:
    return {"label": side.label, "ref": side.ref, "commit": side.commit, "text": side.describe()}


def _compile(only: str | None) -> re.Pattern | None:
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
    )
