"""Narrate mode of a live run: Algorithm 1 in slow motion, driven by the trainer's own sub-steps.

With narration on, the trainer's ``substep_hook`` is :meth:`Narration.hook`. After each sub-step (the
noise, the data, D's update, …; see ``protocol.SUBSTEP_KINDS``) the training thread reports it as a
``substep`` event (``data``: the :class:`~gan_studio.core.protocol.SubStep`), publishes a snapshot (so the
panels show D after its update, the samples after G's) and then waits, still inside the iteration, until
it is told to go on: each ``substep`` command lets exactly one more sub-step run (after an iteration's last
sub-step, it starts the next iteration, which shows its first). While it waits it serves the commands that
leave the trainer alone (views, pause and play, stop, narration off); the others (settings, saves, steps)
wait until the iteration is over, and then apply in the order they were given.

Nothing here pretends: what the window shows is the minibatch the trainer drew, the loss it computed and
the update it made, one sub-step at a time.
"""
from __future__ import annotations

import dataclasses
import queue
import time

#: commands served while the thread waits inside an iteration (they do not touch the trainer)
IMMEDIATE = frozenset(("narrate", "substep", "views", "views_mode", "speed", "pause", "play", "stop", "limit"))


class Narration:
    """The narrate mode of one :class:`~gan_studio.core.live.handles.ThreadRun` (runs in its training thread)."""

    def __init__(self, run) -> None:
        self.run = run
        self.on = False
        self.credits = 0  # sub-steps asked for and not yet run
        self.deferred: list[tuple] = []  # commands that arrived mid-iteration, for after it
        self.reported = 0  # sub-steps reported so far

    def command(self, tr, cmd: tuple) -> None:
        if cmd[0] == "narrate":
            self.on = bool(cmd[1])
            tr.substep_hook = self.hook if self.on else None
            if not self.on:
                self.credits = 0
        elif cmd[0] == "substep" and self.on:
            self.credits += 1

    def start_iteration(self) -> bool:
        """The loop asks, between iterations: may a narrated iteration start? (one asked-for sub-step)"""
        if self.credits > 0:
            self.credits -= 1
            return True
        return False

    def take_deferred(self) -> list[tuple]:
        out, self.deferred = self.deferred, []
        return out

    def hook(self, sub) -> None:
        run = self.run
        if not self.on or run._stop.is_set():
            return
        tr = run.trainer
        self.reported += 1
        views = None
        if run._request is not None and run._request.names:
            views = run._compute_views(tr, time.perf_counter())
        if views and "field" in views:  # D's heatmap after this sub-step travels with it (before → after)
            sub = dataclasses.replace(sub, field=views["field"])
        run._event("substep", f"{sub.kind} {sub.step}/{sub.steps} of iteration {sub.iteration}", sub)
        run._publish(views=views)
        run._last_publish = time.perf_counter()
        while self.on and not run._stop.is_set():
            if self.credits > 0:
                if not sub.last:  # after the last one, the loop spends it on the next iteration
                    self.credits -= 1
                return
            try:
                cmd = run._cmds.get(timeout=0.05)
            except queue.Empty:
                continue
            if cmd[0] in IMMEDIATE:
                run._handle(tr, cmd)
                if cmd[0] in ("pause", "play", "views", "views_mode"):
                    run._publish(views=run._compute_views(tr, time.perf_counter()) if cmd[0] == "views"
                                 and cmd[1] is not None and cmd[1].names else None)
            else:
                self.deferred.append(cmd)
