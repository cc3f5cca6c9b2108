"""FID, KID and precision–recall from torch-fidelity on the project's own classifier features (offline) or on
Inception-v3 from a weights file: agreement with independent float64 computations, the library's own
end-to-end path, the missing-weights line, the `eval` command and the studio's Evaluate panel."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from conftest import run_cli
from gan_studio.core.evaluate import fidelity
from gan_studio.core.evaluate.scores import classifier_for, evaluate_samples, held_out


@pytest.fixture(scope="module")
def digits_features():
    """Classifier features of real held-out digits and of a damaged copy, through the registered extractor."""
    torch.set_num_threads(1)
    clf, _ = classifier_for("digits")
    fe = fidelity.classifier_extractor(clf, "digits")
    ho = held_out("digits")
    real, shape = fidelity.real_training_images("digits", None)
    rng = np.random.default_rng(1)
    fake = np.clip(ho.test * rng.uniform(0.3, 1.0, ho.test.shape) + 0.2 * rng.random(ho.test.shape), 0, 1)
    get = lambda x: fidelity.extract(fe, x, shape)["features"]  # noqa: E731
    return clf, fe, get(real), get(fake), get(ho.test), real, fake, shape


def numpy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance in float64 numpy, by a different route than the library's eigvals(Σ₁Σ₂):
    tr √(Σ₁Σ₂) = Σ √λ(√Σ₁ Σ₂ √Σ₁), with √Σ₁ from a symmetric eigendecomposition."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lam = np.linalg.eigvalsh(r1 @ s2 @ r1)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


def numpy_prc(gen: np.ndarray, real: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Kynkäänniemi et al.'s improved precision and recall, written out directly."""
    d = lambda x, y: np.sqrt(np.maximum(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1), 0))  # noqa: E731
    r_real = np.sort(d(real, real), 1)[:, k]
    r_gen = np.sort(d(gen, gen), 1)[:, k]
    precision = float((d(gen, real) <= r_real[None, :]).any(1).mean())
    recall = float((d(real, gen) <= r_gen[None, :]).any(1).mean())
    return precision, recall


def test_fid_agrees_with_an_independent_float64_computation(digits_features):
    _, _, real, fake, held, *_ = digits_features
    for gen in (fake, held):
        lib = fidelity.scores(gen, real)["fid"]
        ref = numpy_fid(gen.numpy(), real.numpy())
        assert abs(lib - ref) <= 1e-3 * abs(ref), (lib, ref)
    assert fidelity.scores(fake, real)["fid"] > 5 * fidelity.scores(held, real)["fid"]


def test_precision_recall_and_kid_agree_with_direct_computations(digits_features):
    _, _, real, fake, held, *_ = digits_features
    r = fidelity.scores(fake[:300], real[:400])
    p, rc = numpy_prc(fake[:300].numpy(), real[:400].numpy())
    assert abs(r["precision"] - p) < 1e-6 and abs(r["recall"] - rc) < 1e-6
    # KID: unbiased MMD² with the cubic polynomial kernel, on the whole sets (subsets of all of it)
    x, y = held.numpy()[:200], real.numpy()[:200]
    kern = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = kern(x, x), kern(y, y), kern(x, y)
    m = len(x)
    mmd = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
           - 2 * kxy.mean())
    lib = fidelity.scores(held[:200], real[:200])
    assert lib["kid_subset_size"] == 200 and abs(lib["kid"] - mmd) <= 1e-6 * max(1.0, abs(mmd))


def test_the_registered_extractor_gives_the_same_fid_through_torch_fidelitys_own_pipeline(digits_features):
    """The classifier is a real torch-fidelity feature extractor: calculate_metrics on two Datasets agrees."""
    import torch_fidelity

    clf, fe, real_f, fake_f, _, real, fake, _ = digits_features

    class Images(torch.utils.data.Dataset):
        def __init__(self, x):
            self.x = torch.as_tensor(x, dtype=torch.float32)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i]

    m = torch_fidelity.calculate_metrics(input1=Images(fake), input2=Images(real), feature_extractor=fe.get_name(),
                                         fid=True, cuda=False, cache=False, verbose=False, save_cpu_ram=True)
    ours = fidelity.scores(fake_f, real_f)["fid"]
    assert abs(m["frechet_inception_distance"] - ours) <= 1e-4 * ours


