"""The trainer tells its observers what changed: an applied live change (with the settings it set), a restored
state (a checkpoint or a rewind) — so no observer needs to diff the trainer's config to notice."""
from __future__ import annotations

from gan_studio.core.doctor import DoctorObserver
from gan_studio.core.train.config import TrainConfig
from gan_studio.core.train.trainer import Observer, Trainer


class Heard(Observer):
    def __init__(self):
        self.said = []

    def on_settings_changed(self, trainer, changes):
        self.said.append(("changed", dict(changes), trainer.config.lr_d, trainer.iteration))

    def on_state_restored(self, trainer):
        self.said.append(("restored", trainer.iteration))


def test_observers_hear_applied_changes_and_restored_states():
    tr = Trainer(TrainConfig(device="cpu", steps=10, batch_size=16))
    heard = tr.add_observer(Heard())
    tr.step()
    state = tr.state_dict()
    tr.submit(lr_d=1e-4)
    assert heard.said == []  # queued, not yet applied
    tr.step()  # applied at the top of the next iteration, before it trains
    assert heard.said == [("changed", {"lr_d": 1e-4}, 1e-4, 1)]
    tr.load_state_dict(state)
    assert heard.said[-1] == ("restored", 1)


def test_the_doctor_learns_a_live_change_from_the_hook():
    tr = Trainer(TrainConfig(device="cpu", steps=10, batch_size=16, loss="nonsaturating"))
    obs = tr.add_observer(DoctorObserver(probe_every=0))
    tr.step()
    assert obs.doctor.loss == "nonsaturating"
    tr.submit(loss="minimax", k=3)
    tr.step()
    assert obs.doctor.loss == "minimax" and obs.doctor.config["k"] == 3
    tr.submit(loss="lsgan")
    tr.apply_changes()  # e.g. a recipe or the control file applying changes between iterations
    assert obs.doctor.loss == "lsgan"
