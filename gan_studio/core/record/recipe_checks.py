"""The checks of what a recipe says: its settings (against the settings table and a preset), its live
changes (in order, each one a live setting the run can take), its text and its view names. Each refusal is one
line naming the recipe and the key (:class:`RecipeError`)."""
from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..train.config import LIVE_KEYS, TrainConfig, validate_values

MAX_RECIPE_BYTES = 64 * 2**20
MAX_CHANGES = 100_000
#: dataset arguments that say where data live on one machine: not kept in a recipe
MACHINE_KEYS = ("root", "download")


class RecipeError(ConfigError):
    """A recipe cannot be read, written or used; the message (one line) names the recipe and the key."""


def short(v: Any) -> str:
    text = " ".join(repr(v).split())
    return text if len(text) <= 60 else text[:57] + "..."


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_text(d: dict, key: str, where: str, max_len: int) -> str:
    v = d.get(key, "")
    if not isinstance(v, str):
        raise RecipeError(f"{where}: {key}: expected text, got {short(v)}")
    if len(v) > max_len:
        raise RecipeError(f"{where}: {key}: longer than {max_len:,} characters")
    return v


def check_config(d: dict, where: str) -> dict:
    raw = d.get("config", {})
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: config: expected a mapping of settings, got {short(raw)}")
    base: dict = TrainConfig().to_dict()
    preset = d.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise RecipeError(f"{where}: preset: expected a preset name, got {short(preset)}")
        from ..train.presets import get_preset

        try:
            base = get_preset(preset).config.to_dict()
        except ConfigError as exc:
            raise RecipeError(f"{where}: preset: {exc}") from None
        if "dataset" in raw and raw["dataset"] != base["dataset"] and "dataset_args" not in raw:
            base["dataset_args"] = {}
        if "model" in raw and raw["model"] != base["model"] and "model_args" not in raw:
            base["model_args"] = {}
    unknown = [str(k) for k in raw if k not in base]
    if unknown:
        raise RecipeError(f"{where}: config: unknown setting {short(unknown[0])}")
    for key in ("dataset_args", "model_args"):
        if key in raw and not isinstance(raw[key], dict):
            raise RecipeError(f"{where}: config: {key}: expected a mapping, got {short(raw[key])}")
    cfg = {**base, **raw}
    cfg["dataset_args"] = {k: v for k, v in (cfg.get("dataset_args") or {}).items() if k not in MACHINE_KEYS}
    try:
        return TrainConfig.from_dict(cfg).to_dict()
    except (ConfigError, TypeError, ValueError, OverflowError) as exc:
        raise RecipeError(f"{where}: config: {one_line(exc)}") from None


def check_changes(raw: Any, cfg: dict, where: str) -> list:
    if not isinstance(raw, list):
        raise RecipeError(f"{where}: changes: expected a list of {{\"at\": ITERATION, \"set\": {{...}}}}, "
                          f"got {short(raw)}")
    if len(raw) > MAX_CHANGES:
        raise RecipeError(f"{where}: changes: more than {MAX_CHANGES:,}")
    out, now, last = [], dict(cfg), 0
    for i, item in enumerate(raw):
        w = f"{where}: changes[{i}]"
        if not isinstance(item, dict):
            raise RecipeError(f"{w}: expected {{\"at\": ITERATION, \"set\": {{...}}}}, got {short(item)}")
        bad = [k for k in item if k not in ("at", "set")]
        if bad:
            raise RecipeError(f"{w}: unknown key {short(bad[0])} (a change has at, set)")
        at, ch = item.get("at"), item.get("set")
        if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= 2**53:
            raise RecipeError(f"{w}: at: expected an iteration (a whole number from 0), got {short(at)}")
        if at < last:
            raise RecipeError(f"{w}: at: changes must be in order of iteration ({at} comes after {last})")
        if not isinstance(ch, dict) or not ch:
            raise RecipeError(f"{w}: set: expected a mapping of live settings to values, got {short(ch)}")
        unknown = [str(k) for k in ch if k not in LIVE_KEYS]
        if unknown:
            raise RecipeError(f"{w}: set: {short(unknown[0])} cannot change during a run (live settings: "
                              f"{', '.join(LIVE_KEYS)})")
        try:
            validate_values(ch)
            now = TrainConfig.from_dict({**now, **ch}).to_dict()  # the rules that tie settings together
        except (ConfigError, TypeError, ValueError, OverflowError) as exc:
            raise RecipeError(f"{w}: set: {one_line(exc)}") from None
        out.append((at, dict(ch)))
        last = at
    return out


def check_bools(raw: Any, keys: tuple, where: str) -> dict:
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: expected a mapping of names to true/false, got {short(raw)}")
    out = {}
    for k, v in raw.items():
        if k not in keys:
            raise RecipeError(f"{where}: unknown name {short(k)} (one of {', '.join(keys)})")
        if not isinstance(v, bool):
            raise RecipeError(f"{where}: {k}: expected true or false, got {short(v)}")
        out[k] = v
    return out
