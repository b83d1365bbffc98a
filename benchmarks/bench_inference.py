"""Benchmark 6: batch inference on CPU (transformers pipeline image by image vs seghelpers.pt.predict)."""
from __future__ import annotations

import functools

import numpy as np

from .common import Row, check, failed_row, fmt_time, interleaved


def make_images(n: int, seed: int = 0):
    """PIL RGB images, sizes 448..575 px a side (around the model's 512), blocky content."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        h, w = int(rng.integers(448, 576)), int(rng.integers(448, 576))
        blocks = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        out.append(Image.fromarray(np.kron(blocks, np.ones((8, 8, 1), np.uint8))[:h, :w]))
    return out


def label_map_from_pipeline(result: list[dict], label2id: dict, size: tuple[int, int]) -> np.ndarray:
    """Rebuild an (H, W) class-id map from the pipeline's per-label masks; every pixel must be covered once."""
    w, h = size
    out = np.full((h, w), -1, np.int64)
    for entry in result:
        mask = np.asarray(entry["mask"]) > 0
        check(mask.shape == (h, w), f"pipeline mask shape {mask.shape} != image {(h, w)}")
        check(bool((out[mask] == -1).all()), f"pipeline masks overlap (label {entry['label']!r})")
        out[mask] = label2id[entry["label"]]
    check(bool((out >= 0).all()), "pipeline masks leave pixels uncovered")
    return out


#: two classes whose upsampled logits are closer than this are a tie at float32 precision
TIE = 1e-5


def _upsampled(logits, size):
    """The pipeline's upsample: bilinear interpolate of NCHW-contiguous logits to ``size`` = (H, W)."""
    from torch import nn

    return nn.functional.interpolate(logits.contiguous(), size=size, mode="bilinear", align_corners=False)


def _near_ties(a: np.ndarray, b: np.ndarray, logits, what: str) -> tuple[int, float]:
    """How many pixels two (H, W) class maps disagree on, and the largest top-2 upsampled-logit margin there.

    Fails unless every such pixel is a float32 near-tie (margin <= TIE), where the class is undefined.
    ``logits()`` returns the image's (1, C, h, w) logits; it is called only when the maps differ.
    """
    diff = a != b
    if not diff.any():
        return 0, 0.0
    top = _upsampled(logits(), a.shape).topk(2, dim=1).values[0]
    margin = float((top[0] - top[1]).numpy()[diff].max())
    check(margin <= TIE, f"{what}: {int(diff.sum())} pixels differ, top-2 logit margin up to {margin:.3g} > {TIE}")
    return int(diff.sum()), margin


def run(quick: bool = False) -> list[Row]:
    import torch
    from transformers import AutoImageProcessor, SegformerForSemanticSegmentation, pipeline

    from seghelpers.checkpoints import resolve_checkpoint
    from seghelpers.pt import predict

    n, reps = (3, 5) if quick else (32, 5)
    name = "6. batch inference, mit-b0 512x512, PyTorch CPU"
    goal = ">= 2x images/s, same predictions"
    how = (f"{n} PIL images 448..575 px a side, random-init mit-b0 (build_random_segformer, image_size=512); "
           f"baseline = pipeline('image-segmentation', model=<that folder>) called image by image (it loads the "
           f"slow SegformerImageProcessor; its post-processing upsamples each image's logits bilinearly to the image "
           f"size, argmax, then one mask per label); ours = seghelpers.pt.predict(model, processor, images, "
           f"batch_size=8, fast=True) (same processor; fast=True: an inference copy of the model made inside "
           f"the timed call with fused attention and the decode head folded, then a streamed bilinear upsample + "
           f"argmax; the two informative rows below time these parts); {torch.get_num_threads()} torch threads; "
           f"interleaved x{reps}, medians")
    try:
        ckpt = resolve_checkpoint("random:mit-b0", image_size=512)
        pipe = pipeline("image-segmentation", model=ckpt, device="cpu")
        model = SegformerForSemanticSegmentation.from_pretrained(ckpt).eval()
        processor = AutoImageProcessor.from_pretrained(ckpt, use_fast=False)
        check(type(pipe.image_processor).__name__ == type(processor).__name__,
              f"pipeline uses {type(pipe.image_processor).__name__}, predict {type(processor).__name__}")
        images = make_images(n)
        label2id = {v: k for k, v in model.config.id2label.items()}

        def baseline():
            return [pipe(im) for im in images]

        def ours():
            return predict(model, processor, images, batch_size=8, fast=True)

        pipe_maps = [label_map_from_pipeline(r, label2id, im.size) for r, im in zip(baseline(), images)]
        our_maps = ours()
        @torch.no_grad()
        def one_image(i):  # a batch of 1, as the pipeline runs it
            return model(pixel_values=processor([images[i]], return_tensors="pt")["pixel_values"]).logits

        n_diff, worst_margin = 0, 0.0
        for i, (a, b) in enumerate(zip(pipe_maps, our_maps)):
            check(a.shape == b.shape, f"image {i}: pipeline map {a.shape} vs predict {b.shape}")
            k, margin = _near_ties(a, b, functools.partial(one_image, i), f"image {i}")
            n_diff, worst_margin = n_diff + k, max(worst_margin, margin)
        total = sum(m.size for m in our_maps)
        check(n_diff <= 1e-4 * total, f"{n_diff} of {total} pixels differ")
        detail = (f"all {n} label maps identical pixel for pixel" if n_diff == 0 else
                  f"label maps identical except {n_diff} of {total:,} pixels, all near-ties (top-2 upsampled-logit "
                  f"margin <= {worst_margin:.1g}, i.e. undefined at float32 precision: the two sides' logits differ "
                  f"by float32 rounding, ~1e-7)")
        t = interleaved(baseline, ours, reps=reps, warmup=0)  # the check above warmed both up
        row = Row(name, f"{n / t.baseline_median:.2f} img/s ({fmt_time(t.baseline_median)} for {n})",
                  f"{n / t.ours_median:.2f} img/s ({fmt_time(t.ours_median)} for {n})",
                  f"{t.speedup:.2f}x images/s", goal, t.speedup >= 2,
                  how + f"; check: {detail}")
        pixels = processor(images[:8], return_tensors="pt")["pixel_values"]  # one batch for the two rows below
        with torch.no_grad():
            logits = model(pixel_values=pixels).logits
    except Exception as e:  # noqa: BLE001
        return [failed_row(name, e, goal, how)]
    return [row, _forward_row(model, pixels, logits), _upsample_row(logits, images[0].size, quick)]


