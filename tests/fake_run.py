"""A fake live run handle for tests about the window, not about training (layouts, menus, docks, screens).

:class:`CannedRun` honours the run-handle protocol (``gan_studio.core.protocol.RunHandle``) of a live run:
it has the TRAIN capability, takes the same commands through the same validation as the real handles (it is
a :class:`gan_studio.core.live.commands.Commands`, whose ``set`` refuses what the settings table refuses),
and hands out snapshots, per-iteration statistics and events as plain data, like a live run. What it hands
out is canned but real: a *tape* of what a real run handed out (:func:`record_tape`: a real
:class:`~gan_studio.core.live.handles.ThreadRun`, stepped iteration by iteration), played back in order -- one
recorded iteration per ``step``, or per :meth:`latest` while playing. It never imports torch, so a window
driven by it starts in the time Qt needs (``tests/screens_probe.py`` opens one window per screen size in a
process of its own).

``commands`` lists what the window asked of the run, in order (tests read it); commands that would run code
in the training loop (``call``, ``save``, ``narrate``, ``views``) are listed there and otherwise ignored.
"""
from __future__ import annotations

import dataclasses
import itertools
import pickle
import time
from pathlib import Path

import numpy as np

from gan_studio.core.live.commands import Commands
from gan_studio.core.protocol import STAT_COLUMNS, Event

_ids = itertools.count(1_000_001)  # apart from the real handles' run ids


def record_tape(preset: str, path, iterations: int = 3, views=("field", "samples", "d_hist", "latent")) -> Path:
    """Train ``preset`` for real (a :class:`ThreadRun`, paused, stepped ``iterations`` times) and pickle what it
    handed out after each iteration -- the snapshot (iteration 0 first) and the statistics -- to ``path``."""
    from gan_studio.core.live.handles import ThreadRun
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.views.viewspec import ViewRequest

    run = ThreadRun(get_preset(preset).config, start_paused=True).start()
    frames = []
    try:
        run.set_views(ViewRequest(names=frozenset(views)))
        for it in range(iterations + 1):
            if it:
                run.step()
            deadline = time.monotonic() + 240  # a loaded machine: the run builds its data and networks first
            while time.monotonic() < deadline:
                snap = run.latest()
                if (snap is not None and snap.static is not None and snap.iteration == it and snap.state == "paused"
                        and snap.views_iteration == it and set(views) <= set(snap.views)):
                    break
                time.sleep(0.01)
            else:
                got = snap and (snap.iteration, snap.state, snap.message, sorted(snap.views), snap.views_iteration)
                raise TimeoutError(f"{preset}: no snapshot of iteration {it} with the views {views} (last: {got})")
            frames.append((snap, run.drain_stats()))
    finally:
        run.stop(10)
    path = Path(path)
    path.write_bytes(pickle.dumps(frames))
    return path


class CannedRun(Commands):
    """A live run handle playing a tape (class attribute ``tape``: a file written by :func:`record_tape`)."""

    tape: str | None = None

    def __init__(self, cfg, start_paused: bool = True, **options) -> None:
        if self.tape is None:
            raise TypeError("CannedRun needs a tape: use canned_run_class(path)")
        self.frames = pickle.loads(Path(self.tape).read_bytes())  # the tests' own file, written by record_tape
        self.run_id = next(_ids)
        self.options = options  # threads, record_dir, views options: what the window passed
        self.config = dict(cfg.to_dict() if hasattr(cfg, "to_dict") else cfg)
        self.state = "loading"
        self.commands: list[tuple] = []
        self.trainer = None
        self.position = 0
        self._paused = start_paused
        self._alive = False
        self._limit: int | None = None
        self._delivered = -1
        self._events: list[Event] = []
        self._published = self._snap = None

    # -- the commands (validated by Commands, then applied at once: there is no training loop to wait for)
    def _put(self, *cmd) -> None:
        self.commands.append(cmd)
        name = cmd[0]
        if name == "play":
            self._paused = False
        elif name == "pause":
            self._paused = True
        elif name == "step":
            self._paused = True
            self._advance()
        elif name == "set":
            self.config.update(cmd[1])
        elif name == "limit":
            self._limit = cmd[1]
        if self._alive:
            self.state = "paused" if self._paused else "running"

    def start(self) -> "CannedRun":
        self._alive = True
        self.state = "paused" if self._paused else "running"
        return self

    def stop(self, timeout: float | None = 2.0) -> bool:
        if self._alive:
            self._alive = False
            self.state = "stopped"
        return True

    def is_alive(self) -> bool:
        return self._alive

    # -- observing
    @property
    def iteration(self) -> int:
        return self.frames[self.position][0].iteration

    def latest(self):
        """The snapshot of the current iteration: the same object until something changed, like a live run's
        (the window redraws when it gets a new one)."""
        if self._alive and not self._paused:
            self._advance()
        key = (self.position, self.state, repr(self.config))
        if key != self._published:
            self._published = key
            self._snap = dataclasses.replace(self.frames[self.position][0], run_id=self.run_id, state=self.state,
                                             config=dict(self.config), time=time.perf_counter())
        return self._snap

    def drain_stats(self) -> np.ndarray:
        rows = [r for _, r in self.frames[self._delivered + 1: self.position + 1] if len(r)]
        self._delivered = self.position
        return np.concatenate(rows) if rows else np.zeros((0, len(STAT_COLUMNS)))

    def drain_events(self) -> list[Event]:
        ev, self._events = self._events, []
        return ev

    def _advance(self) -> None:
        nxt = self.position + 1
        if nxt < len(self.frames) and (self._limit is None or self.frames[nxt][0].iteration <= self._limit):
            self.position = nxt


def canned_run_class(tape) -> type:
    """A :class:`CannedRun` class playing ``tape`` (what a window's ``run_class`` takes)."""
    return type("CannedRun", (CannedRun,), {"tape": str(Path(tape))})
