import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_generated_blocks_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "notebooks" / "update_readme.py"), "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_readme_documents_the_two_commands_and_profiles():
    for name in ("README.md", "README.zh-CN.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for needle in ("make run", "make test", "make prefetch", "HF_HUB_OFFLINE", "smoke", "guide", "full",
                       "4.57.6", "torchrun", "<!-- matrix:start -->"):
            assert needle in text, f"{name} lacks {needle!r}"


def test_readme_links_every_notebook():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for nb in sorted((ROOT / "notebooks").glob("*/[0-9][0-9]_*.ipynb")):
        rel = nb.relative_to(ROOT).as_posix()
        assert f"({rel})" in text, rel


def test_scaling_up_memory_figures_come_from_the_benchmark_results():
    """The memory per GPU quoted in "Scaling up" must be what benchmarks/RESULTS.md (row 7) measured."""
    import re

    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    rows = [line for line in results.splitlines() if line.startswith("| 7. (informative) training step tensor memory")]
    assert rows, "benchmarks/RESULTS.md has no row 7 (run `make bench`)"
    figure = r"(?<![\d.])(?:\d+\.\d\d GiB|\d+ MiB)"
    measured = {m for line in rows for m in re.findall(figure, line)}
    for name in ("README.md", "README.zh-CN.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        section = text[text.index("## Scaling up" if name == "README.md" else "## 扩展到更大规模"):]
        section = section[:section.index("\n## ", 1)]
        quoted = set(re.findall(figure, section))
        assert quoted and quoted <= measured, f"{name}: {sorted(quoted - measured)} not in RESULTS.md row 7"
