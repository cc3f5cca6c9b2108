"""The rule that keeps a recording within a share of the run's time (snapshots, states, GIF frames).

A recorder asked for one record every ``every`` iterations measures what a record costs — CPU seconds of its
work, on the training thread and on the writer threads alike — against the loop's time per iteration; while a
record costs more than ``budget`` of the time between two, the spacing grows to the smallest round number (1, 2,
5, 10, 20, 50, ...) at which it fits. A tiny, fast network (ring8 at hundreds of iterations a second) then
records less often instead of training slower; a big one is unaffected. The record stays evenly spaced: records
are taken at multiples of the spacing in force, which never shrinks; and round spacings keep round steps
recorded (a branch ``--at 2000`` finds its training state).
Used by :class:`~gan_studio.core.record.runwriter.RunWriter` (``gan-studio train``), :func:`gan_studio.watch`
and :class:`~gan_studio.core.export.gif.GifRecorder`.
"""
from __future__ import annotations

import time
from typing import Callable

MAX_SPACING = 2**30


def round_up(n: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, 100, ... that is at least ``n``."""
    p = 1
    while True:
        for m in (1, 2, 5):
            if m * p >= n:
                return m * p
        p *= 10


def spacing_within(budget: float | None, cost: float, per_it: float, every: int) -> int:
    """``every``, or when a record costing ``cost`` seconds takes more than ``budget`` of the loop's time
    between two (``per_it`` seconds an iteration), the smallest round number (:func:`round_up`) above ``every``
    at which it fits. ``budget`` None: ``every``."""
    if budget is None or per_it <= 0 or cost <= budget * every * per_it:
        return every
    return min(MAX_SPACING, round_up(max(cost / (budget * per_it), every + 1)))


class CostMeter:
    """What records cost (:meth:`timed` work, on any thread) and how fast the loop runs, looked at every
    :data:`WINDOW` records (one costly record — the first state, a thinning — is averaged with the others)."""

    WINDOW = 4

    def __init__(self) -> None:
        self.spent = 0.0  # CPU seconds of recording work so far
        self._mark: tuple[float, int, float, int] | None = None  # (time, iteration, spent, records) at the last look

    def timed(self, fn: Callable[[], None]) -> Callable[[], None]:
        """``fn``, counting the CPU time it takes on the thread that runs it."""
        def run():
            c0 = time.thread_time()
            try:
                fn()
            finally:
                self.spent += time.thread_time() - c0
        return run

    def record(self, fn: Callable[[], None], iteration: int) -> tuple[float, float] | None:
        """Run the record at ``iteration`` (``fn``, timed), then :meth:`look`."""
        self.timed(fn)()
        return self.look(iteration)

    def look(self, iteration: int) -> tuple[float, float] | None:
        """After a record at ``iteration``: (CPU seconds a record cost, seconds an iteration of the loop) over
        the last :data:`WINDOW` records, or None until there are that many."""
        now = time.perf_counter()
        if self._mark is None:
            self._mark = (now, iteration, self.spent, 0)
            return None
        t0, it0, spent0, n = self._mark
        n += 1
        if n < self.WINDOW or iteration <= it0:
            self._mark = (t0, it0, spent0, n)
            return None
        self._mark = (now, iteration, self.spent, 0)
        return (self.spent - spent0) / n, (now - t0) / (iteration - it0)


__all__ = ["CostMeter", "spacing_within", "round_up", "MAX_SPACING"]
