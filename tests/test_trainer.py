"""Algorithm 1 as a user of the library sees it: k, live changes, divergence, reproducibility."""
import math

import numpy as np
import pytest
import torch

from gan_studio.core import ConfigError, Diverged, TrainConfig, Trainer
from gan_studio.core.evaluate.metrics import mode_metrics
from gan_studio.core.train.presets import get_preset
from gan_studio.core.views.queries import d_on, d_outputs


def small(**kw):
    base = dict(dataset="ring8", model="mlp", model_args={"hidden": 32, "layers": 2}, batch_size=64,
                z_dim=2, device="cpu", seed=3, steps=20)
    base.update(kw)
    return TrainConfig(**base)


def adam_steps(opt):
    """Number of updates an Adam optimiser has applied, read from its own state."""
    states = list(opt.state.values())
    return int(states[0]["step"]) if states else 0


@pytest.mark.parametrize("k,g", [(1, 1), (3, 1), (2, 4)])
def test_k_discriminator_updates_per_generator_update(k, g):
    tr = Trainer(small(k=k, g_steps=g))
    for _ in range(5):
        tr.step()
    assert adam_steps(tr.opt_d) == 5 * k
    assert adam_steps(tr.opt_g) == 5 * g
    assert tr.iteration == 5


def test_live_change_applies_at_the_next_iteration_in_order():
    tr = Trainer(small())
    tr.step()
    d_before = adam_steps(tr.opt_d)
    exp_avg_before = tr.opt_d.state[next(iter(tr.D.parameters()))]["exp_avg"].clone()
    tr.submit(lr_d=0.02)
    tr.submit(lr_d=0.0123, k=3)  # later change to the same setting wins: order is kept
    tr.submit(lr_g=5e-4, batch_size=32)
    assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3)  # nothing applied before the iteration
    tr.step()
    assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(0.0123)
    assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert adam_steps(tr.opt_d) == d_before + 3  # k=3 used by that very iteration
    assert tr.config.batch_size == 32
    # Adam's moments survived the learning-rate change (state not thrown away)
    assert not torch.equal(tr.opt_d.state[next(iter(tr.D.parameters()))]["exp_avg"], exp_avg_before)
    assert adam_steps(tr.opt_d) > 3


def test_switching_optimizer_and_loss_live():
    tr = Trainer(small())
    tr.step()
    tr.submit(optimizer="sgd", momentum=0.9, loss="hinge")
    tr.step()
    assert isinstance(tr.opt_d, torch.optim.SGD) and tr.opt_d.param_groups[0]["momentum"] == 0.9
    assert tr.loss.name == "hinge"
    assert math.isfinite(tr.history["d_loss"][-1]) and len(tr.opt_d.state) > 0  # SGD built its own state


@pytest.mark.parametrize("bad", [dict(k=0), dict(lr_d=-1.0), dict(lr_g=float("nan")), dict(loss="nope"),
                                 dict(batch_size=0), dict(optimizer="rmsprop"), dict(g_steps=1.5),
                                 dict(dataset="grid25")])
def test_bad_live_changes_are_refused_at_submit(bad):
    tr = Trainer(small())
    with pytest.raises(ConfigError):
        tr.submit(**bad)
    assert tr.pending_changes() == 0


def test_seeded_runs_are_reproducible_and_seeds_differ():
    a, b, c = Trainer(small(seed=5)), Trainer(small(seed=5)), Trainer(small(seed=6))
    for t in (a, b, c):
        for _ in range(15):
            t.step()
    assert list(a.history["d_loss"]) == list(b.history["d_loss"])
    for pa, pb in zip(a.G.parameters(), b.G.parameters()):
        assert torch.equal(pa, pb)
    assert list(a.history["d_loss"]) != list(c.history["d_loss"])


def test_views_do_not_disturb_the_training_stream():
    a, b = Trainer(small()), Trainer(small())
    for i in range(10):
        a.step()
        b.step()
        b.fixed_samples()
        d_outputs(b, 64)
        d_on(b, np.zeros((5, 2)))
        b.generate(10, seed=i)
    assert list(a.history["g_loss"]) == list(b.history["g_loss"])


def test_divergence_stops_with_message_and_keeps_last_good_weights():
    tr = Trainer(small(), safe_every=1)
    for _ in range(4):
        tr.step()
    good = {k: v.clone() for k, v in tr.G.state_dict().items()}
    with torch.no_grad():
        next(iter(tr.D.parameters()))[0, 0] = float("nan")  # a weight goes non-finite
    with pytest.raises(Diverged) as exc:
        tr.step()
    assert "diverged at iteration 5" in str(exc.value)
    assert tr.diverged and "diverged at iteration 5" in tr.diverged
    assert tr.iteration == 4
    assert all(torch.isfinite(p).all() for p in tr.D.parameters())
    for k, v in tr.G.state_dict().items():
        assert torch.equal(v, good[k])
    with pytest.raises(Diverged):
        tr.step()  # stays stopped until the user clears it
    tr.clear_divergence()
    tr.submit(lr_d=1e-4)
    tr.step()
    assert tr.iteration == 5 and math.isfinite(tr.history["d_loss"][-1])


