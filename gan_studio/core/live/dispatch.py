"""How a live run's training thread carries out its commands (:class:`~.commands.Commands` queues them): one
method per command, found in :data:`HANDLERS`, run between iterations in the order the commands were given.
A part of :class:`~gan_studio.core.live.handles.ThreadRun`."""
from __future__ import annotations

import queue

from ..columns import RunEvent
from ..train.config import ConfigError
from .commands import describe_error as _describe

#: command → the method of :class:`CommandHandlers` that carries it out (``cmd`` is the queued tuple)
HANDLERS = {"play": "_do_play", "pause": "_do_pause", "rewind": "_do_rewind", "step": "_do_step", "set": "_do_set",
            "speed": "_do_speed", "views_mode": "_do_views_mode", "views": "_do_views", "save": "_do_save",
            "stop": "_do_stop", "limit": "_do_limit", "narrate": "_do_narrate", "substep": "_do_narrate",
            "call": "_do_call"}


class CommandHandlers:
    """ThreadRun's command handlers (they use its attributes: ``_running``, ``_recorder``, ``_narr``, ...)."""

    def _handle_commands(self, tr, wait: float) -> None:
        for cmd in self._narr.take_deferred():  # what arrived while a narrated iteration waited
            self._handle(tr, cmd)
        try:
            cmd = self._cmds.get(timeout=wait) if wait > 0 else self._cmds.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(tr, cmd)
            try:
                cmd = self._cmds.get_nowait()
            except queue.Empty:
                return

    def _handle(self, tr, cmd: tuple) -> None:
        name = HANDLERS.get(cmd[0])
        if name is not None:
            getattr(self, name)(tr, cmd)

    def _do_play(self, tr, cmd) -> None:
        if tr.diverged:
            tr.clear_divergence()  # continue from the restored weights (the user may have lowered the lr)
        self._running = True
        self._next_step = 0.0
        self._set_state("running")

    def _do_pause(self, tr, cmd) -> None:
        self._settle_helper()
        self._running = False
        if self.state == "running":
            self._set_state("paused")
        if self._recorder is not None and tr.iteration > 0:
            self._recorder.snapshot(tr, state=True)  # with a training state: a paused run can be continued from here
            self._recorder.flush()  # (on disk before the window offers to continue from it)

    def _do_rewind(self, tr, cmd) -> None:
        self._rewind(tr, cmd[1])

    def _do_step(self, tr, cmd) -> None:
        from ..train.trainer import Diverged

        if tr.diverged:
            tr.clear_divergence()
            self._set_state("paused")
        self._running = False
        if self.state == "running":
            self._set_state("paused")
        self._settle_helper()
        d, g = {"full": (None, None), "d": (1, 0), "g": (0, 1)}[cmd[1]]
        try:
            self._record(tr.step(d, g))
            if self._recorder is not None:
                self._maybe_record(tr)
        except Diverged as exc:
            self._set_state("diverged", str(exc))
            self._event("diverged", str(exc))
        self._dirty = True

    def _do_set(self, tr, cmd) -> None:
        try:
            tr.queue(cmd[1])  # validated once, by set(); the trainer checks only what its networks can take
            if self._recorder is not None:  # (a refused change is not recorded as made)
                self._recorder.note(tr, RunEvent.SET, changes=cmd[1])
        except ConfigError as exc:
            self._event("error", str(exc), {"refused": dict(cmd[1])})
        if not self._running:
            tr.apply_changes()  # paused: apply now, so what the window shows is what the next step uses
            self._dirty = True

    def _do_speed(self, tr, cmd) -> None:
        self._speed = cmd[1]
        self._next_step = 0.0

    def _do_views_mode(self, tr, cmd) -> None:
        self._set_views_mode(cmd[1])
        self._views_due = 0.0

    def _do_views(self, tr, cmd) -> None:
        self._request = cmd[1]
        self._views_due = 0.0
        self._nn_due = 0.0
        self._metrics_due = 0.0
        self._dirty = True

    def _do_save(self, tr, cmd) -> None:
        from ..train.checkpoint import save_checkpoint

        try:
            save_checkpoint(tr, cmd[1])
            self._event("saved", cmd[1])
        except Exception as exc:  # noqa: BLE001 - a full disk, a bad path: said in the window
            self._event("error", f"could not save the checkpoint to {cmd[1]}: {_describe(exc)}")

    def _do_stop(self, tr, cmd) -> None:
        self._stop.set()

    def _do_limit(self, tr, cmd) -> None:
        self._limit = cmd[1]

    def _do_narrate(self, tr, cmd) -> None:
        self._narr.command(tr, cmd)

    def _do_call(self, tr, cmd) -> None:
        try:
            self._event(cmd[2], "done", cmd[1](tr))
        except Exception as exc:  # noqa: BLE001 - the caller's function: its failure is reported
            self._event("error", f"{cmd[2]} failed: {_describe(exc)}")


__all__ = ["CommandHandlers", "HANDLERS"]
