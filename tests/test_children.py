"""bench/children.py: benchmark subprocesses that die with their tree, and interrupts held while one starts.

In-process tests: the interrupt is this process's own SIGINT or SIGTERM, raised at a chosen moment (inside
Popen, or once a grandchild is seen running), so that nothing depends on timing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench import children
from bench.children import held_interrupts, interruptible, run_child
from tests.cli_helpers import assert_no_stray_process

SIGNALS = pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
SLEEPER = "import sys, time; print('started', flush=True); time.sleep(float(sys.argv[1]))"


@pytest.fixture(autouse=True)
def _ctrl_c_raises():
    """Ctrl-C's default handler, which interruptible() takes over (the suite may run with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.timeout(30)
@SIGNALS
def test_an_interrupt_while_a_child_starts_waits_until_the_child_can_be_killed(tmp_path, monkeypatch, signum):
    """The interrupt lands inside Popen, once the child exists: Popen returns, then KeyboardInterrupt is
    raised and the child is killed and reaped. Raised inside Popen instead, it would leave the child running
    with its pid unknown."""
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen_then_interrupt(*args, **kwargs) -> subprocess.Popen:
        started.append(real_popen(*args, **kwargs))
        signal.raise_signal(signum)  # runs the Python handler before returning
        started.append("Popen returned")
        return started[0]

    monkeypatch.setattr(subprocess, "Popen", popen_then_interrupt)
    try:
        with pytest.raises(KeyboardInterrupt), interruptible():
            run_child([sys.executable, "-c", SLEEPER, "60", str(tmp_path)], 20, tmp_path)
        assert started[1:] == ["Popen returned"], "the interrupt was raised inside Popen"
        assert started[0].returncode == -signal.SIGKILL  # killed, and reaped (wait() set its status)
        assert started[0].stdout.closed
        assert children._INTERRUPTS.pending is False  # delivered: none left over for the next block
    finally:
        assert_no_stray_process(str(tmp_path))  # kills a child left running, and fails


@pytest.mark.timeout(30)
@SIGNALS
def test_an_interrupt_while_a_child_runs_kills_its_whole_tree(tmp_path, signum):
    """Ctrl-C or SIGTERM while the child waits: its grandchild (same session) dies with it."""
    marker = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time\n"
            f"grandchild = subprocess.Popen([sys.executable, '-c', {SLEEPER!r}, '60', {str(tmp_path)!r}])\n"
            f"open({str(marker)!r}, 'w').write(str(grandchild.pid))\n"
            "time.sleep(60)\n")

    def interrupt_once_the_grandchild_runs() -> None:
        limit = time.monotonic() + 20
        while not (marker.exists() and marker.read_text()) and time.monotonic() < limit:
            time.sleep(0.02)
        signal.pthread_kill(threading.main_thread().ident, signum)  # handlers run in the main thread

    interrupter = threading.Thread(target=interrupt_once_the_grandchild_runs)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt), interruptible():
            run_child([sys.executable, "-c", code], 25, tmp_path)
    finally:
        interrupter.join()
    assert _dies(int(marker.read_text())), "the grandchild outlived the interrupt"
    assert_no_stray_process(str(tmp_path))


def _dies(pid: int, within: float = 10.0) -> bool:
    """Whether process `pid` is gone (or a zombie) within `within` seconds: a SIGKILL is not instant."""
    limit = time.monotonic() + within
    while time.monotonic() < limit:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.timeout(30)
def test_a_child_that_overruns_its_time_limit_is_killed(tmp_path):
    returncode, output = run_child([sys.executable, "-c", SLEEPER, "60", str(tmp_path)], 0.5, tmp_path)
    assert returncode is None
    assert "started\n".startswith(output)  # whatever it printed before the limit, if anything
    assert_no_stray_process(str(tmp_path))


@pytest.mark.timeout(30)
def test_a_child_that_finishes_gives_its_status_and_output(tmp_path: Path):
    code = "import sys; print('out'); print('err', file=sys.stderr, flush=True); sys.exit(3)"
    assert run_child([sys.executable, "-c", code], 20, tmp_path) == (3, "out\nerr\n")


@SIGNALS
def test_held_interrupts_deliver_the_interrupt_when_the_block_ends(signum):
    done = []
    with pytest.raises(KeyboardInterrupt), interruptible():
        with held_interrupts():
            signal.raise_signal(signum)
            done.append("the block ran on")
        done.append("after the block")  # not reached: the interrupt is raised as the block ends
    assert done == ["the block ran on"]


@SIGNALS
def test_an_interrupt_outside_a_held_block_is_raised_at_once(signum):
    with pytest.raises(KeyboardInterrupt), interruptible():
        signal.raise_signal(signum)
        pytest.fail("not interrupted")


def test_interruptible_restores_the_handlers_and_leaves_an_ignored_ctrl_c_alone():
    before = signal.getsignal(signal.SIGTERM)
    with interruptible():
        assert signal.getsignal(signal.SIGTERM) == signal.getsignal(signal.SIGINT) != before
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup or in a shell's background job
    with interruptible():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
