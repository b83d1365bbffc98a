"""Issue 24: one description of a learner's data set (DatasetMeta), accepted by every helper as ``meta=``.

Each test calls the helpers the way a learner's own script does (not through the notebooks), on data it
makes: two- and three-class sets, a declared palette, unreduced and reduced conventions, void 255 borders.
"""
import json

import numpy as np
import pytest
from PIL import Image

import seghelpers as sh
from seghelpers import i18n

BIN = {0: "background", 1: "polyp"}
PAL2 = [[10, 20, 30], [200, 40, 90]]
THREE = {0: "road", 1: "sky", 2: "car"}
PAL3 = [[128, 64, 128], [70, 130, 180], [0, 0, 142]]


def own_folder(root, n=6, h=32, w=40, id2label=BIN, meta=None, three=False, void_border=True):
    """images/training + annotations/training, masks 0 = first class (unreduced) unless ``meta`` says so."""
    (root / "images/training").mkdir(parents=True)
    (root / "annotations/training").mkdir(parents=True)
    rng = np.random.default_rng(0)
    shift = 1 if (meta or {}).get("reduce_labels") else 0
    for i in range(n):
        m = np.zeros((h, w), np.uint8)
        m[h // 4: 3 * h // 4, i: i + w // 2] = 1
        if three:
            m[: h // 4] = 2
        m = m + shift
        if void_border:
            m[0, :] = 255
            m[:, 0] = 255
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / f"images/training/i{i:03d}.jpg")
        Image.fromarray(m, "L").save(root / f"annotations/training/i{i:03d}.png")
    (root / "id2label.json").write_text(json.dumps({str(k): v for k, v in id2label.items()}))
    (root / "dataset.json").write_text(json.dumps({"reduce_labels": False} if meta is None else meta))
    return root


@pytest.fixture
def zh():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="module")
def processor_default(tiny_checkpoint):
    """What a learner's script loads without saying anything about the convention."""
    return sh.load_image_processor(tiny_checkpoint, image_size=32)


# ---- the one object ----

def test_dataset_meta_is_the_description_and_the_old_names_remain(tmp_path):
    root = own_folder(tmp_path / "polyps", meta={"reduce_labels": False, "palette": PAL2})
    meta = sh.dataset_meta(str(root))
    assert isinstance(meta, sh.DatasetMeta) and sh.DatasetLabels is sh.DatasetMeta
    assert meta.id2label == BIN and meta.reduce_labels is False and meta.ignore_index == 255
    assert meta.palette.tolist() == PAL2 and meta.num_labels == 2
    assert sh.dataset_labels(str(root)).palette.tolist() == PAL2
    assert meta.processor_kwargs() == {"do_reduce_labels": False}
    assert meta.model_kwargs()["label2id"] == {"background": 0, "polyp": 1}


def test_loaded_dataset_carries_its_description_through_splits(tmp_path):
    root = own_folder(tmp_path / "polyps3", id2label=THREE, three=True, meta={"reduce_labels": False, "palette": PAL3})
    ds = sh.load_scene_parse(str(root), "train")
    parts = sh.split_train_test(ds, test_size=0.34)
    for d in (ds, parts["train"], parts["test"], ds.shuffle(seed=1).select([2, 0])):
        meta = sh.dataset_meta(d)
        assert meta.id2label == THREE and meta.reduce_labels is False and meta.palette.tolist() == PAL3


def test_saved_model_folder_carries_the_description(tmp_path, tiny_checkpoint):
    import shutil

    root = own_folder(tmp_path / "polyps", meta={"reduce_labels": False, "palette": PAL2})
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_checkpoint, model_dir)
    sh.dataset_meta(str(root)).save(model_dir)
    back = sh.dataset_meta(str(model_dir))
    assert back.id2label == BIN and back.reduce_labels is False and back.palette.tolist() == PAL2
    # the processor loaded from that folder follows the saved convention, no flag needed
    assert sh.load_image_processor(str(model_dir)).do_reduce_labels is False
    # saved with the model, all or nothing, as notebook 04 does
    out = sh.save_pretrained_atomic(tmp_path / "export", sh.load_image_processor(str(model_dir)), back)
    assert sh.dataset_meta(str(out)).palette.tolist() == PAL2


# ---- item 1: the processor never contradicts the declared convention silently ----

@pytest.mark.parametrize("framework", ["pt", "tf"])
def test_processor_without_the_flag_is_caught_by_the_transforms(tmp_path, processor_default, framework):
    """README's own-data layout, then load_image_processor(checkpoint, image_size=...) and make_transforms(proc)."""
    import importlib

    shx = importlib.import_module(f"seghelpers.{framework}")
    root = own_folder(tmp_path / "bin", meta={"reduce_labels": False})
    ds = sh.split_train_test(sh.load_scene_parse(str(root), "train"))["train"]
    train_tf, val_tf = shx.make_transforms(processor_default)
    ds.set_transform(val_tf)
    with pytest.raises(ValueError, match=r"do_reduce_labels=True.*reduce_labels=False.*meta=meta"):
        ds[0]


