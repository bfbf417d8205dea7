"""runs/comparison.py: the one place that decides which benchmarks of two runs can be compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from analysis.compare import compare_runs
from bench.gate.stored import compare_stored, load_stored
from runs.comparison import Entry, match

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "quick-subset"

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


def test_compare_and_the_stored_check_compare_the_same_benchmarks(tmp_path):
    # B: one benchmark failed (out of its suite, failed in run.json), one never ran, the rest as in A
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(FIXTURE, a)
    shutil.copytree(FIXTURE, b)
    suite = json.loads((b / "suite.json").read_text())
    broke = suite["benchmarks"].pop(0)["metadata"]["name"]
    gone = suite["benchmarks"].pop(0)["metadata"]["name"]
    (b / "suite.json").write_text(json.dumps(suite))
    state = json.loads((b / "run.json").read_text())
    state["cells"][broke] = {"status": "failed", "reason": "lost 1 items (7)"}
    del state["cells"][gone]
    (b / "run.json").write_text(json.dumps(state))

    compare_runs(a, b, str(tmp_path / "cmp"))
    described = set(pd.read_csv(tmp_path / "cmp" / "compare.csv")["benchmark"])
    judged = compare_stored(load_stored(a), load_stored(b), threshold=0.1)
    assert {row["benchmark"] for row in judged["benchmarks"]} == described
    assert broke not in described and gone not in described and len(described) > 10
    failed = {side: {e["benchmark"] for e in judged["failed"] if e["side"] == side} for side in ("baseline",
                                                                                                "current")}
    assert failed["current"] - failed["baseline"] == {broke}  # the fixture has failed cells of its own
    assert judged["missing"] == [gone] and judged["exit_status"] == 1
