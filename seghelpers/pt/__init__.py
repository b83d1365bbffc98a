"""PyTorch layer: transforms, Trainer metrics, prediction. Importing this imports torch (not TF).

It sets ``USE_TF=0`` (unless already set) before transformers is first imported: with TensorFlow in
the same environment, transformers would otherwise import it too (~8 s, ~640 MB). Notebooks set it
even earlier, in their setup cell. ``seghelpers.tf`` imported afterwards undoes it (any import order
works), and a ``USE_TF``/``USE_TORCH`` value that hides PyTorch raises ``ImportError`` naming the
variable (see :mod:`seghelpers.frameworks`).
"""
from __future__ import annotations

from .. import frameworks as _frameworks

# USE_TF=0 (unless set, or TF already loaded) must precede the first transformers import; seghelpers.tf undoes
# it when imported later. A USE_TF/USE_TORCH value of the user's that hides PyTorch is named here, at once.
_frameworks.hide_tensorflow_for_pytorch()
_frameworks.ensure("pt")

import numpy as np
import torch
from torch import nn

from ..i18n import tr
from ..images import as_rgb
from ..labels import IGNORE_INDEX, NUM_LABELS
from ..metrics import MeanIoU
from .fast import fast_segformer, fast_training, unsupported as _fast_unsupported, upsample_argmax_streamed

#: the guide's ColorJitter settings
JITTER = dict(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.1)


def make_transforms(image_processor, augment: bool = True, jitter: dict | None = None, seed: int | None = None,
                    fast: bool = False, *, meta=None):
    """Return ``(train_transforms, val_transforms)`` for ``Dataset.set_transform``.

    ``meta``: the data set's :class:`seghelpers.DatasetMeta`. The processor's ``do_reduce_labels`` must
    match its ``reduce_labels`` (``ValueError`` naming the fix otherwise: training on the other convention
    is silently wrong). Without ``meta`` the first batch is checked against the data set its masks were
    loaded from by :func:`seghelpers.load_scene_parse`.

    Train: torchvision ``ColorJitter`` (guide settings) on the image, then the image processor on
    image + annotation. Val: the processor only. Both return ``pixel_values`` and ``labels``.

    ``seed=None`` draws the jitter from torch's global RNG, as the guide does. With a ``seed`` each
    image's jitter is a function of (seed, epoch, image content) only — drawn under a forked RNG, so the
    global stream (dropout, shuffling) is untouched. That makes a resumed run bit-identical to an
    uninterrupted one: the Trainer restores the global RNG from the checkpoint, but its data loader has
    already prefetched (and jittered) the next batch by then. Pass ``AugmentationEpoch(train_transforms)``
    to the Trainer's ``callbacks`` so the epoch advances.

    ``fast=False`` (the default) calls ``image_processor`` itself, as the guide does; ``fast=True`` (opt-in,
    notebook 04's ``fast`` parameter) runs the processor's arithmetic through
    :class:`seghelpers.fastproc.FastSegformerProcessor` (identical labels, pixel values within float32
    rounding; see ``make bench``).
    """
    import hashlib

    from torchvision.transforms import ColorJitter

    from ..fastproc import FastSegformerProcessor

    from ..meta import check_batch, check_processor

    if meta is not None:
        check_processor(image_processor, meta, "shpt.make_transforms")
    jit = ColorJitter(**(JITTER if jitter is None else jitter))
    proc = FastSegformerProcessor(image_processor) if fast else image_processor

    def _process(images, annotations):
        check_batch(image_processor, meta, annotations, "shpt.make_transforms")
        return proc(images, annotations, return_tensors="pt")

    def _jitter(img):
        if seed is None:
            return jit(img)
        digest = hashlib.blake2b(img.tobytes(), digest_size=8, key=str(seed).encode()).digest()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed((int.from_bytes(digest, "little") + train_transforms.epoch) % 2**63)
            return jit(img)

    def train_transforms(batch):
        images = [_jitter(x) for x in batch["image"]] if augment else list(batch["image"])
        return _process(images, list(batch["annotation"]))

    def val_transforms(batch):
        return _process(list(batch["image"]), list(batch["annotation"]))

    train_transforms.epoch = 0
    return train_transforms, val_transforms


def _epoch_callback_class():
    from transformers import TrainerCallback

    class AugmentationEpoch(TrainerCallback):
        """Tell seeded train transforms which epoch it is (so every epoch gets fresh, reproducible jitter)."""

        def __init__(self, train_transforms):
            self.train_transforms = train_transforms

        def on_epoch_begin(self, args, state, control, **kwargs):
            self.train_transforms.epoch = int(state.epoch or 0)

    return AugmentationEpoch


