"""Load SceneParse150 (ADE20K) as a ``datasets.Dataset`` with the hub schema.

``load_scene_parse(source, split)`` returns columns ``image`` (PIL RGB), ``annotation`` (PIL, one
channel, raw ADE ids 0..150) and ``scene_category`` from any of:

* a hub dataset id (default ``"merve/scene_parse_150"``, the parquet copy the guide now uses);
* a local ``ADEChallengeData2016`` folder (the official offline layout);
* ``"synthetic"``: the kit's generated stand-in (see :mod:`seghelpers.synthetic`);
* a local folder in the Hub's parquet layout (``data/train-*.parquet``), e.g. a snapshot of
  ``merve/scene_parse_150`` an instructor downloaded once and shared.

A folder of your own adds ``id2label.json`` (its classes) and ``dataset.json`` (its label convention,
``{"reduce_labels": false}`` when mask value k is class k); see :func:`dataset_meta`. Every mask is
validated and decoded (palette PNGs, RGB colour masks, 16-bit masks) or refused with the file's name
and the fix.

Split strings work the same for all three: ``"train"``, ``"train[:50]"``, ``"validation[10:20]"``,
``"train[:10%]"``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .folders import (LABEL_FILE, META_FILE, SYNTHETIC, MIN_EXAMPLES_TO_SPLIT, _dataset_root, _own_root, _read_meta,  # noqa: F401
                      check_convention, dataset_labels, dataset_meta, label_maps_for, load_ade_folder, synthetic_root)
from .hubdata import (DEFAULT_HUB_DATASET, SCRIPT_DATASETS, _HUB_ID_RE, _refuse_script_dataset, is_hub_layout,  # noqa: F401
                      load_hub, load_hub_layout, write_hub_layout)
from .masks import (LOSSY_RAMPS, LOSSY_SPECKS, DataError, check_annotation, check_values, lossy_traces,  # noqa: F401
                    read_mask)
from .i18n import tr
from .paths import cache_dir, parse_split  # noqa: F401

# The modules this one gathers (one responsibility each; data.py keeps the entry points and its old names):
#   paths    cache folder, split strings, the rows `make prefetch` cached        (core)
#   masks    one mask file: decode, check, refuse with the file and the fix     (core)
#   folders  ADE-layout folders, a learner's own: dataset_meta, load_ade_folder  (loader)
#   hubdata  Hub ids and Hub-layout parquet folders                              (loader)


def _folder_signature(root: Path) -> str:
    import hashlib

    h = hashlib.sha1(str(root.resolve()).encode())
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


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
            from .paths import prefetched_dataset

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
        raise ValueError(tr(f"dataset={source!r}: give a Hub id like {DEFAULT_HUB_DATASET!r}, "
                            "a local ADEChallengeData2016 folder, or 'synthetic'",
                            f"dataset={source!r}：请给出 Hub ID（如 {DEFAULT_HUB_DATASET!r}）、"
                            "本地的 ADEChallengeData2016 文件夹，或 'synthetic'"))
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
            raise DataError(tr(f"{path}: found neither a Hub-layout dataset folder (parquet shards such as "
                               "data/train-00000-of-00001.parquet) nor an ADEChallengeData2016 folder (images/training, "
                               "annotations/training). Point dataset= at one of those.",
                               f"{path}：既不是 Hub 格式的数据集文件夹（含 data/train-00000-of-00001.parquet 这样的 "
                               "parquet 分片），也不是 ADEChallengeData2016 文件夹（含 images/training、annotations/training）。"
                               "请让 dataset= 指向这两种文件夹之一。"))
        return load_ade_folder(path, split, validate, num_labels)
    if path.exists():
        raise ValueError(tr(f"dataset={src!r} is a file; give an ADEChallengeData2016 folder, a Hub id or 'synthetic'",
                            f"dataset={src!r} 是一个文件；请给出 ADEChallengeData2016 文件夹、Hub ID 或 'synthetic'"))
    if not _HUB_ID_RE.match(src):
        raise FileNotFoundError(tr(f"dataset={src!r}: no such folder. Give an existing ADEChallengeData2016 folder, "
                                   f"a Hub id like {DEFAULT_HUB_DATASET!r}, or 'synthetic'.",
                                   f"dataset={src!r}：没有这个文件夹。请给出一个已有的 ADEChallengeData2016 文件夹、"
                                   f"Hub ID（如 {DEFAULT_HUB_DATASET!r}）或 'synthetic'。"))
    return load_hub(src, split)


def split_train_test(ds, test_size: float = 0.2, seed: int = 0):
    """``ds.train_test_split`` with a clear error when the subset is too small to split."""
    if not 0 < test_size < 1:
        raise ValueError(tr(f"test_size must lie strictly between 0 and 1, got {test_size}",
                            f"test_size 必须严格介于 0 和 1 之间，实际是 {test_size}"))
    if len(ds) < MIN_EXAMPLES_TO_SPLIT:
        ratio = f"{round((1 - test_size) * 100)}/{round(test_size * 100)}"
        raise DataError(tr(f"the subset has {len(ds)} example(s); at least {MIN_EXAMPLES_TO_SPLIT} are needed to "
                           f"split {ratio} into train and test. "
                           "Use a larger split, e.g. split='train[:50]'.",
                           f"这个子集只有 {len(ds)} 个样本；要按 {ratio} 划分成训练集和测试集，至少需要 "
                           f"{MIN_EXAMPLES_TO_SPLIT} 个。请用更大的 split，例如 split='train[:50]'。"))
    return ds.train_test_split(test_size=test_size, seed=seed)
