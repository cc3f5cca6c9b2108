"""``gan-studio eval``: every metric that applies to a checkpoint or to samples."""
from __future__ import annotations

import sys
from pathlib import Path

from .args import dataset_names, kv, nonneg_int, positive_int
from .errors import UserError
from .plugin_opts import add_plugin_args, check_plugin_flags, use_plugin
from .parzen import load_array

NAME = "eval"
HELP = "every metric that applies to a checkpoint or to samples"
DESCRIPTION = ("Mode metrics for Gaussian mixtures; for labelled images class coverage, the classifier score and "
               "FID, KID and precision–recall (torch-fidelity) on the dataset's own classifier's features, or on "
               "Inception-v3's with --features inception and its weights file; Parzen on request.")


def add_arguments(p) -> None:
    from ..core.evaluate.features import FEATURES, INCEPTION_ENV

    p.add_argument("source", metavar="CKPT|RUN|SAMPLES.npy",
                   help="a checkpoint, a run folder holding checkpoint.pt, or samples in a .npy file")
    p.add_argument("--dataset", help=f"the samples' dataset (needed for .npy samples): {dataset_names()}")
    p.add_argument("--dataset-arg", action="append", type=kv, default=[], metavar="KEY=VALUE")
    p.add_argument("--data-root", help="folder holding downloaded datasets (default: the data cache); a "
                                        "checkpoint's own data folder is never used")
    p.add_argument("--download", action="store_true",
                   help="fetch MNIST, Fashion-MNIST or CIFAR-10 into the data folder if they are missing")
    p.add_argument("--n", type=positive_int, help="samples to draw from a checkpoint "
                                                   "(default 2,500 for points, 10,000 for images or --parzen)")
    p.add_argument("--parzen", action="store_true", help="also the Parzen-window log-likelihood")
    p.add_argument("--fid", action="store_true",
                   help="FID, KID and precision–recall (always computed for labelled images; with --fid, data "
                        "they do not apply to are an error)")
    p.add_argument("--features", choices=tuple(FEATURES), default="classifier",
                   help="features for FID/KID/precision–recall: " + "; ".join(f"{k}: {v}" for k, v in FEATURES.items()))
    p.add_argument("--inception-weights", metavar="FILE",
                   help=f"the Inception-v3 weights file (default: ${INCEPTION_ENV}, else torch-fidelity's cache); "
                        f"never downloaded")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--json", action="store_true", help="one JSON object instead of readable lines")
    add_plugin_args(p)  # consent to run the plug-in a checkpoint names (its data are the reference)


def print_report(r: dict) -> None:
    lines = [f"{r.get('checkpoint') or 'samples'}: {r['dataset']}, {r['n_samples']:,} samples"
             + (f", iteration {r['iteration']:,}" if "iteration" in r else "")]
    if r.get("non_finite_samples"):
        lines.append(f"  non-finite samples {r['non_finite_samples']:,} (NaN or infinite, left out)")
    if "note" in r:
        lines.append(f"  {r['note']}")
    if "modes" in r:
        m = r["modes"]
        lines.append(f"  modes covered      {m['modes_covered']} of {m['n_modes']}  (high quality "
                     f"{100 * m['high_quality']:.1f}%, KL(modes‖uniform) {m['kl_uniform']:.3f}, "
                     f"{m['n_samples']} samples)")
    if "images" in r:
        m, c = r["images"], r["images_ceiling"]
        lines.append(f"  classes covered    {m['classes_covered']} of {m['n_classes']}   (real: {c['classes_covered']})")
        lines.append(f"  classifier score   {m['classifier_score']:.2f}   (real: {c['classifier_score']:.2f})")
        lines.append(f"  FID                {m['fid']:.2f}   (real: {c['fid']:.2f}; lower is better)")
        lines.append(f"  KID                {m['kid']:.4f} ± {m['kid_std']:.4f}   (real: {c['kid']:.4f})")
        lines.append(f"  precision, recall  {m['precision']:.3f}, {m['recall']:.3f}   "
                     f"(real: {c['precision']:.3f}, {c['recall']:.3f})")
        lines.append(f"                     on {m['features']} features ({m['feature_dim']}-d), {m['n']:,} samples "
                     f"vs {m['n_real']:,} training images; {m['library']}")
    if "parzen" in r:
        p = r["parzen"]
        lines.append(f"  Parzen             {p['mean']:.2f} ± {p['stderr']:.2f} nats  (σ {p['sigma']:.3g} chosen on "
                     f"the {p['sigma_chosen_on']} set; {p['n_test']} test points)")
        lines.append(f"                     {p['note']}")
        lines.append(f"  caveat: {p['caveat']}")
    print("\n".join(lines))


def run(a) -> int:
    from ..core.evaluate.scores import evaluate_checkpoint, evaluate_samples
    from ..core.schema import dumps
    from ..core.train.config import DATASET_ARGS

    check_plugin_flags(a, use_plugin(a))
    src = Path(a.source).expanduser()
    fid = dict(features=a.features, inception_path=a.inception_weights)
    if a.features == "inception":  # before loading anything: a missing weights file is one line at once
        from ..core.evaluate.fidelity import inception_weights

        inception_weights(a.inception_weights)
    if src.is_dir():  # a run folder
        if not (src / "checkpoint.pt").is_file():
            raise UserError(f"{src}: a run folder without checkpoint.pt (gan-studio train writes one)")
        src = src / "checkpoint.pt"
    args = dict(a.dataset_arg)
    log = (lambda s: print(s, file=sys.stderr)) if not a.json else None
    if src.suffix == ".npy":
        if not a.dataset:
            raise UserError("samples in a .npy file need --dataset NAME (the data they imitate)")
        if a.data_root:
            args["root"] = a.data_root
        if "download" in DATASET_ARGS.get(a.dataset, {}):
            args["download"] = bool(args.get("download", a.download))  # never fetched unless asked
        x = load_array(str(src), "samples")
        if a.n:
            x = x[: a.n]
        r = evaluate_samples(x, a.dataset, args or None, parzen=a.parzen, log=log, **fid)
    else:
        if not src.is_file():
            raise UserError(f"no such file: {src}")
        if a.dataset:
            raise UserError("--dataset is for .npy samples; a checkpoint knows its dataset")
        r = evaluate_checkpoint(src, n=a.n, parzen=a.parzen, seed=a.seed, log=log, data_root=a.data_root,
                                dataset_args=args, download=a.download, **fid)
    if (a.fid or a.features != "classifier") and "images" not in r:
        raise UserError(f"FID, KID and precision–recall need labelled images; {r['dataset']} has none")
    if a.json:
        print(dumps(r))
    else:
        print_report(r)
    return 0
