"""The paper's Algorithm 1 as a steerable loop.

One iteration = ``k`` discriminator steps, then ``g_steps`` generator steps, each on a minibatch of
``batch_size`` noise vectors (and examples, for D).  Settings change through :meth:`Trainer.submit`,
which validates at once and queues; the queue is drained at the top of the next iteration, in order,
so changes made from another thread (the studio) apply exactly at the next iteration.  Observers get
an :class:`IterationStats` after each iteration; expensive views (samples, D's outputs, D over a grid)
are computed only when someone asks.
"""
from __future__ import annotations

import copy
import math
import queue
import threading
import time
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch

from . import losses as losses_mod
from . import optim as optim_mod
from ..columns import HISTORY_KEYS  # the columns kept in Trainer.history
from ..protocol import SubStep
from .config import LIVE_KEYS, ConfigError, TrainConfig, validate_values
from .datasets import build_dataset
from .models import build_models, init_from_data
from .sizes import check_model_size, model_args_of

#: Why :meth:`Trainer.run` ended, as passed to :meth:`Observer.on_run_end`.
RUN_END_REASONS = ("finished", "stopped", "diverged", "interrupted", "error")


def resolve_device(name: str = "auto") -> torch.device:
    """cuda, then mps, then cpu for ``auto``; a named device that is not there is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available here (use --device auto or cpu)")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' was asked for, but Apple's Metal backend is not available here")
    return dev


@dataclass(frozen=True)
class IterationStats:
    """What one iteration reports. NaN marks a part that did not run (a D-only or G-only step)."""

    iteration: int
    d_loss: float
    g_loss: float
    d_real: float  # mean D(x) (a probability for sigmoid losses, the critic score otherwise)
    d_fake: float  # mean D(G(z))
    seconds: float  # wall time of this iteration
    d_steps: int
    g_steps: int
    lr_d: float = float("nan")  # the learning rates and batch size this iteration used
    lr_g: float = float("nan")
    batch_size: int = 0
    g_grad_norm: float = float("nan")  # ‖∇G‖ and ‖∇D‖ (L2 over all parameters) of the iteration's last G and D step
    d_grad_norm: float = float("nan")


class Observer:
    """Base class for things that watch a trainer. Override what you need."""

    def on_iteration(self, trainer: "Trainer", stats: IterationStats) -> None:  # pragma: no cover - default
        pass

    def on_diverged(self, trainer: "Trainer", message: str) -> None:  # pragma: no cover - default
        pass

    def on_run_start(self, trainer: "Trainer") -> None:  # pragma: no cover - default
        """:meth:`Trainer.run` is about to train (called once per ``run()``)."""

    def on_run_end(self, trainer: "Trainer", reason: str) -> None:  # pragma: no cover - default
        """:meth:`Trainer.run` ended: ``reason`` is one of :data:`RUN_END_REASONS` ("finished", "stopped",
        "diverged", "interrupted", "error"). Called before the exception, if any, propagates."""


class Diverged(RuntimeError):
    pass


def _grad_norms(params: list) -> list:
    """The norm of each of ``params``' gradients, as 0-d tensors (one fused pass, no device sync); the
    iteration's one ``tolist()`` brings them over with the losses and ‖∇‖ is summed there."""
    grads = [p.grad for p in params if p.grad is not None]
    return list(torch._foreach_norm(grads)) if grads else []


def _l2(norms: list) -> float:
    return math.sqrt(math.fsum(v * v for v in norms)) if norms else float("nan")


