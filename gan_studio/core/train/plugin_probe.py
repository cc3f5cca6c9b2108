"""Run a plug-in in a separate process and report what it gives (``z_dim``, ``noise``, ``settings``, ``name``,
the data's kind and shape) as one JSON line: the studio's window process learns a plug-in's settings
without ever running its code (``python -m gan_studio.core.train.plugin_probe RECORD_JSON``); with
``--names CHECKPOINT``, the plug-in record a checkpoint names (nothing is run), for the window's consent dialog."""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from .plugin_spec import PluginError, allow, check_record, ref_of

    if argv[:1] == ["--names"]:  # which plug-in a checkpoint names (its code is not run)
        from ..errors import ConfigError
        from .checkpoint import load_checkpoint

        try:
            rec = load_checkpoint(argv[1])["config"].get("plugin")
            out = {"plugin": None if rec is None else check_record(rec)}
        except (ConfigError, OSError, ValueError) as exc:
            out = {"error": str(exc)}
        print(json.dumps(out))
        return 0
    try:
        rec = check_record(json.loads(argv[0]))
        allow(ref_of(rec))  # the window's user named it; this process exists to run it
        from .plugins import build_parts, record

        rec = record(ref_of(rec), rec["args"])
        parts = build_parts(rec, seed=int(argv[1]) if len(argv) > 1 else 0)
        rec["name"] = parts.name
        out = {"record": rec, "z_dim": parts.z_dim, "noise": parts.noise, "settings": parts.settings,
               "name": parts.name, "kind": parts.dataset.kind, "shape": list(parts.dataset.shape)}
    except (PluginError, ValueError) as exc:
        out = {"error": str(exc)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
