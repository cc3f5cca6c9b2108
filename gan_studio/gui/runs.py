"""What the studio runs: the preset and the user's changes to it, starting and replacing runs (live,
from a checkpoint, or a recording to replay), and asking before a change discards trained networks."""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6 import QtWidgets

from ..core.live.handles import ThreadRun
from ..core.live.process_run import ProcessRun
from ..core.record.runfolder import RunFolderError, new_recording
from ..core.train.config import (DATASET_KINDS, STRUCTURAL_KEYS, ConfigError, TrainConfig, defaults_for_dataset,
                                 validate_values)
from ..core.train.plugin_spec import (PluginConsentError, PluginError, allow, checkpoint_plugin, file_sha256, is_allowed,
                                      ref_of)
from ..core.train.presets import all_presets


def usable_overrides(base: TrainConfig, raw) -> tuple[dict, list[str]]:
    """The changes to preset ``base`` that still make a valid configuration, and the names of those dropped.

    The settings file is the user's to edit (or damage): a value of the wrong type, NaN, an unknown name or
    a combination that no longer fits is dropped here, where the file is read, so it never reaches the
    training process."""
    if not isinstance(raw, dict):
        return {}, ["all (not a mapping)"]
    known = base.to_dict()
    kept, dropped = {}, []
    for key, value in raw.items():
        if not isinstance(key, str) or key not in known:
            dropped.append(str(key)[:40])
            continue
        one = {key: value}
        if key == "dataset_args":
            one["dataset"] = raw.get("dataset", base.dataset)
        try:
            validate_values(one)
        except (ConfigError, TypeError, ValueError):
            dropped.append(key)
            continue
        kept[key] = value
    for drop in ((), STRUCTURAL_KEYS, tuple(kept)):  # then the data and model together, then everything
        trial = {k: v for k, v in kept.items() if k not in drop}
        try:
            base.replace(**trial)
        except (ConfigError, TypeError, ValueError):
            continue
        dropped += [k for k in kept if k not in trial]
        return trial, dropped
    return {}, dropped + list(kept)  # pragma: no cover - the empty set always fits


