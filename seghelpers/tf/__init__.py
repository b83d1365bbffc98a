"""TensorFlow layer: transforms, loss fix, Keras metric glue, loading and prediction.

Importing this imports TensorFlow (and transformers' TF classes). Fixes three traps of the guide's
TF code on transformers 4.57 / TF 2.21:

* augmentation: the guide jitters 0..255 floats, so ``random_brightness(0.25)`` does nothing and
  contrast/saturation push values outside 0..255, which the image processor rejects. We jitter in
  [0, 1], clip, and hand the processor uint8 (channels-first, as Transformers vision models expect).
* loss: ``TFSegformerForSemanticSegmentation`` computes the loss on label 255 before masking it,
  which raises on CPU ("Received a label value of 255 which is outside the valid range").
  :func:`fix_loss` swaps in a loss that masks first.
* Keras: transformers' TF models need Keras 2 (``tf-keras``); this module sets
  ``TF_USE_LEGACY_KERAS=1`` so that ``tf.keras`` is Keras 2. Import it before touching ``tf.keras``.
* loading: ``TF*.from_pretrained(folder)`` crashes on a folder holding PyTorch ``model.safetensors``;
  :func:`load_model` passes ``from_pt=True`` when there is no ``tf_model.h5``.
"""
from __future__ import annotations

import sys
import types
from pathlib import Path

from .. import frameworks as _frameworks

# before transformers is imported: undo seghelpers.pt's USE_TF=0, or name the user's variable that hides TF
_frameworks.ensure("tf")

# Trap found here: with TF 2.21 and triton 3.8 (pulled in by torch 2.14), importing triton *after*
# TensorFlow segfaults, and transformers imports triton through torch._dynamo. Load triton first; if
# TensorFlow is already loaded, hide triton instead (torch then runs without it, fine on CPU and for
# the TF notebooks, which never compile torch code).
if "triton" not in sys.modules:
    if "tensorflow" in sys.modules:
        sys.modules["triton"] = None
    else:
        try:
            import triton  # noqa: F401
        except ImportError:
            pass

import os

# transformers' TF models are Keras 2 models (the tf-keras package). Since TF 2.16 ``tf.keras`` is
# Keras 3 unless TF_USE_LEGACY_KERAS=1 is set before TensorFlow resolves ``tf.keras``; a Keras 3
# optimizer then fails in compile() ("Could not interpret optimizer identifier").
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import warnings

import numpy as np
import tensorflow as tf

# raised by transformers' own TF code on every fit() epoch with tf-keras 2.21; nothing a learner can act on
warnings.filterwarnings("ignore", message="`seed_generator` is deprecated")

from ..i18n import tr  # noqa: E402

if not tf.keras.optimizers.Adam.__module__.startswith("tf_keras"):
    raise RuntimeError(tr(
        "tf.keras is Keras 3 here, but transformers' TensorFlow models need Keras 2 (tf-keras). Import "
        "seghelpers.tf before using tf.keras, or set TF_USE_LEGACY_KERAS=1 before importing TensorFlow.",
        "这里的 tf.keras 是 Keras 3，而 transformers 的 TensorFlow 模型需要 Keras 2（tf-keras）。请在使用 tf.keras "
        "之前先 import seghelpers.tf，或者在 import TensorFlow 之前设置 TF_USE_LEGACY_KERAS=1。"))

from ..images import as_rgb, as_rgb_array
from ..labels import IGNORE_INDEX
from ..metrics import MeanIoU, named_metrics
from .fast import fast_training  # noqa: F401 (re-exported: shtf.fast_training)
from .progress import LiveProgress  # noqa: F401 (re-exported: shtf.LiveProgress)

#: the guide's tf.image jitter settings (brightness delta is now on the [0, 1] scale)
JITTER = dict(brightness=0.25, contrast=(0.5, 2.0), saturation=(0.75, 1.25), hue=0.1)


def to_channels_first_uint8(image) -> np.ndarray:
    """Any image :func:`seghelpers.as_rgb` accepts -> (3, H, W) uint8 (``TypeError`` otherwise)."""
    arr = as_rgb_array(image)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def check_num_classes(num_classes: int, where: str) -> None:
    """Refuse a one-channel output: argmax over one channel is always class 0 and softmax CE is always 0."""
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(tr(
            f"{where}: {num_classes} output channel; with one class the softmax loss is always 0 and the argmax "
            "always class 0, so nothing is learned or measured. Train with a background class: id2label "
            "{0: 'background', 1: '<object>'} (masks 0 = background, 1 = object, reduce_labels false).",
            f"{where}：只有 {num_classes} 个输出通道；只有一个类别时，softmax 损失恒为 0，argmax 也永远是类别 0，"
            "模型什么也学不到，指标也测不出任何东西。请加一个背景类别再训练：id2label "
            "{0: 'background', 1: '<object>'}（掩码 0 = 背景，1 = 目标，reduce_labels 为 false）。"))


