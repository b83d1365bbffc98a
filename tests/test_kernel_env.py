"""replicas.kernel_env: the notebook-chain tests' kernel environment is set, then put back exactly."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replicas import ROOT, kernel_env  # noqa: E402


@pytest.fixture
def known_env(monkeypatch):
    """A known starting environment (monkeypatch undoes it after the test whatever kernel_env did)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("USE_TF", "AUTO")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("KEEP_ME", "as is")
    for name in ("HF_HOME", "HF_HUB_CACHE", "SEGHELPERS_CACHE", "KERNEL_ENV_BODY"):
        monkeypatch.delenv(name, raising=False)


def test_sets_the_kernels_variables(known_env, tmp_path):
    with kernel_env(tmp_path / "kit", HF_HOME=tmp_path / "hf", KEEP_ME=None):
        assert os.environ["PYTHONPATH"] == str(ROOT)
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
        assert os.environ["SEGHELPERS_CACHE"] == str(tmp_path / "kit")
        assert os.environ["OMP_NUM_THREADS"] == "1"
        assert os.environ["HF_HOME"] == str(tmp_path / "hf")  # an extra one, as a str
        assert "USE_TF" not in os.environ and "KEEP_ME" not in os.environ  # unset
        assert "HF_HUB_CACHE" not in os.environ  # not asked for


def test_restores_changed_and_removes_added(known_env, tmp_path):
    before = dict(os.environ)  # here, not in the fixture: pytest changes PYTEST_CURRENT_TEST between the two
    with kernel_env(tmp_path / "kit", HF_HOME=tmp_path / "hf", KEEP_ME=None):
        os.environ["KERNEL_ENV_BODY"] = "set by the body"
        os.environ["OMP_NUM_THREADS"] = "8"
    assert dict(os.environ) == before
    assert os.environ["OMP_NUM_THREADS"] == "4" and os.environ["USE_TF"] == "AUTO"
    assert os.environ["HF_HUB_OFFLINE"] == "0" and os.environ["KEEP_ME"] == "as is"
    for name in ("HF_HOME", "SEGHELPERS_CACHE", "KERNEL_ENV_BODY"):
        assert name not in os.environ, name


def test_restores_when_the_body_raises(known_env, tmp_path):
    before = dict(os.environ)
    with pytest.raises(RuntimeError, match="kernel died"):
        with kernel_env(tmp_path / "kit", HF_HUB_CACHE=tmp_path / "hf" / "hub"):
            os.environ["KERNEL_ENV_BODY"] = "set by the body"
            raise RuntimeError("kernel died")
    assert dict(os.environ) == before
