"""The paper's Algorithm 1, step by step: ``k`` discriminator steps (data, noise, ascend D's objective), then
``g_steps`` generator steps (noise, descend G's), with the unrolled-GAN look-ahead, the original code's
simultaneous update and learning-rate decay; each sub-step told to the narrate hook when there is one."""
from __future__ import annotations

import copy
import math

import torch

from . import losses as losses_mod
from . import optim as optim_mod
from ..protocol import SubStep


def _grad_norms(params: list) -> list:
    """The norm of each of ``params``' gradients, as 0-d tensors (one fused pass, no device sync); the
    iteration's one ``tolist()`` brings them over with the losses and ‖∇‖ is summed there."""
    grads = [p.grad for p in params if p.grad is not None]
    return list(torch._foreach_norm(grads)) if grads else []


def l2(norms: list) -> float:
    return math.sqrt(math.fsum(v * v for v in norms)) if norms else float("nan")



class Algorithm1:
    """The kernels of :class:`~gan_studio.core.train.trainer.Trainer` (a mixin: they work on its networks,
    optimisers, loss, data and training RNG stream)."""

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
        z = self.noise(m, self.gen)
        y_fake = self.fake_labels(m, self.gen)
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
        z = self.noise(m, self.gen)
        y_fake = self.fake_labels(m, self.gen)
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
            after = self.eval_mode(lambda: self.G(z, y_fake)) if self.dataset.kind == "points" else None
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
        z = self.noise(m, self.gen)
        y_fake = self.fake_labels(m, self.gen)
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
            after = self.eval_mode(lambda: self.G(z, y_fake)) if self.dataset.kind == "points" else None
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
