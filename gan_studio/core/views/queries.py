"""What the views ask of D, on demand only: D's output on given points (the discriminator field) and on real
and generated examples (the histogram of D's outputs). They use the trainer's view stream, never the training
one, and leave both networks' modes as they were."""
from __future__ import annotations

import numpy as np
import torch


def real_view(trainer, n: int):
    """``n`` real examples (and their labels, or None) for views, drawn without moving the training stream."""
    ds = trainer.dataset
    if ds.kind == "images":
        idx = torch.randint(len(ds.images), (n,), generator=trainer.view_gen, device=trainer.device)
        return ds.images[idx].float() / 255.0, None if ds.labels is None else ds.labels[idx]
    return ds.sample(n, trainer.view_gen)


def d_outputs(trainer, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """D's outputs (probabilities, or critic scores) on ``n`` real and ``n`` generated examples."""
    def run():
        x, y = real_view(trainer, n)
        z = trainer.noise(n, trainer.view_gen)
        yf = trainer.fake_labels(n, trainer.view_gen)
        real = trainer.loss.probability(trainer.D(trainer.to_model_space(x), y))
        fake = trainer.loss.probability(trainer.D(trainer.G(z, yf), yf))
        return real.float().cpu().numpy(), fake.float().cpu().numpy()

    return trainer.eval_mode(run)


def d_on(trainer, points: np.ndarray) -> np.ndarray:
    """D's output on given points (toy data): the discriminator field for a heatmap."""
    x = torch.as_tensor(np.asarray(points, np.float32), device=trainer.device).reshape(-1, *trainer.dataset.shape)
    return trainer.eval_mode(lambda: trainer.loss.probability(trainer.D(x)).float().cpu().numpy())
