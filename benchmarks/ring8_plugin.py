"""ring8's own networks and data as a plug-in (for benchmarks/plugin_overhead.py): the same mlp pair the
preset builds and 100,000 points drawn from its ring of 8 Gaussians."""
import torch

from gan_studio import Plugin


def build(n: int = 100_000, hidden: int = 128, layers: int = 2):
    from gan_studio.core.train.data.points import ring
    from gan_studio.core.train.models import mlp_pair

    G, D = mlp_pair((2,), 2, hidden=hidden, layers=layers)
    ds = ring()
    x, _ = ds.sample(n, torch.Generator().manual_seed(0))
    return Plugin(generator=G.body, discriminator=D, z_dim=2, data=x, name="ring8 as a plug-in", modes=ds.centers)
