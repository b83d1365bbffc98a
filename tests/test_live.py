"""What a learner in a live front-end needs (issue 21), without a browser: one models folder whatever the kernel's
working folder, notebook 05's one missing-model message in the notebook's language, the kit's own messages in
Chinese for the 中文 notebooks, live progress only where someone watches, and `make test`'s private caches.
The browser itself is tests/test_lab.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seghelpers import i18n, params, quiet

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


@pytest.fixture
def zh():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


# ----------------------------------------------------------------------------- one models folder
def _child(code: str, cwd: Path, **env) -> str:
    """Run ``code`` in a fresh interpreter in ``cwd`` (as a kernel started in notebooks/<lang>/ would)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([PY, "-c", code], cwd=cwd, env=full, capture_output=True, text=True, check=True).stdout.strip()


def test_output_dir_is_the_same_from_every_kernel_folder(tmp_path):
    """make run (cwd = root), make lab (cwd = notebooks/en or notebooks/zh) and any other folder: one place."""
    code = "import seghelpers.params as p; print(p.resolve('smoke', framework='pt').output_dir)"
    seen = {_child(code, cwd) for cwd in (ROOT, ROOT / "notebooks" / "en", ROOT / "notebooks" / "zh", tmp_path)}
    assert seen == {str(ROOT / "build" / "models" / "segformer-smoke-pt")}


def test_relative_output_dir_is_taken_from_the_checkout_root(tmp_path):
    code = "import seghelpers.params as p; print(p.resolve('smoke', framework='tf', output_dir='build/models/mine').output_dir)"
    seen = {_child(code, cwd) for cwd in (ROOT / "notebooks" / "zh", tmp_path)}
    assert seen == {str(ROOT / "build" / "models" / "mine")}
    assert params.resolve("smoke", output_dir="~/m").output_dir == str(Path.home() / "m")


def test_outside_a_checkout_models_go_to_segkit_home(tmp_path, monkeypatch):
    """The kit installed with pip (Colab without Drive, a learner's own venv): $SEGKIT_HOME/models."""
    monkeypatch.setattr(params, "checkout_root", lambda: None)
    monkeypatch.setenv("SEGKIT_HOME", str(tmp_path / "kit"))
    assert params.default_output_dir("guide", "tf") == str(tmp_path / "kit" / "models" / "segformer-guide-tf")
    monkeypatch.delenv("SEGKIT_HOME")
    assert params.models_root() == Path.home() / ".cache" / "segkit" / "models"
    monkeypatch.chdir(tmp_path)
    assert params.resolve("smoke", output_dir="rel").output_dir == str(tmp_path / "rel")


def test_checkout_root_is_this_clone():
    assert params.checkout_root() == ROOT


def test_make_run_saves_where_a_lab_kernel_looks():
    """run_all (make run / make test) passes no per-language output_dir: the notebooks' own default decides."""
    src = (ROOT / "notebooks" / "run_all.py").read_text()
    assert '"output_dir"' not in src and "build\" / \"models\"" not in src


# ----------------------------------------------------------------------------- notebook 05's missing model
@pytest.mark.parametrize("fw, nb", [("pt", "04_train_pytorch.ipynb"), ("tf", "04_train_tensorflow.ipynb")])
def test_missing_model_message_names_folder_and_notebook(fw, nb, zh):
    folder = "/somewhere/build/models/segformer-smoke-" + fw
    text = params.missing_model_message(folder, fw, "random:tiny", "SceneParse150")
    assert folder in text and nb in text and "config.json" in text
    assert "没有找到训练好的模型" in text and "No trained model" not in text  # one message, in Chinese only
    i18n.set_language("en")
    text = params.missing_model_message(folder, fw, "random:tiny", "SceneParse150")
    assert folder in text and nb in text and text.startswith("No trained model") and "模型" not in text