@pytest.mark.parametrize("framework", ["pt", "tf"])
def test_meta_sets_the_processor_and_labels_come_out_right(tmp_path, tiny_checkpoint, framework):
    import importlib

    shx = importlib.import_module(f"seghelpers.{framework}")
    root = own_folder(tmp_path / "bin", meta={"reduce_labels": False})
    meta = sh.dataset_meta(str(root))
    proc = sh.load_image_processor(tiny_checkpoint, image_size=32, meta=meta)
    assert proc.do_reduce_labels is False
    ds = sh.load_scene_parse(str(root), "train")
    _, val_tf = shx.make_transforms(proc, meta=meta)
    ds.set_transform(val_tf)
    labels = np.asarray(ds[0]["labels"])
    assert set(np.unique(labels)) == {0, 1, 255}  # background is a class, polyp is 1, the void border ignored
    with pytest.raises(ValueError, match="meta=meta"):
        shx.make_transforms(sh.load_image_processor(tiny_checkpoint, image_size=32), meta=meta)


def test_reduced_convention_with_an_unreduced_processor_is_caught(tmp_path, tiny_checkpoint):
    from seghelpers import pt as shpt

    root = own_folder(tmp_path / "ade-like", meta={"reduce_labels": True})
    meta = sh.dataset_meta(str(root))
    with pytest.raises(ValueError, match="reduce_labels=True"):
        shpt.make_transforms(sh.load_image_processor(tiny_checkpoint, do_reduce_labels=False), meta=meta)
    with pytest.raises(ValueError, match="contradicts meta"):
        sh.load_image_processor(tiny_checkpoint, meta=meta, do_reduce_labels=False)


def test_a_one_class_everywhere_model_no_longer_scores_one(tmp_path, processor_default):
    """The case of the issue: 1.0 mean IoU for a model predicting one class everywhere, without a word."""
    from seghelpers import pt as shpt

    root = own_folder(tmp_path / "bin", meta={"reduce_labels": False})
    meta = sh.dataset_meta(str(root))
    ds = sh.load_scene_parse(str(root), "train")
    import copy

    proc = copy.deepcopy(processor_default)  # what load_image_processor(..., meta=meta) gives: only the flag differs
    proc.do_reduce_labels = meta.reduce_labels
    ds.set_transform(shpt.make_transforms(proc, augment=False)[1])
    labels = np.stack([np.asarray(ds[i]["labels"]) for i in range(len(ds))])
    pred = np.zeros_like(labels)  # "background" everywhere
    scores = shpt.ComputeMetrics(meta=meta)(type("E", (), {"predictions": pred, "label_ids": labels})())
    assert scores["mean_iou"] < 0.9


# ---- item 2: no ADE names on a learner's metrics ----

def test_tf_compute_metrics_takes_names_from_meta_and_refuses_a_bare_count(tmp_path, zh):
    from seghelpers import tf as shtf

    root = own_folder(tmp_path / "bin", meta={"reduce_labels": False})
    meta = sh.dataset_meta(str(root))
    logits = np.zeros((1, 2, 4, 4), np.float32)
    logits[:, 1, :2] = 5
    labels = np.zeros((1, 8, 8), np.int64)
    labels[:, :4] = 1
    keys = shtf.ComputeMetrics(meta=meta)((logits, labels))
    assert {"val_iou_background", "val_iou_polyp"} <= set(keys)
    assert not any(k.endswith(("_wall", "_building")) for k in keys)
    with pytest.raises(ValueError, match=r"meta=sh\.dataset_meta") as e:
        shtf.ComputeMetrics(num_labels=2)
    assert "类别名" in str(e.value)
    with pytest.raises(ValueError, match="num_labels=3"):
        shtf.ComputeMetrics(num_labels=3, meta=meta)
    assert set(shtf.ComputeMetrics(num_labels=2, id2label={"0": "a", "1": "b"})((logits, labels))) >= {"val_iou_a"}


def test_named_metrics_wants_exactly_one_name_per_class():
    m = sh.mean_iou([np.array([[0, 1]])], [np.array([[0, 1]])], 2, 255)
    with pytest.raises(ValueError, match="names 150 classes but the metrics have 2"):
        sh.named_metrics(m, sh.id2label)
    with pytest.raises(ValueError, match="meta="):
        sh.named_metrics(m)
    meta = sh.DatasetMeta(BIN, reduce_labels=False)
    assert sh.named_metrics(m, meta=meta)["iou_polyp"] == 1.0
    assert sh.named_metrics(m, meta)["accuracy_background"] == 1.0


