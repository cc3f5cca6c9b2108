"""Parzen-window evaluation: GAN Studio's implementation beside a port of the original algorithm.

The reference (``gan_studio.core.evaluate.parzen.parzen_reference``) follows goodfeli/adversarial's parzen_ll.py:
for every σ, the points in batches of 100, the differences x − μ broadcast to a 100×N×d array, in float64.
Both run the paper's protocol on the same MNIST-like arrays (σ chosen on a validation set, then scored
on the test set); the script prints their agreement and the speed-up, then times the full-size case
(10,000 samples × 10,000 test points × 784-D, 10 σ) for GAN Studio alone. One JSON object, last line.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def mnist_like(rng, n, d=784):
    return ((rng.random((n, d)) < 0.13) * rng.uniform(0.6, 1.0, (n, d))).astype(np.float32)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-samples", type=int, default=2000, help="side-by-side size: generated samples")
    ap.add_argument("--n-test", type=int, default=1000, help="side-by-side size: test (and validation) points")
    ap.add_argument("--full", type=int, default=10000, help="full-size case: samples = test points (0 skips)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    import torch

    from gan_studio.core.evaluate.parzen import DEFAULT_SIGMAS, parzen_evaluate, parzen_log_likelihoods, parzen_reference

    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    mu, valid, test = mnist_like(rng, a.n_samples), mnist_like(rng, a.n_test), mnist_like(rng, a.n_test)

    t0 = time.perf_counter()
    ref_valid = [parzen_reference(mu, valid, s).mean() for s in DEFAULT_SIGMAS]
    best = DEFAULT_SIGMAS[int(np.argmax(ref_valid))]
    ref_test = parzen_reference(mu, test, best)
    t_ref = time.perf_counter() - t0

    parzen_evaluate(mu[:50], test[:50], valid[:50])  # warm-up (first-call costs)
    t0 = time.perf_counter()
    ours = parzen_evaluate(mu, test, valid)
    t_ours = time.perf_counter() - t0
    # per-point agreement at every σ, on the validation set
    ll = parzen_log_likelihoods(mu, valid, DEFAULT_SIGMAS)
    max_diff = max(float(np.abs(ll[j] - parzen_reference(mu, valid, s)).max()) for j, s in enumerate(DEFAULT_SIGMAS))

    out = {
        "side_by_side": {"n_samples": a.n_samples, "n_valid": a.n_test, "n_test": a.n_test, "dim": 784,
                         "n_sigmas": len(DEFAULT_SIGMAS), "reference_s": round(t_ref, 3),
                         "gan_studio_s": round(t_ours, 3), "speedup": round(t_ref / t_ours, 1),
                         "same_sigma": bool(ours.sigma == best), "mean_diff_nats": abs(ours.mean - float(ref_test.mean())),
                         "max_pointwise_diff_nats": max_diff},
        "threads": a.threads,
    }
    if a.full:
        big_mu, big_test = mnist_like(rng, a.full), mnist_like(rng, a.full)
        t0 = time.perf_counter()
        parzen_log_likelihoods(big_mu, big_test, DEFAULT_SIGMAS)
        out["full"] = {"n_samples": a.full, "n_test": a.full, "dim": 784, "n_sigmas": len(DEFAULT_SIGMAS),
                       "seconds": round(time.perf_counter() - t0, 2)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
