"""Record frames during training (bounded memory) and write an animated, looping GIF."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import render
from ..train.trainer import Observer
from ..views.queries import d_on, real_view


def frame_for(trainer, real_points: np.ndarray | None = None, field_res: int = 64) -> np.ndarray:
    """A picture of what G makes from the fixed z now: an image grid, or points over D's field."""
    ds = trainer.dataset
    if ds.kind == "images":
        return render.image_grid(trainer.fixed_samples(64))
    fake = trainer.fixed_samples()
    lo, hi = ds.bounds()
    if real_points is None:
        real_points = real_view(trainer, 1024)[0].cpu().numpy()
    if ds.dim == 1:
        return render.histogram_1d(real_points, fake, float(lo[0]), float(hi[0]))
    if ds.dim == 2:
        xs = np.linspace(lo[0], hi[0], field_res)
        ys = np.linspace(lo[1], hi[1], field_res)
        gx, gy = np.meshgrid(xs, ys)
        field = d_on(trainer, np.stack([gx.ravel(), gy.ravel()], 1)).reshape(field_res, field_res)
        if not trainer.loss.sigmoid:  # critic scores: squash for display only
            field = 1 / (1 + np.exp(-(field - np.median(field)) / (field.std() + 1e-8)))
        return render.scatter(real_points, fake, lo, hi, field=field)
    # more dimensions: on the real data's first two principal axes (as the studio draws them)
    from ..views.viewspec import StaticInfo

    st = StaticInfo(kind="points", dim=ds.dim, shape=tuple(ds.shape), name=ds.name, description="",
                    real=np.asarray(real_points))
    lo, hi = st.plane_bounds
    return render.scatter(st.to_plane(real_points), st.to_plane(fake), lo, hi)


class GifRecorder(Observer):
    """Keeps at most ``max_frames`` frames: when full, it drops every other frame and records half as often,
    so a run of any length gives an evenly spaced animation in bounded memory.

    With ``path``, it also records the first and the last picture of each :meth:`Trainer.run` and writes the
    GIF there when the run ends (finished, stopped, diverged or interrupted; not after an error).

    With ``background=True`` a frame is drawn on a thread of its own from copies of G's and D's weights
    (:mod:`.shadow`), so training does not wait for it; :meth:`flush` waits for the frames asked for.

    ``budget``: the share of the run's time its frames may take (:mod:`gan_studio.core.record.budget`); while a
    frame costs more, ``every`` grows to a round number (None: every ``every`` iterations)."""

    def __init__(self, every: int = 50, max_frames: int = 120, path: str | Path | None = None,
                 duration_ms: int = 100, background: bool = False, budget: float | None = None) -> None:
        if every < 1 or max_frames < 2:
            raise ValueError("every must be ≥ 1 and max_frames ≥ 2")
        self.every = int(every)
        self.max_frames = int(max_frames)
        self.path = None if path is None else Path(path)
        self.duration_ms = int(duration_ms)
        self.frames: list[tuple[int, np.ndarray]] = []
        self._real = None
        self._last: int | None = None  # the iteration of the newest frame asked for
        self._bg = self._shadow = None
        self.budget = None if budget is None else float(budget)
        self._meter = None
        if self.budget is not None:
            from ..record.budget import CostMeter

            self._meter = CostMeter()
        if background:
            from ..record.background import Writer

            self._bg = Writer("gan-studio-gif", max_pending=2)

    def on_iteration(self, trainer, stats) -> None:
        if stats.iteration % self.every == 0:
            if self._meter is None:
                self.capture(trainer)
                return
            from ..record.budget import spacing_within

            looked = self._meter.record(lambda: self.capture(trainer), int(stats.iteration))
            if looked is not None:
                self.every = spacing_within(self.budget, *looked, self.every)

    def on_run_start(self, trainer) -> None:
        if self.path is not None:
            self.capture(trainer)

    def on_run_end(self, trainer, reason: str) -> None:
        if self.path is not None and reason != "error":
            self.capture(trainer)
            self.write(self.path, self.duration_ms)
        if self._bg is not None:  # the run is over: its frames are drawn and the thread ends (a later run's
            self._bg.close()      # frames are drawn on the training thread)

    def flush(self) -> None:
        """Wait for the frames asked for (drawn on the background thread)."""
        if self._bg is not None:
            self._bg.drain()

    def capture(self, trainer) -> None:
        it = int(trainer.iteration)
        if self._last == it:
            return
        self._last = it
        if self._real is None and trainer.dataset.kind == "points":
            self._real = real_view(trainer, 1024)[0].cpu().numpy()
        if self._bg is not None and self._shadow is None:
            from ..record.shadow import shadow_of

            self._shadow = getattr(trainer.config, "plugin", None) is None and shadow_of(trainer) or False
        if self._bg is not None and self._shadow:
            from ..record.shadow import capture_weights

            weights, shadow, real = capture_weights(trainer), self._shadow, self._real
            job = lambda: self._keep(it, frame_for(shadow.load(weights), real))  # noqa: E731
            self._bg.submit(job if self._meter is None else self._meter.timed(job))
        else:
            self._keep(it, frame_for(trainer, self._real))

    def _keep(self, it: int, frame: np.ndarray) -> None:
        self.frames.append((it, frame))
        while len(self.frames) > self.max_frames:
            self.every *= 2  # keep the multiples of the doubled interval: still evenly spaced
            kept = [f for f in self.frames if f[0] % self.every == 0]
            self.frames = kept if len(kept) < len(self.frames) else self.frames[::2]

    def write(self, path: str | Path, duration_ms: int = 100) -> Path:
        self.flush()
        return write_gif(path, [f for _, f in self.frames], duration_ms)


def write_gif(path: str | Path, frames: list[np.ndarray], duration_ms: int = 100) -> Path:
    """Animated GIF that loops forever, written atomically (see :func:`gan_studio.core.export.slides.write_gif`)."""
    from .slides import write_gif as _write

    return _write(path, frames, duration_ms)
