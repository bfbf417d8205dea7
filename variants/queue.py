"""queue.Queue between threads, unbounded or bounded with maxsize (seeds 000 and 004).

The standard library's answer: a deque guarded by one mutex and two conditions. Seed 004's topologies
(1P1C, maxsize, N producers, N consumers) are this module with different scenarios; its shutdowns (a
Barrier and one sentinel that consumers put back; an Event with get(timeout)) are the `barrier` and
`event` stop protocols of variants/threads.py, which every thread design shares; the default is the suite's
common one, a sentinel per consumer.
"""

from __future__ import annotations

import queue
from functools import partial

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "queue"
MODEL = "thread"
SUMMARY = "queue.Queue between threads (maxsize for bounded)"
SEED = "000, 004"
FIFO = True  # queue.Queue hands items over in the order they were put

Buffer = queue.Queue  # a module name, so a test can substitute an instrumented subclass


def unsupported(scenario: Scenario) -> str | None:
    """queue.Queue takes every scenario and every stop protocol."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one queue.Queue(maxsize=capacity or 0)."""
    buffer = Buffer(maxsize=scenario.capacity or 0)
    get_timeout = partial(buffer.get, True)  # get_timeout(seconds): the event stop protocol's take
    return run_threads(scenario, buffer.put, buffer.get, get_timeout, queue.Empty)
