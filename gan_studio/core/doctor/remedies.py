"""The remedy expression language: a rule's remedy may name the current settings (``"lr_d/10"``, ``"lr_g"``,
``"k*5"``); :func:`resolve_remedies` turns them into concrete live changes this run can take."""
from __future__ import annotations

import re

from .rules import Rule

_EXPR = re.compile(r"^\s*([a-z_]+)\s*(?:([*/])\s*([0-9.eE+-]+))?\s*$")


def resolve_remedies(rule: Rule, config: dict) -> list[dict]:
    """The rule's remedies as concrete live changes for a run with settings ``config``: expressions resolved,
    changes that change nothing or that the run cannot take left out."""
    from ..errors import ConfigError
    from ..train.config import validate_values

    out = []
    for rem in rule.remedies:
        change = {}
        for key, val in rem.change.items():
            m = _EXPR.match(val) if isinstance(val, str) else None
            if m and m.group(1) in config and key != "loss" and key != "optimizer":
                base = config[m.group(1)]
                if not isinstance(base, (int, float)) or isinstance(base, bool):
                    change = None
                    break
                factor = float(m.group(3)) if m.group(2) else 1.0
                v = base * factor if m.group(2) == "*" else base / factor if m.group(2) else base
                if key in ("lr_d", "lr_g"):
                    v = float(f"{min(10.0, v):.3g}")
                elif isinstance(config.get(key), int):
                    v = max(1, int(round(v)))
                change[key] = v
            else:
                change[key] = val
        if not change or all(config.get(k) == v for k, v in change.items()):
            continue
        try:  # the settings table's rules: e.g. packing is built into the mlp model only, the joint step takes k = 1
            validate_values({**config, **change})
        except ConfigError:
            continue
        out.append({"change": change, "why": rem.why})
    return out
