"""An image plug-in: a small convolutional pair on scikit-learn's bundled 8×8 digits (no download).

    gan-studio train --plugin examples/plugins/digits_plugin.py --steps 1000 --out runs/digits
"""
import torch
from torch import nn

from gan_studio import Plugin


class Generator(nn.Module):
    def __init__(self, z_dim: int, width: int):
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(z_dim, width * 2 * 4 * 4), nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(width * 2, width, 4, 2, 1), nn.ReLU(),  # 4×4 → 8×8
                                nn.Conv2d(width, 1, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.up(self.fc(z).view(len(z), self.width * 2, 4, 4))


class Discriminator(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(width, width * 2, 4, 2, 1), nn.LeakyReLU(0.2))  # 8×8 → 4×4
        self.head = nn.Linear(width * 2 * 4 * 4, 1)

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))


def build(z_dim: int = 16, width: int = 32):
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0  # N×1×8×8 in [0, 1]
    return Plugin(
        generator=Generator(z_dim, width),
        discriminator=Discriminator(width),
        z_dim=z_dim,
        data=images * 2 - 1,
        image_range=(-1, 1),  # the generator ends in tanh
        name="digits (conv)",
        settings={"batch_size": 64, "lr_d": 2e-4, "lr_g": 2e-4},
    )
