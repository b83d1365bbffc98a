"""A faster drop-in for ``SegformerImageProcessor`` (the slow, PIL-based one) on PIL RGB batches.

Same numbers, fewer passes. For each image the slow processor converts PIL -> numpy -> PIL,
resizes (PIL BILINEAR), converts back, rescales in float64, casts to float32, normalises in float32
and transposes to channels-first: five full-size array passes after the resize. Here:

* images: the same PIL resize on the image as given, then per channel one fused
  ``x * (rescale_factor / std) - mean / std`` in float32, written straight into the (N, 3, H, W)
  output. It differs from the slow three-step arithmetic only by float32 rounding (~1e-7; tests
  allow 1e-5);
* segmentation maps: PIL NEAREST resize first (it only picks pixels, so it commutes with any
  per-value mapping), then ``do_reduce_labels`` as a 256-entry lookup table on the small result
  (0 -> 255, k -> k - 1, 255 -> 255, exactly the slow ``reduce_label``), widened to int64: the labels
  are identical.

Inputs this fast path does not cover (non-RGB images, numpy channels-first images, label values
outside 0..255, ``do_resize=False``, per-call overrides such as ``size=``) are handed to the wrapped
slow processor, so results never differ, only the speed.

The core needs numpy and Pillow only; ``return_tensors="pt"`` / ``"tf"`` import torch / TensorFlow
then, not before. Why not ``SegformerImageProcessorFast``: in transformers 4.57.6 it returns one
label map for a batch of several, and its antialiased resize moves pixel values by up to ~0.02.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

#: raw annotation value -> reduced label (the slow processor's ``reduce_label``): 0 -> 255, k -> k - 1, 255 -> 255
_REDUCE_LUT = (np.arange(256) - 1).astype(np.uint8)
_REDUCE_LUT[[0, 255]] = 255
_LABEL_MODES = ("L", "P")


class FastSegformerProcessor:
    """Wrap a slow ``SegformerImageProcessor``; call it like the processor.

    >>> fast = FastSegformerProcessor(SegformerImageProcessor(do_reduce_labels=True))
    >>> batch = fast(images, segmentation_maps=annotations, return_tensors="pt")

    Returns a dict with ``pixel_values`` (N, 3, H, W) float32 and, given maps, ``labels`` (N, H, W)
    int64 — the slow processor's arrays (labels identical, pixel values within float32 rounding).
    """

    def __init__(self, processor):
        self.processor = processor
        size = dict(processor.size)
        self.do_resize = bool(processor.do_resize)
        self.height, self.width = size.get("height"), size.get("width")
        self.resample = int(processor.resample)
        self.do_rescale = bool(processor.do_rescale)
        self.rescale_factor = float(processor.rescale_factor)
        self.do_normalize = bool(processor.do_normalize)
        self.image_mean = _per_channel(processor.image_mean)
        self.image_std = _per_channel(processor.image_std)
        self.do_reduce_labels = bool(processor.do_reduce_labels)
        self._affine = self._make_affine()
        self._label_lut = _REDUCE_LUT if self.do_reduce_labels else None

    @classmethod
    def from_pretrained(cls, checkpoint, **kwargs) -> "FastSegformerProcessor":
        """Load the slow processor (``SegformerImageProcessor.from_pretrained``) and wrap it."""
        from transformers import SegformerImageProcessor

        return cls(SegformerImageProcessor.from_pretrained(checkpoint, **kwargs))

    def __repr__(self) -> str:
        return (f"FastSegformerProcessor(size=({self.height}, {self.width}), do_reduce_labels={self.do_reduce_labels}, "
                f"mean={self.image_mean.tolist()}, std={self.image_std.tolist()})")

    def _make_affine(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-channel float32 ``(a, b)``: ``pixel = uint8 * a + b`` does rescale + normalise in one step.

        Without rescaling the slow processor computes ``(float32(x) - mean) / std``; that is done as is
        (``a`` = mean, ``b`` = std then), since values up to ~1000 would magnify the rounding of a fused step.
        """
        if self.do_rescale and self.do_normalize:
            return ((self.rescale_factor / self.image_std).astype(np.float32),
                    (-self.image_mean / self.image_std).astype(np.float32))
        if self.do_rescale:
            return np.full(3, self.rescale_factor, np.float32), np.zeros(3, np.float32)
        if self.do_normalize:
            return self.image_mean.astype(np.float32), self.image_std.astype(np.float32)
        return None  # neither: the slow processor keeps uint8; leave that to it

    # -- public API -------------------------------------------------------------------------
    def __call__(self, images, segmentation_maps=None, return_tensors=None, **kwargs):
        return self.preprocess(images, segmentation_maps, return_tensors=return_tensors, **kwargs)

    def preprocess(self, images, segmentation_maps=None, return_tensors=None, **kwargs):
        single = not isinstance(images, (list, tuple))
        image_list = [images] if single else list(images)
        maps = None
        if segmentation_maps is not None:
            maps = [segmentation_maps] if not isinstance(segmentation_maps, (list, tuple)) else list(segmentation_maps)
        fast_images = self._fast_images(image_list) if not kwargs else None
        fast_maps = self._fast_maps(maps) if (maps is not None and fast_images is not None) else None
        if fast_images is None or (maps is not None and fast_maps is None):
            # anything the fast path does not cover: the slow processor, unchanged
            return self.processor(images, segmentation_maps=segmentation_maps, return_tensors=return_tensors, **kwargs)

        data = {"pixel_values": self._pixels(fast_images)}
        if fast_maps is not None:
            data["labels"] = self._labels(fast_maps)
        return _convert(data, return_tensors)

    # -- fast path --------------------------------------------------------------------------
    def _fast_images(self, images) -> list | None:
        """PIL RGB images (numpy (H, W, 3) uint8 accepted) or None if the fast path does not apply."""
        if not images or not self.do_resize or self.height is None or self.width is None or self._affine is None:
            return None
        out = []
        for img in images:
            if isinstance(img, Image.Image):
                if img.mode != "RGB":
                    return None
            elif isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 \
                    and img.shape[0] > 3:
                img = Image.fromarray(img)
            else:
                return None
            out.append(img)
        return out

    def _fast_maps(self, maps) -> list | None:
        """8-bit PIL maps (values 0..255), or None."""
        if len(maps) == 0:
            return None
        out = []
        for m in maps:
            if isinstance(m, Image.Image) and m.mode in _LABEL_MODES:
                out.append(m)
                continue
            a = np.asarray(m)
            if a.ndim != 2 or a.dtype.kind not in "iu" or a.size == 0 or a.min() < 0 or a.max() > 255:
                return None
            out.append(Image.fromarray(a.astype(np.uint8)))
        return out

    def _pixels(self, images) -> np.ndarray:
        h, w = self.height, self.width
        a, b = self._affine
        out = np.empty((len(images), 3, h, w), np.float32)
        for i, img in enumerate(images):
            rgb = np.asarray(img.resize((w, h), resample=self.resample))
            for c in range(3):  # uint8 -> float32 happens inside the first ufunc; two passes per channel
                if self.do_rescale:
                    np.multiply(rgb[:, :, c], a[c], out=out[i, c], dtype=np.float32)
                    out[i, c] += b[c]
                else:
                    np.subtract(rgb[:, :, c], a[c], out=out[i, c], dtype=np.float32)
                    out[i, c] /= b[c]
        return out

    def _labels(self, maps) -> np.ndarray:
        h, w = self.height, self.width
        out = np.empty((len(maps), h, w), np.int64)
        for i, m in enumerate(maps):
            ids = np.asarray(m.resize((w, h), resample=Image.NEAREST))  # uint8
            out[i] = ids if self._label_lut is None else np.take(self._label_lut, ids)  # widened to int64 here
        return out


def _per_channel(v) -> np.ndarray:
    a = np.atleast_1d(np.asarray(v, dtype=np.float64))
    return np.repeat(a, 3) if a.size == 1 else a


def _convert(data: dict, return_tensors) -> dict:
    """numpy -> the requested tensors; torch / TensorFlow are imported only when asked for."""
    rt = getattr(return_tensors, "value", return_tensors)  # accept transformers' TensorType too
    if rt is None:
        return {k: list(v) for k, v in data.items()}  # like the slow processor: a list of arrays
    if rt == "np":
        return data
    if rt == "pt":
        import torch

        return {k: torch.from_numpy(v) for k, v in data.items()}
    if rt == "tf":
        import tensorflow as tf

        return {k: tf.convert_to_tensor(v) for k, v in data.items()}
    raise ValueError(f"return_tensors={return_tensors!r}: use None, 'np', 'pt' or 'tf'")
