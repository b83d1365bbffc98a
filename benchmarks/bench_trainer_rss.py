"""Benchmark 4: peak RSS of ``Trainer.evaluate`` as the eval set grows (guide's path vs streaming metrics).

Each configuration runs in a fresh process (``python -m benchmarks.bench_trainer_rss --child ...``)
that prints its peak RSS (``ru_maxrss``) and the mean IoU it computed.

* baseline: the guide's path — ``compute_metrics`` receives *all* logits (N x 150 x 128 x 128 float32)
  and labels at the end; ``eval_accumulation_steps=5``.
* ours: ``preprocess_logits_for_metrics`` (upsample + argmax per batch, uint8 ids) and
  ``ComputeMetrics`` with ``TrainingArguments(batch_eval_metrics=True)`` (a 150 x 150 confusion matrix).

The eval images are generated on the fly from their index (random 512x512 uint8 image, normalised as
the processor would, and a random label map with 5% ignored pixels), so the data set itself takes no
memory that grows with N: only what evaluation keeps does.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from .common import Row, check, failed_row, run_children

NUM_LABELS = 150
SIZE = 512
BATCH = 4


def _child(mode: str, n: int, ckpt: str) -> dict:
    os.environ.setdefault("USE_TF", "0")
    import tempfile

    import torch
    from torch import nn
    from transformers import SegformerForSemanticSegmentation, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    from seghelpers.pt import ComputeMetrics, preprocess_logits_for_metrics

    from .bench_metrics import baseline_mean_iou
    from .common import peak_rss_mb

    hf_logging.set_verbosity_error()
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]

    class SyntheticEval(torch.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            rng = np.random.default_rng(1000 + i)
            img = rng.integers(0, 256, (3, SIZE, SIZE), dtype=np.uint8)
            labels = rng.integers(0, NUM_LABELS, (SIZE, SIZE), dtype=np.int64)
            labels[rng.random((SIZE, SIZE)) < 0.05] = 255
            return {"pixel_values": torch.from_numpy((img.astype(np.float32) / 255 - mean) / std),
                    "labels": torch.from_numpy(labels)}

    def guide_compute_metrics(eval_pred):
        """The guide's compute_metrics, except that logits are upsampled image by image: the guide's one-shot
        interpolate of all logits would allocate N x 150 x 512 x 512 float32 (31 GB at N=200). ``.contiguous()``:
        Trainer hands over channels-last logits, on which a one-image interpolate is ~6x slower on CPU."""
        with torch.no_grad():
            logits, labels = eval_pred
            logits_tensor = torch.from_numpy(logits)
            pred_labels = np.stack([
                nn.functional.interpolate(logits_tensor[i:i + 1].contiguous(), size=labels.shape[-2:],
                                          mode="bilinear", align_corners=False).argmax(dim=1)[0].numpy()
                for i in range(len(logits_tensor))])
            metrics = baseline_mean_iou(pred_labels, labels, NUM_LABELS, 255)
            per_category_iou = metrics.pop("per_category_iou").tolist()
            metrics.pop("per_category_accuracy")
            metrics = {k: float(v) for k, v in metrics.items()}
            metrics["per_category_iou"] = per_category_iou
            return metrics

    model = SegformerForSemanticSegmentation.from_pretrained(ckpt)
    common = dict(per_device_eval_batch_size=BATCH, report_to=[], use_cpu=True, dataloader_num_workers=0,
                  disable_tqdm=True)
    with tempfile.TemporaryDirectory() as out:
        if mode == "baseline":
            args = TrainingArguments(output_dir=out, eval_accumulation_steps=5, **common)
            trainer = Trainer(model=model, args=args, compute_metrics=guide_compute_metrics)
        else:
            args = TrainingArguments(output_dir=out, batch_eval_metrics=True, **common)
            trainer = Trainer(model=model, args=args, compute_metrics=ComputeMetrics(NUM_LABELS, 255),
                              preprocess_logits_for_metrics=preprocess_logits_for_metrics)
        rss_before = peak_rss_mb()
        t0 = time.perf_counter()
        metrics = trainer.evaluate(SyntheticEval())
        wall = time.perf_counter() - t0
    return {"mode": mode, "n": n, "peak_rss_mb": peak_rss_mb(), "peak_rss_before_eval_mb": rss_before,
            "eval_seconds": wall, "mean_iou": metrics["eval_mean_iou"],
            "per_category_iou": metrics["eval_per_category_iou"], "torch_threads": torch.get_num_threads()}


def run(quick: bool = False) -> list[Row]:
    n_small, n_large = (10, 40) if quick else (20, 200)
    name = f"4. Trainer eval peak RSS, {n_small} -> {n_large} images (mit-b0, 512x512)"
    goal = "ours: <= 10% growth"
    how = (f"each configuration in a fresh process, peak RSS = ru_maxrss; random-init mit-b0 "
           f"(build_random_segformer, image_size=512), eval batch {BATCH}, synthetic 512x512 images generated "
           f"from their index (no data set in memory); baseline = guide's path: compute_metrics gets all logits "
           f"+ labels, eval_accumulation_steps=5 (logits upsampled image by image inside it: the guide's one-shot "
           f"upsample of all logits would need N x 150 x 512 x 512 x 4 B = {n_large * 150 * 512 * 512 * 4 / 1e9:.1f} GB "
           f"at N={n_large}, so the baseline figures are a lower bound for the guide); ours = "
           f"preprocess_logits_for_metrics + ComputeMetrics + batch_eval_metrics=True; baseline and ours run "
           f"concurrently with 1 torch thread each, first at N={n_small}, then at N={n_large} (a process's peak RSS "
           f"is its own)")
    try:
        from seghelpers.checkpoints import resolve_checkpoint

        ckpt = resolve_checkpoint("random:mit-b0", image_size=512)
        res = {}
        for n in (n_small, n_large):  # baseline and ours side by side, one torch thread each
            jobs = [("benchmarks.bench_trainer_rss", ["--child", "--mode", mode, "--n", str(n), "--ckpt", ckpt])
                    for mode in ("baseline", "ours")]
            res["baseline", n], res["ours", n] = run_children(jobs, threads_each=1)
        diffs = []
        for n in (n_small, n_large):
            b, o = res["baseline", n], res["ours", n]
            # ours upsamples with the streamed upsample + argmax, the baseline with interpolate: float
            # rounding can flip the argmax at a near-tie pixel of the random-init model, hence 1e-6, not 1e-12
            diff = abs(b["mean_iou"] - o["mean_iou"])
            diffs.append(diff)
            check(diff <= 1e-6, f"N={n}: mean IoU baseline {b['mean_iou']!r} vs ours {o['mean_iou']!r}")
            pb, po = np.asarray(b["per_category_iou"], float), np.asarray(o["per_category_iou"], float)
            check(np.allclose(pb, po, rtol=0, atol=1e-6, equal_nan=True), f"N={n}: per-class IoU differs")

        def desc(mode):
            small, large = res[mode, n_small]["peak_rss_mb"], res[mode, n_large]["peak_rss_mb"]
            per_image = (large - small) / (n_large - n_small)
            growth = (large - small) / small * 100
            return small, large, per_image, growth

        bs, bl, bpi, bg = desc("baseline")
        os_, ol, opi, og = desc("ours")
        return [Row(name,
                    f"{bs:.0f} -> {bl:.0f} MB; {bpi:.2f} MB/extra image; +{bg:.0f}%",
                    f"{os_:.0f} -> {ol:.0f} MB; {opi:.2f} MB/extra image; {og:+.1f}%",
                    f"peak at {n_large}: baseline/ours = {bl / ol:.2f}x; growth per extra image: "
                    f"{bpi:.2f} vs {opi:.2f} MB",
                    goal, og <= 10,
                    how + f"; check: same mean IoU and per-class IoU at both sizes within 1e-6 (|mean IoU "
                    f"difference| = {', '.join(f'{d:.1g}' for d in diffs)})")]
    except Exception as e:  # noqa: BLE001
        return [failed_row(name, e, goal, how)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--mode", choices=["baseline", "ours"])
    ap.add_argument("--n", type=int)
    ap.add_argument("--ckpt")
    args = ap.parse_args(argv)
    if not args.child:
        for row in run(quick=True):
            print(row)
        return
    print("RESULT " + json.dumps(_child(args.mode, args.n, args.ckpt)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
