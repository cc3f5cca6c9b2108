"""Generator/discriminator pairs by name.

Every discriminator returns one raw score (a logit) per example; losses decide whether a sigmoid
applies.  Every generator maps (z, labels) to the dataset's shape; its ``out_range`` says whether it
produces the data's own space (``"data"``, toy points), [0, 1] (``"unit"``, sigmoid) or [-1, 1]
(``"tanh"``), and the trainer converts real batches to match.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .config import ConfigError


class Maxout(nn.Module):
    """Linear layer whose units take the max over ``pieces`` affine pieces (Goodfellow et al. 2013)."""

    def __init__(self, d_in: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.lin = nn.Linear(d_in, units * pieces)

    def forward(self, x):
        return self.lin(x).view(x.shape[0], self.units, self.pieces).amax(-1)


class Generator(nn.Module):
    def __init__(self, body: nn.Module, z_dim: int, out_shape: tuple, out_range: str,
                 n_classes: int | None = None, flatten_input: bool = True) -> None:
        super().__init__()
        self.body = body
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        self.out_range = out_range
        self.n_classes = n_classes

    def forward(self, z, y=None):
        if self.n_classes:
            z = torch.cat([z, nn.functional.one_hot(y, self.n_classes).to(z.dtype)], 1)
        out = self.body(z)
        return out.view(z.shape[0], *self.out_shape)


class MinibatchStd(nn.Module):
    """Appends one feature: the mean over features of the standard deviation over the batch (Karras et
    al. 2018). A collapsed generator's batch has a small spread that D can see. Off: the feature is 0, so
    it can be switched on and off during training without changing D's shape."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = False

    def forward(self, h):
        if not self.enabled:
            f = h.new_zeros(h.shape[0], 1)
        elif self.training and h.shape[0] > 1:
            s = h.std(0, unbiased=False).mean()
            self.last = s.detach()
            f = s.expand(h.shape[0], 1)
        else:  # views ask about single points (a grid): use the spread of the last training batch
            f = getattr(self, "last", h.new_zeros(())).to(h).expand(h.shape[0], 1)
        return torch.cat([h, f], 1)


