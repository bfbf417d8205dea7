"""What every chart shares: one colour and marker per design, the caption, the atomic PNG file.

matplotlib is imported here with the Agg backend (no display, no GUI toolkit), and only by analysis.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from analysis.names import format_capacity
from runs.store import atomic_path

matplotlib.use("Agg")  # files only: never a window, works without a display

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

__all__ = ["plt", "DesignStyle", "new_figure", "save", "spread", "STATUS_LOOK", "designs_in",
           "scenario_label", "missing_note", "not_shown", "errorbar", "log_axis"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h", "p")
_LINES = ("-", "--", "-.", ":")
# how cells without a figure look wherever a chart shows them: (face colour, hatch, text colour)
STATUS_LOOK = {"n/a": ("0.92", "///", "0.35"), "failed": ("#fde0dd", "xx", "#b2182b"),
               "timeout": ("#fde0dd", "xx", "#b2182b"), "pending": ("white", "..", "0.45")}
CAPTION_LINE = 0.15  # inches per caption line kept under each figure
MIN_WIDTH = 9.0  # inches: the caption and the title fit on their lines


class DesignStyle:
    """A fixed colour, marker and line style per design, in the run's design order."""

    def __init__(self, designs: list[str]) -> None:
        self.designs = list(designs)
        colors = plt.get_cmap("tab10").colors
        self._style = {name: {"color": colors[i % 10], "marker": _MARKERS[i % len(_MARKERS)],
                              "linestyle": _LINES[(i // 10) % len(_LINES)]}
                       for i, name in enumerate(self.designs)}

    def __call__(self, design: str) -> dict:
        """matplotlib keyword arguments (color, marker, linestyle) for this design."""
        return dict(self._style.get(design, {"color": "0.3", "marker": "o", "linestyle": "-"}))


def new_figure(width: float, height: float, caption: str, **subplots):
    """A constrained-layout figure with room for its caption lines at the bottom; returns (fig, axes)."""
    width = max(width, MIN_WIDTH)
    room = 0.1 + CAPTION_LINE * (caption.count("\n") + 1)
    height += room
    fig, axes = plt.subplots(figsize=(width, height), layout="constrained", **subplots)
    bottom = room / height
    fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
    fig.text(0.01, 0.05 / height, caption, fontsize=8, color="0.3", ha="left", va="bottom")
    return fig, axes


def save(fig, path: Path) -> Path:
    """Write the figure as PNG, atomically (temp file + rename); close it; return the path."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def spread(row, figure: str) -> tuple[float, float, str]:
    """(low, high, what) to draw as the spread of `figure` in a table row: its 95% interval over
    processes when there is one, else the min and max of the single values (what = 'ci' or 'range').

    The range always includes the figure itself: a percentile read from the merged histograms can sit a
    rounding step outside the workers' own per-value percentiles. A range of zero width (one value) is
    no spread: (nan, nan), never drawn as a bar of zero width.
    """
    low, high = row.get(f"{figure}_low"), row.get(f"{figure}_high")
    if low == low and high == high and low is not None and high is not None:  # not NaN
        return float(low), float(high), "ci"
    nan = float("nan")
    low, high = float(row.get(f"{figure}_min", nan)), float(row.get(f"{figure}_max", nan))
    value = float(row.get(figure, nan))
    if low == low and value == value:
        low, high = min(low, value), max(high, value)
    if not high > low:
        return nan, nan, "range"
    return low, high, "range"


def designs_in(style: DesignStyle, rows) -> list[str]:
    """The designs of `rows`, in the style's (the run's) order."""
    present = set(rows["variant"])
    return [name for name in style.designs if name in present]


def scenario_label(row) -> str:
    """A scenario's short label inside one kind: topology and capacity, plus anything non-default."""
    label = f"{row['topology']}  cap {format_capacity(row['capacity_n'])}"
    if row["kind"] != "throughput":
        label += f"  {row['arrival']}  {row['work']}" if row["kind"] == "paced" else f"  {row['work']}"
    if row["payload"]:
        label += f"  payload {row['payload']} B"
    if row["stop"] != "sentinels":
        label += f"  stop {row['stop']}"
    return label


def missing_note(rows, listed: int = 3) -> list[str]:
    """'failed: queue at 1:1  cap 16' lines for the cells of `rows` that have no figure; a design with more
    than `listed` such cells gets a count instead ('n/a: two_lock in 12 scenarios')."""
    notes = []
    for status in ("n/a", "failed", "timeout"):
        bad = rows[rows["status"] == status]
        for variant, cells in bad.groupby("variant", sort=False):
            if len(cells) > listed:
                notes.append(f"{status}: {variant} in {len(cells)} scenarios")
                continue
            where = "; ".join(scenario_label(row) for row in cells.to_dict("records"))
            notes.append(f"{status}: {variant} at {where}")
    return notes


def not_shown(rows) -> str:
    """'not shown: two_lock n/a; broken_drops failed' for the cells of `rows` without a figure, or ''."""
    bad = rows[rows["status"] != "ok"]
    pairs = dict.fromkeys(zip(bad["variant"], bad["status"], strict=True))
    return "not shown: " + "; ".join(f"{variant} {status}" for variant, status in pairs) if pairs else ""


def log_axis(axis, unit: str) -> None:
    """Log scale on `axis` (ax.xaxis or ax.yaxis) with plain labels: unit 'seconds' ('20 us'), 'rate'
    ('40k') or 'ratio' ('1.1'). Minor ticks are labelled only in narrow views: at 2, 3 and 5 times a power
    of ten under 1.5 decades (2.5 for ratios), all of them under half a decade."""
    import math

    from matplotlib.ticker import FuncFormatter

    from runs import fmt

    text = {"seconds": lambda v: fmt.seconds(v, 2), "rate": fmt.rate, "ratio": lambda v: f"{v:.3g}"}[unit]

    def minor(value, _):
        low, high = sorted(axis.get_view_interval())
        if low <= 0 or value <= 0:
            return ""
        span = math.log10(high / low)
        lead = round(value / 10 ** math.floor(math.log10(value)), 6)
        wide = 2.5 if unit == "ratio" else 1.5
        return text(value) if span < 0.5 or (span < wide and lead in (2, 3, 5)) else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: text(value) if value > 0 else ""))
    axis.set_minor_formatter(FuncFormatter(minor))


def errorbar(ax, x, rows, figure: str, style: dict, label: str | None) -> None:
    """One design's line of `figure` over x, with its spread (see spread()) as error bars."""
    y = rows[figure].to_numpy(dtype=float)
    lows, highs = [], []
    for row in rows.to_dict("records"):
        low, high, _ = spread(row, figure)
        lows.append(row[figure] - low if low == low else 0.0)
        highs.append(high - row[figure] if high == high else 0.0)
    ax.errorbar(x, y, yerr=[lows, highs], label=label, capsize=3, markersize=6, linewidth=1.6,
                elinewidth=1, **style)
