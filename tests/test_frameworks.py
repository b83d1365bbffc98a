"""seghelpers.pt and seghelpers.tf, and the two side by side on the same inputs."""
from pathlib import Path

import numpy as np
import pytest

import seghelpers as sh


@pytest.fixture(scope="module")
def small_ds(synthetic_root):
    from seghelpers.data import load_ade_folder

    return load_ade_folder(synthetic_root, "train[:4]")


@pytest.fixture(scope="module")
def processor(tiny_checkpoint):
    return sh.load_image_processor(tiny_checkpoint)


def test_pt_transforms(small_ds, processor):
    from seghelpers import pt

    train_t, val_t = pt.make_transforms(processor)
    batch = small_ds[:3]
    out = train_t(batch)
    assert tuple(out["pixel_values"].shape) == (3, 3, 64, 64) and tuple(out["labels"].shape) == (3, 64, 64)
    val = val_t(batch)
    # augmentation changes pixels, never labels
    np.testing.assert_array_equal(out["labels"].numpy(), val["labels"].numpy())
    assert not np.allclose(out["pixel_values"].numpy(), val["pixel_values"].numpy())
    labels = val["labels"].numpy()
    assert set(np.unique(labels)) <= set(range(150)) | {255}
    raw = np.asarray(batch["annotation"][0].resize((64, 64), 0))  # PIL NEAREST, like the processor
    np.testing.assert_array_equal(labels[0], sh.reduce_labels(raw))


def test_fast_image_processor_still_broken(small_ds, tiny_checkpoint):
    """Documents why load_image_processor defaults to the slow processor; fails once transformers fixes it."""
    fast = sh.load_image_processor(tiny_checkpoint, use_fast=True)
    out = fast(small_ds[:3]["image"], small_ds[:3]["annotation"], return_tensors="pt")
    assert tuple(out["labels"].shape) != (3, 64, 64)


