"""Every exercise can be checked, and every check can fail (issue 22).

Fast tests read the generated notebooks: each scaffold cell (tag ``exercise``) holds a ``...`` and is followed by a
check cell naming an exercise of ``seghelpers.exercises``; every stage has a code exercise and a reasoning question;
hints, solutions and messages exist in both languages.

The notebook tests execute each English notebook (the Chinese ones have identical code cells, a hygiene test
proves it) with the smoke profile, untouched, then append, for each exercise and for each language
(``set_language("en")`` then ``"zh"``): the exercise's own solution + its check cell, and a typical wrong answer
+ its check cell. They assert: the untouched check cells print the one-line nudge with no stderr and no error;
the solution is judged right; the wrong answer is judged wrong with the expected, concrete message, in the
language of the session.
"""
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
STAGES = ("stage01", "stage02", "stage03", "stage04", "stage05")
CHECK = re.compile(r"^ex\.(\w+)\.check\(", re.M)

# exercise -> a typical wrong answer, and a piece of the message it must get in English and in Chinese
WRONG = {
    "class_frequencies": ('''
def my_images_per_class(dataset, meta):  # counts pixels, not images
    counts = np.zeros(meta.num_labels, dtype=int)
    for row in dataset:
        ids = meta.to_model_ids(row["annotation"]).ravel()
        counts += np.bincount(ids[ids != meta.ignore_index], minlength=meta.num_labels)
    return counts
''', "you counted pixels", "你统计的是像素数"),
    "same_seed": ('seed_answer = "d"', "share only", "只有"),
    "reduce_by_hand": ('''
def my_reduce_labels(mask):  # int64: 0 - 1 is -1
    return np.asarray(mask).astype(np.int64) - 1
''', "0 became -1", "0 变成了 -1"),
    "flip_same_draw": ('flip_answer = "a"', "costs the same", "开销都一样"),
    "random_flip": ('''
from PIL import ImageOps


def my_random_flip(image, annotation, rng):  # two draws: image and annotation flip independently
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    if rng.random() < 0.5:
        annotation = ImageOps.mirror(annotation)
    return image, annotation
''', "draw the random number once", "只抽一次随机数"),
    "guide_tf_augmentation": ('tf_aug_answer = "a"', "never flips", "根本没有翻转"),
    "mean_iou_by_hand": ('''
def my_mean_iou(prediction, reference, num_labels, ignore_index=255):  # divides by all scored pixels
    scored = reference != ignore_index
    ious = np.array([((prediction == c) & (reference == c) & scored).sum() / scored.sum() for c in range(num_labels)])
    return ious.mean(), ious
''', "you divided by all", "你除以的是全部"),
    "per_image_average": ('average_answer = "a"', "average of the halves is", "两半的平均是"),
    "prediction_change": ('new_mean_iou = sh.mean_iou([prediction], [reference], num_labels=3)["mean_iou"]  # before',
                          "before the change", "改动之前"),
    "steps_per_epoch": ('''
def my_steps_per_epoch(num_images, batch_size):  # drops the last, smaller batch
    return num_images // batch_size
''', "round up (math.ceil)", "向上取整"),
    "read_the_curves": ('curves_answer = {"a": "c", "b": "c", "c": "a"}[ex.read_the_curves.right_letter(log)]',
                        "In this run the training loss went", "本次运行中训练损失从"),
    "segment_by_hand_pt": ('''
def my_segment(image):  # size=image.size: (width, height), swapped
    inputs = image_processor(image, return_tensors="pt").to(device)
    with torch.no_grad():
        logits = model(**inputs).logits.cpu()
    logits = nn.functional.interpolate(logits, size=image.size, mode="bilinear", align_corners=False)
    return logits.argmax(dim=1)[0].numpy()
''', "swapped", "弄反"),
    "segment_by_hand_tf": ('''
def my_segment(image):  # image.size: (width, height), swapped
    logits = tf.transpose(model(**image_processor(image, return_tensors="tf")).logits, [0, 2, 3, 1])
    return tf.math.argmax(tf.image.resize(logits, image.size), axis=-1)[0].numpy()
''', "swapped", "弄反"),
    "palette_fix": ('''
def my_colorize(pred, guide_table):  # the guide's off-by-one row
    return guide_table[pred].astype(np.uint8)
''', "row k + 1", "第 k + 1 行"),
    "argmax_after_upsampling": ('upsample_answer = "c"', "cannot be interpolated", "不能做双线性插值"),
}
VARIANTS = ["01_data", "02_preprocess_pytorch", "02_preprocess_tensorflow", "03_metrics_pytorch",
            "03_metrics_tensorflow", "04_train_pytorch", "04_train_tensorflow", "05_inference_pytorch",
            "05_inference_tensorflow"]


