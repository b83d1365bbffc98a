"""Hub data sets: a Hub id (through the rows ``make prefetch`` cached, else ``datasets.load_dataset``), and
Hub-layout parquet folders (reading them, writing them).

Loader layer: below it :mod:`.hub`, :mod:`.masks` (``DataError``), :mod:`.paths`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .i18n import tr
from .masks import DataError
from .paths import parse_split

DEFAULT_HUB_DATASET = "merve/scene_parse_150"


_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _sceneparse_columns(ds, where: str):
    """Check a loaded dataset has SceneParse150's columns; decode its images as RGB."""
    import datasets

    missing = {"image", "annotation"} - set(ds.column_names)
    if missing:
        raise DataError(tr(f"{where}: no column(s) {sorted(missing)}; a SceneParse150-style dataset needs 'image' and "
                           f"'annotation' (it has {ds.column_names}).",
                           f"{where}：缺少列 {sorted(missing)}；SceneParse150 格式的数据集需要 'image' 和 'annotation' 两列"
                           f"（它现有的列是 {ds.column_names}）。"))
    return ds.cast_column("image", datasets.Image(mode="RGB"))


def _hub_offline_error(source: str, err: Exception | str) -> Exception:
    from .hub import unreachable_message

    why = err if isinstance(err, str) else f"{type(err).__name__}"
    return ConnectionError(unreachable_message(
        f"dataset={source!r}", why, " Or pass dataset=<folder>: an "
        "ADEChallengeData2016 folder or a Hub-layout parquet folder (a prefetched or shared copy).",
        "也可以传 dataset=<文件夹>：ADEChallengeData2016 文件夹，或 Hub 格式的 parquet 文件夹（预取的或别人共享的副本）。"))


#: Hub ids of SceneParse150 as a loading script, which datasets>=4 refuses
SCRIPT_DATASETS = ("scene_parse_150", "zhoubolei/scene_parse_150")


def _refuse_script_dataset(source: str) -> None:
    if str(source) in SCRIPT_DATASETS:
        raise ValueError(tr(
            f"dataset={source!r} is a script dataset (a Python loading script), which datasets>=4 no longer runs. "
            f"Load its Parquet copy {DEFAULT_HUB_DATASET!r} instead (the id the current English guide uses), a local "
            "ADEChallengeData2016 folder, or 'synthetic' offline.",
            f"dataset={source!r} 是脚本数据集（用 Python 加载脚本），datasets>=4 已不再运行这类脚本。请改为加载它的 "
            f"Parquet 副本 {DEFAULT_HUB_DATASET!r}（当前英文指南用的就是这个 ID）、本地的 ADEChallengeData2016 文件夹，"
            "或离线时用 'synthetic'。"))


def load_hub(source: str, split: str):
    """Load a Hub dataset id: from the rows ``make prefetch`` cached when they cover ``split``, else
    through ``datasets.load_dataset``. The Hub is probed once per process first (seconds): unreachable,
    the libraries go offline, so a cached dataset loads and an uncached one fails at once."""
    import datasets

    from . import hub
    from .paths import prefetched_dataset

    _refuse_script_dataset(source)
    local = prefetched_dataset(source, split)
    if local is not None:  # what `make prefetch` saved: no network, same rows
        return load_hub_layout(local, split)
    ok, why = hub.reachable()
    try:
        ds = datasets.load_dataset(source, split=split)
    except (ConnectionError, OSError) as e:
        text = str(e).lower()
        if not ok or "offline" in text or "connect" in text or "couldn't" in text:
            raise _hub_offline_error(source, why if not ok else e) from e
        raise
    return _sceneparse_columns(ds, f"dataset={source!r}")


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet")) + sorted(p for p in folder.glob("data/**/*.parquet"))


def is_hub_layout(folder) -> bool:
    """True for a folder laid out like a Hub dataset snapshot: parquet shards in ``data/`` (or at its top)."""
    folder = Path(str(folder)).expanduser()
    return folder.is_dir() and bool(_parquet_files(folder))


def load_hub_layout(folder, split: str):
    """Load a Hub-layout parquet folder through ``datasets.load_dataset(folder, split=...)``, as the Hub id would."""
    import datasets

    folder = Path(str(folder)).expanduser()
    name, _ = parse_split(split)
    try:
        ds = datasets.load_dataset(str(folder), split=split)
    except ValueError as e:
        if "split" in str(e).lower() or "Unknown" in str(e):
            shards = ", ".join(p.relative_to(folder).as_posix() for p in _parquet_files(folder)[:4])
            raise DataError(tr(f"{folder}: no split {name!r} in this parquet folder ({shards}); shard names must "
                               "start with the split, e.g. data/train-00000-of-00001.parquet",
                               f"{folder}：这个 parquet 文件夹里没有划分 {name!r}（{shards}）；分片文件名必须以划分名开头，"
                               "例如 data/train-00000-of-00001.parquet")) from None
        raise
    return _sceneparse_columns(ds, str(folder))


def write_hub_layout(splits: dict, out_dir) -> Path:
    """Write ``{"train": Dataset, ...}`` as a Hub-layout folder (``data/<split>-00000-of-00001.parquet``).

    Image bytes are embedded, so the folder is self-contained (copy it to a USB stick). Written to a
    temporary sibling and renamed, so a half-written folder never exists under ``out_dir``.
    """
    import shutil
    import tempfile

    import datasets
    from datasets.table import embed_table_storage

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    bars = not datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # a one-off conversion: no bars in the learner's notebook
    try:
        (tmp / "data").mkdir()
        for name, ds in splits.items():
            ds = ds.cast_column("image", datasets.Image())  # as on the Hub: no decode mode in the schema
            ds = ds.with_format("arrow").map(embed_table_storage, batched=True).with_format(None)
            ds.to_parquet(str(tmp / "data" / f"{name}-00000-of-00001.parquet"))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if bars:
            datasets.enable_progress_bars()
    return out_dir