def train_threads() -> int:
    """Torch threads for the training process: all cores but one, which the window keeps for drawing.

    Measured on a 2-core machine (benchmarks/studio.py): with torch's default of 2 threads the training
    process and the window fight over the cores (OpenMP threads spin while the GUI paints) and the studio
    trained at 0.83× the headless rate; with 1 thread it matched it (0.95–1.1×) and the UI stalls halved.
    ``GAN_STUDIO_TRAIN_THREADS`` overrides."""
    env = os.environ.get("GAN_STUDIO_TRAIN_THREADS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) - 1)


def ask_plugin_consent(parent, rec: dict) -> bool:
    """A dialog with the plug-in's path and SHA-256 (and whether the file changed since): yes lets its code
    run in the training process, as --plugin would."""
    try:
        now = file_sha256(rec["source"]) if rec["kind"] == "file" else None
    except OSError:
        now = None
    was = rec.get("sha256") or "?"
    changed = f"\n\nThe file has changed since: its SHA-256 is now {now}." if now and now != was else ""
    text = (f"This run uses the plug-in\n{rec['source']}\n(function {rec.get('function') or 'build'}, "
            f"SHA-256 {was}).{changed}\n\nIts code will run in the training process. Run it?")
    yes = QtWidgets.QMessageBox.question(parent, "Run this plug-in's code?", text)
    if yes != QtWidgets.QMessageBox.StandardButton.Yes:
        return False
    allow(ref_of(rec))
    return True


class RunManager:
    """Owned by the window; starts runs on the window's :class:`RunController`."""

    def __init__(self, window, preset: str | None, overrides: dict | None) -> None:
        self.w = window
        self.presets = all_presets()
        # training runs in a child process (no interpreter lock shared with the GUI); a thread on request
        self.run_class = ThreadRun if os.environ.get("GAN_STUDIO_THREAD_WORKER") == "1" else ProcessRun
        # every live run is recorded (a run folder: replay, GIFs, CSV); GAN_STUDIO_RECORD=0 turns it off
        self.recording = os.environ.get("GAN_STUDIO_RECORD", "1") != "0"
        self.record_dir: Path | None = None
        self.confirm_reset = True  # ask before a change that discards the current networks
        s = window.settings
        if preset is not None:
            self.preset_name, self.overrides = preset, dict(overrides or {})
        else:
            self.preset_name = s.get("run/preset", "ring8")
            self.overrides = s.get("run/overrides", {}) if overrides is None else dict(overrides)
            if self.preset_name not in self.presets:
                self.preset_name, self.overrides = "ring8", {}
        self.dropped: list[str] = []  # saved settings that could not be used (shown when the run starts)
        if self.preset_name in self.presets:
            self.overrides, self.dropped = usable_overrides(self.presets[self.preset_name].config, self.overrides)

    def current_config(self) -> TrainConfig:
        cfg = self.presets[self.preset_name].config
        run_over = {k: v for k, v in self.overrides.items() if k in cfg.to_dict()}
        return cfg.replace(**run_over) if run_over else cfg

    def save(self) -> None:
        if self.w.persist and self.overrides.get("plugin") is None:  # a plug-in runs only when named (--plugin)
            self.w.settings.set("run/preset", self.preset_name)
            self.w.settings.set("run/overrides", dict(self.overrides))

    # ------------------------------------------------------------------------------------- starting
    def start(self, autoplay: bool) -> None:
        note = None
        if self.dropped:
            note = f"Some saved settings could not be used ({', '.join(self.dropped[:6])}); using the preset's."
            self.dropped = []
        try:
            cfg = self.current_config()
        except (ConfigError, TypeError, ValueError) as exc:  # saved settings no longer valid: use the preset
            note = f"Your saved settings could not be used ({exc}); using the preset's."
            self.overrides = {}
            cfg = self.current_config()
        self.start_run(cfg, autoplay=autoplay)
        if note:  # after start_run, which hides the banner of the previous run
            self.w.banner.show_message(note, "warn")

    def start_run(self, cfg: TrainConfig, autoplay: bool = False, checkpoint_path: str | None = None,
                  label: str | None = None, branch: dict | None = None, record_dir: Path | None = None,
                  plugin_consent: dict | None = None) -> None:
        w = self.w
        kw = {}
        if self.run_class is ProcessRun:
            kw["threads"] = train_threads()
            if plugin_consent is not None:  # the plug-in a checkpoint names: the user said yes (or --plugin)
                kw["plugin_consent"] = dict(plugin_consent)
        kw.update(self.views_options())
        if checkpoint_path is not None:
            kw["checkpoint_path"] = str(checkpoint_path)
        if branch is not None:  # continue a recording from one of its steps (gui/branching.py)
            kw["branch"] = branch
        self.record_dir = None
        w.banner.hide()
        if self.recording:
            try:
                self.record_dir = record_dir or new_recording(label or self.preset_name)
                kw["record_dir"] = str(self.record_dir)
            except OSError as exc:
                w.banner.show_message(f"This run is not being recorded (GIF export and replay need a "
                                      f"recording): {exc}", "warn")
        try:
            run = self.run_class(cfg, start_paused=not autoplay, **kw)
        except PluginConsentError as exc:  # a recipe or file names a plug-in the user did not name: ask
            if not ask_plugin_consent(self.w, cfg.plugin):
                w.fail(str(exc).replace("add --plugin", "start the studio with --plugin"))
                return
            run = self.run_class(cfg, start_paused=not autoplay, **kw)
        run.set_speed(w.controls.speed_value())
        w.before_run(cfg.to_dict(), replay=False)
        w.controller.set_handle(run)
        if cfg.plugin is not None:  # the preset only gave the defaults the plug-in did not set
            text = f"your plug-in “{cfg.plugin.get('name') or ''}”: {cfg.plugin['source']}"
            w.preset_summary.setText(text)
            w.preset_summary.setToolTip(f"{text}\nSHA-256 {cfg.plugin.get('sha256') or '?'}")

    def reset(self) -> None:
        rec = getattr(getattr(self.w, "recipes", None), "active", None)
        if rec is not None:  # a recipe's run starts again with its scheduled changes (gui/recipes.py)
            self.w.recipes.start(rec, autoplay=self.w.controller.state == "running", ask=False)
            return
        self.start_run(self.current_config(), autoplay=self.w.controller.state == "running")

    def choose_preset(self, name: str, ask: bool = True) -> None:
        if name == self.preset_name and not self.overrides:
            return
        if ask and not self.w.ask(f"Start the preset “{name}”?",
                                  f"{self.presets[name].summary}\n\nThe current run's networks will be discarded."):
            self.w.select_preset_widget(self.preset_name)
            return
        self.preset_name, self.overrides = name, {}
        self.w.select_preset_widget(name)
        self.save()
        self.start_run(self.current_config(), autoplay=True)

    def cycle(self, delta: int) -> None:
        names = list(self.presets)
        i = (names.index(self.preset_name) + delta) % len(names) if self.preset_name in names else 0
        old, self.confirm_reset = self.confirm_reset, False  # a lecturer's clicker does not answer dialogs
        try:
            self.choose_preset(names[i])
        finally:
            self.confirm_reset = old

    def change_run(self, change: dict) -> None:
        """Data, model, seed or device changed: these need new networks, so ask, then start a new run."""
        w = self.w
        key, value = next(iter(change.items()))
        if key == "model" and isinstance(value, str) and value.startswith("plugin:"):  # an installed plug-in
            self.start_plugin(value[len("plugin:"):])
            return
        new = dict(self.overrides)
        new[key] = value
        if key in ("dataset", "model") and new.get("plugin") is not None:  # leaving the plug-in for built-ins
            for k in STRUCTURAL_KEYS:
                if k != key:
                    new.pop(k, None)
        if key == "dataset":
            cur = self.current_config()
            new["dataset_args"] = {}
            if DATASET_KINDS.get(value) != DATASET_KINDS.get(cur.dataset):
                new.update(defaults_for_dataset(value))
            if value == "drawn":  # the drawing mode's points (none yet: draw them first)
                args = w.drawing.dataset_args()
                if args is None:
                    w.controls.load_config(self.current_config().to_dict())
                    w.drawing.enter()
                    return
                new["dataset_args"] = args
            if value in ("points", "image-folder"):
                path = w.pick_path(value)
                if not path:
                    w.controls.load_config(self.current_config().to_dict())
                    return
                new["dataset_args"] = {"path": path}
        try:
            cfg = self.presets[self.preset_name].config.replace(
                **{k: v for k, v in new.items() if k in TrainConfig().to_dict()})
        except ConfigError as exc:
            w.controls.show_error(str(exc))
            w.controls.load_config(self.current_config().to_dict())
            return
        if not w.ask("Start a new run?", f"Changing the {key} to {value!r} needs new networks; "
                                         "the current run's progress will be discarded."):
            w.controls.load_config(self.current_config().to_dict())
            return
        self.overrides = new
        self.save()
        self.start_run(cfg, autoplay=w.controller.state == "running")

    def start_plugin(self, name: str) -> None:
        """The user picked an installed plug-in: learn its settings in a separate process (this one never runs
        its code), then train it; picking it is the consent to run it in the training process."""
        from ..core.train.plugin_spec import parse_ref, plugin_settings, probe

        w = self.w
        if not w.ask("Start a new run?", f"The plug-in “{name}” brings its own networks and data (its code runs in "
                                         "the training process); the current run's progress will be discarded."):
            w.controls.load_config(self.current_config().to_dict())
            return
        w.status.showMessage(f"loading the plug-in {name}…")
        QtWidgets.QApplication.processEvents()
        try:
            ref = parse_ref(name)
            over = plugin_settings(probe(ref, {}, seed=self.current_config().seed))
        except PluginError as exc:
            w.fail(str(exc))
            w.controls.load_config(self.current_config().to_dict())
            return
        allow(ref)
        self.overrides = over
        self.start_run(self.current_config(), autoplay=w.controller.state == "running")

    def change_live(self, change: dict) -> None:
        h = self.w.controller.handle
        if h is None:
            return
        steer = self.w.replay_bar.steer
        if self.w.controller.is_replay:  # a followed live folder: sent to the run; its answer shows what is in force
            if steer.live:
                why = steer.send_changes(change)
                if why:
                    self.w.controls.refuse(why)
                else:  # shown as in flight until the folder's snapshots have it, or the run refuses it
                    self.w.controls.sent(change)
            return
        try:
            h.set(**change)
        except ConfigError as exc:  # the one validation of a live change: the controls show what is in force
            self.w.controls.refuse(str(exc))
            return
        self.w.controls.sent(change)

    def take_in_force(self) -> None:
        """The run's latest settings in force, even if no display tick has shown them yet (the window closes)."""
        c = self.w.controller
        snap = c.handle.latest() if c.handle is not None and not c.is_replay else None
        if snap is not None:
            self.accepted(self.w.controls.show_in_force(snap.config))

    def accepted(self, changes: dict) -> None:
        """Live changes the run has put in force: kept for the next start (a refused change never is)."""
        self.overrides.update(changes)
        self.save()

    # ------------------------------------------------------------------------------------- files
    def open_checkpoint(self, path: str) -> bool:
        p = Path(path)
        if not p.is_file():
            self.w.fail(f"Cannot open the checkpoint: no such file {p}")
            return False
        # the training process reads it (this process never imports torch); a bad file ends in a clear error.
        # One that names a plug-in: its path and SHA-256 (read by a short-lived process) in a dialog first
        self.w.status.showMessage(f"reading {p.name}…")
        QtWidgets.QApplication.processEvents()
        try:
            rec = checkpoint_plugin(p)
        except PluginError:
            rec = None  # unreadable: the training process says why
        if rec is not None and not is_allowed(rec) and not ask_plugin_consent(self.w, rec):
            self.w.fail(f"Not opened: {p} uses the plug-in {rec['source']}, whose code runs only when you say yes "
                        f"(or start the studio with --plugin {ref_of(rec).flag}).")
            return False
        self.start_run(self.current_config(), autoplay=False, checkpoint_path=str(p), label=p.stem,
                       plugin_consent=rec)
        self.w.status.showMessage(f"resuming {p.name}", 6000)
        return True

    def open_recording(self, path: str, follow: bool = False) -> bool:
        """Show a recorded run with a step slider instead of training. False (and a message) if it cannot."""
        from ..core.record.replay import ReplayRun

        try:
            replay = ReplayRun(path, follow=follow)
        except RunFolderError as exc:
            self.w.banner.show_message(f"Cannot open the recorded run: {exc}", "error")
            return False
        self.w.banner.hide()
        self.record_dir = replay.folder.path
        self.w.before_run(None, replay=True)
        self.w.controller.set_handle(replay)
        self.w.replay_bar.set_run(f"Replay: {replay.folder.path.name}", len(replay), replay.position, follow)
        self.w.replay_bar.steer.set_folder(replay.folder.path, follow)  # shown while followed: steer a live run
        data = replay.folder.meta.get("data", {})
        self.w.preset_summary.setText(f"a recorded run: {data.get('description') or data.get('name', '')} · "
                                      f"{len(replay)} snapshots up to iteration {replay.folder.iterations[-1]:,}")
        self.opened_at = time.perf_counter()
        return True

    # ------------------------------------------------------------------------------------- controls
    def toggle_play(self) -> None:
        w, c = self.w, self.w.controller
        if c.handle is None:
            return
        if c.is_replay and w.replay_bar.steer.live:  # a followed live run: pause or resume it
            w.replay_bar.steer.toggle_run()
        elif c.is_replay:
            w.replay_bar.toggle_play()
            w.display.on_state("replay", c.snapshot.message if c.snapshot else "")
        elif c.state == "running":
            c.handle.pause()
        elif c.state in ("paused", "diverged"):
            w.banner.hide()
            c.handle.play()

    def step(self, kind: str = "full") -> None:
        c = self.w.controller
        if c.is_replay:
            self.w.replay_bar.step(1)
        elif c.can_train:
            c.handle.step(kind)

    def save_checkpoint(self) -> None:
        w = self.w
        if not w.controller.can_train:
            return
        start = str(Path(w.settings.get("paths/checkpoints", str(Path.home()))) / f"{w.stem()}.pt")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(w, "Save checkpoint", start, "Checkpoints (*.pt)")
        if path:
            w.settings.set("paths/checkpoints", str(Path(path).parent))
            w.controller.handle.save(path)

    def close_replay(self) -> None:
        self.w.replay_bar.hide()
        self.w.select_preset_widget(self.preset_name)
        self.start_run(self.current_config(), autoplay=False)

    def speed_changed(self, v) -> None:
        w = self.w
        if w.controller.handle is not None:
            w.controller.handle.set_speed(v)
        if w.persist:
            w.settings.set("run/speed", -1.0 if v is None else float(v))

    def views_options(self) -> dict:
        """Smooth (a new picture every display tick; views may take 20% of the training time) or fast
        (training first) drawing — View → Smooth animation, remembered; GAN_STUDIO_VIEWS overrides."""
        if os.environ.get("GAN_STUDIO_VIEWS", "").strip().lower() in ("smooth", "fast"):
            return {}
        return {"views": "smooth" if self.w.settings.get("view/smooth", True) else "fast"}

    def set_smooth(self) -> None:
        w = self.w
        on = w.acts["smooth"].isChecked()
        w.settings.set("view/smooth", on)
        h = w.controller.handle
        if h is not None and hasattr(h, "set_views_mode"):
            h.set_views_mode("smooth" if on else "fast")
