"""GAN Studio: train generative adversarial networks and watch and steer the training live."""
try:
    from importlib.metadata import version as _version

    __version__ = _version("gan-studio")
except Exception:  # noqa: BLE001 - running from a source tree without installing
    __version__ = "0.0.0+source"
