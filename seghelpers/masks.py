"""Reading and checking one mask file: decode (palette PNG, RGB colour masks, 16-bit) to mask values, refuse
lossy (JPEG) or misaligned masks and values that are no class, naming the file and the fix.

Core layer: numpy, PIL, and the data set's description (:mod:`.meta`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .i18n import tr
from .labels import NUM_LABELS
from .meta import ADE20K, DatasetMeta

_MASK_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


class DataError(ValueError):
    """A problem with the user's data; the message names the file and the fix."""


def _check_image(path: Path):
    """Open an image fully; return (size as it will be decoded, raw size, EXIF orientation)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode, raw_size = im.mode, im.size
            orientation = im.getexif().get(0x0112)  # EXIF Orientation
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as e:
        raise DataError(tr(f"{path}: cannot read this image ({e}). Re-download or re-export it, "
                           "or remove it together with its annotation.",
                           f"{path}：无法读取这张图像（{e}）。请重新下载或重新导出它，或者把它和对应的标注一起删掉。")) from None
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        bits = '16-bit' if mode.startswith('I;16') else '32-bit'
        raise DataError(tr(f"{path}: {mode} ({bits}) image; the models "
                           "expect 8-bit RGB. Convert it, e.g. with numpy: (arr / arr.max() * 255).astype('uint8').",
                           f"{path}：这是 {mode}（{bits}）图像，而模型需要 8 位 RGB 图像。请先转换，例如用 numpy："
                           "(arr / arr.max() * 255).astype('uint8')。"))
    # datasets applies the EXIF orientation when it decodes (ImageOps.exif_transpose): 5..8 swap width/height
    size = raw_size[::-1] if orientation in (5, 6, 7, 8) else raw_size
    return size, raw_size, orientation


def _voc_colormap() -> np.ndarray:
    """The PASCAL VOC colour map (256, 3) that labelling tools write into palette PNGs (index = class)."""
    cmap = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def _value_colors(labels: DatasetMeta) -> dict[int, tuple]:
    """mask value -> RGB colour under the dataset's convention (reduce_labels: 0 = black 'other')."""
    shift = 1 if labels.reduce_labels else 0
    out = {0: (0, 0, 0)} if labels.reduce_labels else {}
    for cid in range(labels.num_labels):
        out.setdefault(cid + shift, tuple(int(c) for c in labels.palette[cid]))
    return out


