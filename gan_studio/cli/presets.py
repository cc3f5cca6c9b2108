"""``gan-studio presets``: the named starting points."""
from __future__ import annotations

import json

NAME = "presets"
HELP = "list the presets"


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="full configurations as JSON")


def run(a) -> int:
    from ..core.train.presets import all_presets

    presets = all_presets()
    if a.json:
        print(json.dumps({n: {"summary": p.summary, "config": p.config.to_dict()} for n, p in presets.items()},
                         indent=2))
    else:
        w = max(len(n) for n in presets)
        for n, p in presets.items():
            print(f"{n:<{w}}  {p.summary}")
    return 0
