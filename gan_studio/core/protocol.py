"""What a run handle is: the one interface the studio, compare mode, replay and the tests program against.

A *run handle* is a live run (training in a thread, :class:`~gan_studio.core.live.handles.ThreadRun`, or
in a child process, :class:`~gan_studio.core.live.process_run.ProcessRun`) or a recording played back
(:class:`~gan_studio.core.record.replay.ReplayRun`). What a handle can do is a set of
:class:`Capability` flags, never a type test. Everything a handle hands out is plain data: a frozen
:class:`Snapshot` (numbers and numpy arrays), statistics as an n × len(STAT_COLUMNS) array, and
:class:`Event` records whose ``kind`` is an :class:`EventKind`.

No torch and no Qt here: the window process imports this without either.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .columns import NAMES

#: Columns of the statistics arrays (``drain_stats``), of the recorded metrics and of the metrics CSV, declared
#: in :mod:`gan_studio.core.columns` (names, on-disk names, labels, units). The trainer's ``IterationStats``
#: has exactly these fields (a test checks it).
STAT_COLUMNS = NAMES

#: The states a handle reports in ``Snapshot.state``.
STATES = ("loading", "running", "paused", "diverged", "error", "stopped", "replay")


class EventKind(str, enum.Enum):
    """What an :class:`Event` reports (a ``str`` enum: ``ev.kind == "error"`` also works)."""

    READY = "ready"  # the run's data and networks are built; data: {"device": ...}
    STATE = "state"  # the state changed; message: the new state
    ERROR = "error"  # something failed; message: one line for the user
    WARNING = "warning"  # something was skipped (a damaged line or snapshot of a recording); the run goes on
    DIVERGED = "diverged"  # training produced NaN/Inf; weights were restored
    SAVED = "saved"  # a checkpoint was written; message: its path
    METRICS = "metrics"  # live mode metrics; data: a dict of scalars
    RECORDING = "recording"  # the run is being recorded; message: the run folder
    LATENT_GIF = "latent-gif"  # result of run.call(latent_loop_frames)
    GENERATOR = "generator"  # result of run.call(export_generator_call)
    SUBSTEP = "substep"  # narrate mode: one sub-step of Algorithm 1 just ran; data: a SubStep
    FINDING = "finding"  # the GAN doctor: data: Finding.to_dict() + "status" (new, back, cleared, healthy)
    REWOUND = "rewound"  # the run went back to a recorded state; data: {"iteration": ..., "from": ...}
    FIGURE = "figure"  # result of run.call(figure_call): a paper figure was written; message: its path
    RECIPE = "recipe"  # result of run.call(InstallSchedule(...)): a recipe's changes are scheduled
    CALL = "call"  # result of run.call(fn) with no other label

    def __str__(self) -> str:  # print as the plain word
        return self.value


class Capability(enum.Flag):
    """What a run handle can do."""

    NONE = 0
    TRAIN = enum.auto()  # it trains: set, step D or G alone, save, call, evaluate, export the generator
    SEEK = enum.auto()  # it plays back a recording: seek to a recorded step
    FOLLOW = enum.auto()  # its recording may still grow (a run being written elsewhere)


@dataclass(frozen=True)
class Snapshot:
    """What the panels draw: the latest state of a run, published at display rate."""

    run_id: int
    iteration: int
    state: str  # one of STATES
    message: str
    it_per_s: float
    device: str
    config: dict
    static: Any  # live.viewspec.StaticInfo once the data are known
    views: dict = field(default_factory=dict)
    views_iteration: int = -1
    lr_d: float = 0.0
    lr_g: float = 0.0
    time: float = 0.0
    loss_info: tuple = ()  # (name, sigmoid, d_equilibrium, g_equilibrium) of the current loss

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown run state {self.state!r} (the states: {', '.join(STATES)})")


@dataclass(frozen=True)
class Event:
    kind: str  # an EventKind (its value is turned into the member: an unknown kind is an error)
    message: str
    data: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EventKind(self.kind))


#: The sub-steps of one iteration of Algorithm 1, as the trainer reports them in narrate mode: per D-step
#: the noise, the data, D's update; then per G-step the noise and G's update ("joint": the simultaneous
#: update's one combined step).
SUBSTEP_KINDS = ("d_noise", "d_data", "d_update", "g_noise", "g_update", "joint")


@dataclass(frozen=True)
class SubStep:
    """One sub-step of Algorithm 1, reported by the trainer's ``substep_hook`` (plain numbers and arrays).

    Arrays (points data only, in the data's own space, one row per example of the minibatch; else None):
    ``fakes`` G(z) · ``real`` x · ``grad`` −∂L_G/∂G(z) at the fakes (where G's step pushes them) ·
    ``after`` G(z) for the same z after G's update."""

    kind: str  # one of SUBSTEP_KINDS
    iteration: int  # the iteration this sub-step belongs to (the one that ends with it: trainer.iteration + 1)
    step: int  # i: which D-step (1..k) or G-step (1..g_steps) this is
    steps: int  # k for D sub-steps, g_steps for G sub-steps
    m: int  # the minibatch size
    last: bool  # the iteration's last sub-step
    loss: float = float("nan")  # the update's loss on this batch (d_update, g_update, joint: D's)
    g_loss: float = float("nan")  # joint: G's loss
    d_real: float = float("nan")  # mean D(x) and D(G(z)) on this batch (d_update, joint)
    d_fake: float = float("nan")
    fakes: Any = None
    real: Any = None
    grad: Any = None
    after: Any = None
    field: Any = None  # filled in by the live worker: D's field (the toy field's view) right after this sub-step

    def __post_init__(self) -> None:
        if self.kind not in SUBSTEP_KINDS:
            raise ValueError(f"unknown sub-step kind {self.kind!r} (the kinds: {', '.join(SUBSTEP_KINDS)})")


@runtime_checkable
class RunHandle(Protocol):
    """The one run-handle protocol. Commands return at once and apply between iterations, in order."""

    run_id: int
    state: str
    capabilities: Capability

    def start(self) -> "RunHandle": ...
    def play(self) -> None: ...
    def pause(self) -> None: ...
    def step(self, kind: str = "full") -> None: ...
    def set(self, **changes: Any) -> None: ...
    def set_speed(self, it_per_s: float | None) -> None: ...
    def set_views(self, request) -> None: ...
    def set_limit(self, iteration: int | None) -> None: ...
    def latest(self) -> Snapshot | None: ...
    def drain_stats(self) -> np.ndarray: ...
    def drain_events(self) -> list[Event]: ...
    def stop(self, timeout: float | None = 2.0) -> bool: ...
    def close(self, timeout: float | None = 2.0) -> bool: ...
    def is_alive(self) -> bool: ...
