"""Optimisers and the paper's schedules (learning-rate decay per update, momentum ramp)."""
from __future__ import annotations

import torch

OPTIMIZERS = ("adam", "sgd")


def build_optimizer(name: str, params, lr: float, cfg) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(cfg.betas))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def momentum_at(cfg, iteration: int) -> float:
    """The paper's linear momentum ramp: ``momentum`` → ``momentum_final`` over ``momentum_ramp`` iterations."""
    if cfg.momentum_final is None or cfg.momentum_ramp <= 0:
        return cfg.momentum
    t = min(1.0, iteration / cfg.momentum_ramp)
    return cfg.momentum + t * (cfg.momentum_final - cfg.momentum)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for g in opt.param_groups:
        g["lr"] = lr


def set_hyper(opt: torch.optim.Optimizer, cfg, momentum: float) -> None:
    """Apply momentum / betas to an existing optimiser without touching its state."""
    for g in opt.param_groups:
        if "momentum" in g:
            g["momentum"] = momentum
        if "betas" in g:
            g["betas"] = tuple(cfg.betas)
