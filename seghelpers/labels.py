"""ADE20K / SceneParse150 label maps and the kit's single label convention.

The convention (used by every helper, notebook and test in this kit)
--------------------------------------------------------------------
Raw ADE20K annotations store one byte per pixel:

* ``0``      -> "other" (unlabelled / not one of the 150 classes)
* ``k >= 1`` -> ADE class ``k`` (1..150)

Models are trained on *reduced* labels, exactly what
``SegformerImageProcessor(do_reduce_labels=True)`` produces:

* raw ``0``  -> ``IGNORE_INDEX`` (255), ignored by the loss and by the metric
* raw ``k``  -> ``k - 1`` (0..149), the index into :data:`id2label`

So model class 0 is "wall" (raw ADE id 1). :func:`reduce_labels` and
:func:`raw_from_reduced` implement the mapping for numpy arrays.
"""
from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .i18n import tr

IGNORE_INDEX = 255
NUM_LABELS = 150


def _load_id2label() -> dict[int, str]:
    text = resources.files("seghelpers").joinpath("data/ade20k-id2label.json").read_text("utf-8")
    return {int(k): v for k, v in json.loads(text).items()}


#: model class id (0..149) -> ADE class name, Hugging Face order and spelling ("bed " keeps its space)
id2label: dict[int, str] = _load_id2label()
#: inverse of :data:`id2label`
label2id: dict[str, int] = {v: k for k, v in id2label.items()}
assert len(id2label) == NUM_LABELS


def normalize_id2label(id2label, name: str = "id2label") -> dict[int, str]:
    """One ``{int class id: str name}`` dict from any form a label map arrives in.

    Accepts a dict with int or str keys (``json.load`` gives ``{"0": "wall"}``), a list/tuple of names
    (position = class id), a ``PretrainedConfig`` or a model (its ``config.id2label``), or a
    :class:`seghelpers.DatasetMeta` (its ``id2label``). Ids must be ``0..N-1`` without gaps; names must be unique strings.

    Raises ``TypeError`` for any other type and ``ValueError`` (naming ``name``) for bad ids or names.
    """
    obj = id2label
    if hasattr(obj, "config") and hasattr(obj.config, "id2label"):  # a model
        obj = obj.config
    if hasattr(obj, "id2label") and not isinstance(obj, dict):  # a PretrainedConfig
        obj = obj.id2label
    if isinstance(obj, (list, tuple)):
        obj = dict(enumerate(obj))
    if not isinstance(obj, dict):
        raise TypeError(tr(f"{name}: expected a dict {{0: 'wall', ...}}, a list of class names, a model or its "
                           f"config, got {type(id2label).__name__}",
                           f"{name}：应当是字典 {{0: 'wall', ...}}、类别名列表、模型或模型的 config，"
                           f"实际是 {type(id2label).__name__}"))
    try:
        mapping = {int(k): v for k, v in obj.items()}
    except (TypeError, ValueError):
        raise ValueError(tr(f"{name}: keys must be integer class ids (or their strings, as JSON gives them), "
                            f"e.g. {{\"0\": \"wall\"}}; got keys {list(obj)[:5]}",
                            f"{name}：键必须是整数类别编号（或者像 JSON 里那样写成字符串），例如 {{\"0\": \"wall\"}}；"
                            f"实际的键是 {list(obj)[:5]}")) from None
    if not mapping or sorted(mapping) != list(range(len(mapping))):
        raise ValueError(tr(f"{name}: class ids must be 0..N-1 without gaps, got {sorted(mapping)[:10]}",
                            f"{name}：类别编号必须是连续的 0..N-1，不能有空缺，实际是 {sorted(mapping)[:10]}"))
    bad = [v for v in mapping.values() if not isinstance(v, str)]
    if bad:
        raise ValueError(tr(f"{name}: class names must be strings, got {bad[0]!r}",
                            f"{name}：类别名必须是字符串，实际是 {bad[0]!r}"))
    if len(set(mapping.values())) != len(mapping):
        dup = next(v for v in mapping.values() if list(mapping.values()).count(v) > 1)
        raise ValueError(tr(f"{name}: class names must be unique, {dup!r} appears twice",
                            f"{name}：类别名不能重复，{dup!r} 出现了两次"))
    return dict(sorted(mapping.items()))


def load_label_file(path) -> tuple[dict[int, str], dict[str, int]]:
    """Read an ``id2label`` JSON file (``{"0": "wall", ...}``) for a dataset of your own.

    Ids must be the consecutive integers ``0..N-1``; names must be unique. Errors name the file.
    """
    from pathlib import Path

    path = Path(path)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(tr(f"label file {path} does not exist; write it as JSON {{\"0\": \"name\", ...}}",
                                   f"标签文件 {path} 不存在；请把它写成 JSON：{{\"0\": \"name\", ...}}")) from None
    except json.JSONDecodeError as e:
        raise ValueError(tr(f"label file {path} is not valid JSON ({e}); expected {{\"0\": \"name\", ...}}",
                            f"标签文件 {path} 不是合法的 JSON（{e}）；应当形如 {{\"0\": \"name\", ...}}")) from None
    if not isinstance(raw, (dict, list)):
        raise ValueError(tr(f"label file {path}: expected a JSON object {{\"0\": \"name\", ...}}",
                            f"标签文件 {path}：应当是一个 JSON 对象 {{\"0\": \"name\", ...}}"))
    mapping = normalize_id2label(raw, name=f"label file {path}")
    return mapping, {v: k for k, v in mapping.items()}


def reduce_labels(annotation) -> np.ndarray:
    """Raw ADE annotation (0 = other, 1..150) -> model labels (255 = ignore, 0..149), as uint8.

    Same result as the image processor's ``do_reduce_labels=True``.
    """
    a = np.asarray(annotation)
    if a.size and (a.min() < 0 or a.max() > 255):
        raise ValueError(tr(f"annotation values must lie in 0..255, got {a.min()}..{a.max()}",
                            f"标注的取值必须在 0..255 之内，实际是 {a.min()}..{a.max()}"))
    out = a.astype(np.uint8) - np.uint8(1)  # 0 wraps to 255, k -> k-1
    out[out == 254] = IGNORE_INDEX  # raw 255 (not an ADE class) stays ignored, as in the processor
    return out


def raw_from_reduced(labels) -> np.ndarray:
    """Inverse of :func:`reduce_labels`: 255 -> 0 ("other"), k -> k+1."""
    a = np.asarray(labels).astype(np.int64)
    out = a + 1
    out[a == IGNORE_INDEX] = 0
    return out.astype(np.uint8)
