"""``gan-studio export``: the generator alone, as safetensors plus a JSON config."""
from __future__ import annotations

import json

NAME = "export"
HELP = "export the generator alone (safetensors + JSON config)"


def add_arguments(p) -> None:
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")


def run(a) -> int:
    from ..core.train.checkpoint import export_generator, trainer_from_checkpoint

    trainer = trainer_from_checkpoint(a.checkpoint, device="cpu")
    st, js = export_generator(trainer, a.out)
    print(json.dumps({"weights": str(st), "config": str(js), "iteration": trainer.iteration}))
    return 0
