"""A trainer's stand-in for computing views off the training thread.

:func:`capture_weights` (on the training thread) copies G's and D's weights and the views' random stream —
what a view depends on — in well under a millisecond for the toy networks; a :class:`Shadow` (on another thread)
loads them into its own copies of the networks and answers the trainer's view methods (``fixed_samples``,
``d_on``, ``d_outputs``, ...) from them, so :mod:`gan_studio.core.views.views` and the GIF's frames are
computed exactly as from the trainer at that iteration, while training goes on.
"""
from __future__ import annotations

import copy

import torch


def capture_weights(trainer, payload: dict | None = None) -> dict:
    """What a view of ``trainer`` now depends on, copied: its networks' weights and the views' random stream.
    ``payload``: a training state captured at this same iteration (its copies are used)."""
    from ..train.checkpoint import detached_copy

    if payload is not None and "G" in payload:
        return {"G": payload["G"], "D": payload["D"], "view_gen": payload["rng"]["view_gen"]}
    return {"G": detached_copy(trainer.G.state_dict()), "D": detached_copy(trainer.D.state_dict()),
            "view_gen": trainer.view_gen.get_state()}


class Shadow:
    """A shallow copy of ``trainer`` with its own G, D and views' stream (see the module's docstring). Raises
    what ``copy.deepcopy`` raises for networks that cannot be copied (the caller then computes on the trainer)."""

    def __init__(self, trainer) -> None:
        t = copy.copy(trainer)
        t.G = copy.deepcopy(trainer.G)
        t.D = copy.deepcopy(trainer.D)
        for m in (t.G, t.D):
            m.requires_grad_(False)  # (views take gradients with respect to their inputs only)
        t.view_gen = torch.Generator(device=trainer.device)
        t.observers = []
        self.trainer = t

    def load(self, weights: dict):
        """The stand-in, with ``weights`` (from :func:`capture_weights`) loaded."""
        t = self.trainer
        t.G.load_state_dict(weights["G"])
        t.D.load_state_dict(weights["D"])
        t.view_gen.set_state(weights["view_gen"])
        return t


def shadow_of(trainer) -> Shadow | None:
    """A :class:`Shadow` of ``trainer``, or None when its networks cannot be copied."""
    try:
        return Shadow(trainer)
    except Exception:  # noqa: BLE001 - a user's network that deepcopy cannot copy: views on the training thread
        return None


__all__ = ["Shadow", "capture_weights", "shadow_of"]
