"""Benchmark subprocesses: each in its own session, killed with its whole tree on timeout or interrupt.

Used by `bench all` and `bench check`. Within `interruptible()`, Ctrl-C and SIGTERM raise
KeyboardInterrupt, except while a child is being started: raised inside Popen, an interrupt would leave a
started child whose pid was never learnt, to run on and write its files after the clean-up. Held, it is
raised the moment Popen has returned, when the child can be killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["interruptible", "held_interrupts", "kill_tree", "run_child"]


class _Interrupts:
    holding = False  # a child is being started: an interrupt waits
    pending = False  # an interrupt came while holding

    def handler(self, signum, frame) -> None:
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending:
                self.pending = False
                raise KeyboardInterrupt


_INTERRUPTS = _Interrupts()


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM, and Ctrl-C unless the shell ignores it, raise KeyboardInterrupt within the block."""
    caught = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        caught.append(signal.SIGINT)
    previous = {signum: signal.signal(signum, _INTERRUPTS.handler) for signum in caught}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Within `interruptible()`, an interrupt during the block waits for its end (e.g. files and the
    run.json that lists them written together)."""
    with _INTERRUPTS.held():
        yield


def kill_tree(process: subprocess.Popen) -> None:
    """Kill a child and everything it started (it leads its own session), and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_child(cmd: list[str], timeout: float, cwd: Path, env: dict | None = None) -> tuple[int | None, str]:
    """Run a command in its own session: (exit status, output), or (None, output) on timeout.

    On any exception (Ctrl-C, SIGTERM) its whole process tree is killed before the exception goes on.
    """
    process = None
    try:
        with _INTERRUPTS.held():
            process = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        kill_tree(process)
        return None, process.stdout.read() if process.stdout else ""
    except BaseException:  # no child outlives its caller
        if process is not None:
            kill_tree(process)
        raise
    finally:
        if process is not None and process.stdout:
            process.stdout.close()
