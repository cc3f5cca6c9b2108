"""FID, KID, precision–recall and the classifier score of image samples, from torch-fidelity.

The metrics themselves are torch-fidelity's (``fid_statistics_to_metric``, ``kid_features_to_metric``,
``prc_features_to_metric``, ``isc_features_to_metric``); GAN Studio only chooses the features they are
computed on and feeds them in batches (so an evaluation reports progress and can be cancelled):

* ``classifier`` (the default, offline): the dataset's own small evaluation classifier
  (:func:`~.scores.classifier_for`, trained once and cached), registered with torch-fidelity as a feature
  extractor: its 128-unit penultimate layer for FID/KID/precision–recall, its logits for the score;
* ``inception``: torch-fidelity's Inception-v3 (299×299, the published FID weights) — only from a weights
  file that is already on disk: :data:`INCEPTION_ENV`, or torch-fidelity's own download cache. Nothing is
  ever downloaded here: without the file the evaluation stops with one line that says where to put it.

FID is only comparable between results with the same features and sample counts: every result names both.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ConfigError
from .features import FEATURES, INCEPTION_ENV, INCEPTION_FILE  # noqa: F401 - re-exported
from .parzen import Cancelled

#: real images the generated ones are held against (a fixed subset of the training images)
N_REAL = 10000
KID_SUBSETS = 20  # torch-fidelity defaults to 100: 5× the cost on a CPU for a slightly tighter ±
KID_SUBSET_SIZE = 1000
PRC_NEIGHBORHOOD = 3
MIN_SAMPLES = 10


class FeaturesUnavailable(ConfigError):
    """The chosen features cannot be computed here (e.g. no Inception weights): one line says why."""


def library_version() -> str:
    import torch_fidelity

    return f"torch-fidelity {torch_fidelity.__version__}"


# ----------------------------------------------------------------------------- feature extractors
def _classifier_class():
    from torch_fidelity import FeatureExtractorBase

    class ClassifierFeatures(FeatureExtractorBase):
        """A GAN Studio evaluation classifier as a torch-fidelity feature extractor: flattened images in
        [0, 1] in, ("features", "logits") out. Subclassed per classifier (``net`` is a class attribute, as
        torch-fidelity builds extractors from a registered class and a name)."""

        net = None

        def __init__(self, name, features_list, **kwargs):
            super().__init__(name, features_list)
            self.body = self.net[:-1]
            self.head = self.net[-1]

        @staticmethod
        def get_provided_features_list():
            return "features", "logits"

        @staticmethod
        def get_default_feature_layer_for_metric(metric):
            return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

        @staticmethod
        def can_be_compiled():
            return False

        @staticmethod
        def get_dummy_input_for_compile():
            return None

        def forward(self, x):
            h = self.body(x.reshape(len(x), -1).float())
            out = {"features": h, "logits": self.head(h)}
            return tuple(out[k] for k in self.features_list)

    return ClassifierFeatures


def classifier_extractor(clf, tag: str):
    """``clf`` (a :class:`~.scores._Classifier`) registered with torch-fidelity as ``gan-studio-<tag>`` and
    built through its registry."""
    from torch_fidelity import register_feature_extractor
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
    from torch_fidelity.utils import create_feature_extractor

    name = f"gan-studio-{tag}"
    cls = FEATURE_EXTRACTORS_REGISTRY.get(name)
    if cls is None or cls.net is not clf.net:
        cls = type("ClassifierFeatures", (_classifier_class(),), {"net": clf.net})
        FEATURE_EXTRACTORS_REGISTRY.pop(name, None)  # a retrained classifier replaces the old one
        register_feature_extractor(name, cls)
    return create_feature_extractor(name, ["features", "logits"], cuda=False, verbose=False)


def inception_weights(path: str | os.PathLike | None = None) -> Path:
    """The Inception weights file to use: ``path``, else $GAN_STUDIO_INCEPTION_WEIGHTS, else torch-fidelity's
    download cache; FeaturesUnavailable (one line, what to do) when there is none. Never downloads."""
    given = path or os.environ.get(INCEPTION_ENV)
    if given:
        p = Path(given).expanduser()
        if not p.is_file():
            raise FeaturesUnavailable(f"Inception weights: no such file {p} (from "
                                      f"{'the setting' if path else '$' + INCEPTION_ENV})")
        return p
    import torch

    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return cached
    raise FeaturesUnavailable(
        f"Inception features need the weights file {INCEPTION_FILE} (torch-fidelity's release, ~100 MB): set "
        f"{INCEPTION_ENV}=/path/to/it or put it in {cached.parent}; nothing is downloaded. "
        f"--features classifier works offline")


def inception_extractor(path=None):
    """torch-fidelity's Inception-v3 from a weights file on disk (a plain state dict: a file that would run
    code when loaded is refused)."""
    import torch
    from torch_fidelity.utils import create_feature_extractor

    p = inception_weights(path)
    try:
        torch.load(p, map_location="cpu", weights_only=True)  # refuses pickled code before the library loads it
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one message
        raise FeaturesUnavailable(f"Inception weights {p}: not a plain weights file ({type(exc).__name__})") from None
    try:
        return create_feature_extractor("inception-v3-compat", ["2048", "logits_unbiased"], cuda=False,
                                        verbose=False, feature_extractor_weights_path=str(p))
    except Exception as exc:  # noqa: BLE001 - wrong shapes, wrong keys
        raise FeaturesUnavailable(f"Inception weights {p}: do not fit Inception-v3 ({str(exc).splitlines()[0][:160]})") \
            from None


# ----------------------------------------------------------------------------------- extraction
def extract(fe, x: np.ndarray, shape: tuple, *, inception: bool = False, batch: int | None = None,
            progress: Callable[[int], None] | None = None, cancel: Callable[[], bool] | None = None) -> dict:
    """Features of images ``x`` (N×d in [0, 1], each of ``shape`` C×H×W) from torch-fidelity extractor ``fe``,
    in batches; float64 CPU tensors by layer name."""
    import torch

    batch = batch or (32 if inception else 2048)
    out: dict[str, list] = {k: [] for k in fe.get_requested_features_list()}
    with torch.no_grad():
        for i in range(0, len(x), batch):
            if cancel is not None and cancel():
                raise Cancelled
            xb = torch.as_tensor(np.asarray(x[i:i + batch], np.float32))
            if inception:  # uint8 RGB, as the reference implementation reads image files
                xb = xb.reshape(len(xb), *shape)
                if xb.shape[1] == 1:
                    xb = xb.expand(-1, 3, -1, -1)
                xb = (xb.clamp(0, 1) * 255).round().to(torch.uint8)
            feats = fe.convert_features_tuple_to_dict(fe(xb))
            for k, v in feats.items():
                out[k].append(v.reshape(len(xb), -1).double().cpu())
            if progress is not None:
                progress(min(len(x), i + batch))
    return {k: torch.cat(v) for k, v in out.items()}


def scores(gen, real, seed: int = 2020, fid_only: bool = False) -> dict:
    """FID, KID and precision–recall of generated features ``gen`` against real features ``real`` (N×d
    float64 tensors), all by torch-fidelity (``fid_only``: FID alone, for the live curve: KID's subsets and
    precision–recall's N×N distances are most of the cost)."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric
    from torch_fidelity.metric_prc import prc_features_to_metric

    fid = fid_statistics_to_metric(fid_features_to_statistics(gen), fid_features_to_statistics(real), False)
    if fid_only:
        return {"fid": float(fid[KEY_METRIC_FID])}
    sub = min(KID_SUBSET_SIZE, len(gen), len(real))
    kid = kid_features_to_metric(gen, real, kid_subsets=KID_SUBSETS, kid_subset_size=sub, verbose=False,
                                 rng_seed=seed)
    prc = prc_features_to_metric(gen.float(), real.float(), prc_neighborhood=PRC_NEIGHBORHOOD,
                                 prc_batch_size=10000, save_cpu_ram=True, verbose=False)
    return {"fid": float(fid[KEY_METRIC_FID]), "kid": float(kid[KEY_METRIC_KID_MEAN]),
            "kid_std": float(kid[KEY_METRIC_KID_STD]), "kid_subset_size": int(sub),
            "kid_subsets": KID_SUBSETS,
            "precision": float(prc["precision"]), "recall": float(prc["recall"]), "f_score": float(prc["f_score"])}


def classifier_score(logits) -> float:
    """The Inception-score formula on the classifier's logits (torch-fidelity's, one split)."""
    from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, isc_features_to_metric

    return float(isc_features_to_metric(logits, splits=1, shuffle=False)[KEY_METRIC_ISC_MEAN])


def class_coverage(logits, n_classes: int) -> dict:
    probs = np.asarray(logits.softmax(1).numpy(), np.float64)
    pred = probs.argmax(1)
    counts = np.bincount(pred, minlength=n_classes)
    # a class is covered when it receives at least a tenth of its uniform share of the samples
    covered = int((counts >= max(1.0, 0.1 * len(pred) / n_classes)).sum())
    share = counts / max(1, counts.sum())
    nz = share > 0
    return {"classes_covered": covered, "n_classes": int(n_classes),
            "confident": float((probs.max(1) >= 0.9).mean()),
            "kl_classes_uniform": float((share[nz] * np.log(share[nz] * n_classes)).sum()),
            "class_counts": counts.tolist()}


# ---------------------------------------------------------------------------------- the whole job
def real_training_images(dataset_name: str, dataset_args: dict | None, n_max: int = N_REAL, seed: int = 2014):
    """A fixed subset of the training images the evaluation classifier learnt from (N×d float32 in [0, 1])
    and the image shape C×H×W."""
    import torch

    from ..train.datasets import build_dataset

    split = dataset_name in ("mnist", "fashion-mnist", "cifar10")
    args = {k: v for k, v in (dataset_args or {}).items() if k not in ("split", "start", "stop")}
    ds = build_dataset(dataset_name, dict(args, split="train") if split else args)
    idx = np.arange(len(ds))
    if not split:  # the 20% held out of the classifier's training (scores.held_out) stays out here too
        idx = np.sort(np.random.default_rng(2014).permutation(len(ds))[max(2, len(ds) // 5):])
    if len(idx) > n_max:
        idx = np.sort(np.random.default_rng(seed).choice(idx, n_max, replace=False))
    x = ds.images[torch.as_tensor(idx)].float().div(255).reshape(len(idx), -1).numpy()
    return x, tuple(int(s) for s in ds.shape)


def image_fidelity(clf, dataset_name: str, dataset_args: dict | None, x: np.ndarray, held: np.ndarray, *,
                   features: str = "classifier", inception_path=None, n_real: int = N_REAL, cache: Path | None = None,
                   progress: Callable[[int, int], None] | None = None, stage: Callable[[str], None] | None = None,
                   cancel: Callable[[], bool] | None = None, fid_only: bool = False) -> tuple[dict, dict]:
    """Scores of generated images ``x`` and, as the ceiling, of the real held-out images ``held`` (both N×d in
    [0, 1]), against a fixed subset of the training images. Returns (images, images_ceiling). ``fid_only``
    (the live curve): FID, the classifier score and the classes, not KID or precision–recall."""
    if features not in FEATURES:
        raise FeaturesUnavailable(f"unknown features {features!r}; choose one of {', '.join(FEATURES)}")
    if len(x) < MIN_SAMPLES:
        raise FeaturesUnavailable(f"FID, KID and precision–recall need at least {MIN_SAMPLES} samples, got {len(x)}")
    t0 = time.perf_counter()
    if features == "inception":  # ~0.1–0.3 s an image on a CPU: as many real images as generated ones
        n_real = min(n_real, len(x))
        held = held[:len(x)]
    real, shape = real_training_images(dataset_name, dataset_args, n_real)
    fe_clf = classifier_extractor(clf, dataset_name)
    fe = inception_extractor(inception_path) if features == "inception" else fe_clf
    inc = features == "inception"
    done = [0]

    def run(fe_, arr, what, inception):
        if stage:
            stage(f"{'Inception' if inception else 'classifier'} features: {what}")
        base = done[0]
        r = extract(fe_, arr, shape, inception=inception, cancel=cancel,
                    progress=None if progress is None else lambda k: progress(base + k, total))
        done[0] += len(arr)
        return r

    # the ceiling (real held-out images against the same training subset) is the same every time: cached
    ceil_path = _ceiling_path(cache, clf, features, inception_path, held, real)
    ceil = _read_json(ceil_path)
    nh = len(held) if ceil is None else 0
    total = len(x) + nh + (len(x) + len(real) + nh if inc else len(real))
    g_clf = run(fe_clf, x, "generated", False)
    r_clf = run(fe_clf, real, "training", False) if not inc else None
    h_clf = run(fe_clf, held, "held-out", False) if ceil is None else None
    if inc:
        g, r = run(fe, x, "generated", True)["2048"], run(fe, real, "training", True)["2048"]
        h = run(fe, held, "held-out", True)["2048"] if ceil is None else None
    else:
        g, r, h = g_clf["features"], r_clf["features"], None if h_clf is None else h_clf["features"]
    if stage:
        stage("FID, KID, precision–recall")
    what = {"features": features, "features_note": FEATURES[features], "feature_dim": int(g.shape[1]),
            "n_real": int(len(real)), "library": library_version()}
    out = {**class_coverage(g_clf["logits"], clf.n_classes), "classifier_score": classifier_score(g_clf["logits"]),
           **scores(g, r, fid_only=fid_only), **what, "n": int(len(x))}
    if ceil is None:
        ceil = {**class_coverage(h_clf["logits"], clf.n_classes),
                "classifier_score": classifier_score(h_clf["logits"]), **scores(h, r), **what, "n": int(len(held))}
        _write_json(ceil_path, ceil)
    out["frechet"], ceil["frechet"] = out["fid"], ceil["fid"]  # the name results had before
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out, ceil


def _ceiling_path(cache: Path | None, clf, features, inception_path, held, real) -> Path | None:
    import hashlib

    if cache is None:
        return None
    h = hashlib.sha1(repr((features, str(inception_path or os.environ.get(INCEPTION_ENV) or ""), library_version(),
                           KID_SUBSETS, KID_SUBSET_SIZE, PRC_NEIGHBORHOOD, held.shape, real.shape)).encode())
    for a in (held, real):
        h.update(np.ascontiguousarray(a, np.float32).tobytes())
    for v in clf.net.state_dict().values():
        h.update(v.detach().cpu().numpy().tobytes())
    return Path(cache) / "fidelity" / f"ceiling-{h.hexdigest()[:16]}.json"


_CEILING_KEYS = ("fid", "kid", "kid_std", "precision", "recall", "classifier_score", "classes_covered", "n_classes",
                 "confident", "feature_dim", "n_real", "n")


def _read_json(path: Path | None) -> dict | None:
    """A cached ceiling, or None (missing, damaged or from another version: recomputed)."""
    import json

    if path is None:
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(d, dict) and all(isinstance(d.get(k), (int, float)) and not isinstance(d.get(k), bool)
                                     for k in _CEILING_KEYS)
    return d if ok else None


def _write_json(path: Path | None, d: dict) -> None:
    import json

    from ..atomic import atomic_write_bytes

    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(d).encode())
    except OSError:
        pass  # a read-only cache only costs time
