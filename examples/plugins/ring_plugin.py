"""A 2-D plug-in: its own data (a ring of Gaussians) and its own networks.

    gan-studio train --plugin examples/plugins/ring_plugin.py --steps 2000 --out runs/ring
    gan-studio --plugin examples/plugins/ring_plugin.py --plugin-arg modes=6
"""
import math

import numpy as np
import torch
from torch import nn

from gan_studio import Plugin


def mlp(d_in, d_out, hidden, act):
    return nn.Sequential(nn.Linear(d_in, hidden), act(), nn.Linear(hidden, hidden), act(), nn.Linear(hidden, d_out))


def build(modes: int = 8, radius: float = 2.0, sigma: float = 0.05, n: int = 20000, hidden: int = 128,
          seed: int = 0):
    rng = np.random.default_rng(seed)
    angles = 2 * math.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    data = centres[rng.integers(modes, size=n)] + sigma * rng.standard_normal((n, 2))
    return Plugin(
        generator=mlp(2, 2, hidden, nn.ReLU),
        discriminator=mlp(2, 1, hidden, lambda: nn.LeakyReLU(0.2)),
        z_dim=2,
        data=data.astype(np.float32),
        name=f"ring of {modes}",
        modes=centres,  # the mode metrics and the collapse alarm
        settings={"batch_size": 256, "lr_d": 1e-3, "lr_g": 1e-3},
    )