def test_pt_compute_metrics_takes_the_count_from_meta():
    from seghelpers import pt as shpt

    meta = sh.DatasetMeta(THREE, reduce_labels=False)
    labels = np.array([[[0, 1, 2, 255]]])
    out = shpt.ComputeMetrics(meta=meta)(type("E", (), {"predictions": labels % 3, "label_ids": labels})())
    assert len(out["per_category_iou"]) == 3 and out["mean_iou"] == 1.0


def test_per_class_plot_refuses_ade_names_for_another_count():
    import matplotlib

    matplotlib.use("Agg")
    from seghelpers import viz

    with pytest.raises(ValueError, match="meta="):
        viz.plot_per_class_iou([0.5, 0.7])
    ax = viz.plot_per_class_iou([0.5, 0.7], meta=sh.DatasetMeta(BIN, reduce_labels=False))
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["background", "polyp"]


# ---- item 3: the declared palette is the one drawn ----

def test_names_alone_find_the_declared_palette(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from seghelpers import viz

    root = own_folder(tmp_path / "own3", id2label=THREE, three=True, meta={"reduce_labels": False, "palette": PAL3})
    meta = sh.dataset_meta(str(root))
    seg = np.array([[0, 1], [2, 2]])
    img = np.full((2, 2, 3), 100, np.uint8)
    want = {cid: tuple(PAL3[cid]) for cid in range(3)}
    for got in (sh.legend(seg, meta.id2label), sh.legend(seg, meta=meta), sh.legend(seg, meta),
                sh.legend(seg, json.loads(json.dumps({str(k): v for k, v in meta.id2label.items()})))):
        assert {cid: colour for cid, _, colour, _ in got} == want
    expected = (img * 0.5 + np.asarray(PAL3)[seg] * 0.5).astype(np.uint8)
    np.testing.assert_array_equal(sh.overlay(img, seg, meta=meta), expected)
    np.testing.assert_array_equal(sh.colorize(seg, meta=meta), np.asarray(PAL3, np.uint8)[seg])
    ax = viz.show_overlay(img, seg, id2label=meta.id2label)
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    ax2 = viz.show_overlay(img, seg, meta=meta)
    assert {h.get_label().split(" (")[0] for h in ax2.get_legend().legend_handles} == {"road", "sky", "car"}


def test_meta_and_names_that_disagree_are_refused():
    meta = sh.DatasetMeta(BIN, reduce_labels=False)
    with pytest.raises(ValueError, match="meta= only"):
        sh.legend(np.zeros((2, 2), int), {0: "a", 1: "b"}, meta=meta)


def test_ade_defaults_stay_for_ade():
    seg = np.array([[0, 2]])
    got = sh.legend(seg)
    assert [n for _, n, _, _ in got] == ["wall", "sky"] and got[0][2] == tuple(sh.ade_palette()[0])
    assert sh.legend(seg, sh.id2label) == got


# ---- item 5: Keras compile with a loss or metrics says why and what to do ----

@pytest.mark.parametrize("kw", [dict(loss="sparse_categorical_crossentropy"), dict(metrics=["accuracy"]),
                                "sce-object"])
def test_keras_compile_with_a_loss_names_the_cause_and_the_fix(tiny_checkpoint, kw):
    from seghelpers import tf as shtf
    import tensorflow as tf

    if kw == "sce-object":
        kw = dict(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255))
    model = shtf.load_model(tiny_checkpoint, meta=sh.DatasetMeta(BIN, reduce_labels=False))
    with pytest.raises(ValueError, match=r"computes its own loss.*channels first.*model\.compile\(optimizer=optimizer\)"):
        model.compile(optimizer=tf.keras.optimizers.SGD(0.0), **kw)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.0))  # the right way still works


# ---- item 6: messages that name the real cause ----

def test_0_255_masks_without_dataset_json_name_the_255_problem_first(tmp_path):
    root = tmp_path / "bin255"
    (root / "images/training").mkdir(parents=True)
    (root / "annotations/training").mkdir(parents=True)
    for i in range(3):
        m = np.zeros((16, 16), np.uint8)
        m[4:12, 4:12] = 255
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(root / f"images/training/i{i}.jpg")
        Image.fromarray(m, "L").save(root / f"annotations/training/i{i}.png")
    (root / "id2label.json").write_text(json.dumps({"0": "background", "1": "polyp"}))
    with pytest.raises(sh.DataError, match="only 0 and 255.*convert the masks to 0/1"):
        sh.dataset_meta(str(root))


def test_guide_source_refuses_the_script_dataset_with_the_parquet_id():
    with pytest.raises(ValueError, match="script dataset.*merve/scene_parse_150"):
        sh.guide_source("scene_parse_150", "train[:4]")


