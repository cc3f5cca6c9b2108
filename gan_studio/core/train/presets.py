"""Named, documented starting points (``resources/presets.json``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from .config import ConfigError, TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    config: TrainConfig
    compare: dict | None = None  # {"a": {...}, "b": {...}}: what compare mode sets apart (see presets.json)


def _raw() -> dict:
    text = resources.files("gan_studio.resources").joinpath("presets.json").read_text(encoding="utf-8")
    return json.loads(text)


def all_presets() -> dict[str, Preset]:
    return {name: Preset(name, p["summary"], TrainConfig.from_dict(p["config"]), p.get("compare"))
            for name, p in _raw().items()}


def get_preset(name: str) -> Preset:
    presets = all_presets()
    if name not in presets:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(presets)}")
    return presets[name]