def test_the_real_sets_ceiling_is_computed_once_and_a_damaged_cache_is_recomputed(digits_features, tmp_path):
    clf, *_ = digits_features
    ho = held_out("digits")
    x = np.clip(ho.test[::-1] * 0.9, 0, 1)
    seen = []
    a, ca = fidelity.image_fidelity(clf, "digits", None, x, ho.test, cache=tmp_path,
                                    progress=lambda d, t: seen.append((d, t)))
    files = list((tmp_path / "fidelity").glob("ceiling-*.json"))
    assert len(files) == 1 and seen[-1][0] == seen[-1][1] == len(x) + len(ho.test) + a["n_real"]
    seen.clear()
    b, cb = fidelity.image_fidelity(clf, "digits", None, x, ho.test, cache=tmp_path,
                                    progress=lambda d, t: seen.append((d, t)))
    assert cb["fid"] == ca["fid"] and cb["recall"] == ca["recall"] and b["fid"] == a["fid"]
    assert seen[-1][0] == seen[-1][1] == len(x) + a["n_real"]  # the held-out images were not run again
    files[0].write_text('{"fid": "1"}')
    c, cc = fidelity.image_fidelity(clf, "digits", None, x, ho.test, cache=tmp_path)
    assert cc["fid"] == pytest.approx(ca["fid"]) and isinstance(cc["kid"], float)


def test_eval_command_scores_digits_with_library_metrics_and_names_features_and_counts(tmp_path):
    real = held_out("digits").test
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "noise.npy", np.random.default_rng(0).random((len(real), 1, 8, 8)).astype(np.float32))
    good = json.loads(run_cli("eval", tmp_path / "real.npy", "--dataset", "digits", "--fid", "--json",
                              check=True).stdout)
    bad = evaluate_samples(np.load(tmp_path / "noise.npy"), "digits")  # the same, in this process
    g, b = good["images"], bad["images"]
    assert g["features"] == "classifier" and g["n"] == len(real) and g["n_real"] > 1000
    assert g["library"].startswith("torch-fidelity")
    assert g["fid"] < 0.05 * b["fid"] and g["kid"] < 0.05 * b["kid"]
    # noise lands in the real manifold far less often (0.07-0.21 seen, depending on the freshly trained classifier)
    assert g["precision"] > 0.8 and g["recall"] > 0.8 and b["precision"] < 0.4 and b["recall"] < 0.4
    assert good["images_ceiling"]["fid"] == pytest.approx(g["fid"])  # the held-out set is its own ceiling
    text = run_cli("eval", tmp_path / "real.npy", "--dataset", "digits", check=True).stdout
    assert "FID" in text and "precision, recall" in text and "classifier features (128-d)" in text


def test_eval_command_takes_a_run_folder(tmp_path):
    run_cli("train", "--preset", "digits", "--steps", "30", "--out", tmp_path / "r", "--quiet", check=True)
    r = json.loads(run_cli("eval", tmp_path / "r", "--fid", "--n", "500", "--json", check=True).stdout)
    assert r["iteration"] == 30 and r["images"]["n"] == 500 and r["images"]["fid"] > r["images_ceiling"]["fid"]
    (tmp_path / "empty").mkdir()
    p = run_cli("eval", tmp_path / "empty")
    assert p.returncode == 2 and "without checkpoint.pt" in p.stderr and "Traceback" not in p.stderr