@pytest.mark.parametrize("framework", ["pt", "tf"])
def test_processor_keywords_given_to_a_model_loader_say_where_they_belong(tiny_checkpoint, framework, zh):
    import importlib

    shx = importlib.import_module(f"seghelpers.{framework}")
    with pytest.raises(TypeError, match=r"do_reduce_labels= 是图像处理器的参数[\s\S]*sh\.load_image_processor"):
        shx.load_model(tiny_checkpoint, id2label=BIN, do_reduce_labels=True)


def test_predicted_ids_save_and_show(tmp_path, tiny_checkpoint):
    from seghelpers import pt as shpt
    import transformers

    model = shpt.load_model(tiny_checkpoint, meta=sh.DatasetMeta(THREE, reduce_labels=False, palette=PAL3))
    proc = sh.load_image_processor(tiny_checkpoint, image_size=32)
    ids = shpt.predict(model, proc, np.zeros((20, 24, 3), np.uint8))
    assert ids.dtype == np.int64
    out = sh.save_class_map(ids, tmp_path / "pred.png")
    back = np.asarray(Image.open(out))
    assert back.dtype == np.uint8 and np.array_equal(back, ids)
    with pytest.raises(ValueError, match=r"\.png"):
        sh.save_class_map(ids, tmp_path / "pred.jpg")
    assert sh.colorize(ids, meta=model_meta(model)).shape == (20, 24, 3)
    assert transformers  # (imported by the loader)


def model_meta(model):
    return sh.DatasetMeta(model.config.id2label, reduce_labels=False)


def test_metric_compute_after_add_batch_says_what_to_call():
    pytest.importorskip("evaluate")
    import evaluate

    metric = evaluate.load(sh.MEAN_IOU_METRIC)
    metric.add_batch(predictions=[np.zeros((2, 2), int)], references=[np.zeros((2, 2), int)])
    with pytest.raises(TypeError, match=r"metric\.compute\(num_labels=\.\.\., ignore_index=255\)"):
        metric._compute(num_labels=2, ignore_index=255)
    assert metric.compute(num_labels=2, ignore_index=255)["mean_iou"] == 1.0


@pytest.mark.parametrize("page", ["OWN_DATA.md", "OWN_DATA.zh-CN.md"])
def test_the_own_script_on_the_own_data_page_runs(tmp_path, tiny_checkpoint, page, monkeypatch):
    """notebooks/OWN_DATA*.md shows a learner's two-class script; it runs as printed (the checkpoint and the folder
    swapped for local ones) and names the data set's classes, never ADE's."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "notebooks" / page).read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    folder = own_folder(tmp_path / "my_data", meta={"reduce_labels": False, "palette": PAL2})
    monkeypatch.chdir(tmp_path)
    code = code.replace('"nvidia/mit-b0"', repr(str(tiny_checkpoint))).replace("image_size=512", "image_size=32")
    scope: dict = {}
    exec(compile(code, page, "exec"), scope)
    assert {name for _, name, *_ in scope["sh"].legend(scope["seg"], meta=scope["meta"])} <= {"background", "polyp"}
    assert scope["meta"].palette.tolist()[:2] == PAL2 and (folder / "id2label.json").exists()
    assert (tmp_path / "my_model" / "dataset_meta.json").exists()


def test_training_curves_put_both_losses_on_one_axes():
    """Notebook 04 teaches reading the gap between training and eval loss: both on one y axis, mIoU apart."""
    import matplotlib

    matplotlib.use("Agg")
    from seghelpers import viz

    log = [{"step": 1, "loss": 4.0}, {"step": 2, "loss": 3.0}, {"step": 2, "eval_loss": 3.5, "eval_mean_iou": 0.2},
           {"step": 3, "loss": 2.5}, {"step": 4, "eval_loss": 2.8, "eval_mean_iou": 0.4}]
    losses, iou = viz.plot_training_curves(log)
    assert [ln.get_label() for ln in losses.get_lines()] == ["loss", "eval_loss"]
    assert [list(ln.get_xdata()) for ln in losses.get_lines()] == [[1, 2, 3], [2, 4]]
    assert [ln.get_label() for ln in iou.get_lines()] == ["eval_mean_iou"]
    keras = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9], "val_mean_iou": [0.3, 0.5], "val_iou_wall": [0.1, 0.2]}
    axes = viz.plot_training_curves(keras, keys=("loss", "val_loss", "val_mean_iou"))
    assert len(axes) == 2 and list(axes[0].get_lines()[1].get_xdata()) == [1, 2]
    with pytest.raises(ValueError, match="none of"):
        viz.plot_training_curves([{"step": 1, "grad_norm": 1.0}])
