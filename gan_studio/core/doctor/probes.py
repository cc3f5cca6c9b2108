"""The doctor's cheap looks at the samples (what the per-iteration statistics cannot tell).

Points (toy data): mode coverage as in VEEGAN/PacGAN (:func:`~gan_studio.core.evaluate.metrics.mode_metrics`:
a mode is covered by a sample within 3σ of it), the share of samples nearest each mode whatever their
distance and its effective number of modes (exp of the entropy: a clump next to a mode still counts as one
mode), the spread (the samples' total variance ÷ the data's), and the Jensen–Shannon divergence in nats
between histograms of generated and real points on a fixed grid (0: the same histogram; log 2 ≈ 0.69: no
overlap).

Images: each sample's nearest training image — in the evaluation classifier's features when the run has one
(:mod:`.features`: the features FID uses), else in pixels — against the same distance for real images that the search
does not contain (leave-one-out: a training image against all the *others*, which is what a held-out image
sees). Four numbers come out of that one search:

* ``nn_ratio``: median distance of a sample to its nearest training image ÷ the same for real images
  (≈ 1 when samples are as close to the training set as new real images; ≫ 1: far from anything real);
* ``copy_share``: the share of samples closer to a training image than 90 % of real held-out images are
  (0.1 for real images by construction; near 1: the paper's Figure 2 check fails — copies);
* ``distinct_share``: the share of samples whose nearest *other sample* is farther than 90 % of real images'
  nearest other real image (≈ 0.9 for real images; low: near-duplicates, collapse);
* ``class_coverage``: classes of the training set (by the label of each sample's nearest training image) that
  get at least a quarter of their fair share of the samples (and ``top_class``, ``top_class_share``);
* ``spread``: the samples' total pixel variance ÷ the training images'.

Everything here reads the trainer through ``generate`` (its own RNG), so a probe never changes training.
"""
from __future__ import annotations

import numpy as np

#: samples per probe
N_POINTS = 1000
N_IMAGES = 256
#: training images searched (a fixed random subset) and real images used as held-out queries
N_REFERENCE = 3000
N_REAL_QUERIES = 256
PROBE_SEED = 2024  # the same noise at every probe: changes between probes are G's, not the sample's


def histogram_js(real: np.ndarray, fake: np.ndarray, lo, hi, bins: int) -> float:
    """JS divergence (nats) between histograms of ``real`` and ``fake`` on a regular grid over [lo, hi]."""
    real = np.asarray(real, np.float64).reshape(len(real), -1)
    fake = np.asarray(fake, np.float64).reshape(len(fake), -1)
    fake = fake[np.isfinite(fake).all(1)]
    if len(fake) == 0 or len(real) == 0:
        return float(np.log(2))
    edges = [np.linspace(float(a), float(b), bins + 1) for a, b in zip(np.ravel(lo), np.ravel(hi))]
    # points outside the box count in the border cells (a sample far off is still a sample in the wrong place)
    clip = (lambda x: np.clip(x, [e[0] for e in edges], [e[-1] for e in edges]))
    r, _ = np.histogramdd(clip(real), bins=edges)
    f, _ = np.histogramdd(clip(fake), bins=edges)
    r, f = r.ravel() / r.sum(), f.ravel() / f.sum()
    m = 0.5 * (r + f)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_r = np.where(r > 0, r * np.log(r / m), 0.0).sum()
        kl_f = np.where(f > 0, f * np.log(f / m), 0.0).sum()
    return float(max(0.0, 0.5 * (kl_r + kl_f)))


def point_metrics(samples: np.ndarray, real: np.ndarray, centers=None, sigma=None, bounds=None) -> dict:
    """What the doctor reads from a cloud of generated points: mode coverage (mixtures: the definitions of
    :func:`~gan_studio.core.evaluate.metrics.mode_metrics`, in one pass), the share of samples nearest each
    mode whatever their distance, the spread, and the histogram JS."""
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    x = samples[np.isfinite(samples).all(1)]
    out: dict = {"n_samples": int(len(samples))}
    if centers is not None and sigma is not None and len(x):
        c = np.asarray(centers, np.float64).reshape(len(centers), -1)
        d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
        near = d2.argmin(1)
        hq = np.sqrt(d2[np.arange(len(x)), near]) <= 3.0 * float(sigma)  # mode_metrics' "high quality"
        counts = np.bincount(near[hq], minlength=len(c))
        share = np.bincount(near, minlength=len(c)) / len(x)
        p = share[share > 0]
        out.update(modes_covered=int((counts > 0).sum()), n_modes=len(c), high_quality=float(hq.sum() / len(samples)),
                   mode_counts=counts.tolist(), mode_share=[round(float(v), 4) for v in share],
                   effective_modes=float(np.exp(-(p * np.log(p)).sum())))
    if real is not None and len(x) > 1:
        r = np.asarray(real, np.float64).reshape(len(real), -1)
        out["spread"] = float(x.var(0).sum() / max(r.var(0).sum(), 1e-12))
        if bounds is not None:
            out["js"] = histogram_js(r, x, bounds[0], bounds[1], bins=60 if x.shape[1] == 1 else 30)
    return out


