"""Load SceneParse150 (ADE20K) as a ``datasets.Dataset`` with the hub schema.

``load_scene_parse(source, split)`` returns columns ``image`` (PIL RGB), ``annotation`` (PIL, one
channel, raw ADE ids 0..150) and ``scene_category`` from any of:

* a hub dataset id (default ``"merve/scene_parse_150"``, the parquet copy the guide now uses);
* a local ``ADEChallengeData2016`` folder (the official offline layout);
* ``"synthetic"``: the kit's generated stand-in (see :mod:`seghelpers.synthetic`);
* a local folder in the Hub's parquet layout (``data/train-*.parquet``), e.g. a snapshot of
  ``merve/scene_parse_150`` an instructor downloaded once and shared.

A folder of your own adds ``id2label.json`` (its classes) and ``dataset.json`` (its label convention,
``{"reduce_labels": false}`` when mask value k is class k); see :func:`dataset_labels`. Every mask is
validated and decoded (palette PNGs, RGB colour masks, 16-bit masks) or refused with the file's name
and the fix.

Split strings work the same for all three: ``"train"``, ``"train[:50]"``, ``"validation[10:20]"``,
``"train[:10%]"``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from . import meta as _meta
from .i18n import tr
from .labels import NUM_LABELS, load_label_file
from .meta import ADE20K, DatasetMeta

DEFAULT_HUB_DATASET = "merve/scene_parse_150"
SYNTHETIC = "synthetic"
#: the smallest subset we agree to split 80/20 (4 train + 1 test)
MIN_EXAMPLES_TO_SPLIT = 5
_FOLDER_SPLITS = {"train": "training", "training": "training", "validation": "validation",
                  "val": "validation", "test": "validation"}
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_SPLIT_RE = re.compile(r"^\s*(\w+)\s*(?:\[\s*(-?\d*)\s*(%?)\s*:\s*(-?\d*)\s*(%?)\s*\])?\s*$")


LABEL_FILE = "id2label.json"
META_FILE = "dataset.json"
_META_KEYS = {"reduce_labels", "palette", "name"}
_MASK_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


class DataError(ValueError):
    """A problem with the user's data; the message names the file and the fix."""


def cache_dir() -> Path:
    """Where the kit caches what it builds (``$SEGHELPERS_CACHE`` or ``~/.cache/seghelpers``)."""
    return Path(os.environ.get("SEGHELPERS_CACHE", Path.home() / ".cache" / "seghelpers"))


def parse_split(split: str) -> tuple[str, slice | None]:
    """``"train[:50]"`` -> ``("train", slice(None, 50))``; percentages stay as ``("%", a, b)`` markers."""
    m = _SPLIT_RE.match(split or "")
    if not m:
        raise ValueError(f"split={split!r} is not understood; use e.g. 'train', 'train[:50]', "
                         "'validation[10:20]' or 'train[:10%]'")
    name, a, pa, b, pb = m.groups()
    if split.strip() == name:
        return name, None
    return name, (a, pa, b, pb)


def _apply_slice(n: int, spec, split: str) -> range:
    if spec is None:
        return range(n)
    a, pa, b, pb = spec

    def bound(v, pct, default):
        if v in ("", None):
            return default
        v = int(v)
        if pct:
            v = int(round(n * v / 100))
        return v

    return range(n)[slice(bound(a, pa, None), bound(b, pb, None))]


