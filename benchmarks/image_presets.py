"""Image presets against their targets: each preset trained on seeds not used for tuning (CPU, one torch
thread, the preset's own steps), scored every ``--every`` iterations on 2,000 samples with the evaluation
classifier's features (FID, KID, precision–recall by torch-fidelity; classes covered; classifier score), beside
the real held-out images' own scores.

    python benchmarks/image_presets.py [--presets digits digits-dcgan mnist-dcgan] [--seeds 11 12 13]
                                       [--every 1000] [--steps N] [--data-root DIR]

Targets (issue 25): digits — 10 of 10 classes, classifier score ≥ 7.5, FID ≤ 2× the real held-out set's, within
6,000 iterations; MNIST with convolutions — 10 of 10 classes, score ≥ 0.9× the real test set's, within 3,000.
Prints one JSON line per evaluation and a final JSON object with the last row of every run. Runs are
independent: start one process per seed to use several cores.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from gan_studio.core import Trainer
from gan_studio.core.evaluate.scores import evaluate_samples
from gan_studio.core.train.presets import get_preset

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
TARGETS = {"digits": {"classes": 10, "score": 7.5, "fid_ratio": 2.0},
           "mnist": {"classes": 10, "score_ratio": 0.9}}


def config_for(name: str, seed: int, steps: int | None, data_root: str | None):
    cfg = get_preset(name).config.replace(seed=seed)
    if steps:
        cfg = cfg.replace(steps=steps)
    if cfg.dataset in ("mnist", "fashion-mnist"):
        root = data_root or (str(SHARED_MNIST) if (SHARED_MNIST / "MNIST" / "raw").is_dir() else None)
        if root:
            cfg = cfg.replace(dataset_args=dict(cfg.dataset_args, root=root, download=False))
    return cfg


def run(name: str, seed: int, every: int, steps: int | None, data_root: str | None) -> dict:
    cfg = config_for(name, seed, steps, data_root)
    tr = Trainer(cfg)
    train_s, row = 0.0, {}
    while tr.iteration < cfg.steps:
        t = time.perf_counter()
        tr.run(min(cfg.steps, tr.iteration + every))
        train_s += time.perf_counter() - t
        x = np.clip(tr.generate(2000, seed=0), 0, 1)
        r = evaluate_samples(x, cfg.dataset, cfg.dataset_args)
        im, c = r["images"], r["images_ceiling"]
        row = {"preset": name, "seed": seed, "iteration": tr.iteration, "train_seconds": round(train_s, 1),
               "classes": im["classes_covered"], "score": round(im["classifier_score"], 2),
               "real_score": round(c["classifier_score"], 2), "fid": round(im["fid"], 2), "real_fid": round(c["fid"], 2),
               "precision": round(im["precision"], 3), "recall": round(im["recall"], 3),
               "features": im["features"], "n": im["n"]}
        print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["digits", "digits-dcgan"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[11, 12, 13])
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--steps", type=int, help="override the presets' own steps")
    ap.add_argument("--data-root", help="MNIST in torchvision layout (default: ../shared/data/mnist when present)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = [run(p, s, a.every, a.steps, a.data_root) for p in a.presets for s in a.seeds]
    print(json.dumps({"runs": rows, "targets": TARGETS}))


if __name__ == "__main__":
    main()
