"""Colab, the CI-sized part (the full run is `make colab-check`, tests/colab/check_colab.py).

* the notebooks' install cell, executed as is with a fake ``google.colab`` and a stubbed pip: which
  command it runs for each framework and preinstalled TensorFlow, what it shows when pip fails or
  complains about Colab's other packages;
* Google Drive as the hand-off between notebooks 04 and 05 (separate Colab runtimes);
* the install cell's commands resolve on Python 3.13 as well (``uv pip compile``, PyPI only, ~30 s;
  skipped when PyPI cannot be reached);
* the recorded Colab package list that `make colab-check` builds its venv from.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import inspect
import sys
import types
from pathlib import Path

import pytest

from seghelpers import params

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("segkit_check_colab", ROOT / "tests" / "colab" / "check_colab.py")
check_colab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_colab)

CONFIG = json.loads((ROOT / "notebooks" / "config.json").read_text(encoding="utf-8"))
KIT_URL = f"git+https://github.com/{CONFIG['repo']}@{CONFIG['branch']}"
NOTEBOOK = {"tf": "04_train_tensorflow", "pt": "04_train_pytorch", None: "01_data"}


def cell_source(framework, lang="en") -> str:
    nb = json.loads((ROOT / "notebooks" / lang / f"{NOTEBOOK[framework]}.ipynb").read_text(encoding="utf-8"))
    return check_colab.install_cell(nb)


@pytest.fixture
def colab(monkeypatch, tmp_path):
    """A Colab runtime as far as the kit can tell: ``google.colab`` imported, Drive not mounted."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv("SEGKIT_DRIVE", str(tmp_path / "MyDrive"))
    return tmp_path / "MyDrive"


def run_cell(monkeypatch, framework, *, colab=True, tensorflow="2.20.0", returncode=0, stdout="", stderr=""):
    """Execute the generated install cell; returns the pip commands it ran (pip itself is stubbed)."""
    import seghelpers.quiet

    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        assert kw.get("capture_output") and kw.get("text"), "pip's output must be captured (Colab drops a child's fds)"
        return subprocess.CompletedProcess(cmd, returncode, stdout, stderr)

    def fake_version(name):
        if name == "tensorflow" and tensorflow:
            return tensorflow
        raise importlib.metadata.PackageNotFoundError(name)

    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(importlib.metadata, "version", fake_version)
    monkeypatch.setattr(seghelpers.quiet, "apply", lambda: None)
    monkeypatch.delenv("USE_TF", raising=False)
    exec(compile(cell_source(framework), "<install cell>", "exec"), {"__name__": "__main__"})
    return calls


# ----------------------------------------------------------------------------- the install cell
def test_off_colab_the_cell_installs_nothing(monkeypatch):
    assert run_cell(monkeypatch, "tf", colab=False) == []
    assert run_cell(monkeypatch, "pt", colab=False) == []


@pytest.mark.parametrize("tensorflow, tf_keras", [("2.20.0", "tf-keras~=2.20.0"), ("2.19.1", "tf-keras~=2.19.0"),
                                                  ("2.21.0rc1", "tf-keras~=2.21.0")])
def test_tf_notebook_keeps_colabs_tensorflow_and_adds_its_tf_keras(monkeypatch, capsys, tensorflow, tf_keras):
    [cmd] = run_cell(monkeypatch, "tf", tensorflow=tensorflow)
    assert cmd == [sys.executable, "-m", "pip", "install", tf_keras, f"seghelpers[colab] @ {KIT_URL}"]
    assert not any(c.startswith("tensorflow") for c in cmd), "never reinstall Colab's TensorFlow"
    assert capsys.readouterr().out == f"installed: {tf_keras} seghelpers[colab]\n"


def test_tf_notebook_without_tensorflow_installs_the_kits_pinned_pair(monkeypatch):
    [cmd] = run_cell(monkeypatch, "tf", tensorflow=None)
    tf = check_colab.kit_pins("tf")
    assert cmd[4:6] == [f"tensorflow=={tf['tensorflow']}", f"tf-keras=={tf['tf-keras']}"]
    assert cmd[6:] == [f"seghelpers[colab] @ {KIT_URL}"]


