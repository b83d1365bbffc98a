import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "notebooks" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_token_scan_finds_tokens_and_the_env_secret(tmp_path, monkeypatch):
    mod = _run_all()
    clean = tmp_path / "clean.ipynb"
    clean.write_text('{"outputs": ["eval mean IoU: 0.6"]}')
    leaked = tmp_path / "leak.ipynb"
    leaked.write_text('{"outputs": ["token hf_' + "a" * 34 + '"]}')
    env_leak = tmp_path / "env.log"
    env_leak.write_text("logged in with s3cr3t-value")
    monkeypatch.setenv("HF_TOKEN", "s3cr3t-value")
    assert mod.leaked_secrets([clean, leaked, env_leak]) == [str(leaked), str(env_leak)]


def test_framework_of():
    mod = _run_all()
    assert [mod.framework_of(n) for n in ("01_data", "04_train_pytorch", "05_inference_tensorflow")] == [None, "pt", "tf"]


def test_no_remote_code_flag_anywhere():
    """Security: nothing in the kit lets a hub repository run its own code (the remote-code flag)."""
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert len(files) > 50
    needle = "trust_remote" + "_code"  # spelled in two parts so that this file does not match itself
    found = [f for f in files if f.endswith((".py", ".ipynb", ".md", ".toml", ".yml", ".cfg", ".json"))
             and needle in (ROOT / f).read_text(encoding="utf-8", errors="replace")]
    assert found == [], f"{needle} appears in {found}"


def test_first_output_seconds(tmp_path):
    """Time to the first cell with output, from papermill's notebook start; None without timestamps."""
    import json

    mod = _run_all()

    def cell(end, outputs):
        return {"cell_type": "code", "outputs": outputs, "metadata": {"papermill": {"end_time": end}}}

    nb = {"metadata": {"papermill": {"start_time": "2026-12-01T03:11:39.500000+00:00"}},
          "cells": [{"cell_type": "markdown", "metadata": {}},
                    cell("2026-12-01T03:11:43.000000+00:00", []),
                    cell("2026-12-01T03:11:44.250000+00:00", [{"output_type": "stream", "text": "profile smoke"}]),
                    cell("2026-12-01T03:12:40.000000+00:00", [{"output_type": "stream", "text": "later"}])]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert mod.first_output_seconds(mod.read_notebook(path)) == 4.75
    del nb["metadata"]["papermill"]
    path.write_text(json.dumps(nb))
    assert mod.first_output_seconds(mod.read_notebook(path)) is None
    assert mod.read_notebook(tmp_path / "missing.ipynb") == {}
    assert mod.first_output_seconds({}) is None
