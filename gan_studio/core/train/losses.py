"""GAN objectives by name, all written on D's raw scores (logits) for numerical stability.

``log D(x) = -softplus(-s)`` and ``log(1 - D(x)) = -softplus(s)`` for a score s with D = sigmoid(s).
Each loss knows its values at equilibrium (D's output carrying no information), which the studio
draws as reference lines: for the minimax game D's summed BCE is log 4 there (the paper's −log 4 for
V(D*, G) at p_g = p_data).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


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


LOSSES: dict[str, Loss] = {
    "minimax": Loss(
        "minimax", "the paper's game: G minimises log(1 − D(G(z))) (saturates early in training)",
        _bce_d, lambda s_fake: -F.softplus(s_fake).mean(), True, math.log(4), -math.log(2)),
    "nonsaturating": Loss(
        "nonsaturating", "the paper's practical variant: G maximises log D(G(z))",
        _bce_d, lambda s_fake: F.softplus(-s_fake).mean(), True, math.log(4), math.log(2)),
    "lsgan": Loss(
        "lsgan", "least squares (Mao et al. 2017): D regresses real→1, fake→0",
        lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(),
        lambda f: 0.5 * ((f - 1) ** 2).mean(), False, 0.25, 0.125),
    "hinge": Loss(
        "hinge", "hinge loss (Lim & Ye 2017; SN-GAN)",
        lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(),
        lambda f: -f.mean(), False, 2.0, 0.0),
    "wgan-gp": Loss(
        "wgan-gp", "Wasserstein critic with gradient penalty (Gulrajani et al. 2017)",
        lambda r, f: f.mean() - r.mean(), lambda f: -f.mean(), False, 0.0, 0.0, gradient_penalty=True),
}
LOSSES["ns"] = LOSSES["nonsaturating"]  # short alias, as in mimicry


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
