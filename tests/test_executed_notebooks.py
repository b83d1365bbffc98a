"""Executed notebooks show a learner no stderr output and no library log lines.

Reads every executed notebook in ``build/executed/{en,zh}/*.ipynb`` (``make test`` runs this file
again right after ``notebooks/run_all.py`` has written them; another folder:
``SEGKIT_EXECUTED=build/h-me pytest tests/test_executed_notebooks.py``). A notebook fails on

* any ``stderr`` stream output (absl/cudart banners, deprecation notices, load reports, datasets
  hashing notes, "Device set to use cpu", ...): ``seghelpers.quiet.apply()`` in the setup cell hides
  the known ones; a warning a learner must see is fine in a *demo*, but then the cell catches it and
  prints it (``warnings.catch_warnings(record=True)``), so it reads as part of the lesson;
* TensorFlow / AutoGraph log lines printed to stdout (``INFO:tensorflow:...``, ``WARNING:tensorflow:...``).

Skips when the folder does not exist, and (unless ``SEGKIT_EXECUTED`` names the folder) skips an
executed notebook older than its generated source in ``notebooks/{lang}/`` (a stale run; ``make
test`` executes them all first).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / os.environ.get("SEGKIT_EXECUTED", "build/executed")
LANGS = ("en", "zh")

#: library log lines that reach stdout (TF's logger prints to stdout in Jupyter)
STDOUT_LOG_LINE = re.compile(r"^(INFO|WARNING|ERROR):(tensorflow|absl):|^WARNING: AutoGraph ", re.M)


def _text(x) -> str:
    return "".join(x) if isinstance(x, list) else (x or "")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:160]
    return ""


def noise_problems(nb: dict) -> list[str]:
    """One line per offending output: ``cell N (`first source line`): stderr: first output line``."""
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        where = f"cell {i} (`{_first_line(_text(cell.get('source')))}`)"
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            text = _text(out.get("text"))
            if out.get("name") == "stderr" and text.strip():
                problems.append(f"{where}: stderr: {_first_line(text)}")
            elif out.get("name") == "stdout":
                m = STDOUT_LOG_LINE.search(text)
                if m:
                    line = text[m.start():].splitlines()[0]
                    problems.append(f"{where}: library log on stdout: {line[:160]}")
    return problems


def _executed() -> list[Path]:
    return sorted(p for lang in LANGS for p in (EXECUTED / lang).glob("[0-9][0-9]_*.ipynb"))


EXECUTED_NOTEBOOKS = _executed()


def _skip_if_stale(path: Path) -> None:
    """Skip an executed notebook older than its generated source (unless SEGKIT_EXECUTED names the folder)."""
    source = ROOT / "notebooks" / path.parent.name / path.name
    if "SEGKIT_EXECUTED" not in os.environ and source.exists() and path.stat().st_mtime < source.stat().st_mtime:
        pytest.skip(f"{path} is older than {source} (stale run)")


@pytest.mark.parametrize(
    "path",
    EXECUTED_NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(reason=f"no executed notebooks in {EXECUTED}"))],
    ids=[f"{p.parent.name}/{p.stem}" for p in EXECUTED_NOTEBOOKS] or None,
)
def test_executed_notebook_is_quiet(path):
    _skip_if_stale(path)
    with open(path, encoding="utf-8") as f:
        problems = noise_problems(json.load(f))
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    assert not problems, (
        f"{rel} shows a learner {len(problems)} noisy output(s); hide known library noise in "
        "seghelpers/quiet.py, or catch and print a warning the lesson needs:\n  " + "\n  ".join(problems)
    )


FRAMEWORK_LINE = "deep-learning frameworks imported:"
FRAMEWORK_FREE = [p for p in EXECUTED_NOTEBOOKS if not p.stem.endswith(("_pytorch", "_tensorflow"))]


@pytest.mark.parametrize(
    "path",
    FRAMEWORK_FREE or [pytest.param(None, marks=pytest.mark.skip(reason=f"no executed notebooks in {EXECUTED}"))],
    ids=[f"{p.parent.name}/{p.stem}" for p in FRAMEWORK_FREE] or None,
)
def test_framework_free_notebook_imports_no_framework(path):
    """A notebook without a framework suffix (01_data) must not pay for importing PyTorch or TensorFlow.

    Its last code cell prints which of them the kernel imported; this reads that line.
    """
    _skip_if_stale(path)
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    lines = [ln for cell in nb["cells"] if cell.get("cell_type") == "code" for out in cell.get("outputs", [])
             if out.get("name") == "stdout" for ln in _text(out.get("text")).splitlines() if FRAMEWORK_LINE in ln]
    assert lines, f"{path.name}: no '{FRAMEWORK_LINE}' line (the check cell at the end is missing)"
    assert lines[-1].split(FRAMEWORK_LINE, 1)[1].strip() == "none", f"{path.name}: {lines[-1]}"


INFERENCE = [p for p in EXECUTED_NOTEBOOKS if p.stem.startswith("05_")]

#: what notebook 05 prints (sh.trained_model_folder, in the notebook's language) before it loads a trained model
LOADING = r"loading the model from |从 .+ 加载模型$"


@pytest.mark.parametrize(
    "path",
    INFERENCE or [pytest.param(None, marks=pytest.mark.skip(reason=f"no executed notebooks in {EXECUTED}"))],
    ids=[f"{p.parent.name}/{p.stem}" for p in INFERENCE] or None,
)
def test_inference_notebook_loaded_the_shared_model(path):
    """make run / make test: 05 in either language loads the model 04 saved in the checkout's build/models (the
    folder a JupyterLab kernel in notebooks/<lang>/ finds too), never the untrained stand-in."""
    _skip_if_stale(path)
    if "SEGKIT_EXECUTED" in os.environ:
        pytest.skip("a chosen folder may come from a run with its own output_dir")
    fw = "tf" if path.stem.endswith("_tensorflow") else "pt"
    nb = json.loads(path.read_text(encoding="utf-8"))
    profile = nb["metadata"].get("papermill", {}).get("parameters", {}).get("profile", "smoke")
    lines = [ln for cell in nb["cells"] if cell.get("cell_type") == "code" for out in cell.get("outputs", [])
             if out.get("name") == "stdout" for ln in _text(out.get("text")).splitlines()
             if re.match(LOADING, ln)]
    model = ROOT / "build" / "models" / f"segformer-{profile}-{fw}"
    said = f"从 {model} 加载模型" if path.parent.name == "zh" else f"loading the model from {model}"
    assert lines == [said], path.name


# ---------------------------------------------------------------------------- the check itself
def _nb(*cells) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source, *outputs):
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": list(outputs), "execution_count": 1}


def _stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


def test_check_accepts_a_quiet_notebook():
    nb = _nb(
        {"cell_type": "markdown", "source": "# Title", "metadata": {}},
        _code("print('hi')", _stream("stdout", ["hi\n", "WARNING is a word a lesson may print\n"])),
        _code("x = 1"),
        _code("df", {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": 1}),
    )
    assert noise_problems(nb) == []


def test_check_catches_stderr_and_library_logs(tmp_path):
    banner = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
              "I0000 00:00:1796072667.951411    7051 cudart_stub.cc:31] Could not find cuda drivers\n")
    nb = _nb(
        _code("import seghelpers.tf as shtf\nimport tensorflow as tf", _stream("stderr", banner)),
        _code(["strategy = tf.distribute.MirroredStrategy()\n", "print(1)"],
              _stream("stdout", ["1\n", "INFO:tensorflow:Using MirroredStrategy with devices ('CPU:0',)\n"])),
        _code("pipe = pipeline(...)", _stream("stderr", "\nDevice set to use cpu\n")),
    )
    problems = noise_problems(nb)
    assert len(problems) == 3, problems
    assert problems[0] == ("cell 0 (`import seghelpers.tf as shtf`): stderr: WARNING: All log messages before "
                           "absl::InitializeLog() is called are written to STDERR")
    assert problems[1].startswith("cell 1 (`strategy = tf.distribute.MirroredStrategy()`): library log on stdout: "
                                  "INFO:tensorflow:Using MirroredStrategy")
    assert problems[2].endswith("stderr: Device set to use cpu")

    # the parametrized test fails on such a file, naming the notebook
    (tmp_path / "en").mkdir()
    bad = tmp_path / "en" / "04_train_tensorflow.ipynb"
    bad.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"04_train_tensorflow\.ipynb shows a learner 3 noisy output"):
        test_executed_notebook_is_quiet(bad)


# ---------------------------------------------------------------------------- seghelpers.quiet
def test_quiet_hides_listed_messages_only(caplog):
    import logging

    from seghelpers import quiet

    quiet.apply()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("transformers.pipelines.base").warning("Device set to use cpu")
            logging.getLogger("transformers.pipelines.base").warning("Hardware accelerator e.g. GPU is available")
            logging.getLogger("transformers.modeling_tf_pytorch_utils").warning(
                "Some weights of the PyTorch model were not used when initializing the TF 2.0 model X: "
                "['decode_head.batch_norm.num_batches_tracked']\n- This IS expected ...")
            logging.getLogger("transformers.modeling_tf_pytorch_utils").warning(
                "Some weights of the PyTorch model were not used when initializing the TF 2.0 model X: "
                "['decode_head.classifier.weight']")
            logging.getLogger("datasets.fingerprint").warning(
                "Parameter 'transform'=<function f at 0x1> of the transform datasets.arrow_dataset.Dataset."
                "set_format couldn't be hashed properly, a random hash was used instead.")
            logging.getLogger("tensorflow").info("Using MirroredStrategy with devices ('CPU:0',)")
            logging.getLogger("tensorflow").warning("5 out of the last 9 calls triggered tf.function retracing")
            logging.getLogger("tensorflow").error("a real TensorFlow error")
        shown = [r.getMessage() for r in caplog.records]
        assert shown == ["Hardware accelerator e.g. GPU is available",
                         "Some weights of the PyTorch model were not used when initializing the TF 2.0 model X: "
                         "['decode_head.classifier.weight']",
                         "a real TensorFlow error"], shown
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"]
    finally:
        quiet.undo()
    with caplog.at_level(logging.INFO):
        logging.getLogger("transformers.pipelines.base").warning("Device set to use cpu")
    assert caplog.records[-1].getMessage() == "Device set to use cpu", "undo() restores the defaults"


def test_native_stderr_filter_drops_banners_and_keeps_the_rest(capfd):
    from seghelpers import quiet

    lines = ["WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
             "I0000 00:00:1796072667.951411    7051 cudart_stub.cc:31] Could not find cuda drivers on your machine\n",
             "E0000 00:00:1796072828.517205    7051 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n",
             "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
             "appropriate compiler flags.\n",
             "a real message from native code\n"]
    with quiet.native_stderr_filtered():
        for line in lines:
            os.write(2, line.encode())
    err = capfd.readouterr().err
    assert err == "a real message from native code\n", err
    with pytest.raises(RuntimeError):  # when the block fails, nothing is dropped
        with quiet.native_stderr_filtered():
            os.write(2, lines[0].encode())
            raise RuntimeError("import failed")
    assert capfd.readouterr().err == lines[0]


def test_importing_tensorflow_after_apply_prints_nothing():
    """The real thing, in a fresh interpreter without TF_CPP_MIN_LOG_LEVEL (as in plain Jupyter)."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    code = ("import seghelpers.quiet as q; q.apply()\n"
            "import seghelpers.tf\nimport tensorflow as tf\n"
            "tf.config.list_physical_devices(); tf.get_logger().info('INFO noise')\n"
            "assert not any(type(f).__name__ == '_QuietTensorFlowImport' for f in __import__('sys').meta_path)\n"
            "print('ok')")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SEGKIT_QUIET")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stdout + r.stderr
    assert r.stderr == "", r.stderr