def _stage(name: str):
    import importlib

    return importlib.import_module(f"seghelpers.exercises.stage{name[:2]}")


def _cells(name: str, lang: str = "en") -> list:
    return json.loads((NB / lang / f"{name}.ipynb").read_text("utf-8"))["cells"]


def _src(cell) -> str:
    return "".join(cell["source"])


def _exercises(cells) -> list[tuple[int, str]]:
    """(index of the scaffold cell, exercise name) in notebook order."""
    out = []
    for i, c in enumerate(cells):
        if "exercise" in c.get("metadata", {}).get("tags", []):
            m = CHECK.search(_src(cells[i + 1]))
            assert m, f"cell {i + 1} after a scaffold must be its check cell: {_src(cells[i + 1])[:80]!r}"
            out.append((i, m.group(1)))
    return out


# ----------------------------------------------------------------------------- fast: structure and messages
@pytest.mark.parametrize("name", VARIANTS)
def test_every_scaffold_has_a_check_a_hint_and_a_solution(name):
    from seghelpers.exercises import Choice, Exercise

    for lang in ("en", "zh"):
        cells = _cells(name, lang)
        found = _exercises(cells)
        kinds = set()
        for i, ex_name in found:
            assert "..." in _src(cells[i]), f"{name}: the scaffold of {ex_name} has no `...`"
            ex = getattr(_stage(name), ex_name)
            assert isinstance(ex, Exercise) and ex.solution_code.strip() and all(ex._hint)
            assert ex._why_en and ex._why_zh
            assert ex_name in WRONG, f"{ex_name}: no typical wrong answer in this test"
            kinds.add("choice" if isinstance(ex, Choice) else "code")
        assert kinds == {"code", "choice"}, f"{name}: each stage needs a code exercise and a reasoning question"
        assert re.search(r"from seghelpers\.exercises import stage\d\d as ex", "".join(map(_src, cells)))


def test_no_exercise_is_left_unused():
    """Each exercise object of a stage appears in that stage's notebooks (a framework's own one in its variant)."""
    from seghelpers.exercises import Exercise

    used = {n for v in VARIANTS for _, n in _exercises(_cells(v))}
    for stage in STAGES:
        mod = __import__(f"seghelpers.exercises.{stage}", fromlist=["x"])
        names = {k for k, v in vars(mod).items() if isinstance(v, Exercise)}
        assert names and names <= used, sorted(names - used)


def test_messages_follow_the_session_language(capsys):
    import numpy as np

    from seghelpers.exercises import stage03
    from seghelpers.i18n import set_language

    ref = np.array([[0, 0, 1], [2, 2, 255]])
    pred = np.array([[0, 1, 1], [2, 2, 0]])
    try:
        for lang, right, wrong, nudge in (("en", "right", "not yet", "replace the `...`"),
                                          ("zh", "正确", "还不对", "把上面的 `...` 换成")):
            set_language(lang)
            stage03.mean_iou_by_hand.check(lambda p, r, n, i=255: ..., pred, ref)
            assert nudge in capsys.readouterr().out and stage03.mean_iou_by_hand.last == "unanswered"
            stage03.mean_iou_by_hand.check(lambda p, r, n, i=255: 1 / 0, pred, ref)  # a bug: reported, not raised
            out = capsys.readouterr().out
            assert wrong in out and "ZeroDivisionError" in out
            stage03.per_image_average.check("b", pred, ref)
            assert right in capsys.readouterr().out
            stage03.per_image_average.solution()
            out = capsys.readouterr().out
            assert ("混淆矩阵" in out) == (lang == "zh")
            stage03.per_image_average.check("z", pred, ref)
            assert "'a'" in capsys.readouterr().out
    finally:
        set_language("en")


