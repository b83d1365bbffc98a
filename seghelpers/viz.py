"""Overlays, legends and plots. numpy only at import; matplotlib is imported when a plot is drawn."""
from __future__ import annotations

import numpy as np

from .i18n import tr
from .images import as_rgb_array
from .labels import IGNORE_INDEX
from .meta import resolve
from .palette import colorize


def _names_and_palette(id2label, palette, meta=None, where=""):
    """Names and colours from the data set's description (:func:`seghelpers.meta.resolve`).

    Only names given: the palette the data set declared when the kit loaded it (else the ADE palette's
    first rows); nothing given: ADE20K's."""
    if palette is not None and hasattr(palette, "reduce_labels"):  # a DatasetMeta passed as palette
        meta, palette = palette, None
    m = resolve(meta, id2label, palette, where=where)
    return m.id2label, m.palette


def overlay(image, seg, alpha: float = 0.5, palette=None, *, meta=None) -> np.ndarray:
    """Blend ``image`` with the colours of ``seg`` -> (H, W, 3) uint8 RGB.

    ``image``: anything :func:`seghelpers.as_rgb` accepts (PIL in any mode, uint8 (H, W) / (H, W, 3) /
    (H, W, 4), float in [0, 1]). ``seg``: (H, W) integer class ids. ``alpha`` is the weight of the
    colour layer (the guide uses 0.5). Ignored (255) pixels keep the image as it is instead of being
    darkened. ``meta``: the data set's :class:`seghelpers.DatasetMeta` (its palette colours the classes);
    ``palette``: (N, 3) uint8, row i = class i, overriding it (default: the ADE palette). Raises
    ``TypeError`` for an image it cannot read, ``ValueError`` when the sizes differ.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(tr(f"alpha must lie in [0, 1], got {alpha}",
                            f"alpha 必须在 [0, 1] 之内，实际是 {alpha}"))
    img = as_rgb_array(image)
    seg = np.asarray(seg)
    if seg.ndim != 2:
        raise ValueError(tr(f"seg must be a (H, W) map of class ids, got shape {seg.shape}",
                            f"seg 必须是 (H, W) 的类别编号图，实际形状是 {seg.shape}"))
    if img.shape[:2] != seg.shape:
        raise ValueError(tr(f"image is {img.shape[1]}x{img.shape[0]} but seg is {seg.shape[1]}x{seg.shape[0]}; "
                            "upsample the logits to the image size before argmax",
                            f"图像是 {img.shape[1]}x{img.shape[0]}，而 seg 是 {seg.shape[1]}x{seg.shape[0]}；"
                            "请先把 logits 上采样到图像尺寸，再做 argmax"))
    if meta is not None or hasattr(palette, "reduce_labels"):
        _, palette = _names_and_palette(None, palette, meta, "overlay")
    color = colorize(seg, palette)
    out = img.astype(np.float32) * (1 - alpha) + color.astype(np.float32) * alpha
    out = out.astype(np.uint8)
    ignored = seg == IGNORE_INDEX
    if ignored.any():
        out[ignored] = img[ignored]
    return out


def legend(seg, id2label=None, palette=None, min_fraction: float = 0.0, *,
           meta=None) -> list[tuple[int, str, tuple, float]]:
    """Classes present in ``seg`` ((H, W) integer ids), largest first: ``[(class_id, name, (r, g, b), fraction), ...]``.

    ``meta``: the data set's :class:`seghelpers.DatasetMeta` (names and palette; may also be passed in
    ``id2label``'s place). ``id2label`` alone, in any form :func:`seghelpers.normalize_id2label` accepts:
    coloured with the palette that data set declared when the kit loaded it (else the ADE palette's first
    rows); nothing: ADE20K. ``palette`` (N, 3) uint8 overrides the colours. Ids without a name are shown as
    their number. Raises ``ValueError`` when ``meta`` and ``id2label`` disagree.
    """
    names, pal = _names_and_palette(id2label, palette, meta, "legend")
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


def legend_handles(seg, id2label=None, palette=None, max_items: int = 12, *, meta=None):
    """matplotlib patches for ``ax.legend(handles=...)`` naming the classes in ``seg`` (see :func:`legend`)."""
    from matplotlib.patches import Patch

    return [Patch(color=np.asarray(c) / 255, label=f"{name.strip()} ({frac:.0%})")
            for _, name, c, frac in legend(seg, id2label, palette, meta=meta)[:max_items]]


def show_overlay(image, seg, alpha: float = 0.5, id2label=None, title: str | None = None, ax=None, palette=None,
                 *, meta=None):
    """Draw the overlay with a legend of the predicted classes; returns the matplotlib Axes.

    Pass the data set's description, ``meta=sh.dataset_meta(<folder>)``, so your own classes are named and
    coloured (``id2label`` alone finds the palette the data set declared, see :func:`legend`); default ADE20K.
    """
    import matplotlib.pyplot as plt

    names, pal = _names_and_palette(id2label, palette, meta, "show_overlay")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6))
    ax.imshow(overlay(image, seg, alpha, pal))
    ax.axis("off")
    ax.legend(handles=legend_handles(seg, names, pal), loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def show_example(image, annotation, title: str | None = None, labels=None, *, meta=None):
    """Image and its annotation (raw mask values) side by side, the annotation coloured with the data set's palette.

    ``meta`` (or, older name, ``labels``): a :class:`seghelpers.DatasetMeta` (default ADE20K); its convention
    turns mask values into classes; ignored pixels are black. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    labels = resolve(meta if meta is not None else labels, where="show_example")
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


