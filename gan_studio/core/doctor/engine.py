"""The diagnosis engine: statistics in, findings out, streaming and cheap.

:class:`Doctor` is fed what a run reports anyway — the per-iteration statistics (``protocol.STAT_COLUMNS``:
losses, D's mean outputs, learning rates, k, and G's and D's gradient norms) — plus, now and then, metrics of
the samples (mode coverage, histogram JS; for images nearest-training-image distances and the share of
distinct samples, see :mod:`~gan_studio.core.doctor.probes`). It keeps block summaries of 50 iterations in a
bounded ring, checks the rules of :data:`~gan_studio.core.doctor.rules.RULES` each time a block completes
(divergence on every row), and reports each problem as a :class:`Finding` once it has held for the rule's
``persist`` iterations. No torch, no Qt: the studio, ``gan-studio doctor`` and the training process share it.
"""
from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..protocol import STAT_COLUMNS
from ..settings import SIGMOID_LOSSES
from .rules import RULES, SEVERITIES, Rule

#: the columns the doctor reads, in the order of its internal rows
_COLS = ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "d_steps", "g_grad_norm", "d_grad_norm")
IT, DL, GL, DR, DF, LRD, LRG, K, GG, DG = range(len(_COLS))
_FROM_STATS = tuple(STAT_COLUMNS.index(c) for c in _COLS)
#: |D loss| + |G loss| at the equilibrium of the sigmoid losses (log 4 + log 2): the least "recent level" a loss
#: jump is measured against (a D that wins outright drives both losses towards 0; rising from there is no
#: divergence)
LOSS_FLOOR = math.log(4) + math.log(2)
UNKNOWN = object()  # a check that cannot be made yet (no sample metrics): leaves the rule's state as it is


@dataclass
class Finding:
    """One thing the doctor found: what, how sure and how bad, the numbers, and what to change."""

    name: str
    title: str
    severity: str  # one of rules.SEVERITIES
    sentence: str
    evidence: dict  # the numbers, and "iterations": [first, last] they cover
    remedies: list = field(default_factory=list)  # [{"change": {live settings}, "why": "..."}]
    iteration: int = 0  # when it was first reported
    since: int = 0  # when its condition started to hold
    until: int | None = None  # when it stopped holding (None: it still holds)
    active: bool = True
    source: str = "live"  # "live" (computed here) or "recorded" (read from a run folder's events)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "severity": self.severity, "sentence": self.sentence,
                "evidence": dict(self.evidence), "remedies": [dict(r, change=dict(r["change"])) for r in self.remedies],
                "iteration": int(self.iteration), "since": int(self.since),
                "until": None if self.until is None else int(self.until), "active": bool(self.active)}

    @classmethod
    def from_dict(cls, d: Any) -> "Finding":
        """A finding from its dict (e.g. a run folder's ``finding`` event); ValueError if it is not one."""
        if not isinstance(d, dict):
            raise ValueError("a finding must be a mapping")

        def text(key: str, limit: int = 2000) -> str:
            v = d.get(key)
            if not isinstance(v, str) or len(v) > limit:
                raise ValueError(f"finding: {key!r} must be text")
            return v

        def whole(key: str, default=None):
            v = d.get(key, default)
            if v is None and default is None and key == "until":
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"finding: {key!r} must be a whole number")
            return int(v)

        severity = text("severity", 20)
        if severity not in SEVERITIES:
            raise ValueError(f"finding: unknown severity {severity!r}")
        evidence = d.get("evidence", {})
        remedies = d.get("remedies", [])
        if not isinstance(evidence, dict) or not isinstance(remedies, list) or not all(
                isinstance(r, dict) and isinstance(r.get("change"), dict) for r in remedies):
            raise ValueError("finding: evidence must be a mapping and remedies a list of {change, why}")
        return cls(name=text("name", 100), title=text("title", 200), severity=severity, sentence=text("sentence"),
                   evidence=dict(evidence), remedies=[{"change": dict(r["change"]), "why": str(r.get("why", ""))}
                                                      for r in remedies],
                   iteration=whole("iteration", 0), since=whole("since", d.get("iteration", 0)),
                   until=whole("until"), active=bool(d.get("active", True)))


