"""Live changes: :meth:`~LiveChanges.submit` queues a change of the live settings (thread-safe), the trainer
applies the queue at the top of its next iteration, in order, and tells its observers
(``on_settings_changed``). Also what a change does to the networks: PacGAN's wider D, minibatch stddev."""
from __future__ import annotations

import queue
from typing import Any

from . import losses as losses_mod
from . import optim as optim_mod
from ..settings import NO_REMEDIES, check_live_change
from .config import ConfigError, TrainConfig
from .models import build_models
from .sizes import model_args_of


class LiveChanges:
    """The change queue of :class:`~gan_studio.core.train.trainer.Trainer` (a mixin: it works on the trainer's
    config, optimisers, loss and D)."""

    _changes: "queue.Queue[dict]"

    @staticmethod
    def _model_args(cfg: TrainConfig) -> dict:
        return model_args_of(cfg)

    def _mbstd_layers(self):
        from .models import MinibatchStd

        return [m for m in self.D.modules() if isinstance(m, MinibatchStd)]

    def _check_remedies(self, d: dict) -> None:
        if self.config.plugin is not None and (d.get("mbstd") or d.get("pack", 1) > 1):
            raise ConfigError(NO_REMEDIES)
        if d.get("mbstd") and not self._mbstd_layers():
            raise ConfigError(f"minibatch standard deviation is built into the mlp model only, not {self.config.model!r}")
        if d.get("pack", 1) > 1 and (self.config.model != "mlp" or self.conditional):
            raise ConfigError("packing (PacGAN) is available for the unconditional mlp model only")

    def _sync_mbstd(self) -> None:
        for m in self._mbstd_layers():
            m.enabled = bool(self.config.mbstd)

    def _rebuild_d(self) -> None:
        """A new packing degree needs a D with a wider input: a fresh D and optimiser; G keeps training."""
        _, D = build_models(self.config.model, self.dataset.shape, self.config.z_dim, self.dataset.n_classes,
                            self._model_args(self.config))
        self.D = D.to(self.device)
        self.opt_d = optim_mod.build_optimizer(self.config.optimizer, self.D.parameters(), self.lr_d, self.config)
        self._sync_mbstd()

    def submit(self, **changes: Any) -> None:
        """Queue setting changes (thread-safe), for a caller that holds the trainer itself (a recipe's schedule,
        a test). They are validated now — the settings table's rules, with the settings in force — and applied,
        in the order given, at the start of the next iteration. Invalid values raise :class:`ConfigError`."""
        check_live_change(changes, self.config.to_dict())
        self.queue(changes)

    def queue(self, changes: dict) -> None:
        """Queue a change that was validated already (a run handle validates every change once, before it is
        sent: :func:`~gan_studio.core.settings.check_live_change`). Only what the settings cannot say is checked
        here: whether these networks can take it (a conditional D cannot pack). Raises :class:`ConfigError`."""
        self._check_remedies(changes)
        self._changes.put(dict(changes))

    def pending_changes(self) -> int:
        return self._changes.qsize()

    def apply_changes(self) -> list[dict]:
        """Apply every queued change now (the trainer does this at each iteration's start)."""
        applied = []
        while True:
            try:
                ch = self._changes.get_nowait()
            except queue.Empty:
                return applied
            self._apply(ch)
            applied.append(ch)
            self.notify("on_settings_changed", dict(ch))

    def _apply(self, ch: dict) -> None:
        cfg_dict = self.config.to_dict()
        cfg_dict.update(ch)
        new_cfg = TrainConfig.from_dict(cfg_dict)
        old = self.config
        self.config = new_cfg
        if "optimizer" in ch and ch["optimizer"] != old.optimizer:
            self._build_optimizers()  # a different optimiser cannot inherit the other's state
        if "lr_d" in ch:
            self.lr_d = float(ch["lr_d"])
            optim_mod.set_lr(self.opt_d, self.lr_d)
        if "lr_g" in ch:
            self.lr_g = float(ch["lr_g"])
            optim_mod.set_lr(self.opt_g, self.lr_g)
        if "loss" in ch:
            self.loss = losses_mod.get_loss(ch["loss"])
        if "pack" in ch and ch["pack"] != old.pack:
            self._rebuild_d()
        if "mbstd" in ch:
            self._sync_mbstd()
        if "betas" in ch or "momentum" in ch:
            m = optim_mod.momentum_at(self.config, self.iteration)
            optim_mod.set_hyper(self.opt_d, self.config, m)
            optim_mod.set_hyper(self.opt_g, self.config, m)