def test_d_only_and_g_only_steps():
    tr = Trainer(small())
    s = tr.step(d_steps=1, g_steps=0)
    assert math.isnan(s.g_loss) and math.isfinite(s.d_loss)
    assert adam_steps(tr.opt_g) == 0 and adam_steps(tr.opt_d) == 1
    s = tr.step(d_steps=0, g_steps=1)
    assert math.isnan(s.d_loss) and math.isfinite(s.g_loss)
    assert adam_steps(tr.opt_g) == 1 and adam_steps(tr.opt_d) == 1


def test_observers_get_every_iteration():
    seen = []

    class Obs:
        def on_iteration(self, trainer, stats):
            seen.append((stats.iteration, stats.d_loss, stats.d_real, stats.d_fake, stats.seconds))

        def on_diverged(self, trainer, message):
            pass

    tr = Trainer(small())
    tr.add_observer(Obs())
    tr.run(7)
    assert [s[0] for s in seen] == list(range(1, 8))
    assert all(0 <= s[2] <= 1 and 0 <= s[3] <= 1 and s[4] > 0 for s in seen)


def test_sgd_paper_schedule_decays_lr_and_ramps_momentum():
    tr = Trainer(small(optimizer="sgd", lr_d=0.1, lr_g=0.1, momentum=0.5, momentum_final=0.7, momentum_ramp=10,
                       lr_decay=1.01, lr_min=0.095))
    for _ in range(10):
        tr.step()
    assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(max(0.1 / 1.01 ** 10, 0.095))
    tr.step()
    assert tr.opt_d.param_groups[0]["momentum"] == pytest.approx(0.7)
    assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(0.095)  # the floor holds


def test_device_resolution():
    from gan_studio.core import resolve_device

    dev = resolve_device("auto")
    assert dev.type in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_ring8_preset_covers_at_least_7_of_8_modes():
    """The embedded default must be a healthy run: the full preset (3,000 iterations, ~15 s here)."""
    cfg = get_preset("ring8").config.replace(device="cpu", seed=11)
    tr = Trainer(cfg)
    tr.run(cfg.steps)
    m = mode_metrics(tr.generate(2500, seed=0), tr.dataset.centers, tr.dataset.sigma)
    assert m["modes_covered"] >= 7, m
    assert m["high_quality"] > 0.5, m


# ------------------------------------------------------------------ remedies for mode collapse
def _ring_trainer(**kw):
    from gan_studio.core.train.config import TrainConfig
    from gan_studio.core.train.trainer import Trainer

    return Trainer(TrainConfig(dataset="ring8", batch_size=64, steps=10, **kw))


def test_unrolled_g_step_leaves_d_and_its_optimiser_as_they_were():
    import torch

    tr = _ring_trainer(unroll=3)
    tr.step()  # optimiser state exists
    d_before = [p.detach().clone() for p in tr.D.parameters()]
    g_before = [p.detach().clone() for p in tr.G.parameters()]
    step_before = [s["step"].clone() for s in tr.opt_d.state.values()]
    moments_before = [(s["exp_avg"].clone(), s["exp_avg_sq"].clone()) for s in tr.opt_d.state.values()]
    tr.step(d_steps=0, g_steps=1)  # G only: D must come back exactly
    assert all(torch.equal(a, b) for a, b in zip(d_before, tr.D.parameters()))
    assert [s["step"] for s in tr.opt_d.state.values()] == step_before
    assert all(torch.equal(a, s["exp_avg"]) and torch.equal(b, s["exp_avg_sq"])
               for (a, b), s in zip(moments_before, tr.opt_d.state.values()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, tr.G.parameters()))


def test_packing_and_minibatch_std_switch_on_a_running_trainer():
    import torch

    tr = _ring_trainer()
    tr.run(3)
    g_before = [p.detach().clone() for p in tr.G.parameters()]
    first = tr.D.body[0]
    assert first.in_features == 2
    tr.submit(pack=4, mbstd=True)
    tr.step(d_steps=1, g_steps=0)
    assert tr.D.pack == 4 and tr.D.body[0].in_features == 8  # D now judges 4 samples at once
    assert all(torch.equal(a, b) for a, b in zip(g_before, tr.G.parameters())), "G must keep its weights"
    assert [m.enabled for m in tr._mbstd_layers()] == [True]
    real, fake = d_outputs(tr, 50)
    assert real.shape == (50,) and fake.shape == (50,)  # views still get one score per point
    tr.submit(mbstd=False)
    tr.step()
    assert [m.enabled for m in tr._mbstd_layers()] == [False]


def test_remedies_refuse_models_that_do_not_support_them():
    from gan_studio.core.train.config import ConfigError, TrainConfig
    from gan_studio.core.train.trainer import Trainer

    tr = Trainer(TrainConfig(dataset="digits", model="paper-mlp", batch_size=16, steps=1, z_dim=8))
    with pytest.raises(ConfigError, match="mlp model only"):
        tr.submit(mbstd=True)
    with pytest.raises(ConfigError, match="pack must be"):
        tr.submit(pack=0)