def test_notebook_05_finds_its_model_through_one_call():
    """One message (displayed), not a second raw UserWarning with the kernel's temp file name; the line that
    says which folder 05 loads from (the lab test and test_executed_notebooks read it) comes from the kit."""
    for fw in ("pytorch", "tensorflow"):
        for lang in ("en", "zh"):
            nb = json.loads((ROOT / "notebooks" / lang / f"05_inference_{fw}.ipynb").read_text(encoding="utf-8"))
            code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
            assert code.count("sh.trained_model_folder(P, FRAMEWORK, meta=meta)") == 1, (lang, fw)
            assert "warnings.warn(" not in code and "missing_model_message(" not in code


def test_trained_model_folder_loads_04s_model_or_saves_a_stand_in(tmp_path, capsys, recwarn):
    """A folder with config.json is used as it is (and said so, in the session's language); without one, one
    warning naming notebook 04 and an untrained stand-in with the data set's classes and label convention."""
    import seghelpers as sh

    meta = sh.DatasetMeta({0: "background", 1: "leaf"}, reduce_labels=False, name="Leaves")
    p = params.resolve("smoke", framework="pt", output_dir=str(tmp_path / "none"))
    folder, trained = params.trained_model_folder(p, "pt", meta=meta)
    out = capsys.readouterr().out
    assert not trained and "No trained model in" in out and "04_train_pytorch.ipynb" in out and "Leaves" in out
    assert not [w for w in recwarn.list if issubclass(w.category, UserWarning)]
    config = json.loads((Path(folder) / "config.json").read_text())
    assert config["id2label"] == {"0": "background", "1": "leaf"}
    processor = json.loads((Path(folder) / "preprocessor_config.json").read_text())
    assert processor["do_reduce_labels"] is False and processor["size"] == {"height": 64, "width": 64}

    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "config.json").write_text("{}")
    p = params.resolve("smoke", framework="pt", output_dir=str(saved))
    assert params.trained_model_folder(p, "pt", meta=meta) == (str(saved), True)
    assert capsys.readouterr().out == f"loading the model from {saved}\n"
    i18n.set_language("zh")
    try:
        assert params.trained_model_folder(p, "pt", meta=meta) == (str(saved), True)
        assert capsys.readouterr().out == f"从 {saved} 加载模型\n"
    finally:
        i18n.set_language("en")


def test_params_summary_warns_on_colab_without_drive(monkeypatch):
    """Said in every notebook's first output, before 04 trains: a model saved on the runtime's disk is lost."""
    p = params.resolve("smoke", framework="pt")
    monkeypatch.setattr(params, "on_colab", lambda: True)
    monkeypatch.setattr(params, "colab_drive", lambda: None)
    assert "\nColab: " in p.summary() and "notebook 05" in p.summary()
    monkeypatch.setattr(params, "on_colab", lambda: False)
    assert "\n" not in p.summary()


class _Trainer:
    """What report_progress uses of a Trainer (its callback handler, add/remove), on transformers' own handler."""

    def __init__(self, *callbacks):
        from transformers.trainer_callback import CallbackHandler

        self.callback_handler = CallbackHandler(list(callbacks), None, None, None, None)
        self.add_callback = self.callback_handler.add_callback
        self.remove_callback = self.callback_handler.remove_callback

    def kinds(self):
        return sorted(type(cb).__name__ for cb in self.callback_handler.callbacks)


def test_report_progress_keeps_the_bar_only_where_a_person_watches():
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback
    from transformers.utils.notebook import NotebookProgressCallback

    from seghelpers.pt.progress import ProgressPrinter, report_progress

    Trainer = _Trainer
    t = Trainer(TrainerCallback(), NotebookProgressCallback())  # JupyterLab, Colab: the Trainer's table
    report_progress(t, live=True)
    assert t.kinds() == ["CompactNotebookProgress", "TrainerCallback"]  # the table is the one report
    t = Trainer(TrainerCallback(), ProgressCallback())  # a live text bar (VS Code, a terminal)
    report_progress(t, live=True)
    assert t.kinds() == ["ProgressPrinter", "QuietProgress", "TrainerCallback"]
    for bar in (ProgressCallback, NotebookProgressCallback):
        t = Trainer(TrainerCallback(), bar())
        report_progress(t, live=False)
        report_progress(t, live=False)  # twice: still one printer
        assert t.kinds() == ["ProgressPrinter", "TrainerCallback"]
    t = Trainer(PrinterCallback())  # what disable_tqdm=True gives
    report_progress(t)  # pytest: nobody watches
    assert t.kinds() == ["ProgressPrinter"] and isinstance(t.callback_handler.callbacks[0], ProgressPrinter)


