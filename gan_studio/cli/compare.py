"""``gan-studio compare``: two runs of a preset side by side in the studio, stepped in lockstep."""
from __future__ import annotations

from .args import add_studio_args, check_studio_args, kv, studio_missing
from .errors import UserError
from .plugin_opts import add_plugin_args

NAME = "compare"
HELP = "two runs side by side in the studio, stepped in lockstep"
DESCRIPTION = ("Run a preset twice, same data and seed, differing in the settings you give (e.g. --b "
               "loss=nonsaturating, --b unroll=5). Without --a/--b, the preset's own suggestion (see "
               "gan-studio presets --json).")


def add_arguments(p) -> None:
    p.add_argument("preset", metavar="PRESET", nargs="?", help="the preset (with --plugin: gives only the "
                   "settings the plug-in leaves open; default ring8)")
    p.add_argument("--a", action="append", type=kv, default=[], metavar="KEY=VALUE", help="run A's setting")
    p.add_argument("--b", action="append", type=kv, default=[], metavar="KEY=VALUE", help="run B's setting")
    add_studio_args(p)
    add_plugin_args(p)


def run(a) -> int:
    from ..core.train.config import LIVE_KEYS, validate_values
    from ..core.train.presets import get_preset

    check_studio_args(a)
    if a.preset is None and not a.plugin:
        raise UserError("name the PRESET to compare (or --plugin PATH.py for your own GAN)")
    plugin = None
    if a.plugin:  # learned in a separate process; its code then runs in the two training processes only
        from .plugin_opts import studio_plugin

        plugin = studio_plugin(a, a.plugin, a.plugin_arg)
        a.preset = a.preset or "ring8"
    elif a.plugin_arg:
        raise UserError("--plugin-arg goes with --plugin")
    preset = get_preset(a.preset)
    ch_a, ch_b = dict(a.a), dict(a.b)
    if not ch_a and not ch_b and plugin is not None:
        raise UserError("give the difference between the two runs, e.g. --b k=5")
    if not ch_a and not ch_b:
        if not preset.compare:
            raise UserError(f"preset {a.preset!r} suggests no comparison: give the difference, e.g. --b k=5")
        ch_a, ch_b = dict(preset.compare.get("a", {})), dict(preset.compare.get("b", {}))
    bad = sorted({k for k in (*ch_a, *ch_b) if k not in LIVE_KEYS})
    if bad:
        raise UserError(f"compare mode sets apart settings a running run can change ({', '.join(LIVE_KEYS)}), "
                        f"not {', '.join(bad)}; for other data or models start two studios")
    validate_values({**ch_a})
    validate_values({**ch_b})
    try:
        from ..gui.app import run_studio
    except ImportError as exc:
        return studio_missing(exc)
    return run_studio(preset=a.preset, compare=(ch_a, ch_b), exit_after=a.exit_after, exit_at=a.exit_at, screenshot=a.screenshot,
                      size=a.size, plugin=plugin)
