"""queue.Queue between threads, unbounded or bounded with maxsize (seeds 000 and 004).

The standard library's answer: a deque guarded by one mutex and two conditions. Seed 004's patterns
(1P1C, maxsize, N producers, one sentinel per consumer) are all this module with different scenarios.
"""

from __future__ import annotations

import queue

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "queue"
MODEL = "thread"
SUMMARY = "queue.Queue between threads (maxsize for bounded)"
SEED = "000, 004"
FIFO = True  # queue.Queue hands items over in the order they were put

Buffer = queue.Queue  # a module name, so a test can substitute an instrumented subclass


def unsupported(scenario: Scenario) -> str | None:
    """queue.Queue takes every scenario."""
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one queue.Queue(maxsize=capacity or 0)."""
    buffer = Buffer(maxsize=scenario.capacity or 0)
    return run_threads(scenario, buffer.put, buffer.get)
