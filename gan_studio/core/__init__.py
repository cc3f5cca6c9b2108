"""The headless core: datasets, models, losses, the Algorithm 1 trainer, checkpoints, metrics, export.

Nothing under ``gan_studio.core`` imports Qt; a test enforces it. Importing this package is cheap: the
torch-backed parts load on first use, so the studio can show its window before torch is imported.
"""
from .train.config import ConfigError, TrainConfig

__all__ = ["ConfigError", "TrainConfig", "Trainer", "Observer", "IterationStats", "Diverged", "resolve_device"]


def __getattr__(name: str):
    if name in ("Trainer", "Observer", "IterationStats", "Diverged", "resolve_device"):
        from .train import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'gan_studio.core' has no attribute {name!r}")
