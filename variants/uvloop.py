"""The `asyncio` design on uvloop's event loop: asyncio.Queue between tasks on one libuv-based loop.

Everything but the loop is the `asyncio` design's (variants/asyncio.py, through its `run_on` hook): the
same asyncio.Queue (maxsize = capacity, 0 when unbounded), the same tasks, start gate and stop protocol
(when every producer task has finished, the main task puts one sentinel per consumer). So a difference
between the two designs is the loop's. Like the `asyncio` design it stops with sentinels only.

uvloop's timers have whole-millisecond resolution: `call_later` rounds its delay to the nearest
millisecond, so `await asyncio.sleep(200e-6)` returns at once and a 0.6 ms sleep lasts 1 ms. Paced
arrivals would then be sent early and `io:20us` work would be no wait at all, which no other design gets.
So the loop here (`Loop`) keeps uvloop's timer for the whole milliseconds of a delay and polls the rest
(one call_soon per loop turn) until perf_counter() reaches the deadline: every wait ends on time, never
early, as the generator design's do, at the price of a busy core for the last fraction of a millisecond
(the CPU chart shows it). Runs without timers (flat arrivals, work none or cpu) never reach that code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from variants import asyncio as asyncio_design
from variants import workload
from variants.contract import Outcome, Scenario

try:
    import uvloop
except ImportError as exc:  # the design is then n/a, saying why (unsupported)
    uvloop, MISSING = None, f"uvloop cannot be imported: {exc}"
else:
    MISSING = None

NAME = "uvloop"
MODEL = "asyncio"
SUMMARY = "asyncio.Queue between tasks on uvloop's event loop (maxsize for bounded)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # asyncio.Queue is a FIFO

Buffer = asyncio.Queue  # a module name, so a test can substitute an instrumented subclass


class _Timer:
    """A call_later handle on uvloop that never fires before its perf_counter() deadline."""

    def __init__(self, loop: Loop, deadline: float, callback: Callable, args: tuple, context) -> None:
        self._loop, self._deadline = loop, deadline
        self._callback, self._args, self._context = callback, args, context
        self._cancelled = False
        self._arm()

    def _arm(self) -> None:
        left = self._deadline - time.perf_counter()
        whole = int(left * 1000) / 1000  # whole milliseconds, which uvloop's timer keeps exactly
        if whole > 0:
            self._handle = self._loop.ms_timer(whole, self._fire, self._context)
        else:
            self._handle = self._loop.call_soon(self._fire, context=self._context)

    def _fire(self) -> None:
        if time.perf_counter() < self._deadline:
            self._arm()  # uvloop's clock is cached per loop turn: its timer may end a little early
        else:
            self._callback(*self._args)

    def cancel(self) -> None:
        """Cancel the call, as asyncio.TimerHandle.cancel does."""
        self._cancelled = True
        self._handle.cancel()

    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._cancelled

    def __repr__(self) -> str:
        return f"<_Timer due in {self._deadline - time.perf_counter():.6f} s cancelled={self._cancelled}>"


if uvloop is not None:
    class Loop(uvloop.Loop):
        """uvloop's loop whose call_later (and so asyncio.sleep) waits exactly, see the module docstring."""

        def call_later(self, delay: float, callback: Callable, *args, context=None) -> _Timer:
            return _Timer(self, time.perf_counter() + max(delay, 0.0), callback, args, context)

        def ms_timer(self, delay: float, callback: Callable, context) -> asyncio.TimerHandle:
            """uvloop's own call_later: a timer of `delay` rounded to whole milliseconds."""
            return super().call_later(delay, callback, context=context)


def unsupported(scenario: Scenario) -> str | None:
    """n/a without uvloop; else every scenario with the common stop protocol, as the `asyncio` design."""
    return MISSING or workload.sentinels_only(NAME, scenario)


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once on a fresh uvloop loop (the `asyncio` design's run)."""
    return asyncio_design.run_on(scenario, Loop, Buffer)
