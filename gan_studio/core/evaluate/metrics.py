"""Sample-quality metrics that need no download.

Mode metrics for 2-D mixtures follow VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018):
a sample is *high quality* if it lies within 3σ of its nearest mode; a mode is *covered* if at least
one high-quality sample is nearest to it.
"""
from __future__ import annotations

import numpy as np


def mode_metrics(samples: np.ndarray, centers: np.ndarray, sigma: float, threshold: float = 3.0) -> dict:
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if c.ndim == 1:
        c = c[:, None]
    n_modes = len(c)
    if len(x) == 0:
        return {"modes_covered": 0, "n_modes": n_modes, "high_quality": 0.0, "kl_uniform": float("inf"),
                "counts": [0] * n_modes, "n_samples": 0}
    finite = np.isfinite(x).all(1)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    d2[~finite] = np.inf
    nearest = d2.argmin(1)
    dist = np.sqrt(d2[np.arange(len(x)), nearest])
    hq = dist <= threshold * sigma
    counts = np.bincount(nearest[hq], minlength=n_modes)
    covered = int((counts > 0).sum())
    if hq.sum() > 0:
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * np.log(p[nz] * n_modes)).sum())
    else:
        kl = float("inf")
    return {"modes_covered": covered, "n_modes": n_modes, "high_quality": float(hq.mean()),
            "kl_uniform": kl, "counts": counts.tolist(), "n_samples": int(len(x))}
