"""Mean IoU from a confusion matrix (numpy only).

:func:`mean_iou` returns the same keys, semantics and numbers as the ``mean_iou`` metric on the
Hugging Face hub (``evaluate.load("mean_iou")``), which cannot be downloaded offline:

* ``mean_iou`` / ``mean_accuracy``: nan-mean over classes (a class with an empty union, i.e.
  absent from both prediction and reference, is NaN and skipped)
* ``overall_accuracy``: correct pixels / labelled pixels
* ``per_category_iou`` / ``per_category_accuracy``: arrays of length ``num_labels``

Pixels whose reference equals ``ignore_index`` are dropped; values outside ``0..num_labels-1`` are
not counted (as the hub metric's histograms do). Instead of three histograms per image we count
(reference, prediction) pairs once into a ``num_labels x num_labels`` confusion matrix, which
also makes a streaming accumulator (:class:`MeanIoU`) trivial: it keeps only that matrix.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .i18n import tr

def _as_int_array(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == object:
        raise TypeError(tr(f"{name}: got ragged/object data; pass arrays of equal shape or a list of arrays",
                           f"{name}：收到的是长短不一的 object 数据；请传入形状相同的数组，或一个数组列表"))
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise TypeError(tr(f"{name} must hold integer class ids, got non-integer floats",
                               f"{name} 必须是整数类别编号，实际收到了非整数的浮点数"))
        a = a.astype(np.int64)
    elif a.dtype.kind == "b":
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iu":
        raise TypeError(tr(f"{name} must hold integer class ids, got dtype {a.dtype}",
                           f"{name} 必须是整数类别编号，实际 dtype 是 {a.dtype}"))
    return a

def _reduce_reference(ref: np.ndarray) -> np.ndarray:
    # same mapping as the hub metric's reduce_labels: 0 -> 255, k -> k-1 (and a wrapped 254 -> 255)
    ref = ref.astype(np.int64)
    ref = np.where(ref == 0, 255, ref - 1)
    ref[ref == 254] = 255
    return ref

def confusion_matrix(prediction, reference, num_labels: int, ignore_index: int | None = 255,
                     label_map: dict | None = None, reduce_labels: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count one (prediction, reference) pair of label maps.

    Returns ``(cm, extra_pred, extra_ref)``: ``cm[r, p]`` counts pixels with reference ``r`` and
    prediction ``p`` (both in range); ``extra_pred`` / ``extra_ref`` count in-range predictions /
    references whose partner is out of range (rare; only with corrupt data), so that unions match
    the hub metric exactly.
    """
    pred = _as_int_array(prediction, "predictions")
    ref = _as_int_array(reference, "references")
    if pred.shape != ref.shape:
        raise ValueError(tr(f"prediction shape {pred.shape} != reference shape {ref.shape}; "
                            "upsample logits to the label size before argmax",
                            f"预测的形状 {pred.shape} 与真实标签的形状 {ref.shape} 不一致；"
                            "请先把 logits 上采样到标签尺寸，再做 argmax"))
    if label_map:
        ref = ref.copy()
        for old, new in label_map.items():  # applied one after another, like the hub metric
            ref[ref == old] = new
    if reduce_labels:
        ref = _reduce_reference(ref)
    n = int(num_labels)
    pred = pred.ravel()
    ref = ref.ravel()
    if ignore_index is None or (isinstance(ignore_index, (int, np.integer)) and 0 <= ignore_index < _MAX_FAST_IGNORE):
        return _count_pairs(pred, ref, n, ignore_index)
    return _count_pairs_masked(pred, ref, n, ignore_index)


#: pixels per pass of :func:`_count_pairs`: its code buffer (2 MB) stays in the CPU's L2/L3 cache
_CHUNK = 1 << 18
#: :func:`_count_pairs` keeps one counter row per reference value up to ``ignore_index``
_MAX_FAST_IGNORE = 1 << 12
#: at most this many threads share one large update (the code ufuncs release the GIL; np.add.at does not)
_MAX_THREADS = 4


