"""Load SceneParse150 (ADE20K) as a ``datasets.Dataset`` with the hub schema.

``load_scene_parse(source, split)`` returns columns ``image`` (PIL RGB), ``annotation`` (PIL, one
channel, raw ADE ids 0..150) and ``scene_category`` from any of:

* a hub dataset id (default ``"merve/scene_parse_150"``, the parquet copy the guide now uses);
* a local ``ADEChallengeData2016`` folder (the official offline layout);
* ``"synthetic"``: the kit's generated stand-in (see :mod:`seghelpers.synthetic`).

Split strings work the same for all three: ``"train"``, ``"train[:50]"``, ``"validation[10:20]"``,
``"train[:10%]"``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .labels import NUM_LABELS

DEFAULT_HUB_DATASET = "merve/scene_parse_150"
SYNTHETIC = "synthetic"
#: the smallest subset we agree to split 80/20 (4 train + 1 test)
MIN_EXAMPLES_TO_SPLIT = 5
_FOLDER_SPLITS = {"train": "training", "training": "training", "validation": "validation",
                  "val": "validation", "test": "validation"}
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_SPLIT_RE = re.compile(r"^\s*(\w+)\s*(?:\[\s*(-?\d*)\s*(%?)\s*:\s*(-?\d*)\s*(%?)\s*\])?\s*$")


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


def check_annotation(path, image_size, num_labels: int = NUM_LABELS) -> None:
    """Validate one annotation file against its image: readable, one channel, same size, ids 0..num_labels."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode, size = im.mode, im.size
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise DataError(f"{path}: cannot read this annotation ({e}).") from None
    if mode in ("RGB", "RGBA") or arr.ndim == 3:
        raise DataError(
            f"{path}: annotation is a {mode} colour image, but an index mask is expected (one channel, "
            f"mode L, pixel = ADE class id 0..{num_labels}). If it is a palette-coloured mask, convert it "
            "back to ids with seghelpers.ids_from_colors(np.array(img)) and save it as mode L.")
    if size != tuple(image_size):
        raise DataError(f"{path}: annotation size {size[0]}x{size[1]} differs from its image "
                        f"{image_size[0]}x{image_size[1]}; annotations must be pixel-aligned with images "
                        "(resize masks with nearest neighbour, never bilinear).")
    if arr.size and int(arr.max()) > num_labels:
        bad = int(arr.max())
        raise DataError(f"{path}: label value {bad} is above {num_labels} (0 = other, 1..{num_labels} = classes). "
                        "Is this the right data set, or does it need its own id2label file?")


def _find_pairs(root: Path, folder_split: str) -> list[tuple[Path, Path]]:
    img_dir, ann_dir = root / "images" / folder_split, root / "annotations" / folder_split
    for d in (img_dir, ann_dir):
        if not d.is_dir():
            raise DataError(f"{d} is missing: an ADEChallengeData2016 folder needs "
                            f"images/{folder_split}/*.jpg and annotations/{folder_split}/*.png")
    exts = {".jpg", ".jpeg", ".png"}
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in exts}
    anns = {p.stem: p for p in sorted(ann_dir.iterdir()) if p.suffix.lower() == ".png"}
    if not images:
        raise DataError(f"{img_dir} holds no images (*.jpg, *.png)")
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


def label_maps_for(source) -> tuple[dict[int, str], dict[str, int]]:
    """The label maps of a data set: its own ``id2label.json`` (folder of your own), else ADE20K's 150.

    A data set of your own in the ADE folder layout puts ``id2label.json`` (``{"0": "road", ...}``, model
    ids 0..N-1) in its root; its annotations then hold 0 = ignore/other and 1..N, like ADE.
    """
    from .labels import id2label, label2id, load_label_file

    if str(source) != SYNTHETIC and Path(str(source)).expanduser().is_dir():
        f = _dataset_root(source) / "id2label.json"
        if f.exists():
            return load_label_file(f)
    return dict(id2label), dict(label2id)


