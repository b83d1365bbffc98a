"""Local replicas of the two Hub repositories the `guide` profile uses, built by the tests (offline).

* :func:`build_dataset_replica`: a folder laid out like a snapshot of ``merve/scene_parse_150``:
  ``README.md`` (a YAML dataset card with ``dataset_info.features`` and ``configs``) and
  ``data/{train,validation}-0000k-of-0000N.parquet`` shards with the columns ``image``,
  ``annotation`` (image bytes: JPEG photos, PNG masks) and ``scene_category`` (a ``ClassLabel``).
  Rows are ADE20K-shaped: 512-pixel photos (not square) and one-channel masks with raw ADE ids
  (0 = "other", 1..150 = classes), drawn by :mod:`seghelpers.synthetic` and scaled up.
* :func:`build_model_replica`: a folder laid out like ``nvidia/mit-b0`` at its ``main`` revision:
  ``config.json`` (an encoder-only ``SegformerConfig`` of MiT-b0, architectures
  ``["SegformerForImageClassification"]``, 1000 ImageNet labels), ``pytorch_model.bin`` and
  ``tf_model.h5`` (the same random weights), the 272-byte ``preprocessor_config.json`` with the old
  key ``"reduce_labels": false``, ``README.md`` and ``.gitattributes``. ``safetensors=True`` adds the
  ``model.safetensors`` that the Hub's conversion bot proposed (refs/pr/2, refs/pr/5; not merged
  into main as of the stored pages), the layout on which TF's loader picks the PyTorch safetensors.

What is taken from the real repositories (stored Hub pages, Nov 2023 tree of ``nvidia/mit-b0``):
the file list and sizes (config.json 70 kB, preprocessor_config.json 272 B, pytorch_model.bin 14.4 MB,
tf_model.h5 14.6 MB), and the MiT-b0 config values. The dataset card's scene names are a subset of
SceneParse150's 900-odd scene categories; the shard count is small so that shard boundaries are
exercised. Same arguments -> byte-identical files.

* :func:`kernel_env`: the environment the notebook-chain tests give the Jupyter kernels they start
  (offline, a private kit cache, one thread each), restored exactly afterwards.
"""
from __future__ import annotations

import io
import json
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: a subset of SceneParse150's scene categories, in the card's (alphabetical) order
SCENES = ["airport_terminal", "art_gallery", "badlands", "ball_pit", "bathroom", "beach", "bedroom",
          "booth_indoor", "botanical_garden", "bridge", "bullring", "bus_interior", "butte", "canyon",
          "casino_outdoor", "castle", "church_outdoor", "closet", "coast", "conference_room", "park", "street"]

#: MiT-b0 as in nvidia/mit-b0's config.json (the SegformerConfig defaults, plus the architectures entry)
MIT_B0 = dict(num_channels=3, num_encoder_blocks=4, depths=[2, 2, 2, 2], sr_ratios=[8, 4, 2, 1],
              hidden_sizes=[32, 64, 160, 256], patch_sizes=[7, 3, 3, 3], strides=[4, 2, 2, 2],
              num_attention_heads=[1, 2, 5, 8], mlp_ratios=[4, 4, 4, 4], hidden_act="gelu",
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.1,
              initializer_range=0.02, drop_path_rate=0.1, layer_norm_eps=1e-6, decoder_hidden_size=256,
              image_size=224, downsampling_rates=[1, 4, 8, 16])

