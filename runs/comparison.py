"""Two runs, benchmark by benchmark: which benchmarks can be compared, over which values.

The core that `bench compare` (analysis/compare.py: it describes, with bootstrap intervals) and the
stored-run check (`bench check --baseline --current`, bench/gate/stored.py: it decides, with a rank test)
share, so that the two cannot drift apart on what they compare. Each side gives, per benchmark, an `Entry`:
its status, its item count, the kind of its value and one figure per worker process (the process, not the
value, is the unit of repetition: docs/design.md). `match` sorts the benchmarks of two sides into

- `both`: measured (status ok) on both sides over the same items and the same kind of value: comparable;
- `only_a`, `only_b`: named on one side only;
- `changed`: on both sides but not comparable, with why: a status that differs (ok in A, failed in B),
  different item counts (the runs measured different things), a value of another kind (latency against
  time per item), or no process figure;
- `neither`: on both sides with the same status other than ok (failed twice, n/a twice, pending twice).

What a command does with each list is its own: the check fails on a failed benchmark and refuses different
item counts; compare lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Entry", "Matched", "match", "FAILED"]

FAILED = ("failed", "timeout")  # statuses of a benchmark that ran and broke (n/a and pending did not run)


@dataclass(frozen=True)
class Entry:
    """One benchmark of one run."""

    status: str  # ok, failed, timeout, n/a, pending
    items: int | None = None  # items per scenario run (None: not recorded)
    value_kind: str | None = None  # "time per item" or "latency" (None: not recorded)
    processes: tuple[float, ...] = ()  # one figure per worker process (ok benchmarks)


@dataclass
class Matched:
    """The benchmarks of two runs, sorted (see the module docstring); names in run A's order."""

    both: list[str] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # (name, status A, status B, why)
    neither: list[tuple[str, str]] = field(default_factory=list)  # (name, the status on both sides)

    def failed(self) -> list[tuple[str, str]]:
        """(name, "a" or "b") for each side where a benchmark named on both sides failed or timed out."""
        pairs = [(name, a, b) for name, a, b, _ in self.changed] + [(name, s, s) for name, s in self.neither]
        return [(name, side) for name, status_a, status_b in pairs
                for side, status in (("a", status_a), ("b", status_b)) if status in FAILED]

    def items_differ(self) -> list[str]:
        """The benchmarks whose item counts differ (the runs measured different things)."""
        return [name for name, _, _, why in self.changed if why.startswith("items differ")]


def _why_not(a: Entry, b: Entry) -> str | None:
    """Why two entries of one benchmark, both ok or of different statuses, cannot be compared (or None)."""
    if a.status != b.status:
        return f"status {a.status} in A, {b.status} in B"
    if a.items != b.items:
        return f"items differ: {a.items} in A, {b.items} in B"
    if a.value_kind != b.value_kind:
        return f"value kinds differ: {a.value_kind} in A, {b.value_kind} in B"
    if not a.processes or not b.processes:
        return "no process figure on " + ("either side" if not a.processes and not b.processes
                                          else "side A" if not a.processes else "side B")
    return None


def match(a: dict[str, Entry], b: dict[str, Entry]) -> Matched:
    """Sort the benchmarks of runs A and B into both, only_a, only_b, changed and neither."""
    found = Matched(only_a=[name for name in a if name not in b],
                    only_b=[name for name in b if name not in a])
    for name in (name for name in a if name in b):
        if a[name].status == b[name].status != "ok":
            found.neither.append((name, a[name].status))
            continue
        why = _why_not(a[name], b[name])
        if why is None:
            found.both.append(name)
        else:
            found.changed.append((name, a[name].status, b[name].status, why))
    return found
