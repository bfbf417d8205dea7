"""analysis.regimes: steady benchmarks give one mode, separated regimes give theirs, on seeded data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from analysis.regimes import MIN_VALUES, Mode, regime_columns, regime_text, regimes

US = 1e-6


def lognormal(rng, n: int, sd: float, scale: float = US) -> np.ndarray:
    """n values whose log is normal with standard deviation `sd` around log(scale)."""
    return scale * np.exp(rng.normal(0.0, sd, n))


def two_regimes(rng, fast: int, slow: int, ratio: float = 2.0, sd: float = 0.05) -> np.ndarray:
    """`fast` values around 1 us and `slow` values around `ratio` us, each log-normal with `sd`."""
    return np.concatenate([lognormal(rng, fast, sd), lognormal(rng, slow, sd, ratio * US)])


STEADY = {
    "log-normal, sd of log 0.1": lambda rng, n: lognormal(rng, n, 0.1),
    "log-normal, sd of log 0.2": lambda rng, n: lognormal(rng, n, 0.2),
    "heavy right tail": lambda rng, n: US * np.exp(rng.normal(0, 0.1, n) + rng.exponential(0.2, n)),
    "two slow outliers": lambda rng, n: np.concatenate([lognormal(rng, n - 2, 0.1), [2.5 * US, 3 * US]]),
}


@pytest.mark.parametrize("n", [8, 24, 48])
@pytest.mark.parametrize("shape", STEADY)
def test_steady_benchmark_has_one_mode(shape, n):
    values = STEADY[shape](np.random.default_rng(n), n)
    (mode,) = regimes(values)
    assert mode.share == 1.0
    assert mode.figure == pytest.approx(np.median(values))


@pytest.mark.parametrize("fast, slow", [(12, 12), (7, 17), (17, 7)])
def test_two_regimes_2x_apart_are_named_with_figures_and_shares(fast, slow):
    values = np.random.default_rng(fast).permutation(two_regimes(np.random.default_rng(1), fast, slow))
    found = regimes(values)
    assert [mode.share for mode in found] == [fast / 24, slow / 24]
    assert [mode.figure for mode in found] == [pytest.approx(1 * US, rel=0.1), pytest.approx(2 * US, rel=0.1)]


def test_three_regimes_and_no_more_than_max_modes(monkeypatch):
    three = np.concatenate([lognormal(np.random.default_rng(3), 10, 0.05, s * US) for s in (1, 2.5, 6)])
    assert [mode.figure for mode in regimes(three)] == [pytest.approx(s * US, rel=0.1) for s in (1, 2.5, 6)]
    monkeypatch.setattr("analysis.regimes.MAX_MODES", 2)
    assert len(regimes(three)) == 2


def test_modes_closer_than_the_ratio_are_one():
    values = two_regimes(np.random.default_rng(4), 12, 12, ratio=1.25, sd=0.02)
    assert len(regimes(values)) == 1


def test_too_few_values_are_one_mode():
    values = [1 * US, 1.1 * US, 1.05 * US, 2 * US, 2.1 * US, 2.2 * US, 2.05 * US]
    assert len(values) < MIN_VALUES
    assert regimes(values) == [Mode(2 * US, 1.0)]


def test_nan_and_non_positive_values_are_ignored():
    values = two_regimes(np.random.default_rng(5), 10, 10)
    dirty = np.concatenate([values[:5], [math.nan, 0.0, -1.0, math.inf], values[5:]])
    assert regimes(dirty) == regimes(values)
    assert regimes([math.nan, math.nan]) == []
    assert regime_columns([]) == {"modes": 0}


def test_real_noise_is_not_named_a_regime():
    """results/baseline's queue/p1c1/cap16 (3 fast values of 18: under a fifth) and two_lock/p1c1/cap1 (one
    outlier), in us per item."""
    queue = [2.37, 2.53, 2.46, 2.4, 1.63, 2.6, 2.42, 2.25, 2.44, 1.69, 2.38, 2.49, 2.44, 2.3, 2.59, 2.41, 1.5,
             2.34]
    two_lock = [55.42, 43.21, 41.69, 40.72, 40.36, 37.56, 39.42, 42.82, 40.57, 42.31, 42.16, 44.38, 42.35,
                12.99, 41.03, 43.3, 40.72, 40.37]
    assert len(regimes(queue)) == len(regimes(two_lock)) == 1


def test_regime_columns_hold_the_present_modes_only():
    values = two_regimes(np.random.default_rng(6), 8, 12)
    columns = regime_columns(values)
    assert list(columns) == ["modes", "mode_1_s", "mode_1_share", "mode_2_s", "mode_2_share"]
    assert columns["modes"] == 2 and columns["mode_1_share"] == 0.4
    steady = regime_columns(lognormal(np.random.default_rng(7), 16, 0.1))
    assert list(steady) == ["modes", "mode_1_s", "mode_1_share"] and steady["mode_1_share"] == 1.0


def test_regime_text():
    row = {"modes": 2, "mode_1_s": 1.02e-6, "mode_1_share": 0.4, "mode_2_s": 2.31e-6, "mode_2_share": 0.6}
    assert regime_text(row) == "2 regimes: 1 us in 40% of runs, 2.3 us in 60%"
    row.update(modes=3.0, mode_3_s=0.012, mode_3_share=0.25)  # a float column, as read back from a CSV
    assert regime_text(row) == "3 regimes: 1 us in 40% of runs, 2.3 us in 60%, 12 ms in 25%"
    assert regime_text({"modes": 1, "mode_1_s": 1e-6, "mode_1_share": 1.0}) is None
    assert regime_text({"modes": math.nan}) is None
    assert regime_text({"s_per_item": 1e-6}) is None


def test_false_split_and_detection_rates():
    """200 seeded samples each (measured: 3 and 200): steady benchmarks of 16 values, log-normal with sd of
    log 0.2, split at most 10 times; two regimes 2x apart, 8 + 8 values of sd of log 0.1, found at least 180
    times."""
    rng = np.random.default_rng(2026)
    false_splits = sum(len(regimes(lognormal(rng, 16, 0.2))) > 1 for _ in range(200))
    found = sum(len(regimes(two_regimes(rng, 8, 8, sd=0.1))) == 2 for _ in range(200))
    assert false_splits <= 10
    assert found >= 180


def test_heatmap_marks_the_cells_with_regimes(tmp_path):
    """The committed smoke run's heatmap, with `modes` set on two rows as aggregate.py would."""
    from analysis.aggregate import analyse
    from analysis.charts import heatmap
    from analysis.load import load_run
    from analysis.style import DesignStyle

    _, _, table = analyse(load_run(Path(__file__).parent.parent / "results" / "example"))
    style = DesignStyle(list(dict.fromkeys(table["variant"])))
    plain = heatmap(table, style, "caption", tmp_path)
    assert not any("regimes" in sentence for sentence in plain.sentences)
    table["modes"] = table["benchmark"].map({"queue/p1c1/capinf/flat/none": 2,
                                             "lock_list/p2c2/capinf/flat/none": 3})
    marked = heatmap(table, style, "caption", tmp_path)
    assert marked.path.exists()
    assert ("Values in separated regimes (modes), not one steady figure: queue at 1:1  cap inf (2); "
            "lock_list at 2:2  cap inf (3).") in marked.sentences


def test_a_split_that_only_sorts_whole_processes_is_the_machine_s():
    """Two processes 2x apart, each steady: no process switched regime, so no regimes; the same values
    with the processes mixed are two regimes."""
    rng = np.random.default_rng(7)
    values = np.concatenate([np.exp(rng.normal(0, 0.03, 6)), 2 * np.exp(rng.normal(0, 0.03, 6))])
    by_process = [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert len(regimes(values)) == 2
    assert len(regimes(values, by_process)) == 1
    mixed = [0, 1, 2, 3] * 3
    assert len(regimes(values, mixed)) == 2
    assert regime_columns(values, by_process)["modes"] == 1
