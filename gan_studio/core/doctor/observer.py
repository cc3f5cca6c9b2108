"""The doctor inside a training process: a trainer observer that feeds a :class:`~.engine.Doctor` every
iteration's statistics, probes the samples now and then, and reports each new finding (to a callback, and
as a ``finding`` event in the run folder when given the run's writer)."""
from __future__ import annotations

from typing import Callable

from ..columns import RunEvent
from ..protocol import STAT_COLUMNS
from ..train.trainer import Observer
from .engine import Doctor
from .finding import Finding
from .probes import SampleProbe


class DoctorObserver(Observer):
    """Watch a trainer for the doctor.

    ``doctor``: the engine to feed (a new one from the trainer's settings when None). ``writer``: anything with
    ``note(trainer, event, **data)`` (a :class:`~gan_studio.core.record.runfolder.RunWriter`): every new
    finding is written there as ``{"iteration": i, "event": "finding", **finding.to_dict()}``.
    ``on_finding``: called with each new finding (once per kind of finding). ``probe_every``: iterations
    between looks at the samples (0: never; the statistics-only rules still run)."""

    def __init__(self, doctor: Doctor | None = None, *, writer=None, on_finding: Callable[[Finding], None] | None = None,
                 probe_every: int = 100, probe: Callable | None = None) -> None:
        if probe_every < 0:
            raise ValueError("probe_every must be ≥ 0")
        self.doctor = doctor
        self.writer = writer
        self.on_finding = on_finding
        self.probe_every = int(probe_every)
        self.probe = probe or SampleProbe()
        self.errors: list[str] = []
        self._fields = STAT_COLUMNS

    def _start(self, trainer) -> Doctor:
        if self.doctor is None:
            self.doctor = Doctor(trainer.config.to_dict(), kind=trainer.dataset.kind)
        return self.doctor

    def on_run_start(self, trainer) -> None:
        self._start(trainer)

    def on_iteration(self, trainer, stats) -> None:
        doc = self.doctor if self.doctor is not None else self._start(trainer)
        doc.feed_row(tuple(getattr(stats, c) for c in self._fields))
        if self.probe_every and stats.iteration % self.probe_every == 0:
            try:
                m = self.probe(trainer)
                m["iteration"] = stats.iteration
                doc.feed_metrics(m)
            except Exception as exc:  # noqa: BLE001 - a failed look at the samples must not stop training
                if len(self.errors) < 10:
                    self.errors.append(f"doctor: could not look at the samples: {exc}")
        self._report(trainer)

    def on_settings_changed(self, trainer, changes: dict) -> None:
        if self.doctor is not None:  # a doctor made later reads the trainer's settings then
            self.doctor.configure(**changes)

    def on_state_restored(self, trainer) -> None:
        if self.doctor is not None:  # a rewind or a checkpoint: the settings may be another moment's
            self.doctor.configure(**trainer.config.to_dict())

    def on_diverged(self, trainer, message) -> None:
        doc = self.doctor if self.doctor is not None else self._start(trainer)
        doc.note_diverged(trainer.iteration + 1, message)
        self._report(trainer)

    def on_run_end(self, trainer, reason: str) -> None:
        if self.doctor is not None:
            self.doctor.flush()
            self._report(trainer)

    def _report(self, trainer) -> None:
        for f in self.doctor.new_findings():
            if self.writer is not None:
                try:
                    self.writer.note(trainer, RunEvent.FINDING, **f.to_dict())
                except (OSError, ValueError):
                    pass  # a full disk or a closed file: the finding is still reported below
            if self.on_finding is not None:
                self.on_finding(f)
