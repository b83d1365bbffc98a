"""Measure what a first `make setup` downloads on each supported platform; writes benchmarks/DOWNLOADS.md.

    python scripts/download_sizes.py        # needs the package index (PyPI); run in the kit's venv

For each platform, uv's resolver says which of requirements.lock's pins install there (the dry run the tests
use), and ``uv pip compile --format pylock.toml`` of the lock gives every file's size as the index reports it;
the wheel counted per package is the one uv would pick (the best-ranked compatible tag). The README's set-up
table is generated from the file written here (notebooks/update_readme.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from datetime import datetime, timezone
from pathlib import Path

from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "DOWNLOADS.md"
UV = str(Path(sys.executable).with_name("uv"))
CUDA = ("nvidia-", "cuda-", "triton")


def _manylinux(arch: str) -> list[str]:
    return ([f"manylinux_2_{m}_{arch}" for m in range(28, 4, -1)]
            + [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}", f"linux_{arch}"])


#: label -> (uv --python-platform, extra env, wheel platform tags best first) - the same targets as the tests
PLATFORMS = {
    "Linux x86-64": ("x86_64-manylinux_2_28", {}, _manylinux("x86_64")),
    "Linux aarch64": ("aarch64-manylinux_2_28", {}, _manylinux("aarch64")),
    "macOS 14+ (Apple silicon)": ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "14.0"},
                                  list(tags.mac_platforms((14, 0), "arm64"))),
    "Windows x64": ("x86_64-pc-windows-msvc", {}, ["win_amd64"]),
}


def installed(platform: str, env_extra: dict) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([UV, "pip", "install", "--dry-run", "--python-platform", platform, "--python-version",
                            "3.11", "--require-hashes", "--target", tmp, "-r", str(ROOT / "requirements.lock")],
                           capture_output=True, text=True, env={**os.environ, **env_extra}, check=True)
    return {canonicalize_name(m.group(1)): m.group(2)
            for m in re.finditer(r"^ \+ ([A-Za-z0-9_.\-]+)==(\S+)", r.stdout + r.stderr, re.M)}


def file_sizes() -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(name, version) -> [(file name, bytes)] for every file of every pin, from a pylock.toml of the lock."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pylock.toml"
        subprocess.run([UV, "pip", "compile", str(ROOT / "requirements.lock"), "--universal", "--python-version",
                        "3.11", "--format", "pylock.toml", "-q", "-o", str(out)], check=True)
        lock = tomllib.loads(out.read_text())
    files = {}
    for p in lock["packages"]:
        entries = [(w["url"].rsplit("/", 1)[-1], w["size"]) for w in p.get("wheels", [])]
        if "sdist" in p:
            entries.append((p["sdist"]["url"].rsplit("/", 1)[-1], p["sdist"]["size"]))
        files.setdefault((canonicalize_name(p["name"]), p["version"]), []).extend(entries)
    return files


def pick(files: list[tuple[str, int]], rank: dict) -> tuple[str, int]:
    """The wheel uv installs (best-ranked compatible tag), else the source archive."""
    best = None
    for name, size in files:
        if name.endswith(".whl"):
            r = min((rank[t] for t in parse_wheel_filename(name)[3] if t in rank), default=None)
            if r is not None and (best is None or r < best[0]):
                best = (r, name, size)
    if best:
        return best[1], best[2]
    sdist = [(n, s) for n, s in files if not n.endswith(".whl")]
    if not sdist:
        raise SystemExit(f"no compatible file among {[n for n, _ in files]}")
    return sdist[0]


def measure() -> list[dict]:
    sizes = file_sizes()
    rows = []
    for label, (platform, env, plats) in PLATFORMS.items():
        supported = list(tags.cpython_tags((3, 11), platforms=plats)) + list(
            tags.compatible_tags((3, 11), "cp311", plats))
        rank = {t: i for i, t in enumerate(supported)}
        total = cuda = torch = 0
        pins = installed(platform, env)
        for name, version in pins.items():
            _, size = pick(sizes[(name, version)], rank)
            total += size
            cuda += size if name.startswith(CUDA) else 0
            torch += size if name == "torch" else 0
        rows.append(dict(platform=label, packages=len(pins), total=total, cuda=cuda, torch=torch))
    return rows


def lock_digest() -> str:
    """First 12 hex digits of requirements.lock's SHA-256: the test says when this file is older than the lock."""
    return hashlib.sha256((ROOT / "requirements.lock").read_bytes()).hexdigest()[:12]


def markdown(rows: list[dict]) -> str:
    gb = lambda n: f"{n / 1e9:.2f} GB"  # noqa: E731
    lines = ["# What `make setup` downloads, per platform", "",
             f"Measured by `python scripts/download_sizes.py` on {datetime.now(timezone.utc):%Y-%m-%d} from the package "
             "index's file sizes for the wheels uv picks from requirements.lock (Python 3.11). The README's set-up "
             "table is generated from this file.", "",
             f"requirements.lock sha256: {lock_digest()}", "",
             "| platform | packages | download | of which CUDA libraries | torch wheel |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['platform']} | {r['packages']} | {gb(r['total'])} | {gb(r['cuda'])} | {gb(r['torch'])} |"
              for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    OUT.write_text(markdown(measure()))
    print(OUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
