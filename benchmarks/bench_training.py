"""Benchmark 8: training throughput of the guide's recipe (mit-b0 at 512x512, batch 2), the guide's setup vs the kit's.

One training step = the batch's transforms, forward with labels (the model's own loss), backward and an
AdamW step: what the Trainer (PyTorch) or ``fit`` (TensorFlow) repeats. Both sides start from the same
random-init weights and see the same images with the same jitter, so their losses must follow the same
trajectory; the check compares them step by step before any ratio is reported.
"""
from __future__ import annotations

import copy
import statistics
import time

import numpy as np

from .common import Row, check, failed_row, fmt_time

#: the guide's recipe: mit-b0, 512x512 inputs, batch 2, learning rate 6e-5
BATCH, SIZE, LR = 2, 512, 6e-5
#: per-step loss agreement between the two sides (relative): float32 rounding grows slowly over steps
LOSS_RTOL = 1e-3
GOAL = ">= 1.5x images/s, same loss trajectory"


def _name(framework: str) -> str:
    return f"8. training throughput, guide recipe (mit-b0 512x512, batch {BATCH}), {framework} CPU"


def _steps_for(quick: bool) -> tuple[int, int]:
    """(steps per side, untimed warm-up steps among them)."""
    return (4, 2) if quick else (8, 2)


