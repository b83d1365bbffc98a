"""Download only what a workshop needs, so the room can then work offline.

    python -m seghelpers.prefetch [--dataset merve/scene_parse_150] [--split train[:50]]
                                  [--checkpoint nvidia/mit-b0] [--frameworks pt tf]

Run it (or ``make prefetch``) while online, once per machine, or once and copy the caches it names.

* **Data**: ``load_dataset("merve/scene_parse_150", split="train[:50]")`` downloads and prepares the
  whole train split (about 20 000 images, gigabytes) before slicing. Instead the first rows the split
  needs are *streamed* (only the start of the first parquet shard is read) and saved as a Hub-layout
  parquet folder in the kit's cache (``~/.cache/seghelpers/prefetched/<owner>--<name>/<split>/``).
  Offline, ``sh.load_scene_parse("merve/scene_parse_150", "train[:50]")`` (any slice inside the
  cached rows) loads exactly those rows from there, and the folder can be shared as it is
  (``dataset=<folder>``).
* **Model**: ``snapshot_download`` of only the files ``from_pretrained`` reads: ``config.json``,
  ``preprocessor_config.json``, one PyTorch weight file and ``tf_model.h5`` (not the README, not a
  second copy of the same weights).

``--profile workshop`` (``make prefetch PROFILE=workshop``) takes the dataset, rows and checkpoint from that
profile (:func:`profile_plan`), so the cache holds exactly what its notebooks read.

Prints what was cached and its size. Checks first, within seconds, that the Hub answers.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .i18n import tr
from .paths import MANIFEST, _repo_dir, prefetched_dataset, prefetched_root, rows_needed  # noqa: F401

#: the Hub address probed; None = ``$HF_ENDPOINT`` or https://huggingface.co (tests point it elsewhere)
HUB_URL: str | None = None
DEFAULT_DATASET = "merve/scene_parse_150"
DEFAULT_SPLIT = "train[:50]"
DEFAULT_CHECKPOINT = "nvidia/mit-b0"
#: the files ``from_pretrained`` / ``AutoImageProcessor.from_pretrained`` read, by framework (first found wins)
CONFIG_FILES = ("config.json", "preprocessor_config.json")
PT_WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # transformers prefers safetensors when both exist
TF_WEIGHTS = ("tf_model.h5",)


def hub_reachable(timeout: float = 5.0) -> tuple[bool, str]:
    """Whether the Hub answers an HTTP request within ``timeout`` seconds (and why not). Not cached."""
    from . import hub

    if hub.offline_requested():
        return False, "HF_HUB_OFFLINE is set; unset it (or run `make prefetch`, which does) to download"
    url = HUB_URL or hub.endpoint()
    ok, why, _ = hub.probe(url, timeout)
    return (True, "") if ok else (False, f"{url} did not answer within {timeout:g} s ({why})")


# ----------------------------------------------------------------------------------------------- data
# prefetched_root, rows_needed, prefetched_dataset: in .paths (the loaders read the cache without importing
# this module, which sits above them)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def human(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def prefetch_dataset(source: str = DEFAULT_DATASET, split: str = DEFAULT_SPLIT, *, reader: str | None = None,
                     out_root: Path | None = None) -> tuple[Path, int, int]:
    """Stream the rows ``split`` needs from ``source`` and save them as a Hub-layout folder.

    ``reader`` is what ``datasets.load_dataset`` opens (default ``source``; tests pass a local replica
    of the Hub repository while ``source`` stays the Hub id the cache is filed under). The image bytes
    are copied as they are (no decoding, no re-encoding). Returns ``(folder, rows, bytes)``.
    """
    import datasets

    from .data import write_hub_layout

    name, n = rows_needed(split)
    folder = (Path(out_root) if out_root else prefetched_root()) / _repo_dir(source) / name
    try:  # already cached (as many rows or more): keep it
        old = json.loads((folder / MANIFEST).read_text())
        if old.get("source") == source and (old.get("complete") or (n is not None and old.get("rows", 0) >= n)):
            return folder, int(old["rows"]), folder_size(folder)
    except (OSError, ValueError):
        pass
    stream = datasets.load_dataset(reader or source, split=name, streaming=True)
    features = stream.features
    if features is not None:  # keep the encoded bytes: the cache holds the Hub's files, not re-encoded ones
        for col, feat in features.items():
            if isinstance(feat, datasets.Image):
                stream = stream.cast_column(col, datasets.Image(decode=False))
    rows = list(stream if n is None else stream.take(n))
    if not rows:
        raise ValueError(tr(f"{source} {split}: no rows", f"{source} {split}：一行数据也没有"))
    raw_features = stream.features if stream.features is not None else None
    ds = datasets.Dataset.from_list(rows, features=raw_features)
    for col, feat in (raw_features or {}).items():
        if isinstance(feat, datasets.Image):
            ds = ds.cast_column(col, datasets.Image())
    write_hub_layout({name: ds}, folder)
    manifest = {"source": source, "split": name, "rows": len(ds), "complete": n is None,
                "columns": ds.column_names, "requested": split}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return folder, len(ds), folder_size(folder)


# ---------------------------------------------------------------------------------------------- model
def plan_model_files(files, frameworks=("pt", "tf")) -> list[str]:
    """The files of a model repository that ``from_pretrained`` needs for ``frameworks`` (in ``files``).

    PyTorch: one weight file (safetensors when the repository has it, as transformers prefers).
    TensorFlow: ``tf_model.h5``; without it, the PyTorch weights (loaded with ``from_pt=True``).
    """
    files = set(files)
    want = [f for f in CONFIG_FILES if f in files]
    pt = next((f for f in PT_WEIGHTS if f in files), None)
    if "pt" in frameworks and pt:
        want.append(pt)
    if "tf" in frameworks:
        tf = next((f for f in TF_WEIGHTS if f in files), None)
        if tf:
            want.append(tf)
        elif pt and pt not in want:
            want.append(pt)
    if "config.json" not in want:
        raise ValueError(tr(f"no config.json among the repository's files {sorted(files)}: not a transformers model",
                            f"仓库的文件 {sorted(files)} 里没有 config.json：这不是 transformers 模型"))
    if not any(f in want for f in PT_WEIGHTS + TF_WEIGHTS):
        raise ValueError(tr(f"no weights for {list(frameworks)} among the repository's files {sorted(files)}",
                            f"仓库的文件 {sorted(files)} 里没有 {list(frameworks)} 可用的权重"))
    return want


def prefetch_model(checkpoint: str = DEFAULT_CHECKPOINT, frameworks=("pt", "tf"), *, list_files=None,
                   download=None) -> tuple[list[str], int]:
    """Download the planned files of ``checkpoint`` into the Hugging Face cache -> ``(files, bytes)``.

    ``list_files(repo) -> [names]`` and ``download(repo, allow_patterns) -> folder`` default to
    ``huggingface_hub`` (``HfApi().list_repo_files`` and ``snapshot_download``); tests inject others.
    """
    if list_files is None or download is None:
        from huggingface_hub import HfApi, snapshot_download

        list_files = list_files or (lambda repo: HfApi().list_repo_files(repo))
        download = download or (lambda repo, allow: snapshot_download(repo, allow_patterns=allow))
    want = plan_model_files(list_files(checkpoint), frameworks)
    folder = Path(download(checkpoint, want))
    size = sum((folder / f).stat().st_size for f in want if (folder / f).exists())
    return want, size


def profile_plan(profile: str) -> dict:
    """What a profile's notebooks read from the Hub: ``dict(dataset, split, checkpoint)``, ``""`` for what it
    does not take from the Hub (the synthetic set, a random-init model, a local folder)."""
    from .i18n import tr
    from .params import PROFILES

    if profile not in PROFILES:
        raise ValueError(tr(f"--profile {profile!r} is unknown; choose one of {sorted(PROFILES)}",
                            f"--profile {profile!r} 不存在，可选：{sorted(PROFILES)}"))
    p = PROFILES[profile]
    dataset = "" if p["dataset"] == "synthetic" or Path(p["dataset"]).exists() else p["dataset"]
    checkpoint = "" if p["checkpoint"].startswith("random:") or Path(p["checkpoint"]).exists() else p["checkpoint"]
    return dict(dataset=dataset, split=p["split"], checkpoint=checkpoint)


def warm_processor(checkpoint: str) -> None:
    """Load config and image processor once online, so optional look-ups are answered in the cache too."""
    from transformers import AutoConfig

    from .checkpoints import load_image_processor

    AutoConfig.from_pretrained(checkpoint)
    load_image_processor(checkpoint)


def prefetch(dataset: str = DEFAULT_DATASET, split: str = DEFAULT_SPLIT, checkpoint: str = DEFAULT_CHECKPOINT,
             frameworks=("pt", "tf"), out=print, reader: str | None = None) -> None:
    """Cache the model files and the dataset rows the workshop needs; print what and how big.

    ``reader``: what ``load_dataset`` streams from instead of ``dataset`` (tests: a local replica).
    """
    if checkpoint:
        files, size = prefetch_model(checkpoint, frameworks)
        warm_processor(checkpoint)
        out(f"model {checkpoint}: {', '.join(files)} ({human(size)}) in the Hugging Face cache")
    if dataset:
        folder, rows, size = prefetch_dataset(dataset, split, reader=reader)
        out(f"dataset {dataset} {split}: {rows} rows ({human(size)}) in {folder}")
        out(f"  offline, dataset={dataset!r} with split={split!r} (or any slice of those rows) loads from there; "
            "to share it, copy that folder and pass it as dataset=<folder>")
    out("Offline from now on: export HF_HUB_OFFLINE=1 (the Makefile sets it).")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="take dataset, split and checkpoint from this profile "
                    "(e.g. workshop); the flags below override it. Without it: the guide's")
    ap.add_argument("--dataset", default=None, help=f"Hub dataset id ('' skips the data; default {DEFAULT_DATASET})")
    ap.add_argument("--split", default=None, help=f"default {DEFAULT_SPLIT}")
    ap.add_argument("--checkpoint", default=None, help=f"Hub model id ('' skips the model; default {DEFAULT_CHECKPOINT})")
    ap.add_argument("--frameworks", nargs="+", default=["pt", "tf"], choices=["pt", "tf"])
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args(argv)
    try:
        plan = profile_plan(args.profile) if args.profile else dict(dataset=DEFAULT_DATASET, split=DEFAULT_SPLIT,
                                                                     checkpoint=DEFAULT_CHECKPOINT)
    except ValueError as e:
        ap.error(str(e))
    plan.update({k: v for k, v in (("dataset", args.dataset), ("split", args.split),
                                   ("checkpoint", args.checkpoint)) if v is not None})
    if not plan["dataset"] and not plan["checkpoint"]:
        print(f"prefetch: profile {args.profile!r} reads nothing from the Hub (it runs offline as it is).")
        return 0
    ok, why = hub_reachable(args.timeout)
    if not ok:
        print(tr(f"prefetch: the Hugging Face Hub is unreachable: {why}.\n"
                 "Run this where the Hub can be reached; offline, use the smoke profile (synthetic data, "
                 "random-init model), or copy ~/.cache/huggingface and ~/.cache/seghelpers/prefetched from a "
                 "machine that has prefetched.",
                 f"prefetch：连不上 Hugging Face Hub：{why}。\n"
                 "请在能访问 Hub 的地方运行；离线时请用 smoke 预设（合成数据 + 随机初始化的模型），或者从已经预取过的机器上"
                 "拷贝 ~/.cache/huggingface 和 ~/.cache/seghelpers/prefetched。"), file=sys.stderr)
        return 2
    prefetch(plan["dataset"], plan["split"], plan["checkpoint"], tuple(args.frameworks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
