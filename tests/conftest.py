import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the studio's settings must never touch the real user's: tests point them at a throwaway folder
os.environ["GAN_STUDIO_CONFIG_DIR"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"gan-studio-tests-{os.getpid()}")
# ... and cached evaluation classifiers go to a throwaway folder too
os.environ["GAN_STUDIO_CACHE"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"gan-studio-tests-cache-{os.getpid()}")

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _one_thread_torch():
    """Tests use tiny networks; one intra-op thread is both faster and steadier on a 2-core runner."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def mnist_root():
    if not (SHARED_MNIST / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/data/mnist is not beside this checkout")
    return str(SHARED_MNIST)


def run_cli(*args, check=False, timeout=300, env=None):
    """Run ``gan-studio`` as a user would (a separate process); return the CompletedProcess."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "gan_studio", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f"gan-studio {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
    return p