def _values_from_colors(rgb: np.ndarray, labels: DatasetMeta, path: Path, declared_palette: bool) -> np.ndarray:
    table = {}
    for value, colour in _value_colors(labels).items():
        table.setdefault((colour[0] << 16) | (colour[1] << 8) | colour[2], value)  # first (lowest value) wins
    rgb = rgb[..., :3].astype(np.uint32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    uniq, inv = np.unique(codes, return_inverse=True)
    unknown = [int(c) for c in uniq if int(c) not in table]
    if unknown:
        c = unknown[0]
        where = "the palette in dataset.json" if declared_palette else f"the palette of {labels.name}"
        where_zh = "dataset.json 的调色板" if declared_palette else f"{labels.name} 的调色板"
        rgb_c = ((c >> 16) & 255, (c >> 8) & 255, c & 255)
        raise DataError(tr(
            f"{path}: colour mask with {len(unknown)} colour(s) that are no class in {where}, e.g. "
            f"RGB {rgb_c}. Either save index masks (mode L PNG, pixel value = "
            "class value), or list each class's colour in dataset.json: \"palette\": [[r, g, b], ...] in id2label "
            "order. (A JPEG-compressed or bilinearly resized colour mask cannot be recovered: re-export it.)",
            f"{path}：彩色掩码里有 {len(unknown)} 种颜色不对应{where_zh}中的任何类别，例如 RGB {rgb_c}。"
            "请改存索引掩码（mode L 的 PNG，像素值 = 类别值），或者在 dataset.json 里按 id2label 的顺序列出每个类别的颜色："
            "\"palette\": [[r, g, b], ...]。（经过 JPEG 压缩或双线性调整尺寸的彩色掩码无法恢复，只能重新导出。）"))
    return np.asarray([table[int(c)] for c in uniq], np.uint8)[inv].reshape(codes.shape)


def read_mask(path, labels: DatasetMeta = ADE20K, declared_palette: bool = False) -> tuple[np.ndarray, bool]:
    """Decode one mask file to its (H, W) uint8 *mask values* (before label reduction).

    Returns ``(values, converted)``; ``converted`` is True when the file is not already a plain
    8-bit index mask (mode L / 1), i.e. it had to be decoded:

    * mode P (palette PNG): the indices are the values when the palette is the identity (gray
      ``i -> (i, i, i)``), the PASCAL VOC colour map, or the dataset's palette; otherwise the colours
      are decoded with the dataset's palette;
    * RGB/RGBA: R = G = B is read as gray; other colours are decoded with the dataset's palette;
    * 16-bit / 32-bit integer masks whose values fit 0..255; LA (alpha dropped).

    Raises :class:`DataError` naming the file and the fix for JPEG content (whatever the extension:
    JPEG is lossy, so edges get wrong classes), unreadable files, unknown colours, values above 255.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            fmt, mode = im.format, im.mode
            if fmt in ("JPEG", "MPO"):
                how = "" if path.suffix.lower() in (".jpg", ".jpeg") else f" although its name ends in {path.suffix}"
                how_zh = "" if not how else f"（虽然文件名以 {path.suffix} 结尾）"
                raise DataError(tr(
                    f"{path}: this mask is stored as {fmt}{how}. {fmt} is lossy: it blurs the values along every "
                    "edge into other classes. Export the masks again as lossless PNG (mode L, pixel value = class "
                    "value) from your labelling tool; converting this file to PNG does not undo the damage.",
                    f"{path}：这个掩码是以 {fmt} 格式保存的{how_zh}。{fmt} 是有损压缩，会把每条边缘上的值模糊成其他类别。"
                    "请从标注工具重新导出无损的 PNG 掩码（mode L，像素值 = 类别值）；把这个文件转存成 PNG 并不能修复已有的损坏。"))
            palette = im.getpalette() if mode == "P" else None
            arr = np.asarray(im)
            rgb = np.asarray(im.convert("RGB")) if mode == "P" else None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise DataError(tr(f"{path}: cannot read this annotation ({e}). Re-export it as PNG.",
                           f"{path}：无法读取这个标注文件（{e}）。请重新导出为 PNG。")) from None
    if mode == "L":
        return arr, False
    if mode == "1":
        return arr.astype(np.uint8), True
    if mode == "LA":
        return np.ascontiguousarray(arr[..., 0]), True
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise DataError(tr(f"{path}: {mode} mask with values {arr.min()}..{arr.max()}; class values must fit 0..255. "
                               "Re-export the mask with one value per class in 0..255 (mode L PNG).",
                               f"{path}：{mode} 掩码的取值范围是 {arr.min()}..{arr.max()}，而类别值必须在 0..255 之内。"
                               "请重新导出掩码，每个类别用 0..255 中的一个值（mode L 的 PNG）。"))
        return arr.astype(np.uint8), True
    if mode == "P":
        used = np.unique(arr)
        pal = np.zeros((256, 3), np.uint8)
        flat = np.asarray(palette or [], np.uint8)[: 768 - 768 % 3].reshape(-1, 3)
        pal[: len(flat)] = flat
        ident = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        colours = _value_colors(labels)
        own = np.array([colours.get(int(i), (-1, -1, -1)) for i in used])
        if (np.array_equal(pal[used], ident[used]) or np.array_equal(pal[used], _voc_colormap()[used])
                or np.array_equal(pal[used].astype(int), own)):
            return arr.astype(np.uint8), True
        return _values_from_colors(rgb, labels, path, declared_palette), True
    if mode in ("RGB", "RGBA"):
        rgb = arr[..., :3]
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
            return np.ascontiguousarray(rgb[..., 0]), True
        return _values_from_colors(rgb, labels, path, declared_palette), True
    raise DataError(tr(f"{path}: mode {mode} masks are not supported; save index masks as mode L PNG "
                       "(pixel value = class value).",
                       f"{path}：不支持 mode {mode} 的掩码；请把索引掩码保存为 mode L 的 PNG（像素值 = 类别值）。"))


#: thresholds (share of pixels) above which a mask was almost surely saved lossy (JPEG) or resized bilinearly
LOSSY_SPECKS = 0.01


LOSSY_RAMPS = 0.02


def lossy_traces(values: np.ndarray) -> tuple[float, float]:
    """``(specks, ramps)``: shares of pixels that differ from all 8 neighbours, and of pixels whose value
    lies strictly between its left/right or upper/lower neighbours' values.

    Drawn label maps are piecewise constant, so both are near 0 (the synthetic set: 0 and < 0.1 %);
    JPEG ringing and bilinear resizing leave isolated values and in-between ramps along every edge
    (a JPEG-compressed 3-class mask: 0.6-2 % specks, 5-8 % ramps).
    """
    v = np.asarray(values)
    if v.ndim != 2 or min(v.shape) < 3:
        return 0.0, 0.0
    p = np.pad(v.astype(np.int16), 1, mode="edge")
    h, w = v.shape
    c = p[1:1 + h, 1:1 + w]
    same = np.zeros(v.shape, bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                same |= p[dy:dy + h, dx:dx + w] == c
    ramps = np.zeros(v.shape, bool)
    for a, b in ((p[1:1 + h, 0:w], p[1:1 + h, 2:2 + w]), (p[0:h, 1:1 + w], p[2:2 + h, 1:1 + w])):
        ramps |= (c > np.minimum(a, b)) & (c < np.maximum(a, b))
    return float((~same).mean()), float(ramps.mean())


def check_values(path, values: np.ndarray, labels: DatasetMeta) -> None:
    """Refuse mask values that are no class under the dataset's convention (message names file and fix)."""
    n = labels.num_labels
    present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    top = n if labels.reduce_labels else n - 1
    bad = [int(v) for v in present if v > top and v != 255]
    if bad:
        if labels.reduce_labels:
            rule = f"0 = other, 1..{n} = classes"
            rule_zh = f"0 = 其他，1..{n} = 类别"
            hint = "Is this the right dataset, or does it need its own id2label.json?"
            hint_zh = "数据集选对了吗？还是它需要自己的 id2label.json？"
        else:
            rule = f"0..{n - 1} = classes, 255 = ignored"
            rule_zh = f"0..{n - 1} = 类别，255 = 忽略"
            hint = "Add the missing classes to id2label.json, or fix the masks."
            hint_zh = "请把缺少的类别补进 id2label.json，或者修正掩码。"
        raise DataError(tr(f"{path}: label value {bad[0]} is above {top} ({rule}; {labels.name} has {n} classes). {hint}",
                           f"{path}：标签值 {bad[0]} 超过了 {top}（{rule_zh}；{labels.name} 共有 {n} 个类别）。{hint_zh}"))


def check_annotation(path, image_size, num_labels=None, labels: DatasetMeta | None = None,
                     declared_palette: bool = False) -> tuple[np.ndarray, bool]:
    """Validate one annotation against its image: readable, lossless, decodable, same size, values in range.

    Returns ``(values, converted)`` as :func:`read_mask`. ``num_labels`` alone means an ADE-style set.
    """
    path = Path(path)
    if labels is None:
        from .labels import id2label as ade

        labels = ADE20K if num_labels in (None, NUM_LABELS) else DatasetMeta(
            {i: ade.get(i, str(i)) for i in range(int(num_labels))}, reduce_labels=True, name=str(path.parent))
    values, converted = read_mask(path, labels, declared_palette)
    size = values.shape[::-1]
    if size != tuple(image_size):
        raise DataError(tr(f"{path}: annotation size {size[0]}x{size[1]} differs from its image "
                           f"{image_size[0]}x{image_size[1]}; annotations must be pixel-aligned with images "
                           "(resize masks with nearest neighbour, never bilinear).",
                           f"{path}：标注尺寸 {size[0]}x{size[1]} 与对应图像的 {image_size[0]}x{image_size[1]} 不一致；"
                           "标注必须和图像逐像素对齐（调整掩码尺寸只能用最近邻插值，不能用双线性）。"))
    specks, ramps = lossy_traces(values)
    if specks > LOSSY_SPECKS or ramps > LOSSY_RAMPS:
        raise DataError(tr(
            f"{path}: {specks:.1%} of the pixels are single-pixel specks and {ramps:.1%} lie on value ramps between "
            "two regions: the traces a JPEG (or a bilinear resize) leaves in a mask; drawn masks have almost none. "
            "Was it ever saved as JPEG? Export the masks again as lossless PNG from the original labels (resize "
            "masks with nearest neighbour only).",
            f"{path}：{specks:.1%} 的像素是孤立的单像素噪点，{ramps:.1%} 的像素落在两个区域之间的渐变过渡上——"
            "这正是 JPEG（或双线性调整尺寸）在掩码里留下的痕迹，手工标注的掩码几乎没有这种像素。"
            "它是不是曾经被存成 JPEG？请从原始标注重新导出无损的 PNG 掩码（调整掩码尺寸只能用最近邻插值）。"))
    check_values(path, values, labels)
    return values, converted


def _check_not_0_255(root: Path, counts: np.ndarray) -> None:
    """0/255 binary masks: 255 is the ignore index, so the object would never be trained; say how to convert."""
    if counts.sum() and counts[1:255].sum() == 0 and counts[255] > 0:
        raise DataError(tr(
            f"{root}: every mask holds only 0 and 255. 255 is the ignore index, so the objects would never be "
            "trained. If 255 marks your object (a 0/255 binary mask), convert the masks to 0/1, e.g. "
            "Image.fromarray((np.array(m) > 127).astype('uint8')).save(path), with id2label "
            "{\"0\": \"background\", \"1\": \"<object>\"} and dataset.json {\"reduce_labels\": false}.",
            f"{root}：所有掩码里只有 0 和 255。255 是忽略索引（ignore index），目标像素永远不会参与训练。如果 255 "
            "表示你的目标（0/255 二值掩码），请把掩码转换成 0/1，例如 "
            "Image.fromarray((np.array(m) > 127).astype('uint8')).save(path)，id2label 写成 "
            "{\"0\": \"background\", \"1\": \"<目标>\"}，dataset.json 写成 {\"reduce_labels\": false}。"))
