"""seghelpers: the shared code of the SegFormer teaching kit.

Importing ``seghelpers`` imports numpy only: no torch, no TensorFlow, no datasets. Framework code
lives in :mod:`seghelpers.pt` and :mod:`seghelpers.tf`; data loading (:func:`load_scene_parse`) is
imported on first use.

A data set is described by one object, :class:`DatasetMeta` (:func:`dataset_meta`): its label convention,
class names, palette and ignore index; every helper takes it as ``meta=``. Label convention: ADE20K's: raw annotation
0 = "other" -> 255 (ignored by loss and metric); raw k -> model class k - 1 (``reduce_labels=True``).
A dataset of your own may declare ``reduce_labels=False`` (mask value k is class k; 255 ignored).
"""
from __future__ import annotations

import warnings as _warnings
from pathlib import Path as _Path

# datasets/transformers import tqdm.auto, which warns in Jupyter without ipywidgets; the text bar works
_warnings.filterwarnings("ignore", message="IProgress not found")

from .images import as_rgb, save_class_map
from .labels import (IGNORE_INDEX, NUM_LABELS, id2label, label2id, load_label_file, normalize_id2label,
                     raw_from_reduced, reduce_labels)
from .meta import ADE20K, DatasetMeta

#: deprecated name of :class:`DatasetMeta`
DatasetLabels = DatasetMeta
from .metrics import MeanIoU, mean_iou, named_metrics
from .palette import ade_palette, colorize, colorize_annotation, ids_from_colors
from .viz import legend, overlay

__version__ = "0.1.0"

#: pass to ``evaluate.load(...)`` to get the ``mean_iou`` metric offline (same API as the hub's)
MEAN_IOU_METRIC = str(_Path(__file__).parent / "evaluate_metrics" / "mean_iou")

_LAZY = {
    "load_scene_parse": "data", "split_train_test": "data", "load_ade_folder": "data", "DataError": "data",
    "label_maps_for": "data", "dataset_labels": "data", "dataset_meta": "data", "guide_source": "data",
    "build_synthetic_ade": "synthetic", "resolve_checkpoint": "checkpoints",
    "build_random_segformer": "checkpoints", "load_image_processor": "checkpoints",
    "save_pretrained_atomic": "checkpoints", "show_source": "source", "trained_model_folder": "params",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'seghelpers' has no attribute {name!r}")


__all__ = ["IGNORE_INDEX", "NUM_LABELS", "id2label", "label2id", "load_label_file", "reduce_labels",
           "ADE20K", "DatasetMeta", "DatasetLabels", "normalize_id2label", "as_rgb", "save_class_map",
           "raw_from_reduced", "MeanIoU", "mean_iou", "named_metrics", "ade_palette", "colorize",
           "colorize_annotation", "ids_from_colors", "legend", "overlay", "MEAN_IOU_METRIC", *_LAZY]
