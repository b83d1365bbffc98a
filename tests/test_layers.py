"""seghelpers' layers (DESIGN.md §3): nothing imports upward, no import circle (issue 24).

The contract lives in pyproject.toml ([tool.importlinter]); import-linter checks it statically (imports
inside functions count too). A second check finds any circle, also among modules no layer names yet.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

importlinter = pytest.importorskip(
    "importlinter", reason="import-linter is not installed: `pip install import-linter` (it is in requirements.in; "
    "re-lock with `make lock`) to run the layer check")


def lint(root: Path) -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    return subprocess.run([sys.executable, "-c", code], cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


CIRCLES = """
import json, grimp
graph = grimp.build_graph("seghelpers", cache_dir=None)
found = []
for mod in sorted(graph.modules):
    for dep in graph.find_modules_directly_imported_by(mod):
        back = graph.find_shortest_chain(importer=dep, imported=mod)
        if back and not mod.startswith(dep + ".") and not dep.startswith(mod + "."):
            found.append([mod, *back])
print(json.dumps(found))
"""


def circles(root: Path) -> list:
    """Every import circle in ``root``'s seghelpers (a child process: this one has /work's seghelpers loaded)."""
    import json

    p = subprocess.run([sys.executable, "-c", CIRCLES], cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return [tuple(c) for c in json.loads(p.stdout)]


def test_layers_contract_is_kept():
    p = lint(ROOT)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "1 kept, 0 broken" in p.stdout


def test_no_import_circle():
    assert circles(ROOT) == []


def test_the_check_goes_red_when_a_circle_is_added(tmp_path):
    """A copy of the package where labels imports viz (viz already imports labels): both checks fail."""
    shutil.copytree(ROOT / "seghelpers", tmp_path / "seghelpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    labels = tmp_path / "seghelpers" / "labels.py"
    labels.write_text(labels.read_text() + "\n\ndef _upward():\n    from .viz import legend  # noqa: F401\n")
    p = lint(tmp_path)
    assert p.returncode != 0 and "BROKEN" in p.stdout and "seghelpers.labels -> seghelpers.viz" in p.stdout, p.stdout[-3000:]
    assert any(c[0] == "seghelpers.labels" and c[-1] == "seghelpers.labels" for c in circles(tmp_path))
