"""The benchmark code paths that a 2-core CI machine cannot time for real: run them small, on the CPU.

No timing is asserted here; these tests check that the functions run and that what they count is right.
"""
import sys

import pytest

from benchmarks import bench_gpu, bench_train_memory
from benchmarks.common import Row


def test_pt_train_throughput_runs_both_precisions_on_cpu(tiny_checkpoint):
    m = bench_gpu.pt_train_throughput(tiny_checkpoint, size=64, batch=2, steps=1, reps=5, device="cpu")
    assert m["fp32_img_s"] > 0 and m["bf16_img_s"] > 0
    assert m["speedup"] == pytest.approx(m["bf16_img_s"] / m["fp32_img_s"])
    assert m["peak_fp32"] is None and m["peak_bf16"] is None  # GPU memory only on a GPU


@pytest.mark.slow
def test_tf_train_throughput_child_process(tiny_checkpoint):
    m = bench_gpu.tf_train_throughput(tiny_checkpoint, size=64, batch=2, steps=2, timeout=600)
    assert m["img_s"] > 0 and isinstance(m["devices"], list)
    if not m["devices"]:  # a CPU-only machine: asking for a GPU fails at once, naming the cause
        with pytest.raises(RuntimeError, match="sees no GPU"):
            bench_gpu.tf_train_throughput(tiny_checkpoint, size=64, batch=2, steps=2, timeout=600, require_gpu=True)


def test_guide_run_command_uses_the_guide_profile_offline(tmp_path):
    cmd = bench_gpu.guide_run_command(tmp_path / "train.py", tmp_path / "out")
    assert cmd[:2] == [sys.executable, str(tmp_path / "train.py")]
    args = dict(zip(cmd[2::2], cmd[3::2]))
    assert args == {"--profile": "guide", "--checkpoint": "random:mit-b0", "--dataset": "synthetic",
                    "--output_dir": str(tmp_path / "out")}
    from seghelpers.params import PROFILES

    guide = PROFILES["guide"]  # 40 train images (80% of train[:50]) / batch 2 x 50 epochs = the guide's 1,000 steps
    assert (guide["split"], guide["batch_size"], guide["num_train_epochs"], guide["max_steps"]) == \
        ("train[:50]", 2, 50, -1)


def test_gpu_benchmark_reports_nothing_without_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench_gpu.run(quick=True) == []
    from benchmarks.run import render

    text = render([Row("x", "1", "1", "1x")], quick=True, seconds={}, total=1.0, argv=[])
    assert "GPU figures: not measured" in text
    text = render([Row("GPU: PT training", "fp32 1 img/s", "bf16 2 img/s", "2x")], quick=True, seconds={}, total=1.0,
                  argv=[])
    assert "measured in this run" in text and "not measured" not in text


def test_training_memory_counts_saved_activations_per_image(tiny_checkpoint):
    from transformers import SegformerForSemanticSegmentation

    model = SegformerForSemanticSegmentation.from_pretrained(tiny_checkpoint)
    one = bench_train_memory.step_tensor_bytes(model, batch=1, size=64)
    three = bench_train_memory.step_tensor_bytes(model, batch=3, size=64)
    params = sum(p.numel() * 4 for p in model.parameters())
    assert one["params"] == three["params"] == params and one["model_states"] == 4 * params
    # at least the input and the 64x64 upsampled logits (num_labels channels, float32) of each image
    per_image_floor = (3 + model.config.num_labels) * 64 * 64 * 4
    assert one["activations"] > per_image_floor
    assert three["activations"] == pytest.approx(3 * one["activations"], rel=0.05)  # activations grow per image


def test_training_rows_loss_check_and_ratio():
    """The training-throughput rows report a ratio only when both sides' losses agree step by step."""
    from benchmarks.bench_training import LOSS_RTOL, _loss_check, _row
    from benchmarks.common import CheckFailed

    same = {"baseline": [5.03, 5.02, 5.01], "ours": [5.03, 5.02 * (1 + LOSS_RTOL / 2), 5.01]}
    assert "agree at every step" in _loss_check(same)
    drifted = {"baseline": [5.03, 5.02, 5.01], "ours": [5.03, 5.02 * (1 + 3 * LOSS_RTOL), 5.01]}
    with pytest.raises(CheckFailed, match="step 1"):
        _loss_check(drifted)
    with pytest.raises(CheckFailed, match="step 0"):
        _loss_check({"baseline": [float("nan")], "ours": [5.0]})
    row = _row("8. x", ">= 1.5x", "how", {"baseline": [4.0, 4.2, 3.8], "ours": [2.0, 2.1, 2.5]}, "ok")
    assert row.ratio == "1.90x images/s" and row.met is True
    slow = _row("8. x", ">= 1.5x", "how", {"baseline": [3.0], "ours": [2.5]}, "ok")
    assert slow.met is False


def test_merge_replaces_only_the_rerun_rows():
    """`benchmarks.run --only X --merge` swaps X's rows and goal lines in RESULTS.md and dates them; the rest stays."""
    from benchmarks import run
    from benchmarks.common import Row

    existing = run.render([Row("1. a", "1 s", "0.5 s", "2x", "faster", True, "how a"),
                           Row("10. old", "9 s", "1 s", "9x", ">= 100x", False, "how old")], False, {}, 1.0, [])
    merged = run.merge(existing, [Row("10. new", "8 s", "2 ms", "4000x", ">= 100x", True, "how new")],
                       ["--only", "evaluate", "--merge"], ("0.1", "0.2"))
    assert "| 1. a |" in merged and "| 10. new |" in merged and "10. old" not in merged
    assert "- 10. new: >= 100x — **met** (4000x)" in merged and "- 1. a: faster — **met** (2x)" in merged
    assert "rows 10. come from a later run, `python -m benchmarks.run --only evaluate --merge`" in merged
    with pytest.raises(SystemExit):
        run.merge("no table here", [], [], ("", ""))
