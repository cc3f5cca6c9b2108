"""Training: the run configuration, presets, datasets, models, losses, optimisers, the Algorithm 1 trainer, data-parallel training and checkpoints."""
