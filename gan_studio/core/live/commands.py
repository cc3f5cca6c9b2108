"""The commands of a live run (typed, checked here, then queued for the training loop) and its views modes."""
from __future__ import annotations

import itertools
import os
from typing import Any, Callable

from ..protocol import Capability, EventKind
from ..settings import check_live_change
from ..train.config import ConfigError


run_ids = itertools.count(1)

#: How the panels are fed while training (``views=`` on a run handle, or ``GAN_STUDIO_VIEWS``):
#:
#: * ``smooth``: the display first: new views for every display tick (30 a second) while they take at
#:   most 20% of the training thread's CPU time;
#: * ``fast``: training first: 15 snapshots a second at most, views within 4% of its CPU time.
#:
#: ``publish_hz``: snapshots a second (statistics, state); ``views_hz``: of those, how many carry new
#: views at most; ``views_budget``: the share of the CPU time the training thread gets that views may use
#: (on a busy machine, or one core shared with the window, the thread gets less than a core; the views
#: rate drops below ``views_hz`` where they cost more: slow or busy machines, big models).
VIEWS_MODES = {
    "smooth": {"publish_hz": 30.0, "views_hz": 30.0, "views_budget": 0.20},
    "fast": {"publish_hz": 15.0, "views_hz": 15.0, "views_budget": 0.04},
}
DEFAULT_VIEWS_MODE = "smooth"
#: Seconds a run trains (with views computed on its own thread) before it starts a views helper process of its
#: own (a ThreadRun asked for one; short runs never pay for it). A helper the window started begins at once.
HELPER_DELAY = 1.0


def views_mode(mode: str | None = None) -> str:
    """The views mode to use: ``mode`` if given, else ``GAN_STUDIO_VIEWS`` if it names one, else the default."""
    if mode is not None:
        if mode not in VIEWS_MODES:
            raise ConfigError(f"views mode must be one of {', '.join(VIEWS_MODES)}, not {mode!r}")
        return mode
    env = os.environ.get("GAN_STUDIO_VIEWS", "").strip().lower()
    return env if env in VIEWS_MODES else DEFAULT_VIEWS_MODE


def check_step_kind(kind: str) -> None:
    if kind not in ("full", "d", "g"):
        raise ValueError(f"step kind must be full, d or g, not {kind!r}")


def check_live_changes(changes: dict, in_force: dict | None = None) -> None:
    """The one validator of live setting changes (the settings table's), used by every run handle before a change is queued."""
    check_live_change(changes, in_force)


def check_speed(it_per_s: float | None) -> None:
    if it_per_s is not None and not (it_per_s > 0):
        raise ConfigError(f"the speed limit must be a positive number of iterations per second, got {it_per_s}")


class Commands:
    """The commands of a live run: validated here, queued with ``_put``, applied by the training loop
    between iterations in the order given. Shared by :class:`ThreadRun` and :class:`ProcessRun`."""

    capabilities = Capability.TRAIN

    def _put(self, *cmd) -> None:  # pragma: no cover - each handle says where commands go
        raise NotImplementedError

    def play(self) -> None:
        self._put("play")

    def pause(self) -> None:
        self._put("pause")

    def step(self, kind: str = "full") -> None:
        """One iteration now: ``full`` (k D-steps then the G-steps), ``d`` (one D-step) or ``g`` (one G-step)."""
        check_step_kind(kind)
        self._put("step", kind)

    def set(self, **changes: Any) -> None:
        """Change live settings; validated now (raises :class:`ConfigError`), applied at the next iteration."""
        check_live_changes(changes, getattr(self.latest(), "config", None))  # with the settings in force
        self._put("set", dict(changes))

    def set_speed(self, it_per_s: float | None) -> None:
        """Limit training to ``it_per_s`` iterations per second (None: as fast as possible)."""
        check_speed(it_per_s)
        self._put("speed", it_per_s)

    def set_views(self, request) -> None:
        self._put("views", request)

    def set_views_mode(self, mode: str) -> None:
        """``smooth`` (views for every display tick) or ``fast`` (fewer views, more training); see VIEWS_MODES."""
        mode = views_mode(mode)
        self.views_mode = mode
        self._put("views_mode", mode)

    def save(self, path: str) -> None:
        self._put("save", str(path))

    def set_limit(self, iteration: int | None) -> None:
        """Train only until this iteration, then wait (None: no limit). Compare mode keeps two runs in step."""
        self._put("limit", None if iteration is None else int(iteration))

    def call(self, fn: Callable[[Any], Any], label: str = "call") -> None:
        """Run ``fn(trainer)`` in the training loop between iterations; its result comes back as an event
        of kind ``label`` (an EventKind). For a :class:`ProcessRun`, ``fn`` must be picklable (a module-level function)."""
        self._put("call", fn, EventKind(label).value)

    def close(self, timeout: float | None = 2.0) -> bool:
        return self.stop(timeout)

    def rewind(self, iteration: int | None = None) -> None:
        """Go back to a recorded training state — ``iteration``, or the last one before now — and continue from
        there with the settings in force; what was recorded after it is dropped (a ``rewound`` event follows)."""
        self._put("rewind", None if iteration is None else int(iteration))

    # narrate mode (Algorithm 1 in slow motion; see narrate.py)
    def narrate(self, on: bool = True) -> None:
        """On: the trainer stops after each sub-step of Algorithm 1 (a ``substep`` event) until :meth:`substep`."""
        self._put("narrate", bool(on))

    def substep(self) -> None:
        """Narrating: run the next sub-step (after an iteration's last one: start the next iteration)."""
        self._put("substep")




def describe_error(exc: BaseException) -> str:
    msg = str(exc).strip() or type(exc).__name__
    if isinstance(exc, MemoryError) or "out of memory" in msg.lower():
        return f"out of memory ({msg.splitlines()[0]}); try a smaller batch size"
    if isinstance(exc, (ValueError, ConfigError, FileNotFoundError, OSError, KeyError)):
        return msg.splitlines()[0] if isinstance(exc, OSError) else msg
    return f"{type(exc).__name__}: {msg.splitlines()[0]}"


__all__ = ["Commands", "VIEWS_MODES", "DEFAULT_VIEWS_MODE", "HELPER_DELAY", "check_live_changes", "check_speed",
           "check_step_kind", "describe_error", "run_ids", "views_mode"]
