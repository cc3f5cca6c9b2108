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
    code = ("import sys, gan_studio.core as c, gan_studio.core.checkpoint, gan_studio.core.gif, "
            "gan_studio.core.metrics, gan_studio.core.presets\n"
            "t = c.Trainer(c.TrainConfig(device='cpu', batch_size=8)); t.run(2)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
