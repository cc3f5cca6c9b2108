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
from collections import deque
from typing import Any, Sequence

import numpy as np

from ..protocol import STAT_COLUMNS
from ..settings import SIGMOID_LOSSES
from .checks import CHECKS, LOSS_FLOOR, UNKNOWN, healthy_detail
from .finding import Finding
from .remedies import resolve_remedies
from .rules import RULES, SEVERITIES, Rule
from .summary import fmean, fmedian, rnd
from .verdict import verdict

#: the columns the doctor reads, in the order of its internal rows
_COLS = ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "d_steps", "g_grad_norm", "d_grad_norm")
IT, DL, GL, DR, DF, LRD, LRG, K, GG, DG = range(len(_COLS))
_FROM_STATS = tuple(STAT_COLUMNS.index(c) for c in _COLS)


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
        self.g_peak = 0.0
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

    # -- what the checks read -----------------------------------------------------------------------
    def finding(self, name: str) -> Finding | None:
        """The finding of rule ``name`` (None if it was never reported)."""
        return self._found.get(name)

    def holding(self, name: str) -> bool:
        """Whether rule ``name``'s condition held at its last check (reported or not yet)."""
        return self._since.get(name) is not None

    def window(self, iterations: int) -> list[dict]:
        """The latest block summaries covering ``iterations``."""
        n = max(1, math.ceil(iterations / self.block))
        return list(self.blocks)[-n:]

    def latest_probe(self, upto: int, within: int) -> dict | None:
        """The latest sample metrics at most ``within`` iterations before ``upto`` (None if there are none)."""
        while self._pending and self._pending[0]["iteration"] <= upto:
            self.probes.append(self._pending.pop(0))
        if self.probes and self.probes[-1]["iteration"] >= upto - within:
            return self.probes[-1]
        return None

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
             "d_real": fmean(cols[DR]), "d_fake": fmean(cols[DF]), "d_loss": fmean(cols[DL]),
             "g_loss": fmean(cols[GL]), "g_grad": fmedian(cols[GG]), "d_grad": fmedian(cols[DG]),
             "mag": fmedian(mag), "lr_d": cols[LRD][-1], "lr_g": cols[LRG][-1], "k": cols[K][-1]}
        self.blocks.append(b)
        if math.isfinite(b["g_grad"]):
            self.g_peak = max(self.g_peak, b["g_grad"])
        recent = list(self.blocks)[-10:]
        self._base = tuple(fmedian([x[k] for x in recent]) for k in ("g_grad", "d_grad", "mag"))
        self._evaluate(b["last"])

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
                self._raise(rule, {"what": "the losses", "their": "their", "factor": rnd(mag / bm, 3), "base": rnd(bm),
                                   "now": rnd(mag), "at": it, "iterations": [it, it]}, it)
            return
        ok = all(math.isfinite(v) and b > 0 for v, b in ((row[GG], bg), (row[DG], bd)))
        if ok and row[GG] >= th["grad_spike"] * bg and row[DG] >= th["grad_spike"] * bd:
            self._spikes.append(it)
            if len(self._spikes) >= th["grad_spike_rows"]:
                f = min(row[GG] / bg, row[DG] / bd)
                self._raise(rule, {"what": "both gradient norms", "their": "their", "factor": rnd(f, 3),
                                   "base": rnd(bd), "now": rnd(row[DG]), "at": it,
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


