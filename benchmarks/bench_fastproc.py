"""Benchmark 5: train-transform throughput at 512x512 (slow SegformerImageProcessor vs FastSegformerProcessor)."""
from __future__ import annotations

import numpy as np

from .common import Row, check, failed_row, fmt_time, interleaved


def make_batch(n: int, seed: int = 0):
    """PIL RGB images + mode-L raw annotations (0..150), sizes varying around ADE's (~400..700 px a side)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images, maps = [], []
    for _ in range(n):
        h, w = int(rng.integers(384, 704)), int(rng.integers(384, 704))
        blocks = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
        arr = np.kron(blocks, np.ones((16, 16, 1), np.uint8))[:h, :w] ^ rng.integers(0, 32, (h, w, 3), dtype=np.uint8)
        images.append(Image.fromarray(arr))
        ids = np.kron(rng.integers(0, 151, (h // 16 + 1, w // 16 + 1)), np.ones((16, 16), np.int64))[:h, :w]
        maps.append(Image.fromarray(ids.astype(np.uint8)))
    return images, maps


def _same(a, b) -> str:
    pa, pb = a["pixel_values"].numpy(), b["pixel_values"].numpy()
    check(pa.shape == pb.shape and pa.dtype == pb.dtype, f"pixel_values {pa.shape}/{pa.dtype} vs {pb.shape}/{pb.dtype}")
    diff = float(np.max(np.abs(pa - pb)))
    check(diff <= 1e-5, f"pixel_values differ by up to {diff:.3g} (> 1e-5)")
    la, lb = a["labels"].numpy(), b["labels"].numpy()
    check(la.shape == lb.shape and la.dtype == lb.dtype and np.array_equal(la, lb), "labels differ")
    return f"max |pixel difference| = {diff:.1g}, labels identical"


def run(quick: bool = False) -> list[Row]:
    import torch
    from torchvision.transforms import ColorJitter
    from transformers import SegformerImageProcessor

    from seghelpers.fastproc import FastSegformerProcessor
    from seghelpers.pt import JITTER

    n, reps = (8, 7) if quick else (16, 15)
    slow = SegformerImageProcessor(do_reduce_labels=True, size={"height": 512, "width": 512})
    fast = FastSegformerProcessor(slow)
    images, maps = make_batch(n)
    jit = ColorJitter(**JITTER)
    rows = []
    note = ("transformers' SegformerImageProcessorFast is not a usable baseline: in 4.57.6 it returns one label map "
            "for a batch of several and its antialiased resize moves pixels by ~0.02")

    # a) the processor alone: the guide's ColorJitter applied once beforehand (same jittered images for both)
    name = "5. train transform: processor only (jitter outside timing)"
    goal = ">= 2x images/s, labels identical, pixels within 1e-5"
    how = (f"batch of {n} PIL RGB images + L annotations, sizes 384..703 px a side -> 512x512; ColorJitter "
           f"(guide settings) applied to the images once, outside the timed region; baseline = "
           f"SegformerImageProcessor(do_reduce_labels=True)(images, maps, return_tensors='pt'); ours = "
           f"FastSegformerProcessor(same processor)(...); interleaved x{reps}, medians. {note}")
    try:
        torch.manual_seed(0)
        jittered = [jit(im) for im in images]
        detail = _same(slow(jittered, maps, return_tensors="pt"), fast(jittered, maps, return_tensors="pt"))
        t = interleaved(lambda: slow(jittered, maps, return_tensors="pt"),
                        lambda: fast(jittered, maps, return_tensors="pt"), reps=reps)
        rows.append(Row(name, f"{n / t.baseline_median:.1f} img/s ({fmt_time(t.baseline_median)}/batch)",
                        f"{n / t.ours_median:.1f} img/s ({fmt_time(t.ours_median)}/batch)",
                        f"{t.speedup:.2f}x images/s", goal, t.speedup >= 2, how + f"; check: {detail}"))
    except Exception as e:  # noqa: BLE001
        rows.append(failed_row(name, e, goal, how))

    # b) the whole train transform, jitter included (same torch seed before each call -> same jitter)
    name = "5. train transform incl. ColorJitter (informative)"
    how = (f"same batch; ColorJitter + processor inside the timed region, torch.manual_seed(0) before every call so "
           f"both sides jitter identically (ColorJitter is shared work: it bounds the possible speed-up); "
           f"interleaved x{reps}, medians")

    def train_slow():
        return slow([jit(im) for im in images], maps, return_tensors="pt")

    def train_fast():
        return fast([jit(im) for im in images], maps, return_tensors="pt")

    try:
        torch.manual_seed(0)
        a = train_slow()
        torch.manual_seed(0)
        detail = _same(a, train_fast())
        t = interleaved(train_slow, train_fast, reps=reps, setup=lambda: torch.manual_seed(0))
        rows.append(Row(name, f"{n / t.baseline_median:.1f} img/s", f"{n / t.ours_median:.1f} img/s",
                        f"{t.speedup:.2f}x images/s", "", None, how + f"; check: {detail}"))
    except Exception as e:  # noqa: BLE001
        rows.append(failed_row(name, e, "", how))
    return rows
