"""``gan-studio figure1|figure2|figure3``: the paper's Figure 1 from a recorded 1-D run, Figures 2 and 3 from
a checkpoint."""
from __future__ import annotations

import argparse
import sys

from .args import nonneg_int, positive_int
from .plugin_opts import add_plugin_args, check_plugin_flags, use_plugin


def _common(p: argparse.ArgumentParser, rows: int, cols: int) -> None:
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of an image run (e.g. reproduce's best.pt)")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write: FILE.png or FILE.svg")
    p.add_argument("--data-root", metavar="PATH",
                   help="folder holding the dataset (e.g. MNIST/raw/) when it is not where the run had it")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed for the noise (default 0)")
    p.add_argument("--rows", type=positive_int, default=rows, help=f"rows (default {rows})")
    p.add_argument("--cols", type=positive_int, default=cols, help=f"columns (default {cols})")
    add_plugin_args(p)  # consent to run the plug-in a checkpoint names


def _run(kind: str, a) -> int:
    from gan_studio.core.evaluate.figures import write_figure

    check_plugin_flags(a, use_plugin(a))
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


class Figure1:
    NAME = "figure1"
    HELP = "the paper's Figure 1 from a recorded 1-D run: four moments, p_data, p_g, D and x = G(z) (PNG or SVG)"
    DESCRIPTION = ("Four panels (a)–(d) in the paper's layout, from a run folder of 1-D data (the figure1 "
                   "preset): p_data dotted, p_g green, D blue dashed, and below, lines from z to x = G(z). "
                   "By default the start, two moments in between and the end; --at picks four iterations "
                   "(the nearest recorded ones are used). Needs no torch.")

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of a 1-D run (gan-studio train --preset figure1)")
        p.add_argument("--out", required=True, metavar="FILE", help="where to write: FILE.png or FILE.svg")
        p.add_argument("--at", type=nonneg_int, nargs=4, metavar="ITERATION", help="the four moments")

    @staticmethod
    def run(a) -> int:
        from gan_studio.core.export.figure1 import write_figure1
        from gan_studio.core.record.runfolder import RunFolder

        run = RunFolder(a.run_dir)
        print(write_figure1(run, a.out, a.at))
        sys.stdout.flush()
        return 0


COMMANDS = [Figure1, Figure2, Figure3]
