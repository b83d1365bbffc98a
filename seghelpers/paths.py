"""Where the kit keeps what it builds, and split strings: ``cache_dir()``, ``parse_split("train[:50]")``,
and the rows ``make prefetch`` cached (:func:`prefetched_dataset`). Core layer: standard library only.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .i18n import tr

#: the manifest ``make prefetch`` writes next to the rows it cached
MANIFEST = "prefetch.json"


_SPLIT_RE = re.compile(r"^\s*(\w+)\s*(?:\[\s*(-?\d*)\s*(%?)\s*:\s*(-?\d*)\s*(%?)\s*\])?\s*$")


def cache_dir() -> Path:
    """Where the kit caches what it builds (``$SEGHELPERS_CACHE`` or ``~/.cache/seghelpers``)."""
    return Path(os.environ.get("SEGHELPERS_CACHE", Path.home() / ".cache" / "seghelpers"))


def parse_split(split: str) -> tuple[str, slice | None]:
    """``"train[:50]"`` -> ``("train", slice(None, 50))``; percentages stay as ``("%", a, b)`` markers."""
    m = _SPLIT_RE.match(split or "")
    if not m:
        raise ValueError(tr(f"split={split!r} is not understood; use e.g. 'train', 'train[:50]', "
                            "'validation[10:20]' or 'train[:10%]'",
                            f"无法识别 split={split!r}；请写成 'train'、'train[:50]'、'validation[10:20]' 或 "
                            "'train[:10%]' 这样的形式"))
    name, a, pa, b, pb = m.groups()
    if split.strip() == name:
        return name, None
    return name, (a, pa, b, pb)


def apply_slice(n: int, spec, split: str) -> range:
    if spec is None:
        return range(n)
    a, pa, b, pb = spec

    def bound(v, pct, default):
        if v in ("", None):
            return default
        v = int(v)
        if pct:
            v = int(round(n * v / 100))
        return v

    return range(n)[slice(bound(a, pa, None), bound(b, pb, None))]



_apply_slice = apply_slice


def prefetched_root() -> Path:
    return cache_dir() / "prefetched"


def _repo_dir(source: str) -> str:
    return str(source).strip().replace("/", "--")


def rows_needed(split: str) -> tuple[str, int | None]:
    """``"train[:50]"`` -> ``("train", 50)``: the split and how many leading rows cover the slice.

    ``None`` rows = the whole split (no slice, a percentage, an open end or a negative bound).
    """
    name, spec = parse_split(split)
    if spec is None:
        return name, None
    a, pa, b, pb = spec
    if pa or pb or b in ("", None) or int(b) < 0 or (a not in ("", None) and int(a) < 0):
        return name, None
    return name, int(b)


def prefetched_dataset(source: str, split: str) -> Path | None:
    """The cached Hub-layout folder that holds every row of ``source``'s ``split``, or None."""
    name, spec = parse_split(split)
    folder = prefetched_root() / _repo_dir(source) / name
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("source") != source or not (folder / "data").is_dir():
        return None
    if manifest.get("complete"):
        return folder
    _, needed = rows_needed(split)
    if needed is None:
        return None
    a = spec[0] if spec else ""
    start = int(a) if a not in ("", None) else 0
    return folder if 0 <= start and needed <= int(manifest.get("rows", 0)) else None
