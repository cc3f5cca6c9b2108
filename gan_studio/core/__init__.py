"""The headless core: datasets, models, losses, the Algorithm 1 trainer, checkpoints, metrics, export.

Nothing under ``gan_studio.core`` imports Qt; a test enforces it.
"""
from .config import ConfigError, TrainConfig
from .trainer import Diverged, IterationStats, Observer, Trainer, resolve_device

__all__ = ["ConfigError", "TrainConfig", "Trainer", "Observer", "IterationStats", "Diverged", "resolve_device"]
