"""The space the doctor's image checks measure distances in: the evaluation classifier's features — the same
128-d penultimate layer FID, KID and precision–recall use (:mod:`gan_studio.core.evaluate.fidelity`) — when
the run's images are a labelled dataset with such a classifier, else raw pixels.

Collapse (samples near-duplicates of each other, few classes) and memorisation (samples closer to a training
image than held-out real images are) then mean the same thing as in the evaluation: two images of the same
digit drawn a little differently are near in the classifier's features and far in pixels; a shifted copy is
near in the features and far in pixels.

The classifier is trained once per dataset and cached (:func:`~gan_studio.core.evaluate.scores.classifier_for`).
The doctor runs inside training, so it trains one only for a small dataset (seconds: the bundled digits); for
a large one it uses a cached classifier (made by any evaluation, e.g. ``gan-studio eval --fid``) or pixels.
"""
from __future__ import annotations

from typing import Callable

#: a labelled dataset with at most this many images has its classifier trained by the doctor when not cached
TRAIN_UP_TO = 5000


def classifier_embedding(trainer) -> Callable | None:
    """A function from images (a torch tensor N×… in [0, 1]) to the evaluation classifier's features (N×128,
    on the images' device), or None: pixels (not labelled images, a plug-in's data, no classifier at hand)."""
    import torch

    cfg, ds = trainer.config, trainer.dataset
    if cfg.plugin is not None or ds.kind != "images" or getattr(ds, "labels", None) is None:
        return None
    from ..evaluate.scores import classifier_for

    try:
        clf, _ = classifier_for(cfg.dataset, cfg.dataset_args, cached_only=len(ds) > TRAIN_UP_TO)
    except Exception:  # noqa: BLE001 - no classifier for these data: the checks fall back to pixels
        return None
    if clf is None:
        return None
    body = clf.net[:-1].eval()

    def embed(x):
        with torch.no_grad():
            return body(x.reshape(len(x), -1).float().cpu()).to(x.device)

    return embed
