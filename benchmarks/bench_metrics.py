"""Benchmarks 1 and 2: mean IoU over many 512x512 label maps.

1. ``seghelpers.mean_iou`` vs the guide's / ``evaluate``'s mean_iou algorithm (three ``np.histogram``
   per image), plus ours vs a bare ``np.bincount`` over the same number of pixels.
2. ``seghelpers.mean_iou`` vs torchmetrics ``MulticlassJaccardIndex`` on CPU.
"""
from __future__ import annotations

import numpy as np

from .common import Row, check, failed_row, fmt_time, interleaved

NUM_LABELS = 150
IGNORE = 255
KEYS = ("mean_iou", "mean_accuracy", "overall_accuracy", "per_category_iou", "per_category_accuracy")


# -- baseline: a re-implementation of the hub metric's algorithm ---------------------------------
def _intersect_and_union(pred_label, label, num_labels, ignore_index):
    """One image, as the hub metric does it: mask the ignored pixels, then three histograms."""
    pred_label = np.array(pred_label)  # the hub metric copies its inputs
    label = np.array(label)
    mask = np.not_equal(label, ignore_index)
    pred_label = pred_label[mask]
    label = label[mask]
    intersect = pred_label[pred_label == label]
    area_intersect = np.histogram(intersect, bins=num_labels, range=(0, num_labels - 1))[0]
    area_pred_label = np.histogram(pred_label, bins=num_labels, range=(0, num_labels - 1))[0]
    area_label = np.histogram(label, bins=num_labels, range=(0, num_labels - 1))[0]
    area_union = area_pred_label + area_label - area_intersect
    return area_intersect, area_union, area_pred_label, area_label


def baseline_mean_iou(predictions, references, num_labels, ignore_index):
    total_intersect = np.zeros((num_labels,), dtype=np.float64)
    total_union = np.zeros((num_labels,), dtype=np.float64)
    total_pred = np.zeros((num_labels,), dtype=np.float64)
    total_label = np.zeros((num_labels,), dtype=np.float64)
    for pred, ref in zip(predictions, references):
        i, u, p, r = _intersect_and_union(pred, ref, num_labels, ignore_index)
        total_intersect += i
        total_union += u
        total_pred += p
        total_label += r
    with np.errstate(divide="ignore", invalid="ignore"):
        all_acc = total_intersect.sum() / total_label.sum()
        iou = total_intersect / total_union
        acc = total_intersect / total_label
    return {"mean_iou": np.nanmean(iou), "mean_accuracy": np.nanmean(acc), "overall_accuracy": all_acc,
            "per_category_iou": iou, "per_category_accuracy": acc}


def make_maps(n_maps: int, size: int = 512, seed: int = 0):
    """int64 references with 5% ignored pixels (255), predictions uniform in 0..149."""
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, NUM_LABELS, (n_maps, size, size), dtype=np.int64)
    refs[rng.random(refs.shape) < 0.05] = IGNORE
    preds = rng.integers(0, NUM_LABELS, (n_maps, size, size), dtype=np.int64)
    return preds, refs


def _max_key_diff(a: dict, b: dict) -> float:
    worst = 0.0
    for k in KEYS:
        x, y = np.asarray(a[k], np.float64), np.asarray(b[k], np.float64)
        check(x.shape == y.shape, f"{k}: shape {x.shape} != {y.shape}")
        check(np.array_equal(np.isnan(x), np.isnan(y)), f"{k}: NaN positions differ")
        finite = ~np.isnan(x)
        if finite.any():
            worst = max(worst, float(np.max(np.abs(x[finite] - y[finite]))))
    return worst


def run(quick: bool = False) -> list[Row]:
    from seghelpers import mean_iou
    from seghelpers.metrics import _threads_for

    n_maps, reps = (20, 5) if quick else (100, 7)
    preds, refs = make_maps(n_maps)
    pixels = preds.size
    rows: list[Row] = []
    hub_median = None
    data = f"{n_maps} x 512x512 int64 maps, 150 classes, 5% ignored (255) refs, uniform random preds"
    desc = (f"seghelpers.mean_iou ({_threads_for(pixels)} thread(s); per cache-sized chunk: range check, "
            "code = ref * 151 + pred, np.add.at)")

    def ours():
        return mean_iou(preds, refs, NUM_LABELS, IGNORE)

    # 1a. vs the hub algorithm
    name, goal = "1. mean IoU vs hub algorithm", ">= 12x faster, all keys within 1e-12"
    how = (f"{data}; baseline = hub/guide algorithm re-implemented (per image: mask, 3 x np.histogram, "
           f"summed, iou/acc/nanmean); ours = {desc}; interleaved x{reps}, medians")
    try:
        diff = _max_key_diff(baseline_mean_iou(preds, refs, NUM_LABELS, IGNORE), ours())
        check(diff <= 1e-12, f"max |difference| over keys = {diff:.3g} > 1e-12")
        t = interleaved(lambda: baseline_mean_iou(preds, refs, NUM_LABELS, IGNORE), ours, reps=reps)
        hub_median = t.baseline_median
        rows.append(Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.1f}x faster",
                        goal, t.speedup >= 12,
                        how + f"; check: every key equal, max |difference| = {diff:.1g} (<= 1e-12)"))
    except Exception as e:  # noqa: BLE001 - a benchmark failure becomes a table row
        rows.append(failed_row(name, e, goal, how))

    # 1b. vs a bare np.bincount over the same number of pixels
    name, goal = "1. mean IoU vs bare np.bincount", "ours <= 1.5x a bare bincount"
    how = (f"one np.bincount over {pixels:,} precomputed int64 indices in 0..22499, minlength=150*150 (the floor "
           f"for a single-threaded numpy confusion matrix) vs ours = {desc} on the maps above; interleaved x{reps}, "
           "medians")
    idx = np.random.default_rng(1).integers(0, NUM_LABELS * NUM_LABELS, pixels, dtype=np.int64)

    def bare():
        return np.bincount(idx, minlength=NUM_LABELS * NUM_LABELS)

    try:
        t = interleaved(bare, ours, reps=reps)
        if hub_median is not None:
            how += (f"; the bare bincount alone is {hub_median / t.baseline_median:.1f}x faster than the hub "
                    "algorithm (row above)")
        slowdown = t.ours_median / t.baseline_median
        rows.append(Row(name, f"bincount {fmt_time(t.baseline_median)}", fmt_time(t.ours_median),
                        f"ours takes {slowdown:.2f}x bincount's time", goal, slowdown <= 1.5, how))
    except Exception as e:  # noqa: BLE001
        rows.append(failed_row(name, e, goal, how))

    rows.append(_counting_row(preds, refs, idx, reps))
    rows.extend(_torchmetrics_rows(preds, refs, reps, data))
    return rows


