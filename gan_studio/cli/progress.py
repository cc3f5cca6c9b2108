"""A one-line progress bar on stderr, for ``train`` (as a trainer observer) and ``parzen``."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    """Drawn only when stderr is a terminal, redrawn at most 5 times a second."""

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.total, self.start = total, start
        self.enabled = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def draw(self, done: int, total: int, tail: str) -> None:
        frac = done / max(1, total)
        sys.stderr.write(f"\r[{'#' * int(30 * frac)}{'.' * (30 - int(30 * frac))}] {done}/{total}{tail}")
        sys.stderr.flush()

    # -- trainer observer --------------------------------------------------------------------------
    def on_iteration(self, trainer, stats) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and stats.iteration < self.total):
            return
        self.last = now
        rate = (stats.iteration - self.start) / max(1e-9, now - self.t0)
        self.draw(stats.iteration, self.total, f"  {rate:6.0f} it/s  D {stats.d_loss:.3f}  G {stats.g_loss:.3f} ")

    def on_diverged(self, trainer, message) -> None:
        pass

    def on_run_end(self, trainer, reason: str) -> None:
        self.close()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            self.enabled = False  # once