def test_the_live_table_shows_numbers_not_per_class_lists():
    """In JupyterLab the Trainer's table got one column per metric: two 150-value lists per evaluation row."""
    from transformers import DefaultFlowCallback, TrainerControl, TrainerState, TrainingArguments
    from transformers.utils.notebook import NotebookProgressCallback

    from seghelpers.pt.progress import report_progress

    t = _Trainer(DefaultFlowCallback(), NotebookProgressCallback())
    report_progress(t, live=True)
    [bar] = [cb for cb in t.callback_handler.callbacks if type(cb).__name__ == "CompactNotebookProgress"]
    seen = {}
    bar.first_column = "Step"  # as on_train_begin sets it
    bar.training_tracker = type("Tracker", (), {"write_line": lambda self, values: seen.update(values),
                                                "remove_child": lambda self: None})()
    state = TrainerState(global_step=5, epoch=0.5, log_history=[{"loss": 4.0, "step": 5}])
    metrics = {"eval_loss": 3.9, "eval_mean_iou": 0.2, "eval_per_category_iou": [0.1] * 150, "epoch": 0.5}
    bar.on_evaluate(TrainingArguments("unused", report_to="none"), state, TrainerControl(), metrics=metrics)
    assert seen["Mean Iou"] == 0.2 and seen["Validation Loss"] == 3.9
    assert not any(isinstance(v, list) for v in seen.values()) and "Per Category Iou" not in seen


# ----------------------------------------------------------------------------- the kit's messages in Chinese
def test_parameter_errors_in_chinese_keep_the_english(zh):
    with pytest.raises(params.ParameterError) as e:
        params.resolve("smoke", image_size=100)
    text = str(e.value)
    assert "必须是 32 的倍数" in text and "可以试试 96" in text
    assert "(English: image_size=100 must be a multiple of 32" in text  # searchable
    with pytest.raises(params.ParameterError, match="没有名为 'tiny' 的预设"):
        params.resolve("tiny")


def test_parameter_errors_in_english_have_no_chinese():
    with pytest.raises(params.ParameterError) as e:
        params.resolve("smoke", learning_rate=3)
    assert "out of range" in str(e.value) and not any("\u4e00" <= ch <= "\u9fff" for ch in str(e.value))


def test_set_language_refuses_unknown():
    with pytest.raises(ValueError, match="set_language"):
        i18n.set_language("fr")
    assert i18n.language() == "en"