# ----------------------------------------------------------------------------- slow: execute the notebooks
@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("exercises")
    old = dict(os.environ)
    os.environ.update({"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                       "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    os.environ.pop("USE_TF", None)
    yield base
    os.environ.clear()
    os.environ.update(old)


def _outputs(cell) -> tuple[str, str, bool]:
    """(stdout, stderr, raised) of an executed cell."""
    out, err, raised = [], [], False
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            (err if o["name"] == "stderr" else out).append("".join(o["text"]))
        elif o["output_type"] == "error":
            raised = True
    return "".join(out), "".join(err), raised


@pytest.mark.parametrize("name", VARIANTS)
def test_notebook_exercises_untouched_solved_and_wrong(env, name):
    import nbformat
    import papermill as pm

    nb = nbformat.read(NB / "en" / f"{name}.ipynb", as_version=4)
    found = _exercises(nb.cells)
    stage = _stage(name)
    for i, ex_name in found:
        check = _src(nb.cells[i + 1])
        for lang in ("en", "zh"):
            for kind, code in (("right", getattr(stage, ex_name).solution_code), ("wrong", WRONG[ex_name][0])):
                nb.cells.append(nbformat.v4.new_code_cell(f"seghelpers.i18n.set_language({lang!r})\n{code}"))
                cell = nbformat.v4.new_code_cell(check)
                cell.metadata["tags"] = [f"probe:{ex_name}:{lang}:{kind}"]
                nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell('seghelpers.i18n.set_language("en")'))
    src = env / f"{name}.in.ipynb"
    nbformat.write(nb, src)
    params = {}
    if not name.startswith(("01", "02", "03")):
        params["output_dir"] = str(env / "models" / name.replace("05_inference", "04_train"))
    out = env / f"{name}.ipynb"
    pm.execute_notebook(str(src), str(out), parameters=params, kernel_name="python3", cwd=str(env),
                        progress_bar=False, log_output=False)
    done = nbformat.read(out, as_version=4)

    untouched = [done.cells[i + 1] for i, _ in _exercises(done.cells)]
    assert len(untouched) == len(found) >= 2
    for cell in untouched:  # Run All on the notebook as shipped: a nudge, nothing else
        stdout, stderr, raised = _outputs(cell)
        assert not raised and not stderr, (stdout, stderr)
        assert stdout.startswith("✏️") and stdout.count("\n") == 1, stdout

    probes = {t: c for c in done.cells for t in c.metadata.get("tags", []) if t.startswith("probe:")}
    assert len(probes) == 4 * len(found)
    for tag, cell in probes.items():
        _, ex_name, lang, kind = tag.split(":")
        stdout, stderr, raised = _outputs(cell)
        assert not raised and not stderr, (tag, stdout, stderr)
        if kind == "right":
            assert stdout.startswith("✅"), (tag, stdout)
            assert ("正确" in stdout) == (lang == "zh"), (tag, stdout)
        else:
            expected = WRONG[ex_name][1 if lang == "en" else 2]
            assert stdout.startswith("❌") and expected in stdout, (tag, expected, stdout)
            assert ("提示" in stdout) == (lang == "zh") and ("Hint" in stdout) == (lang == "en"), (tag, stdout)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_book_folds_a_hint_and_a_solution_under_every_check(lang):
    """book/build.py puts the hint and the solution, as closed <details>, under each check cell (in the page's
    language); the browser test in test_book.py opens one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    book = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book)
    config = json.loads((NB / "config.json").read_text())
    for name in ("03_metrics_pytorch", "05_inference_tensorflow"):
        body, _ = book.notebook_html(NB / lang / f"{name}.ipynb", lang, {}, config, "x-")
        checks = len(_exercises(_cells(name, lang)))
        assert body.count('<details class="exercise-dropdown exercise-hint">') == checks
        assert body.count('<details class="exercise-dropdown exercise-solution">') == checks
        assert "<details open" not in body
        assert ("参考答案" in body) == (lang == "zh") and ("Solution</summary>" in body) == (lang == "en")
    assert book.exercise_dropdowns("03_metrics_pytorch", "print(1)", lang) is None