def aug_transforms(image, jitter: dict | None = None, seed=None) -> np.ndarray:
    """The guide's tf.image colour jitter, made correct: returns (3, H, W) uint8."""
    j = JITTER if jitter is None else jitter
    x = tf.convert_to_tensor(as_rgb_array(image), dtype=tf.float32) / 255.0
    x = tf.image.random_brightness(x, j["brightness"], seed=seed)
    x = tf.image.random_contrast(x, *j["contrast"], seed=seed)
    x = tf.image.random_saturation(x, *j["saturation"], seed=seed)
    x = tf.image.random_hue(x, j["hue"], seed=seed)
    x = tf.clip_by_value(x, 0.0, 1.0)
    x = tf.cast(tf.round(x * 255.0), tf.uint8)
    return np.ascontiguousarray(tf.transpose(x, (2, 0, 1)).numpy())


def make_transforms(image_processor, augment: bool = True, jitter: dict | None = None, *, meta=None):
    """Return ``(train_transforms, val_transforms)`` for ``Dataset.set_transform`` (numpy outputs).

    ``meta``: the data set's :class:`seghelpers.DatasetMeta`; the processor's ``do_reduce_labels`` must
    match its ``reduce_labels`` (``ValueError`` naming the fix otherwise). Without ``meta`` the first batch
    is checked against the data set its masks were loaded from by :func:`seghelpers.load_scene_parse`.
    """
    from ..meta import check_batch, check_processor

    if meta is not None:
        check_processor(image_processor, meta, "shtf.make_transforms")

    def _process(images, annotations):
        check_batch(image_processor, meta, annotations, "shtf.make_transforms")
        return image_processor(images, annotations, input_data_format="channels_first", return_tensors="np")

    def train_transforms(batch):
        images = [aug_transforms(x, jitter) if augment else to_channels_first_uint8(x) for x in batch["image"]]
        return _process(images, list(batch["annotation"]))

    def val_transforms(batch):
        return _process([to_channels_first_uint8(x) for x in batch["image"]], list(batch["annotation"]))

    return train_transforms, val_transforms


def masked_segformer_loss(logits_nhwc, labels, ignore_index: int = IGNORE_INDEX):
    """Per-pixel cross-entropy that ignores ``ignore_index`` *before* it reaches the sparse loss."""
    check_num_classes(logits_nhwc.shape[-1], "masked_segformer_loss")
    labels = tf.cast(labels, tf.int32)
    up = tf.image.resize(logits_nhwc, size=tf.shape(labels)[1:], method="bilinear")
    mask = tf.not_equal(labels, ignore_index)
    safe = tf.where(mask, labels, tf.zeros_like(labels))
    per_pixel = tf.keras.losses.sparse_categorical_crossentropy(safe, up, from_logits=True)
    mask_f = tf.cast(mask, per_pixel.dtype)
    loss = tf.reduce_sum(per_pixel * mask_f) / tf.maximum(tf.reduce_sum(mask_f), 1.0)
    return tf.reshape(loss, (1,))


#: ``loss=`` values of ``compile`` that keep the model's own loss
_OWN_LOSS = (None, "auto", "auto_with_warning", "passthrough")


def _keras_loss_message(loss, metrics) -> str:
    from ..i18n import tr

    what = f"loss={loss!r}" if loss not in _OWN_LOSS else f"metrics={metrics!r}"
    return tr(
        f"model.compile({what}): a SegFormer computes its own loss from the labels (masked at 255 by the kit), and "
        "its logits are (batch, classes, height/4, width/4), channels first at a quarter of the label size, so a "
        "Keras loss or metric on (batch, height, width) labels fails with shape errors, or measures the wrong thing. "
        "Compile with the optimizer only: model.compile(optimizer=optimizer); measure with "
        "transformers.KerasMetricCallback(metric_fn=shtf.ComputeMetrics(meta=meta), eval_dataset=...).",
        f"model.compile({what})：SegFormer 根据标签自己计算损失（套件已让它先去掉值为 255 的像素），而且它的 logits 形状是 "
        "(batch, 类别数, 高/4, 宽/4)：通道在前、只有标签尺寸的四分之一。所以对 (batch, 高, 宽) 标签计算的 Keras 损失或"
        "指标要么报形状错误，要么算的不是你想要的东西。compile 时只传优化器：model.compile(optimizer=optimizer)；"
        "评估用 transformers.KerasMetricCallback(metric_fn=shtf.ComputeMetrics(meta=meta), eval_dataset=...)。")


