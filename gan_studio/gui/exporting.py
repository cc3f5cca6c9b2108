"""The studio's exports: GIFs (in a worker thread, with progress and cancel), the paper's Figures 2 and 3,
metrics as CSV, the generator, a panel as PNG/SVG, the recorded run as a folder.

Anything that needs G runs in the training process (``run.call``); the window process never imports
torch. Every file is written to a temp file and renamed, so a failure leaves no half-written file."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..core.record.runfolder import METRICS_CSV_COLUMNS, RunFolder, RunFolderError, metrics_csv_rows, write_metrics_csv
from ..core.train.config import ConfigError
from . import exports



class Exporter(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.job: exports.ExportJob | None = None
        self._pending: dict[str, str] = {}  # run.call label → the file the result goes to
        self._progress_dialog = None

    # ------------------------------------------------------------------------------------ helpers
    def _save_name(self, title: str, default: str, filt: str, key: str = "exports") -> str | None:
        s = self.w.settings
        start = str(Path(s.get(f"paths/{key}", str(Path.home()))) / default)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.w, title, start, filt)
        if path:
            s.set(f"paths/{key}", str(Path(path).parent))
        return path or None

    def _live(self, what: str) -> bool:
        if not self.w.controller.can_train:
            self.w.fail(f"{what} needs a live generator: start or open a run first.")
            return False
        return True

    def recording(self) -> RunFolder | None:
        if self.w.record_dir is None:
            self.w.fail("This run is not recorded, so there is nothing to export (recording is off: "
                        "GAN_STUDIO_RECORD=0, or its folder could not be written).")
            return None
        try:
            return RunFolder(self.w.record_dir)
        except RunFolderError as exc:
            self.w.fail(f"The recording cannot be read: {exc}")
            return None

    # ------------------------------------------------------------------------------------ exports
    def export_generator(self, path: str | None = None) -> None:
        if not self._live("Export generator"):
            return
        path = path or self._save_name("Export the generator", f"{self.w.stem()}-G.safetensors",
                                       "safetensors (*.safetensors)")
        if path:
            from ..core.export.slides import export_generator_call

            self.w.controller.handle.call(functools.partial(export_generator_call, str(path)), "generator")

    def export_figure(self, kind: str, path: str | None = None) -> None:
        """The paper's Figure 2 or 3 from G now, computed in the training process."""
        st = self.w.controller.static
        if st is not None and st.kind != "images":
            self.w.fail(f"Figure {kind[-1]} is for image runs; this run has {st.dim}-D points.")
            return
        if not self._live(f"Figure {kind[-1]}"):
            return
        path = path or self._save_name(f"Save the paper's Figure {kind[-1]}", f"{self.w.stem()}-{kind}.png",
                                       "PNG (*.png);;SVG (*.svg)")
        if path:
            from ..core.evaluate.figures import figure_call

            self.w.controller.handle.call(functools.partial(figure_call, kind, str(path)), "figure")
            self.w.status.showMessage(f"drawing Figure {kind[-1]}…", 4000)

    def export_figure1(self, path: str | None = None, at: list[int] | None = None):
        """The paper's Figure 1 from this run's recording (1-D data), in a worker thread."""
        st = self.w.controller.static
        if st is not None and not (st.kind == "points" and st.dim == 1):
            self.w.fail("Figure 1 is drawn from a 1-D run (such as the figure1 preset); this run has "
                        f"{'images' if st.kind == 'images' else f'{st.dim}-D points'}.")
            return None
        rf = self.recording()
        if rf is None:
            return None
        if not rf.index:
            self.w.fail("Nothing recorded yet: train for a moment first.")
            return None
        path = path or self._save_name("Save the paper's Figure 1", f"{self.w.stem()}-figure1.svg",
                                       "SVG (*.svg);;PNG (*.png)")
        if not path:
            return None
        from ..core.export.figure1 import write_figure1

        job = exports.ExportJob(lambda prog, cancelled: write_figure1(rf, path, at), self.w)
        self._start_job(job, f"Writing {Path(path).name}", 1, False)
        return job

    def export_panel(self, panel, fmt: str, path: str | None = None) -> Path | None:
        fmt = fmt.lower()
        path = path or self._save_name(f"Save the {panel.title.lower()} panel",
                                       f"{self.w.stem()}-{panel.key}.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return None
        try:
            out = exports.save_widget_svg(panel, path, panel.title) if fmt == "svg" else \
                exports.save_widget_png(panel, path)
        except exports.ExportFailed as exc:
            self.w.fail(str(exc))
            return None
        self.w.status.showMessage(f"saved {out}", 6000)
        return out

    def export_metrics_csv(self, path: str | None = None) -> Path | None:
        rf = self.recording()
        if rf is None:
            return None
        rows = metrics_csv_rows(rf.metrics)
        if not rows:
            self.w.fail("No metrics recorded yet: train a few iterations first.")
            return None
        path = path or self._save_name("Save metrics as CSV", f"{self.w.stem()}-metrics.csv", "CSV (*.csv)")
        if not path:
            return None
        try:
            out = write_metrics_csv(rows, path, list(METRICS_CSV_COLUMNS))
        except (ConfigError, OSError) as exc:
            self.w.fail(f"Could not save the metrics: {exc}")
            return None
        self.w.status.showMessage(f"saved {len(rows):,} rows to {out}", 6000)
        return out

    def save_run_folder(self, path: str | None = None) -> Path | None:
        if self.recording() is None:
            return None
        if path is None:
            path = self._save_name("Save the recorded run as a folder", self.w.stem(), "", key="runs")
            if not path:
                return None
        try:
            out = exports.copy_run_folder(self.w.record_dir, path)
        except exports.ExportFailed as exc:
            self.w.fail(str(exc))
            return None
        self.w.status.showMessage(f"saved the run to {out} (open it with gan-studio open)", 8000)
        return out

    def export_gif(self, view: str, path: str | None = None, progress_dialog: bool = True):
        """A looping GIF: the recorded field or samples (worker thread, progress, cancel), or a latent loop."""
        if self.job is not None and not self.job.is_done:
            self.w.status.showMessage("an export is already running", 4000)
            return None
        st = self.w.controller.static
        if st is not None and view == "field" and not (st.kind == "points" and st.dim <= 2):
            self.w.fail("The toy field GIF is for 1-D and 2-D point data; this run has "
                        f"{'images' if st.kind == 'images' else f'{st.dim}-D points'}. Export the samples instead.")
            return None
        if view == "latent":
            if not self._live("A latent-walk GIF"):
                return None
            path = path or self._save_name("Save a latent-walk GIF", f"{self.w.stem()}-latent.gif", "GIF (*.gif)")
            if path:
                from ..core.export.slides import latent_loop_frames

                self._pending["latent-gif"] = str(path)
                self.w.controller.handle.call(functools.partial(latent_loop_frames, n_frames=48), "latent-gif")
                self.w.status.showMessage("making the latent walk…", 4000)
            return None
        rf = self.recording()
        if rf is None:
            return None
        if not rf.index:
            self.w.fail("Nothing recorded yet: train for a moment first.")
            return None
        path = path or self._save_name(f"Save a GIF of the {view}", f"{self.w.stem()}-{view}.gif", "GIF (*.gif)")
        if not path:
            return None
        from ..core.export.slides import run_gif

        job = exports.ExportJob(lambda prog, cancelled: run_gif(rf, view, path, progress=prog, cancelled=cancelled),
                                self.w)
        self._start_job(job, f"Writing {Path(path).name}", len(rf.index), progress_dialog)
        return job

    def _start_job(self, job, label: str, n: int, dialog: bool) -> None:
        self.job = job
        if dialog:
            dlg = QtWidgets.QProgressDialog(label, "Cancel", 0, max(1, n), self.w)
            dlg.setWindowTitle("Export")
            dlg.setMinimumDuration(300)
            dlg.setAutoClose(True)
            dlg.canceled.connect(job.cancel)
            job.progress.connect(lambda i, m: (dlg.setMaximum(m), dlg.setValue(i)))
            for sig in (job.done, job.failed):
                sig.connect(lambda *_: dlg.reset())
            job.cancelled.connect(dlg.reset)
            self._progress_dialog = dlg
        job.done.connect(lambda p: self.w.status.showMessage(f"saved {p}", 8000))
        job.done.connect(lambda p: self.w.status.st_msg.setText(f"saved {os.path.basename(p)}"))
        job.failed.connect(lambda text: self.w.fail(f"Export failed: {text}"))
        job.cancelled.connect(lambda: self.w.status.showMessage("export cancelled; no file was written", 6000))
        job.start()

    def on_result(self, ev) -> bool:
        """Results of ``run.call`` exports; True when the event was one."""
        if ev.kind == "latent-gif":
            path = self._pending.pop("latent-gif", None)
            if path and ev.data:
                from ..core.export.slides import write_frames_gif

                frames = ev.data
                job = exports.ExportJob(lambda prog, cancelled: write_frames_gif(frames, path), self.w)
                self._start_job(job, f"Writing {Path(path).name}", len(frames), False)
            return True
        if ev.kind in ("generator", "figure"):
            what = "the generator" if ev.kind == "generator" else "the figure"
            self.w.status.showMessage(f"exported {what} to {ev.data}", 8000)
            self.w.status.st_msg.setText(f"exported {os.path.basename(str(ev.data))}")
            return True
        return False

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()  # checked between frames: it ends within one frame, leaving no file
            self.job.wait(3.0)