#: nvidia/mit-b0's preprocessor_config.json, key for key (272 bytes as json.dumps(indent=2) + newline)
MIT_B0_PREPROCESSOR = {"do_normalize": True, "do_resize": True, "feature_extractor_type": "SegformerFeatureExtractor",
                       "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                       "reduce_labels": False, "resample": 2, "size": 512}

#: ADE-like photo sizes (width, height): the shorter side 512 or so, landscape and portrait
ADE_SIZES = [(683, 512), (512, 683), (512, 512), (640, 480), (512, 384)]


def _ade_row(rng: np.random.Generator, k: int) -> tuple[bytes, bytes, str]:
    """One ADE20K-shaped example: JPEG photo bytes, PNG mask bytes (raw ids 0..150), scene name."""
    from PIL import Image

    from seghelpers.synthetic import _render_example

    image, label, scene = _render_example(rng)
    size = ADE_SIZES[k % len(ADE_SIZES)]
    image = image.resize(size, Image.BILINEAR)
    label = label.resize(size, Image.NEAREST)  # masks: nearest neighbour only
    img_buf, ann_buf = io.BytesIO(), io.BytesIO()
    image.save(img_buf, format="JPEG", quality=90)
    label.save(ann_buf, format="PNG")
    return img_buf.getvalue(), ann_buf.getvalue(), scene


def _card(splits: dict[str, int], names: list[str], shards: dict[str, int]) -> str:
    lines = ["---", "dataset_info:", "  features:", "  - name: image", "    dtype: image",
             "  - name: annotation", "    dtype: image", "  - name: scene_category", "    dtype:",
             "      class_label:", "        names:"]
    lines += [f"          '{i}': {n}" for i, n in enumerate(names)]
    lines += ["  splits:"]
    for split, n in splits.items():
        lines += [f"  - name: {split}", f"    num_examples: {n}"]
    lines += ["configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: data/{split}-*"]
    lines += ["---", "", "# scene_parse_150 (test replica)", "",
              "Local replica of the layout of the Hub's parquet copy of SceneParse150, built by the kit's tests. "
              "Synthetic rows; not ADE20K data.", ""]
    return "\n".join(lines)


def build_dataset_replica(out, n_train: int = 60, n_val: int = 10, train_shards: int = 2, seed: int = 0) -> Path:
    """Write a ``merve/scene_parse_150``-shaped snapshot folder to ``out`` (once) and return it."""
    import os
    import shutil
    import tempfile

    out = Path(out)
    if (out / "README.md").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_dataset(tmp, n_train, n_val, train_shards, seed)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_dataset(out: Path, n_train: int, n_val: int, train_shards: int, seed: int) -> None:
    import datasets

    rng = np.random.default_rng(seed)
    features = datasets.Features({"image": datasets.Image(), "annotation": datasets.Image(),
                                  "scene_category": datasets.ClassLabel(names=SCENES)})
    (out / "data").mkdir(parents=True, exist_ok=True)
    sizes = {"train": n_train, "validation": n_val}
    shards = {"train": train_shards, "validation": 1}
    bars = not datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        k = 0
        for split, n in sizes.items():
            rows = {"image": [], "annotation": [], "scene_category": []}
            for _ in range(n):
                img, ann, scene = _ade_row(rng, k)
                k += 1
                rows["image"].append({"bytes": img, "path": None})
                rows["annotation"].append({"bytes": ann, "path": None})
                rows["scene_category"].append(SCENES.index(scene))
            ds = datasets.Dataset.from_dict(rows, features=features)
            for i in range(shards[split]):
                part = ds.shard(shards[split], i, contiguous=True)
                part.to_parquet(str(out / "data" / f"{split}-{i:05d}-of-{shards[split]:05d}.parquet"))
    finally:
        if bars:
            datasets.enable_progress_bars()
    (out / ".gitattributes").write_text("*.parquet filter=lfs diff=lfs merge=lfs -text\n")
    (out / "README.md").write_text(_card(sizes, SCENES, shards))


def replica_rows(folder, split: str = "train") -> list[tuple[bytes, bytes, int]]:
    """The raw rows (image bytes, annotation bytes, scene id) of a replica split, shard by shard."""
    import pyarrow.parquet as pq

    rows = []
    for f in sorted(Path(folder).glob(f"data/{split}-*.parquet")):
        t = pq.read_table(f).to_pydict()
        rows += [(i["bytes"], a["bytes"], s) for i, a, s in zip(t["image"], t["annotation"], t["scene_category"])]
    return rows


def imagenet_labels() -> dict[int, str]:
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    return dict(enumerate(_IMAGENET_CATEGORIES))


def build_model_replica(out, seed: int = 0, safetensors: bool = False, tf_weights: bool = True) -> Path:
    """Write an ``nvidia/mit-b0``-shaped folder to ``out`` (once) and return it.

    The TF weights are converted from the PyTorch ones in a subprocess (so the calling process never
    imports TensorFlow): both files hold the same random encoder. Written to a temporary sibling and
    renamed, so an interrupted build leaves nothing that looks complete.
    """
    import os
    import shutil
    import tempfile

    out = Path(out)
    if (out / "config.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_model(tmp, seed, safetensors, tf_weights)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_model(out: Path, seed: int, safetensors: bool, tf_weights: bool) -> None:
    import subprocess
    import sys

    import torch
    from transformers import SegformerConfig, SegformerForImageClassification

    id2label = imagenet_labels()
    config = SegformerConfig(**MIT_B0, id2label=id2label, label2id={v: k for k, v in id2label.items()},
                             architectures=["SegformerForImageClassification"])
    torch.manual_seed(seed)
    model = SegformerForImageClassification(config).eval()
    model.save_pretrained(out, safe_serialization=False)  # pytorch_model.bin, as on main
    if safetensors:
        import shutil

        model.save_pretrained(out / ".st", safe_serialization=True)
        (out / ".st" / "model.safetensors").rename(out / "model.safetensors")
        shutil.rmtree(out / ".st")
    (out / "preprocessor_config.json").write_text(json.dumps(MIT_B0_PREPROCESSOR, indent=2) + "\n")
    (out / "README.md").write_text("---\nlicense: other\ntags:\n- vision\ndatasets:\n- imagenet_1k\n---\n\n"
                                   "# MiT-b0 (test replica: random weights, same shapes and files)\n")
    (out / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n"
                                        "*.h5 filter=lfs diff=lfs merge=lfs -text\n")
    if tf_weights:
        code = (
            "import os, sys, shutil, tempfile\n"
            "os.environ.setdefault('TF_USE_LEGACY_KERAS', '1'); os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n"
            "import seghelpers.tf\n"
            "from transformers import TFSegformerForImageClassification\n"
            "src = sys.argv[1]; tmp = tempfile.mkdtemp()\n"
            "for f in ('config.json', 'pytorch_model.bin'): shutil.copy(os.path.join(src, f), tmp)\n"
            "m = TFSegformerForImageClassification.from_pretrained(tmp, from_pt=True)\n"
            "m.save_pretrained(tmp + '/tf')\n"
            "shutil.copy(tmp + '/tf/tf_model.h5', os.path.join(src, 'tf_model.h5'))\n"
            "shutil.rmtree(tmp)\n")
        env = dict(__import__("os").environ, USE_TF="AUTO", CUDA_VISIBLE_DEVICES="")
        r = subprocess.run([sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True)
        if r.returncode != 0 or not (out / "tf_model.h5").exists():
            raise RuntimeError(f"building tf_model.h5 failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")


def with_safetensors(src, out) -> Path:
    """A copy of a model replica plus ``model.safetensors`` (the layout of the conversion bot's PR, or of
    main once such a PR is merged). Same weights; built in this process without TensorFlow."""
    import os
    import shutil
    import tempfile

    out = Path(out)
    if (out / "model.safetensors").exists():
        return out
    from transformers import SegformerForImageClassification

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for f in Path(src).iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
        SegformerForImageClassification.from_pretrained(src).save_pretrained(tmp / ".st", safe_serialization=True)
        (tmp / ".st" / "model.safetensors").rename(tmp / "model.safetensors")
        shutil.rmtree(tmp / ".st")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def fake_hub_cache(hub_cache, repo_id: str, folder, files=None, commit: str = "0" * 40) -> Path:
    """Put ``files`` of ``folder`` into a Hugging Face cache as a snapshot of ``repo_id`` (model repo),
    the layout ``snapshot_download`` leaves behind (without blobs/symlinks, which readers do not need)."""
    import shutil

    repo = Path(hub_cache) / f"models--{repo_id.replace('/', '--')}"
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    for name in files if files is not None else [p.name for p in Path(folder).iterdir() if p.is_file()]:
        shutil.copy2(Path(folder) / name, snap / name)
    return snap


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def kernel_env(seghelpers_cache, **extra):
    """Set the environment that papermill's kernels inherit for a notebook chain; restore it on the way out.

    * ``PYTHONPATH``: the kernels import ``seghelpers`` from this checkout;
    * ``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``: the chains run offline, from local folders and caches;
    * ``SEGHELPERS_CACHE``: a private kit cache (``seghelpers_cache``), not the learner's;
    * ``OMP_NUM_THREADS=1``: one thread per kernel;
    * ``USE_TF`` unset: each notebook's setup chooses its framework.

    ``extra`` adds variables (e.g. ``HF_HOME=..., HF_HUB_CACHE=...``) or, with ``None``, unsets one. On exit,
    normal or by an exception, the whole environment is put back as it was on entry: changed values restored,
    variables that were unset removed again (those the body itself set or changed included).
    """
    saved = dict(os.environ)
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "SEGHELPERS_CACHE": str(seghelpers_cache), "OMP_NUM_THREADS": "1", "USE_TF": None}
    env.update(extra)
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        yield
    finally:
        for name in [n for n in os.environ if n not in saved]:
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
