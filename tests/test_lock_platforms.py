"""requirements.lock installs on every platform the stack supports, checked with uv's resolver (dry runs, every
hash required), and `make lock` reproduces it byte for byte. Both need the package index: offline they skip,
saying so. The offline checks below (markers on the Linux-only wheels) always run."""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
#: platform -> (uv's --python-platform, extra environment): macOS 14 is torch 2.14's oldest Mac wheel tag
PLATFORMS = {
    "linux-x86_64": ("x86_64-manylinux_2_28", {}),
    "linux-aarch64": ("aarch64-manylinux_2_28", {}),
    "macos-arm64": ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "14.0"}),
    "windows-x64": ("x86_64-pc-windows-msvc", {}),
}


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")
    return str(uv) if uv.exists() else (shutil.which("uv") or pytest.skip("uv is not installed (make setup brings it)"))


def _index_url() -> str:
    return os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple/"


@pytest.fixture(scope="module")
def index():
    url = _index_url().rstrip("/") + "/pip/"
    try:
        urllib.request.urlopen(url, timeout=10).close()
    except Exception as e:  # noqa: BLE001 - any failure means: offline
        pytest.skip(f"the package index {_index_url()} did not answer ({type(e).__name__}): the lock's install "
                    "dry runs need it (CI reaches it); skipped offline")
    return _uv()


def dry_run(uv: str, platform: str, lock: Path, tmp_path: Path, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MACOSX_DEPLOYMENT_TARGET"}
    env.update(env_extra or {})
    return subprocess.run([uv, "pip", "install", "--dry-run", "--python-platform", platform, "--python-version",
                           "3.11", "--require-hashes", "--target", str(tmp_path / platform), "-r", str(lock)],
                          capture_output=True, text=True, env=env, timeout=300)


def installs(result) -> set[str]:
    return {m.group(1).lower() for m in re.finditer(r"^ \+ ([A-Za-z0-9_.\-]+)==", result.stdout + result.stderr, re.M)}


@pytest.mark.parametrize("name", PLATFORMS)
def test_lock_installs_on_each_supported_platform(index, name, tmp_path):
    platform, env = PLATFORMS[name]
    r = dry_run(index, platform, LOCK, tmp_path, env)
    assert r.returncode == 0, f"{name}: requirements.lock does not install:\n{r.stderr[-3000:]}"
    got = installs(r)
    assert {"torch", "torchvision", "tensorflow", "tf-keras", "transformers", "jupyterlab"} <= got, sorted(got)
    cuda = {p for p in got if p.startswith(("nvidia-", "cuda-", "triton"))}
    assert bool(cuda) == name.startswith("linux"), f"{name}: CUDA packages {sorted(cuda)}"


def test_intel_macs_get_no_wheels(index, tmp_path):
    """What setup_env.py tells an Intel Mac at once is what the resolver finds."""
    r = dry_run(index, "x86_64-apple-darwin", LOCK, tmp_path, {"MACOSX_DEPLOYMENT_TARGET": "14.0"})
    assert r.returncode != 0 and "no wheels with a matching platform tag" in r.stderr


def test_macos_needs_the_macos_14_target(index, tmp_path):
    r = dry_run(index, "aarch64-apple-darwin", LOCK, tmp_path, {"MACOSX_DEPLOYMENT_TARGET": "13.0"})
    assert r.returncode != 0 and "torch" in r.stderr


def test_a_single_platform_lock_fails_elsewhere(index, tmp_path):
    """The check can fail: the same pins without markers (as a Linux-only lock has them) do not install on Windows."""
    stripped = tmp_path / "linux-only.lock"
    stripped.write_text(re.sub(r" ; [^\\\n]*sys_platform == 'linux'[^\\\n]*", "", LOCK.read_text()))
    r = dry_run(index, "x86_64-pc-windows-msvc", stripped, tmp_path)
    assert r.returncode != 0 and "no wheels with a matching platform tag" in r.stderr


def test_make_lock_is_stable(index, tmp_path):
    spec = importlib.util.spec_from_file_location("setup_env", ROOT / "scripts" / "setup_env.py")
    se = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(se)
    out = se.lock(str(tmp_path / "requirements.lock"), uv=index)
    assert Path(out).read_text() == LOCK.read_text(), (
        "`make lock` would change requirements.lock: run `make lock` and commit the result (the venv key changes)")


# ---------------------------------------------------------------------------------------------- offline
def test_linux_only_packages_carry_markers():
    text = LOCK.read_text()
    pins = re.findall(r"^([a-z0-9][a-z0-9_.\-]*)==\S+( ;[^\\\n]*)?", text, re.M)
    assert len(pins) > 150
    for name, marker in pins:
        if name.startswith(("nvidia-", "cuda-", "triton")):
            assert "sys_platform == 'linux'" in marker, f"{name} has no Linux marker: the lock fails on macOS/Windows"
    assert any(n == "pywinpty" for n, _ in pins) and any(n == "appnope" for n, _ in pins)  # Windows and Mac extras


def test_makefile_lock_is_universal():
    text = (ROOT / "scripts" / "setup_env.py").read_text()
    assert "--universal" in text and "--generate-hashes" in text and "--python-platform" not in text
    assert "$(SETUP) lock" in (ROOT / "Makefile").read_text()


def test_download_sizes_were_measured_for_this_lock():
    import hashlib

    text = (ROOT / "benchmarks" / "DOWNLOADS.md").read_text()
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
    assert f"requirements.lock sha256: {digest}" in text, (
        "benchmarks/DOWNLOADS.md was measured for another requirements.lock: run `python scripts/download_sizes.py`, "
        "then `python notebooks/update_readme.py`")