def load_ade_folder(root, split: str = "train", validate: bool = True, num_labels: int | None = None):
    """Load an ``ADEChallengeData2016`` folder (or a folder with the same layout) as a Dataset.

    ``num_labels`` (for validating annotation values) defaults to the folder's ``id2label.json`` size, else 150.
    """
    import datasets

    root = _dataset_root(root)
    if num_labels is None:
        num_labels = len(label_maps_for(root)[0])
    name, spec = parse_split(split)
    if name not in _FOLDER_SPLITS:
        raise ValueError(f"split={split!r}: an ADE folder has splits 'train' and 'validation'")
    pairs = _find_pairs(root, _FOLDER_SPLITS[name])
    pairs = [pairs[i] for i in _apply_slice(len(pairs), spec, split)]
    if validate:
        for img, ann in pairs:
            size, raw_size, orientation = _check_image(img)
            try:
                check_annotation(ann, size, num_labels)
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


def _hub_offline_error(source: str, err: Exception) -> Exception:
    return ConnectionError(
        f"dataset={source!r} is not in the local Hugging Face cache and the hub cannot be reached "
        f"({type(err).__name__}). Run `make prefetch` while online (it caches the workshop assets), "
        "or use dataset='synthetic' / a local ADEChallengeData2016 folder. Offline mode: HF_HUB_OFFLINE=1.")


def load_hub(source: str, split: str):
    import datasets

    if source in ("scene_parse_150", "zhoubolei/scene_parse_150"):
        raise ValueError(
            f"dataset={source!r} is a script data set, which datasets>=4 no longer runs. Use its parquet "
            f"copy {DEFAULT_HUB_DATASET!r} (what the guide uses now) or a local ADEChallengeData2016 folder.")
    try:
        ds = datasets.load_dataset(source, split=split)
    except (ConnectionError, OSError) as e:
        if "offline" in str(e).lower() or "connect" in str(e).lower() or "couldn't" in str(e).lower() \
                or os.environ.get("HF_HUB_OFFLINE") == "1":
            raise _hub_offline_error(source, e) from e
        raise
    missing = {"image", "annotation"} - set(ds.column_names)
    if missing:
        raise DataError(f"dataset={source!r} has no column(s) {sorted(missing)}; a SceneParse150-style "
                        f"data set needs 'image' and 'annotation' (it has {ds.column_names}).")
    return ds.cast_column("image", datasets.Image(mode="RGB"))


def synthetic_root(seed: int = 0, n_train: int = 60, n_val: int = 10) -> Path:
    """Build (once) and return the cached synthetic ADE folder."""
    from .synthetic import build_synthetic_ade

    return build_synthetic_ade(cache_dir() / f"synthetic-v1-seed{seed}-{n_train}-{n_val}", n_train, n_val, seed)


def load_scene_parse(source: str = DEFAULT_HUB_DATASET, split: str = "train[:50]", validate: bool = True,
                     num_labels: int | None = None):
    """SceneParse150-shaped Dataset from a hub id, an ADE folder or ``"synthetic"`` (see module doc)."""
    if not isinstance(source, (str, os.PathLike)) or not str(source).strip():
        raise ValueError(f"dataset={source!r}: give a hub id like {DEFAULT_HUB_DATASET!r}, "
                         "a local ADEChallengeData2016 folder, or 'synthetic'")
    parse_split(split)  # fail early on a malformed split
    src = str(source)
    if src == SYNTHETIC:
        return load_ade_folder(synthetic_root(), split, validate, num_labels)
    path = Path(src).expanduser()
    if path.is_dir():
        return load_ade_folder(path, split, validate, num_labels)
    if path.exists():
        raise ValueError(f"dataset={src!r} is a file; give an ADEChallengeData2016 folder, a hub id or 'synthetic'")
    if not _HUB_ID_RE.match(src):
        raise FileNotFoundError(f"dataset={src!r}: no such folder. Give an existing ADEChallengeData2016 folder, "
                                f"a hub id like {DEFAULT_HUB_DATASET!r}, or 'synthetic'.")
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