def plot_per_class_iou(per_category_iou, id2label=None, top: int = 20, ax=None, *, meta=None):
    """Horizontal bars of per-class IoU, best first, each bar labelled with its value.

    Classes with NaN IoU (absent from prediction and reference) are left out; an IoU of 0 shows as
    "0.00" so it does not read as missing. ``meta`` (the data set's description) or ``id2label`` names the
    bars; with neither, the IoU array must have ADE20K's 150 classes. At most ``top`` classes are drawn.
    Raises ``ValueError`` if the names do not match the IoU array's length (naming ``meta=`` as the fix).
    """
    import matplotlib.pyplot as plt

    iou = np.asarray(per_category_iou, dtype=float)
    names = resolve(meta, id2label, num_labels=len(iou), where="plot_per_class_iou").id2label
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
    """Plot curves from ``trainer.state.log_history`` (list of dicts) or a Keras ``History.history`` dict.

    The keys that name a loss (``loss``, ``eval_loss``, ``val_loss``...) share one panel, so the gap between
    training and eval loss can be read off one y axis; every other key (``eval_mean_iou``...) gets a panel of its
    own. x: the optimizer step (Trainer) or the epoch, from 1 (Keras). ``ax``: one matplotlib Axes per panel
    (losses first), or None for a new figure. Returns the panels' Axes, in that order. Raises ``ValueError``
    when none of ``keys`` is in ``history``.
    """
    import matplotlib.pyplot as plt

    if isinstance(history, dict):  # Keras: {"loss": [...], "val_loss": [...]}
        series = {k: (list(range(1, len(history[k]) + 1)), history[k]) for k in keys if k in history}
        xlabel = "epoch"
    else:
        series = {}
        for k in keys:
            pts = [(h["step"], h[k]) for h in history if k in h]
            if pts:
                series[k] = tuple(map(list, zip(*pts)))
        xlabel = "step"
    if not series:
        raise ValueError(tr(f"none of {list(keys)} found in the training history",
                            f"训练记录里找不到 {list(keys)} 中的任何一项"))
    losses = [k for k in series if "loss" in k]
    panels = ([losses] if losses else []) + [[k] for k in series if k not in losses]
    if ax is None:
        _, ax = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.5), squeeze=False)
        ax = ax[0]
    axes = list(np.atleast_1d(ax))
    for a, names in zip(axes, panels):
        for k in names:
            x, y = series[k]
            a.plot(x, y, marker="." if len(x) < 60 else None, label=k)
        a.set_title(" / ".join(names))
        a.set_xlabel(xlabel)
        a.grid(alpha=0.3)
        if len(names) > 1:
            a.legend()
    return axes
