"""The ADE20K colour palette and vectorised colouring.

``ade_palette()`` follows the guide's convention: row ``i`` colours *model* class ``i``
(reduced label), so row 0 ("wall") is ``[120, 120, 120]``. It is the DeepLab / mmseg ADE20K
colormap without its leading background entry. Raw annotations (0 = other, 1..150) are coloured
with :func:`colorize_annotation`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

from .i18n import tr
from .labels import IGNORE_INDEX

#: colour used for ignored (255) / "other" pixels and for ids outside the palette
IGNORE_COLOR = (0, 0, 0)


@lru_cache(maxsize=1)
def _palette() -> np.ndarray:
    text = resources.files("seghelpers").joinpath("data/ade20k-palette.json").read_text("utf-8")
    pal = np.asarray(json.loads(text), dtype=np.uint8)
    pal.setflags(write=False)
    return pal


def ade_palette() -> np.ndarray:
    """(150, 3) uint8 array; row i is the RGB colour of model class i."""
    return _palette().copy()


@lru_cache(maxsize=4)
def _lut(palette_key: bytes | None) -> np.ndarray:
    """256 colours as one 3-byte item each (read-only): ``np.take`` then copies whole pixels."""
    pal = _palette() if palette_key is None else np.frombuffer(palette_key, np.uint8).reshape(-1, 3)
    lut = np.zeros((256, 3), np.uint8)  # every id without a colour (255 included) stays black
    n = min(len(pal), 256)
    lut[:n] = pal[:n]
    lut[IGNORE_INDEX] = IGNORE_COLOR
    rows = lut.view("V3").ravel()
    rows.setflags(write=False)
    return rows


def colorize(seg, palette=None, *, meta=None) -> np.ndarray:
    """Colour a (H, W) map of model class ids -> (H, W, 3) uint8 RGB.

    One table lookup for the whole image (no per-class loop), whole 3-byte pixels at a time. Pixels
    equal to 255 (ignored) and ids without a palette entry are black. ``meta``: the data set's
    :class:`seghelpers.DatasetMeta`, whose palette is used (it may also be passed as ``palette``);
    ``palette``: (N, 3) uint8, default :func:`ade_palette`. Raises ``ValueError`` for a map that is not
    2-D, ``TypeError`` for non-integer ids.
    """
    if meta is not None:
        palette = meta.palette
    elif hasattr(palette, "palette") and hasattr(palette, "reduce_labels"):  # a DatasetMeta passed as palette
        palette = palette.palette
    seg = np.asarray(seg)
    if seg.ndim != 2:
        raise ValueError(tr(f"colorize expects a (H, W) segmentation map, got shape {seg.shape}",
                            f"colorize 需要 (H, W) 的分割图，实际形状是 {seg.shape}"))
    if not np.issubdtype(seg.dtype, np.integer):
        raise TypeError(tr(f"colorize expects integer class ids, got dtype {seg.dtype}",
                           f"colorize 需要整数类别编号，实际 dtype 是 {seg.dtype}"))
    key = None if palette is None else np.ascontiguousarray(palette, dtype=np.uint8).tobytes()
    if not (seg.dtype == np.uint8 or (seg.size and 0 <= seg.min() and seg.max() < 256)):
        # ids outside 0..255 (e.g. negative padding) become black
        seg = np.where((seg >= 0) & (seg < 256), seg, IGNORE_INDEX)
    # one 3-byte item per pixel: ~4x faster than indexing a (256, 3) table, and the (H, W) result
    # is already the contiguous (H, W, 3) image
    return np.take(_lut(key), seg).view(np.uint8).reshape(*seg.shape, 3)


def colorize_annotation(annotation) -> np.ndarray:
    """Colour a *raw* ADE annotation (0 = other -> black, k -> palette row k-1)."""
    from .labels import reduce_labels

    return colorize(reduce_labels(annotation))


def ids_from_colors(color_mask) -> np.ndarray:
    """Convert an ADE-palette *colour* mask (H, W, 3) back to a raw annotation (0 = other, 1..150).

    Black becomes 0 ("other"). A colour that is not in the palette raises an error naming it, since
    guessing would silently corrupt labels (e.g. JPEG-compressed masks are not recoverable).
    """
    rgb = np.asarray(color_mask)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(tr(f"ids_from_colors expects an (H, W, 3) colour mask, got shape {rgb.shape}",
                            f"ids_from_colors 需要 (H, W, 3) 的彩色掩码，实际形状是 {rgb.shape}"))
    rgb = rgb[..., :3].astype(np.uint32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    pal = _palette().astype(np.uint32)
    pal_codes = np.concatenate([[0], (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]])
    # the ADE palette repeats a few colours; the first (lowest class id) wins
    order = np.argsort(pal_codes, kind="stable")
    sorted_codes = pal_codes[order]
    pos = np.clip(np.searchsorted(sorted_codes, codes), 0, len(sorted_codes) - 1)
    found = sorted_codes[pos] == codes
    if not found.all():
        c = int(codes[~found][0])
        colour = ((c >> 16) & 255, (c >> 8) & 255, c & 255)
        raise ValueError(tr(f"colour {colour} is not in the ADE palette; "
                            "this mask cannot be converted to class ids (was it saved as JPEG or resized bilinearly?)",
                            f"颜色 {colour} 不在 ADE 调色板里；这个掩码无法转换成类别编号"
                            "（它是不是被存成过 JPEG，或者用双线性插值调整过尺寸？）"))
    return order[pos].astype(np.uint8)