def test_zh_notebook_reports_a_bad_parameter_in_chinese(tmp_path):
    """The 中文 notebook's own setup cells, run with a bad parameter, stop with the Chinese message."""
    nb = json.loads((ROOT / "notebooks" / "zh" / "01_data.ipynb").read_text(encoding="utf-8"))
    cells = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
    setup = [c for c in cells if "set_language(" in c]
    assert len(setup) == 1
    script = "profile = 'smoke'\n" + "\n".join(cells[:cells.index(setup[0]) + 1])
    # the parameters cell first, with one value spoiled
    script = script.replace("image_size = None", "image_size = 100", 1)
    proc = subprocess.run([PY, "-c", script], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "ParameterError: image_size=100 必须是 32 的倍数" in proc.stderr


# ----------------------------------------------------------------------------- live progress
class _Kernel:
    def __init__(self, allow_stdin):
        self._allow_stdin = allow_stdin


def test_live_progress_only_where_a_person_watches(monkeypatch):
    import types

    monkeypatch.delenv("SEGKIT_PROGRESS", raising=False)
    assert quiet.live_progress() is False  # pytest: no IPython kernel
    shell = types.SimpleNamespace(kernel=_Kernel(True))  # JupyterLab / Colab send allow_stdin=True
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert quiet.live_progress() is True
    shell.kernel._allow_stdin = False  # papermill / nbval (nbclient) send allow_stdin=False
    assert quiet.live_progress() is False
    monkeypatch.setenv("SEGKIT_PROGRESS", "live")
    assert quiet.live_progress() is True
    monkeypatch.setenv("SEGKIT_PROGRESS", "lines")
    shell.kernel._allow_stdin = True
    assert quiet.live_progress() is False


def test_nbclient_and_jupyterlab_differ_in_allow_stdin():
    """The guess rests on this: nbclient (papermill) executes with allow_stdin=False."""
    import inspect

    import nbclient.client

    assert "self.kc.allow_stdin = False" in inspect.getsource(nbclient.client)


# ----------------------------------------------------------------------------- make test's private caches
def _test_env() -> dict:
    out = subprocess.run(["make", "-s", "--no-print-directory", "test-env"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.split())


def test_make_test_caches_live_in_the_clone():
    env = _test_env()
    for name in ("HF_HOME", "SEGHELPERS_CACHE", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_DATA_DIR"):
        assert Path(env[name]).is_relative_to(ROOT / "build"), name
    if os.environ.get("SEGKIT_TEST_HOME"):  # under make test: this very process runs with them
        assert all(os.environ.get(k) == v for k, v in env.items())


_GUIDE_LOAD = """
import contextlib, io, os, sys
os.environ["HF_HUB_OFFLINE"] = os.environ["HF_DATASETS_OFFLINE"] = "1"
import datasets
datasets.disable_progress_bars()
err = io.StringIO()
with contextlib.redirect_stderr(err):
    try:
        ds = datasets.load_dataset("scene_parse_150", split="train[:5]")
        print("LOADED", len(ds))
    except Exception as e:
        print("FAILED", type(e).__name__)
print("STDERR", bool(err.getvalue().strip()))
"""


def test_a_polluted_machine_cache_does_not_reach_make_test(tmp_path):
    """Another program loaded a folder named ``scene_parse_150``: datasets caches it under that name in the
    machine's ~/.cache/huggingface, and the guide's offline ``load_dataset("scene_parse_150")`` in notebook 01
    then finds it. With make test's environment the machine's cache is never read."""
    home = tmp_path / "home"
    folder = tmp_path / "elsewhere" / "scene_parse_150"  # not in the working folder: load_dataset would read it
    (folder / "train").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    (folder / "train" / "rows.csv").write_text("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SEGHELPERS", "SEGKIT_TEST"))}
    base |= {"HOME": str(home), "PYTHONPATH": str(ROOT)}
    subprocess.run([PY, "-c", f"import datasets; datasets.load_dataset({str(folder)!r})"], env=base, cwd=work,
                   check=True, capture_output=True)
    machine = subprocess.run([PY, "-c", _GUIDE_LOAD], env=base, cwd=work, capture_output=True, text=True).stdout
    hermetic_env = {**base, **{k: v.replace(str(ROOT / "build" / "test-home"), str(tmp_path / "test-home"))
                               for k, v in _test_env().items()}}
    hermetic = subprocess.run([PY, "-c", _GUIDE_LOAD], env=hermetic_env, cwd=work, capture_output=True,
                              text=True).stdout
    clean = subprocess.run([PY, "-c", _GUIDE_LOAD], env={**base, "HOME": str(tmp_path / "clean-home")},
                           cwd=work, capture_output=True, text=True).stdout
    assert "LOADED" in machine  # the pollution is real: the machine's cache answers the guide's call
    assert hermetic == clean and "FAILED" in hermetic  # make test's environment behaves as a clean machine


def test_kit_status_lines_follow_the_language(zh):
    """What the 中文 notebooks print from the kit (the parameter summary, the data set's description) is Chinese."""
    import seghelpers as sh

    line = params.resolve("guide", seed=3).summary()
    assert line.startswith("预设 guide") and "50 轮 × 批大小 2" in line and "种子 3*" in line and "your value" not in line
    assert sh.ADE20K.describe().endswith("标注值 0 是被忽略的“其他”，标注值 k 对应类别 k-1（reduce_labels=True）")
    i18n.set_language("en")
    assert params.resolve("guide").summary().startswith("profile guide") and "classes;" in sh.ADE20K.describe()
