"""Replaying a run folder through the same interface as a live run, so the studio's panels draw it unchanged.

A :class:`ReplayRun` serves the recorded snapshot at a chosen position (a step slider) as a
:class:`~gan_studio.core.live.handles.Snapshot`, the metrics up to that iteration as statistics, and the user's
recorded actions (a remedy switched on, a learning rate changed) as the configuration at that moment.
With ``follow=True`` it picks up what a still-running writer adds (``refresh()``), e.g. a run on a server.
No torch is needed: a lecture can replay a run on a laptop that could never have trained it.
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from ..columns import RunEvent
from ..protocol import STAT_COLUMNS, Capability, Event, EventKind, Snapshot
from .runfolder import RunFolder, RunFolderError

_replay_ids = itertools.count(1_000_000)  # never equal to a live run's id
#: the kind of event that reports what a damaged recording skipped (shown as a warning, not an error)
WARNING = getattr(EventKind, "WARNING", "warning")


class ReplayRun:
    """A recording played back through the run-handle protocol (:class:`~gan_studio.core.protocol.RunHandle`)."""

    def __init__(self, path, follow: bool = False) -> None:
        self.folder = RunFolder(path)  # raises RunFolderError with a message for the user
        if not self.folder.index:
            raise RunFolderError(f"{self.folder.path} has no recorded snapshots yet"
                                 + ("" if follow else " (open it with --follow to wait for them)"))
        self.run_id = next(_replay_ids)
        self.follow = follow
        self.capabilities = Capability.SEEK | (Capability.FOLLOW if follow else Capability.NONE)
        self.state = "replay"
        self.position = len(self.folder.index) - 1 if follow else 0
        self._delivered = -1  # statistics handed to the window up to this iteration
        self._rewound = False
        self._snaps: dict[int, Snapshot] = {}
        self._events: list[Event] = [Event(EventKind.READY, f"replaying {self.folder.path}", {"device": "recorded"})]
        self._warned = 0  # folder warnings already reported
        self._last: Snapshot | None = None
        self.config = self.folder.config
        self.trainer = None

    # -- what the slider does ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.folder.index)

    @property
    def iterations(self) -> list[int]:
        return self.folder.iterations

    @property
    def iteration(self) -> int:
        return int(self.folder.index[self.position]["iteration"])

    def seek(self, position: int) -> None:
        position = max(0, min(int(position), len(self.folder.index) - 1))
        if position != self.position and self.folder.index:
            if self.folder.index[position]["iteration"] < self.iteration:
                self._rewound = True
            self.position = position

    def seek_iteration(self, iteration: int) -> None:
        its = np.asarray(self.folder.iterations)
        self.seek(int(np.searchsorted(its, iteration, side="right")) - 1 if len(its) else 0)

    def refresh(self) -> bool:
        """Follow mode: read what the writer added; stay at the newest snapshot if we were there."""
        at_end = self.position >= len(self.folder.index) - 1
        changed = self.folder.refresh()
        if changed:
            self._snaps.clear() if len(self._snaps) > 64 else None
            if at_end and self.follow or self.position >= len(self.folder.index):
                self.position = max(0, len(self.folder.index) - 1)
        return changed

    def take_rewound(self) -> bool:
        r, self._rewound = self._rewound, False
        if r:
            self._delivered = -1
        return r

    # -- the ThreadRun interface -----------------------------------------------------------------------
    def config_at(self, iteration: int) -> dict:
        """The configuration in force at ``iteration``: the start plus the recorded changes up to it."""
        cfg = dict(self.folder.meta.get("config_start") or self.folder.meta["config"])
        for ev in self.folder.events():  # each change was checked when read (RunFolder)
            if ev.get("event") == RunEvent.SET and ev["iteration"] <= iteration and isinstance(ev.get("changes"), dict):
                cfg.update(ev["changes"])
        return cfg

    def latest(self) -> Snapshot | None:
        """The snapshot at the slider's position (a damaged one: no views, the reason as its message)."""
        if not self.folder.index:  # a followed folder lost its snapshots: keep showing the last one
            return self._last
        e = self.folder.index[min(self.position, len(self.folder.index) - 1)]
        it = int(e["iteration"])
        snap = self._snaps.get(it)
        if snap is None:
            try:
                views = self.folder.load(self.position)
                message = ""
            except RunFolderError as exc:
                views, message = {}, f"recorded iteration {it:,} cannot be shown: {exc}"
            loss = self.folder.meta.get("loss", {})
            rates = self._rates(it)
            msg = f"recorded iteration {it:,}"
            if "modes_covered" in e:
                msg += f" · {e['modes_covered']} of {e['n_modes']} modes"
            snap = Snapshot(run_id=self.run_id, iteration=it, state="replay", message=message or msg,
                            it_per_s=0.0, device=f"recorded on {self.folder.meta.get('device', '?')}",
                            config=self.config_at(it), static=self.folder.static, views=views, views_iteration=it,
                            lr_d=rates[0], lr_g=rates[1], time=time.perf_counter(),
                            loss_info=(loss.get("name", ""), bool(loss.get("sigmoid", True)),
                                       float(loss.get("d_equilibrium", 0.0)), float(loss.get("g_equilibrium", 0.0))))
            self._snaps[it] = snap
        self._last = snap
        return snap

    def _rates(self, it: int) -> tuple[float, float]:
        cfg = self.config_at(it)
        lr = (float(cfg.get("lr_d", 0.0)), float(cfg.get("lr_g", 0.0)))
        for r in reversed(self.folder.metrics):
            if "event" not in r and r["iteration"] <= it and r.get("lr_d") is not None and r.get("lr_g") is not None:
                return float(r["lr_d"]), float(r["lr_g"])
        return lr

    def drain_stats(self) -> np.ndarray:
        it = self.iteration
        if it <= self._delivered:
            return np.zeros((0, len(STAT_COLUMNS)))
        rows = self.folder.stats_array(upto=it)
        rows = rows[rows[:, 0] > self._delivered] if len(rows) else rows
        self._delivered = it
        return rows

    def drain_events(self) -> list[Event]:
        """Events since the last call; what the folder skipped (damaged lines, snapshots) as one warning."""
        ev, self._events = self._events, []
        w = self.folder.warnings
        if len(w) > self._warned:
            more = len(w) - self._warned - 1
            ev.append(Event(WARNING, w[self._warned] + (f" (and {more} more problem{'s' if more > 1 else ''} "
                                                         "skipped)" if more else ""), {"warnings": w[self._warned:]}))
            self._warned = len(w)
        return ev

    def modes_history(self, upto: int | None = None) -> list[dict]:
        return [{"iteration": e["iteration"], "modes_covered": e["modes_covered"], "n_modes": e["n_modes"],
                 "high_quality": e.get("high_quality", 0.0)}
                for e in self.folder.index if "modes_covered" in e and (upto is None or e["iteration"] <= upto)]

    # commands a recording cannot obey: ignored (the window disables them)
    def play(self) -> None: ...
    def pause(self) -> None: ...
    def step(self, kind: str = "full") -> None: ...
    def set_speed(self, it_per_s) -> None: ...
    def set_views(self, request) -> None: ...
    def set_limit(self, iteration) -> None: ...

    def set(self, **changes) -> None:
        from ..train.config import ConfigError

        raise ConfigError("this is a recorded run: its settings cannot change (start a live run to experiment)")

    def start(self) -> "ReplayRun":
        return self

    def stop(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> bool:
        return True

    def is_alive(self) -> bool:
        return False


__all__ = ["ReplayRun"]
