"""runs/comparison.py: the one place that decides which benchmarks of two runs can be compared."""

from __future__ import annotations

from runs.comparison import Entry, match

OK = Entry("ok", 20000, "time per item", (1.0, 1.1, 0.9))


def test_benchmarks_are_sorted_by_what_can_be_compared():
    a = {"same": OK, "gone": OK, "broke": OK, "recount": OK, "rekind": OK, "na": Entry("n/a"),
         "failed twice": Entry("failed"), "empty": Entry("ok", 20000, "time per item", ())}
    b = {"same": OK, "new": OK, "broke": Entry("timeout"),
         "recount": Entry("ok", 2000, "time per item", (1.0,)),
         "rekind": Entry("ok", 20000, "latency", (1.0,)),
         "na": Entry("n/a"), "failed twice": Entry("failed"), "empty": OK}
    found = match(a, b)
    assert found.both == ["same"]
    assert found.only_a == ["gone"] and found.only_b == ["new"]
    assert found.changed == [("broke", "ok", "timeout", "status ok in A, timeout in B"),
                             ("recount", "ok", "ok", "items differ: 20000 in A, 2000 in B"),
                             ("rekind", "ok", "ok", "value kinds differ: time per item in A, latency in B"),
                             ("empty", "ok", "ok", "no process figure on side A")]
    assert found.neither == [("na", "n/a"), ("failed twice", "failed")]
    assert found.failed() == [("broke", "b"), ("failed twice", "a"), ("failed twice", "b")]
    assert found.items_differ() == ["recount"]


def test_nothing_in_common():
    found = match({"x": OK}, {"y": OK})
    assert (found.both, found.only_a, found.only_b) == ([], ["x"], ["y"])
    assert found.changed == found.neither == []