def _forward_row(model, pixels, logits) -> Row:
    """The forward pass of a batch: the model as transformers builds it vs seghelpers.pt.fast_segformer(model)."""
    import torch

    from seghelpers.pt import fast_segformer

    name = "6. (informative) forward pass, batch of 8: model vs fast_segformer(model)"
    reps = 5  # the minimum interleaved() accepts; a forward pass of 8 images takes ~1 s
    how = (f"pixel values of {len(pixels)} images at 512x512, torch.no_grad; baseline = model(pixel_values) "
           f"(transformers' SegformerForSemanticSegmentation); ours = fast_segformer(model)(pixel_values), the copy "
           f"made beforehand (scaled_dot_product_attention in the encoder; decode head folded: each stage mapped "
           f"straight to the fused channels at its own resolution, BatchNorm folded in); interleaved x{reps}, medians")
    try:
        fast = fast_segformer(model)
        with torch.no_grad():
            got = fast(pixel_values=pixels).logits
            worst = float((logits - got).abs().max())
            scale = float(logits.abs().max())
            check(worst <= 1e-4 * scale, f"logits differ by {worst:.3g} (scale {scale:.3g})")

            t = interleaved(lambda: model(pixel_values=pixels), lambda: fast(pixel_values=pixels), reps=reps)
        return Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.2f}x faster", "", None,
                   how + f"; check: max |logit difference| = {worst:.1g} (largest |logit| {scale:.2g})")
    except Exception as e:  # noqa: BLE001
        return failed_row(name, e, "", how)


def _upsample_row(logits, image_size, quick) -> Row:
    """One image's upsample + argmax: interpolate + argmax (the pipeline's way) vs the streamed version."""
    from seghelpers.pt import upsample_argmax

    name = "6. (informative) one image's upsample+argmax: interpolate vs streamed"
    reps = 5 if quick else 7
    how = (f"logits of one image (150 x 128 x 128, from a batch of {len(logits)}) to its size: baseline = "
           f"interpolate(bilinear) + argmax(dim=1) on an NCHW-contiguous copy (the layout the pipeline's batch of 1 "
           f"has; builds the 150 x H x W float map); ours = seghelpers.pt.upsample_argmax (streamed: bands of output "
           f"rows, never the whole map); interleaved x{reps}, medians")

    def nchw(sl, size):
        return _upsampled(sl, size).argmax(dim=1)

    try:
        w, h = image_size
        sl = logits[0:1]
        k, margin = _near_ties(nchw(sl, (h, w))[0].numpy(), upsample_argmax(sl, (h, w))[0].numpy(), lambda: sl,
                               "streamed vs interpolate")
        detail = (f"class maps identical except {k} near-tie pixels (top-2 margin <= {margin:.1g})" if k else
                  "identical class maps")
        t = interleaved(lambda: nchw(sl, (h, w)), lambda: upsample_argmax(sl, (h, w)), reps=reps)
        return Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.1f}x faster", "", None,
                   how + f"; check: {detail}")
    except Exception as e:  # noqa: BLE001
        return failed_row(name, e, "", how)