def _sq_dists(a, b):
    """Squared Euclidean distances between the rows of two tensors (‖a‖² + ‖b‖² − 2ab, clamped at 0)."""
    d = (a * a).sum(1, keepdim=True) + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return d.clamp_min_(0)


class ImageReference:
    """A fixed subset of the training images and the distances real images have to it (computed once)."""

    def __init__(self, images, labels=None, n_reference: int = N_REFERENCE, n_queries: int = N_REAL_QUERIES,
                 seed: int = 0, device=None, embed=None) -> None:
        import torch

        n = len(images)
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.permutation(n)[: min(n, n_reference)])
        it = torch.as_tensor(idx, device=images.device)
        x = images[it].reshape(len(idx), -1).float()
        self.ref = x / 255.0 if images.dtype == torch.uint8 else x
        self.embed = embed  # images in [0, 1] -> the space distances are measured in (None: pixels)
        if embed is not None:
            self.ref = embed(self.ref)
        self.labels = None if labels is None else labels[it].long()
        self.n_classes = 0 if labels is None else int(labels.max().item()) + 1
        q = torch.as_tensor(rng.permutation(len(idx))[: min(len(idx) - 1, n_queries)], device=self.ref.device)
        d = _sq_dists(self.ref[q], self.ref)
        d[torch.arange(len(q), device=d.device), q] = float("inf")  # leave the query itself out
        self.real_nn = d.min(1).values.sqrt().cpu().numpy().astype(np.float64)
        dq = _sq_dists(self.ref[q], self.ref[q])
        dq.fill_diagonal_(float("inf"))
        self.real_pair = dq.min(1).values.sqrt().cpu().numpy().astype(np.float64)
        self.copy_threshold = float(np.quantile(self.real_nn, 0.1))
        self.duplicate_threshold = float(np.quantile(self.real_pair, 0.1))
        self.real_median = float(np.median(self.real_nn))
        self.real_var = float(self.ref.var(0).sum().item())

    def metrics(self, samples) -> dict:
        """The four image numbers (see the module's docstring) for samples in [0, 1] (N×C×H×W or N×d)."""
        import torch

        s = torch.as_tensor(np.asarray(samples, np.float32).reshape(len(samples), -1), device=self.ref.device)
        s = torch.nan_to_num(s, nan=0.5, posinf=1.0, neginf=0.0)
        if self.embed is not None:
            s = self.embed(s.clamp(0, 1))
        d, j = _sq_dists(s, self.ref).min(1)
        nn = d.sqrt().cpu().numpy().astype(np.float64)
        ds = _sq_dists(s, s)
        ds.fill_diagonal_(float("inf"))
        pair = ds.min(1).values.sqrt().cpu().numpy().astype(np.float64)
        out = {"n_samples": int(len(s)), "nn_ratio": float(np.median(nn) / max(self.real_median, 1e-12)),
               "copy_share": float((nn < self.copy_threshold).mean()),
               "distinct_share": float((pair > self.duplicate_threshold).mean()),
               "spread": float(s.var(0).sum().item() / max(self.real_var, 1e-12))}
        if self.labels is not None and self.n_classes > 1:
            counts = np.bincount(self.labels[j].cpu().numpy(), minlength=self.n_classes)
            fair = len(s) / self.n_classes
            out.update(class_coverage=int((counts >= 0.25 * fair).sum()), n_classes=self.n_classes,
                       top_class=int(counts.argmax()), top_class_share=float(counts.max() / max(1, counts.sum())))
        return out


class SampleProbe:
    """``probe(trainer) -> dict``: the sample metrics of the trainer's G now (point or image metrics)."""

    def __init__(self, n: int | None = None) -> None:
        self.n = n
        self._ref: ImageReference | None = None
        self._real = None

    def __call__(self, trainer) -> dict:
        import torch

        ds = trainer.dataset
        if ds.kind == "images":
            if self._ref is None:
                from .features import classifier_embedding

                self._ref = ImageReference(ds.images, getattr(ds, "labels", None), embed=classifier_embedding(trainer))
            fake = trainer.generate(self.n or N_IMAGES, seed=PROBE_SEED)
            return self._ref.metrics(fake)
        if self._real is None:
            gen = torch.Generator(device=trainer.device).manual_seed(PROBE_SEED + 1)
            self._real = ds.sample(self.n or N_POINTS, gen)[0].float().cpu().numpy()
        fake = trainer.generate(self.n or N_POINTS, seed=PROBE_SEED)
        return point_metrics(fake, self._real, getattr(ds, "centers", None), getattr(ds, "sigma", None), ds.bounds())


def folder_point_metrics(samples: np.ndarray, static) -> dict:
    """:func:`point_metrics` of a recorded snapshot's samples against the run folder's static data."""
    if getattr(static, "kind", None) != "points" or samples is None:
        return {}
    return point_metrics(samples, static.real, static.centers, static.sigma, static.bounds)
