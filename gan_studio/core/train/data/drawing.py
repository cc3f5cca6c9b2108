"""A distribution drawn by hand: the points a user paints on the toy field, and how they travel.

:class:`DrawnPoints` is the drawing (Qt-free, numpy only): a brush that sprays points uniformly in a disc,
an eraser that removes the points within a radius, ``clear``, and stamps (a ring, a line, a Gaussian blob).
It holds at most :data:`MAX_POINTS` points; what would go beyond is left out and :attr:`DrawnPoints.message`
says so.

The points become the ``drawn`` dataset of a run. They travel *inside* the run's configuration, as
``dataset_args = {"points": TEXT}`` where TEXT is :func:`encode_points`' base64 of the float32 coordinates
(little-endian, x₁ y₁ x₂ y₂ …): 10,000 points are 107 kB of text. So a run folder's ``run.json``, a checkpoint,
a recording and a saved recipe all carry the data with no second file that could go missing, and reopening or
branching the run rebuilds exactly the same data. :func:`decode_points` checks such text (it comes from files)
and raises :class:`DrawingError` (a ConfigError: one clear line) when it is damaged.
"""
from __future__ import annotations

import base64
import binascii
import functools
import math

import numpy as np

from ...errors import ConfigError

#: the most points a drawing (and a drawn dataset) may hold
MAX_POINTS = 100_000
#: coordinates beyond this are refused (the canvas is a few units wide; this only stops absurd values)
MAX_COORD = 1e6
#: the longest ``points`` text (MAX_POINTS float32 pairs in base64)
MAX_TEXT = 4 * math.ceil(MAX_POINTS * 8 / 3)


class DrawingError(ConfigError):
    """Drawn points cannot be used; the message says why."""


# ------------------------------------------------------------------------------------------ text form
def encode_points(points: np.ndarray) -> str:
    """N×2 points → the text stored in ``dataset_args["points"]`` (base64 of little-endian float32)."""
    a = check_points(points)
    return base64.b64encode(a.astype("<f4").tobytes()).decode("ascii")