def test_pt_vs_tf_transforms_identical_without_augmentation(small_ds, processor):
    from seghelpers import pt, tf as shtf

    batch = small_ds[:3]
    a = pt.make_transforms(processor, augment=False)[0](batch)
    b = shtf.make_transforms(processor, augment=False)[0](batch)
    np.testing.assert_allclose(a["pixel_values"].numpy(), b["pixel_values"], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(a["labels"].numpy(), b["labels"])
    c = shtf.make_transforms(processor)[1](batch)
    np.testing.assert_array_equal(c["labels"], b["labels"])


def test_tf_augmentation_is_valid_uint8(small_ds):
    from seghelpers import tf as shtf

    img = small_ds[0]["image"]
    out = shtf.aug_transforms(img)
    assert out.dtype == np.uint8 and out.shape == (3, img.size[1], img.size[0])
    assert not np.array_equal(out, shtf.to_channels_first_uint8(img))


def test_pt_and_tf_compute_metrics_agree(rng):
    import torch
    from transformers import EvalPrediction

    from seghelpers import pt, tf as shtf

    logits = rng.normal(size=(4, 150, 16, 16)).astype(np.float32)
    labels = rng.integers(0, 150, (4, 64, 64))
    labels[:, :4] = 255
    m_pt = pt.ComputeMetrics()(EvalPrediction(predictions=logits, label_ids=labels))
    m_tf = shtf.ComputeMetrics()((logits, labels))
    assert m_tf["val_mean_iou"] == pytest.approx(m_pt["mean_iou"], abs=1e-9)
    assert m_tf["val_overall_accuracy"] == pytest.approx(m_pt["overall_accuracy"], abs=1e-9)
    assert m_tf["val_iou_wall"] == pytest.approx(m_pt["per_category_iou"][0], abs=1e-9, nan_ok=True)
    # batch mode (TrainingArguments(batch_eval_metrics=True)) gives the same numbers with tensors
    cm = pt.ComputeMetrics()
    cm(EvalPrediction(predictions=torch.from_numpy(logits[:2]), label_ids=torch.from_numpy(labels[:2])), compute_result=False)
    last = cm(EvalPrediction(predictions=torch.from_numpy(logits[2:]), label_ids=torch.from_numpy(labels[2:])), compute_result=True)
    assert last["mean_iou"] == pytest.approx(m_pt["mean_iou"], abs=1e-12)
    # preprocess_logits_for_metrics keeps class ids; the result is the same
    ids = pt.preprocess_logits_for_metrics(torch.from_numpy(logits), torch.from_numpy(labels))
    assert ids.dtype == torch.uint8 and tuple(ids.shape) == (4, 64, 64)
    m_ids = pt.ComputeMetrics()(EvalPrediction(predictions=ids.numpy(), label_ids=labels))
    assert m_ids["mean_iou"] == pytest.approx(m_pt["mean_iou"], abs=1e-12)


def test_tf_loss_ignores_255_on_cpu(tiny_checkpoint):
    import tensorflow as tf

    from seghelpers import tf as shtf

    model = shtf.load_model(tiny_checkpoint)  # PyTorch-only folder: needs from_pt
    x = tf.random.uniform((2, 3, 64, 64))
    labels = np.full((2, 64, 64), 255, np.int64)
    labels[:, :10] = 3
    out = model(pixel_values=x, labels=tf.constant(labels))
    assert np.isfinite(out.loss.numpy()).all()
    all_ignored = model(pixel_values=x, labels=tf.constant(np.full((2, 64, 64), 255)))
    assert float(all_ignored.loss.numpy()[0]) == 0.0


def test_pt_and_tf_predictions_agree(small_ds, processor, tiny_checkpoint):
    import os

    from transformers import AutoModelForSemanticSegmentation

    from seghelpers import pt, tf as shtf

    images = small_ds[:2]["image"]
    pt_model = AutoModelForSemanticSegmentation.from_pretrained(tiny_checkpoint)
    p_pt = pt.predict(pt_model, processor, images)
    p_tf = shtf.predict(shtf.load_model(tiny_checkpoint), processor, images)
    for img, a, b in zip(images, p_pt, p_tf):
        assert a.shape == b.shape == (img.size[1], img.size[0])
        assert (a == b).mean() > 0.99  # same weights; float round-off may flip near-ties
    single = pt.predict(pt_model, processor, images[0])
    np.testing.assert_array_equal(single, p_pt[0])


def test_tf_dataset_gc_does_not_break_source(small_ds, processor):
    import gc

    from seghelpers import tf as shtf

    ds = small_ds.select(range(2))
    ds.set_transform(shtf.make_transforms(processor, augment=False)[1])
    tfds = shtf.to_tf_dataset(ds, 2, shuffle=False)
    assert next(iter(tfds))["pixel_values"].shape == (2, 3, 64, 64)
    del tfds
    gc.collect()
    assert ds[0]["labels"].shape == (64, 64)  # raw datasets 5.0 would have deleted ds._data here


def test_seeded_jitter_is_reproducible_and_leaves_global_rng_alone(small_ds, processor):
    import torch

    from seghelpers import pt

    batch = small_ds[:2]
    t1, _ = pt.make_transforms(processor, seed=5)
    t2, _ = pt.make_transforms(processor, seed=5)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = t1(batch)["pixel_values"]
    assert torch.equal(torch.get_rng_state(), state)  # dropout/shuffling streams unaffected
    torch.manual_seed(123)  # a different global state must not matter
    assert torch.equal(t2(batch)["pixel_values"], a)
    t2.epoch = 1
    assert not torch.equal(t2(batch)["pixel_values"], a)  # a new epoch, a new draw
    t3, _ = pt.make_transforms(processor, seed=6)
    assert not torch.equal(t3(batch)["pixel_values"], a)


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "slice_of_batch"])
def test_upsample_argmax_any_layout_matches_plain_torch(layout):
    """upsample_argmax works in channels-last internally; class maps equal the plain NCHW computation."""
    import torch

    from seghelpers.pt import upsample_argmax

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 9, 11, generator=g) * 4  # well-separated classes: no float near-ties
    want = torch.nn.functional.interpolate(logits, size=(37, 45), mode="bilinear", align_corners=False).argmax(1)
    if layout == "channels_last":
        x = logits.contiguous(memory_format=torch.channels_last)
    elif layout == "slice_of_batch":  # as predict() hands one image of a channels-last batch
        x, want = logits.contiguous(memory_format=torch.channels_last)[1:2], want[1:2]
    else:
        x = logits
    got = upsample_argmax(x, (37, 45))
    assert got.shape == (len(x), 37, 45) and got.dtype == torch.int64
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert torch.equal(upsample_argmax(logits, (9, 11)), logits.argmax(1))  # same size: no resampling


