"""Evaluation: the paper's Parzen protocol, mode metrics, the theory of Prop. 1 / Thm. 1 on toy data,
classifier metrics for images, the `parzen` and `eval` commands, and the studio's Evaluate action."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import run_cli
from gan_studio.core.evaluate import theory
from gan_studio.core.evaluate.metrics import mode_metrics
from gan_studio.core.evaluate.parzen import (DEFAULT_SIGMAS, Cancelled, parzen_evaluate, parzen_log_likelihoods,
                                    parzen_reference)


def mnist_like_arrays(rng, n, d=784, p=0.13):
    """Binary-ish images: the regime (‖x‖² ≈ 100, d = 784) where float32 ‖x‖² + ‖μ‖² − 2x·μ cancels."""
    return ((rng.random((n, d)) < p) * rng.uniform(0.6, 1.0, (n, d))).astype(np.float32)


# ----------------------------------------------------------------------------------------- Parzen
def test_parzen_matches_a_direct_float64_computation_in_784_dimensions():
    rng = np.random.default_rng(0)
    mu, x = mnist_like_arrays(rng, 600), mnist_like_arrays(rng, 150)
    ll = parzen_log_likelihoods(mu, x, DEFAULT_SIGMAS, chunk=64)  # several chunks
    for j, s in enumerate(DEFAULT_SIGMAS):
        ref = parzen_reference(mu, x, s)
        assert np.abs(ll[j] - ref).max() < 1e-3, f"σ={s}"


def test_data_far_from_the_origin_do_not_lose_precision():
    """Centring keeps the expansion exact even when every coordinate carries a large offset."""
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(400, 50)) * 0.3 + 1000.0
    x = rng.normal(size=(100, 50)) * 0.3 + 1000.0
    ll = parzen_log_likelihoods(mu, x, [0.1, 0.3])
    for j, s in enumerate([0.1, 0.3]):
        assert np.abs(ll[j] - parzen_reference(mu, x, s)).max() < 1e-3


def test_protocol_chooses_sigma_on_validation_like_the_original():
    rng = np.random.default_rng(2)
    mu, valid, test = mnist_like_arrays(rng, 500), mnist_like_arrays(rng, 100), mnist_like_arrays(rng, 200)
    r = parzen_evaluate(mu, test, valid)
    ref_valid = [parzen_reference(mu, valid, s).mean() for s in DEFAULT_SIGMAS]
    best = DEFAULT_SIGMAS[int(np.argmax(ref_valid))]
    assert r.sigma == best and r.sigma_chosen_on == "validation"
    ref_test = parzen_reference(mu, test, best)
    assert abs(r.mean - ref_test.mean()) < 1e-3
    assert r.stderr == pytest.approx(ref_test.std() / math.sqrt(len(ref_test)), rel=1e-6)
    assert (r.n_samples, r.n_test, r.n_valid, r.dim) == (500, 200, 100, 784)


def test_parzen_recovers_a_known_density_in_two_dimensions():
    """Samples and test points from N(0, I₂): the estimate approaches E log p = −log(2πe) ≈ −2.838."""
    rng = np.random.default_rng(3)
    mu, valid, test = rng.normal(size=(20000, 2)), rng.normal(size=(2000, 2)), rng.normal(size=(5000, 2))
    grid = np.logspace(-1.3, -0.1, 7)  # 0.05 … 0.79, around the best width for 20,000 samples (~0.2)
    r = parzen_evaluate(mu, test, valid, sigmas=grid)
    assert r.mean == pytest.approx(-math.log(2 * math.pi * math.e), abs=0.08) and not r.at_edge
    # and a wrong model scores clearly worse
    r_bad = parzen_evaluate(rng.normal(size=(20000, 2)) * 3, test, valid, sigmas=grid)
    assert r_bad.mean < r.mean - 0.5


def test_parzen_can_be_cancelled_between_blocks_and_reports_progress():
    rng = np.random.default_rng(4)
    seen = []

    def cancel():
        return len(seen) >= 2

    with pytest.raises(Cancelled):
        parzen_log_likelihoods(rng.random((300, 10)), rng.random((1000, 10)), chunk=100,
                               progress=lambda d, t: seen.append((d, t)), cancel=cancel)
    assert seen == [(100, 1000), (200, 1000)]


@pytest.mark.parametrize("samples, test, message", [
    (np.zeros((10, 3)), np.zeros((5, 4)), "dimensions"),
    (np.zeros((10, 3)), np.full((5, 3), np.nan), "NaN"),
    (np.zeros(10), np.zeros((5, 1)), "N×d"),
])
def test_bad_parzen_arrays_get_a_clear_error(samples, test, message):
    with pytest.raises(ValueError, match=message):
        parzen_log_likelihoods(samples, test)


# ------------------------------------------------------------------------------------ mode metrics
CENTERS = np.array([[2 * math.cos(a), 2 * math.sin(a)] for a in np.arange(8) * math.pi / 4])


def test_all_samples_on_one_mode_cover_one_mode():
    rng = np.random.default_rng(5)
    m = mode_metrics(CENTERS[3] + 0.05 * rng.normal(size=(2500, 2)), CENTERS, 0.05)
    assert m["modes_covered"] == 1 and m["high_quality"] > 0.95
    assert m["kl_uniform"] == pytest.approx(math.log(8), abs=1e-9)  # all mass on one of 8 modes


def test_samples_on_five_modes_cover_five():
    rng = np.random.default_rng(6)
    pts = CENTERS[[0, 1, 2, 5, 7]][rng.integers(0, 5, 2500)] + 0.05 * rng.normal(size=(2500, 2))
    m = mode_metrics(pts, CENTERS, 0.05)
    assert m["modes_covered"] == 5 and sorted(np.nonzero(m["counts"])[0]) == [0, 1, 2, 5, 7]


def test_samples_far_from_every_mode_are_not_high_quality():
    rng = np.random.default_rng(7)
    m = mode_metrics(rng.uniform(-0.5, 0.5, (2500, 2)), CENTERS, 0.05)  # the ring's empty centre
    assert m["high_quality"] == 0.0 and m["modes_covered"] == 0


# ------------------------------------------------------------------------------------------ theory
def test_optimal_d_and_c_of_g_at_the_global_optimum_and_for_disjoint_supports():
    x = np.linspace(-6, 6, 1201)
    p = np.exp(-0.5 * (x + 2) ** 2) / math.sqrt(2 * math.pi)
    q = np.exp(-0.5 * (x - 2) ** 2) / math.sqrt(2 * math.pi)
    same = theory.theory_1d(x, p, p, np.zeros(10), np.zeros(10))
    ds = same["d_star"]
    defined = np.isfinite(ds)
    assert np.allclose(ds[defined], 0.5) and same["js"] == pytest.approx(0.0, abs=1e-9)
    assert defined[np.abs(x + 2) < 2].all() and not defined[np.abs(x + 2) > 4].any()  # gaps only where p ≈ 0
    assert same["c_g"] == pytest.approx(-math.log(4), abs=1e-9)  # Thm. 1: the minimum, −log 4
    p_far = np.exp(-0.5 * ((x + 4) / 0.3) ** 2)
    q_far = np.exp(-0.5 * ((x - 4) / 0.3) ** 2)
    apart = theory.divergences(p_far, q_far, x[1] - x[0])
    assert apart["js"] == pytest.approx(math.log(2), abs=1e-6)  # disjoint: JS = log 2, C(G) = 0
    # two unit Gaussians 4 apart: KL = (Δμ)²/2 = 8 nats both ways
    kl = theory.divergences(p, q, x[1] - x[0])
    assert kl["kl_data_g"] == pytest.approx(8.0, rel=1e-3) and kl["kl_g_data"] == pytest.approx(8.0, rel=1e-3)


def test_mixture_cell_density_holds_all_the_mass_of_modes_narrower_than_a_cell():
    xs = np.linspace(-3, 3, 48)
    d = theory.mixture_cell_density(CENTERS, 0.05, xs, xs)
    cell = (xs[1] - xs[0]) ** 2
    assert d.sum() * cell == pytest.approx(1.0, abs=1e-6)
    assert (d > 0.5 / cell / 8 / 4).sum() >= 8  # every mode shows up, though σ ≪ the cell width


# ------------------------------------------------------------------------------------------- CLI
def test_parzen_command_prints_the_paper_figures_as_json(tmp_path):
    rng = np.random.default_rng(8)
    np.save(tmp_path / "s.npy", mnist_like_arrays(rng, 400).reshape(400, 1, 28, 28))  # images are flattened
    np.save(tmp_path / "t.npy", mnist_like_arrays(rng, 120))
    np.save(tmp_path / "v.npy", mnist_like_arrays(rng, 60))
    p = run_cli("parzen", tmp_path / "s.npy", "--test", tmp_path / "t.npy", "--valid", tmp_path / "v.npy", check=True)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    ref = parzen_reference(np.load(tmp_path / "s.npy"), np.load(tmp_path / "t.npy"), out["sigma"])
    assert out["mean"] == pytest.approx(ref.mean(), abs=1e-3)
    assert out["n_samples"] == 400 and out["n_test"] == 120 and out["sigma_chosen_on"] == "validation"
    assert "Theis" in out["caveat"]
    p = run_cli("parzen", tmp_path / "s.npy", "--test", tmp_path / "t.npy", "--sigmas", "0.2", "0.4", check=True)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["sigma_chosen_on"] == "test" and "test set itself" in out["warning"]
    assert out["sigma"] in (0.2, 0.4)


@pytest.mark.parametrize("args, message", [
    (["missing.npy", "--test", "t.npy"], "no such file"),
    (["s.npy", "--test", "t.npy", "--sigmas", "-1"], "must be"),
    (["s.npy", "--test", "bad.npy"], "not a readable .npy"),
    (["s.npy", "--test", "wrongdim.npy"], "dimensions"),
])
def test_parzen_command_refuses_bad_input_in_one_line(tmp_path, args, message):
    np.save(tmp_path / "s.npy", np.zeros((10, 3)))
    np.save(tmp_path / "t.npy", np.zeros((5, 3)))
    np.save(tmp_path / "wrongdim.npy", np.zeros((5, 4)))
    (tmp_path / "bad.npy").write_bytes(b"this is not numpy")
    p = run_cli("parzen", *[tmp_path / a if a.endswith(".npy") else a for a in args])
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_eval_command_on_a_ring8_checkpoint_and_on_digits_samples(tmp_path):
    run_cli("train", "--preset", "ring8", "--steps", "60", "--out", tmp_path / "r", "--quiet", check=True)
    p = run_cli("eval", tmp_path / "r" / "checkpoint.pt", "--parzen", "--n", "3000", "--json", check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["iteration"] == 60 and r["modes"]["n_modes"] == 8 and 0 <= r["modes"]["modes_covered"] <= 8
    assert r["parzen"]["n_samples"] == 3000 and math.isfinite(r["parzen"]["mean"])
    readable = run_cli("eval", tmp_path / "r" / "checkpoint.pt", check=True).stdout
    assert "modes covered" in readable and "Parzen" not in readable

    # real digits are their own ceiling; noise is far below it
    from gan_studio.core.train.data.images import digits
    real = digits().images.float().div(255).numpy()[:1000]
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "noise.npy", np.random.default_rng(0).random((1000, 1, 8, 8)).astype(np.float32))
    good = json.loads(run_cli("eval", tmp_path / "real.npy", "--dataset", "digits", "--json", check=True).stdout)
    bad = json.loads(run_cli("eval", tmp_path / "noise.npy", "--dataset", "digits", "--json", check=True).stdout)
    assert good["images"]["classes_covered"] == 10 and good["images"]["classifier_score"] > 7
    assert good["images"]["frechet"] < 0.25 * bad["images"]["frechet"]
    assert bad["images"]["classifier_score"] < good["images"]["classifier_score"] / 2
    assert good["images_ceiling"]["classes_covered"] == 10


@pytest.mark.parametrize("args, message", [
    (["samples.npy"], "need --dataset"),
    (["samples.npy", "--dataset", "ring8"], "ring8 has 2"),
    (["nothing.pt"], "no such file"),
])
def test_eval_command_refuses_bad_input_in_one_line(tmp_path, args, message):
    np.save(tmp_path / "samples.npy", np.zeros((10, 5)))
    p = run_cli("eval", *[tmp_path / a if a.endswith((".npy", ".pt")) else a for a in args])
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
