"""What makes a figure comparable: the machine, the Python, the commit, the load.

Recorded in run.json and in every benchmark's pyperf metadata (as `prodcon_*` keys).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["git_commit", "load_average", "machine_metadata"]

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """The checked-out commit of this project, with '+dirty' if the tree has changes; else 'unknown'."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_metadata() -> dict:
    """CPU count and affinity, Python version and build, switch interval, start method, pyperf version."""
    import pyperf  # the workers import it anyway; here it is only read for its version

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()),
        "python_config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "pyperf_version": pyperf.__version__,
        "mp_start_method": multiprocessing.get_start_method(allow_none=False),
        "switch_interval_s": sys.getswitchinterval(),
    }
