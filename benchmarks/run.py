"""Run every benchmark and write benchmarks/RESULTS.md (atomically: temp file + rename).

    python -m benchmarks.run            # full run (~20 min on 2 CPU cores)
    python -m benchmarks.run --quick    # smaller sizes, same method (~3 min)
    python -m benchmarks.run --only metrics palette --out /tmp/r.md
    python -m benchmarks.run --only evaluate --merge   # re-measure some rows, keep the others (each run dated)

Every figure is a ratio measured side by side in this one run (interleaved repetitions, medians),
after a correctness check against the baseline; a failed check is written as ``FAILED CHECK``.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded
os.environ.setdefault("USE_TF", "0")  # PyTorch-only: keep TensorFlow out of transformers' imports
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import datetime as _dt  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

from .common import (Row, core_count, cpu_model, failed_row, gpu_name, library_versions, machine_short,  # noqa: E402
                     memory_gib)

#: name -> module, in the order of the brief
BENCHMARKS = {
    "metrics": "benchmarks.bench_metrics",  # 1 and 2
    "palette": "benchmarks.bench_palette",  # 3
    "trainer_rss": "benchmarks.bench_trainer_rss",  # 4
    "fastproc": "benchmarks.bench_fastproc",  # 5
    "inference": "benchmarks.bench_inference",  # 6
    "train_memory": "benchmarks.bench_train_memory",  # 7 (informative, for "Scaling up")
    "training": "benchmarks.bench_training",  # 8: training throughput, PyTorch and TensorFlow
    "startup": "benchmarks.bench_startup",  # 9 (informative): kernel start-up imports, .pyc or not
    "evaluate": "benchmarks.bench_evaluate",  # 10: the guide's compute_metrics as written (evaluate .compute)
    "gpu": "benchmarks.bench_gpu",  # GPU figures; no rows without a CUDA GPU
}
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def render(rows: list[Row], quick: bool, seconds: dict[str, float], total: float, argv: list[str],
           load: tuple[str, str] = ("n/a", "n/a")) -> str:
    versions = library_versions()
    machine = machine_short()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks.run{' ' + ' '.join(argv) if argv else ''}` on "
        f"{_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; mode: **{'quick' if quick else 'full'}**; "
        f"total run time {total / 60:.1f} min. Every ratio comes from this one run: repetitions interleaved "
        "(baseline, ours, baseline, ours, ...), median of each side (>= 5 each), after a correctness check "
        "against the baseline (a failed check shows `FAILED CHECK` and no ratio). Absolute times are this "
        "machine's medians, shown only next to their ratio.",
        "",
        "| measure | baseline | ours | ratio | goal | how measured | machine |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c) for c in (r.measure, r.baseline, r.ours, r.ratio, r.goal_cell,
                                                            r.how, machine)) + " |")
    met = [r for r in rows if r.goal]
    lines += ["", "## Goals", ""]
    for r in met:
        verdict = {True: "met", False: "MISSED", None: "not decided (check failed or error)"}[r.met]
        lines.append(f"- {r.measure}: {r.goal} — **{verdict}** ({r.ratio})")
    lines += [
        "",
        "## Notes",
        "",
        "- Goal 1 (>= 12x vs the hub algorithm) is bounded by numpy's counting loop on this machine. On integer "
        "data the hub algorithm's `np.histogram` already runs a bincount-based fast path, so it is only a few times "
        "a bare `np.bincount` (row 1b). numpy's counting loops do not run on two cores at once: two threads "
        "counting with `np.add.at` are no faster than one (informative row), so at best one core counts while the "
        "other prepares codes. Ours (`seghelpers/metrics.py`, `_count_pairs`), per cache-sized chunk: a range check "
        "(one `max()` per map; out-of-range ids send the chunk to a clipping path), one code `ref * 151 + pred` "
        "per pixel (ufuncs, which release the GIL), then `np.add.at`; two threads, so one codes while the other "
        "counts. Going further needs a counting loop that runs on several cores (compiled code or a framework's "
        "kernel; the core stays numpy-only).",
        "- Benchmark 6: batching alone cannot double images/s on a CPU, where the forward pass takes most of the "
        "time. `predict(..., fast=True)` also runs an inference copy of the model "
        "(`seghelpers.pt.fast_segformer`): attention through `scaled_dot_product_attention`, and the decode head "
        "folded (its MLPs, fuse conv and BatchNorm are linear and commute with bilinear upsampling, so each stage "
        "goes to the fused channels at its own resolution: about half of mit-b0's multiply-adds disappear); then "
        "the upsample + argmax is streamed a band of rows at a time. The informative rows time the forward pass "
        "and the upsample + argmax alone. Predictions are checked pixel for pixel; the only differences allowed "
        "are float32 near-ties.",
        "- Benchmark 4: the first-size peak already includes the model, one batch's activations and the eval loss "
        "(4 x 150 x 512 x 512 float32 upsampled logits for the cross-entropy); growth is what evaluation keeps "
        "per extra image. Predictions of the two paths can differ at a near-tie pixel of the random-init model "
        "because ours upsamples with the streamed upsample + argmax and the baseline with interpolate "
        "(different float rounding), so the check there is |mean IoU difference| <= 1e-6.",
        "- transformers' `SegformerImageProcessorFast` is not used anywhere: in 4.57.6 it returns one label map for a "
        "batch of several and its antialiased resize moves pixel values by ~0.02 against the slow processor.",
        "",
        "## GPU",
        "",
        ("GPU figures: the rows starting with `GPU:` above, measured in this run."
         if any(r.measure.startswith("GPU") for r in rows) else
         "GPU figures: not measured (no CUDA GPU was visible to this run; nothing is estimated)."),
        "",
        "## Machine",
        "",
        f"- CPU: {cpu_model()}, {core_count()} cores available; RAM {memory_gib():.0f} GiB; GPU: {gpu_name()}",
        f"- libraries: {', '.join(f'{k} {v}' for k, v in versions.items())}",
        f"- load average (1/5/15 min) at start: {load[0]}; at end: {load[1]} (other jobs share these cores; "
        "interleaving spreads their effect over both sides, but ratios move by tens of percent when the load changes)",
        f"- environment: HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE')}, USE_TF={os.environ.get('USE_TF')}",
        "- run time per benchmark: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()),
        "",
    ]
    return "\n".join(lines)


def merge(existing: str, rows: list[Row], argv: list[str], load: tuple[str, str]) -> str:
    """``existing`` RESULTS.md with the rows of this (partial) run in place of the rows of the same benchmark
    numbers (the measure's leading ``N.``), their goal lines likewise, and a line under "## Machine" saying which
    rows came from which run and when (the table's other rows keep the date of the run that wrote the file)."""
    machine = machine_short()
    numbers = {r.measure.split(" ", 1)[0] for r in rows}

    def ours(line: str, prefix: str) -> bool:
        return line.startswith(prefix) and line[len(prefix):].split(" ", 1)[0] in numbers

    lines = existing.splitlines()
    table = [i for i, ln in enumerate(lines) if ln.startswith("| ")]
    if not table or "## Goals" not in lines or "## Machine" not in lines:
        raise SystemExit("--merge: the existing file is not a RESULTS.md written by benchmarks.run; run without --merge")
    new_rows = ["| " + " | ".join(_cell(c) for c in (r.measure, r.baseline, r.ours, r.ratio, r.goal_cell, r.how,
                                                        machine)) + " |" for r in rows]
    head, body, tail = lines[:table[0] + 2], lines[table[0] + 2:table[-1] + 1], lines[table[-1] + 1:]
    body = [ln for ln in body if not ours(ln, "| ")] + new_rows
    goals = tail.index("## Goals") + 2
    end = goals
    while end < len(tail) and tail[end].startswith("- "):
        end += 1
    verdict = {True: "met", False: "MISSED", None: "not decided (check failed or error)"}
    tail[goals:end] = [ln for ln in tail[goals:end] if not ours(ln, "- ")] + [
        f"- {r.measure}: {r.goal} — **{verdict[r.met]}** ({r.ratio})" for r in rows if r.goal]
    machine_at = tail.index("## Machine") + 2
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    tail.insert(machine_at, f"- rows {', '.join(sorted(numbers))} come from a later run, "
                            f"`python -m benchmarks.run {' '.join(argv)}` on {stamp} (load average at start {load[0]}, "
                            f"at end {load[1]}); every other row from the run named at the top")
    return "\n".join(head + body + tail) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description="Run the seghelpers benchmarks and write RESULTS.md")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (same method), ~3 minutes")
    ap.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default {DEFAULT_OUT})")
    ap.add_argument("--merge", action="store_true",
                    help="with --only: replace just those benchmarks' rows in the existing --out file")
    args = ap.parse_args(argv)

    rows: list[Row] = []
    seconds: dict[str, float] = {}
    t_start = time.perf_counter()
    load_start = loadavg()
    for name in args.only or list(BENCHMARKS):
        print(f"[bench] {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            new_rows = module.run(quick=args.quick)
        except Exception as e:  # noqa: BLE001 - report it in the table, go on with the others
            traceback.print_exc()
            new_rows = [failed_row(name, e)]
        seconds[name] = time.perf_counter() - t0
        for r in new_rows:
            print(f"    {r.measure}: {r.ratio}  [{r.goal_cell}]", flush=True)
        rows.extend(new_rows)
    total = time.perf_counter() - t_start
    if args.merge:
        if not args.only or not args.out.exists():
            raise SystemExit("--merge needs --only and an existing --out file")
        text = merge(args.out.read_text(encoding="utf-8"), rows, argv, (load_start, loadavg()))
    else:
        text = render(rows, args.quick, seconds, total, argv, (load_start, loadavg()))
    write_atomic(args.out, text)
    print(f"[bench] wrote {args.out} ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
