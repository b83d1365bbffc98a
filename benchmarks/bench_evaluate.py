"""Benchmark 10: the guide's ``compute_metrics`` as written, ``evaluate.load(...).compute(...)`` end to end.

Row 1 compares the kit with the hub metric's *algorithm* re-implemented. What the guide's ``compute_metrics``
runs is ``metric.compute(predictions=..., references=...)``, and ``evaluate`` first writes every pixel of every
map to an Arrow table, then reads it back, before the metric's own arithmetic. Offline the hub script cannot be
fetched, so the metric loaded is the kit's local module (``evaluate.load(seghelpers.MEAN_IOU_METRIC)``): same
``evaluate.Metric`` path (Arrow conversion included), the kit's confusion matrix as its arithmetic, so the
baseline is a lower bound for the hub script. Ours: ``seghelpers.mean_iou`` on the same maps.
"""
from __future__ import annotations

from .bench_metrics import IGNORE, NUM_LABELS, _max_key_diff, make_maps
from .common import Row, check, failed_row, fmt_time, interleaved


def run(quick: bool = False) -> list[Row]:
    import evaluate

    import seghelpers as sh

    n_maps, reps = (1, 5) if quick else (3, 5)
    preds, refs = make_maps(n_maps)
    metric = evaluate.load(sh.MEAN_IOU_METRIC)
    name, goal = "10. the guide's compute_metrics (evaluate .compute)", ">= 100x faster, all keys within 1e-12"
    how = (f"{n_maps} x 512x512 int64 maps, 150 classes, 5% ignored; baseline = the guide's code as written: "
           "metric.compute(predictions=[...], references=[...], num_labels=150, ignore_index=255) on "
           "evaluate.load(sh.MEAN_IOU_METRIC) (evaluate converts every pixel to Arrow first; the hub script adds its "
           f"own 3 histograms per map on top); ours = sh.mean_iou; interleaved x{reps}, medians")

    def guide():
        return metric.compute(predictions=list(preds), references=list(refs), num_labels=NUM_LABELS,
                              ignore_index=IGNORE, reduce_labels=False)

    def ours():
        return sh.mean_iou(preds, refs, NUM_LABELS, IGNORE)

    try:
        diff = _max_key_diff(guide(), ours())
        check(diff <= 1e-12, f"max |difference| over keys = {diff:.3g} > 1e-12")
        t = interleaved(guide, ours, reps=reps)
        per_map = t.baseline_median / n_maps
        return [Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.0f}x faster", goal,
                    t.speedup >= 100,
                    how + f"; the guide's path costs {fmt_time(per_map)} per 512x512 map (10 evaluation images: "
                    f"{fmt_time(10 * per_map)} per evaluation); check: every key equal, max |difference| = {diff:.1g}")]
    except Exception as e:  # noqa: BLE001 - a benchmark failure becomes a table row
        return [failed_row(name, e, goal, how)]
