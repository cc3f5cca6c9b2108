"""A recipe's live changes replayed at their iterations, inside the training process."""
from __future__ import annotations

from ..columns import RunEvent
from ..errors import ConfigError


class ChangeSchedule:
    """A trainer observer that makes a recipe's changes at their iterations: a change ``at`` N is submitted
    once N iterations are done, so it applies at the start of iteration N + 1 — exactly as a change made in
    the studio at iteration N. Each is also noted in the run folder being written (a ``set`` event), so a
    recipe of that run has the same changes. Changes before the trainer's iteration when it starts (a
    resumed run) are not made again. A change the trainer refuses is skipped (as the studio did) and kept
    in ``skipped``."""

    def __init__(self, changes) -> None:
        self.changes = [(int(at), dict(ch)) for at, ch in changes]
        self._next: int | None = None
        self.made: list = []
        self.skipped: list[str] = []

    def install(self, trainer) -> "ChangeSchedule":
        if self not in trainer.observers:
            trainer.add_observer(self)
        self._due(trainer)
        return self

    def _due(self, trainer) -> None:
        it = int(trainer.iteration)
        if self._next is None:
            self._next = next((i for i, (at, _) in enumerate(self.changes) if at >= it), len(self.changes))
        while self._next < len(self.changes) and self.changes[self._next][0] <= it:
            at, ch = self.changes[self._next]
            self._next += 1
            if at != it:
                continue
            try:
                trainer.submit(**ch)
            except ConfigError as exc:
                self.skipped.append(f"iteration {at}: {exc}")
                continue
            self.made.append((at, ch))
            for obs in trainer.observers:
                if type(obs).__name__ == "RunWriter":
                    obs.note(trainer, RunEvent.SET, changes=ch)

    @property
    def remaining(self) -> int:
        return len(self.changes) - (self._next or 0)

    def on_run_start(self, trainer) -> None:
        self._due(trainer)

    def on_iteration(self, trainer, stats) -> None:
        self._due(trainer)

    def on_diverged(self, trainer, message) -> None:
        pass

    def on_run_end(self, trainer, reason) -> None:
        pass


class InstallSchedule:
    """A picklable ``fn(trainer)`` for a live run handle's ``call``: install the schedule in the training
    process, and apply a change due now at once (a paused run then shows it)."""

    def __init__(self, changes) -> None:
        self.changes = [(int(at), dict(ch)) for at, ch in changes]

    def __call__(self, trainer) -> int:
        sched = ChangeSchedule(self.changes).install(trainer)
        if trainer.pending_changes():
            trainer.apply_changes()
        return sched.remaining
