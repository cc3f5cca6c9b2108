"""Reproduce the paper's Table 1 (MNIST Parzen-window log-likelihood) and its Figures 2 and 3.

``table1`` trains the ``mnist-paper`` preset and, every ``eval_every`` iterations, scores it with the
paper's protocol (10,000 samples from G; σ chosen from logspace(−1, 0, 10) on train[50000:51000];
mean ± standard error over the 10,000 test images — goodfeli/adversarial ``parzen_ll.py``). It is
resumable: the folder holds ``checkpoint.pt`` (every ``ckpt_every`` iterations and at every
evaluation, written atomically), ``results.jsonl`` (one line per evaluation), and after every
evaluation ``table.md``, ``curve.png`` and ``curve.svg``. Started again on the same folder, it continues
from the checkpoint and keeps the results it already has. ``best.pt`` is the checkpoint with the best
test estimate so far.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..atomic import atomic_path, atomic_write_bytes, remove_stale_temps
from ..train.config import ConfigError

PAPER = {"mnist": (225.0, 2.0)}  # Table 1: Parzen-window log-likelihood, mean ± s.e.
EVAL_SEED = 2014


class ReproduceError(ConfigError):
    """The reproduction cannot go on; the message says why."""


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_results(path: Path) -> list[dict]:
    out: list[dict] = []
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a torn last line from a killed run
        if isinstance(r, dict) and isinstance(r.get("iteration"), int) and isinstance(r.get("mean"), (int, float)):
            out.append(r)
    return out


def _fmt_time(s: float) -> str:
    s = int(max(0, s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def parzen_score(trainer, held, n_samples: int = 10000, seed: int = EVAL_SEED) -> dict:
    """The paper's protocol on ``trainer``'s G (samples clipped to [0, 1], as the sigmoid gives)."""
    from .parzen import DEFAULT_SIGMAS, parzen_evaluate

    x = np.clip(trainer.generate(n_samples, seed=seed), 0, 1).reshape(n_samples, -1)
    r = parzen_evaluate(x, held.test, held.valid, sigmas=DEFAULT_SIGMAS)
    return {"iteration": int(trainer.iteration), "mean": float(r.mean), "stderr": float(r.stderr),
            "sigma": float(r.sigma), "at_edge": bool(r.at_edge), "n_samples": int(r.n_samples),
            "n_test": int(r.n_test), "n_valid": int(r.n_valid), "seconds": round(float(r.seconds), 2)}


def table1(out: str | os.PathLike, iterations: int = 125000, eval_every: int = 5000, ckpt_every: int = 2500,
           data_root: str | None = None, device: str = "auto", seed: int = 0,
           log: Callable[[str], None] = _stderr, should_stop: Callable[[], bool] | None = None,
           n_samples: int = 10000, n_test: int = 10000) -> list[dict]:
    """Train ``mnist-paper`` to ``iterations`` (a total) with evaluations; returns every result so far.

    ``n_samples`` (samples from G) and ``n_test`` (test images scored) are the paper's 10,000 each; smaller
    values only make quick checks (tests) cheaper, and the results record which were used."""
    from ..train.checkpoint import load_checkpoint, save_checkpoint, trainer_from_checkpoint
    from .scores import held_out
    from ..train.presets import get_preset
    from ..train.trainer import Trainer

    if iterations < 1 or eval_every < 1 or ckpt_every < 1:
        raise ReproduceError("--iterations, --eval-every and --checkpoint-every must be at least 1")
    if n_samples < 2 or n_test < 1:
        raise ReproduceError("the Parzen evaluation needs at least 2 samples and 1 test image")
    folder = Path(out).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReproduceError(f"cannot create {folder}: {exc.strerror or exc}") from None
    for p in remove_stale_temps(folder, ("checkpoint.pt", "best.pt", "results.jsonl", "table.md", "curve.png",
                                        "curve.svg")):
        log(f"removed a temp file left by an interrupted run: {p.name}")
    ckpt, best_p, res_p = folder / "checkpoint.pt", folder / "best.pt", folder / "results.jsonl"
    args = {"root": data_root, "download": False} if data_root else {"download": False}
    if ckpt.exists():
        trainer = trainer_from_checkpoint(ckpt, device=device, data_root=data_root)
        if trainer.config.dataset != "mnist" or trainer.config.model != "paper-mlp":
            raise ReproduceError(f"{ckpt} is not an mnist-paper run; use another --out folder")
        log(f"resuming from {ckpt} at iteration {trainer.iteration:,}")
    else:
        cfg = get_preset("mnist-paper").config
        cfg = cfg.replace(dataset_args=dict(cfg.dataset_args, **args), device=device, seed=seed,
                          steps=iterations)
        trainer = Trainer(cfg)
        log(f"new mnist-paper run in {folder} ({trainer.device.type})")
    trainer.config.steps = iterations
    held = held_out("mnist", args, n_valid=1000, n_test=n_test)
    results = [r for r in read_results(res_p) if r["iteration"] <= trainer.iteration]
    done = {r["iteration"] for r in results}

    def evaluate() -> None:
        t0 = time.perf_counter()
        r = parzen_score(trainer, held, n_samples=n_samples)
        results.append(r)
        done.add(r["iteration"])
        best = max(results, key=lambda q: q["mean"])
        if best is r:
            save_checkpoint(trainer, best_p)
        write_outputs(folder, results)
        log(f"iteration {r['iteration']:,}: Parzen log-likelihood {r['mean']:.1f} ± {r['stderr']:.1f} "
            f"(σ = {r['sigma']:.3f}{', at the grid edge' if r['at_edge'] else ''}; paper: 225 ± 2) "
            f"[{time.perf_counter() - t0:.0f} s]")

    if trainer.iteration not in done and trainer.iteration % eval_every == 0:
        evaluate()
    t_start, it_start, last_log = time.perf_counter(), trainer.iteration, 0.0
    while trainer.iteration < iterations:
        if should_stop is not None and should_stop():
            break
        trainer.step()
        it = trainer.iteration
        now = time.perf_counter()
        if now - last_log >= 15 or it == iterations:
            rate = (it - it_start) / max(now - t_start, 1e-9)
            left = (iterations - it) / rate if rate > 0 else float("inf")
            log(f"iteration {it:,}/{iterations:,}  {rate:.1f} it/s  time left ≈ "
                f"{_fmt_time(left) if math.isfinite(left) else '?'}")
            last_log = now
        if it % ckpt_every == 0 or it % eval_every == 0 or it == iterations:
            save_checkpoint(trainer, ckpt)
        if (it % eval_every == 0 or it == iterations) and it not in done:
            evaluate()
    save_checkpoint(trainer, ckpt)
    return results


# ------------------------------------------------------------------------------------------ outputs
def write_outputs(folder: Path, results: list[dict]) -> None:
    results = sorted(results, key=lambda r: r["iteration"])
    atomic_write_bytes(folder / "results.jsonl",
                       "".join(json.dumps(r) + "\n" for r in results).encode())
    atomic_write_bytes(folder / "table.md", table_markdown(results).encode())
    png, svg = curve_images(results)
    atomic_write_bytes(folder / "curve.png", png)
    atomic_write_bytes(folder / "curve.svg", svg.encode())


def table_markdown(results: list[dict]) -> str:
    paper, paper_se = PAPER["mnist"]
    lines = ["| model | MNIST Parzen log-likelihood (nats) | iterations | σ |", "|---|---|---|---|",
             f"| Adversarial nets (paper, Table 1) | {paper:.0f} ± {paper_se:.0f} | — | — |"]
    if results:
        best = max(results, key=lambda r: r["mean"])
        last = max(results, key=lambda r: r["iteration"])
        lines.append(f"| GAN Studio `mnist-paper`, best | {best['mean']:.1f} ± {best['stderr']:.1f} | "
                     f"{best['iteration']:,} | {best['sigma']:.3f} |")
        if last is not best:
            lines.append(f"| GAN Studio `mnist-paper`, last | {last['mean']:.1f} ± {last['stderr']:.1f} | "
                         f"{last['iteration']:,} | {last['sigma']:.3f} |")
    lines += ["", "| iteration | log-likelihood | s.e. | σ |", "|---:|---:|---:|---:|"]
    lines += [f"| {r['iteration']:,} | {r['mean']:.1f} | {r['stderr']:.1f} | {r['sigma']:.3f} |" for r in results]
    return "\n".join(lines) + "\n"


def _chart_geometry(results, width, height):
    paper, paper_se = PAPER["mnist"]
    xs = np.array([r["iteration"] for r in results], float)
    ys = np.array([r["mean"] for r in results], float)
    es = np.array([r["stderr"] for r in results], float)
    x_hi = max(float(xs.max()) if len(xs) else 1.0, 1.0)
    vals = list(ys - es) + list(ys + es) + [paper - paper_se, paper + paper_se]
    y_lo, y_hi = min(vals), max(vals)
    pad = max(5.0, 0.08 * (y_hi - y_lo))
    y_lo, y_hi = y_lo - pad, y_hi + pad
    left, right, top, bottom = 70, 20, 36, 48

    def px(x):
        return left + (x / x_hi) * (width - left - right)

    def py(y):
        return top + (y_hi - y) / (y_hi - y_lo) * (height - top - bottom)

    return xs, ys, es, x_hi, y_lo, y_hi, px, py, (left, right, top, bottom)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = 10 ** math.floor(math.log10(max((hi - lo) / n, 1e-9)))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    return [t for t in np.arange(math.ceil(lo / step) * step, hi + 1e-9, step)]


def curve_svg(results: list[dict], width: int = 640, height: int = 360) -> str:
    paper, paper_se = PAPER["mnist"]
    xs, ys, es, x_hi, y_lo, y_hi, px, py, (l, r, t, b) = _chart_geometry(results, width, height)
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
          f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
          f'<rect width="{width}" height="{height}" fill="white"/>',
          f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">MNIST Parzen-window '
          f'log-likelihood (test set, nats) — mnist-paper</text>',
          f'<rect x="{l}" y="{py(paper + paper_se):.1f}" width="{width - l - r}" '
          f'height="{py(paper - paper_se) - py(paper + paper_se):.1f}" fill="#d62728" fill-opacity="0.15"/>',
          f'<line x1="{l}" x2="{width - r}" y1="{py(paper):.1f}" y2="{py(paper):.1f}" stroke="#d62728" '
          f'stroke-dasharray="6,4"/>',
          f'<text x="{width - r - 4}" y="{py(paper) - 6:.1f}" text-anchor="end" fill="#d62728">paper: '
          f'{paper:.0f} ± {paper_se:.0f}</text>']
    for ty in _ticks(y_lo, y_hi):
        el.append(f'<line x1="{l - 4}" x2="{width - r}" y1="{py(ty):.1f}" y2="{py(ty):.1f}" stroke="#ddd"/>')
        el.append(f'<text x="{l - 8}" y="{py(ty) + 4:.1f}" text-anchor="end">{ty:g}</text>')
    for tx in _ticks(0, x_hi):
        el.append(f'<text x="{px(tx):.1f}" y="{height - b + 18}" text-anchor="middle">{int(tx):,}</text>')
    el.append(f'<text x="{(l + width - r) / 2}" y="{height - 10}" text-anchor="middle">iterations '
              f'(one joint D+G update on 100 examples each)</text>')
    el.append(f'<line x1="{l}" x2="{l}" y1="{t}" y2="{height - b}" stroke="#333"/>'
              f'<line x1="{l}" x2="{width - r}" y1="{height - b}" y2="{height - b}" stroke="#333"/>')
    if len(xs):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
        el.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
        for x, y, e in zip(xs, ys, es):
            el.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{py(y - e):.1f}" y2="{py(y + e):.1f}" '
                      f'stroke="#1f77b4"/><circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="#1f77b4"/>')
    el.append("</svg>")
    return "\n".join(el) + "\n"


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the small bitmap font
        return ImageFont.load_default()


def curve_images(results: list[dict], width: int = 640, height: int = 360) -> tuple[bytes, str]:
    """The curve as PNG bytes and SVG text (the same chart)."""
    import io

    from PIL import Image, ImageDraw


    paper, paper_se = PAPER["mnist"]
    xs, ys, es, x_hi, y_lo, y_hi, px, py, (l, r, t, b) = _chart_geometry(results, width, height)
    s = 2  # drawn at 2× for a crisp picture
    img = Image.new("RGB", (width * s, height * s), "white")
    d = ImageDraw.Draw(img, "RGBA")
    f, fs = _font(12 * s), _font(14 * s)
    d.rectangle([l * s, py(paper + paper_se) * s, (width - r) * s, py(paper - paper_se) * s], fill=(214, 39, 40, 40))
    for x0 in range(l, width - r, 10):
        d.line([x0 * s, py(paper) * s, min(x0 + 6, width - r) * s, py(paper) * s], fill=(214, 39, 40), width=s)
    d.text(((width - r - 4) * s, (py(paper) - 6) * s), f"paper: {paper:.0f} ± {paper_se:.0f}", fill=(214, 39, 40),
           font=f, anchor="rs")
    for ty in _ticks(y_lo, y_hi):
        d.line([(l - 4) * s, py(ty) * s, (width - r) * s, py(ty) * s], fill=(221, 221, 221), width=1)
        d.text(((l - 8) * s, py(ty) * s), f"{ty:g}", fill=(30, 30, 30), font=f, anchor="rm")
    for tx in _ticks(0, x_hi):
        d.text((px(tx) * s, (height - b + 8) * s), f"{int(tx):,}", fill=(30, 30, 30), font=f, anchor="mt")
    d.text((width / 2 * s, 12 * s), "MNIST Parzen-window log-likelihood (test set, nats), mnist-paper",
           fill=(0, 0, 0), font=fs, anchor="mt")
    d.text(((l + width - r) / 2 * s, (height - 8) * s), "iterations (one joint D+G update on 100 examples each)",
           fill=(30, 30, 30), font=f, anchor="mb")
    d.line([l * s, t * s, l * s, (height - b) * s], fill=(50, 50, 50), width=s)
    d.line([l * s, (height - b) * s, (width - r) * s, (height - b) * s], fill=(50, 50, 50), width=s)
    if len(xs):
        pts = [(px(x) * s, py(y) * s) for x, y in zip(xs, ys)]
        if len(pts) > 1:
            d.line(pts, fill=(31, 119, 180), width=2 * s)
        for (cx, cy), y, e, x in zip(pts, ys, es, xs):
            d.line([cx, py(y - e) * s, cx, py(y + e) * s], fill=(31, 119, 180), width=s)
            d.ellipse([cx - 3 * s, cy - 3 * s, cx + 3 * s, cy + 3 * s], fill=(31, 119, 180))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), curve_svg(results, width, height)
