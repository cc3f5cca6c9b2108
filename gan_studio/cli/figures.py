"""``gan-studio figure2`` and ``gan-studio figure3``: the paper's Figures 2 and 3 from a checkpoint."""
from __future__ import annotations

import argparse
import sys

from .args import nonneg_int, positive_int


def _common(p: argparse.ArgumentParser, rows: int, cols: int) -> None:
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of an image run (e.g. reproduce's best.pt)")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write: FILE.png or FILE.svg")
    p.add_argument("--data-root", metavar="PATH",
                   help="folder holding the dataset (e.g. MNIST/raw/) when it is not where the run had it")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed for the noise (default 0)")
    p.add_argument("--rows", type=positive_int, default=rows, help=f"rows (default {rows})")
    p.add_argument("--cols", type=positive_int, default=cols, help=f"columns (default {cols})")


def _run(kind: str, a) -> int:
    from gan_studio.core.evaluate.figures import write_figure

    out = write_figure(kind, a.checkpoint, a.out, data_root=a.data_root, rows=a.rows, cols=a.cols, seed=a.seed)
    print(out)
    sys.stdout.flush()
    return 0


class Figure2:
    NAME = "figure2"
    HELP = "the paper's Figure 2: samples, and the nearest training example of the last column (PNG or SVG)"
    DESCRIPTION = ("A grid of samples from G; beside its last column, framed in yellow, each sample's nearest "
                   "training example (Euclidean distance in pixel space over train[0:50000]) — evidence that G "
                   "does not just recall training images. Written as PNG or SVG by --out's suffix.")

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        _common(p, 6, 5)

    @staticmethod
    def run(a) -> int:
        return _run("figure2", a)


class Figure3:
    NAME = "figure3"
    HELP = "the paper's Figure 3: rows of linear interpolations in z (PNG or SVG)"
    DESCRIPTION = ("Each row shows G along the straight line between two random noise vectors (the ends "
                   "included). Written as PNG or SVG by --out's suffix. Loading the checkpoint reads its "
                   "dataset, so --data-root may be needed when the data moved.")

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        _common(p, 8, 10)

    @staticmethod
    def run(a) -> int:
        return _run("figure3", a)


COMMANDS = [Figure2, Figure3]
