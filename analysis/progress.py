"""Progress of a long report or comparison: one tqdm bar on stderr, as `bench all` draws its own.

The bar appears only after DELAY seconds, so a quick report prints nothing but its result.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["steps", "DELAY"]

DELAY = 2.0  # seconds before the bar shows


class _Steps:
    def __init__(self, bar) -> None:
        self._bar = bar
        self._started = False

    def __call__(self, name: str) -> None:
        """Mark the previous step done and name the one that starts now."""
        self._bar.set_postfix_str(name, refresh=False)  # shown with the next update, not before DELAY
        if self._started:
            self._bar.update(1)
        self._started = True


@contextmanager
def steps(total: int, what: str):
    """A context giving a callable step(name); the bar counts `total` steps of `what`."""
    from tqdm import tqdm  # only the commands that report

    with tqdm(total=total, desc=what, unit="step", file=sys.stderr, delay=DELAY, leave=False,
              bar_format="{desc}: {bar}| {n_fmt}/{total_fmt} [{elapsed}] {postfix}") as bar:
        yield _Steps(bar)
        bar.update(bar.total - bar.n)