@pytest.mark.parametrize("framework", ["pt", None])
def test_pytorch_and_framework_free_notebooks_install_only_the_kit(monkeypatch, framework):
    import os

    [cmd] = run_cell(monkeypatch, framework)
    assert cmd[3:] == ["install", f"seghelpers[colab] @ {KIT_URL}"]
    assert os.environ["USE_TF"] == "0"


def test_failed_install_shows_pips_output_and_stops(monkeypatch, capsys):
    with pytest.raises(RuntimeError, match="pip install failed"):
        run_cell(monkeypatch, "pt", returncode=1, stdout="Collecting seghelpers[colab]\n",
                 stderr="ERROR: Could not find a version that satisfies the requirement tf-keras~=2.99.0\n")
    out = capsys.readouterr().out
    assert "Collecting seghelpers[colab]" in out and "Could not find a version" in out


RESOLVER = ("ERROR: pip's dependency resolver does not currently take into account all the packages that are "
            "installed. This behaviour is the source of the following dependency conflicts.\n"
            "sentence-transformers 5.1.0 requires transformers>=5.0, but you have transformers 4.57.6 which is "
            "incompatible.\n")


def test_resolver_block_is_shown_with_a_one_line_note(monkeypatch, capsys):
    run_cell(monkeypatch, "tf", stdout="Successfully installed ...\n", stderr=RESOLVER)
    out = capsys.readouterr().out
    assert RESOLVER in out and "Successfully installed" not in out  # warnings shown, the rest only on failure
    note = [line for line in out.splitlines() if "expected" in line.lower()]
    assert len(note) == 1 and "dependency resolver" in note[0] and "预料之中" in note[0]
    run_cell(monkeypatch, "tf", stderr="  Running command git clone --filter=blob:none --quiet https://github.com/x/y\n")
    assert capsys.readouterr().out == "installed: tf-keras~=2.20.0 seghelpers[colab]\n"  # a clean install is one line


def test_install_cell_is_the_same_in_every_notebook():
    """One snippet: every notebook of a framework (both languages) carries the same cell, {{FW}} aside."""
    for lang in ("en", "zh"):
        for nb in sorted((ROOT / "notebooks" / lang).glob("0*.ipynb")):
            fw = "tf" if nb.stem.endswith("_tensorflow") else "pt" if nb.stem.endswith("_pytorch") else None
            assert check_colab.install_cell(json.loads(nb.read_text(encoding="utf-8"))) == cell_source(fw), nb


# ----------------------------------------------------------------------------- 04 -> 05 through Google Drive
def test_output_dir_defaults_to_drive_on_colab_when_mounted(colab):
    assert params.resolve("smoke", framework="pt").output_dir == str(ROOT / "build/models/segformer-smoke-pt")  # not mounted
    colab.mkdir()
    p = params.resolve("smoke", framework="tf")
    assert p.output_dir == str(colab / "segformer-kit" / "models" / "segformer-smoke-tf")
    assert p.checkpoints_dir == p.output_dir + "-checkpoints"  # resumable after a disconnect too
    assert p.summary().endswith("models on Google Drive")
    assert params.resolve("smoke", framework="tf", output_dir="/x/mine").output_dir == "/x/mine"  # an explicit value wins