def test_tf_fast_training_same_loss_and_gradients(tiny_checkpoint):
    """shtf.fast_training rewrites in place: same variables, same loss and gradients, used by fit's step too."""
    import tensorflow as tf

    from seghelpers import tf as shtf
    from seghelpers.tf.fast import fast_training, unsupported

    no_dropout = dict(classifier_dropout_prob=0.0, drop_path_rate=0.0)  # training=True, yet deterministic
    plain = shtf.load_model(tiny_checkpoint, **no_dropout)
    fast = fast_training(shtf.load_model(tiny_checkpoint, **no_dropout))
    def names(model):  # without the first scope, which numbers the model instances
        return [v.name.split("/", 1)[1] for v in model.trainable_variables]

    assert names(plain) == names(fast)
    assert unsupported(fast) is None and "TFSegformerForSemanticSegmentation" in unsupported(object())
    x = tf.random.stateless_uniform((2, 3, 64, 64), seed=(1, 2))
    labels = np.random.default_rng(0).integers(0, plain.config.num_labels, (2, 64, 64))
    labels[:, :5] = 255
    grads, losses = [], []
    for model in (plain, fast):
        with tf.GradientTape() as tape:
            loss = model(pixel_values=x, labels=tf.constant(labels), training=True).loss
        losses.append(float(loss.numpy()[0]))
        grads.append(tape.gradient(loss, model.trainable_variables))
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    for v, ga, gb in zip(plain.trainable_variables, *grads):
        scale = float(tf.reduce_max(tf.abs(ga)))
        if scale > 1e-6:  # parameters with a zero true gradient carry rounding noise only
            np.testing.assert_allclose(gb.numpy(), ga.numpy(), atol=1e-4 * scale, err_msg=v.name)
    # the compiled training step (what fit runs) goes through the rewritten layers as well
    for model in (plain, fast):
        model.compile(optimizer=tf.keras.optimizers.SGD(0.0))
    batch = {"pixel_values": x.numpy(), "labels": labels}
    assert fast.train_on_batch(batch) == pytest.approx(plain.train_on_batch(batch), rel=1e-5)


def test_tf_live_progress_shows_loss_and_mean_iou_only(capsys):
    """shtf.LiveProgress: one bar over every step with loss / val_mean_iou, never the per-class values that
    Keras' own bar (verbose=1) prints by the hundred."""
    import numpy as np
    import tensorflow as tf

    import seghelpers.tf as shtf

    class PerClass(tf.keras.callbacks.Callback):  # what KerasMetricCallback adds to the logs
        def on_epoch_end(self, epoch, logs=None):
            logs.update({"val_mean_iou": 0.5, **{f"val_iou_class{i}": float("nan") for i in range(150)}})

    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    bar = shtf.LiveProgress(live=True)
    x, y = np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[PerClass(), bar])
    err = capsys.readouterr().err
    assert "8/8" in err and "val_mean_iou=0.5000" in err and "loss=" in err and "epoch=2" in err
    assert "val_iou_class" not in err and bar.bar is None  # closed at the end
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[shtf.LiveProgress()])  # pytest: nobody watches
    assert capsys.readouterr().err == ""  # no bar: notebook 04 appends it always, it draws only when live


def test_tf_stand_in_for_notebook_05_loads_with_the_guides_line(tmp_path):
    """No model from notebook 04: the TF stand-in (tf_model.h5, the data set's classes) loads with the guide's
    TFAutoModelForSemanticSegmentation.from_pretrained(folder)."""
    from transformers import TFAutoModelForSemanticSegmentation

    import seghelpers as sh
    import seghelpers.tf  # noqa: F401 - selects Keras 2 before transformers' TF classes load
    from seghelpers import params

    meta = sh.DatasetMeta({0: "bg", 1: "leaf", 2: "stem"}, reduce_labels=False, name="Leaves")
    p = params.resolve("smoke", framework="tf", output_dir=str(tmp_path / "none"))
    folder, trained = params.trained_model_folder(p, "tf", meta=meta)
    assert not trained and (Path(folder) / "tf_model.h5").is_file()
    assert TFAutoModelForSemanticSegmentation.from_pretrained(folder).config.id2label == meta.id2label
