"""Resumable recordings: the training states a run folder keeps beside its snapshots.

A state is a checkpoint (:func:`~gan_studio.core.train.checkpoint.save_checkpoint`: G, D, both optimisers, the
iteration, the learning rates, every random generator — the training stream, the views' stream, torch's global
one, CUDA's — the data sampler's position and the settings in force) written as ``states/s-<iteration>.pt`` when
the snapshot of that iteration is recorded. Its loss history is left out (the run folder's ``metrics.jsonl``
has it), so a state's size does not grow with the run.

Which snapshots get a state (``run.json``'s ``states`` entry says so): a recording spends at most
:data:`STATE_BUDGET` bytes on states. Once a state is written its size is known, and the spacing is the smallest
``n`` such that a state every ``n``-th snapshot keeps ``max_snapshots / n`` states within the budget, at least
:data:`MIN_STATE_GAP` iterations apart: ring8 (0.45 MB a state) gets one per snapshot, ring8-collapse and digits
(~2 MB) one every 4th, the paper's MNIST MLPs (30 MB) about one every 55th. A paused live run and the end of a
run always get one. States are thinned with their snapshots (a state whose snapshot is thinned out goes too), so the recording stays bounded.

Reading a state goes through the checkpoint's safe loader (``weights_only``, every entry's type checked, shapes
checked against the networks the configuration describes): a crafted or damaged file gives one clear
:class:`~gan_studio.core.atomic.CheckpointError` line and never runs anything.
"""
from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path

from ..train.config import ConfigError

STATES_DIR = "states"
STATE_FILE = re.compile(r"s-(\d{9})\.pt")
#: bytes of states one recording may keep (see the module's docstring)
STATE_BUDGET = 128 * 2**20
#: iterations at least between two states (a short run that snapshots every iteration keeps one every 10), except
#: where one is asked for: a live run's pause, a run's end
MIN_STATE_GAP = 10


class NoStateError(ConfigError):
    """A run folder has no state at the asked step (an old folder, or a step between states)."""


def state_name(iteration: int) -> str:
    return f"s-{int(iteration):09d}.pt"


def write_state(trainer, path: str | os.PathLike) -> int:
    """Write ``trainer``'s state (a checkpoint without the loss history) atomically; returns its size in bytes."""
    from ..train.checkpoint import save_checkpoint

    target = save_checkpoint(trainer, path, history=False)
    return target.stat().st_size


def spacing(state_bytes: int, max_snapshots: int, budget: int = STATE_BUDGET) -> int:
    """A state every how many snapshots, so that ``max_snapshots`` snapshots keep at most ``budget`` bytes."""
    return max(1, math.ceil(max_snapshots * max(1, int(state_bytes)) / max(1, int(budget))))


def _inside(folder: Path, p: Path) -> Path | None:
    """``p`` if it is a regular file inside ``folder`` (links followed), else None."""
    try:
        r = p.resolve(strict=True)
        if not r.is_relative_to(folder.resolve()) or not stat.S_ISREG(r.stat().st_mode):
            return None
        return r
    except (OSError, RuntimeError):
        return None


def available_states(run_dir: str | os.PathLike) -> list[int]:
    """The iterations a run folder holds a state for (sorted; empty for an old folder without states)."""
    d = Path(run_dir) / STATES_DIR
    try:
        names = os.listdir(d)
    except OSError:
        return []
    out = []
    for n in names:
        m = STATE_FILE.fullmatch(n)
        if m and _inside(Path(run_dir), d / n) is not None:
            out.append(int(m.group(1)))
    return sorted(out)


def nearest(available: list[int], iteration: int, n: int = 2) -> list[int]:
    """Up to ``n`` available steps nearest to ``iteration`` (sorted)."""
    return sorted(sorted(available, key=lambda i: (abs(i - iteration), i))[:n])


def state_path(run_dir: str | os.PathLike, iteration: int) -> Path:
    """The state file of ``iteration`` in ``run_dir``; :class:`NoStateError` (saying which steps have one) if
    there is none."""
    run_dir = Path(run_dir)
    have = available_states(run_dir)
    if int(iteration) not in have:
        raise NoStateError(why_no_state(run_dir, int(iteration), have))
    p = _inside(run_dir, run_dir / STATES_DIR / state_name(iteration))
    if p is None:  # pragma: no cover - listed a moment ago
        raise NoStateError(f"{run_dir}: the state of step {iteration} cannot be read")
    return p


def why_no_state(run_dir: Path, iteration: int, have: list[int] | None = None) -> str:
    """One line: why step ``iteration`` of ``run_dir`` cannot be continued, and what can."""
    have = available_states(run_dir) if have is None else have
    if not have:
        return (f"{run_dir} keeps no training states (it was recorded by an older GAN Studio, or with states "
                f"off): it can be replayed, but not continued")
    near = ", ".join(f"{i:,}".replace(",", "") for i in nearest(have, iteration))
    return (f"{run_dir} has no training state at step {iteration}; continue from a step that has one, "
            f"e.g. {near} ({len(have)} steps from {have[0]} to {have[-1]} have one)")


__all__ = ["STATES_DIR", "STATE_BUDGET", "NoStateError", "available_states", "nearest", "spacing",
           "state_name", "state_path", "why_no_state", "write_state"]


def check_state_of_run(meta: dict, path: str | os.PathLike) -> None:
    """A state in a run folder must be that run's: its data, networks and noise (the structural settings)
    must be those ``run.json`` records, else :class:`~gan_studio.core.errors.CheckpointError` says which differs."""
    from ..errors import CheckpointError
    from ..train.checkpoint import load_checkpoint, structural_differences

    cfg = meta.get("config") if isinstance(meta, dict) else None
    if not isinstance(cfg, dict):
        return
    diffs = structural_differences(load_checkpoint(path)["config"], cfg)
    if diffs:
        key, have, want = diffs[0]
        raise CheckpointError(f"{path} is the state of another run: {key} is {have!r} there, {want!r} in the "
                              f"run's run.json"[:300])