def fix_loss(model):
    """Make a ``TFSegformerForSemanticSegmentation`` use :func:`masked_segformer_loss`. Returns the model.

    Its ``compile`` then refuses a Keras ``loss`` or ``metrics`` (``ValueError`` saying why and what to do:
    compile with the optimizer only), instead of TensorFlow's shape errors at the first step.
    """
    ignore = model.config.semantic_loss_ignore_index

    def hf_compute_loss(self, logits, labels):
        return masked_segformer_loss(logits, labels, ignore)

    model.hf_compute_loss = types.MethodType(hf_compute_loss, model)
    keras_compile = model.compile

    def compile(self, optimizer="rmsprop", loss="auto_with_warning", metrics=None, *args, **kwargs):  # noqa: A001
        own_loss = loss is None or (isinstance(loss, str) and loss in _OWN_LOSS)
        if not own_loss or metrics:
            raise ValueError(_keras_loss_message(loss, metrics))
        return keras_compile(optimizer, loss, metrics, *args, **kwargs)

    model.compile = types.MethodType(compile, model)
    return model


def load_model(checkpoint: str, fix_loss_fn: bool = True, *, meta=None, **kwargs):
    """``TFAutoModelForSemanticSegmentation.from_pretrained`` that survives PyTorch-only folders; loss fixed.

    * ``meta``: the data set's :class:`seghelpers.DatasetMeta`; the model gets its ``id2label`` /
      ``label2id`` (a new classifier when the class count differs from the checkpoint's);
    * a folder without ``tf_model.h5``: ``from_pt=True`` (the TF loader crashes on ``model.safetensors``);
      with ``tf_model.h5`` next to safetensors: ``use_safetensors=False``;
    * another number of classes than a PyTorch-only checkpoint: transformers' PyTorch->TF conversion cannot
      drop the mismatched classifier (``cannot reshape array``), so the classifier is replaced in the
      safetensors file itself (numpy, seeded, normal(0, ``initializer_range``) as transformers initialises it)
      in a temporary folder; no PyTorch classes are needed, so ``USE_TF=1`` works;
    * ``fix_loss_fn``: apply :func:`fix_loss` (the loss that masks label 255 before the cross-entropy).

    Raises ``TypeError`` naming where an image-processor keyword (``do_reduce_labels``, ``size``...) belongs.
    """
    import shutil
    import tempfile

    from transformers import TFAutoModelForSemanticSegmentation

    from ..checkpoints import model_load_args

    checkpoint, kwargs = model_load_args(checkpoint, meta, kwargs, "shtf.load_model")
    path = Path(checkpoint)
    tmp = None
    if path.is_dir() and not (path / "tf_model.h5").exists():
        kwargs.setdefault("from_pt", True)
        if kwargs.get("id2label") is not None:
            from ..checkpoints import reheaded_copy

            tmp = tempfile.mkdtemp(prefix="segkit-rehead-")
            if reheaded_copy(path, kwargs["id2label"], tmp):
                checkpoint = tmp
    elif path.is_dir():  # TF weights next to model.safetensors: read the TF file (the safetensors path crashes)
        kwargs.setdefault("use_safetensors", False)
    try:
        model = TFAutoModelForSemanticSegmentation.from_pretrained(str(checkpoint), **kwargs)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return fix_loss(model) if fix_loss_fn else model


def upsample_argmax(logits_nchw, size) -> tf.Tensor:
    """(N, C, h, w) logits -> (N, H, W) int64 ids (bilinear, half-pixel centres = torch align_corners=False)."""
    x = tf.transpose(tf.convert_to_tensor(logits_nchw), (0, 2, 3, 1))
    check_num_classes(x.shape[-1], "upsample_argmax")
    if tuple(x.shape[1:3]) != tuple(size):
        x = tf.image.resize(x, size=tuple(size), method="bilinear")
    return tf.argmax(x, axis=-1)