class Trainer:
    def __init__(self, config: TrainConfig, dataset=None, safe_every: int = 50) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        if config.plugin is not None:  # the user's own networks and data, with their consent (plugins.py)
            from .plugins import plugin_parts

            parts = plugin_parts(config)
            self.dataset, self.G, self.D = dataset if dataset is not None else parts.dataset, parts.G, parts.D
        else:
            self.dataset = (dataset if dataset is not None else build_dataset(config.dataset, config.dataset_args))
            check_model_size(config, self.dataset, self.device)  # counted on "meta" first: one line, not an OOM
            self.G, self.D = build_models(config.model, self.dataset.shape, config.z_dim, self.dataset.n_classes,
                                          self._model_args(config))
        self.dataset.to(self.device)
        init_from_data(self.G, self.dataset)
        self.G.to(self.device)
        self.D.to(self.device)
        self.conditional = bool(self.G.n_classes)
        self._check_remedies(config.to_dict())
        self._sync_mbstd()
        self.loss = losses_mod.get_loss(config.loss)
        self.lr_d, self.lr_g = float(config.lr_d), float(config.lr_g)
        self._build_optimizers()
        # Two RNG streams on the device: training (data, noise) and views (never touch training).
        self.gen = torch.Generator(device=self.device).manual_seed(config.seed)
        self.view_gen = torch.Generator(device=self.device).manual_seed(config.seed + 7919)
        n_fixed = 64 if self.dataset.kind == "images" else 1024  # a grid of images, or a cloud of points
        self.fixed_z = self._noise(n_fixed, self.view_gen)
        self.fixed_y = (torch.arange(n_fixed, device=self.device) % self.G.n_classes) if self.conditional else None
        self.iteration = 0
        self.diverged: str | None = None
        self.history = {k: array("d") for k in HISTORY_KEYS}
        self.observers: list[Observer] = []
        self._changes: "queue.Queue[dict]" = queue.Queue()
        self._lock = threading.Lock()
        self.safe_every = max(1, int(safe_every))
        self._good: dict | None = None
        self._good_iteration = 0
        self._nan = torch.tensor(float("nan"), device=self.device)
        self._d_gnorm = self._g_gnorm = []  # per-parameter gradient norms (0-d tensors) of the last D and G step
        self._param_cache: dict = {}
        self._dist = None  # distributed.DistInfo when data-parallel (torchrun)
        # narrate mode (the studio's slow motion): called with a protocol.SubStep after each sub-step of
        # Algorithm 1, in the training thread; None (the default) costs one `if` per sub-step
        self.substep_hook: Callable[[SubStep], None] | None = None
        self._sub_k = (1, 1)  # (k, g_steps) of the iteration being narrated
        self._snapshot_good()

    def enable_distributed(self, info) -> None:
        """Data-parallel training (see distributed.py): rank 0's weights everywhere, a training stream of
        its own per rank, gradients averaged after every backward pass."""
        from . import distributed

        self._dist = info
        distributed.broadcast_module(self.G)
        distributed.broadcast_module(self.D)
        self.gen.manual_seed(self.config.seed + 1_000_003 * info.rank + self.iteration)
        self._snapshot_good()

    # ------------------------------------------------------------------ remedies for mode collapse
    @staticmethod
    def _model_args(cfg: TrainConfig) -> dict:
        return model_args_of(cfg)

    def _mbstd_layers(self):
        from .models import MinibatchStd

        return [m for m in self.D.modules() if isinstance(m, MinibatchStd)]

    def _check_remedies(self, d: dict) -> None:
        if self.config.plugin is not None and (d.get("mbstd") or d.get("pack", 1) > 1):
            from .plugin_spec import NO_REMEDIES

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

    # ------------------------------------------------------------------ setup helpers
    def _build_optimizers(self) -> None:
        cfg = self.config
        self.opt_d = optim_mod.build_optimizer(cfg.optimizer, self.D.parameters(), self.lr_d, cfg)
        self.opt_g = optim_mod.build_optimizer(cfg.optimizer, self.G.parameters(), self.lr_g, cfg)

    def _noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        if self.config.noise == "uniform":  # unit variance, as in the original code
            return (torch.rand(n, self.config.z_dim, generator=gen, device=self.device) * 2 - 1) * math.sqrt(3)
        return torch.randn(n, self.config.z_dim, generator=gen, device=self.device)

    def _fake_labels(self, n: int, gen: torch.Generator):
        if not self.conditional:
            return None
        return torch.randint(self.G.n_classes, (n,), generator=gen, device=self.device)

    def to_model_space(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.G.out_range == "tanh" else x

    def to_data_space(self, x: torch.Tensor) -> torch.Tensor:
        return (x + 1) * 0.5 if self.G.out_range == "tanh" else x

    # ------------------------------------------------------------------ observers & control
    def add_observer(self, obs: Observer) -> Observer:
        self.observers.append(obs)
        return obs

    def remove_observer(self, obs: Observer) -> None:
        if obs in self.observers:
            self.observers.remove(obs)

    def submit(self, **changes: Any) -> None:
        """Queue setting changes (thread-safe). They are validated now and applied, in the order given,
        at the start of the next iteration. Invalid values raise :class:`ConfigError` immediately."""
        unknown = [k for k in changes if k not in LIVE_KEYS]
        if unknown:
            raise ConfigError(f"cannot change {', '.join(unknown)} on a running trainer (live settings: "
                              f"{', '.join(LIVE_KEYS)}); start a new run instead")
        validate_values(changes)
        validate_values({**self.config.to_dict(), **changes})  # rules that tie settings together
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

    # ------------------------------------------------------------------ Algorithm 1
    def _params(self, which: str) -> list:
        """G's or D's parameters as a list, kept until the network object changes (walking the module tree
        every step costs more than the norms themselves)."""
        net = self.G if which == "G" else self.D
        cached = self._param_cache.get(which)
        if cached is None or cached[0] is not net:
            cached = self._param_cache[which] = (net, [p for p in net.parameters() if p.requires_grad])
        return cached[1]

    def _substep(self, hook, kind: str, i: int, m: int, fakes=None, real=None, grad=None, after=None, **numbers):
        """Report one sub-step to the narrate hook (only called when there is one)."""
        k, gs = self._sub_k
        d = kind.startswith("d")
        last = kind == "joint" or (kind == "g_update" and i == gs - 1) or (kind == "d_update" and i == k - 1 and gs == 0)
        pts = self.dataset.kind == "points"

        def data(t):
            return self.to_data_space(t.detach()).float().cpu().numpy() if pts and t is not None else None

        g = None
        if pts and grad is not None:  # −∂L_G/∂x in the data's space (tanh-range models work on 2x − 1)
            g = (-grad.detach() * (2.0 if self.G.out_range == "tanh" else 1.0)).float().cpu().numpy()
        hook(SubStep(kind, self.iteration + 1, i + 1, k if d else gs, m, last, fakes=data(fakes), real=data(real),
                     grad=g, after=data(after), **{n: float(v) for n, v in numbers.items()}))

    def _d_step(self, m: int, decay: bool = True, report: bool = True, i: int = 0):
        cfg = self.config
        hook = self.substep_hook if decay else None  # an unrolled G step's look-ahead is not narrated
        x, y = self.dataset.sample(m, self.gen)
        x = self.to_model_space(x)
        z = self._noise(m, self.gen)
        y_fake = self._fake_labels(m, self.gen)
        with torch.no_grad():
            fake = self.G(z, y_fake)
        if hook is not None:  # Algorithm 1 names the noise first (the data stream was drawn first all the same)
            self._substep(hook, "d_noise", i, m, fakes=fake)
            self._substep(hook, "d_data", i, m, real=x)
        s_real = self.D(x, y)
        s_fake = self.D(fake, y_fake)
        loss = self.loss.d_loss(s_real, s_fake)
        if self.loss.gradient_penalty and cfg.gp_weight > 0:
            # the penalty interpolates between a real and a fake example; use fake labels for both
            loss = loss + cfg.gp_weight * losses_mod.gradient_penalty(self.D, x, fake, y if y is not None else None,
                                                                      self.gen)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        if self._dist is not None:
            from .distributed import average_gradients

            average_gradients(self.D, self._dist.world_size)
        if decay and report:  # the iteration's last real D step (not an unrolled G step's look-ahead)
            self._d_gnorm = _grad_norms(self._params("D"))
        self.opt_d.step()
        if decay:
            self._decay("d")
        with torch.no_grad():
            out = loss.detach(), self.loss.probability(s_real.detach()).mean(), \
                self.loss.probability(s_fake.detach()).mean()
        if hook is not None:
            self._substep(hook, "d_update", i, m, loss=out[0], d_real=out[1], d_fake=out[2])
        return out

    def _g_step(self, m: int, report: bool = True, i: int = 0):
        unroll = self.config.unroll
        if unroll > 0:
            # Unrolled GAN (Metz et al. 2016), first-order form: G is updated against the D that `unroll`
            # further D steps would produce (so G cannot win by hopping to the mode D currently neglects);
            # then D's weights and optimiser state are put back as they were.
            # (a plain clone of the weights, buffers and per-parameter optimiser state: ~3× cheaper than
            # deep-copying the optimiser's state_dict every generator step)
            d_params = list(self.D.parameters())
            saved_d = [p.detach().clone() for p in d_params]
            saved_buf = [b.detach().clone() for b in self.D.buffers()]
            opt_state = self.opt_d.state
            saved_opt = {p: {k: (v.clone() if torch.is_tensor(v) else copy.copy(v)) for k, v in opt_state[p].items()}
                         for p in d_params if p in opt_state}
            for _ in range(unroll):
                self._d_step(m, decay=False)
        z = self._noise(m, self.gen)
        y_fake = self._fake_labels(m, self.gen)
        fake = self.G(z, y_fake)
        hook = self.substep_hook
        if hook is not None:
            self._substep(hook, "g_noise", i, m, fakes=fake)
            fake_grad = []
            fake.register_hook(fake_grad.append)  # ∂L_G/∂G(z): where G's step pushes each fake
        loss = self.loss.g_loss(self.D(fake, y_fake))
        self.opt_g.zero_grad(set_to_none=True)
        # G's gradients only: D's weight gradients of G's loss were computed and never used (the next D step
        # clears them), ~5% of a ring8 iteration on a CPU; G's update is bit-for-bit the same
        loss.backward(inputs=self._params("G"))
        if self._dist is not None:
            from .distributed import average_gradients

            average_gradients(self.G, self._dist.world_size)
        if report:  # the iteration's last G step
            self._g_gnorm = _grad_norms(self._params("G"))
        self.opt_g.step()
        if unroll > 0:
            with torch.no_grad():
                for p, s in zip(d_params, saved_d):
                    p.copy_(s)
                for b, s in zip(self.D.buffers(), saved_buf):
                    b.copy_(s)
            for p in d_params:
                if p in saved_opt:
                    opt_state[p] = saved_opt[p]
                else:
                    opt_state.pop(p, None)
            self.opt_d.zero_grad(set_to_none=True)
        self._decay("g")
        if hook is not None:
            after = self._eval(lambda: self.G(z, y_fake)) if self.dataset.kind == "points" else None
            self._substep(hook, "g_update", i, m, fakes=fake, grad=fake_grad[0] if fake_grad else None, after=after,
                          loss=loss.detach())
        return loss.detach()

    def _joint_step(self, m: int):
        """The original code's update (goodfeli/adversarial, AdversaryCost2): one minibatch of data and
        noise, one forward pass, D's gradient of its loss and G's gradient of its loss taken from that same
        pass (the same dropout masks in D), then both networks stepped at once."""
        cfg = self.config
        x, y = self.dataset.sample(m, self.gen)
        x = self.to_model_space(x)
        z = self._noise(m, self.gen)
        y_fake = self._fake_labels(m, self.gen)
        fake = self.G(z, y_fake)
        s_real = self.D(x, y)
        s_fake = self.D(fake, y_fake)
        d_loss = self.loss.d_loss(s_real, s_fake)
        if self.loss.gradient_penalty and cfg.gp_weight > 0:
            d_loss = d_loss + cfg.gp_weight * losses_mod.gradient_penalty(self.D, x, fake.detach(), y, self.gen)
        g_loss = self.loss.g_loss(s_fake)
        d_params = [p for p in self.D.parameters() if p.requires_grad]
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
        g_grads = torch.autograd.grad(g_loss, g_params)
        for p, g in zip(d_params, d_grads):
            p.grad = g
        for p, g in zip(g_params, g_grads):
            p.grad = g
        if self._dist is not None:
            from .distributed import average_gradients

            average_gradients(self.D, self._dist.world_size)
            average_gradients(self.G, self._dist.world_size)
        self._d_gnorm = _grad_norms(d_params)
        self._g_gnorm = _grad_norms(g_params)
        self.opt_d.step()
        self.opt_g.step()
        self._decay("d")
        self._decay("g")
        with torch.no_grad():
            out = (d_loss.detach(), g_loss.detach(), self.loss.probability(s_real.detach()).mean(),
                   self.loss.probability(s_fake.detach()).mean())
        if self.substep_hook is not None:
            after = self._eval(lambda: self.G(z, y_fake)) if self.dataset.kind == "points" else None
            self._substep(self.substep_hook, "joint", 0, m, fakes=fake, real=x, after=after, loss=out[0],
                          g_loss=out[1], d_real=out[2], d_fake=out[3])
        return out

    def _decay(self, which: str) -> None:
        cfg = self.config
        if cfg.lr_decay > 1.0:
            if which == "d":
                self.lr_d = max(self.lr_d / cfg.lr_decay, cfg.lr_min)
                optim_mod.set_lr(self.opt_d, self.lr_d)
            else:
                self.lr_g = max(self.lr_g / cfg.lr_decay, cfg.lr_min)
                optim_mod.set_lr(self.opt_g, self.lr_g)

    def step(self, d_steps: int | None = None, g_steps: int | None = None) -> IterationStats:
        """Run one iteration: ``k`` D-steps then ``g_steps`` G-steps (either may be overridden, e.g. 0
        for a D-only single step). Raises :class:`Diverged` if the trainer has diverged."""
        if self.diverged:
            raise Diverged(self.diverged)
        with self._lock:
            self.apply_changes()
            cfg = self.config
            k = cfg.k if d_steps is None else int(d_steps)
            gs = cfg.g_steps if g_steps is None else int(g_steps)
            m = cfg.batch_size
            lr_d, lr_g = self.opt_d.param_groups[0]["lr"], self.opt_g.param_groups[0]["lr"]  # what the optimisers use
            t0 = time.perf_counter()
            if cfg.momentum_final is not None and cfg.momentum_ramp > 0 and cfg.optimizer == "sgd":
                mom = optim_mod.momentum_at(cfg, self.iteration)
                optim_mod.set_hyper(self.opt_d, cfg, mom)
                optim_mod.set_hyper(self.opt_g, cfg, mom)
            if not (self.G.training and self.D.training):  # views restore the mode; setting it costs ~90 µs
                self.G.train()
                self.D.train()
            d_loss = d_real = d_fake = g_loss = self._nan
            self._d_gnorm = self._g_gnorm = []
            if self.substep_hook is not None:
                self._sub_k = (k, gs)
            if cfg.update == "simultaneous" and k == 1 and gs == 1:
                d_loss, g_loss, d_real, d_fake = self._joint_step(m)
            else:  # Algorithm 1 as printed (and single D-only or G-only steps in either mode)
                for i in range(k):
                    d_loss, d_real, d_fake = self._d_step(m, report=i == k - 1, i=i)
                for i in range(gs):
                    g_loss = self._g_step(m, report=i == gs - 1, i=i)
            n_g = len(self._g_gnorm)
            vals = torch.stack([d_loss, g_loss, d_real, d_fake, *self._g_gnorm, *self._d_gnorm]
                               ).tolist()  # one device sync per iteration
            dt = time.perf_counter() - t0
            self.iteration += 1
            stats = IterationStats(self.iteration, vals[0], vals[1], vals[2], vals[3], dt, k, gs, lr_d, lr_g, m,
                                   _l2(vals[4:4 + n_g]), _l2(vals[4 + n_g:]))
            ran = ([vals[0], vals[2], vals[3]] if k else []) + ([vals[1]] if gs else [])
            if not all(math.isfinite(v) for v in ran):
                self._on_divergence(stats)
                raise Diverged(self.diverged)
            h = self.history
            for key in HISTORY_KEYS:
                h[key].append(getattr(stats, key))
            if self.iteration - self._good_iteration >= self.safe_every:
                self._snapshot_good()
        for obs in list(self.observers):
            obs.on_iteration(self, stats)
        return stats

    def run(self, steps: int, should_stop: Callable[[], bool] | None = None) -> int:
        """Iterate until ``self.iteration == steps`` (a total, so a resumed run continues to the same end).

        Observers hear ``on_run_start`` first and ``on_run_end(reason)`` last, also when training stops on
        :class:`Diverged`, Ctrl+C or an error (which then propagate)."""
        self.notify_run("on_run_start")
        reason = "finished"
        try:
            while self.iteration < steps:
                if should_stop is not None and should_stop():
                    reason = "stopped"
                    break
                self.step()
        except Diverged:
            reason = "diverged"
            raise
        except KeyboardInterrupt:
            reason = "interrupted"
            raise
        except BaseException:
            reason = "error"
            raise
        finally:
            self.notify_run("on_run_end", reason)
        return self.iteration

    def notify_run(self, hook: str, *args) -> None:
        """Call ``on_run_start`` (no args) or ``on_run_end`` (``reason``) on the observers that have it. For a
        loop that steps the trainer itself (e.g. the studio's worker) and wants the same end-of-run work."""
        for obs in list(self.observers):  # observers need not subclass Observer: the hooks are optional
            fn = getattr(obs, hook, None)
            if fn is not None:
                fn(self, *args)

    # ------------------------------------------------------------------ divergence
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

    def _on_divergence(self, stats: IterationStats) -> None:
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

    # ------------------------------------------------------------------ views (on demand only)
    @torch.no_grad()
    def _eval(self, fn):
        was_g, was_d = self.G.training, self.D.training
        self.G.eval()
        self.D.eval()
        try:
            return fn()
        finally:
            self.G.train(was_g)
            self.D.train(was_d)

    def fixed_samples(self, n: int | None = None) -> np.ndarray:
        """G on the fixed z (the same noise for the whole run), in the data's own space."""
        z = self.fixed_z if n is None else self.fixed_z[:n]
        y = None if self.fixed_y is None else self.fixed_y[: len(z)]
        return self._eval(lambda: self.to_data_space(self.G(z, y)).float().cpu().numpy())

    def generate(self, n: int, seed: int | None = None, batch: int = 1000) -> np.ndarray:
        """n fresh samples in the data's space (float32). Uses its own RNG, never the training stream."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31 - 1, (1,)).item()))
        out = []
        for i in range(0, n, batch):
            b = min(batch, n - i)
            z = self._noise(b, gen)
            y = self._fake_labels(b, gen)
            out.append(self._eval(lambda: self.to_data_space(self.G(z, y)).float().cpu().numpy()))
        return np.concatenate(out) if out else np.zeros((0, *self.dataset.shape), np.float32)

    def d_outputs(self, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """D's outputs (probabilities, or critic scores) on n real and n generated examples."""
        def run():
            x, y = self._real_view(n)
            z = self._noise(n, self.view_gen)
            yf = self._fake_labels(n, self.view_gen)
            real = self.loss.probability(self.D(self.to_model_space(x), y))
            fake = self.loss.probability(self.D(self.G(z, yf), yf))
            return real.float().cpu().numpy(), fake.float().cpu().numpy()

        return self._eval(run)

    def _real_view(self, n: int):
        """Real examples for views, drawn without moving the training data stream."""
        ds = self.dataset
        if ds.kind == "images":
            idx = torch.randint(len(ds.images), (n,), generator=self.view_gen, device=self.device)
            return ds.images[idx].float() / 255.0, None if ds.labels is None else ds.labels[idx]
        return ds.sample(n, self.view_gen)

    def d_on(self, points: np.ndarray) -> np.ndarray:
        """D's output on given points (toy data): the discriminator field for a heatmap."""
        x = torch.as_tensor(np.asarray(points, np.float32), device=self.device).reshape(-1, *self.dataset.shape)
        return self._eval(lambda: self.loss.probability(self.D(x)).float().cpu().numpy())

    def g_on(self, z: np.ndarray) -> np.ndarray:
        """G's output on given latent vectors (e.g. a latent grid, for the warped-mesh view)."""
        zt = torch.as_tensor(np.asarray(z, np.float32), device=self.device).reshape(-1, self.config.z_dim)
        y = None if not self.conditional else torch.arange(len(zt), device=self.device) % self.G.n_classes
        return self._eval(lambda: self.to_data_space(self.G(zt, y)).float().cpu().numpy())

    def history_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.frombuffer(v, dtype=np.float64).copy() if len(v) else np.zeros(0) for k, v in self.history.items()}

    # ------------------------------------------------------------------ state (for checkpoints)
    def state_dict(self) -> dict:
        rng = {"gen": self.gen.get_state(), "view_gen": self.view_gen.get_state(), "torch_cpu": torch.get_rng_state(),
               "device_type": self.device.type}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "config": self.config.to_dict(),
            "iteration": int(self.iteration),
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_G": self.opt_g.state_dict(),
            "opt_D": self.opt_d.state_dict(),
            "lr": {"d": float(self.lr_d), "g": float(self.lr_g)},
            "rng": rng,
            "data": self.dataset.state_dict(),
            "fixed_z": self.fixed_z.cpu(),
            "history": {k: torch.tensor(np.frombuffer(v, dtype=np.float64).copy() if len(v) else [],
                                        dtype=torch.float64) for k, v in self.history.items()},
            "diverged": self.diverged or "",
            "data_info": {"name": self.dataset.name, "kind": self.dataset.kind, "shape": list(self.dataset.shape),
                          "n_classes": self.dataset.n_classes or 0},
        }

    def load_state_dict(self, st: dict) -> None:
        self.G.load_state_dict(st["G"])
        self.D.load_state_dict(st["D"])
        self.opt_g.load_state_dict(st["opt_G"])
        self.opt_d.load_state_dict(st["opt_D"])
        self.lr_d, self.lr_g = float(st["lr"]["d"]), float(st["lr"]["g"])
        optim_mod.set_lr(self.opt_d, self.lr_d)
        optim_mod.set_lr(self.opt_g, self.lr_g)
        self.iteration = int(st["iteration"])
        rng = st["rng"]
        if rng.get("device_type") == self.device.type:
            self.gen.set_state(rng["gen"])
            self.view_gen.set_state(rng["view_gen"])
            if "cuda" in rng and self.device.type == "cuda":
                torch.cuda.set_rng_state(rng["cuda"], self.device)
        torch.set_rng_state(rng["torch_cpu"])
        self.dataset.load_state_dict(st.get("data", {}))
        self.fixed_z = st["fixed_z"].to(self.device)
        self.history = {k: array("d", st["history"][k].tolist()) if k in st["history"] else array("d")
                        for k in HISTORY_KEYS}
        self.diverged = st.get("diverged") or None
        self._snapshot_good()


def iterate_stats(trainer: Trainer, steps: int) -> Iterable[IterationStats]:
    """Generator form of the loop: one yield per iteration (for worker threads that pause between yields)."""
    while trainer.iteration < steps:
        yield trainer.step()
