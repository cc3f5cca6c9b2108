"""A plain PyTorch GAN on 8 Gaussians on a ring, watched and steerable with GAN Studio.

    python examples/watch_loop.py runs/mine [STEPS]
    gan-studio open runs/mine --follow          # watch it live (or: gan-studio doctor runs/mine --follow)
    gan-studio control runs/mine --set lr_d=1e-4 --set k=2 --wait
"""
import math
import sys

import torch
import torch.nn.functional as F

import gan_studio

out, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3000
torch.manual_seed(0)
angle = torch.randint(0, 8, (20_000,)) * (2 * math.pi / 8)
X = torch.stack([2 * angle.cos(), 2 * angle.sin()], 1) + 0.05 * torch.randn(20_000, 2)
mlp = lambda i, o: torch.nn.Sequential(torch.nn.Linear(i, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                                       torch.nn.ReLU(), torch.nn.Linear(128, o))
G, D = mlp(2, 2), mlp(2, 1)
opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
k = 1  # D steps per G step: steerable through on_change


def change(key, value):  # settings the loop applies itself; lr_d and lr_g go to the optimisers on their own
    global k
    if key == "k":
        k = value
        return True
    return False


with gan_studio.watch(out, generator=G, discriminator=D, z_dim=2, real=X, optimizers={"d": opt_d, "g": opt_g},
                      steps=steps) as w:
    w.on_change(change)
    for it in range(1, steps + 1):
        for _ in range(k):
            x, z = X[torch.randint(0, len(X), (128,))], torch.randn(128, 2)
            s_real, s_fake = D(x), D(G(z).detach())
            d_loss = F.softplus(-s_real).mean() + F.softplus(s_fake).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        g_loss = F.softplus(-D(G(torch.randn(128, 2)))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        w.log(it, d_loss=d_loss.item(), g_loss=g_loss.item(), d_real=s_real, d_fake=s_fake, k=k)
