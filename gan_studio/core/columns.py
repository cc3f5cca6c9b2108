"""The statistics columns, declared once: what one iteration reports (the trainer's ``IterationStats``), the
rows of the statistics arrays (``drain_stats``, the losses panel, the doctor), one logged line of a run
folder's ``metrics.jsonl`` (its on-disk names) and the metrics CSV.

The events recorded between the logged lines (:class:`RunEvent`) are declared here too.

Everything else reads columns by name through this module (:data:`COL`, :func:`row`, :func:`to_line`,
:func:`from_line`), never by position. Torch-free and numpy-free.

On disk, ``d_steps`` is written as ``k`` (the paper's name; every run folder since version 1 has it):
:data:`V1_NAMES` is that alias, kept so old folders stay readable and new ones stay readable by old versions.
"""
from __future__ import annotations

import enum
import math
import operator
from dataclasses import dataclass
from typing import Any

from .schema import Int, Num, Spec


@dataclass(frozen=True)
class Column:
    """One statistics column: its name (``IterationStats``' field), its name in ``metrics.jsonl`` and the CSV
    (``stored``), a label and unit for people, and how a logged value is checked when read (``spec``)."""

    name: str
    label: str
    spec: Spec
    unit: str = ""
    stored: str = ""  # "" = the same as name
    digits: int | None = None  # rounded to this many decimals when written
    null_if_not_finite: bool = False  # NaN/Inf written as null (a diverged loss)
    history: bool = False  # also kept for the whole run in the trainer's ``history`` (and its checkpoints)

    @property
    def disk(self) -> str:
        return self.stored or self.name

    def encode(self, v: Any) -> Any:
        if self.null_if_not_finite and isinstance(v, float) and not math.isfinite(v):
            return None
        if self.digits is not None:
            return round(v, self.digits)
        return v


_LOSS = Num(finite=False, optional=True)  # a diverged loss is recorded as null (NaN)
_RATE = Num(min=0, max=1e6, optional=True)
_COUNT = Int(min=0, optional=True)

#: The columns, in the order of the statistics arrays.
COLUMNS: tuple[Column, ...] = (
    Column("iteration", "iteration", Int(min=0), history=True),
    Column("d_loss", "D loss", _LOSS, null_if_not_finite=True, history=True),
    Column("g_loss", "G loss", _LOSS, null_if_not_finite=True, history=True),
    Column("d_real", "mean D(x)", _LOSS, null_if_not_finite=True, history=True),
    Column("d_fake", "mean D(G(z))", _LOSS, null_if_not_finite=True, history=True),
    Column("seconds", "time of the iteration", Num(min=0, optional=True), unit="s", digits=6, history=True),
    Column("d_steps", "D steps (k)", _COUNT, stored="k"),
    Column("g_steps", "G steps", _COUNT),
    Column("lr_d", "learning rate D", _RATE),
    Column("lr_g", "learning rate G", _RATE),
    Column("batch_size", "batch size", _COUNT),
    Column("g_grad_norm", "‖∇G‖", _LOSS, null_if_not_finite=True),
    Column("d_grad_norm", "‖∇D‖", _LOSS, null_if_not_finite=True),
)

#: The column names, in order (``protocol.STAT_COLUMNS``).
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: The columns the trainer keeps for the whole run (``Trainer.history``, saved in checkpoints).
HISTORY_KEYS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.history)
#: Each column's position in a statistics row: ``rows[:, COL["d_loss"]]``.
COL: dict[str, int] = {c.name: i for i, c in enumerate(COLUMNS)}
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
#: Names as written in metrics.jsonl and the CSV (``k`` for ``d_steps``).
DISK_NAMES: tuple[str, ...] = tuple(c.disk for c in COLUMNS)
#: Version 1's on-disk names that differ from the column names: {on-disk name: column name}.
V1_NAMES: dict[str, str] = {c.stored: c.name for c in COLUMNS if c.stored}
#: How a logged line's numbers are checked when a run folder is read, by on-disk name.
LINE_SPECS: dict[str, Spec] = {c.disk: c.spec for c in COLUMNS}


#: One statistics row from an object with the columns as attributes (an ``IterationStats``), as a tuple.
row = operator.attrgetter(*NAMES)


def to_line(stats) -> dict:
    """One logged line of metrics.jsonl (on-disk names, NaN losses as null)."""
    return {c.disk: c.encode(getattr(stats, c.name)) for c in COLUMNS}


_KEYS = tuple((c.disk, c.name) for c in COLUMNS)
_NAN = float("nan")


def from_line(line: dict) -> tuple:
    """A statistics row from a logged line (either name of a renamed column; missing or null: NaN)."""
    out = []
    get = line.get
    for disk, name in _KEYS:
        v = get(disk)
        if v is None:
            v = get(name)
        out.append(_NAN if v is None else float(v))
    return tuple(out)


class RunEvent(str, enum.Enum):
    """The events a run folder's metrics.jsonl records between its logged iterations (a line with ``event``)."""

    SET = "set"  # live settings changed; "changes": {name: value}
    DIVERGED = "diverged"  # training produced NaN/Inf; "message": why
    REWIND = "rewind"  # the run went back to a recorded state; "from": the iteration it came from
    FINDING = "finding"  # the GAN doctor's finding (Finding.to_dict())
    # answers to a steering request from the run folder's control file (core/record/control.py); each carries
    # the request's id in "request"
    SET_OWN = "set_own"  # a watched loop's own setting, taken by one of its on_change callbacks; "changes"
    PAUSED = "paused"  # the run paused on request
    RESUMED = "resumed"  # the run resumed on request
    REFUSED = "refused"  # the request was not applied; "message": why, "asked": what it asked for

    def __str__(self) -> str:
        return self.value


RUN_EVENTS: tuple[str, ...] = tuple(e.value for e in RunEvent)
