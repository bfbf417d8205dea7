"""Verification of one run's Outcome, done after the clock has stopped, on every run.

A run passes when every item was received exactly once, each consumer saw each producer's items in the
order they were sent (for designs that promise FIFO), and no worker raised. Anything else is a failure
with a one-line reason; it never becomes a figure.
"""

from __future__ import annotations

from collections import Counter

from variants.contract import Outcome, Scenario
from variants.workload import item_id

__all__ = ["verify"]


def _examples(values) -> str:
    shown = sorted(values)[:3]
    return ", ".join(map(str, shown)) + (", ..." if len(values) > 3 else "")


def verify(scenario: Scenario, outcome: Outcome, fifo: bool = True) -> str | None:
    """Return None if the outcome is correct for the scenario, else a one-line reason."""
    if outcome.errors:
        more = f" (and {len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
        return f"a worker raised: {outcome.errors[0]}{more}"
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
