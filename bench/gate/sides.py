"""The two sides of `bench check --base`: where each side's code lives and what its `bench run` knows.

Each side runs its own code: a ref is checked out with `git worktree` in a temporary folder, the working
tree (the default head) is used where it is, and every benchmark runs as `python -m bench run ...` with the
side's folder as the working directory, so `-m` puts that folder first on sys.path, ahead of any installed
copy (each result's `prodcon_git_commit` is checked against the side's commit to prove it: check_commit).

"Dirty" is never an error: a ref is measured from a clean worktree whatever the working tree holds; the
working tree is measured as it is (uncommitted and untracked files included) and labelled `<commit>+dirty`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.designs import EXTRA_DESIGNS_ENV
from bench.flags import scenario_flags
from bench.profiles import Cell, Profile
from runs.errors import UsageError
from variants.servers import BROKER_ENV

__all__ = ["Side", "Sides", "repository", "resolve", "flags_of", "designs_of", "side_command",
           "worker_environ", "check_commit"]

REQUIRED_FLAGS = ("--producers", "--consumers", "--capacity", "--items", "--processes", "--values",
                  "--warmups", "--loops", "--quiet", "--output")
DEFAULTS = {"--arrival": "flat", "--work": "none", "--payload": "0"}  # omitted when a side lacks the flag


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

    def as_report(self) -> dict:
        """The side as the check's report holds it: label, ref, commit and describe()'s line."""
        return {"label": self.label, "ref": self.ref, "commit": self.commit, "text": self.describe()}


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


def flags_of(side: Side, env: dict) -> set[str]:
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


def designs_of(side: Side, env: dict) -> set[str]:
    """The design names the side's `python -m bench list` prints (first column, after the header)."""
    done = subprocess.run([sys.executable, "-m", "bench", "list"], cwd=side.root, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise UsageError(f"{side.describe()}: `python -m bench list` failed: "
                         f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}


def side_command(side: Side, cell: Cell, profile: Profile, output: Path, spin_rate: float,
                 inject: tuple[str, float] | None, worker: bool = False,
                 python: str = sys.executable) -> list[str]:
    """The `python -m bench run` command of one worker of `side`, with only the flags that side knows.

    worker=False: pyperf's parent with one worker process (its depth run included); True: pyperf's worker
    alone (`--worker`: no parent, no depth run), to run in worker_environ's environment. `python` runs it
    (the cell's interpreter, `bench check --python`).
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
    if cell.python:
        if "--python-tag" not in side.flags:
            raise UsageError(f"{side.describe()}: its `bench run` has no --python-tag; too old for "
                             "bench check --python")
        flags.append(f"--python-tag={cell.python}")
    cmd = [python, "-m", "bench", "run", cell.variant, *flags, mode,
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
    which bench/pyperf_run.py extends with EXTRA_DESIGNS_ENV and BROKER_ENV when they are set. pyperf's
    own function is called, with os.environ set to `env` for the call (the parent's os.environ is `env`).
    """
    from unittest import mock

    from pyperf._utils import create_environ  # the check's process only

    inherit = [name for name in (EXTRA_DESIGNS_ENV, BROKER_ENV) if env.get(name)] or None
    with mock.patch.dict(os.environ, env, clear=True):  # restored on leaving, whatever happens
        return dict(create_environ(inherit, True, False))


class Sides:
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


def check_commit(side: Side, metadata: dict) -> None:
    """Fail when a worker's results say it ran code from another commit than its side's."""
    found = str(metadata.get("prodcon_git_commit", ""))
    if found and found != "unknown" and found.split("+")[0] != side.commit.split("+")[0]:
        raise UsageError(f"{side.describe()}: its worker ran code of commit {found[:12]}: the side's own "
                         f"code was not imported (PYTHONPATH or an installed copy in the way?)")
