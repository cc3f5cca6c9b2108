"""The checks, each attached to its rule of :data:`~gan_studio.core.doctor.rules.RULES` by name (``@check``):
``check(doctor, rule, iteration)`` returns the evidence (a dict) while the rule's condition holds, None when it
does not, or :data:`UNKNOWN` when it cannot tell yet. A check reads the doctor through its public face only
(``window``, ``latest_probe``, ``probes``, ``g_peak``, ``finding``, ``holding``, ``loss``, ``kind``,
``config``, ``block``)."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..settings import SIGMOID_LOSSES
from .rules import RULES, Rule
from .summary import fmean, fmedian, rnd

#: |D loss| + |G loss| at the equilibrium of the sigmoid losses (log 4 + log 2): the least "recent level" a loss
#: jump is measured against (a D that wins outright drives both losses towards 0; rising from there is no
#: divergence)
LOSS_FLOOR = math.log(4) + math.log(2)
UNKNOWN = object()  # a check that cannot be made yet (no sample metrics): leaves the rule's state as it is

#: rule name → its check (filled by :func:`check`)
CHECKS: dict[str, Callable] = {}
_RULE_NAMES = {r.name for r in RULES}


def check(name: str):
    """Attach the decorated function to the rule ``name`` as its check."""
    if name not in _RULE_NAMES:
        raise ValueError(f"no rule named {name!r}")

    def attach(fn: Callable) -> Callable:
        CHECKS[name] = fn
        return fn

    return attach


def _mean(blocks: list[dict], key: str) -> float:
    return fmean([b[key] for b in blocks])


def _median(blocks: list[dict], key: str) -> float:
    return fmedian([b[key] for b in blocks])


def _full(doc, rule: Rule, it: int) -> list[dict] | None:
    """The blocks of ``rule``'s window, or None while fewer iterations than the window have been seen."""
    w = doc.window(rule.window)
    if not w or w[-1]["last"] - w[0]["first"] + 1 < 0.8 * rule.window:
        return None
    return w


@check("divergence-ahead")
def check_divergence_ahead(doc, rule: Rule, it: int):
    """The slow path (the fast one runs on every row): a block median ``trend_factor``× its window's median."""
    w = doc.window(rule.window)
    ref = w[:-2]
    if not ref or ref[-1]["last"] - ref[0]["first"] + 1 < rule.thresholds["trend_reference"]:
        ref = []
    for key, name in (("g_grad", "‖∇G‖ (G's gradient norm)"), ("d_grad", "‖∇D‖ (D's gradient norm)"),
                      ("mag", "the losses")):
        if not ref:
            break
        base, now = _median(ref, key), w[-1][key]
        if key == "mag" and doc.loss in SIGMOID_LOSSES and math.isfinite(base):
            base = max(base, LOSS_FLOOR)
        if math.isfinite(base) and base > 0 and math.isfinite(now) and now / base >= rule.thresholds["trend_factor"]:
            return {"what": name, "their": "its" if key != "mag" else "their", "factor": rnd(now / base, 3),
                    "base": rnd(base), "now": rnd(now), "at": w[-1]["last"],
                    "iterations": [w[0]["first"], w[-1]["last"]]}
    f = doc.finding(rule.name)
    if f is not None and f.active and f.evidence.get("at", -10**9) >= it - doc.block:
        return dict(f.evidence)  # a spike in this block: it stands until a calm block follows
    return None


@check("vanishing-gradient")
def check_vanishing_gradient(doc, rule: Rule, it: int):
    w = _full(doc, rule, it)
    if w is None:
        return None
    th = rule.thresholds
    d_real, d_fake, g = _mean(w, "d_real"), _mean(w, "d_fake"), _median(w, "g_grad")
    if not (d_real >= th["d_real_min"] and d_fake <= th["d_fake_max"]):
        return None
    peak = doc.g_peak
    drop = peak / g if math.isfinite(g) and g > 0 and peak > 0 else math.nan
    ev = {"d_real": rnd(d_real), "d_fake": rnd(d_fake), "g_grad": rnd(g), "g_peak": rnd(peak), "g_drop": rnd(drop, 3)}
    if doc.loss == "minimax":
        weaker = (1 - d_fake) / max(d_fake, 1e-9)
        ev["weaker"] = rnd(weaker, 3)
        ev["detail"] = (f"log(1 − D(G(z))) is flat here: G's gradient is about {weaker:.0f}× weaker than the "
                        f"non-saturating loss would give (‖∇G‖ ≈ {g:.2g}). The paper's non-saturating loss keeps "
                        "pushing")
        return ev
    if math.isfinite(drop) and drop >= th["g_grad_drop"]:
        ev["detail"] = f"‖∇G‖ fell to {g:.2g}, {drop:.0f}× below its peak of {peak:.2g}"
        return ev
    return None