def AugmentationEpoch(train_transforms):  # noqa: N802 - reads like the callback class it builds
    """A ``TrainerCallback`` that keeps ``train_transforms.epoch`` in step with training (see make_transforms)."""
    return _epoch_callback_class()(train_transforms)


def check_num_classes(num_classes: int, where: str) -> None:
    """Refuse a one-channel output: argmax over one channel is always class 0, whatever the logits say."""
    if int(num_classes) < 2:
        raise ValueError(tr(
            f"{where}: the model has {num_classes} output channel; argmax over one channel calls every pixel "
            "class 0, so predictions and mean IoU would be meaningless. Train with a background class: "
            "id2label {0: 'background', 1: '<object>'} (masks 0 = background, 1 = object, reduce_labels false).",
            f"{where}：模型只有 {num_classes} 个输出通道；在一个通道上做 argmax，每个像素都会被判为类别 0，"
            "预测结果和 mIoU 都没有意义。请加一个背景类别再训练：id2label {0: 'background', 1: '<object>'}"
            "（掩码 0 = 背景，1 = 目标，reduce_labels 为 false）。"))


def upsample_argmax(logits, size) -> torch.Tensor:
    """(N, C, h, w) logits -> (N, H, W) int64 class ids: bilinear upsample to ``size``, then argmax.

    On the CPU the upsampled float map is never built: :func:`seghelpers.pt.fast.upsample_argmax_streamed`
    works a band of rows at a time: faster than ``interpolate`` + ``argmax`` (``make bench``,
    benchmark 6), memory O(W x C) instead of O(H x W x C), class maps equal up to float32 near-ties.
    On a GPU it is ``interpolate`` + ``argmax``.
    """
    logits = torch.as_tensor(logits)
    check_num_classes(logits.shape[1], "upsample_argmax")
    if logits.shape[-2:] != tuple(size):
        if logits.device.type == "cpu":
            return upsample_argmax_streamed(logits, size)
        logits = nn.functional.interpolate(logits.float(), size=tuple(size), mode="bilinear", align_corners=False)
    return logits.argmax(dim=1)


def preprocess_logits_for_metrics(logits, labels):
    """For ``Trainer(preprocess_logits_for_metrics=...)``: keep (N, H, W) class ids, not (N, 150, h, w) logits.

    At 512x512 this turns 9.8 MB of float logits per image into 0.26 MB of uint8 ids (int16 above 255 classes).
    """
    if isinstance(logits, (tuple, list)):
        logits = logits[0]
    pred = upsample_argmax(logits, labels.shape[-2:])
    return pred.to(torch.uint8 if logits.shape[1] <= 255 else torch.int16)


class ComputeMetrics:
    """``compute_metrics`` for ``Trainer``: upsample (if given logits), argmax, mean IoU.

    Works both ways Trainer calls it:

    * classic: once with all predictions (``EvalPrediction`` of numpy arrays);
    * ``TrainingArguments(batch_eval_metrics=True)``: batch by batch with ``compute_result`` — only a
      ``num_labels x num_labels`` confusion matrix is kept, so memory does not grow with the eval set.

    Returns scalar metrics plus per-class lists (``per_category_iou``), as the guide does.
    ``meta``: the data set's :class:`seghelpers.DatasetMeta` (class count and ignore index from it);
    ``num_labels`` / ``ignore_index`` alone work too. Raises ``ValueError`` for fewer than 2 classes or a
    ``num_labels`` that contradicts ``meta``.
    """

    def __init__(self, num_labels: int | None = None, ignore_index: int | None = None, *, meta=None):
        if num_labels is not None:
            check_num_classes(num_labels, "ComputeMetrics(num_labels=...)")
        if meta is not None:
            from ..meta import resolve

            meta = resolve(meta, num_labels=num_labels, where="shpt.ComputeMetrics")
            num_labels = meta.num_labels
            ignore_index = meta.ignore_index if ignore_index is None else ignore_index
        num_labels = NUM_LABELS if num_labels is None else num_labels
        ignore_index = IGNORE_INDEX if ignore_index is None else ignore_index
        check_num_classes(num_labels, "ComputeMetrics(num_labels=...)")
        self.meta = meta
        self.acc = MeanIoU(num_labels, ignore_index)

    def _to_ids(self, predictions, labels):
        if isinstance(predictions, (tuple, list)):
            predictions = predictions[0]
        pred = torch.as_tensor(predictions)
        if pred.ndim == 4:  # raw logits
            pred = upsample_argmax(pred, tuple(labels.shape[-2:]))
        return pred.cpu().numpy(), torch.as_tensor(labels).cpu().numpy()

    def __call__(self, eval_pred, compute_result: bool | None = None):
        pred, labels = self._to_ids(eval_pred.predictions, eval_pred.label_ids)
        self.acc.update(pred, labels)
        if compute_result is False:
            return {}
        metrics = self.acc.compute()
        self.acc.reset()
        out = {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in metrics.items()}
        return out