def _r(v: float, digits: int = 4):
    """A number for the evidence: finite floats to ``digits`` significant digits (JSON-able)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    v = float(v)
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


# ------------------------------------------------------------------------------------------ remedies
_EXPR = re.compile(r"^\s*([a-z_]+)\s*(?:([*/])\s*([0-9.eE+-]+))?\s*$")


def resolve_remedies(rule: Rule, config: dict) -> list[dict]:
    """The rule's remedies as concrete live changes for a run with settings ``config``: expressions resolved,
    changes that change nothing or that the run cannot take left out."""
    from ..errors import ConfigError
    from ..train.config import validate_values

    out = []
    for rem in rule.remedies:
        change = {}
        for key, val in rem.change.items():
            m = _EXPR.match(val) if isinstance(val, str) else None
            if m and m.group(1) in config and key != "loss" and key != "optimizer":
                base = config[m.group(1)]
                if not isinstance(base, (int, float)) or isinstance(base, bool):
                    change = None
                    break
                factor = float(m.group(3)) if m.group(2) else 1.0
                v = base * factor if m.group(2) == "*" else base / factor if m.group(2) else base
                if key in ("lr_d", "lr_g"):
                    v = float(f"{min(10.0, v):.3g}")
                elif isinstance(config.get(key), int):
                    v = max(1, int(round(v)))
                change[key] = v
            else:
                change[key] = val
        if not change or all(config.get(k) == v for k, v in change.items()):
            continue
        if ("pack" in change or "mbstd" in change) and config.get("model") != "mlp":
            continue  # built into the unconditional mlp model only (the Trainer refuses the others)
        if ("unroll" in change or "k" in change) and config.get("update") == "simultaneous":
            continue  # the original code's joint step takes k = 1 and no unrolling
        try:
            validate_values({**config, **change})
        except ConfigError:
            continue
        out.append({"change": change, "why": rem.why})
    return out


# ------------------------------------------------------------------------------------------ the engine
class Doctor:
    """Diagnose a run from its statistics as they come.

    ``config``: the run's settings (``TrainConfig.to_dict()``; used for which rules apply and for concrete
    remedies). ``kind``: "points" or "images" (taken from the dataset's name when not given).
    ``block``: iterations per block summary; ``rules``: the rule table (default :data:`RULES`)."""

    def __init__(self, config: dict | None = None, *, kind: str | None = None, rules: Sequence[Rule] = RULES,
                 block: int = 50, max_blocks: int = 240) -> None:
        from ..train.config import DATASET_KINDS, TrainConfig

        self.config = {**TrainConfig().to_dict(), **(config or {})}  # a partial config: defaults for the rest
        self.kind = kind or DATASET_KINDS.get(str(self.config.get("dataset")), "points")
        self.rules = {r.name: r for r in rules}
        self.block = int(block)
        self.blocks: deque = deque(maxlen=max_blocks)
        self.probes: deque = deque(maxlen=400)
        self._pending: list[dict] = []  # sample metrics fed ahead of the statistics, by iteration
        self._rows: list[tuple] = []  # the block being filled
        self._block_id: int | None = None
        self.iteration = 0
        self.rows_seen = 0
        self._g_peak = 0.0
        self._base = (math.nan, math.nan, math.nan)  # recent medians of ‖∇G‖, ‖∇D‖, |losses|
        self._spikes: list[tuple] = []
        self._found: dict[str, Finding] = {}
        self._since: dict[str, int | None] = {}
        self._misses: dict[str, int] = {}
        self._new: list[Finding] = []
        self._announced: set[str] = set()
        self.diverged_at: int | None = None

    # -- what the run is ----------------------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        """Settings changed on the running trainer (a live change)."""
        self.config.update(changes)

    @property
    def loss(self) -> str:
        return str(self.config.get("loss", ""))

    def _applies(self, rule: Rule) -> bool:
        a = rule.applies
        if a == "any" or a == "samples":
            return True
        if a == "sigmoid":
            return self.loss in SIGMOID_LOSSES
        if a == "minimax":
            return self.loss == "minimax"
        if a in ("points", "images"):
            return self.kind == a
        return False

    # -- feeding ------------------------------------------------------------------------------------
    def feed(self, rows: np.ndarray, columns: Sequence[str] = STAT_COLUMNS) -> None:
        """Statistics rows (n × len(columns)); columns the doctor does not know are ignored, missing ones
        read as NaN (a run folder written before gradient norms were recorded)."""
        a = np.asarray(rows, np.float64)
        if a.size == 0:
            return
        a = a.reshape(-1, len(columns))
        idx = [columns.index(c) if c in columns else None for c in _COLS]
        if idx[0] is None:
            raise ValueError("statistics rows need an 'iteration' column")
        nan = np.full(len(a), np.nan)
        cols = [a[:, i] if i is not None else nan for i in idx]
        for row in zip(*(c.tolist() for c in cols)):
            self._feed(row)

    def feed_row(self, values: Sequence[float]) -> None:
        """One row in :data:`~gan_studio.core.protocol.STAT_COLUMNS` order (e.g. an ``IterationStats``'
        fields): the training process's path, a few microseconds per iteration."""
        self._feed(tuple(float(values[i]) for i in _FROM_STATS))

    def feed_metrics(self, metrics: dict) -> None:
        """Metrics of the samples at ``metrics["iteration"]`` (see probes.py; the studio's live mode metrics
        work too: ``modes_covered``, ``n_modes``, ``high_quality``, ``mode_counts``)."""
        if not isinstance(metrics, dict):
            return
        it = metrics.get("iteration")
        if not isinstance(it, (int, float)) or isinstance(it, bool) or not math.isfinite(it):
            return
        m = dict(metrics, iteration=int(it))
        if "mode_share" not in m and isinstance(m.get("mode_counts"), (list, tuple)) and sum(m["mode_counts"]) > 0:
            counts = np.asarray(m["mode_counts"], np.float64)
            share = counts / counts.sum()
            p = share[share > 0]
            m["mode_share"] = share.tolist()  # the 3σ counts, when that is all there is (the studio's metrics)
            m.setdefault("effective_modes", float(np.exp(-(p * np.log(p)).sum())))
        self._pending.append(m)
        self._pending.sort(key=lambda e: e["iteration"])

    def note_diverged(self, iteration: int, message: str = "") -> None:
        """The trainer hit a NaN/Inf at ``iteration`` (its weights were restored)."""
        self.diverged_at = int(iteration)
        self._close_block()
        rule = self.rules.get("diverged")
        if rule is not None:
            self._raise(rule, {"nan_iteration": int(iteration), "message": str(message)[:300],
                               "iterations": [int(iteration), int(iteration)]}, int(iteration))

    def note_recorded(self, finding: Finding) -> None:
        """A finding read from a run folder (reported during training, e.g. from sample metrics a run folder
        does not keep): kept unless the doctor found the same itself."""
        have = self._found.get(finding.name)
        if have is None:
            finding.source = "recorded"
            self._found[finding.name] = finding
            self._announced.add(finding.name)
        else:
            have.iteration = min(have.iteration, finding.iteration)
            have.since = min(have.since, finding.since)

    def flush(self) -> None:
        """The run ended (or paused): check the rules on the last, partial block too."""
        self._close_block()

    # -- results ------------------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """Every finding so far (those that stopped holding too), most pressing first; "healthy" among them
        when no problem holds now."""
        order = {s: i for i, s in enumerate(SEVERITIES)}
        fs = list(self._found.values())
        problems = [f for f in fs if f.severity != "ok"]
        if any(f.active for f in problems):
            fs = problems
        return sorted(fs, key=lambda f: (not f.active, -order[f.severity], f.iteration))

    def problems(self) -> list[Finding]:
        return [f for f in self.findings() if f.severity != "ok"]

    def new_findings(self) -> list[Finding]:
        """Problems reported for the first time since the last call (each name once per run)."""
        out, self._new = self._new, []
        return out

    @property
    def healthy(self) -> bool:
        return not self.problems()

    def report(self) -> dict:
        fs = self.findings()
        return {"iteration": int(self.iteration), "healthy": not any(f.severity != "ok" for f in fs),
                "findings": [f.to_dict() for f in fs], "verdict": verdict(fs, self.iteration)}

    # -- internals ----------------------------------------------------------------------------------
    def _feed(self, row: tuple) -> None:
        it = int(row[IT])
        bid = (it - 1) // self.block
        if self._block_id is not None and bid != self._block_id:
            self._close_block()
        self._block_id = bid
        self._rows.append(row)
        self.iteration = it
        self.rows_seen += 1
        self._check_spike(row)
        if it % self.block == 0:
            self._close_block()

    def _close_block(self) -> None:
        if not self._rows:
            return
        cols = list(zip(*self._rows))
        self._rows = []
        self._block_id = None
        mag = [abs(a) + abs(b) for a, b in zip(cols[DL], cols[GL])]
        b = {"first": int(cols[IT][0]), "last": int(cols[IT][-1]), "n": len(cols[IT]),
             "d_real": _fmean(cols[DR]), "d_fake": _fmean(cols[DF]), "d_loss": _fmean(cols[DL]),
             "g_loss": _fmean(cols[GL]), "g_grad": _fmedian(cols[GG]), "d_grad": _fmedian(cols[DG]),
             "mag": _fmedian(mag), "lr_d": cols[LRD][-1], "lr_g": cols[LRG][-1], "k": cols[K][-1]}
        self.blocks.append(b)
        if math.isfinite(b["g_grad"]):
            self._g_peak = max(self._g_peak, b["g_grad"])
        recent = list(self.blocks)[-10:]
        self._base = tuple(_fmedian([x[k] for x in recent]) for k in ("g_grad", "d_grad", "mag"))
        self._evaluate(b["last"])

    def _latest_probe(self, upto: int, within: int) -> dict | None:
        while self._pending and self._pending[0]["iteration"] <= upto:
            self.probes.append(self._pending.pop(0))
        if self.probes and self.probes[-1]["iteration"] >= upto - within:
            return self.probes[-1]
        return None

    def _window(self, iterations: int) -> list[dict]:
        n = max(1, math.ceil(iterations / self.block))
        return list(self.blocks)[-n:]

    def _check_spike(self, row: tuple) -> None:
        """Divergence's fast path, on every row: the losses (sigmoid losses: bounded while healthy) ``loss_spike``×
        their recent median; for other losses both gradient norms ``grad_spike``× theirs, ``grad_spike_rows``
        rows running."""
        rule = self.rules.get("divergence-ahead")
        if rule is None or len(self.blocks) < 4:
            return
        th = rule.thresholds
        it = int(row[IT])
        bg, bd, bm = self._base
        if self.loss in SIGMOID_LOSSES:
            bm = max(bm, LOSS_FLOOR) if math.isfinite(bm) else bm
            mag = abs(row[DL]) + abs(row[GL])
            if math.isfinite(mag) and bm > 0 and mag >= th["loss_spike"] * bm:
                self._raise(rule, {"what": "the losses", "their": "their", "factor": _r(mag / bm, 3), "base": _r(bm),
                                   "now": _r(mag), "at": it, "iterations": [it, it]}, it)
            return
        ok = all(math.isfinite(v) and b > 0 for v, b in ((row[GG], bg), (row[DG], bd)))
        if ok and row[GG] >= th["grad_spike"] * bg and row[DG] >= th["grad_spike"] * bd:
            self._spikes.append(it)
            if len(self._spikes) >= th["grad_spike_rows"]:
                f = min(row[GG] / bg, row[DG] / bd)
                self._raise(rule, {"what": "both gradient norms", "their": "their", "factor": _r(f, 3),
                                   "base": _r(bd), "now": _r(row[DG]), "at": it,
                                   "iterations": [self._spikes[0], it]}, it)
        else:
            self._spikes = []

    def _raise(self, rule: Rule, evidence: dict, iteration: int) -> None:
        """Report (or refresh) ``rule``'s finding now, whatever its persistence."""
        self._since[rule.name] = self._since.get(rule.name) or iteration
        self._misses[rule.name] = 0
        self._report(rule, evidence, iteration)

    def _report(self, rule: Rule, evidence: dict, iteration: int) -> None:
        try:
            sentence = rule.sentence.format_map(evidence)
        except (KeyError, ValueError, IndexError, TypeError):  # a template and its evidence out of step
            sentence = f"{rule.title}: {evidence}"
        f = self._found.get(rule.name)
        if f is None or f.source == "recorded":
            f = Finding(rule.name, rule.title, rule.severity, sentence, evidence,
                        resolve_remedies(rule, self.config), iteration=iteration,
                        since=self._since.get(rule.name) or iteration)
            self._found[rule.name] = f
            if rule.name not in self._announced and rule.severity != "ok":
                self._announced.add(rule.name)
                self._new.append(f)
            return
        f.sentence, f.evidence, f.active, f.until = sentence, evidence, True, None
        f.remedies = resolve_remedies(rule, self.config)

    def _evaluate(self, it: int) -> None:
        for name, rule in self.rules.items():
            if name in ("diverged", "healthy") or not self._applies(rule):
                continue
            fn = CHECKS.get(name)
            if fn is None:
                continue
            ev = fn(self, rule, it)
            if ev is UNKNOWN:
                continue
            if ev:
                ev.setdefault("iterations", [max(0, it - rule.window), it])
                since = self._since.get(name)
                if since is None:
                    since = self._since[name] = it
                self._misses[name] = 0
                if it - since >= rule.persist and it >= rule.warmup:
                    ev.setdefault("span", it - since + self.block)
                    self._report(rule, ev, it)
                elif name in self._found and self._found[name].active:
                    self._report(rule, ev, it)
            else:
                self._since[name] = None
                f = self._found.get(name)
                if f is not None and f.active and f.source == "live":
                    self._misses[name] = self._misses.get(name, 0) + 1
                    if self._misses[name] >= 2:
                        f.active, f.until = False, it
        self._healthy(it)

    def _healthy(self, it: int) -> None:
        rule = self.rules.get("healthy")
        if rule is None:
            return
        if it < rule.warmup or any(f.active and f.severity != "ok" for f in self._found.values()):
            if "healthy" in self._found:
                self._found["healthy"].active = False
            return
        self._report(rule, {"detail": healthy_detail(self, rule, it), "iterations": [max(0, it - rule.window), it]},
                     it)


# ------------------------------------------------------------------------------------------ the checks
def _finite(values) -> list:
    return [v for v in values if v == v and v not in (math.inf, -math.inf)]


def _fmean(values) -> float:
    v = _finite(values)
    return math.fsum(v) / len(v) if v else math.nan


def _fmedian(values) -> float:
    """Median of the finite values (NaN if none): plain Python, ~20× faster than nanmedian on a block."""
    v = sorted(_finite(values))
    n = len(v)
    if not n:
        return math.nan
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def _mean(blocks: list[dict], key: str) -> float:
    return _fmean([b[key] for b in blocks])


def _median(blocks: list[dict], key: str) -> float:
    return _fmedian([b[key] for b in blocks])


def _full(doc: Doctor, rule: Rule, it: int) -> list[dict] | None:
    """The blocks of ``rule``'s window, or None while fewer iterations than the window have been seen."""
    w = doc._window(rule.window)
    if not w or w[-1]["last"] - w[0]["first"] + 1 < 0.8 * rule.window:
        return None
    return w


def check_divergence_ahead(doc: Doctor, rule: Rule, it: int):
    """The slow path (the fast one runs on every row): a block median ``trend_factor``× its window's median."""
    w = doc._window(rule.window)
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
            return {"what": name, "their": "its" if key != "mag" else "their", "factor": _r(now / base, 3),
                    "base": _r(base), "now": _r(now), "at": w[-1]["last"],
                    "iterations": [w[0]["first"], w[-1]["last"]]}
    f = doc._found.get(rule.name)
    if f is not None and f.active and f.evidence.get("at", -10**9) >= it - doc.block:
        return dict(f.evidence)  # a spike in this block: it stands until a calm block follows
    return None


def check_vanishing_gradient(doc: Doctor, rule: Rule, it: int):
    w = _full(doc, rule, it)
    if w is None:
        return None
    th = rule.thresholds
    d_real, d_fake, g = _mean(w, "d_real"), _mean(w, "d_fake"), _median(w, "g_grad")
    if not (d_real >= th["d_real_min"] and d_fake <= th["d_fake_max"]):
        return None
    peak = doc._g_peak
    drop = peak / g if math.isfinite(g) and g > 0 and peak > 0 else math.nan
    ev = {"d_real": _r(d_real), "d_fake": _r(d_fake), "g_grad": _r(g), "g_peak": _r(peak), "g_drop": _r(drop, 3)}
    if doc.loss == "minimax":
        weaker = (1 - d_fake) / max(d_fake, 1e-9)
        ev["weaker"] = _r(weaker, 3)
        ev["detail"] = (f"log(1 − D(G(z))) is flat here: G's gradient is about {weaker:.0f}× weaker than the "
                        f"non-saturating loss would give (‖∇G‖ ≈ {g:.2g}). The paper's non-saturating loss keeps "
                        "pushing")
        return ev
    if math.isfinite(drop) and drop >= th["g_grad_drop"]:
        ev["detail"] = f"‖∇G‖ fell to {g:.2g}, {drop:.0f}× below its peak of {peak:.2g}"
        return ev
    return None


def check_d_wins(doc: Doctor, rule: Rule, it: int):
    van = doc._found.get("vanishing-gradient")
    if van is not None and van.active:
        return None  # the sharper finding says it
    w = _full(doc, rule, it)
    if w is None:
        return None
    th = rule.thresholds
    d_real, d_fake = _mean(w, "d_real"), _mean(w, "d_fake")
    if d_real >= th["d_real_min"] and d_fake <= th["d_fake_max"]:
        return {"d_real": _r(d_real), "d_fake": _r(d_fake), "first": w[0]["first"], "last": w[-1]["last"],
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


def check_mode_collapse(doc: Doctor, rule: Rule, it: int):
    th = rule.thresholds
    if doc.kind == "images" and it < th["warmup_images"]:
        return None  # an image G starts as one blob, then one class, for its first ~1,500 iterations
    p = doc._latest_probe(it, rule.window)
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
        ev.update(effective_modes=_r(eff, 3), n_modes=n, modes_covered=covered)
    elif p.get("class_coverage") is not None and p.get("n_classes"):
        if p["class_coverage"] / p["n_classes"] > th["classes_max"]:
            return None
        detail = (f"the samples look like only {p['class_coverage']} of the {p['n_classes']} classes (by their "
                  "nearest training images)")
        ev.update(class_coverage=p["class_coverage"], n_classes=p["n_classes"],
                  top_class_share=_r(p.get("top_class_share"), 3))
    elif spread is not None:
        if spread > th["spread_max"]:
            return None
        detail = f"the samples spread over {spread:.1%} of the data's variance"
    else:
        return None
    if spread is not None:
        ev["spread"] = _r(spread, 3)
    if point:
        detail += "; G maps nearly every z to the same output (the paper's “Helvetica scenario”)"
    weak = doc._found.get("d-too-weak")
    if doc._since.get("d-too-weak") is not None or (weak is not None and weak.active):
        detail += ", and D cannot tell these samples from real ones (see “D too weak”)"
    ev["detail"] = detail
    return ev


def check_mode_hopping(doc: Doctor, rule: Rule, it: int):
    doc._latest_probe(it, rule.window)
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
        return {"covered": _r(covered, 3), "n_modes": n, "union": union, "moves": moves,
                "first": ps[0]["iteration"], "last": ps[-1]["iteration"],
                "iterations": [ps[0]["iteration"], ps[-1]["iteration"]]}
    return None


def check_oscillation(doc: Doctor, rule: Rule, it: int):
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
    lo, hi = float(np.quantile(ys, 0.1)), float(np.quantile(ys, 0.9))
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
    return {"series": series, "lo": _r(lo), "hi": _r(hi), "cycles": swings, "first": w[0]["first"],
            "last": w[-1]["last"], "iterations": [w[0]["first"], w[-1]["last"]]}


def check_d_too_weak(doc: Doctor, rule: Rule, it: int):
    w = _full(doc, rule, it)
    if w is None:
        return None
    p = doc._latest_probe(it, rule.window)
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
    return {"d_real": _r(d_real), "d_fake": _r(d_fake), "detail": " and ".join(far),
            "lr_ratio": _r(lr_d / lr_g if lr_g else math.nan, 3) or math.nan, "k": k,
            "g_steps": int(doc.config.get("g_steps", 1)), "probe_iteration": p["iteration"],
            "iterations": [w[0]["first"], w[-1]["last"]]}


def check_memorisation(doc: Doctor, rule: Rule, it: int):
    p = doc._latest_probe(it, rule.window)
    if p is None:
        return UNKNOWN
    if p.get("copy_share") is None or p["copy_share"] < rule.thresholds["copy_share_min"]:
        return None
    return {"copy_share": _r(p["copy_share"], 3), "nn_ratio": _r(p.get("nn_ratio", math.nan), 3) or math.nan,
            "probe_iteration": p["iteration"]}


def healthy_detail(doc: Doctor, rule: Rule, it: int) -> str:
    w = doc._window(rule.window)
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


CHECKS = {"divergence-ahead": check_divergence_ahead, "vanishing-gradient": check_vanishing_gradient,
          "d-wins": check_d_wins, "mode-collapse": check_mode_collapse, "mode-hopping": check_mode_hopping,
          "oscillation": check_oscillation, "d-too-weak": check_d_too_weak, "memorisation": check_memorisation}


# ------------------------------------------------------------------------------------------ the verdict
def _change_text(change: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in change.items())


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def verdict(findings: Iterable[Finding], iteration: int | None = None) -> str:
    """One paragraph in plain words: what is wrong (most pressing first), since when, and what to try."""
    fs = list(findings)
    at = f" at iteration {iteration:,}" if iteration else ""
    problems = [f for f in fs if f.severity != "ok"]
    healthy = [f for f in fs if f.severity == "ok"]
    if not problems:
        if healthy:
            return f"Healthy{at}. {_upper(healthy[0].sentence[len('Healthy: '):])} Nothing needs changing."
        return (f"Too early to tell{at}: the doctor needs a few hundred iterations of statistics before it says "
                "anything.")
    now = [f for f in problems if f.active]
    past = [f for f in problems if not f.active]
    out = []
    if now:
        first = now[0]
        n = len(now)
        out.append(f"{'One problem' if n == 1 else f'{n} problems'}{at}. Most pressing: {first.title} "
                   f"(since iteration {first.since:,}{', reported during training' if first.source == 'recorded' else ''})"
                   f" — {first.sentence}")
        if first.remedies:
            r = first.remedies[0]
            out.append(f"Try {_change_text(r['change'])}: {r['why']}.")
        for f in now[1:]:
            out.append(f"Also: {f.title}, since iteration {f.since:,}.")
    else:
        out.append(f"No problem holds{at}" + (f" ({healthy[0].sentence[len('Healthy: '):].rstrip('.')})"
                                              if healthy else "") + ".")
    for f in past:
        span = f"iterations {f.since:,}–{f.until:,}" if f.until is not None else f"iteration {f.since:,}"
        out.append(f"Earlier: {f.title} ({span}), no longer seen.")
    return " ".join(out)