@functools.lru_cache(maxsize=8)
def _decode_cached(text: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DrawingError("drawn points: the stored text is damaged (not base64)") from None
    if len(raw) % 8:
        raise DrawingError(f"drawn points: the stored text is damaged ({len(raw)} bytes is not a whole number "
                           "of x, y pairs)")
    a = np.frombuffer(raw, dtype="<f4").reshape(-1, 2).astype(np.float32)
    a = check_points(a)
    a.setflags(write=False)  # shared by the cache: nobody may change it
    return a


def decode_points(text) -> np.ndarray:
    """The N×2 float32 points stored as ``text`` (read-only; checked: at least 2, at most MAX_POINTS,
    finite, within ±MAX_COORD). Raises :class:`DrawingError`."""
    if not isinstance(text, str):
        raise DrawingError(f"drawn points: expected the points as text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise DrawingError(f"drawn points: too many (the text is {len(text):,} characters; at most "
                           f"{MAX_POINTS:,} points fit in {MAX_TEXT:,})")
    return _decode_cached(text)


def check_points_text(value, where: str) -> str:
    """The config's check of ``dataset_args["points"]`` for the ``drawn`` dataset (a schema ``Custom``)."""
    try:
        decode_points(value)
    except DrawingError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix('drawn points: ')}") from None
    return value


def check_points(points) -> np.ndarray:
    """``points`` as a fresh N×2 float32 array with 2 ≤ N ≤ MAX_POINTS finite values within ±MAX_COORD."""
    a = np.asarray(points)
    if a.dtype.kind not in "iuf":
        raise DrawingError(f"drawn points: expected numbers, got {a.dtype}")
    if a.ndim != 2 or a.shape[1] != 2:
        raise DrawingError(f"drawn points: expected N×2 coordinates, got shape {a.shape}")
    if len(a) < 2:
        raise DrawingError(f"drawn points: draw at least 2 points (there {'is' if len(a) == 1 else 'are'} {len(a)})")
    if len(a) > MAX_POINTS:
        raise DrawingError(f"drawn points: {len(a):,} points is more than the {MAX_POINTS:,} a drawing may hold")
    with np.errstate(over="ignore", invalid="ignore"):
        a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise DrawingError("drawn points: NaN or infinite coordinates")
    if float(np.abs(a).max()) > MAX_COORD:
        raise DrawingError(f"drawn points: coordinates beyond ±{MAX_COORD:g}")
    return np.ascontiguousarray(a)


# ------------------------------------------------------------------------------------------ the drawing
class DrawnPoints:
    """The points of a drawing: an N×2 float32 array that brush, eraser, clear and stamps change.

    Each tool returns how many points it added or removed. Random placement comes from the drawing's own
    generator (``seed``), so the same gestures give the same points."""

    def __init__(self, points=None, seed: int = 0, limit: int = MAX_POINTS) -> None:
        self.limit = int(limit)
        self.rng = np.random.default_rng(seed)
        self._buf = np.empty((1024, 2), np.float32)
        self._n = 0
        self.message: str | None = None  # why the last tool left points out (the drawing was full)
        self.version = 0  # changes whenever the points do (the display redraws then)
        if points is not None and len(points):
            self.set_points(points)

    # -- the points -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def points(self) -> np.ndarray:
        """The points now (a read-only view: copy it to keep it)."""
        v = self._buf[: self._n]
        v = v.view()
        v.setflags(write=False)
        return v

    def get_points(self) -> np.ndarray:
        """A copy of the points (N×2 float32)."""
        return self._buf[: self._n].copy()

    def set_points(self, points) -> None:
        """Replace the drawing by ``points`` (N×2; checked, at most ``limit``)."""
        a = np.asarray(points, dtype=np.float64)
        if a.size == 0:
            self.clear()
            return
        if a.ndim != 2 or a.shape[1] != 2:
            raise DrawingError(f"drawn points: expected N×2 coordinates, got shape {a.shape}")
        if not np.isfinite(a).all() or float(np.abs(a).max()) > MAX_COORD:
            raise DrawingError(f"drawn points: coordinates must be finite numbers within ±{MAX_COORD:g}")
        if len(a) > self.limit:
            raise DrawingError(f"drawn points: {len(a):,} points is more than the {self.limit:,} a drawing may hold")
        self._n = 0
        self.message = None
        self._append(a.astype(np.float32))

    def to_text(self) -> str:
        """The points as ``dataset_args["points"]`` text (DrawingError when fewer than 2)."""
        return encode_points(self.points)

    def dataset_args(self) -> dict:
        """``{"points": TEXT}``: the ``drawn`` dataset's arguments for these points."""
        return {"points": self.to_text()}

    @classmethod
    def from_text(cls, text: str, **kw) -> "DrawnPoints":
        return cls(decode_points(text), **kw)

    def _append(self, new: np.ndarray) -> int:
        room = self.limit - self._n
        if len(new) > room:
            self.message = (f"The drawing is full: at most {self.limit:,} points. Erase some or clear it to "
                            f"draw more ({len(new) - max(room, 0):,} left out).")
            new = new[:max(room, 0)]
        if not len(new):
            return 0
        need = self._n + len(new)
        if need > len(self._buf):
            grown = np.empty((max(need, 2 * len(self._buf)), 2), np.float32)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n: need] = new
        self._n = need
        self.version += 1
        return len(new)

    def add(self, points) -> int:
        """Add points (N×2, finite); returns how many were added (fewer when the drawing is full)."""
        a = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        a = a[np.isfinite(a).all(1) & (np.abs(a) <= MAX_COORD).all(1)]
        self.message = None
        return self._append(a.astype(np.float32))

    # -- tools ----------------------------------------------------------------------------------------
    def brush(self, center, radius: float, density: float) -> int:
        """Spray ``density`` points per unit area uniformly in the disc of ``radius`` around ``center``
        (at least one point); returns how many were added."""
        r = float(radius)
        if not (r > 0 and math.isfinite(r)):
            raise DrawingError(f"brush radius must be a positive number, got {radius}")
        n = max(1, int(round(float(density) * math.pi * r * r)))
        return self.add(_in_disc(self.rng, center, r, n))

    def stroke(self, a, b, radius: float, density: float, spacing: float = 0.5) -> int:
        """The brush dragged from ``a`` to ``b``: dabs every ``spacing``·radius along the way (``a`` itself
        is left out: the previous dab covered it)."""
        steps = _steps(a, b, radius * spacing)
        return sum(self.brush(c, radius, density) for c in steps)

    def erase(self, center, radius: float) -> int:
        """Remove every point within ``radius`` of ``center`` (the disc's edge included); returns how many."""
        if self._n == 0:
            return 0
        c = np.asarray(center, np.float64).reshape(2)
        p = self._buf[: self._n]
        keep = ((p[:, 0] - c[0]) ** 2 + (p[:, 1] - c[1]) ** 2) > float(radius) ** 2
        gone = int(self._n - keep.sum())
        if gone:
            kept = p[keep]
            self._n = len(kept)
            self._buf[: self._n] = kept
            self.version += 1
        self.message = None
        return gone

    def erase_stroke(self, a, b, radius: float, spacing: float = 0.5) -> int:
        return sum(self.erase(c, radius) for c in _steps(a, b, radius * spacing))

    def clear(self) -> int:
        gone, self._n = self._n, 0
        self.message = None
        self.version += 1
        return gone

    def ring(self, center, radius: float, n: int, width: float = 0.05) -> int:
        """``n`` points on a circle of ``radius`` around ``center``, spread ±``width`` (σ) across it."""
        n = _count(n)
        t = self.rng.uniform(0, 2 * math.pi, n)
        r = float(radius) + float(width) * self.rng.standard_normal(n)
        c = np.asarray(center, np.float64).reshape(2)
        return self.add(c + np.stack([r * np.cos(t), r * np.sin(t)], 1))

    def line(self, a, b, n: int, width: float = 0.05) -> int:
        """``n`` points along the segment from ``a`` to ``b``, spread ±``width`` (σ) across it."""
        n = _count(n)
        a, b = np.asarray(a, np.float64).reshape(2), np.asarray(b, np.float64).reshape(2)
        d = b - a
        length = float(np.hypot(*d))
        normal = np.array([-d[1], d[0]]) / length if length > 0 else np.array([0.0, 1.0])
        t = self.rng.uniform(0, 1, n)[:, None]
        off = float(width) * self.rng.standard_normal(n)[:, None]
        return self.add(a + t * d + off * normal)

    def blob(self, center, sigma: float, n: int) -> int:
        """``n`` points from a Gaussian of standard deviation ``sigma`` around ``center``."""
        n = _count(n)
        c = np.asarray(center, np.float64).reshape(2)
        return self.add(c + abs(float(sigma)) * self.rng.standard_normal((n, 2)))