def _check_image(path: Path):
    """Open an image fully; return (size as it will be decoded, raw size, EXIF orientation)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode, raw_size = im.mode, im.size
            orientation = im.getexif().get(0x0112)  # EXIF Orientation
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: cannot read this image ({e}). Re-download or re-export it, "
                        "or remove it together with its annotation.") from None
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raise DataError(f"{path}: {mode} ({'16-bit' if mode.startswith('I;16') else '32-bit'}) image; the models "
                        "expect 8-bit RGB. Convert it, e.g. with numpy: (arr / arr.max() * 255).astype('uint8').")
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
        raise DataError(
            f"{path}: colour mask with {len(unknown)} colour(s) that are no class in {where}, e.g. "
            f"RGB {((c >> 16) & 255, (c >> 8) & 255, c & 255)}. Either save index masks (mode L PNG, pixel value = "
            "class value), or list each class's colour in dataset.json: \"palette\": [[r, g, b], ...] in id2label "
            "order. (A JPEG-compressed or bilinearly resized colour mask cannot be recovered: re-export it.)")
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
                raise DataError(
                    f"{path}: this mask is stored as {fmt}{how}. {fmt} is lossy: it blurs the values along every "
                    "edge into other classes. Export the masks again as lossless PNG (mode L, pixel value = class "
                    "value) from your labelling tool; converting this file to PNG does not undo the damage.")
            palette = im.getpalette() if mode == "P" else None
            arr = np.asarray(im)
            rgb = np.asarray(im.convert("RGB")) if mode == "P" else None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise DataError(f"{path}: cannot read this annotation ({e}). Re-export it as PNG.") from None
    if mode == "L":
        return arr, False
    if mode == "1":
        return arr.astype(np.uint8), True
    if mode == "LA":
        return np.ascontiguousarray(arr[..., 0]), True
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise DataError(f"{path}: {mode} mask with values {arr.min()}..{arr.max()}; class values must fit 0..255. "
                            "Re-export the mask with one value per class in 0..255 (mode L PNG).")
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
    raise DataError(f"{path}: mode {mode} masks are not supported; save index masks as mode L PNG "
                    "(pixel value = class value).")


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
            hint = "Is this the right dataset, or does it need its own id2label.json?"
        else:
            rule = f"0..{n - 1} = classes, 255 = ignored"
            hint = "Add the missing classes to id2label.json, or fix the masks."
        raise DataError(f"{path}: label value {bad[0]} is above {top} ({rule}; {labels.name} has {n} classes). {hint}")


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
        raise DataError(f"{path}: annotation size {size[0]}x{size[1]} differs from its image "
                        f"{image_size[0]}x{image_size[1]}; annotations must be pixel-aligned with images "
                        "(resize masks with nearest neighbour, never bilinear).")
    specks, ramps = lossy_traces(values)
    if specks > LOSSY_SPECKS or ramps > LOSSY_RAMPS:
        raise DataError(
            f"{path}: {specks:.1%} of the pixels are single-pixel specks and {ramps:.1%} lie on value ramps between "
            "two regions: the traces a JPEG (or a bilinear resize) leaves in a mask; drawn masks have almost none. "
            "Was it ever saved as JPEG? Export the masks again as lossless PNG from the original labels (resize "
            "masks with nearest neighbour only).")
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


def check_convention(root: Path, counts: np.ndarray, labels: DatasetMeta, declared: bool) -> None:
    """Dataset-level checks of the label convention on the pixel counts of every mask value (256,)."""
    n, total = labels.num_labels, int(counts.sum())
    meta = root / META_FILE
    _check_not_0_255(root, counts)
    if labels.reduce_labels and n >= 2 and total and counts[n] == 0 and counts[0] > 0.5 * total:
        state = f"{meta} says" if declared else "the kit assumed"
        raise DataError(
            f"{root}: {state} reduce_labels true (mask 0 = ignored 'other', value k = class k-1), but value {n} "
            f"(class {labels.id2label[n - 1]!r}) never occurs while 0 covers {counts[0] / total:.0%} of the pixels: "
            f"0 looks like a real class. If mask value k is class k (0 = {labels.id2label[0]!r}), write {meta} "
            "with {\"reduce_labels\": false}.")


def _find_pairs(root: Path, folder_split: str) -> list[tuple[Path, Path]]:
    img_dir, ann_dir = root / "images" / folder_split, root / "annotations" / folder_split
    for d in (img_dir, ann_dir):
        if not d.is_dir():
            raise DataError(f"{d} is missing: an ADEChallengeData2016 folder needs "
                            f"images/{folder_split}/*.jpg and annotations/{folder_split}/*.png")
    exts = {".jpg", ".jpeg", ".png"}
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in exts}
    anns: dict[str, Path] = {}
    for p in sorted(ann_dir.iterdir()):  # a .png wins over another file with the same stem
        if p.suffix.lower() in _MASK_EXTS and (p.stem not in anns or p.suffix.lower() == ".png"):
            anns[p.stem] = p
    if not images:
        raise DataError(f"{img_dir} holds no images (*.jpg, *.png)")
    lossy = [p for p in anns.values() if p.suffix.lower() in (".jpg", ".jpeg")]
    if lossy:
        raise DataError(f"{lossy[0]}: annotation saved as JPEG (no {lossy[0].stem}.png next to it; {len(lossy)} such "
                        "file(s)). JPEG is lossy: it blurs class values along every edge. Export the masks again as "
                        "lossless PNG (mode L, pixel value = class value); renaming or re-saving the JPEG as .png "
                        "does not undo the damage.")
    missing = sorted(set(images) - set(anns))
    if missing:
        raise DataError(f"{img_dir / images[missing[0]].name}: no annotation "
                        f"{ann_dir / (missing[0] + '.png')} ({len(missing)} image(s) without one). "
                        "Add the masks or remove those images.")
    orphans = sorted(set(anns) - set(images))
    if orphans:
        raise DataError(f"{anns[orphans[0]]}: annotation without an image in {img_dir} "
                        f"({len(orphans)} in all). Remove it or add the image.")
    return [(images[k], anns[k]) for k in sorted(images)]


def _scene_names(root: Path) -> dict[str, str]:
    f = root / "sceneCategories.txt"
    if not f.exists():
        return {}
    out = {}
    for line in f.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def _dataset_root(root) -> Path:
    root = Path(root).expanduser()
    return root / "ADEChallengeData2016" if (root / "ADEChallengeData2016").is_dir() else root


def _own_root(source) -> Path | None:
    """The folder holding a learner's own ``id2label.json``, or None (an ADE source)."""
    if str(source) == SYNTHETIC:
        return None
    path = Path(str(source)).expanduser()
    if not path.is_dir():
        return None
    root = _dataset_root(path)
    return root if (root / LABEL_FILE).exists() else None


