"""GAN Studio: train generative adversarial networks and watch and steer the training live."""
try:
    from importlib.metadata import version as _version

    __version__ = _version("gan-studio")
except Exception:  # noqa: BLE001 - running from a source tree without installing
    __version__ = "0.0.0+source"

#: what ``gan_studio`` itself offers (loaded on first use: ``import gan_studio`` stays light, and never loads Qt)
_LAZY = {"watch": "gan_studio.core.record.watch", "Watch": "gan_studio.core.record.watch",
         "WatchError": "gan_studio.core.record.watch",
         "Plugin": "gan_studio.core.train.plugin_spec"}  # what a plug-in's function returns (torch-free)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gan_studio' has no attribute {name!r}")
