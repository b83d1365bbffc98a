"""Benchmark 3: colouring a prediction with the ADE palette (guide's per-class loop vs one lookup)."""
from __future__ import annotations

import numpy as np

from .common import Row, check, failed_row, fmt_time, interleaved


def baseline_colorize(pred_seg: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """The guide's loop, RGB (without its final BGR flip)."""
    color_seg = np.zeros((pred_seg.shape[0], pred_seg.shape[1], 3), dtype=np.uint8)
    for label, color in enumerate(palette):
        color_seg[pred_seg == label, :] = color
    return color_seg


def run(quick: bool = False) -> list[Row]:
    from seghelpers import ade_palette, colorize

    reps = 9 if quick else 25
    palette = np.array(ade_palette())
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.int64, np.uint8):
        pred = rng.integers(0, 150, (512, 683)).astype(dtype)
        name = f"3. palette colouring ({np.dtype(dtype).name} ids)"
        goal = ">= 20x faster, bit-identical"
        how = (f"512x683 map of {np.dtype(dtype).name} ids 0..149 (int64: what argmax/predict return; uint8: what "
               f"preprocess_logits_for_metrics keeps); baseline = guide loop `color_seg[pred_seg == label, :] = "
               f"color` over 150 palette rows; ours = seghelpers.colorize; interleaved x{reps}, medians")
        try:
            expected = baseline_colorize(pred, palette)
            got = colorize(pred)
            check(got.dtype == expected.dtype and got.shape == expected.shape and np.array_equal(got, expected),
                  "colorize output differs from the guide loop's")
            t = interleaved(lambda: baseline_colorize(pred, palette), lambda: colorize(pred), reps=reps)
            rows.append(Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.0f}x faster",
                            goal, t.speedup >= 20, how + "; check: bit-identical RGB arrays"))
        except Exception as e:  # noqa: BLE001
            rows.append(failed_row(name, e, goal, how))
    return rows