def _read_meta(root: Path) -> dict:
    f = root / META_FILE
    if not f.exists():
        return {}
    import json

    try:
        meta = json.loads(f.read_text("utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{f} is not valid JSON ({e}); expected e.g. {{\"reduce_labels\": false}}") from None
    if not isinstance(meta, dict):
        raise DataError(f"{f}: expected a JSON object such as {{\"reduce_labels\": false}}")
    unknown = set(meta) - _META_KEYS
    if unknown:
        raise DataError(f"{f}: unknown key(s) {sorted(unknown)}; known: {sorted(_META_KEYS)}")
    if "reduce_labels" in meta and not isinstance(meta["reduce_labels"], bool):
        raise DataError(f"{f}: reduce_labels must be true or false (JSON), got {meta['reduce_labels']!r}")
    return meta


def _mask_files(root: Path) -> list[Path]:
    out = []
    for split in ("training", "validation"):
        d = root / "annotations" / split
        if d.is_dir():
            out += [p for p in sorted(d.iterdir()) if p.suffix.lower() in _MASK_EXTS]
    return out


_SCAN_CACHE: dict = {}
_WARNED: set = set()


def _scan_values(root: Path, files: list[Path]) -> np.ndarray:
    """Pixel count of every mask value (256,) over index-like masks; colour masks raise (need a declaration)."""
    key = (str(root), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if key in _SCAN_CACHE:
        return _SCAN_CACHE[key]
    counts = np.zeros(256, np.int64)
    probe = DatasetMeta({0: "a", 1: "b"}, reduce_labels=False, name=str(root))
    for p in files:
        try:
            values, _ = read_mask(p, probe)
        except DataError as e:
            if "colour mask" in str(e):
                raise DataError(f"{p}: RGB colour masks. Write {root / META_FILE} declaring the label convention and "
                                "the colours, e.g. {\"reduce_labels\": false, \"palette\": [[0, 0, 0], [255, 0, 0]]} "
                                "(one [r, g, b] per class, in id2label order).") from None
            raise
        counts += np.bincount(values.ravel(), minlength=256)
    _SCAN_CACHE[key] = counts
    return counts


def dataset_meta(source) -> DatasetMeta:
    """The description of a data set (classes, label convention, palette): a :class:`seghelpers.DatasetMeta`.

    ``source``: what :func:`load_scene_parse` accepts, a ``datasets.Dataset`` the kit loaded (its split
    or subset too), or a model folder saved with the description (``dataset_meta.json``, see
    :meth:`DatasetMeta.save`).

    * a Hub id, an ``ADEChallengeData2016`` folder, a Hub-layout parquet folder or ``"synthetic"``:
      ADE20K's 150 classes, ``reduce_labels=True`` (mask 0 = ignored "other");
    * a folder of your own with ``id2label.json`` (``{"0": "background", "1": "polyp"}``): its classes, and
      the convention from ``dataset.json``: ``{"reduce_labels": false}`` when mask value k is class k (0 is a
      real class, 255 = ignored), ``true`` for ADE's convention; optional ``"palette": [[r, g, b], ...]``
      (one colour per class, also used to decode RGB colour masks).

    Without ``dataset.json`` the convention is inferred only when the masks prove it (the top value N
    occurs, so values run 1..N: ADE's convention; a ``UserWarning`` says so); otherwise
    :class:`DataError` asks you to declare it. A one-class dataset raises ``ValueError`` with the fix.
    """
    if hasattr(source, "column_names") and hasattr(source, "data"):  # a datasets.Dataset
        return _meta_of_dataset(source)
    if Path(str(source)).expanduser().is_dir():
        saved = _meta.load(source)
        if saved is not None:
            return saved
    root = _own_root(source)
    if root is None:
        return ADE20K
    i2l, _ = load_label_file(root / LABEL_FILE)
    meta = _read_meta(root)
    name = meta.get("name") or root.name
    palette = meta.get("palette")
    if palette is not None:
        palette = np.asarray(palette)
        if palette.shape != (len(i2l), 3):
            raise DataError(f"{root / META_FILE}: palette must list one [r, g, b] per class ({len(i2l)} rows, in "
                            f"id2label order), got shape {palette.shape}")
    if len(i2l) == 1:
        DatasetMeta(i2l, name=str(root / LABEL_FILE))  # raises the one-class message
    reduce = meta.get("reduce_labels")
    if reduce is None:
        n = len(i2l)
        counts = _scan_values(root, _mask_files(root))
        _check_not_0_255(root, counts)  # the real problem first, not the ambiguity it causes
        present = [int(v) for v in np.flatnonzero(counts) if v != 255]
        top = max(present) if present else 0
        if top == n:
            import warnings

            reduce = True
            if str(root) not in _WARNED:
                _WARNED.add(str(root))
                warnings.warn(f"{root}: no {META_FILE}; the masks use values 0..{n} for {n} classes, so the kit "
                              f"reads them the ADE way (0 = ignored 'other', k = class k-1). Write {root / META_FILE} "
                              "with {\"reduce_labels\": true} to say so and silence this warning.", UserWarning,
                              stacklevel=2)
        elif top > n:
            raise DataError(f"{root}: masks hold value {top}, above the {n} classes of {root / LABEL_FILE}. "
                            "Add the missing classes to id2label.json, or fix the masks.")
        else:
            raise DataError(
                f"{root}: {LABEL_FILE} lists {n} classes (ids 0..{n - 1}) and the masks use values "
                f"{present[0] if present else 0}..{top}, so it is ambiguous whether mask value 0 is class 0 "
                f"({i2l[0]!r}) or ignored 'other'. Declare it in {root / META_FILE}: {{\"reduce_labels\": false}} if "
                f"mask value k is class k (0 = {i2l[0]!r}), or {{\"reduce_labels\": true}} if 0 means 'other, "
                "ignore' and value k is class k-1 (the ADE convention).")
    return _meta.register(DatasetMeta(i2l, reduce_labels=reduce, palette=palette, name=name))


#: the older name of :func:`dataset_meta`
dataset_labels = dataset_meta


def _annotation_path(ds) -> str | None:
    """The file path of the first annotation in ``ds``'s Arrow table (None for embedded bytes or no rows)."""
    if "annotation" not in ds.column_names or ds.data.num_rows == 0:
        return None
    first = ds.data.column("annotation")[0].as_py()
    return first.get("path") if isinstance(first, dict) else None


def _meta_of_dataset(ds) -> DatasetMeta:
    found = _meta.for_path(_annotation_path(ds))
    if found is None:
        raise DataError(tr(
            "dataset_meta(<Dataset>): this dataset was not loaded by sh.load_scene_parse, so the kit does not "
            "know its description; call sh.dataset_meta(<the folder or Hub id you loaded it from>)",
            "dataset_meta(<Dataset>)：这个数据集不是用 sh.load_scene_parse 加载的，套件不知道它的描述；"
            "请调用 sh.dataset_meta(<加载它时用的文件夹或 Hub ID>)"))
    return found


def label_maps_for(source) -> tuple[dict[int, str], dict[str, int]]:
    """``(id2label, label2id)`` of a dataset: its own ``id2label.json`` (folder of your own), else ADE20K's 150."""
    labels = dataset_meta(source)
    return dict(labels.id2label), labels.label2id


def _decoded_copy(src: Path, values: np.ndarray, labels: DatasetMeta) -> Path:
    """Write a decoded mask (mode L PNG) into the cache once; the dataset points at it instead of ``src``."""
    import hashlib
    import tempfile

    from PIL import Image

    st = src.stat()
    key = hashlib.sha1(f"{src.resolve()}|{st.st_mtime_ns}|{st.st_size}|{labels.reduce_labels}|"
                       f"{labels.palette.tobytes().hex()}".encode()).hexdigest()[:20]
    out = cache_dir() / "decoded-masks" / f"{src.stem}-{key}.png"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".png.tmp")
        os.close(fd)
        try:
            Image.fromarray(values, "L").save(tmp, format="PNG")
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


def load_ade_folder(root, split: str = "train", validate: bool = True, num_labels: int | None = None,
                    labels: DatasetMeta | None = None):
    """Load an ``ADEChallengeData2016`` folder (or a folder of your own with the same layout) as a Dataset.

    ``labels`` defaults to :func:`dataset_labels` of the folder. With ``validate`` every image and mask is
    opened: masks are decoded (palette/RGB/16-bit -> values, cached as PNG) and checked against the
    dataset's convention; problems raise :class:`DataError` naming the file and the fix.
    ``num_labels`` (older API) validates an ADE-convention folder with that many classes.
    """
    import datasets

    root = _dataset_root(root)
    if labels is None:
        if num_labels is not None and _own_root(root) is None:
            from .labels import id2label as ade

            labels = ADE20K if num_labels == NUM_LABELS else DatasetMeta(
                {i: ade.get(i, str(i)) for i in range(int(num_labels))}, name=str(root))
        else:
            labels = dataset_meta(root)
    own = _own_root(root) is not None
    declared_palette = own and "palette" in _read_meta(root)
    name, spec = parse_split(split)
    if name not in _FOLDER_SPLITS:
        raise ValueError(f"split={split!r}: an ADE folder has splits 'train' and 'validation'")
    pairs = _find_pairs(root, _FOLDER_SPLITS[name])
    pairs = [pairs[i] for i in _apply_slice(len(pairs), spec, split)]
    if validate:
        counts = np.zeros(256, np.int64)
        for k, (img, ann) in enumerate(pairs):
            size, raw_size, orientation = _check_image(img)
            try:
                values, converted = check_annotation(ann, size, labels=labels, declared_palette=declared_palette)
            except DataError:
                if orientation not in (None, 1) and size != raw_size:
                    from PIL import Image

                    with Image.open(ann) as a:
                        if a.size == raw_size:
                            raise DataError(
                                f"{img}: EXIF orientation {orientation} rotates this image when it is loaded, but "
                                f"its annotation {ann.name} matches the unrotated pixels. Re-save the image without "
                                "the EXIF orientation tag (or rotate the annotation the same way).") from None
                raise
            counts += np.bincount(values.ravel(), minlength=256)
            if converted:
                pairs[k] = (img, _decoded_copy(ann, values, labels))
        if own:
            check_convention(root, counts, labels, declared="reduce_labels" in _read_meta(root))
    _meta.register(labels, [a for _, a in pairs])  # the transforms find the convention by these paths
    scenes = _scene_names(root)
    names = sorted(set(scenes.values())) or ["unknown"]
    features = datasets.Features({
        "image": datasets.Image(mode="RGB"),
        "annotation": datasets.Image(),
        "scene_category": datasets.ClassLabel(names=names),
    })
    data = {
        "image": [str(i) for i, _ in pairs],
        "annotation": [str(a) for _, a in pairs],
        "scene_category": [names.index(scenes.get(i.stem, names[0])) for i, _ in pairs],
    }
    return datasets.Dataset.from_dict(data, features=features)


def _sceneparse_columns(ds, where: str):
    """Check a loaded dataset has SceneParse150's columns; decode its images as RGB."""
    import datasets

    missing = {"image", "annotation"} - set(ds.column_names)
    if missing:
        raise DataError(f"{where}: no column(s) {sorted(missing)}; a SceneParse150-style dataset needs 'image' and "
                        f"'annotation' (it has {ds.column_names}).")
    return ds.cast_column("image", datasets.Image(mode="RGB"))


def _hub_offline_error(source: str, err: Exception | str) -> Exception:
    from .hub import unreachable_message

    why = err if isinstance(err, str) else f"{type(err).__name__}"
    return ConnectionError(unreachable_message(f"dataset={source!r}", why) + " Or pass dataset=<folder>: an "
                           "ADEChallengeData2016 folder or a Hub-layout parquet folder (a prefetched or shared copy).")


#: Hub ids of SceneParse150 as a loading script, which datasets>=4 refuses
SCRIPT_DATASETS = ("scene_parse_150", "zhoubolei/scene_parse_150")


def _refuse_script_dataset(source: str) -> None:
    if str(source) in SCRIPT_DATASETS:
        raise ValueError(tr(
            f"dataset={source!r} is a script dataset (a Python loading script), which datasets>=4 no longer runs. "
            f"Load its Parquet copy {DEFAULT_HUB_DATASET!r} instead (the id the current English guide uses), a local "
            "ADEChallengeData2016 folder, or 'synthetic' offline.",
            f"dataset={source!r} 是脚本数据集（用 Python 加载脚本），datasets>=4 已不再运行这类脚本。请改为加载它的 "
            f"Parquet 副本 {DEFAULT_HUB_DATASET!r}（当前英文指南用的就是这个 ID）、本地的 ADEChallengeData2016 文件夹，"
            "或离线时用 'synthetic'。"))


def load_hub(source: str, split: str):
    """Load a Hub dataset id: from the rows ``make prefetch`` cached when they cover ``split``, else
    through ``datasets.load_dataset``. The Hub is probed once per process first (seconds): unreachable,
    the libraries go offline, so a cached dataset loads and an uncached one fails at once."""
    import datasets

    from . import hub
    from .prefetch import prefetched_dataset

    _refuse_script_dataset(source)
    local = prefetched_dataset(source, split)
    if local is not None:  # what `make prefetch` saved: no network, same rows
        return load_hub_layout(local, split)
    ok, why = hub.reachable()
    try:
        ds = datasets.load_dataset(source, split=split)
    except (ConnectionError, OSError) as e:
        text = str(e).lower()
        if not ok or "offline" in text or "connect" in text or "couldn't" in text:
            raise _hub_offline_error(source, why if not ok else e) from e
        raise
    return _sceneparse_columns(ds, f"dataset={source!r}")


def synthetic_root(seed: int = 0, n_train: int = 60, n_val: int = 10) -> Path:
    """Build (once) and return the cached synthetic ADE folder."""
    from .synthetic import build_synthetic_ade

    return build_synthetic_ade(cache_dir() / f"synthetic-v1-seed{seed}-{n_train}-{n_val}", n_train, n_val, seed)


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet")) + sorted(p for p in folder.glob("data/**/*.parquet"))


def is_hub_layout(folder) -> bool:
    """True for a folder laid out like a Hub dataset snapshot: parquet shards in ``data/`` (or at its top)."""
    folder = Path(str(folder)).expanduser()
    return folder.is_dir() and bool(_parquet_files(folder))


def load_hub_layout(folder, split: str):
    """Load a Hub-layout parquet folder through ``datasets.load_dataset(folder, split=...)``, as the Hub id would."""
    import datasets

    folder = Path(str(folder)).expanduser()
    name, _ = parse_split(split)
    try:
        ds = datasets.load_dataset(str(folder), split=split)
    except ValueError as e:
        if "split" in str(e).lower() or "Unknown" in str(e):
            shards = ", ".join(p.relative_to(folder).as_posix() for p in _parquet_files(folder)[:4])
            raise DataError(f"{folder}: no split {name!r} in this parquet folder ({shards}); shard names must "
                            "start with the split, e.g. data/train-00000-of-00001.parquet") from None
        raise
    return _sceneparse_columns(ds, str(folder))


def _folder_signature(root: Path) -> str:
    import hashlib

    h = hashlib.sha1(str(root.resolve()).encode())
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def write_hub_layout(splits: dict, out_dir) -> Path:
    """Write ``{"train": Dataset, ...}`` as a Hub-layout folder (``data/<split>-00000-of-00001.parquet``).

    Image bytes are embedded, so the folder is self-contained (copy it to a USB stick). Written to a
    temporary sibling and renamed, so a half-written folder never exists under ``out_dir``.
    """
    import shutil
    import tempfile

    import datasets
    from datasets.table import embed_table_storage

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    bars = not datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # a one-off conversion: no bars in the learner's notebook
    try:
        (tmp / "data").mkdir()
        for name, ds in splits.items():
            ds = ds.cast_column("image", datasets.Image())  # as on the Hub: no decode mode in the schema
            ds = ds.with_format("arrow").map(embed_table_storage, batched=True).with_format(None)
            ds.to_parquet(str(tmp / "data" / f"{name}-00000-of-00001.parquet"))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if bars:
            datasets.enable_progress_bars()
    return out_dir


def guide_source(source: str = DEFAULT_HUB_DATASET, split: str | None = None) -> str:
    """What to pass to the guide's own ``datasets.load_dataset(..., split=...)`` for this ``dataset`` parameter.

    A Hub id is returned as it is, unless ``split`` is given and ``make prefetch`` saved those rows (then
    their local Hub-layout folder, as :func:`load_scene_parse` uses). A Hub-layout folder is returned as is. ``"synthetic"`` and ADE-layout folders (a
    learner's own included) are converted once into a Hub-layout parquet folder in the kit's cache
    (masks decoded and validated as by :func:`load_scene_parse`), so the guide's cell runs offline on
    the very rows :func:`load_scene_parse` returns.
    """
    src = str(source)
    _refuse_script_dataset(src)  # before the guide's load_dataset says only "Couldn't reach"
    if src != SYNTHETIC:
        path = Path(src).expanduser()
        if not path.is_dir() and split is not None and _HUB_ID_RE.match(src):
            from .prefetch import prefetched_dataset

            local = prefetched_dataset(src, split)  # `make prefetch` saved these rows: as load_hub does, use them
            if local is not None:
                return str(local)
        if not path.is_dir() or is_hub_layout(path):
            return src
        root = _dataset_root(path)
    else:
        root = synthetic_root()
    out = cache_dir() / "hub-layout" / f"{root.name}-{_folder_signature(root)}"
    if not (out / "data").is_dir():
        splits = {"train": load_ade_folder(root, "train")}
        if (root / "images" / "validation").is_dir():
            splits["validation"] = load_ade_folder(root, "validation")
        write_hub_layout(splits, out)
        import datasets

        bars = not datasets.utils.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # prepare datasets' cache now, so the guide's load_dataset is silent
        try:
            datasets.load_dataset(str(out))
        finally:
            if bars:
                datasets.enable_progress_bars()
    if (root / LABEL_FILE).exists() and not (out / META_FILE).exists():  # the labels travel with the data
        import json
        import shutil

        labels = dataset_meta(root)
        shutil.copyfile(root / LABEL_FILE, out / LABEL_FILE)
        meta = {**_read_meta(root), "reduce_labels": labels.reduce_labels}
        (out / META_FILE).write_text(json.dumps(meta))
    return str(out)


def load_scene_parse(source: str = DEFAULT_HUB_DATASET, split: str = "train[:50]", validate: bool = True,
                     num_labels: int | None = None):
    """SceneParse150-shaped Dataset from a Hub id, an ADE folder, a Hub-layout folder or ``"synthetic"``.

    Columns ``image`` (PIL RGB), ``annotation`` (PIL, mask values before label reduction) and
    ``scene_category``. Raises ``ValueError``/``FileNotFoundError`` for a bad ``source`` or ``split``,
    :class:`DataError` (naming the file and the fix) for bad data, ``ConnectionError`` for a Hub id
    that is neither reachable nor cached.
    """
    if not isinstance(source, (str, os.PathLike)) or not str(source).strip():
        raise ValueError(f"dataset={source!r}: give a Hub id like {DEFAULT_HUB_DATASET!r}, "
                         "a local ADEChallengeData2016 folder, or 'synthetic'")
    parse_split(split)  # fail early on a malformed split
    src = str(source)
    if src == SYNTHETIC:
        return load_ade_folder(synthetic_root(), split, validate, num_labels)
    path = Path(src).expanduser()
    if path.is_dir():
        if is_hub_layout(path):
            return load_hub_layout(path, split)
        root = _dataset_root(path)
        if not (root / "images").is_dir() and not (root / "annotations").is_dir():
            raise DataError(f"{path}: found neither a Hub-layout dataset folder (parquet shards such as "
                            "data/train-00000-of-00001.parquet) nor an ADEChallengeData2016 folder (images/training, "
                            "annotations/training). Point dataset= at one of those.")
        return load_ade_folder(path, split, validate, num_labels)
    if path.exists():
        raise ValueError(f"dataset={src!r} is a file; give an ADEChallengeData2016 folder, a Hub id or 'synthetic'")
    if not _HUB_ID_RE.match(src):
        raise FileNotFoundError(f"dataset={src!r}: no such folder. Give an existing ADEChallengeData2016 folder, "
                                f"a Hub id like {DEFAULT_HUB_DATASET!r}, or 'synthetic'.")
    return load_hub(src, split)


def split_train_test(ds, test_size: float = 0.2, seed: int = 0):
    """``ds.train_test_split`` with a clear error when the subset is too small to split."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must lie strictly between 0 and 1, got {test_size}")
    if len(ds) < MIN_EXAMPLES_TO_SPLIT:
        raise DataError(f"the subset has {len(ds)} example(s); at least {MIN_EXAMPLES_TO_SPLIT} are needed to "
                        f"split {round((1 - test_size) * 100)}/{round(test_size * 100)} into train and test. "
                        "Use a larger split, e.g. split='train[:50]'.")
    return ds.train_test_split(test_size=test_size, seed=seed)
