"""``gan-studio reproduce table1``: the paper's Table 1 (MNIST Parzen-window log-likelihood), resumable."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .args import positive_int
from .errors import EXIT_INTERRUPTED

NAME = "reproduce"
HELP = "reproduce the paper's Table 1: train mnist-paper and score it with the Parzen-window protocol"
DESCRIPTION = (
    "Trains the mnist-paper preset (the paper's networks, initialisation and schedule) and, every "
    "--eval-every iterations, scores it as the paper did: 10,000 samples from G, σ chosen on "
    "train[50000:51000], mean ± standard error over the 10,000 test images. The --out folder holds "
    "checkpoint.pt, best.pt, results.jsonl, table.md, curve.png and curve.svg; run the same command again "
    "to continue an interrupted run (Ctrl-C once stops cleanly after saving). Progress and the time left go "
    "to stderr; the final table (table.md) is printed on stdout. MNIST is never downloaded: give "
    "--data-root (a folder holding MNIST/raw/*-idx*-ubyte[.gz]) or set GAN_STUDIO_DATA.")
TARGETS = ("table1",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", choices=TARGETS, help="what to reproduce (table1: MNIST Parzen log-likelihood)")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder (created; reused to resume)")
    p.add_argument("--iterations", type=positive_int, default=125000, metavar="N",
                   help="train to this many iterations in total (default 125000)")
    p.add_argument("--eval-every", type=positive_int, default=5000, metavar="N",
                   help="score with the Parzen protocol every N iterations (default 5000)")
    p.add_argument("--checkpoint-every", type=positive_int, default=2500, metavar="N",
                   help="save checkpoint.pt every N iterations (default 2500)")
    p.add_argument("--data-root", metavar="PATH", help="folder holding MNIST/raw/ (default: GAN_STUDIO_DATA "
                   "or the cache)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train (default auto)")
    p.add_argument("--threads", type=positive_int, metavar="N", help="CPU threads for torch (default: torch's)")


class _StopOnFirstInterrupt:
    """First Ctrl-C: ask table1 to stop after the current iteration (it saves a checkpoint); second:
    the usual KeyboardInterrupt."""

    def __init__(self) -> None:
        self.requested = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("stopping after this iteration (Ctrl-C again to stop at once)…", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False

    def __call__(self) -> bool:
        return self.requested


def run(a) -> int:
    from gan_studio.core.evaluate.reproduce import table1, table_markdown

    if a.data_root is not None and not Path(a.data_root).expanduser().is_dir():
        from gan_studio.core.train.config import ConfigError

        raise ConfigError(f"--data-root {a.data_root}: no such folder")
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    with _StopOnFirstInterrupt() as stop:
        results = table1(a.out, iterations=a.iterations, eval_every=a.eval_every, ckpt_every=a.checkpoint_every,
                         data_root=a.data_root, device=a.device, should_stop=stop)
    table = Path(a.out).expanduser() / "table.md"
    text = table.read_text(encoding="utf-8") if table.is_file() else table_markdown(results)
    sys.stdout.write(text)
    sys.stdout.flush()
    if stop.requested:
        print(f"stopped; run the same command again to continue from {Path(a.out) / 'checkpoint.pt'}",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return 0
