"""The rule that keeps a recording within a share of the run's time (snapshots, states, GIF frames).

A recorder asked for one record every ``every`` iterations measures what a record costs — CPU seconds of its
work, on the training thread and on the writer threads alike — against the loop's time per iteration; while a
record costs more than ``budget`` of the time between two, the spacing doubles. A tiny, fast network (ring8 at
hundreds of iterations a second) then records less often instead of training slower; a big one is unaffected.
The record stays evenly spaced: records are taken at multiples of the spacing in force, which never shrinks.
Used by :class:`~gan_studio.core.record.runwriter.RunWriter` (``gan-studio train``), :func:`gan_studio.watch`
and :class:`~gan_studio.core.export.gif.GifRecorder`.
"""
from __future__ import annotations

import time
from typing import Callable

MAX_SPACING = 2**30


def spacing_within(budget: float | None, cost: float, per_it: float, every: int) -> int:
    """The spacing, ``every`` doubled as often as needed, at which a record costing ``cost`` seconds takes at
    most ``budget`` of the loop's time (``per_it`` seconds an iteration). ``budget`` None: ``every``."""
    if budget is None or per_it <= 0:
        return every
    while cost > budget * every * per_it and every < MAX_SPACING:
        every *= 2
    return every


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


__all__ = ["CostMeter", "spacing_within", "MAX_SPACING"]
