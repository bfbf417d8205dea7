"""Running `python -m bench` in a subprocess, as the CLI tests all do (see ../shared/STYLE.md, "Tests")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.designs import EXTRA_DESIGNS_ENV

ROOT = Path(__file__).parents[1]


def bench_env(extra: str | None = None) -> dict[str, str]:
    """This process's environment, with PRODCON_EXTRA_DESIGNS set to `extra` (or removed)."""
    env = {key: value for key, value in os.environ.items() if key != EXTRA_DESIGNS_ENV}
    if extra:
        env[EXTRA_DESIGNS_ENV] = extra
    return env


def bench(*args: str, extra: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m bench ARGS` from the repository root, no stdin, output captured as text."""
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=bench_env(extra),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
