"""The GAN doctor inside a live run (:class:`~gan_studio.core.live.handles.ThreadRun`, and so a
:class:`~gan_studio.core.live.process_run.ProcessRun`'s child): a :class:`~gan_studio.core.doctor.observer.DoctorObserver`
whose findings become run-handle events.

Each change of what the doctor says is one ``finding`` event (:data:`~gan_studio.core.protocol.EventKind.FINDING`)
whose ``data`` is the finding's dict (``Finding.to_dict()``: name, title, severity, sentence, evidence with
the iterations it covers, remedies as live changes) plus ``status``:

* ``new``: a problem reported for the first time; ``back``: one that had stopped holding holds again;
* ``cleared``: a problem that no longer holds (``active`` false, ``until`` its last iteration);
* ``healthy``: no problem holds (the healthy finding, with its evidence).

When the run is recorded, each problem's event (new, back, cleared) is also a ``finding`` line of the run
folder's events, as ``gan-studio train`` writes them, so a replay shows them at their iteration.
The state is compared once per block of the doctor's statistics (50 iterations), not per step.
"""
from __future__ import annotations

from typing import Callable

from ..columns import RunEvent
from ..doctor.observer import DoctorObserver
from ..protocol import EventKind

#: iterations between looks at the samples in a live run (the statistics-only rules run on every iteration)
PROBE_EVERY = 100


class LiveDoctor(DoctorObserver):
    """``emit(kind, message, data)``: the run's event function; ``writer``: its RunWriter (or None)."""

    def __init__(self, emit: Callable, writer=None, probe_every: int = PROBE_EVERY) -> None:
        super().__init__(writer=None, probe_every=probe_every)
        self.emit = emit
        self.recorder = writer
        self.shown: dict[str, bool] = {}  # finding name -> active, as last reported
        self._checked_block = None
        self._restored = False

    def on_iteration(self, trainer, stats) -> None:
        if self.doctor is not None and stats.iteration <= self.doctor.iteration and not self._restored:
            # the run went back to an earlier state (rewound): what the doctor saw after it never happened
            self.doctor, self.shown, self._checked_block = None, {}, None
        self._restored = False
        super().on_iteration(trainer, stats)

    def on_diverged(self, trainer, message) -> None:
        self._restored = True  # the trainer put back earlier weights: it goes on from there, the doctor too
        super().on_diverged(trainer, message)

    def _report(self, trainer) -> None:
        doc = self.doctor
        new = doc.new_findings()
        key = (doc.blocks[-1]["last"] if doc.blocks else None, doc.diverged_at)
        if not new and key == self._checked_block:
            return
        self._checked_block = key
        fresh = {f.name for f in new}
        for f in doc.findings():
            was = self.shown.get(f.name)
            if was == f.active or (was is None and not f.active):
                continue
            self.shown[f.name] = f.active
            if f.severity == "ok":
                if f.active:
                    self._say(trainer, f, "healthy", record=False)
                continue
            status = "cleared" if not f.active else "new" if f.name in fresh or was is None else "back"
            self._say(trainer, f, status)
        if "healthy" in self.shown and not any(f.name == "healthy" and f.active for f in doc.findings()):
            self.shown.pop("healthy")  # said again when the run is healthy again

    def _say(self, trainer, f, status: str, record: bool = True) -> None:
        d = f.to_dict()
        if record and self.recorder is not None:
            try:
                self.recorder.note(trainer, RunEvent.FINDING, **d)
            except (OSError, ValueError):
                pass  # a full disk or a closed file: the event below still reaches the window
        self.emit(EventKind.FINDING, f.sentence, dict(d, status=status))


def attach_doctor(trainer, emit: Callable, writer=None) -> LiveDoctor:
    """Watch ``trainer`` for the doctor; findings go to ``emit`` (and ``writer``)."""
    return trainer.add_observer(LiveDoctor(emit, writer))
