"""queue.SimpleQueue between threads, unbounded only (not from the seeds).

The standard library's lighter queue (Python 3.7+, written in C): no maxsize, no task tracking, a put that
never blocks. It is what people reach for when queue.Queue's locks and conditions look like too much. It
has no bound, so every bounded cell is n/a with that reason. The stop protocols are `queue`'s
(variants/threads.py): sentinels; seed 004's barrier (a put never blocks, so a consumer always puts the
sentinel back); seed 004's event with one consumer only (see below).
"""

# The event stop takes with get(timeout=...), and CPython's C SimpleQueue (3.7 to 3.12 here; 3.13.0 did
# not show it in three runs) can block in that get past its timeout, for ever, when two consumers contend:
# a consumer woken by a put whose item another consumer took first waits again with the remaining time
# (Modules/_queuemodule.c, "Adjust timeout for next iteration"), and once the deadline has passed that
# time is negative, which the lock takes as "no timeout". With 8 consumers taking
# with a 1 ms timeout from a producer at 60k items/s, a consumer was still blocked half a second after the
# last put in most runs (the stress run that found it: p6c8/capinf/steady:60935, event:1ms). Nothing puts
# after the last item in the event protocol, so such a consumer never leaves: a hang, not a figure.

from __future__ import annotations

import queue
from functools import partial

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "simple_queue"
MODEL = "thread"
SUMMARY = "queue.SimpleQueue between threads (unbounded only)"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # SimpleQueue hands items over in the order they were put

Buffer = queue.SimpleQueue  # a module name, so a test can substitute an instrumented subclass


def unsupported(scenario: Scenario) -> str | None:
    """SimpleQueue takes every unbounded scenario; the event stop with one consumer only (see above)."""
    if scenario.capacity is not None:
        return f"queue.SimpleQueue has no bound: capacity must be unbounded, got {scenario.capacity}"
    if scenario.stop.startswith("event") and scenario.consumers > 1:
        return ("queue.SimpleQueue.get(timeout) can block past its timeout for ever when consumers contend "
                "(CPython's C SimpleQueue): the event stop runs with one consumer only")
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one queue.SimpleQueue."""
    buffer = Buffer()
    get_timeout = partial(buffer.get, True)  # get_timeout(seconds): the event stop protocol's take
    return run_threads(scenario, buffer.put, buffer.get, get_timeout, queue.Empty)