@check("d-wins")
def check_d_wins(doc, rule: Rule, it: int):
    van = doc.finding("vanishing-gradient")
    if van is not None and van.active:
        return None  # the sharper finding says it
    w = _full(doc, rule, it)
    if w is None:
        return None
    th = rule.thresholds
    d_real, d_fake = _mean(w, "d_real"), _mean(w, "d_fake")
    if d_real >= th["d_real_min"] and d_fake <= th["d_fake_max"]:
        return {"d_real": rnd(d_real), "d_fake": rnd(d_fake), "first": w[0]["first"], "last": w[-1]["last"],
                "iterations": [w[0]["first"], w[-1]["last"]]}
    return None


def _modes(p: dict) -> tuple[float, int] | None:
    """(modes the samples occupy, modes there are) from a probe, or None."""
    n = p.get("n_modes")
    if not n:
        return None
    if p.get("effective_modes") is not None:
        return float(p["effective_modes"]), int(n)
    if p.get("modes_covered") is not None:
        return float(p["modes_covered"]), int(n)
    return None


@check("mode-collapse")
def check_mode_collapse(doc, rule: Rule, it: int):
    th = rule.thresholds
    if doc.kind == "images" and it < th["warmup_images"]:
        return None  # an image G starts as one blob, then one class, for its first ~1,500 iterations
    p = doc.latest_probe(it, rule.window)
    if p is None:
        return UNKNOWN
    ev: dict = {"probe_iteration": p["iteration"]}
    spread = p.get("spread")
    point = spread is not None and spread <= 0.01
    m = _modes(p)
    if m is not None:
        eff, n = m
        if eff / n > th["modes_max"]:
            return None
        covered = p.get("modes_covered")
        detail = f"the samples fall near only {eff:.1f} of the {n} modes"
        if covered is not None:
            detail += f" ({covered} of them with samples within 3σ)"
        ev.update(effective_modes=rnd(eff, 3), n_modes=n, modes_covered=covered)
    elif p.get("class_coverage") is not None and p.get("n_classes"):
        if p["class_coverage"] / p["n_classes"] > th["classes_max"]:
            return None
        detail = (f"the samples look like only {p['class_coverage']} of the {p['n_classes']} classes (by their "
                  "nearest training images)")
        ev.update(class_coverage=p["class_coverage"], n_classes=p["n_classes"],
                  top_class_share=rnd(p.get("top_class_share"), 3))
    elif spread is not None:
        if spread > th["spread_max"]:
            return None
        detail = f"the samples spread over {spread:.1%} of the data's variance"
    else:
        return None
    if spread is not None:
        ev["spread"] = rnd(spread, 3)
    if point:
        detail += "; G maps nearly every z to the same output (the paper's “Helvetica scenario”)"
    weak = doc.finding("d-too-weak")
    if doc.holding("d-too-weak") or (weak is not None and weak.active):
        detail += ", and D cannot tell these samples from real ones (see “D too weak”)"
    ev["detail"] = detail
    return ev


@check("mode-hopping")
def check_mode_hopping(doc, rule: Rule, it: int):
    doc.latest_probe(it, rule.window)
    start = it - rule.window
    if doc.kind == "images":
        if it < rule.thresholds["warmup_images"]:
            return None
        start = max(start, rule.thresholds["warmup_images"])  # the window must not reach back into the warm-up
    ps = [p for p in doc.probes if start <= p["iteration"] <= it]
    if len(ps) < 3:
        return UNKNOWN if not ps else None
    th = rule.thresholds
    shares = [p.get("mode_share") for p in ps]
    if all(isinstance(s, list) and s for s in shares) and ps[-1].get("n_modes"):
        n = int(ps[-1]["n_modes"])
        main = [int(np.argmax(s)) for s in shares]
        eff = [float(p.get("effective_modes") or 0) for p in ps]
        union = len({i for s in shares for i, v in enumerate(s) if v >= 0.5 / n})
        covered = float(np.mean(eff))
    elif all(p.get("top_class") is not None for p in ps) and ps[-1].get("n_classes"):
        if min(p.get("top_class_share", 0.0) for p in ps) < th["top_share_min"]:
            return None  # a hop is most samples in one class, then in another
        n = int(ps[-1]["n_classes"])
        main = [int(p["top_class"]) for p in ps]
        covered = float(np.mean([p.get("class_coverage", n) for p in ps]))
        union = len(set(main))
    else:
        return None
    moves = sum(a != b for a, b in zip(main, main[1:]))
    if covered / n <= th["modes_max"] and moves >= th["moves_min"] and union >= th["union_factor"] * max(covered, 1):
        return {"covered": rnd(covered, 3), "n_modes": n, "union": union, "moves": moves,
                "first": ps[0]["iteration"], "last": ps[-1]["iteration"],
                "iterations": [ps[0]["iteration"], ps[-1]["iteration"]]}
    return None