def test_drive_is_ignored_off_colab(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("SEGKIT_DRIVE", str(tmp_path))
    p = params.resolve("guide", framework="pt")
    assert p.output_dir == str(ROOT / "build/models/segformer-guide-pt") and "Drive" not in p.summary()
    assert params.missing_model_hint("tf").startswith("run 04_train_tensorflow.ipynb (notebook 04")


def test_missing_model_hint_names_drive_on_colab(colab):
    hint = params.missing_model_hint()  # Drive not mounted: the way out
    assert "own runtime" in hint and 'drive.mount("/content/drive")' in hint and "MyDrive/segformer-kit/models/" in hint
    colab.mkdir()
    hint = params.missing_model_hint()  # mounted, but 04 has not saved there (yet)
    assert "Google Drive mounted" in hint and "MyDrive/segformer-kit/models/" in hint


def test_colab_save_note_for_notebook_04(colab, monkeypatch):
    assert "cannot see" in params.colab_save_note("build/models/segformer-smoke-pt")  # Drive not mounted
    colab.mkdir()
    assert params.colab_save_note(params.resolve("smoke", framework="pt").output_dir) == ""
    assert "Mount Google Drive" in params.colab_save_note("/content/elsewhere")
    monkeypatch.delitem(sys.modules, "google.colab")
    assert params.colab_save_note("build/models/x") == ""


def test_notebook_05_fallback_message_uses_the_hint():
    src = (ROOT / "notebooks" / "src" / "05_inference.py").read_text(encoding="utf-8")
    assert "sh.trained_model_folder(P, FRAMEWORK, meta=meta)" in src  # -> params.missing_model_message
    assert "missing_model_message(P.output_dir, framework, " in inspect.getsource(params.trained_model_folder)
    for lang, mount in (("en", "Mount Google Drive"), ("zh", "挂载 Google Drive")):
        for fw in ("pytorch", "tensorflow"):
            text = (ROOT / "notebooks" / lang / f"05_inference_{fw}.ipynb").read_text(encoding="utf-8")
            assert mount in text and "MyDrive/segformer-kit/models/" in text, f"{lang}/05_inference_{fw}"


# ----------------------------------------------------------------------------- the recorded Colab runtime
def test_colab_package_list():
    info = check_colab.read_packages()
    assert info["python"] == "3.12" and re.fullmatch(r"\d{4}-\d\d-\d\d", info["exclude_newer"])
    keep = info["keep"]
    assert {"tensorflow", "tf-keras", "torch", "torchvision"} <= set(keep)
    assert keep["tensorflow"].split(".")[:2] == keep["tf-keras"].split(".")[:2], "Colab's tf-keras matches its TF"
    assert keep["tensorflow"] != check_colab.kit_pins("tf")["tensorflow"], "the point: a TF other than the kit's pin"
    assert all("==" in r for r in info["requirements"] if r.split("==")[0] in keep)
    assert any(r.startswith("transformers==5.") for r in info["requirements"])


def test_make_colab_check_is_wired_and_documented():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^colab-check:.*##", makefile, re.M) and "tests/colab/check_colab.py" in makefile
    for readme in ("README.md", "README.zh-CN.md"):
        text = (ROOT / readme).read_text(encoding="utf-8")
        assert "make colab-check" in text and "notebooks/config.json" in text, readme


# ----------------------------------------------------------------------------- Python 3.13 (resolution only)
def _uv():
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists() and not shutil.which(uv):
        pytest.skip("uv not installed")
    return uv


@pytest.mark.parametrize("tensorflow", ["keep", None], ids=["colab-tf", "no-tf"])
def test_install_cell_resolves_on_python_313(monkeypatch, tmp_path, tensorflow):
    """The TF install cell's exact requirements (kit from this checkout), with Colab's kept packages
    (or without TensorFlow), resolve on Python 3.13 from wheels only: Colab moving to 3.13 is not a cliff."""
    keep = check_colab.read_packages()["keep"]
    [cmd] = run_cell(monkeypatch, "tf", tensorflow=keep["tensorflow"] if tensorflow else None)
    monkeypatch.undo()  # real subprocess.run again
    reqs = [r.replace(KIT_URL, ROOT.as_uri()) for r in cmd[4:]]
    preinstalled = [f"{n}=={v}" for n, v in keep.items() if tensorflow or not n.startswith(("tensorflow", "tf-keras"))]
    (tmp_path / "in.txt").write_text("\n".join(reqs + preinstalled) + "\n", encoding="utf-8")
    r = subprocess.run([_uv(), "pip", "compile", "--quiet", "--no-header", "--python-version", "3.13",
                        "--python-platform", "x86_64-manylinux_2_28", "--only-binary", ":all:",
                        str(tmp_path / "in.txt"), "-o", str(tmp_path / "out.txt")],
                       capture_output=True, text=True, timeout=300)
    if r.returncode and re.search(r"(?i)failed to fetch|dns error|connect|network|timed out", r.stderr):
        pytest.skip(f"PyPI unreachable: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", (tmp_path / "out.txt").read_text(), re.M))
    kit = check_colab.kit_pins("colab")
    assert {n: pins.get(n) for n in kit} == kit
    tf = keep["tensorflow"] if tensorflow else check_colab.kit_pins("tf")["tensorflow"]
    assert pins["tensorflow"] == tf and pins["tf-keras"].split(".")[:2] == tf.split(".")[:2]
    assert pins["torch"] == keep["torch"]
