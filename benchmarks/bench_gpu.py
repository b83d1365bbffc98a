"""GPU figures for the guide's recipe (mit-b0 architecture, 512x512, batch 2); only with a CUDA GPU.

Without one, :func:`run` returns no rows and RESULTS.md says "not measured" (nothing is estimated).
With one it measures, random init (throughput does not depend on the weights):

* PyTorch training-step throughput (forward + loss + backward + AdamW step) in float32 and with
  bfloat16 autocast, side by side (interleaved blocks of steps, medians), and the peak GPU memory of
  each (``torch.cuda.max_memory_allocated``);
* TensorFlow training throughput (Keras ``fit`` on the same shapes), in a child process;
* the wall time of the guide's 1,000-step run: the exported training notebook with ``--profile guide``
  (50 epochs x 20 steps, eval and checkpoint every 20 steps) on the synthetic data set, as the hub
  is not reachable here.

The same functions run on a CPU with a tiny model in ``tests/test_benchmarks.py``, so the code path
is exercised even where no GPU is lent.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Row, check, failed_row, fmt_time, interleaved

ROOT = Path(__file__).resolve().parent.parent
SIZE, BATCH, LR = 512, 2, 6e-5  # the guide's recipe


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def pt_train_throughput(checkpoint: str, size: int, batch: int, steps: int, reps: int, device: str) -> dict:
    """images/s of fp32 and bf16-autocast training steps (interleaved blocks), and their peak GPU memory."""
    import torch
    from transformers import SegformerForSemanticSegmentation

    model = SegformerForSemanticSegmentation.from_pretrained(checkpoint).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=g).to(device)
    y = torch.randint(0, model.config.num_labels, (batch, size, size), generator=g).to(device)
    device_type = device.split(":")[0]

    def block(bf16: bool) -> float:
        for _ in range(steps):
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(pixel_values=x, labels=y).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        _sync(device)
        return float(loss.detach())

    peak = {}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        if device_type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        check(bool(torch.isfinite(torch.tensor(block(bf16)))), f"{name}: loss is not finite")
        peak[name] = torch.cuda.max_memory_allocated() if device_type == "cuda" else None
    t = interleaved(lambda: block(False), lambda: block(True), reps=reps, warmup=0)
    return {"fp32_img_s": batch * steps / t.baseline_median, "bf16_img_s": batch * steps / t.ours_median,
            "speedup": t.speedup, "peak_fp32": peak["fp32"], "peak_bf16": peak["bf16"]}


def _tf_child(checkpoint: str, size: int, batch: int, steps: int, require_gpu: bool = False) -> dict:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import numpy as np

    import seghelpers.tf as shtf  # imports TF after triton (the kit's import-order guard)
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if require_gpu and not gpus:  # fail before minutes of CPU fits at 512x512
        raise RuntimeError("TensorFlow sees no GPU (a CPU-only TensorFlow build?)")
    tf.keras.utils.set_random_seed(0)
    model = shtf.load_model(checkpoint)
    model.compile(optimizer=tf.keras.optimizers.Adam(LR))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, size, size), dtype=np.float32)
    y = rng.integers(0, model.config.num_labels, (batch, size, size))
    data = tf.data.Dataset.from_tensors({"pixel_values": x, "labels": y}).repeat()
    model.fit(data, steps_per_epoch=max(2, steps // 5), epochs=1, verbose=0)  # build + trace, untimed
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        hist = model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    loss = hist.history["loss"][-1]
    check(bool(np.isfinite(loss)), "TF loss is not finite")
    return {"img_s": batch * steps / float(np.median(times)), "devices": gpus}


def tf_train_throughput(checkpoint: str, size: int, batch: int, steps: int, timeout: float = 1800,
                        require_gpu: bool = False) -> dict:
    """Keras fit images/s in a fresh process (TF and torch in one process fight over the GPU memory)."""
    env = dict(os.environ, USE_TF="AUTO", TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "benchmarks.bench_gpu", "--tf-child", checkpoint, str(size), str(batch), str(steps),
           "gpu" if require_gpu else "any"]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"TF child exited with {r.returncode}:\n{(r.stderr or r.stdout)[-1500:]}")


def guide_run_command(script: Path, output_dir: Path, **overrides) -> list[str]:
    """The exported training notebook with the guide profile, offline: random-init mit-b0, synthetic data."""
    args = {"profile": "guide", "checkpoint": "random:mit-b0", "dataset": "synthetic", "output_dir": str(output_dir)}
    args.update({k: str(v) for k, v in overrides.items()})
    return [sys.executable, str(script)] + [a for k, v in args.items() for a in (f"--{k}", v)]


def guide_run_wall(timeout: float = 3600) -> float:
    sys.path.insert(0, str(ROOT / "notebooks"))
    from export_script import notebook_to_script

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "train_pt.py"
        script.write_text(notebook_to_script(ROOT / "notebooks" / "en" / "04_train_pytorch.ipynb"))
        env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", USE_TF="0", MPLBACKEND="Agg")
        t0 = time.perf_counter()
        r = subprocess.run(guide_run_command(script, Path(tmp) / "model"), env=env, capture_output=True, text=True,
                           timeout=timeout)
        wall = time.perf_counter() - t0
        check(r.returncode == 0, f"guide run failed:\n{r.stderr[-1500:]}")
        check("eval mean IoU" in r.stdout, "guide run printed no final metrics")
    return wall


def run(quick: bool = False) -> list[Row]:
    import torch

    if not torch.cuda.is_available():
        return []
    from seghelpers.checkpoints import resolve_checkpoint

    gpu = torch.cuda.get_device_name(0)
    ckpt = resolve_checkpoint("random:mit-b0", SIZE)
    steps, reps = (5, 5) if quick else (20, 7)
    rows = []
    name = "GPU: PT training, mit-b0 512x512 batch 2, fp32 vs bf16 autocast"
    how = (f"{gpu}; forward + loss + backward + AdamW step on one GPU-resident batch, blocks of {steps} steps, "
           f"interleaved x{reps}, medians; torch {torch.__version__}")
    try:
        m = pt_train_throughput(ckpt, SIZE, BATCH, steps, reps, "cuda")
        rows.append(Row(name, f"fp32 {m['fp32_img_s']:.1f} img/s", f"bf16 {m['bf16_img_s']:.1f} img/s",
                        f"{m['speedup']:.2f}x images/s", "", None,
                        how + f"; peak GPU memory (max_memory_allocated): fp32 {m['peak_fp32'] / 2**30:.2f} GiB, "
                        f"bf16 {m['peak_bf16'] / 2**30:.2f} GiB"))
    except Exception as e:  # noqa: BLE001
        rows.append(failed_row(name, e, "", how))
    name = "GPU: TF training (Keras fit), mit-b0 512x512 batch 2"
    how = f"{gpu}; fit on one repeated batch, {steps * 2} steps per timed epoch, median of 5, fresh process"
    try:
        m = tf_train_throughput(ckpt, SIZE, BATCH, steps * 2, require_gpu=True)
        rows.append(Row(name, "—", f"{m['img_s']:.1f} img/s", "—", "", None, how))
    except Exception as e:  # noqa: BLE001
        rows.append(failed_row(name, e, "", how))
    if not quick:
        name = "GPU: wall time of the guide's 1,000-step run (PT Trainer)"
        how = (f"{gpu}; exported 04_train_pytorch notebook, --profile guide (40 train images, batch 2, 50 epochs = "
               "1,000 steps, eval + checkpoint every 20 steps), random-init mit-b0, synthetic data set; whole process")
        try:
            rows.append(Row(name, "—", fmt_time(guide_run_wall()), "—", "", None, how))
        except Exception as e:  # noqa: BLE001
            rows.append(failed_row(name, e, "", how))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--tf-child":
        ckpt_arg, size_arg, batch_arg, steps_arg, device_arg = sys.argv[2:]
        result = _tf_child(ckpt_arg, int(size_arg), int(batch_arg), int(steps_arg), require_gpu=device_arg == "gpu")
        print("RESULT " + json.dumps(result), flush=True)
    else:
        sys.exit("usage: python -m benchmarks.bench_gpu --tf-child CHECKPOINT SIZE BATCH STEPS gpu|any")