@check("oscillation")
def check_oscillation(doc, rule: Rule, it: int):
    w = _full(doc, rule, it)
    if w is None or len(w) < 12:
        return None
    th = rule.thresholds
    sig = doc.loss in SIGMOID_LOSSES
    key, series = ("d_fake", "D(G(z))") if sig else ("d_loss", "D's loss")
    y = np.array([b[key] for b in w], np.float64)
    if not np.isfinite(y).all():
        return None
    ys = np.convolve(y, np.ones(3) / 3, mode="valid")  # 150-iteration moving mean: minibatch noise out
    lo, hi = (float(q) for q in np.quantile(ys, (0.1, 0.9)))
    amp = hi - lo
    scale = 1.0 if sig else max(float(np.median(np.abs(y))), 1e-12)
    if amp / scale < (th["amplitude_min"] if sig else th["relative_amplitude_min"]):
        return None
    t = np.arange(len(ys))
    slope = np.polyfit(t, ys, 1)[0]
    if abs(slope * len(ys)) > th["trend_max"] * amp:
        return None
    c = ys - np.median(ys)
    # swings: sign changes of the smoothed series around its median, counting only excursions past ±amp/4
    state, swings = 0, 0
    for v in c:
        s = 1 if v > amp / 4 else -1 if v < -amp / 4 else 0
        if s and s != state:
            swings += state != 0
            state = s
    if swings < 2 * th["cycles_min"] - 1:
        return None
    return {"series": series, "lo": rnd(lo), "hi": rnd(hi), "cycles": swings, "first": w[0]["first"],
            "last": w[-1]["last"], "iterations": [w[0]["first"], w[-1]["last"]]}


@check("d-too-weak")
def check_d_too_weak(doc, rule: Rule, it: int):
    w = _full(doc, rule, it)
    if w is None:
        return None
    p = doc.latest_probe(it, rule.window)
    if p is None:
        return UNKNOWN
    th = rule.thresholds
    d_real, d_fake = _mean(w, "d_real"), _mean(w, "d_fake")
    if not abs(d_real - d_fake) <= th["gap_max"]:
        return None
    far = []  # whichever measure says the samples are far from the data
    if p.get("high_quality") is not None and p.get("n_modes") and p["high_quality"] <= th["quality_max"]:
        far.append(f"only {p['high_quality']:.0%} of the samples lie within 3σ of a mode")
    if p.get("js") is not None and p["js"] >= th["js_min"]:
        far.append(f"the samples' histogram is far from the data's (JS = {p['js']:.2f} nats of at most 0.69)")
    if p.get("nn_ratio") is not None and p["nn_ratio"] >= th["nn_ratio_min"]:
        far.append(f"the samples are {p['nn_ratio']:.1f}× as far from the training images as real images are")
    if not far:
        return None
    lr_d, lr_g = w[-1]["lr_d"], w[-1]["lr_g"]
    k = int(w[-1]["k"]) if math.isfinite(w[-1]["k"]) else int(doc.config.get("k", 1))
    return {"d_real": rnd(d_real), "d_fake": rnd(d_fake), "detail": " and ".join(far),
            "lr_ratio": rnd(lr_d / lr_g if lr_g else math.nan, 3) or math.nan, "k": k,
            "g_steps": int(doc.config.get("g_steps", 1)), "probe_iteration": p["iteration"],
            "iterations": [w[0]["first"], w[-1]["last"]]}


@check("memorisation")
def check_memorisation(doc, rule: Rule, it: int):
    p = doc.latest_probe(it, rule.window)
    if p is None:
        return UNKNOWN
    if p.get("copy_share") is None or p["copy_share"] < rule.thresholds["copy_share_min"]:
        return None
    return {"copy_share": rnd(p["copy_share"], 3), "nn_ratio": rnd(p.get("nn_ratio", math.nan), 3) or math.nan,
            "probe_iteration": p["iteration"]}


def healthy_detail(doc, rule: Rule, it: int) -> str:
    w = doc.window(rule.window)
    parts = []
    d_real, d_fake = _mean(w, "d_real"), _mean(w, "d_fake")
    if math.isfinite(d_real) and math.isfinite(d_fake):
        eq = " (equilibrium: ½ each)" if doc.loss in SIGMOID_LOSSES else ""
        parts.append(f"D(x) = {d_real:.2f} and D(G(z)) = {d_fake:.2f}{eq}")
    g, d = _median(w, "g_grad"), _median(w, "d_grad")
    if math.isfinite(g) and math.isfinite(d):
        parts.append(f"gradient norms steady (‖∇G‖ ≈ {g:.2g}, ‖∇D‖ ≈ {d:.2g})")
    p = doc.probes[-1] if doc.probes else None
    if p is not None:
        if p.get("n_modes") and p.get("modes_covered") is not None:
            parts.append(f"{p['modes_covered']} of {p['n_modes']} modes covered, {p.get('high_quality', 0):.0%} "
                         "of samples within 3σ of a mode")
        elif p.get("js") is not None:
            parts.append(f"histogram JS to the data {p['js']:.2f} nats")
        if p.get("distinct_share") is not None:
            parts.append(f"{p['distinct_share']:.0%} of samples distinct")
        if p.get("class_coverage") is not None:
            parts.append(f"{p['class_coverage']} of {p['n_classes']} classes present")
        if p.get("copy_share") is not None:
            parts.append(f"{p['copy_share']:.0%} of samples closer to a training image than most real images "
                         "(10% expected)")
    text = "; ".join(parts) or "nothing unusual in the statistics"
    return f"{text} — over iterations {max(0, it - rule.window):,}–{it:,}"
