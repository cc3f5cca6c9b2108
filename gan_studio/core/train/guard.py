"""The divergence guard: a copy of the last finite weights, refreshed in place every ``safe_every`` iterations;
on a NaN/Inf the trainer goes back to them, rebuilds its optimisers and tells its observers."""
from __future__ import annotations

import math

import torch


class DivergenceGuard:
    """The divergence guard of :class:`~gan_studio.core.train.trainer.Trainer` (a mixin)."""

    def _weights_finite(self) -> bool:
        params = [p.detach() for m in (self.G, self.D) for p in m.parameters()]
        if not params:
            return True
        norms = torch._foreach_norm(params)  # one fused pass, one device sync below
        return bool(torch.isfinite(torch.stack(norms)).all())

    def _snapshot_good(self) -> None:
        """Keep a copy of the current (finite) weights to restore on divergence. The buffers are allocated
        once and refreshed in place, so this costs one fused copy every ``safe_every`` iterations."""
        if not self._weights_finite():
            return
        src = {"G": self.G.state_dict(), "D": self.D.state_dict()}
        good = self._good
        if good is None or any(good[n].keys() != src[n].keys() or
                               any(good[n][k].shape != v.shape for k, v in src[n].items()) for n in src):
            self._good = {n: {k: v.detach().clone() for k, v in sd.items()} for n, sd in src.items()}
        else:
            dst = [good[n][k] for n in src for k in src[n]]
            torch._foreach_copy_(dst, [src[n][k].detach() for n in src for k in src[n]])
        self._good_iteration = self.iteration

    def _on_divergence(self, stats) -> None:
        parts = [f"{n} = {v:g}" for n, v in (("D loss", stats.d_loss), ("G loss", stats.g_loss),
                                               ("mean D(x)", stats.d_real), ("mean D(G(z))", stats.d_fake))
                 if not math.isfinite(v) and not (n == "G loss" and stats.g_steps == 0)
                 and not (n != "G loss" and stats.d_steps == 0)]
        self.iteration = stats.iteration - 1
        if self._good is not None:
            self.G.load_state_dict(self._good["G"])
            self.D.load_state_dict(self._good["D"])
        self._build_optimizers()  # their state may hold non-finite values
        self.diverged = (f"diverged at iteration {stats.iteration} ({', '.join(parts)}); "
                         f"weights restored from iteration {self._good_iteration}, the last finite ones")
        for obs in list(self.observers):
            obs.on_diverged(self, self.diverged)

    def clear_divergence(self) -> None:
        """Let training continue from the restored weights (e.g. after lowering the learning rate)."""
        self.iteration = self._good_iteration
        self.diverged = None
