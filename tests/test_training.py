"""Smoke training in each framework must *learn*: held-out mean IoU well above the untrained model's."""
import numpy as np
import pytest

import seghelpers as sh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    from seghelpers.data import load_ade_folder
    from seghelpers.synthetic import build_synthetic_ade

    root = build_synthetic_ade(tmp_path_factory.mktemp("train-synth"), n_train=50, n_val=0, seed=0)
    return sh.split_train_test(load_ade_folder(root, "train[:50]"), 0.2, seed=0)


def _pt_run(splits, ckpt, tmp_path, seed=0):
    from transformers import AutoModelForSemanticSegmentation, Trainer, TrainingArguments

    from seghelpers import pt

    proc = sh.load_image_processor(ckpt)
    train_t, val_t = pt.make_transforms(proc)
    train_ds, test_ds = splits["train"], splits["test"]
    train_ds.set_transform(train_t)
    test_ds.set_transform(val_t)
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=2e-3, max_steps=50, per_device_train_batch_size=4,
                             per_device_eval_batch_size=4, eval_strategy="no", save_strategy="no", seed=seed,
                             remove_unused_columns=False, report_to=[], batch_eval_metrics=True, use_cpu=True)
    model = AutoModelForSemanticSegmentation.from_pretrained(ckpt)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=test_ds,
                      compute_metrics=pt.ComputeMetrics(), preprocess_logits_for_metrics=pt.preprocess_logits_for_metrics)
    before = trainer.evaluate()["eval_mean_iou"]
    trainer.train()
    return before, trainer.evaluate()


def test_pt_smoke_training_learns_and_is_reproducible(splits, tiny_checkpoint, tmp_path):
    before, after = _pt_run(splits, tiny_checkpoint, tmp_path / "a")
    assert after["eval_mean_iou"] > before + 0.3, (before, after["eval_mean_iou"])
    _, again = _pt_run(splits, tiny_checkpoint, tmp_path / "b")
    assert again["eval_mean_iou"] == after["eval_mean_iou"]
    assert again["eval_loss"] == after["eval_loss"]


def _tf_run(splits, ckpt, seed=0):
    from seghelpers import tf as shtf  # before tf.keras: it selects Keras 2 (tf-keras)

    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    proc = sh.load_image_processor(ckpt)
    train_t, val_t = shtf.make_transforms(proc)
    train_ds, test_ds = splits["train"], splits["test"]
    train_ds.set_transform(train_t)
    test_ds.set_transform(val_t)
    model = shtf.load_model(ckpt)
    tf_train = shtf.to_tf_dataset(train_ds, 4, shuffle=True)
    tf_eval = shtf.to_tf_dataset(test_ds, 4, shuffle=False)
    metric = shtf.ComputeMetrics(per_class=False)

    def evaluate():
        batches = [(model(pixel_values=b["pixel_values"], training=False).logits.numpy(), b["labels"].numpy())
                   for b in tf_eval]
        return metric((np.concatenate([l for l, _ in batches]), np.concatenate([y for _, y in batches])))["val_mean_iou"]

    before = evaluate()
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=2e-3))
    model.fit(tf_train, epochs=4, verbose=0)
    return before, evaluate()


def test_tf_smoke_training_learns_and_is_reproducible(splits, tiny_checkpoint):
    before, after = _tf_run(splits, tiny_checkpoint)
    assert after > before + 0.3, (before, after)
    _, again = _tf_run(splits, tiny_checkpoint)
    assert again == pytest.approx(after, abs=1e-9)
