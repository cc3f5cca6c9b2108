"""``gan-studio export``: the generator alone, as safetensors plus a JSON config."""
from __future__ import annotations

NAME = "export"
HELP = "export the generator alone (safetensors + JSON config)"

from .plugin_opts import add_plugin_args, check_plugin_flags, use_plugin


def add_arguments(p) -> None:
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    add_plugin_args(p)  # consent to run the plug-in a checkpoint names


def run(a) -> int:
    from ..core.schema import dumps
    from ..core.train.checkpoint import export_generator, trainer_for_sampling

    check_plugin_flags(a, use_plugin(a))
    trainer = trainer_for_sampling(a.checkpoint, device="cpu")  # the generator alone: no dataset is built
    st, js = export_generator(trainer, a.out)  # both files, or neither
    print(dumps({"weights": str(st), "config": str(js), "iteration": trainer.iteration}))
    return 0
