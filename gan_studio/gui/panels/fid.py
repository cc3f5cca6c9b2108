"""The evaluation panel's image part: FID over iterations (a chart with the real held-out set's FID as a
dashed line) and the optional live curve — FID, the classifier score and the classes on a snapshot of G every
N iterations (:data:`AUTO_N` samples, no Parzen, no KID or precision–recall), started through the panel's
Evaluate request. A live point runs in the evaluation process at a lower priority (``nice``), so it takes the
CPU only when training does not need it (its cost: ``benchmarks/fid_live.py``). FID depends on the number of
samples, so live points (N = :data:`AUTO_N`) and Evaluate now (10,000) are drawn as two series, each named
with its N."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from .. import theme

#: samples drawn for the live FID curve (Evaluate now draws 10,000) and its default spacing in iterations
AUTO_N = 1000
AUTO_EVERY = 1000
#: what a live point asks of the evaluation job
LIVE_OPTIONS = {"parzen": False, "n": AUTO_N, "fid_only": True, "nice": 10}


class FidSection:
    def __init__(self, layout: QtWidgets.QVBoxLayout, glw: pg.GraphicsLayoutWidget) -> None:
        self.auto_row = QtWidgets.QWidget()
        ar = QtWidgets.QHBoxLayout(self.auto_row)
        ar.setContentsMargins(0, 0, 0, 0)
        self.auto = QtWidgets.QCheckBox("FID every")
        self.auto.setToolTip(f"Evaluate FID, the classifier score and the classes ({AUTO_N:,} samples; no Parzen, "
                             "KID or precision–recall) on a snapshot of G every N iterations while training runs, "
                             "in the evaluation process at a low priority")
        self.every = QtWidgets.QSpinBox()
        self.every.setRange(100, 1_000_000)
        self.every.setSingleStep(100)
        self.every.setValue(AUTO_EVERY)
        for wdg in (self.auto, self.every, QtWidgets.QLabel("iterations")):
            ar.addWidget(wdg)
        ar.addStretch(1)
        layout.insertWidget(1, self.auto_row)  # under Evaluate now
        self.auto_row.setVisible(False)
        self.glw = glw
        self.plot = glw.addPlot(row=1, col=0)
        theme.style_plot(self.plot, left="FID", bottom="iteration")
        self.plot.setMouseEnabled(x=False, y=False)
        self.legend = self.plot.addLegend(offset=(-8, 4), labelTextSize="9pt")
        self.curve = self.plot.plot(pen=theme.pen(theme.FAKE, 2), symbol="o", symbolSize=6,
                                    symbolBrush=theme.brush(theme.FAKE), symbolPen=None,
                                    name=f"live, N = {AUTO_N:,}")
        self.full = self.plot.plot(pen=None, symbol="s", symbolSize=9, symbolBrush=theme.brush(theme.REAL),
                                   symbolPen=None, name="Evaluate now, N = 10,000")
        self.real = pg.InfiniteLine(angle=0, pen=theme.pen(theme.REF, 1.2, "dash"))
        self.plot.addItem(self.real, ignoreBounds=True)
        self.plot.setVisible(False)
        self.next_due = 0
        self.pending = False

    def set_static(self, static) -> None:
        self.next_due = 0
        self.curve.setData([], [])
        self.full.setData([], [])
        self.plot.setVisible(False)
        # labelled images only (an evaluation classifier exists for them): not a plug-in's, not an image folder
        self.auto_row.setVisible(static is not None and static.kind == "images" and bool(getattr(static, "n_classes", 0)))

    def options(self) -> dict:
        """The evaluation job's options: a live-curve point skips Parzen and draws fewer samples."""
        if self.pending:
            self.pending = False
            return dict(LIVE_OPTIONS)
        return {}

    def maybe_request(self, snap, idle: bool, request) -> None:
        """Call ``request()`` (the panel's Evaluate signal) when the live curve is due at ``snap``."""
        if not (self.auto.isChecked() and self.auto_row.isVisible() and idle):
            return
        if getattr(snap, "state", None) != "running" or snap.iteration < self.next_due:
            return
        self.next_due = snap.iteration + self.every.value()
        self.pending = True
        request()
        self.pending = False  # not taken (e.g. nothing to evaluate yet)

    def show(self, results: list[dict]) -> None:
        rs = [x for x in results if "images" in x]
        if not rs:
            return
        its = np.array([x.get("iteration", 0) for x in rs], float)
        fid = np.array([x["images"]["fid"] for x in rs], float)
        live = np.array([is_live(x) for x in rs], bool)
        if live.any():  # the next point N iterations after the snapshot this one was taken from (a request waits for
            self.next_due = max(self.next_due, int(its[live][-1]) + self.every.value())  # the trainer, ~1 it later)
        real = float(rs[-1]["images_ceiling"]["fid"])
        self.plot.setVisible(True)
        self.glw.setMinimumHeight(170)  # two charts
        self.curve.setData(its[live], fid[live])
        self.full.setData(its[~live], fid[~live])
        full_n = {int(x["images"]["n"]) for x, lv in zip(rs, live) if not lv}
        self.legend.getLabel(self.full).setText(  # Evaluate now's N is the user's
            f"Evaluate now, N = {', '.join(f'{n:,}' for n in sorted(full_n)) or '10,000'}")
        self.real.setPos(real)
        self.plot.setXRange(0, max(10.0, float(its.max()) * 1.08), padding=0)
        self.plot.setYRange(0, max(float(np.nanmax(fid)), real) * 1.1 + 1e-6, padding=0)

    @staticmethod
    def table_text(r: dict) -> str:
        im, c = r["images"], r["images_ceiling"]
        more = "" if is_live(r) else (f" · KID {im['kid']:.3f} · precision {im['precision']:.2f} · recall "
                                      f"{im['recall']:.2f}")
        return (f"FID {im['fid']:.2f} (real {c['fid']:.2f}; N = {im['n']:,}){more} · classes {im['classes_covered']}/"
                f"{im['n_classes']} · score {im['classifier_score']:.2f} (real {c['classifier_score']:.2f})")

    @staticmethod
    def note(r: dict) -> str:
        im = r["images"]
        what = "FID (a live point)" if is_live(r) else "FID, KID, precision–recall"
        return (f"{what}: {im['features']} features ({im['feature_dim']}-d), {im['n']:,} "
                f"samples against {im['n_real']:,} training images ({im['library']}, {im.get('seconds', 0):.1f} s); "
                f"real: the held-out images' own scores.")

    @staticmethod
    def headline(r: dict) -> str:
        im, c = r["images"], r["images_ceiling"]
        pr = "" if is_live(r) else f"precision {im['precision']:.2f} · recall {im['recall']:.2f} "
        return (f"FID {im['fid']:.2f} <span style='font-size:11pt; font-weight:400'>(real {c['fid']:.2f}; N = "
                f"{im['n']:,}) · {pr}@ it {r.get('iteration', 0):,}</span>")


def is_live(r: dict) -> bool:
    """A live-curve point (FID only: no KID or precision–recall)."""
    return "precision" not in r.get("images", {})