class Discriminator(nn.Module):
    def __init__(self, body: nn.Module, n_classes: int | None = None, flatten: bool = True, pack: int = 1) -> None:
        super().__init__()
        self.body = body
        self.n_classes = n_classes
        self.flatten = flatten
        self.pack = int(pack)  # PacGAN: the body sees `pack` examples side by side

    def forward(self, x, y=None):
        if self.flatten:
            x = x.reshape(x.shape[0], -1)
            if self.pack > 1:
                p, n = self.pack, x.shape[0]
                # training: consecutive examples form one packed input (n // p scores); views (eval mode)
                # ask about single points, so each is packed with copies of itself (one score per point)
                x = x[: n - n % p].reshape(n // p, -1) if self.training else x.repeat(1, p)
            if self.n_classes:
                x = torch.cat([x, nn.functional.one_hot(y, self.n_classes).to(x.dtype)], 1)
            return self.body(x).view(-1)
        return self.body(x, y).view(-1)


def _out_act(out_range: str) -> list[nn.Module]:
    return {"data": [], "unit": [nn.Sigmoid()], "tanh": [nn.Tanh()]}[out_range]


def mlp_pair(data_shape, z_dim, n_classes=None, hidden: int = 128, layers: int = 2,
             out_range: str | None = None, pack: int = 1, **_):
    """A small MLP pair for toy data (and tiny images)."""
    d = int(math.prod(data_shape))
    c = n_classes or 0
    out_range = out_range or ("data" if len(data_shape) == 1 else "unit")

    def stack(d_in, d_out, act):
        mods, h = [], d_in
        for _ in range(layers):
            mods += [nn.Linear(h, hidden), act()]
            h = hidden
        mods.append(nn.Linear(h, d_out))
        return mods

    G = Generator(nn.Sequential(*stack(z_dim + c, d, nn.ReLU), *_out_act(out_range)), z_dim, data_shape,
                  out_range, n_classes)
    d_mods = stack(d * pack + c, 1, lambda: nn.LeakyReLU(0.2))
    last = d_mods.pop()  # the minibatch-std feature joins the features before the last layer
    D = Discriminator(nn.Sequential(*d_mods, MinibatchStd(), nn.Linear(last.in_features + 1, 1)), n_classes,
                      pack=pack)
    return G, D


def _uniform_init(module: nn.Module, irange: float) -> None:
    """pylearn2's ``irange``: every weight uniform in [−irange, irange], every bias 0."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                m.weight.uniform_(-irange, irange)
                if m.bias is not None:
                    m.bias.zero_()


def inverse_sigmoid_marginals(mean: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """pylearn2's ``init_sigmoid_bias_from_marginals``: the logit of each pixel's mean over the training
    set (clipped to [1e-5, 1 − 1e-5]), so that an untrained G already outputs the average image."""
    p = np.clip(np.asarray(mean, np.float64), eps, 1 - eps)
    return np.log(p / (1 - p))


def init_from_data(G: nn.Module, dataset) -> None:
    """Initialisation that needs the training data (the paper's G output bias from pixel marginals)."""
    if not getattr(G, "bias_from_marginals", False) or getattr(dataset, "kind", None) != "images":
        return
    mean = dataset.images.float().mean(0).reshape(-1).cpu().numpy() / 255.0
    last = [m for m in G.body.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.bias.copy_(torch.as_tensor(inverse_sigmoid_marginals(mean), dtype=last.bias.dtype))


def paper_mlp_pair(data_shape, z_dim, n_classes=None, g_hidden: int = 1200, d_units: int = 240,
                   pieces: int = 5, input_dropout: float = 0.2, hidden_dropout: float = 0.5,
                   out_range: str | None = None, init: str = "default", g_irange: float = 0.05,
                   d_irange: float = 0.005, **_):
    """The paper's MNIST networks (goodfeli/adversarial): G ReLU 1200-1200 → sigmoid; D maxout 240×5
    twice → sigmoid, dropout keeping 0.8 of the inputs and 0.5 of the hidden units (PyTorch's dropout
    scales the kept units by 1/p, as the original's input_scales 1.25 and 2 do).

    ``init="paper"``: the original's initialisation — weights uniform in ±``g_irange`` (G) and
    ±``d_irange`` (D), biases 0, and G's sigmoid bias set from the training set's pixel marginals (done
    by the trainer, which has the data: :func:`init_from_data`). ``"default"``: PyTorch's."""
    if init not in ("default", "paper"):
        raise ConfigError(f"paper-mlp: init must be 'default' or 'paper', got {init!r}")
    d = int(math.prod(data_shape))
    c = n_classes or 0
    out_range = out_range or ("data" if len(data_shape) == 1 else "unit")
    G = Generator(nn.Sequential(nn.Linear(z_dim + c, g_hidden), nn.ReLU(),
                                nn.Linear(g_hidden, g_hidden), nn.ReLU(),
                                nn.Linear(g_hidden, d), *_out_act(out_range)),
                  z_dim, data_shape, out_range, n_classes)
    D = Discriminator(nn.Sequential(nn.Dropout(input_dropout), Maxout(d + c, d_units, pieces),
                                    nn.Dropout(hidden_dropout), Maxout(d_units, d_units, pieces),
                                    nn.Dropout(hidden_dropout), nn.Linear(d_units, 1)), n_classes)
    if init == "paper":
        _uniform_init(G, float(g_irange))
        _uniform_init(D, float(d_irange))
        G.bias_from_marginals = out_range == "unit"
    return G, D


def _dcgan_plan(size: int) -> tuple[int, int]:
    """(start size, number of ×2 upsamplings) so that start·2^n = size with start in 3..7."""
    orig, n = size, 0
    while size % 2 == 0 and size // 2 >= 4 and size > 7:
        size //= 2
        n += 1
    if n == 0:
        raise ConfigError(f"dcgan: image size {orig} cannot be reached by doubling (use 8, 16, 28, 32, 64)")
    return size, n


class _DCGANGenBody(nn.Module):
    def __init__(self, z_in, channels, size, width, extra: int = 0):
        super().__init__()
        start, n = _dcgan_plan(size)
        ch = width * 2 ** (n - 1) * (2 if extra else 1)  # ``extra``: one more halving, into the 3×3 layers
        self.start, self.ch = start, ch
        self.fc = nn.Sequential(nn.Linear(z_in, ch * start * start), nn.BatchNorm1d(ch * start * start), nn.ReLU())
        ups = []
        for i in range(n):
            last = i == n - 1 and not extra
            out = channels if last else ch // 2
            ups.append(nn.ConvTranspose2d(ch, out, 4, 2, 1))
            if not last:
                ups += [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        for i in range(extra):  # 3×3 convolutions at full size; the last one makes the image
            out = channels if i == extra - 1 else ch
            ups.append(nn.Conv2d(ch, out, 3, 1, 1))
            if i < extra - 1:
                ups += [nn.BatchNorm2d(out), nn.ReLU()]
        self.ups = nn.Sequential(*ups, nn.Tanh())

    def forward(self, z):
        h = self.fc(z).view(z.shape[0], self.ch, self.start, self.start)
        return self.ups(h)


class _DCGANDiscBody(nn.Module):
    def __init__(self, channels, size, width, n_classes, extra: int = 0):
        super().__init__()
        start, n = _dcgan_plan(size)
        c_in = channels + (n_classes or 0)
        mods, ch = [], width
        for _ in range(extra):  # 3×3 convolutions at full size before the strided ones
            mods += [nn.Conv2d(c_in, width // 2, 3, 1, 1), nn.LeakyReLU(0.2)]
            c_in = width // 2
        for i in range(n):
            mods += [nn.Conv2d(c_in, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
            c_in, ch = ch, ch * 2
        self.convs = nn.Sequential(*mods)
        self.head = nn.Linear(c_in * start * start, 1)
        self.n_classes = n_classes

    def forward(self, x, y=None):
        if self.n_classes:
            onehot = nn.functional.one_hot(y, self.n_classes).to(x.dtype)
            x = torch.cat([x, onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], 1)
        return self.head(self.convs(x).flatten(1))


def dcgan_pair(data_shape, z_dim, n_classes=None, width: int = 64, extra: int = 0, **_):
    """DCGAN (Radford et al. 2016) sized to square images (8, 16, 28, 32, 64 px); tanh output. ``extra``: that
    many 3×3 convolutions at full size, after G's last upsampling and before D's first downsampling (0: the
    plain DCGAN; tiny images, whose plain G is a single transposed convolution, gain the most)."""
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ConfigError(f"dcgan needs square images, got data of shape {tuple(data_shape)}")
    if isinstance(extra, bool) or not isinstance(extra, int) or not 0 <= extra <= 8:
        raise ConfigError(f"dcgan: extra must be a whole number from 0 to 8, got {extra!r}")
    c, s = data_shape[0], data_shape[1]
    G = Generator(_DCGANGenBody(z_dim + (n_classes or 0), c, s, width, extra), z_dim, data_shape, "tanh", n_classes)
    D = Discriminator(_DCGANDiscBody(c, s, width, n_classes, extra), n_classes, flatten=False)
    return G, D


@dataclass(frozen=True)
class ModelSpec:
    name: str
    summary: str
    build: Callable
    conditional: bool = False
    needs: str = "any"  # "any" | "images"


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", "small MLP pair for toy data (ReLU G, LeakyReLU D)", mlp_pair),
    "paper-mlp": ModelSpec("paper-mlp", "the paper's MNIST MLPs: G ReLU 1200×2, D maxout 240×5 ×2 with dropout",
                           paper_mlp_pair),
    "dcgan": ModelSpec("dcgan", "DCGAN convolutional pair for square images", dcgan_pair, needs="images"),
    "cond-mlp": ModelSpec("cond-mlp", "label-conditioned small MLP pair", mlp_pair, conditional=True),
    "cond-paper-mlp": ModelSpec("cond-paper-mlp", "label-conditioned paper MLPs", paper_mlp_pair, conditional=True),
    "cond-dcgan": ModelSpec("cond-dcgan", "label-conditioned DCGAN (one-hot input channels to D)", dcgan_pair,
                            conditional=True, needs="images"),
}


def build_models(name: str, data_shape: tuple, z_dim: int, n_classes: int | None, args: dict | None = None):
    spec = MODELS.get(name)
    if spec is None:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if spec.needs == "images" and len(data_shape) != 3:
        raise ConfigError(f"model {name!r} needs image data; this dataset gives {len(data_shape)}-D points")
    if spec.conditional and not n_classes:
        raise ConfigError(f"model {name!r} is conditional and needs labelled data; this dataset has no labels")
    try:
        return spec.build(tuple(data_shape), z_dim, n_classes if spec.conditional else None, **(args or {}))
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: bad argument ({exc})") from None
