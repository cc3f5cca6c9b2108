"""GAN objectives by name, all written on D's raw scores (logits) for numerical stability.

``log D(x) = -softplus(-s)`` and ``log(1 - D(x)) = -softplus(s)`` for a score s with D = sigmoid(s).
Each loss knows its values at equilibrium (D's output carrying no information), which the studio
draws as reference lines: for the minimax game D's summed BCE is log 4 there (the paper's −log 4 for
V(D*, G) at p_g = p_data).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..settings import LOSS_ALIASES, LOSS_INFO


@dataclass(frozen=True)
class Loss:
    name: str
    summary: str
    d_loss: Callable  # (s_real, s_fake) -> scalar
    g_loss: Callable  # (s_fake) -> scalar
    sigmoid: bool  # whether D's score is a probability through a sigmoid
    d_equilibrium: float
    g_equilibrium: float
    gradient_penalty: bool = False

    def probability(self, scores: torch.Tensor) -> torch.Tensor:
        """What the studio shows as D's output: a probability for sigmoid losses, the raw critic score else."""
        return torch.sigmoid(scores) if self.sigmoid else scores


def _bce_d(s_real, s_fake):
    return F.softplus(-s_real).mean() + F.softplus(s_fake).mean()


_FORMULAS = {  # name -> (D's loss, G's loss) on D's scores; the rest of each loss is settings.LOSS_INFO's
    "minimax": (_bce_d, lambda s_fake: -F.softplus(s_fake).mean()),
    "nonsaturating": (_bce_d, lambda s_fake: F.softplus(-s_fake).mean()),
    "lsgan": (lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(), lambda f: 0.5 * ((f - 1) ** 2).mean()),
    "hinge": (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean()),
    "wgan-gp": (lambda r, f: f.mean() - r.mean(), lambda f: -f.mean()),
}
LOSSES: dict[str, Loss] = {
    name: Loss(name, info.summary, *_FORMULAS[name], info.sigmoid, info.d_equilibrium, info.g_equilibrium,
               gradient_penalty=info.gradient_penalty)
    for name, info in LOSS_INFO.items() if name not in LOSS_ALIASES
}
LOSSES.update({alias: LOSSES[name] for alias, name in LOSS_ALIASES.items()})  # short alias, as in mimicry


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y, gen: torch.Generator) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] on random interpolates x̂ between real and fake examples."""
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(shape, generator=gen, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = D(x_hat, y)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def get_loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
