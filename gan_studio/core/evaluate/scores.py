"""Every metric that applies to a set of generated samples, and the data to hold them against.

* point mixtures: mode metrics (VEEGAN/PacGAN) and, on request, Parzen;
* labelled images: a small classifier trained once per dataset (cached on disk) gives class coverage,
  a classifier score (Inception-score style) and a Fréchet distance in its feature space, with the real
  held-out set's own scores as the ceiling; Parzen on request;
* anything else: Parzen on request.

Held-out data follow the paper where it has a protocol: for MNIST-like data the validation set is
train[50000:60000] (first 1,000, as the original code) and the test set is the 10,000 test images.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..train.config import DATASET_ARGS, DATASET_KINDS, ConfigError, data_location
from .metrics import mode_metrics


#: Parzen σ grid for point data (the paper's logspace(−1, 0, 10) is for pixels in [0, 1])
POINT_SIGMAS = tuple(float(v) for v in np.logspace(-2, 0, 10))
#: Labelled image sets with an official split (downloaded: never built just to learn their shape)
SPLIT_DATASETS = {"mnist": 784, "fashion-mnist": 784, "cifar10": 3072}
#: The user's own files: no metric applies to them without Parzen, so they are read only for Parzen
FILE_DATASETS = ("points", "image-folder")


class EvaluationError(ConfigError):
    pass


@dataclass
class HeldOut:
    valid: np.ndarray | None  # N×d float in the data's space
    test: np.ndarray
    test_labels: np.ndarray | None
    note: str  # where the sets come from, shown with the results


def cache_dir() -> Path:
    base = os.environ.get("GAN_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gan-studio")
    return Path(base)


def held_out(dataset_name: str, dataset_args: dict | None = None, n_valid: int = 1000, n_test: int = 10000,
             seed: int = 2014, dataset=None) -> HeldOut:
    """Validation and test data for `dataset_name`, as float arrays N×d in the data's space (``dataset``: the
    data already built with ``dataset_args``, for sets without an official split)."""
    import torch

    from ..train.datasets import build_dataset

    args = {k: v for k, v in (dataset_args or {}).items() if k not in ("split", "start", "stop")}
    if dataset_name in ("mnist", "fashion-mnist"):
        test = build_dataset(dataset_name, dict(args, split="test"))
        note = f"{dataset_name}: σ chosen on train[50000:{50000 + n_valid}], scored on the {len(test)} test images"
        try:
            valid = build_dataset(dataset_name, dict(args, split="train", start=50000, stop=50000 + n_valid))
            v = valid.images.float().div(255).reshape(len(valid), -1).numpy()
        except ConfigError:
            v = None
            note = f"{dataset_name}: training files missing, σ chosen on the test set itself"
        t = test.images[:n_test].float().div(255).reshape(min(n_test, len(test)), -1).numpy()
        return HeldOut(v, t, test.labels[:n_test].numpy(), note)
    if dataset_name == "cifar10":
        test = build_dataset("cifar10", dict(args, split="test"))
        train = build_dataset("cifar10", dict(args, split="train"))
        v = train.images[-n_valid:].float().div(255).reshape(n_valid, -1).numpy()
        t = test.images[:n_test].float().div(255).reshape(min(n_test, len(test)), -1).numpy()
        return HeldOut(v, t, test.labels[:n_test].numpy(), f"cifar10: σ on train[-{n_valid}:], test set")
    ds = dataset if dataset is not None else build_dataset(dataset_name, dataset_args or {})
    if ds.kind == "images":
        # no official split (digits, image folders): a fixed random 20% of the images, kept out of the
        # evaluation classifier's training; the generator may have seen them
        n = len(ds)
        perm = np.random.default_rng(seed).permutation(n)
        hold = perm[: max(2, n // 5)]
        x = ds.images[torch.as_tensor(hold)].float().div(255).reshape(len(hold), -1).numpy()
        y = None if ds.labels is None else ds.labels[torch.as_tensor(hold)].numpy()
        nv = min(n_valid, len(x) // 3)
        return HeldOut(x[:nv], x[nv:nv + n_test], None if y is None else y[nv:nv + n_test],
                       f"{dataset_name}: a fixed 20% of the images ({len(hold)}; the generator trained on all "
                       f"of them), {nv} to choose σ, the rest to score")
    gen = torch.Generator().manual_seed(seed)
    v = ds.sample(n_valid, gen)[0].float().numpy()
    t = ds.sample(n_test, gen)[0].float().numpy()
    return HeldOut(v, t, None, f"{dataset_name}: fresh samples from the data distribution "
                                f"({n_valid} to choose σ, {n_test} to score)")


# ------------------------------------------------------------------------------ image classifier
class _Classifier:
    """A small MLP classifier on flattened images; `features` is its penultimate layer."""

    def __init__(self, net, dim: int, n_classes: int) -> None:
        self.net, self.dim, self.n_classes = net, dim, n_classes

    def _run(self, x: np.ndarray, batch: int = 2048, logits: bool = False):
        import torch

        self.net.eval()
        feats, probs = [], []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                xb = torch.as_tensor(np.asarray(x[i:i + batch], np.float32).reshape(-1, self.dim))
                h = self.net[:-1](xb)
                feats.append(h.numpy())
                out = self.net[-1](h)
                probs.append((out if logits else torch.softmax(out, 1)).numpy())
        return np.concatenate(feats).astype(np.float64), np.concatenate(probs).astype(np.float64)


def _make_net(dim: int, n_classes: int):
    import torch.nn as nn

    return nn.Sequential(nn.Linear(dim, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, n_classes))


def classifier_for(dataset_name: str, dataset_args: dict | None = None, epochs: int | None = None,
                   log: Callable[[str], None] | None = None, cached_only: bool = False) -> tuple[_Classifier, dict]:
    """The evaluation classifier for a labelled image dataset, trained once and cached on disk.

    Trained on the dataset's training images (the held-out 20% excluded for sets without a split);
    returns the classifier and the reference statistics of real training features (for the Fréchet
    distance) and the real held-out set's own scores (the ceiling). ``cached_only``: (None, None) when it is
    not cached yet, instead of training it."""
    import torch

    from ..train.datasets import build_dataset

    args = {k: v for k, v in (dataset_args or {}).items() if k not in ("split", "start", "stop")}
    train_args = dict(args, split="train") if dataset_name in ("mnist", "fashion-mnist", "cifar10") else args
    ds = build_dataset(dataset_name, train_args)
    if ds.kind != "images" or ds.labels is None:
        raise EvaluationError(f"{dataset_name}: image metrics need labelled images")
    what = sorted((k, v) for k, v in args.items() if k not in ("root", "download"))  # not where the files are
    key = hashlib.sha1(json.dumps([dataset_name, what, len(ds), list(ds.shape), 1],
                                  default=str).encode()).hexdigest()[:12]
    path = cache_dir() / "classifiers" / f"{dataset_name}-{key}.pt"
    dim, nc = int(ds.dim), int(ds.n_classes)
    net = _make_net(dim, nc)
    x_all = ds.images.float().div(255).reshape(len(ds), -1)
    y_all = ds.labels
    if dataset_name not in ("mnist", "fashion-mnist", "cifar10"):
        perm = np.random.default_rng(2014).permutation(len(ds))
        keep = torch.as_tensor(np.sort(perm[max(2, len(ds) // 5):]))
        x_all, y_all = x_all[keep], y_all[keep]
    if path.exists():
        try:
            blob = torch.load(path, weights_only=True)
            net.load_state_dict(blob["net"])
            return _Classifier(net, dim, nc), {k: np.asarray(v) for k, v in blob["ref"].items()}
        except Exception:  # noqa: BLE001 - a stale or damaged cache is rebuilt
            net = _make_net(dim, nc)
    if cached_only:
        return None, None
    t0 = time.perf_counter()
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = len(x_all)
    epochs = epochs or (40 if n < 5000 else 3)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            loss = torch.nn.functional.cross_entropy(net(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    clf = _Classifier(net, dim, nc)
    feats, probs = clf._run(x_all.numpy())
    acc = float((probs.argmax(1) == y_all.numpy()).mean())
    ref = {"mu": feats.mean(0), "cov": np.cov(feats, rowvar=False), "train_accuracy": np.float64(acc)}
    path.parent.mkdir(parents=True, exist_ok=True)
    from ..atomic import atomic_path

    with atomic_path(path, suffix=".pt") as tmp:
        torch.save({"net": net.state_dict(), "ref": {k: torch.as_tensor(v) for k, v in ref.items()}}, tmp)
    if log:
        log(f"trained the {dataset_name} evaluation classifier in {time.perf_counter() - t0:.1f} s "
            f"(training accuracy {acc:.3f}); cached at {path}")
    return clf, ref


# ----------------------------------------------------------------------------------- everything
def evaluate_samples(samples: np.ndarray, dataset_name: str, dataset_args: dict | None = None, *,
                     parzen: bool = False, sigmas=None, n_valid: int = 1000, n_test: int = 10000,
                     progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                     log: Callable[[str], None] | None = None, device: str = "cpu",
                     features: str = "classifier", inception_path=None,
                     stage: Callable[[str], None] | None = None, dataset=None, fid_only: bool = False) -> dict:
    """Every metric that applies to `samples` (in the data's space) of `dataset_name`.

    The data are read only where a metric needs them: labelled image sets for the classifier metrics and
    FID/KID/precision–recall (on ``features``: see :mod:`.fidelity`), point mixtures for the mode metrics,
    anything for Parzen (the user's own files only then)."""
    from ..train.datasets import build_dataset
    from .parzen import CAVEAT, DEFAULT_SIGMAS, parzen_evaluate

    if dataset is None and (not isinstance(dataset_name, str) or dataset_name not in DATASET_KINDS):
        raise EvaluationError(f"unknown dataset {dataset_name!r}; choose one of {', '.join(DATASET_KINDS)}")
    raw = np.asarray(samples)
    if raw.dtype.kind not in "biuf":  # complex (imaginary part dropped), dates, durations, text, objects
        raise EvaluationError(f"samples: expected real numbers, got an array of {raw.dtype}")
    if raw.ndim < 2 or len(raw) == 0 or raw[0].size == 0:
        raise EvaluationError(f"samples: expected an N×d array (or N×C×H×W images), got shape {raw.shape}")
    if features == "inception":  # the missing-weights line comes first, before any data or classifier work
        from .fidelity import inception_weights

        inception_weights(inception_path)
    x = raw.astype(np.float64, copy=False)
    flat = x.reshape(len(x), -1)
    want_dim = SPLIT_DATASETS.get(dataset_name)
    if want_dim is not None and flat.shape[1] != want_dim:
        raise EvaluationError(f"samples have {flat.shape[1]} values each but {dataset_name} has {want_dim}")
    needs_data = dataset_name not in SPLIT_DATASETS and (dataset_name not in FILE_DATASETS or parzen)
    ds = dataset if dataset is not None else build_dataset(dataset_name, dataset_args or {}) if needs_data else None
    out: dict = {"dataset": dataset_name, "n_samples": int(len(x))}
    finite = np.isfinite(flat).all(1)
    if not finite.all():
        out["non_finite_samples"] = int((~finite).sum())
        flat = flat[finite]
    kind = ds.kind if dataset is not None else DATASET_KINDS[dataset_name]  # ``dataset``: a plug-in's data
    dim = None if ds is None else int(ds.dim)
    if dim is not None and flat.shape[1] != dim:
        raise EvaluationError(f"samples have {flat.shape[1]} values each but {dataset_name} has {dim}")
    if len(flat) < 2:
        out["note"] = "fewer than 2 finite samples (a diverged generator?): no metric applies"
        return out
    if ds is not None and getattr(ds, "centers", None) is not None:
        m = mode_metrics(flat[:2500], ds.centers, ds.sigma)
        out["modes"] = {k: m[k] for k in ("modes_covered", "n_modes", "high_quality", "kl_uniform", "counts",
                                          "n_samples")}
    if kind == "images":
        labelled = dataset_name in SPLIT_DATASETS or (ds is not None and ds.labels is not None)
        if labelled:
            from .fidelity import image_fidelity

            clf, _ = classifier_for(dataset_name, dataset_args, log=log)
            ho = held_out(dataset_name, dataset_args, n_valid=n_valid, n_test=n_test, dataset=ds)
            out["images"], ceiling = image_fidelity(
                clf, dataset_name, dataset_args, np.clip(flat, 0, 1), ho.test, features=features,
                inception_path=inception_path, progress=progress, stage=stage, cancel=cancel, cache=cache_dir(),
                fid_only=fid_only)
            out["images_ceiling"] = {k: v for k, v in ceiling.items() if k not in ("class_counts",)}
            out["images_ceiling"]["note"] = "the real held-out images' own scores"
        elif dataset is not None:  # a plug-in's images: GAN Studio has no classifier for them
            out["note"] = ("no evaluation classifier for a plug-in's images (one is trained only for the built-in "
                           "labelled sets): no classifier score, FID or precision/recall; Parzen is given")
    elif features != "classifier":
        raise EvaluationError(f"--features {features}: FID and its features are for image data, "
                              f"not {dataset_name} ({kind})")
    if parzen:
        if stage:
            stage("Parzen")
        ho = held_out(dataset_name, dataset_args, n_valid=n_valid, n_test=n_test, dataset=ds)
        if sigmas is None:  # toy data live at a smaller scale than pixels: widen the paper's grid downwards
            sigmas = POINT_SIGMAS if kind == "points" else DEFAULT_SIGMAS
        r = parzen_evaluate(flat, ho.test, ho.valid, sigmas=sigmas, progress=progress,
                            cancel=cancel, device=device)
        out["parzen"] = dict(r.to_dict(), note=ho.note, caveat=CAVEAT)
    return out


def evaluate_checkpoint(path, n: int | None = None, parzen: bool = False, seed: int = 0, *,
                        data_root: str | None = None, dataset_args: dict | None = None, download: bool = False,
                        trusted: bool = False, **kw) -> dict:
    """Every metric that applies to a checkpoint's generator. Its networks are rebuilt from the checkpoint
    without its data; the real data the metrics need are found only where the caller says: ``data_root``
    (or the default data root), ``dataset_args`` ``path``/``root``, never a location named in the file — unless
    ``trusted`` (the studio's own snapshot of the run it is showing). Nothing is downloaded unless ``download``."""
    from ..train.checkpoint import trainer_for_sampling

    trainer = trainer_for_sampling(path, device=kw.pop("train_device", "cpu"))
    cfg = trainer.config
    if trusted:
        args = {k: v for k, v in cfg.dataset_args.items() if k != "download"}
        if data_root:
            args["root"] = data_root
        if "download" in DATASET_ARGS.get(cfg.dataset, {}):
            args["download"] = bool(download)
    else:
        args = data_location(cfg.dataset, cfg.dataset_args, dataset_args, data_root, download)
    kind = trainer.dataset.kind
    n = n or (10000 if (parzen or kind == "images") else 2500)
    x = trainer.generate(n, seed=seed)
    if kind == "images":
        x = np.clip(x, 0.0, 1.0)
    if cfg.plugin is not None:  # the plug-in's own data (its code runs only with the user's consent)
        from ..train.plugins import plugin_parts

        kw["dataset"] = plugin_parts(cfg, str(path)).dataset
    out = evaluate_samples(x, cfg.dataset, args, parzen=parzen, **kw)
    out["iteration"] = int(trainer.iteration)
    out["checkpoint"] = str(path)
    return out


# -------------------------------------------------------------------------- the studio's eval job
def eval_job(ckpt_path: str, options: dict, reply, cancel_event) -> None:
    """Runs in its own process (the studio's Evaluate action): evaluate a snapshot of G from a
    checkpoint and send ("progress", done, total) / ("stage", text) / ("log", text) / ("done", result) /
    ("error", text) / ("cancelled",) through `reply` (a multiprocessing queue)."""
    import torch

    torch.set_num_threads(int(options.get("threads", 1)))
    if options.get("nice"):  # the live curve yields the CPU to training (and everything else) when it is busy
        try:
            os.nice(int(options["nice"]))
        except (AttributeError, OSError):
            pass
    try:
        if options.get("plugin_consent"):  # the window's user named the plug-in of the run it shows
            from ..train.plugin_spec import allow, ref_of

            allow(ref_of(options["plugin_consent"]))
        result = evaluate_checkpoint(  # the studio's own snapshot of the run it shows: its paths are the user's
            ckpt_path, n=options.get("n"), parzen=bool(options.get("parzen", True)), seed=int(options.get("seed", 0)), trusted=True,
            progress=lambda d, t: reply.put(("progress", d, t)), cancel=cancel_event.is_set,
            log=lambda s: reply.put(("log", s)), stage=lambda s: reply.put(("stage", s)),
            features=options.get("features", "classifier"), inception_path=options.get("inception_weights"),
            fid_only=bool(options.get("fid_only", False)))
        reply.put(("done", result))
    except Exception as exc:  # noqa: BLE001 - every failure becomes one message for the window
        from .parzen import Cancelled

        if isinstance(exc, Cancelled):
            reply.put(("cancelled",))
        else:
            reply.put(("error", f"{type(exc).__name__}: {exc}" if not isinstance(exc, ConfigError) else str(exc)))
    finally:
        try:
            os.unlink(ckpt_path)
        except OSError:
            pass
