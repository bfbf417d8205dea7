"""`python -m bench fidelity`: the table it prints and its input checks (the ratio itself is a figure)."""

from __future__ import annotations

import re

import pytest

from bench.fidelity import LIMIT, format_fidelity
from tests.cli_helpers import bench


def test_format_flags_ratios_over_the_limit():
    rows = [{"benchmark": "a/p1c1/capinf/flat/none", "items": 20000, "suite_s": 1.0e-6, "hand_s": 1.0e-6,
             "ratio": 1.0, "ratio_min": 0.9, "ratio_max": 1.1, "values": 10},
            {"benchmark": "b/p1c1/capinf/flat/none", "items": 20000, "suite_s": 1.2e-6, "hand_s": 1.0e-6,
             "ratio": 1.2, "ratio_min": 1.1, "ratio_max": 1.3, "values": 10}]
    header, first, second = format_fidelity(rows)
    assert header.split() == ["benchmark", "items", "suite", "hand", "ratio", "round", "range"]
    assert first.endswith("0.90-1.10") and not first.endswith(f"> {LIMIT}")
    assert second.endswith(f"1.10-1.30  > {LIMIT}")


@pytest.mark.timeout(120)
def test_one_design_one_round_prints_its_row():
    proc = bench("fidelity", "generator", "--rounds", "1")
    assert proc.returncode in (0, 1), proc.stderr  # 1 only if the measured ratio exceeds the limit
    header, row = proc.stdout.splitlines()
    match = re.fullmatch(r"generator/p1c1/capinf/flat/none\s+20000\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+)"
                         r"\s+([\d.]+)-([\d.]+)(  > 1\.1)?", row)
    assert match, row
    suite, hand, ratio = float(match[1]), float(match[2]), float(match[3])
    assert suite > 0 and hand > 0
    assert ratio == pytest.approx(suite / hand, rel=0.01)
    assert (proc.returncode == 1) == (ratio > LIMIT)


@pytest.mark.parametrize("args, message", [
    (["--rounds", "0"], "error: --rounds must be >= 1, got 0"),
    (["--rounds", "x"], "error: --rounds must be a whole number, got 'x'"),
    (["nope"], "error: unknown variant 'nope'; known: lock_list, two_lock, queue, generator, greenlet, "
               "multiprocess, asyncio"),
])
def test_bad_input(args, message):
    proc = bench("fidelity", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == message + "\n"
