"""Small statistical formulas (pure): the Wilson score interval."""

from __future__ import annotations

import math

Z_95 = 1.959963984540054
"""The 97.5th percentile of the standard normal distribution."""


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``n``; None when ``n`` is 0.

    Wilson rather than the normal approximation because survey samples in a community are
    small and rates near 100% are common; the Wald interval collapses there.
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denominator
    # At 0/n and n/n the bound is exactly 0 or 1; float noise (5.55e-17 for 0/3) would
    # leave the rate itself outside its own interval.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high
