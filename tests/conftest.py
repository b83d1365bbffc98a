"""Test-session setup: offline hub, both frameworks usable in one process, a private cache."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"  # never wait on the hub (a miss otherwise hangs ~90 s)
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# seghelpers.pt sets USE_TF=0 when unset (PT notebooks skip TF's import); tests need both frameworks.
os.environ.setdefault("USE_TF", "AUTO")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # transformers TF models are Keras 2 models
try:  # importing triton after TensorFlow segfaults (TF 2.21 + triton 3.8); load it first
    import triton  # noqa: F401
except ImportError:
    pass

import numpy as np
import pytest


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    """A freshly built synthetic ADE folder (not the user cache)."""
    from seghelpers.synthetic import build_synthetic_ade

    return build_synthetic_ade(tmp_path_factory.mktemp("synth"), n_train=12, n_val=4, seed=3)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    from seghelpers.checkpoints import build_random_segformer

    return str(build_random_segformer(tmp_path_factory.mktemp("ckpt") / "tiny", "tiny", image_size=64, seed=0))


@pytest.fixture
def rng():
    return np.random.default_rng(0)