class ComputeMetrics:
    """``metric_fn`` for ``transformers.KerasMetricCallback``: mean IoU with per-class keys named by label.

    Keys as in the guide: ``val_mean_iou``, ``val_mean_accuracy``, ``val_overall_accuracy``,
    ``val_iou_<name>``, ``val_accuracy_<name>``, ... (labels are already reduced: ignore = 255).

    ``meta``: the data set's :class:`seghelpers.DatasetMeta` (names, class count, ignore index). Without it,
    ``id2label`` names the classes; ``num_labels`` alone is only ADE20K's 150 (any other count raises
    ``ValueError`` naming ``meta=``: ADE's names on another data set would pass silently into the Keras
    history and early-stopping keys). A ``num_labels`` that contradicts the names raises too.
    """

    def __init__(self, num_labels: int | None = None, id2label=None, ignore_index: int | None = None,
                 per_class: bool = True, *, meta=None):
        from ..meta import resolve

        if num_labels is not None:
            check_num_classes(num_labels, "ComputeMetrics(num_labels=...)")
        m = resolve(meta, id2label, num_labels=num_labels, where="shtf.ComputeMetrics")
        check_num_classes(m.num_labels, "ComputeMetrics(num_labels=...)")
        self.meta = m
        self.num_labels = m.num_labels
        self.ignore_index = (m.ignore_index if meta is not None else IGNORE_INDEX) if ignore_index is None else ignore_index
        self.id2label = dict(m.id2label)
        self.per_class = per_class

    def __call__(self, eval_predictions):
        logits, labels = eval_predictions
        labels = np.asarray(labels)
        pred = upsample_argmax(logits, labels.shape[-2:]).numpy()
        metrics = MeanIoU(self.num_labels, self.ignore_index).update(pred, labels).compute()
        if not self.per_class:
            metrics = {k: v for k, v in metrics.items() if not k.startswith("per_category")}
        return named_metrics(metrics, self.id2label, prefix="val_")


def to_tf_dataset(ds, batch_size: int, shuffle: bool):
    """``Dataset.to_tf_dataset`` yielding ``{"pixel_values", "labels"}`` batches (after ``set_transform``).

    The shuffle order follows TensorFlow's global seed: call ``tf.keras.utils.set_random_seed(seed)``
    first for a reproducible run.

    Trap fixed here: for a dataset with ``set_transform``, datasets 5.0 registers a clean-up that
    deletes the *source* dataset's Arrow table when the tf.data object is garbage collected, so the
    next use of ``train_ds`` fails with "'Dataset' object has no attribute '_data'". We convert a
    shallow copy, which the clean-up may empty without harm.
    """
    import copy

    from transformers import DefaultDataCollator

    collator = DefaultDataCollator(return_tensors="np")
    return copy.copy(ds).to_tf_dataset(columns=["pixel_values", "labels"], batch_size=batch_size, shuffle=shuffle,
                            collate_fn=collator, prefetch=False)


def predict(model, image_processor, images, batch_size: int = 8) -> list[np.ndarray]:
    """Segment images by hand (there is no TF pipeline): processor -> model -> upsample -> argmax.

    ``images``: one image or a list, each anything :func:`seghelpers.as_rgb` accepts (converted to RGB).
    Returns one (H, W) int64 array of class ids per image at its original size. Raises ``TypeError``
    for an unreadable image and ``ValueError`` for a one-channel model. To save one:
    ``sh.save_class_map(ids, "x.png")`` (a PNG of the ids, uint8; ``Image.fromarray`` refuses int64); to
    look at it: ``sh.colorize(ids, meta=meta)``.
    """
    check_num_classes(model.config.num_labels, "predict")
    single = not isinstance(images, (list, tuple))
    images = [as_rgb(im, f"images[{i}]") for i, im in enumerate([images] if single else list(images))]
    out: list[np.ndarray] = []
    for i in range(0, len(images), batch_size):
        chunk = images[i:i + batch_size]
        inputs = image_processor([to_channels_first_uint8(im) for im in chunk],
                                 input_data_format="channels_first", return_tensors="tf")
        logits = model(pixel_values=inputs["pixel_values"], training=False).logits
        for img, lg in zip(chunk, tf.unstack(logits)):
            w, h = img.size
            out.append(upsample_argmax(lg[None], (h, w))[0].numpy())
    return out[0] if single else out
