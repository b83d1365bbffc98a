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


def load_label_file(path) -> tuple[dict[int, str], dict[str, int]]:
    """Read an ``id2label`` JSON file (``{"0": "wall", ...}``) for a dataset of your own.

    Ids must be the consecutive integers ``0..N-1``; names must be unique.
    """
    from pathlib import Path

    path = Path(path)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"label file {path} does not exist; write it as JSON {{\"0\": \"name\", ...}}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"label file {path} is not valid JSON ({e}); expected {{\"0\": \"name\", ...}}") from None
    try:
        mapping = {int(k): str(v) for k, v in raw.items()}
    except (AttributeError, ValueError):
        raise ValueError(f"label file {path}: keys must be integer class ids, e.g. {{\"0\": \"wall\"}}") from None
    if sorted(mapping) != list(range(len(mapping))) or not mapping:
        raise ValueError(f"label file {path}: ids must be 0..N-1 without gaps, got {sorted(mapping)[:10]}...")
    if len(set(mapping.values())) != len(mapping):
        raise ValueError(f"label file {path}: class names must be unique")
    return mapping, {v: k for k, v in mapping.items()}


def reduce_labels(annotation) -> np.ndarray:
    """Raw ADE annotation (0 = other, 1..150) -> model labels (255 = ignore, 0..149), as uint8.

    Same result as the image processor's ``do_reduce_labels=True``.
    """
    a = np.asarray(annotation)
    if a.size and (a.min() < 0 or a.max() > 255):
        raise ValueError(f"annotation values must lie in 0..255, got {a.min()}..{a.max()}")
    out = a.astype(np.uint8) - np.uint8(1)  # 0 wraps to 255, k -> k-1
    out[out == 254] = IGNORE_INDEX  # raw 255 (not an ADE class) stays ignored, as in the processor
    return out


def raw_from_reduced(labels) -> np.ndarray:
    """Inverse of :func:`reduce_labels`: 255 -> 0 ("other"), k -> k+1."""
    a = np.asarray(labels).astype(np.int64)
    out = a + 1
    out[a == IGNORE_INDEX] = 0
    return out.astype(np.uint8)