def _counting_row(preds, refs, idx, reps) -> Row:
    """Why goal 1 is hard in numpy: numpy's counting loop does not run on two cores at once."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from seghelpers.metrics import _CHUNK

    passes = 20
    name = "1. (informative) np.add.at on cache-resident chunks: 1 thread vs 2 threads"
    how = (f"two chunks of {_CHUNK:,} codes (the size seghelpers counts at once) taken from the codes above, each "
           f"counted {passes} times with np.add.at into a 150*150 table; baseline = one thread counts both chunks; "
           f"ours = two threads, one chunk and one table each (then summed); interleaved x{reps}, medians. "
           "Two cores could give 2x; near 1x means the counting loop holds the GIL")
    try:
        chunks = (idx[:_CHUNK].astype(np.intp), idx[_CHUNK:2 * _CHUNK].astype(np.intp))

        def count(chunk):
            table = np.zeros(NUM_LABELS * NUM_LABELS, np.int64)
            for _ in range(passes):
                np.add.at(table, chunk, 1)
            return table

        def one():
            return count(chunks[0]) + count(chunks[1])

        with ThreadPoolExecutor(2) as pool:
            def two():
                return sum(pool.map(count, chunks))

            check(np.array_equal(two(), one()), "counts differ")
            t = interleaved(one, two, reps=reps)
        reads = []
        for _ in range(reps):  # one pass over both int64 maps: the memory traffic any method must pay
            t0 = time.perf_counter()
            preds.max(), refs.max()
            reads.append(time.perf_counter() - t0)
        how += (f"; for scale: reading both int64 maps once (max of each) takes {fmt_time(float(np.median(reads)))}, "
                f"and counting their {preds.size:,} pixels at the baseline's pace would take "
                f"{fmt_time(t.baseline_median * preds.size / (2 * passes * _CHUNK))}")
        ratio = f"2 threads run at {t.speedup:.2f}x the speed of 1"
        return Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), ratio, "", None,
                   how + "; check: identical counts")
    except Exception as e:  # noqa: BLE001
        return failed_row(name, e, "", how)


def _torchmetrics_rows(preds, refs, reps, data) -> list[Row]:
    rows = []
    goal = "ours faster, same mean IoU"
    try:
        import torch
        from torchmetrics.classification import MulticlassJaccardIndex

        from seghelpers import mean_iou
    except ImportError as e:
        return [failed_row("2. mean IoU vs torchmetrics", e, goal)]
    preds_t, refs_t = torch.from_numpy(preds), torch.from_numpy(refs)  # prepared outside the timing
    ours = mean_iou(preds, refs, NUM_LABELS, IGNORE)
    for validate in (True, False):
        name = f"2. mean IoU vs torchmetrics (validate_args={validate})"
        how = (f"{data}; MulticlassJaccardIndex(num_classes=150, ignore_index=255, average='macro', "
               f"validate_args={validate}) on CPU ({torch.get_num_threads()} torch threads), update+compute on the "
               f"whole stack of torch tensors made beforehand; ours = seghelpers.mean_iou on the same arrays "
               f"(numpy); interleaved x{reps}, medians")

        def tm():
            metric = MulticlassJaccardIndex(num_classes=NUM_LABELS, ignore_index=IGNORE, average="macro",
                                            validate_args=validate)
            metric.update(preds_t, refs_t)
            return metric.compute()

        try:
            # torchmetrics' macro average counts a class absent from both prediction and reference as
            # 0 (or skips it, depending on the version); hub/ours skip it (NaN). With every class present
            # the two definitions agree, so check that first.
            check(not np.isnan(ours["per_category_iou"]).any(), "not every class is present; the macro "
                  "averages would differ by definition")
            tm_val = float(tm())
            diff = abs(tm_val - float(ours["mean_iou"]))
            check(diff <= 1e-6, f"mean IoU torchmetrics {tm_val!r} vs ours {float(ours['mean_iou'])!r}")
            t = interleaved(tm, lambda: mean_iou(preds, refs, NUM_LABELS, IGNORE), reps=reps)
            rows.append(Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.1f}x faster",
                            goal, t.speedup > 1,
                            how + f"; check: all 150 classes present, |mean IoU difference| = {diff:.1g} "
                            "(torchmetrics divides in float32, ours in float64: equal to float32 precision)"))
        except Exception as e:  # noqa: BLE001
            rows.append(failed_row(name, e, goal, how))
    return rows