def test_missing_inception_weights_get_one_line_and_no_network_wait(tmp_path):
    np.save(tmp_path / "s.npy", held_out("digits").test[:50])
    env = {"GAN_STUDIO_INCEPTION_WEIGHTS": "", "TORCH_HOME": str(tmp_path / "torch")}  # an empty library cache
    t0 = time.perf_counter()
    p = run_cli("eval", tmp_path / "s.npy", "--dataset", "digits", "--features", "inception", env=env, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "GAN_STUDIO_INCEPTION_WEIGHTS" in p.stderr and str(tmp_path / "torch") in p.stderr
    assert "nothing is downloaded" in p.stderr and time.perf_counter() - t0 < 90  # no network wait
    p = run_cli("eval", tmp_path / "s.npy", "--dataset", "digits", "--features", "inception",
                env={"GAN_STUDIO_INCEPTION_WEIGHTS": str(tmp_path / "nope.pth")})
    assert p.returncode == 2 and "no such file" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("eval", tmp_path / "s.npy", "--dataset", "ring8", "--features", "inception")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def _random_inception_weights(path):
    """A state dict of Inception-v3's exact shapes (random values): the published file is ~100 MB and
    cannot be fetched here, so this exercises every step but the weights' values."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Shapes(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # only to build the file
            return None

    torch.manual_seed(0)
    empty = tmp = path.with_suffix(".empty")
    torch.save({}, tmp)
    net = Shapes("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
    torch.save(net.state_dict(), path)


def test_inception_features_from_a_weights_file_and_a_file_with_code_is_refused(digits_features, tmp_path):
    clf, *_ = digits_features
    w = tmp_path / "inception.pth"
    _random_inception_weights(w)
    ho = held_out("digits")
    im, ceil = fidelity.image_fidelity(clf, "digits", None, ho.test[:10], ho.test, features="inception",
                                       inception_path=w)
    assert im["features"] == "inception" and im["feature_dim"] == 2048 and im["n"] == 10 and im["n_real"] == 10
    assert ceil["n"] == 10 and np.isfinite([im["fid"], im["kid"], im["precision"], im["recall"], ceil["fid"]]).all()

    class Evil:
        def __reduce__(self):
            return (print, ("this ran",))

    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    np.save(tmp_path / "s.npy", ho.test[:10])
    p = run_cli("eval", tmp_path / "s.npy", "--dataset", "digits", "--features", "inception",
                "--inception-weights", tmp_path / "evil.pth")
    assert p.returncode == 2 and "not a plain weights file" in p.stderr and "this ran" not in p.stdout + p.stderr


def test_evaluation_panel_shows_fid_precision_recall_and_what_they_were_computed_on(qtbot):
    from gan_studio.core.train.datasets import build_dataset
    from gan_studio.gui.panels.evaluation import EvaluationPanel

    p = EvaluationPanel()
    qtbot.addWidget(p)
    p.set_static(build_dataset("digits", {}))
    ho = held_out("digits")
    rng = np.random.default_rng(0)
    for it, noise in ((100, 0.8), (200, 0.1)):
        r = evaluate_samples(np.clip(ho.test + noise * rng.random(ho.test.shape), 0, 1), "digits", parzen=True)
        r["iteration"] = it
        p.set_busy(True)
        p.add_result(r)
    assert p.table.rowCount() == 2 and "FID" in p.table.item(1, 3).text() and "precision" in p.table.item(1, 3).text()
    assert "FID" in p.headline.text() and "Parzen" in p.headline.text()
    assert "classifier features (128-d)" in p.note.text() and "torch-fidelity" in p.note.text()
    assert p.fid.plot.isVisible()
    x, y = p.fid.full.getData()  # Evaluate now's points (all metrics), apart from the live curve
    assert list(x) == [100, 200] and y[1] < y[0]
    live_x = p.fid.curve.getData()[0]
    assert live_x is None or len(live_x) == 0  # no live point among them
    assert "N = 240" in p.fid.legend.getLabel(p.fid.full).text
    p.set_stage("classifier features: generated")
    p.set_progress(50, 200)
    assert p.progress.text().startswith("classifier features: generated: 50 / 200")


def test_studio_draws_a_live_fid_curve_every_n_iterations_without_parzen(qtbot, tmp_path, monkeypatch):
    from gan_studio.gui.panels import fid
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    assert fid.LIVE_OPTIONS["nice"] > 0  # the studio's live points yield the CPU to training...
    monkeypatch.setitem(fid.LIVE_OPTIONS, "nice", 0)  # ...which on a loaded test machine would starve them here

    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="digits", autoplay=True)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.controls.set_speed(40)  # slow motion (the Speed slider): the points come every 100 iterations, not per second
    w.show()
    w.start()
    try:
        qtbot.waitUntil(lambda: w.static is not None and w.snapshot is not None, timeout=90_000)
        panel = w.evaluation
        assert panel.fid.auto_row.isVisible()
        panel.fid.every.setValue(100)
        panel.fid.auto.setChecked(True)
        qtbot.waitUntil(lambda: len(panel.results) >= 2, timeout=150_000)
        its = [r["iteration"] for r in panel.results]
        assert its[1] >= its[0] + 100
        from gan_studio.gui.panels.fid import AUTO_N

        # a live point: FID, the score and the classes on AUTO_N samples; no Parzen, KID or precision–recall
        assert all("parzen" not in r and r["images"]["n"] == AUTO_N and "precision" not in r["images"]
                   and np.isfinite(r["images"]["fid"]) for r in panel.results)
        assert panel.fid.plot.isVisible() and len(panel.fid.curve.getData()[0]) >= 2
        assert f"N = {AUTO_N:,}" in panel.fid.legend.getLabel(panel.fid.curve).text
        assert panel.table.item(0, 1).text() == "—" and "FID" in panel.table.item(0, 3).text()
        assert "FID" in panel.headline.text() and w.run.latest().state == "running"
    finally:
        w.close()


def test_fid_only_skips_kid_and_precision_recall_and_keeps_the_classifier_scores():
    ho = held_out("digits")
    quick = evaluate_samples(ho.test, "digits", fid_only=True)["images"]
    full = evaluate_samples(ho.test, "digits")["images"]
    assert "kid" not in quick and "precision" not in quick and "kid" in full and "precision" in full
    assert quick["fid"] == pytest.approx(full["fid"]) and quick["classifier_score"] == pytest.approx(full["classifier_score"])
    assert quick["classes_covered"] == 10


def test_doctor_measures_digits_in_the_classifier_features_fid_uses():
    """The doctor's image checks (nearest training image, nearest other sample, classes) in the evaluation
    classifier's 128-d features: real held-out digits look like real data, one digit drawn 240 times with
    pixel noise is a collapse, training images are copies; a plug-in's data falls back to pixels."""
    from gan_studio.core import Trainer
    from gan_studio.core.doctor.features import classifier_embedding
    from gan_studio.core.doctor.probes import ImageReference, SampleProbe
    from gan_studio.core.train.presets import get_preset

    torch.set_num_threads(1)
    tr = Trainer(get_preset("digits").config)
    emb = classifier_embedding(tr)
    assert emb is not None
    ds = tr.dataset
    ref = ImageReference(ds.images, ds.labels, n_reference=1200, embed=emb)
    assert ref.ref.shape[1] == 128  # features, not 64 pixels
    inside = np.random.default_rng(0).permutation(len(ds))[:1200]  # the reference subset (seed 0)
    ho = np.delete(ds.images.float().div(255).reshape(len(ds), -1).numpy(), inside, 0)[:240]  # images it lacks
    real = ref.metrics(ho)
    assert real["class_coverage"] == 10 and real["copy_share"] < 0.35 and real["distinct_share"] > 0.6
    one = np.clip(ho[:1] + 0.15 * np.random.default_rng(0).standard_normal((240, ho.shape[1])), 0, 1)
    collapsed = ref.metrics(one)
    assert collapsed["class_coverage"] <= 2 and collapsed["top_class_share"] > 0.8
    copies = ref.metrics(ds.images[torch.as_tensor(inside[:240])].float().div(255).numpy())
    assert copies["copy_share"] > 0.9
    probe = SampleProbe(n=64)
    assert set(probe(tr)) >= {"copy_share", "distinct_share", "class_coverage", "nn_ratio"}
    assert probe._ref.embed is not None


def test_dcgan_extra_layers_keep_the_image_shape_and_refuse_bad_values():
    from gan_studio.core.train.config import ConfigError
    from gan_studio.core.train.models import build_models

    def count_params(m):
        return sum(p.numel() for p in m.parameters())

    for shape in ((1, 8, 8), (1, 28, 28)):
        plain_g, plain_d = build_models("dcgan", shape, 16, None, {"width": 16})
        g, d = build_models("dcgan", shape, 16, None, {"width": 16, "extra": 2})
        x = g(torch.randn(5, 16))
        assert x.shape == (5, *shape) and d(x).shape == (5,) and x.abs().max() <= 1
        assert count_params(g) > count_params(plain_g) and count_params(d) > count_params(plain_d)
    with pytest.raises(ConfigError, match="extra"):
        build_models("dcgan", (1, 8, 8), 16, None, {"extra": -1})
