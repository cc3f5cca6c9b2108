"""Numbers for the doctor: means and medians of the finite values (plain Python: a block is small) and the
rounding of evidence."""
from __future__ import annotations

import math


def rnd(v: float, digits: int = 4):
    """A number for the evidence: finite floats to ``digits`` significant digits (JSON-able)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    v = float(v)
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def finite(values) -> list:
    return [v for v in values if v == v and v not in (math.inf, -math.inf)]


def fmean(values) -> float:
    v = finite(values)
    return math.fsum(v) / len(v) if v else math.nan


def fmedian(values) -> float:
    """Median of the finite values (NaN if none): plain Python, ~20× faster than nanmedian on a block."""
    v = sorted(finite(values))
    n = len(v)
    if not n:
        return math.nan
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
