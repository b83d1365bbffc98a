"""ADE-layout folders (``ADEChallengeData2016`` and a learner's own, with ``id2label.json`` and
``dataset.json``): the data set's description (:func:`dataset_meta`) and loading with every mask checked
(:func:`load_ade_folder`).

Loader layer: below it :mod:`.masks`, :mod:`.meta`, :mod:`.paths`; ``datasets`` is imported on first use.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import meta as _meta
from .i18n import tr
from .labels import NUM_LABELS, load_label_file
from .masks import _MASK_EXTS, DataError, _check_image, _check_not_0_255, check_annotation, read_mask
from .meta import ADE20K, DatasetMeta
from .paths import apply_slice as _apply_slice, cache_dir, parse_split

SYNTHETIC = "synthetic"
#: the smallest subset we agree to split 80/20 (4 train + 1 test)
MIN_EXAMPLES_TO_SPLIT = 5


_FOLDER_SPLITS = {"train": "training", "training": "training", "validation": "validation",
                  "val": "validation", "test": "validation"}


LABEL_FILE = "id2label.json"


META_FILE = "dataset.json"


_META_KEYS = {"reduce_labels", "palette", "name"}


def check_convention(root: Path, counts: np.ndarray, labels: DatasetMeta, declared: bool) -> None:
    """Dataset-level checks of the label convention on the pixel counts of every mask value (256,)."""
    n, total = labels.num_labels, int(counts.sum())
    meta = root / META_FILE
    _check_not_0_255(root, counts)
    if labels.reduce_labels and n >= 2 and total and counts[n] == 0 and counts[0] > 0.5 * total:
        state = f"{meta} says" if declared else "the kit assumed"
        state_zh = f"{meta} 声明了" if declared else "套件假定了"
        raise DataError(tr(
            f"{root}: {state} reduce_labels true (mask 0 = ignored 'other', value k = class k-1), but value {n} "
            f"(class {labels.id2label[n - 1]!r}) never occurs while 0 covers {counts[0] / total:.0%} of the pixels: "
            f"0 looks like a real class. If mask value k is class k (0 = {labels.id2label[0]!r}), write {meta} "
            "with {\"reduce_labels\": false}.",
            f"{root}：{state_zh} reduce_labels 为 true（掩码值 0 = 被忽略的“其他”，值 k = 类别 k-1），但值 {n}"
            f"（类别 {labels.id2label[n - 1]!r}）从未出现，而 0 却占了 {counts[0] / total:.0%} 的像素：0 看起来是一个真实的类别。"
            f"如果掩码值 k 就是类别 k（0 = {labels.id2label[0]!r}），请在 {meta} 里写上 "
            "{\"reduce_labels\": false}。"))


def _find_pairs(root: Path, folder_split: str) -> list[tuple[Path, Path]]:
    img_dir, ann_dir = root / "images" / folder_split, root / "annotations" / folder_split
    for d in (img_dir, ann_dir):
        if not d.is_dir():
            raise DataError(tr(f"{d} is missing: an ADEChallengeData2016 folder needs "
                               f"images/{folder_split}/*.jpg and annotations/{folder_split}/*.png",
                               f"缺少 {d}：ADEChallengeData2016 文件夹需要 images/{folder_split}/*.jpg 和 "
                               f"annotations/{folder_split}/*.png"))
    exts = {".jpg", ".jpeg", ".png"}
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in exts}
    anns: dict[str, Path] = {}
    for p in sorted(ann_dir.iterdir()):  # a .png wins over another file with the same stem
        if p.suffix.lower() in _MASK_EXTS and (p.stem not in anns or p.suffix.lower() == ".png"):
            anns[p.stem] = p
    if not images:
        raise DataError(tr(f"{img_dir} holds no images (*.jpg, *.png)",
                           f"{img_dir} 里没有图像（*.jpg、*.png）"))
    lossy = [p for p in anns.values() if p.suffix.lower() in (".jpg", ".jpeg")]
    if lossy:
        raise DataError(tr(f"{lossy[0]}: annotation saved as JPEG (no {lossy[0].stem}.png next to it; {len(lossy)} such "
                           "file(s)). JPEG is lossy: it blurs class values along every edge. Export the masks again as "
                           "lossless PNG (mode L, pixel value = class value); renaming or re-saving the JPEG as .png "
                           "does not undo the damage.",
                           f"{lossy[0]}：标注被存成了 JPEG（旁边没有 {lossy[0].stem}.png；共有 {len(lossy)} 个这样的文件）。"
                           "JPEG 是有损压缩，会把每条边缘上的类别值模糊掉。请重新导出无损的 PNG 掩码（mode L，像素值 = 类别值）；"
                           "把 JPEG 改名或另存为 .png 并不能修复已有的损坏。"))
    missing = sorted(set(images) - set(anns))
    if missing:
        raise DataError(tr(f"{img_dir / images[missing[0]].name}: no annotation "
                           f"{ann_dir / (missing[0] + '.png')} ({len(missing)} image(s) without one). "
                           "Add the masks or remove those images.",
                           f"{img_dir / images[missing[0]].name}：找不到标注 {ann_dir / (missing[0] + '.png')}"
                           f"（共有 {len(missing)} 张图像没有标注）。请补上掩码，或者删掉这些图像。"))
    orphans = sorted(set(anns) - set(images))
    if orphans:
        raise DataError(tr(f"{anns[orphans[0]]}: annotation without an image in {img_dir} "
                           f"({len(orphans)} in all). Remove it or add the image.",
                           f"{anns[orphans[0]]}：这个标注在 {img_dir} 里没有对应的图像（共 {len(orphans)} 个）。"
                           "请删掉它，或者补上图像。"))
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
        raise DataError(tr(f"{f} is not valid JSON ({e}); expected e.g. {{\"reduce_labels\": false}}",
                           f"{f} 不是合法的 JSON（{e}）；应当形如 {{\"reduce_labels\": false}}")) from None
    if not isinstance(meta, dict):
        raise DataError(tr(f"{f}: expected a JSON object such as {{\"reduce_labels\": false}}",
                           f"{f}：应当是一个 JSON 对象，例如 {{\"reduce_labels\": false}}"))
    unknown = set(meta) - _META_KEYS
    if unknown:
        raise DataError(tr(f"{f}: unknown key(s) {sorted(unknown)}; known: {sorted(_META_KEYS)}",
                           f"{f}：未知的键 {sorted(unknown)}；可用的键：{sorted(_META_KEYS)}"))
    if "reduce_labels" in meta and not isinstance(meta["reduce_labels"], bool):
        raise DataError(tr(f"{f}: reduce_labels must be true or false (JSON), got {meta['reduce_labels']!r}",
                           f"{f}：reduce_labels 必须是 true 或 false（JSON 写法），实际是 {meta['reduce_labels']!r}"))
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
                raise DataError(tr(f"{p}: RGB colour masks. Write {root / META_FILE} declaring the label convention and "
                                   "the colours, e.g. {\"reduce_labels\": false, \"palette\": [[0, 0, 0], [255, 0, 0]]} "
                                   "(one [r, g, b] per class, in id2label order).",
                                   f"{p}：这是 RGB 彩色掩码。请写一个 {root / META_FILE}，声明标签约定和各类别的颜色，例如 "
                                   "{\"reduce_labels\": false, \"palette\": [[0, 0, 0], [255, 0, 0]]}"
                                   "（每个类别一个 [r, g, b]，按 id2label 的顺序）。")) from None
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
            raise DataError(tr(f"{root / META_FILE}: palette must list one [r, g, b] per class ({len(i2l)} rows, in "
                               f"id2label order), got shape {palette.shape}",
                               f"{root / META_FILE}：palette 必须为每个类别列出一个 [r, g, b]（共 {len(i2l)} 行，"
                               f"按 id2label 的顺序），实际形状是 {palette.shape}"))
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
                warnings.warn(tr(f"{root}: no {META_FILE}; the masks use values 0..{n} for {n} classes, so the kit "
                                 f"reads them the ADE way (0 = ignored 'other', k = class k-1). Write {root / META_FILE} "
                                 "with {\"reduce_labels\": true} to say so and silence this warning.",
                                 f"{root}：没有 {META_FILE}；掩码对 {n} 个类别用了 0..{n} 这些值，所以套件按 ADE 的约定读取它们"
                                 f"（0 = 被忽略的“其他”，k = 类别 k-1）。请写一个 {root / META_FILE}，内容为 "
                                 "{\"reduce_labels\": true}，明确这一点，这条警告也就不会再出现。"), UserWarning,
                              stacklevel=2)
        elif top > n:
            raise DataError(tr(f"{root}: masks hold value {top}, above the {n} classes of {root / LABEL_FILE}. "
                               "Add the missing classes to id2label.json, or fix the masks.",
                               f"{root}：掩码里出现了值 {top}，超出了 {root / LABEL_FILE} 中的 {n} 个类别。"
                               "请把缺少的类别补进 id2label.json，或者修正掩码。"))
        else:
            low = present[0] if present else 0
            raise DataError(tr(
                f"{root}: {LABEL_FILE} lists {n} classes (ids 0..{n - 1}) and the masks use values "
                f"{low}..{top}, so it is ambiguous whether mask value 0 is class 0 "
                f"({i2l[0]!r}) or ignored 'other'. Declare it in {root / META_FILE}: {{\"reduce_labels\": false}} if "
                f"mask value k is class k (0 = {i2l[0]!r}), or {{\"reduce_labels\": true}} if 0 means 'other, "
                "ignore' and value k is class k-1 (the ADE convention).",
                f"{root}：{LABEL_FILE} 列出了 {n} 个类别（编号 0..{n - 1}），掩码用的值是 {low}..{top}，"
                f"因此无法判断掩码值 0 是类别 0（{i2l[0]!r}）还是被忽略的“其他”。请在 {root / META_FILE} 里声明："
                f"如果掩码值 k 就是类别 k（0 = {i2l[0]!r}），写 {{\"reduce_labels\": false}}；"
                f"如果 0 表示“其他，忽略”、值 k 是类别 k-1（ADE 的约定），写 {{\"reduce_labels\": true}}。"))
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
        raise ValueError(tr(f"split={split!r}: an ADE folder has splits 'train' and 'validation'",
                            f"split={split!r}：ADE 文件夹只有 'train' 和 'validation' 两个划分"))
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
                            raise DataError(tr(
                                f"{img}: EXIF orientation {orientation} rotates this image when it is loaded, but "
                                f"its annotation {ann.name} matches the unrotated pixels. Re-save the image without "
                                "the EXIF orientation tag (or rotate the annotation the same way).",
                                f"{img}：EXIF 方向标记 {orientation} 会让这张图像在加载时被旋转，但它的标注 {ann.name} "
                                "对应的是未旋转的像素。请去掉 EXIF 方向标记后重新保存图像（或者把标注做同样的旋转）。")) from None
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


def synthetic_root(seed: int = 0, n_train: int = 60, n_val: int = 10) -> Path:
    """Build (once) and return the cached synthetic ADE folder."""
    from .synthetic import build_synthetic_ade

    return build_synthetic_ade(cache_dir() / f"synthetic-v1-seed{seed}-{n_train}-{n_val}", n_train, n_val, seed)
