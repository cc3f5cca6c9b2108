"""Axis ranges that move in steps, not every frame: pyqtgraph regenerates an axis whenever its range
changes, and that (not the curves) is most of a live plot's cost."""
from __future__ import annotations

import math


def nice_ceil(v: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ v (v > 0)."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * e >= v - 1e-12 * e:
            return m * e
    return 10 * e


class SteppedRange:
    """A [lo, hi] that expands at once to hold the data (with a margin, rounded to a nice step) and
    shrinks only when the data use less than ``shrink`` of it."""

    def __init__(self, shrink: float = 0.35, margin: float = 0.08) -> None:
        self.shrink = shrink
        self.margin = margin
        self.lo: float | None = None
        self.hi: float | None = None

    def reset(self) -> None:
        self.lo = self.hi = None

    def update(self, lo: float, hi: float) -> bool:
        """Fit the data range [lo, hi]; True when the range changed."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        if self.lo is not None:
            span = self.hi - self.lo
            inside = lo >= self.lo and hi <= self.hi
            if inside and (hi - lo) >= self.shrink * span:
                return False
        span = hi - lo
        step = nice_ceil(span * (1 + 2 * self.margin)) / 10
        new_lo = math.floor((lo - self.margin * span) / step) * step
        new_hi = math.ceil((hi + self.margin * span) / step) * step
        changed = (new_lo, new_hi) != (self.lo, self.hi)
        self.lo, self.hi = new_lo, new_hi
        return changed
