"""An image GAN on scikit-learn's bundled 8×8 digits (no download), watched with GAN Studio.

    python examples/watch_digits.py runs/digits [STEPS]
    gan-studio open runs/digits --follow        # the sample grid from a fixed z, D's histogram, the losses
"""
import sys

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import gan_studio

out, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4000
torch.manual_seed(0)
X = torch.as_tensor(load_digits().images, dtype=torch.float32)[:, None] / 8 - 1  # N×1×8×8 in [-1, 1]


class Generator(torch.nn.Module):
    def __init__(self, z_dim=32):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(z_dim, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                       torch.nn.ReLU(), torch.nn.Linear(256, 64), torch.nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 8, 8)


G = Generator()
D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 256), torch.nn.LeakyReLU(0.2),
                        torch.nn.Linear(256, 256), torch.nn.LeakyReLU(0.2), torch.nn.Linear(256, 1))
opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X), batch_size=64, shuffle=True, drop_last=True)

with gan_studio.watch(out, generator=G, discriminator=D, z_dim=32, real=X, optimizers={"d": opt_d, "g": opt_g},
                      steps=steps, every=100, name="digits (my loop)") as w:
    it = 0
    while it < steps:
        for (x,) in loader:
            it += 1
            s_real, s_fake = D(x), D(G(torch.randn(64, 32)).detach())
            d_loss = F.softplus(-s_real).mean() + F.softplus(s_fake).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = F.softplus(-D(G(torch.randn(64, 32)))).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            w.log(it, d_loss=d_loss.item(), g_loss=g_loss.item(), d_real=s_real, d_fake=s_fake)
            if it >= steps:
                break
