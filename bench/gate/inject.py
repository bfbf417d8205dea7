"""`--inject-slowdown DESIGN=FACTOR`: a known slowdown, for proving the regression gate honestly.

The worker multiplies what its time function returns by FACTOR when the benchmark's design is DESIGN, so
the gate sees real, noisy measurements whose true ratio is known. It is off unless asked for, and a worker
that applies it records the factor in the benchmark's metadata (`prodcon_injected_slowdown`), so an
injected result can never pass for a real one. Light on purpose: pyperf workers import this.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from runs.errors import UsageError

__all__ = ["parse_slowdown", "slowed"]


def parse_slowdown(spec: str) -> tuple[str, float]:
    """(variant, factor) from "DESIGN=FACTOR"; UsageError unless FACTOR is a positive finite number."""
    variant, sep, text = spec.partition("=")
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not sep or not variant or not 0 < factor < math.inf:
        raise UsageError(f"--inject-slowdown must be DESIGN=FACTOR with FACTOR > 0, e.g. queue=1.2; "
                         f"got {spec!r}")
    return variant, factor


def slowed(time_func: Callable[..., float], factor: float) -> Callable[..., float]:
    """`time_func` with its returned seconds multiplied by `factor` (the injected slowdown)."""

    def slowed_time_func(*args, **kwargs) -> float:
        return time_func(*args, **kwargs) * factor  # INJECTED SLOWDOWN: asked for by --inject-slowdown

    return slowed_time_func
