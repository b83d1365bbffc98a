"""Overlays, legends and plots. numpy only at import; matplotlib is imported when a plot is drawn."""
from __future__ import annotations

import numpy as np

from .images import as_rgb_array
from .labels import IGNORE_INDEX, default_palette, id2label as ADE_ID2LABEL, normalize_id2label
from .palette import colorize


def _names_and_palette(id2label, palette):
    """Normalised names (ADE's when None) and a palette with one row per class (ADE's first rows by default)."""
    names = ADE_ID2LABEL if id2label is None else normalize_id2label(id2label)
    pal = default_palette(len(names)) if palette is None else np.asarray(palette, np.uint8)
    if pal.ndim != 2 or pal.shape[1] != 3:
        raise ValueError(f"palette must be an (N, 3) array of RGB colours, got shape {pal.shape}")
    return names, pal


def overlay(image, seg, alpha: float = 0.5, palette=None) -> np.ndarray:
    """Blend ``image`` with the colours of ``seg`` -> (H, W, 3) uint8 RGB.

    ``image``: anything :func:`seghelpers.as_rgb` accepts (PIL in any mode, uint8 (H, W) / (H, W, 3) /
    (H, W, 4), float in [0, 1]). ``seg``: (H, W) integer class ids. ``alpha`` is the weight of the
    colour layer (the guide uses 0.5). Ignored (255) pixels keep the image as it is instead of being
    darkened. ``palette``: (N, 3) uint8, row i = class i (default: the ADE palette). Raises
    ``TypeError`` for an image it cannot read, ``ValueError`` when the sizes differ.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    img = as_rgb_array(image)
    seg = np.asarray(seg)
    if seg.ndim != 2:
        raise ValueError(f"seg must be a (H, W) map of class ids, got shape {seg.shape}")
    if img.shape[:2] != seg.shape:
        raise ValueError(f"image is {img.shape[1]}x{img.shape[0]} but seg is {seg.shape[1]}x{seg.shape[0]}; "
                         "upsample the logits to the image size before argmax")
    color = colorize(seg, palette)
    out = img.astype(np.float32) * (1 - alpha) + color.astype(np.float32) * alpha
    out = out.astype(np.uint8)
    ignored = seg == IGNORE_INDEX
    if ignored.any():
        out[ignored] = img[ignored]
    return out


def legend(seg, id2label: dict | None = None, palette=None, min_fraction: float = 0.0) -> list[tuple[int, str, tuple, float]]:
    """Classes present in ``seg``, largest first: ``[(class_id, name, (r, g, b), fraction), ...]``.

    ``id2label`` in any form :func:`seghelpers.normalize_id2label` accepts (default: ADE20K's names);
    ``palette`` (N, 3) uint8 (default: the ADE palette's first N rows). Ids without a name are shown as
    their number.
    """
    names, pal = _names_and_palette(id2label, palette)
    seg = np.asarray(seg)
    valid = seg[(seg != IGNORE_INDEX) & (seg >= 0)]
    if valid.size == 0:
        return []
    counts = np.bincount(valid.ravel().astype(np.intp))
    total = counts.sum()
    out = []
    for cid in np.argsort(-counts, kind="stable"):
        if counts[cid] == 0 or counts[cid] / total < min_fraction:
            continue
        colour = tuple(int(c) for c in pal[cid]) if cid < len(pal) else (0, 0, 0)
        out.append((int(cid), names.get(int(cid), str(cid)), colour, float(counts[cid] / total)))
    return out


def legend_handles(seg, id2label=None, palette=None, max_items: int = 12):
    """matplotlib patches for ``ax.legend(handles=...)`` naming the classes in ``seg``."""
    from matplotlib.patches import Patch

    return [Patch(color=np.asarray(c) / 255, label=f"{name.strip()} ({frac:.0%})")
            for _, name, c, frac in legend(seg, id2label, palette)[:max_items]]


def show_overlay(image, seg, alpha: float = 0.5, id2label=None, title: str | None = None, ax=None, palette=None):
    """Draw the overlay with a legend of the predicted classes; returns the matplotlib Axes.

    Pass the dataset's ``id2label`` and ``palette`` (e.g. ``labels.id2label``, ``labels.palette`` from
    :func:`seghelpers.dataset_labels`) so your own classes are named and coloured; default ADE20K.
    """
    import matplotlib.pyplot as plt

    names, pal = _names_and_palette(id2label, palette)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6))
    ax.imshow(overlay(image, seg, alpha, pal))
    ax.axis("off")
    ax.legend(handles=legend_handles(seg, names, pal), loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def show_example(image, annotation, title: str | None = None, labels=None):
    """Image and its annotation side by side, the annotation coloured with the dataset's palette.

    ``labels``: a :class:`seghelpers.DatasetLabels` (default ADE20K); ignored pixels are black.
    """
    import matplotlib.pyplot as plt

    from .labels import ADE20K

    labels = ADE20K if labels is None else labels
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].imshow(as_rgb_array(image))
    axes[0].set_title("image")
    axes[1].imshow(colorize(labels.to_model_ids(np.asarray(annotation)), labels.palette))
    axes[1].set_title("annotation (black = ignored)")
    for a in axes:
        a.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def plot_per_class_iou(per_category_iou, id2label: dict | None = None, top: int = 20, ax=None):
    """Horizontal bars of per-class IoU, best first, each bar labelled with its value.

    Classes with NaN IoU (absent from prediction and reference) are left out; an IoU of 0 shows as
    "0.00" so it does not read as missing. ``id2label`` in any accepted form (default ADE20K); at most
    ``top`` classes are drawn. Raises ``ValueError`` if ``id2label`` has fewer classes than the IoU array.
    """
    import matplotlib.pyplot as plt

    names = ADE_ID2LABEL if id2label is None else normalize_id2label(id2label)
    iou = np.asarray(per_category_iou, dtype=float)
    if len(iou) > len(names):
        raise ValueError(f"id2label names {len(names)} classes but per_category_iou has {len(iou)}")
    ids = [i for i in np.argsort(-np.nan_to_num(iou, nan=-1), kind="stable") if not np.isnan(iou[i])][:top]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * max(len(ids), 3) + 1))
    values = [iou[i] for i in ids][::-1]
    bars = ax.barh([names[int(i)].strip() for i in ids][::-1], values, color="tab:blue")
    for bar, v in zip(bars, values):
        ax.text(min(v, 0.88) + 0.01, bar.get_y() + bar.get_height() / 2, f"{v:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("IoU")
    return ax


def plot_training_curves(history: list[dict] | dict, keys=("loss", "eval_loss", "eval_mean_iou"), ax=None):
    """Plot curves from ``trainer.state.log_history`` (list of dicts) or a Keras ``History.history`` dict."""
    import matplotlib.pyplot as plt

    if isinstance(history, dict):  # Keras: {"loss": [...], "val_loss": [...]}
        series = {k: (list(range(1, len(v) + 1)), v) for k, v in history.items() if k in keys}
        xlabel = "epoch"
    else:
        series = {}
        for k in keys:
            pts = [(h["step"], h[k]) for h in history if k in h]
            if pts:
                series[k] = tuple(map(list, zip(*pts)))
        xlabel = "step"
    if not series:
        raise ValueError(f"none of {list(keys)} found in the training history")
    if ax is None:
        _, ax = plt.subplots(1, len(series), figsize=(5 * len(series), 3.5), squeeze=False)
        ax = ax[0]
    for a, (k, (x, y)) in zip(np.atleast_1d(ax), series.items()):
        a.plot(x, y, marker=".")
        a.set_title(k)
        a.set_xlabel(xlabel)
        a.grid(alpha=0.3)
    return ax
