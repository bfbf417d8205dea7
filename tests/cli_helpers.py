"""Running `python -m bench` in a subprocess, as the CLI tests all do (see ../shared/STYLE.md, "Tests")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.designs import EXTRA_DESIGNS_ENV

ROOT = Path(__file__).parents[1]


def bench_env(extra: str | None = None) -> dict[str, str]:
    """This process's environment, with PRODCON_EXTRA_DESIGNS set to `extra` (or removed)."""
    env = {key: value for key, value in os.environ.items() if key != EXTRA_DESIGNS_ENV}
    if extra:
        env[EXTRA_DESIGNS_ENV] = extra
    return env


def default_sigint() -> None:
    """A Popen preexec_fn: Ctrl-C's default in the child, which a shell's background job would ignore.

    Started with SIGINT ignored, Python keeps ignoring it, and `bench` rightly honours that (as under
    nohup); a test that sends SIGINT must not depend on how the suite itself was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


DEADLINE: float | None = None  # when the running test's pytest-timeout fires (tests/conftest.py sets it)
MARGIN = 5.0  # seconds left to stop a child, reap its process group and report, before pytest-timeout


def time_left(limit: float) -> float:
    """`limit`, cut to the running test's remaining time less MARGIN (at least one second)."""
    if DEADLINE is None:
        return limit
    return max(1.0, min(limit, DEADLINE - time.monotonic() - MARGIN))


def run_bounded(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run for a command that may start children of its own.

    Its time limit is cut to the test's remaining time (time_left); at the limit the whole process group
    is killed (its workers too, which subprocess.run would leave running) and the test fails with the
    output so far.
    """
    limit = time_left(timeout)
    with subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          **kwargs) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            command = " ".join(map(str, cmd))
            raise AssertionError(f"{command} ran past {limit:.0f} s and was killed with its process group"
                                 f"\nstdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def bench(*args: str, extra: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m bench ARGS` from the repository root, no stdin, output captured as text (run_bounded)."""
    return run_bounded([sys.executable, "-m", "bench", *args], timeout, cwd=ROOT, env=bench_env(extra),
                       stdin=subprocess.DEVNULL, text=True)


def alive_with(proc: psutil.Process, marker: str) -> bool:
    """Whether `proc` is a live process (not this one, not a zombie) whose command line contains `marker`."""
    try:
        return (proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE
                and marker in " ".join(proc.cmdline()))
    except psutil.Error:  # gone meanwhile
        return False


def stray_processes(marker: str) -> list[psutil.Process]:
    """Live processes naming `marker` (a tmp_path) anywhere, or our descendants naming the stuck design."""
    descendants = {child.pid for child in psutil.Process().children(recursive=True)}
    return [proc for proc in psutil.process_iter()
            if alive_with(proc, marker) or (proc.pid in descendants and alive_with(proc, "stuck"))]


def assert_no_stray_process(marker: str, wait: float = 1.0) -> None:
    """Fail if a stray process (see stray_processes) is alive after `wait` seconds; kill it either way."""
    limit = time.monotonic() + wait
    while (left := stray_processes(marker)) and time.monotonic() < limit:
        time.sleep(0.1)
    described = []
    for proc in left:
        try:
            described.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
            os.killpg(proc.pid, signal.SIGKILL)
        except psutil.Error:
            pass
    assert not described, "processes left running:\n" + "\n".join(described)


def realtime() -> bool:
    """Whether this process runs under a real-time scheduling policy (Linux ignores timer slack there)."""
    try:
        return os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)
    except (AttributeError, OSError):  # not Linux
        return False
