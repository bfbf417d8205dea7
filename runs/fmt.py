"""Figures as short text: seconds, rates, ratios with their interval, the machine line.

The one place durations become text, for the report, the comparison, the check's table and `--once`.
"""

from __future__ import annotations

import math

__all__ = ["seconds", "rate", "ratio", "machine_line", "missing"]


def missing(value) -> bool:
    """Whether a figure is absent (None or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def seconds(value: float | None, digits: int = 3, places: int | None = None) -> str:
    """'1.23 us', '45.6 ms', '2.00 s' (three significant digits by default); '-' when missing.

    With `places`, that many decimals instead of significant digits ('1.234 ms'), for columns that line up.
    """
    if missing(value):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if abs(value) >= scale or unit == "ns":
            if places is not None:
                return f"{value / scale:.{places}f} {unit}"
            text = f"{value / scale:.{digits}g}"
            return f"{value / scale:.0f} {unit}" if "e" in text else f"{text} {unit}"
    raise AssertionError("unreachable")


def rate(value: float) -> str:
    """Items per second, compact: '4.27M', '912k', '850'; '-' when missing."""
    if missing(value):
        return "-"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            text = f"{value / scale:.3g}"
            return f"{value / scale:.0f}{suffix}" if "e" in text else f"{text}{suffix}"
    return f"{value:.3g}" if value >= 1 or value == 0 else f"{value:.2g}"


def ratio(value: float, low: float = math.nan, high: float = math.nan) -> str:
    """'1.34x (1.10-1.62)'; '1.34x (-)' when the interval is missing."""
    if missing(value):
        return "-"
    interval = "-" if missing(low) or missing(high) else f"{low:.2f}-{high:.2f}"
    return f"{value:.2f}x ({interval})"


def machine_line(info: dict) -> str:
    """Cores, affinity, Python, start method, profile, date and commit of a run (from its run.json)."""
    machine = info.get("machine", {})
    affinity = machine.get("cpu_affinity")
    cores = f"{machine.get('cpu_count', '?')} cores"
    if affinity is not None:
        cores += f" (affinity {','.join(map(str, affinity))})"
    python = f"{machine.get('python_implementation', 'Python')} {machine.get('python_version', '?')}"
    date = (info.get("started") or "?")[:16].replace("T", " ")
    commit = (info.get("git_commit") or "unknown")[:10]
    if str(info.get("git_commit", "")).endswith("+dirty"):
        commit += "+dirty"
    return (f"{cores}, {python}, start method {machine.get('mp_start_method', '?')}, "
            f"profile {info.get('profile', '?')}, {date} UTC, commit {commit}")
