"""Resolve a checkpoint (hub id, local folder, or an offline random-init SegFormer).

``checkpoint`` values understood everywhere in the kit:

* ``"nvidia/mit-b0"`` or any hub id: used as is (needs the hub or a warm cache, see ``make prefetch``);
* a local folder with ``config.json`` (e.g. what notebook 04 saved);
* ``"random:tiny"`` / ``"random:mit-b0"``: a randomly initialised SegFormer with the ADE label maps and
  an image processor (``do_reduce_labels=True``), built offline once and cached. ``tiny`` is a
  4-stage SegFormer with small widths for CPU smoke runs; ``mit-b0`` is the real b0 architecture.

Random-init folders hold PyTorch weights (``model.safetensors``). TensorFlow loads them with
``from_pt=True`` (see :func:`seghelpers.tf.load_model`) because ``TF*.from_pretrained`` on a folder
with safetensors crashes in transformers 4.57.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from .i18n import tr
from .labels import id2label as ADE_ID2LABEL

RANDOM_PREFIX = "random:"
ARCHITECTURES = {
    # the real mit-b0 encoder + SegFormer decode head (SegformerConfig defaults)
    "mit-b0": dict(depths=[2, 2, 2, 2], hidden_sizes=[32, 64, 160, 256], num_attention_heads=[1, 2, 5, 8],
                   decoder_hidden_size=256),
    # same 4-stage design, narrower and shallower: trains on CPU in seconds
    "tiny": dict(depths=[1, 1, 1, 1], hidden_sizes=[16, 32, 64, 128], num_attention_heads=[1, 1, 2, 4],
                 decoder_hidden_size=64),
}
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$|^[A-Za-z0-9][\w.-]*$")


class CheckpointError(ValueError):
    pass


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def in_hf_cache(repo_id: str, filename: str = "config.json", repo_type: str = "model") -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, filename, repo_type=repo_type), str)
    except Exception:  # malformed ids etc.
        return False


def build_random_segformer(out_dir, architecture: str = "tiny", image_size: int = 64, seed: int = 0,
                           id2label: dict | None = None, overwrite: bool = False) -> Path:
    """Write a random-init SegFormer + image processor to ``out_dir`` (atomically) and return it."""
    if architecture not in ARCHITECTURES:
        raise CheckpointError(tr(f"architecture={architecture!r}; choose one of {sorted(ARCHITECTURES)}",
                                 f"architecture={architecture!r}；请从 {sorted(ARCHITECTURES)} 中选一个"))
    out_dir = Path(out_dir)
    if (out_dir / "config.json").exists() and not overwrite:
        return out_dir
    import torch
    from transformers import SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor

    id2label = dict(ADE_ID2LABEL if id2label is None else id2label)
    config = SegformerConfig(num_labels=len(id2label), id2label=id2label,
                             label2id={v: k for k, v in id2label.items()}, **ARCHITECTURES[architecture])
    torch.manual_seed(seed)
    model = SegformerForSemanticSegmentation(config)
    # do_reduce_labels=False, as nvidia/mit-b0's own preprocessor_config.json: the guide's ignored reduce_labels=True
    # (notebook 02) then leaves the processor unreduced here too, the fault a learner meets with the real checkpoint
    processor = SegformerImageProcessor(do_reduce_labels=False, size={"height": image_size, "width": image_size})
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        (tmp / "SEGHELPERS_RANDOM_INIT.json").write_text(json.dumps(
            {"architecture": architecture, "seed": seed, "image_size": image_size,
             "note": "random initialisation, not trained: predictions are noise"}, indent=1))
        if out_dir.exists() and overwrite:
            shutil.rmtree(out_dir)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / "config.json").exists():
                raise
            shutil.rmtree(tmp)  # built concurrently by another process with the same seed: keep theirs
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def is_random_init(path) -> bool:
    return (Path(path) / "SEGHELPERS_RANDOM_INIT.json").exists()


def resolve_checkpoint(checkpoint: str, image_size: int = 64, seed: int = 0) -> str:
    """Return something ``from_pretrained`` accepts, or raise a clear error *before* any heavy work.

    * ``random:<arch>`` -> path of a cached random-init folder (built on first use)
    * an existing folder -> checked for ``config.json``
    * a hub id -> returned as is; when offline (``HF_HUB_OFFLINE=1``, or the Hub did not answer the
      once-per-process probe of :mod:`seghelpers.hub`) it must already be cached
    """
    if not isinstance(checkpoint, (str, os.PathLike)) or not str(checkpoint).strip():
        raise CheckpointError(tr(f"checkpoint={checkpoint!r}: give a hub id ('nvidia/mit-b0'), a local folder, "
                                 f"or one of {[RANDOM_PREFIX + a for a in ARCHITECTURES]}",
                                 f"checkpoint={checkpoint!r}：请给出 Hub ID（如 'nvidia/mit-b0'）、本地文件夹，"
                                 f"或 {[RANDOM_PREFIX + a for a in ARCHITECTURES]} 之一"))
    ckpt = str(checkpoint)
    if ckpt.startswith(RANDOM_PREFIX):
        arch = ckpt[len(RANDOM_PREFIX):]
        if arch not in ARCHITECTURES:
            raise CheckpointError(tr(f"checkpoint={ckpt!r}: unknown architecture {arch!r}; "
                                     f"use one of {[RANDOM_PREFIX + a for a in ARCHITECTURES]}",
                                     f"checkpoint={ckpt!r}：未知的架构 {arch!r}；"
                                     f"请用 {[RANDOM_PREFIX + a for a in ARCHITECTURES]} 之一"))
        from .paths import cache_dir

        # "-v2": the processor's do_reduce_labels became False (as mit-b0's); older cached folders are not reused
        return str(build_random_segformer(cache_dir() / f"random-{arch}-{image_size}px-seed{seed}-v2",
                                          arch, image_size, seed))
    path = Path(ckpt).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise CheckpointError(tr(f"checkpoint={ckpt!r}: folder has no config.json. Point it at a folder written "
                                     "by save_pretrained() (e.g. notebook 04's output_dir).",
                                     f"checkpoint={ckpt!r}：这个文件夹里没有 config.json。请指向用 save_pretrained() "
                                     "保存的文件夹（例如第 04 篇的 output_dir）。"))
        return str(path)
    if path.exists() or not _HUB_ID_RE.match(ckpt) or ckpt.startswith((".", "/", "~")):
        raise CheckpointError(tr(f"checkpoint={ckpt!r}: no such folder. Train one with notebook 04, give a hub id "
                                 f"like 'nvidia/mit-b0', or use 'random:tiny' for an offline run.",
                                 f"checkpoint={ckpt!r}：没有这个文件夹。请用第 04 篇训练一个，或给出 Hub ID（如 "
                                 "'nvidia/mit-b0'），离线运行时也可以用 'random:tiny'。"))
    from . import hub

    ok, why = hub.reachable()  # probed once per process, in seconds; unreachable -> offline on the cache
    if not ok and not in_hf_cache(ckpt):
        raise CheckpointError(hub.unreachable_message(f"checkpoint={ckpt!r}", why,
                                                      " Or pass checkpoint='random:tiny' / a local folder.",
                                                      "也可以传 checkpoint='random:tiny' 或一个本地文件夹。"))
    return ckpt


def load_image_processor(checkpoint: str, image_size: int | None = None, use_fast: bool = False, *, meta=None,
                         **kwargs):
    """``AutoImageProcessor.from_pretrained(checkpoint, do_reduce_labels=...)`` (the slow, PIL-based one).

    ``checkpoint``: a hub id, a local folder, or ``"random:tiny"`` (see :func:`resolve_checkpoint`).
    ``meta``: the data set's :class:`seghelpers.DatasetMeta`; its ``reduce_labels`` sets
    ``do_reduce_labels`` (a contradicting ``do_reduce_labels=`` raises ``ValueError``). Without ``meta``:
    the description saved in a model folder (``dataset_meta.json``) when there is one, else
    ``do_reduce_labels=True`` (ADE20K's convention, as the guide); the transforms then check it against the
    data set they transform. ``image_size`` overrides the processor's output size (``size={"height": n, "width": n}``).

    Why not ``use_fast=True``: in transformers 4.57.6 ``SegformerImageProcessorFast`` returns *one* label
    map for a batch of several segmentation maps (labels shape (1, H, W) instead of (N, H, W)), and its
    antialiased resize moves pixel values by up to ~0.02 against the slow processor. Both are checked
    in tests/test_pt.py so an upgrade that fixes them shows up.
    """
    from transformers import AutoImageProcessor

    from . import meta as _meta
    from .i18n import tr

    if str(checkpoint).startswith(RANDOM_PREFIX):  # the offline stand-in: build (once) and use its folder
        checkpoint = resolve_checkpoint(checkpoint, image_size or 64)
    if meta is None and Path(str(checkpoint)).expanduser().is_dir():
        meta = _meta.load(checkpoint)
    if meta is not None:
        meta = _meta.resolve(meta, where="load_image_processor")
        given = kwargs.get("do_reduce_labels")
        if given is not None and bool(given) != meta.reduce_labels:
            raise ValueError(tr(
                f"load_image_processor: do_reduce_labels={given} contradicts meta ({meta.name}: reduce_labels="
                f"{meta.reduce_labels}); leave do_reduce_labels out, meta= sets it",
                f"load_image_processor：do_reduce_labels={given} 与 meta（{meta.name}：reduce_labels="
                f"{meta.reduce_labels}）矛盾；去掉 do_reduce_labels 即可，meta= 会设置它"))
        kwargs["do_reduce_labels"] = meta.reduce_labels
    kwargs.setdefault("do_reduce_labels", True)
    if image_size is not None:  # the notebooks' image_size parameter: square output of that size
        kwargs["size"] = {"height": int(image_size), "width": int(image_size)}
    return AutoImageProcessor.from_pretrained(checkpoint, use_fast=use_fast, **kwargs)


#: keywords of the image processor, not of a model's from_pretrained
PROCESSOR_KEYWORDS = ("do_reduce_labels", "reduce_labels", "size", "image_size", "do_resize", "do_rescale",
                      "rescale_factor", "do_normalize", "image_mean", "image_std", "resample", "use_fast")


def check_model_kwargs(kwargs: dict, where: str) -> None:
    """Raise ``TypeError`` when an image-processor keyword is given to a model loader, saying where it belongs."""
    from .i18n import tr

    bad = [k for k in kwargs if k in PROCESSOR_KEYWORDS]
    if bad:
        k = bad[0]
        raise TypeError(tr(
            f"{where}: {k}= is a keyword of the image processor, not of the model. Pass it where the processor is "
            f"loaded: sh.load_image_processor(checkpoint, {k}=...), or give both the data set's description: "
            "sh.load_image_processor(checkpoint, meta=meta) and load_model(checkpoint, meta=meta).",
            f"{where}：{k}= 是图像处理器的参数，不是模型的参数。请在加载处理器时传入："
            f"sh.load_image_processor(checkpoint, {k}=...)；或者两处都传数据集的描述："
            "sh.load_image_processor(checkpoint, meta=meta) 和 load_model(checkpoint, meta=meta)。"))


def model_load_args(checkpoint, meta, kwargs: dict, where: str) -> tuple[str, dict]:
    """What both frameworks' ``load_model`` do first: refuse image-processor keywords (:func:`check_model_kwargs`),
    build a ``"random:..."`` stand-in (:func:`resolve_checkpoint`), and take ``id2label`` / ``label2id`` from
    ``meta`` (the data set's :class:`~seghelpers.DatasetMeta`). Returns ``(checkpoint, kwargs)``; ``kwargs`` is
    updated in place."""
    check_model_kwargs(kwargs, where)
    if str(checkpoint).startswith(RANDOM_PREFIX):  # the offline stand-in: build (once) and use its folder
        checkpoint = resolve_checkpoint(checkpoint)
    if meta is not None:
        from .meta import resolve

        meta = resolve(meta, where=where)
        kwargs.update(id2label=dict(meta.id2label), label2id=meta.label2id)
    return checkpoint, kwargs


def reheaded_copy(folder, id2label: dict, out_dir, seed: int = 0) -> bool:
    """Copy a PyTorch-weights SegFormer ``folder`` to ``out_dir`` with a new classifier for ``id2label``.

    Only when the class count differs from the folder's (returns False and writes nothing otherwise).
    The classifier (``decode_head.classifier.weight`` (N, C, 1, 1), ``.bias`` (N,)) is drawn with numpy,
    seeded: normal(0, ``initializer_range``) weights and zero bias, as transformers initialises it. numpy
    and safetensors only: no framework is imported, so it works whatever USE_TF/USE_TORCH hide.
    """
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    folder, out_dir = Path(folder), Path(out_dir)
    config = json.loads((folder / "config.json").read_text("utf-8"))
    names = {str(int(k)): v for k, v in dict(id2label).items()}
    if len(config.get("id2label", {})) == len(names):
        return False
    weights = folder / "model.safetensors"
    if not weights.exists():
        raise CheckpointError(tr(f"{folder}: no model.safetensors to re-head for {len(names)} classes; save the model "
                                 "with save_pretrained() (safetensors, transformers' default)",
                                 f"{folder}：没有 model.safetensors，无法把分类头换成 {len(names)} 个类别；请用 "
                                 "save_pretrained() 保存模型（safetensors 格式，transformers 的默认格式）"))
    with safe_open(str(weights), "np") as f:
        metadata = f.metadata() or {"format": "pt"}
    tensors = load_file(str(weights))
    w = tensors["decode_head.classifier.weight"]
    rng = np.random.default_rng(seed)
    tensors["decode_head.classifier.weight"] = rng.normal(
        0.0, float(config.get("initializer_range", 0.02)), (len(names),) + w.shape[1:]).astype(w.dtype)
    tensors["decode_head.classifier.bias"] = np.zeros(len(names), w.dtype)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "model.safetensors"), metadata=metadata)
    config.update(id2label=names, label2id={v: int(k) for k, v in names.items()})
    config.pop("num_labels", None)
    (out_dir / "config.json").write_text(json.dumps(config, indent=1), "utf-8")
    return True


def save_pretrained_atomic(target, *objects) -> Path:
    """``obj.save_pretrained(target)`` for each object (model, image processor...), all or nothing.

    Everything is written to a temporary sibling folder first, which then replaces ``target``; a run
    killed half-way leaves the previous export (or nothing), never a mix that loads silently.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    old = None
    try:
        for obj in objects:
            obj.save_pretrained(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "x")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / "x").exists() and not target.exists():
            os.replace(old / "x", target)  # put the previous export back
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target