def make_batches(n_batches: int, seed: int = 0):
    """``n_batches`` lists of (RGB image, annotation) PIL pairs, sizes 448..575 px a side.

    Annotations are blocky maps of ADE-style values 0..150 (0 = "other", reduced to 255 by the processor).
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        batch = []
        for _ in range(BATCH):
            h, w = int(rng.integers(448, 576)), int(rng.integers(448, 576))
            pix = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
            ann = rng.integers(0, 151, (h // 32 + 1, w // 32 + 1), dtype=np.uint8)
            image = np.kron(pix, np.ones((16, 16, 1), np.uint8))[:h, :w]
            mask = np.kron(ann, np.ones((32, 32), np.uint8))[:h, :w]
            batch.append((Image.fromarray(image), Image.fromarray(mask)))
        out.append(batch)
    return out


def _steps(run_baseline, run_ours, n: int, warmup: int):
    """Alternate ``n`` steps per side (baseline, ours, ...); return both loss lists and the warm step times."""
    losses = {"baseline": [], "ours": []}
    times = {"baseline": [], "ours": []}
    for i in range(n):
        for name, fn in (("baseline", run_baseline), ("ours", run_ours)):
            t0 = time.perf_counter()
            loss = fn(i)
            dt = time.perf_counter() - t0
            losses[name].append(loss)
            if i >= warmup:
                times[name].append(dt)
    return losses, times


def _loss_check(losses) -> str:
    worst = 0.0
    for i, (a, b) in enumerate(zip(losses["baseline"], losses["ours"])):
        check(np.isfinite(a) and np.isfinite(b), f"step {i}: loss {a} vs {b}")
        rel = abs(a - b) / abs(a)
        check(rel <= LOSS_RTOL, f"step {i}: loss {a:.6f} vs {b:.6f} (relative {rel:.2g} > {LOSS_RTOL})")
        worst = max(worst, rel)
    first, last = losses["baseline"][0], losses["baseline"][-1]
    return (f"losses agree at every step within {LOSS_RTOL:g} relative (worst {worst:.1g}; baseline "
            f"{first:.4f} -> {last:.4f} over {len(losses['baseline'])} steps)")


def _row(name, goal, how, times, detail) -> Row:
    tb, to = statistics.median(times["baseline"]), statistics.median(times["ours"])
    ratio = tb / to
    return Row(name, f"{BATCH / tb:.2f} img/s ({fmt_time(tb)}/step)", f"{BATCH / to:.2f} img/s ({fmt_time(to)}/step)",
               f"{ratio:.2f}x images/s", goal, ratio >= 1.5, how + f"; check: {detail}")


def run_pytorch(quick: bool) -> Row:
    import torch
    from torchvision.transforms import ColorJitter
    from transformers import AutoImageProcessor, SegformerForSemanticSegmentation

    from seghelpers.checkpoints import resolve_checkpoint
    from seghelpers.pt import JITTER, fast_training, make_transforms

    (n, warmup), name, goal = _steps_for(quick), _name("PyTorch"), GOAL
    how = (f"random-init mit-b0 (build_random_segformer, image_size=512, 150 classes), AdamW lr {LR:g}; one step = "
           f"the batch's train transforms + forward with labels + backward + optimizer step, {BATCH} PIL images "
           f"448..575 px + annotations per step, torch.manual_seed(step) before each side's transforms so both "
           f"jitter identically; baseline = the guide's setup: its ColorJitter + SegformerImageProcessor"
           f"(do_reduce_labels=True) transform and the model as transformers builds it; ours = what notebook 04 runs "
           f"(fast=True): shpt.make_transforms (FastSegformerProcessor) and shpt.fast_training(model) (fused "
           f"attention; decode head's MLPs folded into the fuse conv, recomputed from the live weights each step); "
           f"{torch.get_num_threads()} torch threads; steps alternate baseline/ours, {n} each, the first {warmup} "
           f"untimed (warm-up), medians of the rest")
    try:
        ckpt = resolve_checkpoint("random:mit-b0", image_size=SIZE)
        processor = AutoImageProcessor.from_pretrained(ckpt, use_fast=False, do_reduce_labels=True)
        torch.manual_seed(0)
        baseline_model = SegformerForSemanticSegmentation.from_pretrained(ckpt).train()
        ours_model = fast_training(copy.deepcopy(baseline_model)).train()
        batches = make_batches(n)
        jitter = ColorJitter(**JITTER)

        def guide_transforms(batch):  # the guide's train_transforms, as notebook 02 runs it
            images = [jitter(x) for x in batch["image"]]
            return processor(images, list(batch["annotation"]), return_tensors="pt")

        kit_transforms, _ = make_transforms(processor, fast=True)

        def stepper(model, transforms):
            opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)

            def step(i):
                images, masks = zip(*batches[i])
                torch.manual_seed(i)
                inputs = transforms({"image": list(images), "annotation": list(masks)})
                loss = model(pixel_values=inputs["pixel_values"], labels=inputs["labels"]).loss
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                return float(loss.detach())
            return step

        losses, times = _steps(stepper(baseline_model, guide_transforms), stepper(ours_model, kit_transforms),
                               n, warmup)
        return _row(name, goal, how, times, _loss_check(losses))
    except Exception as e:  # noqa: BLE001
        return failed_row(name, e, goal, how)


def run_tensorflow(quick: bool) -> Row:
    """In this process: needs TensorFlow importable by transformers (USE_TF not 0); see :func:`run`."""
    import seghelpers.tf as shtf  # sets TF_USE_LEGACY_KERAS before TensorFlow resolves tf.keras
    import tensorflow as tf

    from seghelpers.checkpoints import load_image_processor, resolve_checkpoint
    from seghelpers.tf.fast import fast_training

    (n, warmup), name, goal = _steps_for(quick), _name("TensorFlow"), GOAL
    how = (f"random-init mit-b0 as above, loaded with shtf.load_model (the loss fix that lets the guide's TF code "
           f"run on CPU at all), Adam lr {LR:g}; one step = the image processor on the batch + train_on_batch (the "
           f"step fit runs: forward, loss, backward, update); the guide's tf.image colour jitter (shtf.aug_transforms) "
           f"is applied to every batch once beforehand and shared by both sides (the kit does not change TensorFlow's "
           f"transforms, and re-seeding TensorFlow per step would retrace the compiled step); baseline = the model "
           f"as transformers builds it, compiled as the guide does; ours = what notebook 04 runs (fast=True): "
           f"shtf.fast_training(model) (Mix-FFN depthwise convolutions through tf.nn.depthwise_conv2d instead of a "
           f"grouped Conv2D; decode head's MLPs folded into the fuse conv); XLA (jit_compile=True) was measured and "
           f"is slower on CPU, so it is off on both sides; TensorFlow {tf.__version__}; steps alternate "
           f"baseline/ours, {n} each, the first {warmup} untimed, medians of the rest")
    try:
        ckpt = resolve_checkpoint("random:mit-b0", image_size=SIZE)
        processor = load_image_processor(ckpt, do_reduce_labels=True)
        tf.keras.utils.set_random_seed(0)
        batches = [[(np.asarray(shtf.aug_transforms(im)).transpose(1, 2, 0), mask) for im, mask in batch]
                   for batch in make_batches(n)]  # jittered once, (H, W, 3) uint8
        process, _ = shtf.make_transforms(processor, augment=False)

        def build(fast):
            tf.keras.utils.set_random_seed(0)
            model = shtf.load_model(ckpt)
            if fast:
                fast_training(model)
            model.compile(optimizer=tf.keras.optimizers.Adam(LR))
            return model

        def stepper(model):
            def step(i):
                images, masks = zip(*batches[i])
                inputs = process({"image": list(images), "annotation": list(masks)})
                batch = {"pixel_values": np.asarray(inputs["pixel_values"]), "labels": np.asarray(inputs["labels"])}
                return float(model.train_on_batch(batch))
            return step

        losses, times = _steps(stepper(build(False)), stepper(build(True)), n, warmup)
        return _row(name, goal, how, times, _loss_check(losses))
    except Exception as e:  # noqa: BLE001
        return failed_row(name, e, goal, how)


def run(quick: bool = False) -> list[Row]:
    """The PyTorch row here; the TensorFlow row in a child process (benchmarks.run imports transformers with
    USE_TF=0, and TensorFlow must not share a process with torch's triton: see seghelpers.tf)."""
    import json
    import os
    import subprocess
    import sys

    rows = [run_pytorch(quick)]
    env = {k: v for k, v in os.environ.items() if k != "USE_TF"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [sys.executable, "-m", "benchmarks.bench_training", "--tf"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        rows.append(failed_row(_name("TensorFlow"), RuntimeError(f"child exited {proc.returncode}: {tail}"), GOAL))
    else:
        rows.append(Row(**json.loads(lines[-1][len("RESULT "):])))
    return rows


if __name__ == "__main__":
    import argparse
    import dataclasses
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tf", action="store_true", help="run the TensorFlow row in this process, print it as JSON")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.tf:
        print("RESULT " + json.dumps(dataclasses.asdict(run_tensorflow(args.quick))), flush=True)
    else:
        for row in run(args.quick):
            print(row)
