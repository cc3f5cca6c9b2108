"""``gan-studio sample``: samples from a checkpoint into a .npy file."""
from __future__ import annotations

from pathlib import Path

from .args import nonneg_int, positive_int
from .errors import UserError
from .plugin_opts import add_plugin_args, check_plugin_flags, use_plugin

NAME = "sample"
HELP = "draw samples from a checkpoint into a .npy file"
#: at most this many samples, and this many bytes of them (float32), in one file: checked before drawing any
MAX_SAMPLES = 10_000_000
MAX_SAMPLE_BYTES = 2**30


def add_arguments(p) -> None:
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--n", type=positive_int, default=1000, help="number of samples")
    p.add_argument("--out", required=True, metavar="FILE.npy")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--device", default="cpu")
    add_plugin_args(p)  # consent to run the plug-in a checkpoint names


def run(a) -> int:
    import numpy as np

    from ..core.schema import dumps
    from ..core.train.checkpoint import atomic_path, trainer_for_sampling

    out = Path(a.out).expanduser()
    if out.suffix != ".npy":
        raise UserError(f"--out must end in .npy, got {out.name}")
    check_plugin_flags(a, use_plugin(a))
    trainer = trainer_for_sampling(a.checkpoint, device=a.device)  # the generator alone: no dataset is built
    per = int(np.prod(trainer.generate(1, seed=a.seed).shape[1:])) * 4  # bytes a sample takes, as float32
    if a.n > MAX_SAMPLES or a.n * per > MAX_SAMPLE_BYTES:
        raise UserError(f"--n {a.n:,} samples would need {a.n * per / 2**20:,.0f} MB; the limit is "
                        f"{min(MAX_SAMPLES, MAX_SAMPLE_BYTES // per):,} samples ({MAX_SAMPLE_BYTES // 2**20:,} MB) "
                        "a file")
    x = trainer.generate(a.n, seed=a.seed).astype(np.float32)
    if trainer.dataset.kind == "images":
        x = np.clip(x, 0.0, 1.0)
    with atomic_path(out, suffix=".npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, x)
    print(dumps({"out": str(out), "shape": list(x.shape), "dtype": "float32", "iteration": trainer.iteration,
                 "dataset": trainer.config.dataset}))
    return 0
