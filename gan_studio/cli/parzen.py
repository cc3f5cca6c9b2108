"""``gan-studio parzen``: the Parzen-window log-likelihood of samples (the paper's Table 1 protocol)."""
from __future__ import annotations

from pathlib import Path

from .args import positive_float, positive_int
from .errors import UserError
from .progress import ProgressBar

NAME = "parzen"
HELP = "Parzen-window log-likelihood of samples (the paper's Table 1 protocol)"
DESCRIPTION = ("Parzen-window log-likelihood in nats: σ chosen on --valid (or on the test set when there is "
               "none), then mean ± std/√N over --test. Arrays are .npy, N×d or N×C×H×W (flattened).")


def add_arguments(p) -> None:
    p.add_argument("samples", metavar="SAMPLES.npy", help="generated samples (the kernel centres)")
    p.add_argument("--test", required=True, metavar="TEST.npy")
    p.add_argument("--valid", metavar="VALID.npy", help="validation set for choosing σ")
    p.add_argument("--sigmas", type=positive_float, nargs="+", metavar="S",
                   help="σ grid (default: logspace(-1, 0, 10), as the paper)")
    p.add_argument("--chunk", type=positive_int, default=1024, help="test points per block (memory)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _magic(p: Path) -> bool:
    with open(p, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def load_array(path: str, what: str):
    """One .npy array, or a :class:`UserError` naming ``what`` (``samples``, ``--test``, …)."""
    import numpy as np

    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"{what}: no such file: {p}")
    from ..core.train.data.points_io import check_npy_header

    try:
        if _magic(p):
            check_npy_header(p, UserError, what)  # the size its header claims, before anything is read
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        first = " ".join(str(exc).split())[:160]
        raise UserError(f"{what}: {p} is not a readable .npy array ({first})") from None
    if not isinstance(a, np.ndarray):
        if hasattr(a, "close"):
            a.close()
        raise UserError(f"{what}: {p} is an archive (.npz, or a checkpoint), not one .npy array")
    if a.dtype.kind not in "biuf":  # complex, dates, durations, text, records: not points or pixels
        raise UserError(f"{what}: {p} holds {a.dtype} values, not real numbers")
    return a


def run(a) -> int:
    from ..core.evaluate.parzen import CAVEAT, DEFAULT_SIGMAS, parzen_device, parzen_evaluate
    from ..core.schema import dumps

    parzen_device(a.device)  # a bad --device is refused before the arrays are read

    samples = load_array(a.samples, "samples")
    test = load_array(a.test, "--test")
    valid = load_array(a.valid, "--valid") if a.valid else None
    bar = ProgressBar(1, 0, not a.quiet)

    def progress(done, total):
        if bar.enabled:
            bar.draw(done, total, " points ")

    try:
        r = parzen_evaluate(samples, test, valid, sigmas=a.sigmas or DEFAULT_SIGMAS, chunk=a.chunk,
                            device=a.device, progress=progress)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
    out = r.to_dict()
    if valid is None:
        out["warning"] = "no --valid: σ was chosen on the test set itself, which flatters the score"
    if r.at_edge:
        out["edge_warning"] = f"σ = {r.sigma:g} is at the edge of the grid; widen --sigmas"
    out["caveat"] = CAVEAT
    print(dumps(out))
    return 0
