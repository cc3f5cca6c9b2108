"""What every dataset shares: the error that says what is expected where, and :class:`DataShape` (a
checkpoint's data without the data)."""
from __future__ import annotations

import numpy as np
import torch

from ...errors import ConfigError


class DatasetError(ConfigError):
    """A dataset cannot be built or found; the message says what is expected where."""


class DataShape:
    """What a checkpoint says its data looked like (name, kind, shape, number of classes), without the data:
    enough to rebuild its networks and sample the generator. Drawing real examples from it is an error."""

    centers = None
    sigma = None
    labels = None
    class_names = None

    def __init__(self, name: str, kind: str, shape: tuple, n_classes: int | None = None) -> None:
        self.name, self.kind = name, kind
        self.shape = tuple(int(s) for s in shape)
        self.dim = int(np.prod(self.shape))
        self.n_classes = n_classes or None
        self.description = f"{name} (not loaded: only its shape {list(self.shape)}, from a checkpoint)"
        self.device = torch.device("cpu")

    @property
    def images(self) -> torch.Tensor:
        """Stands in for the pixel marginals some initialisations read; the checkpoint's weights replace
        whatever they set."""
        return torch.zeros((1, *self.shape), dtype=torch.uint8, device=self.device)

    def __len__(self) -> int:
        return 0

    def to(self, device) -> "DataShape":
        self.device = torch.device(device)
        return self

    def sample(self, n, gen):
        raise DatasetError(f"{self.name}: the data are not loaded (the networks were rebuilt from a checkpoint "
                           f"for sampling only)")

    def bounds(self):
        raise DatasetError(f"{self.name}: the data are not loaded")

    def log_density(self, x):
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