def _unsigned_view(a: np.ndarray) -> np.ndarray | None:
    """``a`` seen as unsigned, so that one ``max()`` bounds it from both sides (negatives become huge).

    ``None`` for int8: a uint8 view would turn -1 into 255 = ignore_index (such maps take the clipping path).
    """
    if a.dtype.kind == "u":
        return a
    return a.view(a.dtype.str.replace("i", "u")) if a.itemsize > 1 else None  # keeps the byte order


def _clip_args(a: np.ndarray, unsigned: np.ndarray | None, bound: int) -> tuple[np.ndarray, np.dtype]:
    """The array and loop type for ``np.minimum(..., bound)``: its unsigned view, or (int8) the array
    itself in a uint64 loop, which also turns negative ids into huge ones."""
    if unsigned is None:
        return a, np.dtype(np.uint64)
    return unsigned, np.promote_types(unsigned.dtype, np.min_scalar_type(bound))  # uint8 ids, bound 256 -> uint16


def _threads_for(size: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, cpus, size // (4 * _CHUNK)))


def _count_pairs(pred: np.ndarray, ref: np.ndarray, n: int, ignore_index: int | None):
    """Count (reference, prediction) codes chunk by chunk (cache-sized), no boolean masks.

    Each pixel lands in exactly one cell of a small table: reference rows ``0..top`` (``top`` =
    "any other value", negatives included), prediction columns ``0..n`` (``n`` = "out of range").
    The row of ``ignore_index`` is then dropped and the out-of-range row and column give
    ``extra_pred`` / ``extra_ref``. Same numbers as :func:`_count_pairs_masked`, several times faster.

    A chunk whose ids are all in the table (checked with one ``max()`` per map on unsigned views,
    read while the chunk is still in cache) is coded as ``ref * cols + pred`` directly; any other
    chunk is clipped first (corrupt data, int8 maps). Large inputs are split over a few threads,
    each with its own table: the code ufuncs release the GIL, so one thread codes while another counts.
    """
    top = n if ignore_index is None else max(n, int(ignore_index) + 1)
    rows, cols = top + 1, n + 1
    ref_u, pred_u = _unsigned_view(ref), _unsigned_view(pred)
    ref_c, ref_loop = _clip_args(ref, ref_u, top)
    pred_c, pred_loop = _clip_args(pred, pred_u, n)

    def count(lo: int, hi: int) -> np.ndarray:
        counts = np.zeros(rows * cols, np.int64)
        code = np.empty(min(_CHUNK, hi - lo), np.intp)
        col = None
        for start in range(lo, hi, _CHUNK):
            stop = min(start + _CHUNK, hi)
            c = code[:stop - start]  # a shorter view for the last chunk
            np.multiply(ref[start:stop], cols, out=c, dtype=np.intp, casting="unsafe")
            np.add(c, pred[start:stop], out=c, dtype=np.intp, casting="unsafe")
            if (ref_u is None or pred_u is None or ref_u[start:stop].max() > top
                    or pred_u[start:stop].max() > n):  # an id outside the table: clip, then code again
                col = np.empty_like(code) if col is None else col
                p = col[:stop - start]
                np.minimum(ref_c[start:stop], top, out=c, dtype=ref_loop, casting="unsafe")  # <= top: exact cast
                np.minimum(pred_c[start:stop], n, out=p, dtype=pred_loop, casting="unsafe")
                c *= cols
                c += p
            np.add.at(counts, c, 1)  # numpy 2: faster than np.bincount, which first scans for min/max
        return counts

    threads = _threads_for(ref.size)
    if threads == 1:
        counts = count(0, ref.size)
    else:  # a pool per call: a long-lived one would hang in a fork()ed DataLoader worker
        bounds = np.linspace(0, ref.size, threads + 1).astype(int)
        with ThreadPoolExecutor(threads) as pool:
            counts = sum(pool.map(count, bounds[:-1], bounds[1:]))
    counts = counts.reshape(rows, cols)
    if ignore_index is not None:
        counts[int(ignore_index)] = 0
    cm = np.ascontiguousarray(counts[:n, :n])
    extra_ref = counts[:n, n].copy()  # reference in range, prediction not
    extra_pred = counts[n:, :n].sum(axis=0)  # prediction in range, reference not (and not ignored)
    return cm, extra_pred, extra_ref


def _count_pairs_masked(pred: np.ndarray, ref: np.ndarray, n: int, ignore_index):
    """General path (any ``ignore_index``, e.g. -100): boolean masks, then ``np.bincount``."""
    ref_ok = (ref >= 0) & (ref < n)
    pred_ok = (pred >= 0) & (pred < n)
    keep = ref != ignore_index if ignore_index is not None else np.ones_like(ref_ok)
    both = keep & ref_ok & pred_ok
    if both.all():  # the common case: no ignored pixel, nothing out of range
        idx = ref.astype(np.intp) * n + pred.astype(np.intp)
    else:
        idx = ref[both].astype(np.intp) * n + pred[both].astype(np.intp)
    cm = np.bincount(idx, minlength=n * n).reshape(n, n)
    extra_pred = np.zeros(n, np.int64)
    extra_ref = np.zeros(n, np.int64)
    lonely_pred = keep & pred_ok & ~ref_ok
    if lonely_pred.any():
        extra_pred = np.bincount(pred[lonely_pred].astype(np.intp), minlength=n)
    lonely_ref = keep & ref_ok & ~pred_ok
    if lonely_ref.any():
        extra_ref = np.bincount(ref[lonely_ref].astype(np.intp), minlength=n)
    return cm, extra_pred, extra_ref

def metrics_from_confusion(cm: np.ndarray, extra_pred=None, extra_ref=None,
                           nan_to_num: float | None = None) -> dict:
    """Turn a confusion matrix (rows = reference, cols = prediction) into the hub metric's dict."""
    cm = np.asarray(cm, dtype=np.int64)
    intersect = np.diag(cm).astype(np.float64)
    area_pred = cm.sum(axis=0).astype(np.float64)
    area_ref = cm.sum(axis=1).astype(np.float64)
    if extra_pred is not None:
        area_pred = area_pred + extra_pred
    if extra_ref is not None:
        area_ref = area_ref + extra_ref
    union = area_pred + area_ref - intersect
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = intersect / union
        acc = intersect / area_ref
        overall = intersect.sum() / area_ref.sum()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice" when all NaN
            metrics = {
                "mean_iou": np.nanmean(iou),
                "mean_accuracy": np.nanmean(acc),
                "overall_accuracy": overall,
                "per_category_iou": iou,
                "per_category_accuracy": acc,
            }
    if nan_to_num is not None:
        metrics = {k: np.nan_to_num(v, nan=nan_to_num) for k, v in metrics.items()}
    return metrics

class MeanIoU:
    """Streaming mean IoU: ``update()`` batch by batch, ``compute()`` at the end.

    Memory is one ``num_labels x num_labels`` int64 matrix, whatever the number of images.
    """

    def __init__(self, num_labels: int, ignore_index: int | None = 255, label_map: dict | None = None,
                 reduce_labels: bool = False):
        if int(num_labels) < 1:
            raise ValueError(tr(f"num_labels must be >= 1, got {num_labels}",
                                f"num_labels 必须 >= 1，实际是 {num_labels}"))
        self.num_labels = int(num_labels)
        self.ignore_index = ignore_index
        self.label_map = label_map
        self.reduce_labels = reduce_labels
        self.reset()

    def reset(self) -> None:
        n = self.num_labels
        self.cm = np.zeros((n, n), np.int64)
        self.extra_pred = np.zeros(n, np.int64)
        self.extra_ref = np.zeros(n, np.int64)

    def update(self, predictions, references) -> "MeanIoU":
        """Add one label map or a batch of them (any leading shape, or a list of maps of varying size)."""
        if isinstance(predictions, (list, tuple)) or isinstance(references, (list, tuple)):
            if len(predictions) != len(references):
                raise ValueError(tr(f"got {len(predictions)} predictions but {len(references)} references",
                                    f"收到了 {len(predictions)} 个预测，却有 {len(references)} 个真实标签，数量不一致"))
            for p, r in zip(predictions, references):
                self.update(p, r)
            return self
        cm, ep, er = confusion_matrix(predictions, references, self.num_labels, self.ignore_index,
                                      self.label_map, self.reduce_labels)
        self.cm += cm
        self.extra_pred += ep
        self.extra_ref += er
        return self

    def compute(self, nan_to_num: float | None = None) -> dict:
        return metrics_from_confusion(self.cm, self.extra_pred, self.extra_ref, nan_to_num)

def mean_iou(predictions, references, num_labels: int, ignore_index: int | None = 255,
             nan_to_num: float | None = None, label_map: dict | None = None,
             reduce_labels: bool = False) -> dict:
    """Drop-in for ``evaluate.load("mean_iou").compute(...)`` (same arguments and result keys)."""
    acc = MeanIoU(num_labels, ignore_index, label_map, reduce_labels)
    return acc.update(predictions, references).compute(nan_to_num)

def named_metrics(metrics: dict, id2label=None, prefix: str = "", *, meta=None) -> dict:
    """Flatten per-class arrays into scalar keys named by label (``iou_wall``, ``accuracy_wall``...).

    ``meta``: the data set's :class:`seghelpers.DatasetMeta` (may also be passed in ``id2label``'s place);
    or ``id2label`` in any form :func:`seghelpers.labels.normalize_id2label` accepts (str keys from JSON,
    a list of names, a model or its config). Returns ``{prefix + key: float}``. Raises ``ValueError`` when
    the names are not exactly one per class of the per-class arrays (wrong names would pass silently into
    logs and early-stopping keys), or when neither is given for a class count other than ADE20K's.
    """
    from .i18n import tr
    from .labels import normalize_id2label

    if meta is not None and hasattr(meta, "reduce_labels"):
        id2label = meta.id2label
    elif meta is not None:
        id2label = meta
    elif hasattr(id2label, "reduce_labels"):
        id2label = id2label.id2label
    n = len(np.atleast_1d(metrics.get("per_category_iou", [])))
    if id2label is None:
        from .labels import NUM_LABELS, id2label as ade

        if n not in (0, NUM_LABELS):
            raise ValueError(tr(f"named_metrics: the metrics have {n} classes and no names were given; pass the "
                                "data set's description: meta=sh.dataset_meta(<your folder>)",
                                f"named_metrics：指标有 {n} 个类别，却没有给出类别名；请传入数据集的描述："
                                "meta=sh.dataset_meta(<你的文件夹>)"))
        id2label = ade
    id2label = normalize_id2label(id2label)
    if n and n != len(id2label):
        raise ValueError(tr(f"named_metrics: id2label names {len(id2label)} classes but the metrics have {n}; pass "
                            "the description of the data set the metrics were computed on "
                            "(meta=sh.dataset_meta(<folder>))",
                            f"named_metrics：id2label 有 {len(id2label)} 个类别，而指标有 {n} 个；请传入计算这些指标"
                            "所用数据集的描述（meta=sh.dataset_meta(<文件夹>)）"))
    out = {}
    for k, v in metrics.items():
        if k == "per_category_iou":
            out.update({f"{prefix}iou_{id2label[i]}": float(x) for i, x in enumerate(v)})
        elif k == "per_category_accuracy":
            out.update({f"{prefix}accuracy_{id2label[i]}": float(x) for i, x in enumerate(v)})
        else:
            out[f"{prefix}{k}"] = float(v)
    return out
