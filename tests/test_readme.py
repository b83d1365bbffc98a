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
