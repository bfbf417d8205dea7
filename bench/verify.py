"""Verification of one run's Outcome, done after the clock has stopped, on every run.

A run passes when no worker raised, every task of a one-thread design ran to its end (the design says so
in extras["tasks_finished"]; saying nothing fails), every item was received exactly once with its payload
intact, and each consumer saw each producer's items in the order they were sent (for designs that
promise FIFO). Anything else is a failure with a one-line reason; it never becomes a figure.
"""

from __future__ import annotations

from collections import Counter

from variants import ONE_THREAD_MODELS  # their tasks can be left behind unseen
from variants.contract import Outcome, Scenario
from variants.workload import item_id, payload_bytes

__all__ = ["verify"]


def _examples(values) -> str:
    shown = sorted(values)[:3]
    return ", ".join(map(str, shown)) + (", ..." if len(values) > 3 else "")


def verify(scenario: Scenario, outcome: Outcome, fifo: bool = True, model: str | None = None) -> str | None:
    """Return None if the outcome is correct for the scenario, else a one-line reason."""
    if outcome.errors:
        more = f" (and {len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
        return f"a worker raised: {outcome.errors[0]}{more}"
    if model in ONE_THREAD_MODELS:
        finished = outcome.extras.get("tasks_finished")
        if finished is None:
            return "did not report that its tasks finished"
        if finished is not True:
            return "tasks did not finish: the design left a task unfinished or cancelled"
    if len(outcome.received) != scenario.consumers:
        return f"expected {scenario.consumers} consumer lists, got {len(outcome.received)}"
    try:
        ids = [item_id(item) for got in outcome.received for item in got]
    except (TypeError, IndexError, KeyError):
        ids = None
    if ids is None or any(type(i) is not int for i in ids):
        return "a consumer received something that is not an item"
    if len(ids) != scenario.items or set(ids) != set(range(scenario.items)):
        counts = Counter(ids)
        lost = set(range(scenario.items)) - counts.keys()
        dup = {i for i, n in counts.items() if n > 1}
        alien = counts.keys() - set(range(scenario.items))
        parts = []
        if lost:
            parts.append(f"lost {len(lost)} items ({_examples(lost)})")
        if dup:
            parts.append(f"duplicated {len(dup)} items ({_examples(dup)})")
        if alien:
            parts.append(f"received {len(alien)} unknown items ({_examples(alien)})")
        return "; ".join(parts)
    if scenario.payload:
        for got in outcome.received:
            for item in got:
                if type(item) is not tuple or item[1:] != (payload_bytes(item[0], scenario.payload),):
                    return f"payload of item {item_id(item)} corrupted"
    if fifo:
        p_count = scenario.producers
        for c, got in enumerate(outcome.received):
            last = [-1] * p_count
            for item in got:
                i = item_id(item)
                if i <= last[i % p_count]:
                    return (f"order broken: consumer {c} got item {i} after {last[i % p_count]}"
                            f" from producer {i % p_count}")
                last[i % p_count] = i
    return None
