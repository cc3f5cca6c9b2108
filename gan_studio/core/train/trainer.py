"""The paper's Algorithm 1 as a steerable loop.

One iteration = ``k`` discriminator steps, then ``g_steps`` generator steps, each on a minibatch of
``batch_size`` noise vectors (and examples, for D).  Settings change through :meth:`Trainer.submit`,
which validates at once and queues; the queue is drained at the top of the next iteration, in order,
so changes made from another thread (the studio) apply exactly at the next iteration.  Observers get
an :class:`IterationStats` after each iteration, and hear of applied changes, restored states, divergence
and the run's start and end; expensive views (D over a grid, D's outputs: :mod:`gan_studio.core.views.queries`)
are computed only when someone asks.

The parts: :mod:`.changes` (the change queue), :mod:`.algorithm` (Algorithm 1's kernels), :mod:`.guard`
(the divergence guard).
"""
from __future__ import annotations

import math
import queue
import threading
import time
from array import array
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from . import losses as losses_mod
from . import optim as optim_mod
from ..columns import HISTORY_KEYS  # the columns kept in Trainer.history
from ..protocol import SubStep
from .algorithm import Algorithm1, l2
from .changes import LiveChanges
from .config import ConfigError, TrainConfig
from .datasets import build_dataset
from .guard import DivergenceGuard
from .models import build_models, init_from_data
from .sizes import check_model_size

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
    """Base class for things that watch a trainer. Override what you need (an observer that does not subclass
    this needs ``on_iteration`` and ``on_diverged``; the other hooks are called only where they exist). The sub-step hook of narrate mode is
    :attr:`Trainer.substep_hook` instead: one callable, one ``if`` per sub-step when nobody narrates."""

    def on_iteration(self, trainer: "Trainer", stats: IterationStats) -> None:  # pragma: no cover - default
        pass

    def on_diverged(self, trainer: "Trainer", message: str) -> None:  # pragma: no cover - default
        pass

    def on_run_start(self, trainer: "Trainer") -> None:  # pragma: no cover - default
        """:meth:`Trainer.run` is about to train (called once per ``run()``)."""

    def on_run_end(self, trainer: "Trainer", reason: str) -> None:  # pragma: no cover - default
        """:meth:`Trainer.run` ended: ``reason`` is one of :data:`RUN_END_REASONS` ("finished", "stopped",
        "diverged", "interrupted", "error"). Called before the exception, if any, propagates."""

    def on_settings_changed(self, trainer: "Trainer", changes: dict) -> None:  # pragma: no cover - default
        """A queued live change was applied (``changes``: the settings it set; ``trainer.config`` has them)."""

    def on_state_restored(self, trainer: "Trainer") -> None:  # pragma: no cover - default
        """The trainer's state was replaced (:meth:`Trainer.load_state_dict`: a checkpoint, a rewind); its
        iteration, weights and possibly settings are not the ones the observer saw last."""


class Diverged(RuntimeError):
    pass


class Trainer(LiveChanges, Algorithm1, DivergenceGuard):
    """Algorithm 1 as a steerable loop: the networks, their optimisers, the data, the two RNG streams, the
    history and the observers."""

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
        self.fixed_z = self.noise(n_fixed, self.view_gen)
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

    # ------------------------------------------------------------------ setup helpers
    def _build_optimizers(self) -> None:
        cfg = self.config
        self.opt_d = optim_mod.build_optimizer(cfg.optimizer, self.D.parameters(), self.lr_d, cfg)
        self.opt_g = optim_mod.build_optimizer(cfg.optimizer, self.G.parameters(), self.lr_g, cfg)

    def noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        if self.config.noise == "uniform":  # unit variance, as in the original code
            return (torch.rand(n, self.config.z_dim, generator=gen, device=self.device) * 2 - 1) * math.sqrt(3)
        return torch.randn(n, self.config.z_dim, generator=gen, device=self.device)

    def fake_labels(self, n: int, gen: torch.Generator):
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
                                   l2(vals[4:4 + n_g]), l2(vals[4 + n_g:]))
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

    def notify(self, hook: str, *args) -> None:
        """Call ``hook`` (an :class:`Observer` method's name) on the observers that have it. ``notify_run``:
        for a loop that steps the trainer itself (e.g. the studio's worker) and wants the same start- and
        end-of-run work (``on_run_start``, ``on_run_end(reason)``)."""
        for obs in list(self.observers):  # observers need not subclass Observer: the hooks are optional
            fn = getattr(obs, hook, None)
            if fn is not None:
                fn(self, *args)

    notify_run = notify

    # ------------------------------------------------------------------ G on demand (D: views/queries.py)
    @torch.no_grad()
    def eval_mode(self, fn):
        """``fn()`` with both networks in eval mode and no gradients (their modes restored after)."""
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
        return self.eval_mode(lambda: self.to_data_space(self.G(z, y)).float().cpu().numpy())

    def generate(self, n: int, seed: int | None = None, batch: int = 1000) -> np.ndarray:
        """n fresh samples in the data's space (float32). Uses its own RNG, never the training stream."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31 - 1, (1,)).item()))
        out = []
        for i in range(0, n, batch):
            b = min(batch, n - i)
            z = self.noise(b, gen)
            y = self.fake_labels(b, gen)
            out.append(self.eval_mode(lambda: self.to_data_space(self.G(z, y)).float().cpu().numpy()))
        return np.concatenate(out) if out else np.zeros((0, *self.dataset.shape), np.float32)

    def g_on(self, z: np.ndarray) -> np.ndarray:
        """G's output on given latent vectors (e.g. a latent grid, for the warped-mesh view)."""
        zt = torch.as_tensor(np.asarray(z, np.float32), device=self.device).reshape(-1, self.config.z_dim)
        y = None if not self.conditional else torch.arange(len(zt), device=self.device) % self.G.n_classes
        return self.eval_mode(lambda: self.to_data_space(self.G(zt, y)).float().cpu().numpy())

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
        self.notify("on_state_restored")


