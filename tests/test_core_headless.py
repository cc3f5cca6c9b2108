"""The core must run without Qt: no module under gan_studio/core imports it, directly or indirectly."""
import ast
import subprocess
import sys
from pathlib import Path

import gan_studio.core

QT = ("PySide6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph", "superqt", "qtpy")


def test_no_qt_import_in_core_sources():
    core = Path(gan_studio.core.__file__).parent
    offenders = []
    for f in core.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{f.name}: {n}" for n in names if n.split(".")[0] in QT]
    assert not offenders, offenders


def test_importing_and_training_with_the_core_loads_no_qt():
    code = ("import sys, gan_studio.core as c, gan_studio.core.train.checkpoint, gan_studio.core.export.gif, "
            "gan_studio.core.evaluate.metrics, gan_studio.core.train.presets\n"
            "t = c.Trainer(c.TrainConfig(device='cpu', batch_size=8)); t.run(2)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_config_names_match_the_registries():
    from gan_studio.core.train import config, losses, optim

    assert set(config.LOSS_NAMES) == set(losses.LOSSES)
    assert set(config.OPTIMIZER_NAMES) == set(optim.OPTIMIZERS)
    from gan_studio.core.train import datasets, models

    assert config.DATASET_KINDS == {k: v.kind for k, v in datasets.DATASETS.items()}
    assert set(config.MODEL_NAMES) == set(models.MODELS)


def test_configs_and_presets_load_without_torch():
    """The studio validates settings and lists presets before torch is imported (fast startup)."""
    code = ("import sys, gan_studio.core as c\nfrom gan_studio.core.train import presets\n"
            "presets.get_preset('ring8'); c.TrainConfig(k=3)\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
