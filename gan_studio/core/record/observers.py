"""Trainer observers that keep what a run produces: checkpoints during and at the end of a run.

(The GIF of a run is :class:`gan_studio.core.export.gif.GifRecorder` with a ``path``; the run folder is
:class:`gan_studio.core.record.runfolder.RunWriter`.)
"""
from __future__ import annotations

import os
from pathlib import Path

from ..train.trainer import Observer


class PeriodicCheckpoint(Observer):
    """Save a checkpoint to ``path`` every ``every`` iterations (0: never during the run) and when
    :meth:`Trainer.run` ends (finished, stopped, diverged — the restored, finite weights — or interrupted;
    not after an error, which may have left the trainer half-updated). Each write is atomic."""

    def __init__(self, path: str | os.PathLike, every: int = 0, at_end: bool = True) -> None:
        if every < 0:
            raise ValueError("every must be ≥ 0")
        self.path = Path(path)
        self.every = int(every)
        self.at_end = at_end
        self.saved_at: int | None = None  # the iteration of the newest checkpoint written

    def save(self, trainer) -> Path:
        from ..train.checkpoint import save_checkpoint

        save_checkpoint(trainer, self.path)
        self.saved_at = trainer.iteration
        return self.path

    def on_iteration(self, trainer, stats) -> None:
        if self.every and stats.iteration % self.every == 0:
            self.save(trainer)

    def on_run_end(self, trainer, reason: str) -> None:
        if not self.at_end or reason == "error":
            return
        if reason in ("finished", "stopped") and self.saved_at == trainer.iteration and self.path.is_file():
            return  # just written by on_iteration (after a divergence the weights differ: write again)
        self.save(trainer)
