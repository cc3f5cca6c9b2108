"""Evaluation: mode coverage live (with an alarm when it drops), the paper's theory on toy data
(JS, KL, C(G) = −log 4 + 2·JSD beside V(D, G)), and the Evaluate action's results: Parzen window for all
data, FID/KID/precision–recall (torch-fidelity, on the evaluation classifier's features) for labelled images.

The big headline line is what a lecturer points at: modes covered and the latest Parzen number.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.views.viewspec import EVALUATION
from .. import theme
from ..series import DecimatingSeries
from .base import Panel, WrapLabel
from .fid import AUTO_N, FidSection  # noqa: F401 - AUTO_N re-exported

CAVEAT_SHORT = ("Parzen numbers are a rough, comparative signal: in high dimensions they can rank a k-means "
                "model above the real data (Theis et al. 2016).")


def nats(mean: float, se: float) -> str:
    """mean ± s.e. with as many decimals as the standard error needs (2-D data give tiny values)."""
    if not (math.isfinite(mean) and math.isfinite(se)):
        return "—"
    dec = 1 if se >= 0.5 else 2 if se >= 0.05 else 3
    return f"{mean:,.{dec}f} ± {se:,.{dec}f}"


class EvaluationPanel(Panel):
    title = "Evaluation"
    key = EVALUATION
    #: the window connects these to its evaluation worker
    evaluateRequested = QtCore.Signal()
    cancelRequested = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.headline = WrapLabel("—")
        f = self.headline.font()
        f.setPointSize(15)
        f.setBold(True)
        self.headline.setFont(f)
        self.headline.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.headline.setWordWrap(True)  # never widen the window for a long line
        self.body.addWidget(self.headline)
        self.alarm = WrapLabel("")
        self.alarm.setStyleSheet("background: #b3261e; color: white; font-weight: 600; padding: 3px 6px;"
                                 "border-radius: 3px;")
        self.alarm.setVisible(False)
        self.alarm.setWordWrap(True)
        self.body.addWidget(self.alarm)
        self.tabs = QtWidgets.QTabWidget()
        self.body.addWidget(self.tabs, 1)
        # -- live tab: mode coverage and divergences over iterations
        live = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(live)
        ll.setContentsMargins(0, 0, 0, 0)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumSize(*theme.PLOT2_MIN)
        ll.addWidget(self.glw, 1)
        self.p_modes = self.glw.addPlot(row=0, col=0)
        self.p_div = self.glw.addPlot(row=1, col=0)
        self.p_div.setXLink(self.p_modes)
        theme.style_plot(self.p_modes, left="modes")
        theme.style_plot(self.p_div, left="nats", bottom="iteration")
        for p in (self.p_modes, self.p_div):
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
        self.c_modes = self.p_modes.plot(pen=theme.pen(theme.PG, 3), stepMode=None)
        self.c_js = self.p_div.plot(pen=theme.pen(theme.FAKE, 2.5))
        self.c_js_hist = self.p_div.plot(pen=theme.pen(theme.FAKE, 1.5, "dot"))
        self.ln2 = pg.InfiniteLine(pos=math.log(2), angle=0, pen=theme.pen(theme.REF, 1.2, "dash"))
        self.p_div.addItem(self.ln2, ignoreBounds=True)
        self.readout = WrapLabel("")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        # the numbers scroll when the panel is short (a small screen with the alarm up), never push the
        # window taller than its screen
        self.readout_scroll = QtWidgets.QScrollArea()
        self.readout_scroll.setWidget(self.readout)
        self.readout_scroll.setWidgetResizable(True)
        self.readout_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.readout_scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.readout_scroll.setMinimumHeight(2 * self.readout.fontMetrics().lineSpacing() + 4)
        self.readout_scroll.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                          QtWidgets.QSizePolicy.Policy.Maximum)
        ll.addWidget(self.readout_scroll)
        self.tabs.addTab(live, "Modes && divergences")
        # -- Parzen tab
        pz = QtWidgets.QWidget()
        pl = QtWidgets.QVBoxLayout(pz)
        pl.setContentsMargins(2, 2, 2, 2)
        row = QtWidgets.QHBoxLayout()
        self.eval_btn = QtWidgets.QPushButton("Evaluate now")
        self.eval_btn.setToolTip("Parzen-window log-likelihood (the paper's Table 1 protocol) of 10,000 samples "
                                 "from a snapshot of G, and for labelled images FID, KID and precision–recall, "
                                 "in its own process; training goes on (Ctrl+E)")
        self.cancel_btn = QtWidgets.QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(40)  # the panel may be narrow: the bar shrinks, the buttons stay
        row.addWidget(self.eval_btn)
        row.addWidget(self.cancel_btn)
        row.addWidget(self.progress, 1)
        pl.addLayout(row)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["iteration", "σ", "log-likelihood (nats)", "other"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumWidth(120)
        self.table.setMinimumHeight(60)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        pl.addWidget(self.table, 1)
        self.pz_glw = pg.GraphicsLayoutWidget()
        self.pz_glw.setMinimumHeight(90)
        self.p_pz = self.pz_glw.addPlot(row=0, col=0)
        theme.style_plot(self.p_pz, left="nats", bottom="iteration")
        self.p_pz.setMouseEnabled(x=False, y=False)
        self.c_pz = pg.ErrorBarItem(pen=theme.pen(theme.REAL, 1.5), beam=0)
        self.s_pz = pg.ScatterPlotItem(size=9, brush=theme.brush(theme.REAL), pen=None)
        self.p_pz.addItem(self.c_pz)
        self.p_pz.addItem(self.s_pz)
        pl.addWidget(self.pz_glw, 1)
        self.fid = FidSection(pl, self.pz_glw)  # images: the FID chart and the live curve's controls
        self.pz_glw.setVisible(False)  # shown with the first result
        caveat = QtWidgets.QLabel(f"⚠ {CAVEAT_SHORT}")
        caveat.setWordWrap(True)
        caveat.setStyleSheet("color: #7a4b00;")
        pl.addWidget(caveat)
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        pl.addWidget(self.note)
        self.tabs.addTab(pz, "Evaluate now")
        self._stage = "Parzen"
        self.eval_btn.clicked.connect(self.evaluateRequested)
        self.cancel_btn.clicked.connect(self.cancelRequested)
        self.history: dict[str, DecimatingSeries] = {}
        self.results: list[dict] = []
        self.latest: dict = {}
        self.best_covered = 0
        self._reset_history()

    # ------------------------------------------------------------------------------------- protocol
    def views(self, static) -> set[str]:
        return {"metrics"} if static is not None and static.kind == "points" else set()

    def _reset_history(self) -> None:
        self.history = {k: DecimatingSeries(1024) for k in ("modes_covered", "js", "js_hist")}
        self.latest = {}
        self.best_covered = 0
        self.alarm.setVisible(False)
        for c in (self.c_modes, self.c_js, self.c_js_hist):
            c.setData([], [])

    def set_static(self, static) -> None:
        super().set_static(static)
        self._reset_history()
        self.results = []
        self.table.setRowCount(0)
        self.s_pz.setData([], [])
        self.c_pz.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
        self.note.setText("")
        self.pz_glw.setVisible(False)
        self.set_busy(False)
        self.fid.set_static(static)
        live = static is not None and static.kind == "points"
        self.tabs.setTabVisible(0, live)
        self.tabs.setCurrentIndex(0 if live else 1)
        mix = live and static.centers is not None
        self.p_modes.setVisible(mix)
        if mix:
            n = len(static.centers)
            self.p_modes.setYRange(0, n + 0.5, padding=0)
            self.subtitle.setText(f"{n} modes; a mode is covered when a sample lands within 3σ of it")
        else:
            self.subtitle.setText("toy data: divergences between p_data and p_g" if live
                                  else "Parzen window; FID, KID, precision–recall on a snapshot of G")
        self._update_headline()

    def add_metrics(self, m: dict) -> None:
        """One live measurement (from the training process, ~2 per second)."""
        it = m["iteration"]
        self.latest = m
        for k in self.history:
            if k in m and m[k] is not None and math.isfinite(m[k]):
                self.history[k].append(np.array([it]), np.array([float(m[k])]))
        if "modes_covered" in m:
            cov, n = m["modes_covered"], m["n_modes"]
            self.best_covered = max(self.best_covered, cov)
            if self.best_covered >= 2 and cov <= self.best_covered // 2:
                self.alarm.setText(f"⚠ Mode collapse: {cov} of {n} modes covered at iteration {it:,} "
                                   f"(it was {self.best_covered})")
                self.alarm.setVisible(True)
            elif n >= 4 and cov <= n // 4 and it >= 1000:  # never found the modes: collapsed from the start
                self.alarm.setText(f"⚠ Mode collapse: {cov} of {n} modes covered at iteration {it:,}")
                self.alarm.setVisible(True)
            elif cov >= self.best_covered - 1 and self.alarm.isVisible():
                self.alarm.setVisible(False)
        self._dirty = True

    def eval_options(self) -> dict:
        """Options for the evaluation job the window is starting (a live-curve point skips Parzen)."""
        return self.fid.options()

    def show_snapshot(self, snap) -> bool:
        self.fid.maybe_request(snap, self.eval_btn.isEnabled(), self.evaluateRequested.emit)
        if not getattr(self, "_dirty", False):
            return False
        self._dirty = False
        for k, c in (("modes_covered", self.c_modes), ("js", self.c_js), ("js_hist", self.c_js_hist)):
            x, y = self.history[k].data()
            c.setData(x, y)
        x, _ = self.history["js"].data()
        if len(x):
            self.p_div.setXRange(0, max(10.0, float(x[-1]) * 1.05), padding=0)
            _, js = self.history["js"].data()
            _, jh = self.history["js_hist"].data()
            top = max(math.log(2) * 1.1, float(np.max(js)) * 1.05, float(np.max(jh)) * 1.05 if len(jh) else 0)
            self.p_div.setYRange(0, top, padding=0)
        m = self.latest
        parts = []
        if "js" in m:
            orange = theme.hexcolor(theme.FAKE)
            parts.append(f"<span style='color:{orange}'><b>━ JS</b> {m['js']:.3f}</span> "
                         f"<span style='color:{orange}'>┅ histogram</span> {m.get('js_hist', float('nan')):.3f} nats "
                         f"(dashed: log 2, disjoint)")
            parts.append(f"KL(p_data‖p_g) {m['kl_data_g']:.2f} · KL(p_g‖p_data) {m['kl_g_data']:.2f}")
            v = m.get("v")
            parts.append(f"<b>C(G) = −log 4 + 2·JSD ≈ {m['c_g']:.3f}</b>"
                         + (f" · V(D, G) = {v:.3f} (equal when D = D*)" if v is not None else ""))
        self.readout.setText("<br>".join(parts))
        self._update_headline()
        self.frames += 1
        return True

    # ------------------------------------------------------------------------------------- Parzen
    def set_busy(self, busy: bool, text: str = "") -> None:
        self.eval_btn.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy)
        if busy:
            self._stage = "Parzen"
            self.progress.setValue(0)
            self.progress.setFormat(text or "starting…")
        elif text:
            self.progress.setFormat(text)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(1000 * done / max(1, total)))
        unit = "points" if self._stage == "Parzen" else "images"
        self.progress.setFormat(f"{self._stage}: {done:,} / {total:,} {unit}")

    def set_stage(self, text: str) -> None:
        """What the evaluation process is doing now (classifier features, FID, Parzen)."""
        self._stage = text
        self.progress.setFormat(f"{text}…")

    def add_result(self, r: dict) -> None:
        """A finished evaluation (gan_studio.core.evaluate.scores.evaluate_checkpoint's dict)."""
        self.results.append(r)
        p = r.get("parzen", {})
        row = self.table.rowCount()
        self.table.insertRow(row)
        other = []
        if "modes" in r:
            other.append(f"modes {r['modes']['modes_covered']}/{r['modes']['n_modes']}")
        if "images" in r:
            other.append(self.fid.table_text(r))
        cells = [f"{r.get('iteration', 0):,}", f"{p['sigma']:.3g}" if "sigma" in p else "—",
                 nats(p.get("mean", float("nan")), p.get("stderr", float("nan"))), " · ".join(other)]
        for j, text in enumerate(cells):
            item = QtWidgets.QTableWidgetItem(text)
            if j < 3:
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, j, item)
        self.table.resizeColumnsToContents()
        self.table.scrollToBottom()
        withp = [x for x in self.results if "parzen" in x]
        self.pz_glw.setVisible(True)
        self.p_pz.setVisible(bool(withp))
        if withp:
            its = np.array([x.get("iteration", 0) for x in withp], float)
            means = np.array([x["parzen"].get("mean", np.nan) for x in withp], float)
            ses = np.array([x["parzen"].get("stderr", 0.0) for x in withp], float)
            self.s_pz.setData(its, means)
            self.c_pz.setData(x=its, y=means, height=2 * ses)
            if np.isfinite(means).any():
                lo, hi = float(np.nanmin(means - 2 * ses)), float(np.nanmax(means + 2 * ses))
                pad = max(0.1 * (hi - lo), 1e-3 * max(1.0, abs(hi)), 0.01)
                last = max(x.get("iteration", 0) for x in self.results)  # the same axis as the FID chart
                self.p_pz.setXRange(0, max(10.0, float(last) * 1.08), padding=0)
                self.p_pz.setYRange(lo - pad, hi + pad, padding=0)
        edge = " σ is at the edge of the grid." if p.get("at_edge") else ""
        note = (f"Parzen: {p.get('note', '')}; {p.get('n_samples', 0):,} samples, "
                f"{p.get('seconds', 0):.1f} s.{edge}") if p else "Parzen: not run (a live FID point)."
        if "images" in r:
            note += "\n" + self.fid.note(r)
            self.fid.show(self.results)
        if r.get("note"):  # e.g. no classifier for a plug-in's images
            note = f"{r['note']}.\n{note}"
        self.note.setText(note)
        self.set_busy(False, f"done: iteration {r.get('iteration', 0):,}")
        self._update_headline()

    def _update_headline(self) -> None:
        parts = []
        m = self.latest
        if "modes_covered" in m:
            cov, n = m["modes_covered"], m["n_modes"]
            col = "#b3261e" if self.alarm.isVisible() or cov <= max(1, n // 4) else (
                theme.hexcolor(theme.PG) if 8 * cov >= 7 * n else theme.WARN)
            parts.append(f"<span style='color:{col}'>modes {m['modes_covered']}/{m['n_modes']}</span>"
                         f" <span style='font-size:11pt; font-weight:400'>· high quality "
                         f"{100 * m['high_quality']:.0f}%</span>")
        elif "js" in m:
            parts.append(f"JS {m['js']:.3f} nats")
        if self.results and "images" in self.results[-1]:
            parts.append(self.fid.headline(self.results[-1]))
        withp = [x for x in self.results if "parzen" in x]
        if withp:
            r = withp[-1]
            p = r["parzen"]
            parts.append(f"Parzen {nats(p.get('mean', float('nan')), p.get('stderr', float('nan')))}"
                         f" <span style='font-size:11pt; font-weight:400'>nats @ it {r.get('iteration', 0):,} "
                         f"(σ {p.get('sigma', float('nan')):.2g})</span>")
        self.headline.setText("<br>".join(parts) if parts else
                              "<span style='font-weight:400; font-size:11pt'>Evaluate: Parzen window "
                              "(and FID for images) on a snapshot of G (Ctrl+E)</span>")
