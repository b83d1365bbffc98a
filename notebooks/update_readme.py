"""Fill the generated blocks of README.md and README.zh-CN.md (run by `make notebooks` and `make bench`).

Blocks: ``<!-- matrix:start -->`` ... ``<!-- matrix:end -->`` (the notebook matrix with Colab badges,
from notebooks/generate.py) and ``<!-- bench:start -->`` ... ``<!-- bench:end -->`` (the table of
benchmarks/RESULTS.md). ``--check`` exits 1 if a README is stale.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md", ROOT / "README.zh-CN.md"]


def _generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "notebooks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = mod  # dataclasses look their module up while the file executes
    spec.loader.exec_module(mod)
    return mod


def bench_block() -> str | None:
    results = ROOT / "benchmarks" / "RESULTS.md"
    if not results.exists():
        return None
    text = results.read_text(encoding="utf-8").strip()
    text = re.sub(r"^# .*\n+", "", text)  # drop the file's own title
    return text + "\n\nReproduce with `make bench` (writes `benchmarks/RESULTS.md`; `make bench BENCH_ARGS=--quick` for a short run)."


def fill(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = fill(text, "matrix", _generator().matrix_markdown())
    bench = bench_block()
    if bench:
        text = fill(text, "bench", bench)
    return text


def main(argv=None) -> int:
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for path in READMES:
        if not path.exists():
            continue
        new = render(path)
        if new != path.read_text(encoding="utf-8"):
            stale.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print("stale generated blocks in " + ", ".join(stale) + ": run `make notebooks`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
