"""Time travel: continue a recorded run from one of its steps (a branch), or take a live run back (a rewind).

* :func:`branch_trainer` rebuilds the trainer exactly as it was at a recorded step (its state, see
  :mod:`.states`), with the live settings in ``changes`` applied on top. With no changes, training it on
  reproduces the original's recorded future bit for bit on the same device (CPU: tested).
  The trainer carries ``branch_parent`` — ``{"run": the parent folder, "iteration": the step, "changes": …}`` —
  which :class:`~.runfolder.RunWriter` writes into the branch's ``run.json`` as ``parent``, so a family of runs
  can be traced.
* :func:`rewind_trainer` puts a running trainer back to a state of its own recording, keeping the settings in
  force now (a different optimiser or loss chosen since is kept; the state's networks are loaded).
"""
from __future__ import annotations

import os
from array import array
from pathlib import Path

from ..atomic import CheckpointError
from ..train.config import LIVE_KEYS, ConfigError
from .runfolder import RunFolder, RunFolderError
from .states import NoStateError, available_states, state_path


class BranchError(ConfigError):
    """A branch cannot start; the message says why (one line)."""


def parent_info(run_dir: str | os.PathLike, iteration: int, changes: dict | None) -> dict:
    return {"run": str(Path(run_dir).expanduser().resolve()), "iteration": int(iteration),
            "changes": dict(changes or {})}


def check_changes(changes: dict | None) -> dict:
    """Only settings a running run can change may differ in a branch (the networks and data are the parent's)."""
    changes = dict(changes or {})
    bad = [k for k in changes if k not in LIVE_KEYS + ("steps", "device")]
    if bad:
        raise BranchError(f"a branch continues the same networks on the same data: {', '.join(bad)} cannot change "
                          f"(settings that can: {', '.join(LIVE_KEYS)})")
    return changes


def branch_trainer(run_dir: str | os.PathLike, at_step: int, changes: dict | None = None, *,
                   device: str | None = None, data_root: str | None = None, dataset_args: dict | None = None):
    """A trainer at recorded step ``at_step`` of ``run_dir``, with the live ``changes`` applied.

    Raises :class:`BranchError` (no such folder, no state at that step — the message lists the nearest steps
    that have one —, a setting that cannot change) or :class:`CheckpointError` (a damaged or crafted state)."""
    run_dir = Path(run_dir).expanduser()
    if not run_dir.exists():
        raise BranchError(f"no such run folder: {run_dir}")
    try:
        folder = RunFolder(run_dir)  # the folder is checked as a whole first (run.json, static.npz)
    except RunFolderError as exc:
        raise BranchError(str(exc)) from None
    changes = check_changes(changes)
    try:
        path = state_path(folder.path, int(at_step))
    except NoStateError as exc:
        raise BranchError(str(exc)) from None
    from ..train.checkpoint import trainer_from_checkpoint

    requested = {k: v for k, v in changes.items() if k in LIVE_KEYS or k == "steps"}
    if dataset_args:
        requested["dataset_args"] = dict(dataset_args)
    from .states import check_state_of_run

    check_state_of_run(folder.meta, path)  # a state copied from another run is refused, naming what differs
    trainer = trainer_from_checkpoint(path, requested, device=device or changes.get("device"), data_root=data_root)
    if trainer.iteration != int(at_step):
        raise CheckpointError(f"{path} holds step {trainer.iteration}, not {at_step}: the run folder is damaged")
    trainer.apply_changes()  # now, so the branch's run.json starts with its own settings
    if "steps" not in changes:
        trainer.config.steps = max(trainer.config.steps, trainer.iteration)
    trainer.branch_parent = parent_info(folder.path, at_step, {k: v for k, v in changes.items() if k in LIVE_KEYS})
    return trainer


def rewind_target(run_dir: str | os.PathLike, now: int, iteration: int | None = None) -> int:
    """The step a rewind goes back to: ``iteration`` if it has a state, else the last state before ``now``
    (or the earliest state, if there is none before)."""
    have = available_states(run_dir)
    if not have:
        raise NoStateError(f"{run_dir} keeps no training states yet: nothing to go back to")
    if iteration is not None:
        if int(iteration) not in have:
            state_path(run_dir, int(iteration))  # raises, naming the nearest steps with a state
        return int(iteration)
    before = [i for i in have if i < now]
    return before[-1] if before else have[0]


def rewind_trainer(trainer, run_dir: str | os.PathLike, iteration: int) -> None:
    """Put ``trainer`` back to its recording's state at ``iteration``, in place, keeping the settings in force
    now. Raises :class:`CheckpointError` (and leaves the trainer as it was) if the state cannot be used."""
    import torch

    from ..train import losses as losses_mod
    from ..train.checkpoint import _check_state, check_networks, load_checkpoint, structural_differences
    from ..train.config import TrainConfig

    path = state_path(run_dir, iteration)
    data = load_checkpoint(path)
    now = trainer.config.to_dict()
    diffs = structural_differences(data["config"], now)
    if diffs:
        raise CheckpointError(f"{path} is the state of another run ({diffs[0][0]} differs)")
    cfg_state = TrainConfig.from_dict(dict(data["config"], device=now["device"], steps=now["steps"]))
    check_networks(data, cfg_state, path)
    _check_state(trainer, data, path)
    live_now = {k: now[k] for k in LIVE_KEYS}
    history = trainer.history
    its = history.get("iteration")  # the loss history up to the step gone back to
    n_keep = 0
    if its is not None:
        while n_keep < len(its) and its[n_keep] <= iteration:
            n_keep += 1
    kept = {k: array("d", v[:n_keep]) for k, v in history.items()}
    old = (trainer.config, trainer.loss, trainer.D, trainer.opt_d, trainer.opt_g)
    try:
        with torch.no_grad():
            trainer.config = cfg_state
            trainer.loss = losses_mod.get_loss(cfg_state.loss)
            if cfg_state.pack != old[0].pack:
                trainer._rebuild_d()
            trainer._build_optimizers()
            trainer._sync_mbstd()
            trainer.load_state_dict(data)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        trainer.config, trainer.loss, trainer.D, trainer.opt_d, trainer.opt_g = old
        trainer._sync_mbstd()
        raise CheckpointError(f"{path} does not fit this run ({' '.join(str(exc).split())[:200]})") from None
    trainer.history = kept
    trainer.diverged = None
    changed = {k: v for k, v in live_now.items() if cfg_state.to_dict()[k] != v}
    if changed:
        trainer.submit(**changed)
        trainer.apply_changes()


__all__ = ["BranchError", "branch_trainer", "check_changes", "parent_info", "rewind_target", "rewind_trainer"]
