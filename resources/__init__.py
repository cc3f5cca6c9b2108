"""Data files shipped with GAN Studio (presets, icons, styles), read with importlib.resources."""