def load_model(checkpoint: str, *, meta=None, **kwargs):
    """``AutoModelForSemanticSegmentation.from_pretrained(checkpoint, ...)`` for the data set ``meta`` describes.

    ``meta``: the data set's :class:`seghelpers.DatasetMeta`; the model gets its ``id2label`` / ``label2id``,
    and a new (seeded) classifier when the class count differs from the checkpoint's
    (``ignore_mismatched_sizes=True``). Other keywords go to ``from_pretrained``. Raises ``TypeError`` naming
    where an image-processor keyword (``do_reduce_labels``, ``size``...) belongs.
    """
    from transformers import AutoConfig, AutoModelForSemanticSegmentation

    from ..checkpoints import model_load_args

    checkpoint, kwargs = model_load_args(checkpoint, meta, kwargs, "shpt.load_model")
    if kwargs.get("id2label") is not None and "ignore_mismatched_sizes" not in kwargs:
        kwargs["ignore_mismatched_sizes"] = AutoConfig.from_pretrained(str(checkpoint)).num_labels != len(kwargs["id2label"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return AutoModelForSemanticSegmentation.from_pretrained(str(checkpoint), **kwargs)


@torch.no_grad()
def predict(model, image_processor, images, batch_size: int = 8, device=None, fast: bool = False) -> list[np.ndarray]:
    """Segment images: processor -> model -> bilinear upsample to each image's size -> argmax.

    ``images``: one image or a list; each anything :func:`seghelpers.as_rgb` accepts (PIL in any mode:
    RGBA, L, P, CMYK...; uint8 (H, W) / (H, W, 3) / (H, W, 4) arrays; float arrays in [0, 1]), converted
    to RGB first, as the pipeline does. Raises ``TypeError`` for anything else and ``ValueError`` for a
    model with a single output channel.

    Returns one (H, W) int64 array of model class ids per image, at the image's original size. To save
    one: ``sh.save_class_map(ids, "x.png")`` (a PNG of the ids, uint8; ``Image.fromarray(ids)`` fails on
    int64); to look at it: ``sh.colorize(ids, meta=meta)`` (RGB, the data set's colours).
    Batches images through the model as it is (``fast=False``, the default: the guide's model). ``fast=True``
    (opt-in, as notebook 05's ``fast`` parameter) runs an inference copy of a SegFormer model made
    for this call (:func:`seghelpers.pt.fast.fast_segformer`: fused attention, folded decode head; the
    same class maps up to float32 near-ties); models it cannot rewrite run as they are. ``make bench`` (benchmark 6) compares it with the transformers pipeline. Calling it
    many times on a large model: make the copy once, ``fast = fast_segformer(model)``, and pass that.
    """
    if device is None:
        device = next(model.parameters()).device
    num = getattr(getattr(model, "config", None), "num_labels", None)
    if num is not None:
        check_num_classes(num, "predict")
    model.eval()
    if fast and _fast_unsupported(model) is None:
        model = fast_segformer(model)
    single = not isinstance(images, (list, tuple))
    images = [as_rgb(im, f"images[{i}]") for i, im in enumerate([images] if single else list(images))]
    out: list[np.ndarray] = []
    for i in range(0, len(images), batch_size):
        chunk = images[i:i + batch_size]
        inputs = image_processor(chunk, return_tensors="pt")
        logits = model(pixel_values=inputs["pixel_values"].to(device)).logits
        for j, img in enumerate(chunk):
            w, h = img.size
            out.append(upsample_argmax(logits[j:j + 1].float(), (h, w))[0].cpu().numpy())
    return out[0] if single else out


#: files the Trainer writes into ``checkpoint-N``; a folder missing one was cut off mid-save
CHECKPOINT_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt")


def last_complete_checkpoint(folder) -> str | None:
    """The newest ``checkpoint-N`` in ``folder`` that was written completely, or None.

    ``transformers.trainer_utils.get_last_checkpoint`` returns the newest folder even if the run was
    killed while writing it; resuming from that one fails or, worse, loads a half state.
    """
    import re
    import warnings
    from pathlib import Path

    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted((int(m.group(1)), p) for p in folder.iterdir()
                   if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name)))
    for _, path in reversed(found):
        has_weights = any((path / f).exists() for f in ("model.safetensors", "pytorch_model.bin"))
        if has_weights and all((path / f).exists() for f in CHECKPOINT_FILES):
            return str(path)
        warnings.warn(tr(f"{path} is incomplete (interrupted while saving?); skipping it",
                         f"{path} 不完整（保存时被中断了？）；跳过这个检查点"))
    return None
