"""GAN Studio: train generative adversarial networks and watch and steer the training live."""
try:
    from importlib.metadata import version as _version

    __version__ = _version("gan-studio")
except Exception:  # noqa: BLE001 - running from a source tree without installing
    __version__ = "0.0.0+source"


def __getattr__(name: str):
    """``gan_studio.Plugin``, what a plug-in's function returns, loaded on first use (torch-free)."""
    if name == "Plugin":
        from .core.train.plugin_spec import Plugin

        return Plugin
    raise AttributeError(f"module 'gan_studio' has no attribute {name!r}")