def _count(n) -> int:
    n = int(n)
    if n < 1:
        raise DrawingError(f"a stamp needs at least 1 point, got {n}")
    return min(n, MAX_POINTS)


def _in_disc(rng: np.random.Generator, center, radius: float, n: int) -> np.ndarray:
    """``n`` points uniformly in a disc (radius √u: equal area, equal density)."""
    c = np.asarray(center, np.float64).reshape(2)
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    t = rng.uniform(0, 2 * math.pi, n)
    return c + np.stack([r * np.cos(t), r * np.sin(t)], 1)


def _steps(a, b, step: float) -> list[np.ndarray]:
    """Points from ``a`` (excluded) to ``b`` (included) at most ``step`` apart."""
    a, b = np.asarray(a, np.float64).reshape(2), np.asarray(b, np.float64).reshape(2)
    dist = float(np.hypot(*(b - a)))
    k = max(1, int(math.ceil(dist / max(step, 1e-9))))
    return [a + (b - a) * (i / k) for i in range(1, k + 1)]


#: stamp sizes → point counts at a brush density (points per unit area): a band ~0.25 wide along a ring or
#: a line, the 2σ disc of a blob (at least 16 points each)
def stamp_count(kind: str, size: float, density: float) -> int:
    size = abs(float(size))
    area = {"ring": 2 * math.pi * size * 0.25, "line": size * 0.25, "blob": math.pi * (2 * size) ** 2}[kind]
    return int(min(MAX_POINTS, max(16, round(float(density) * area))))


__all__ = ["DrawnPoints", "DrawingError", "MAX_POINTS", "encode_points", "decode_points", "check_points",
           "check_points_text", "stamp_count"]
