"""Export a generated notebook as a plain Python script (same code, not a copy to maintain).

    python notebooks/export_script.py notebooks/en/04_train_pytorch.ipynb build/scripts/04_train_pytorch.py

Right after the ``parameters`` cell it inserts ``seghelpers.params.apply_cli(globals())``, so the script
takes the notebook's parameters as ``--name value`` (papermill's ``-p`` for scripts). IPython-only
lines (``%``/``!``) are not allowed in the kit's notebooks, so the code runs under plain Python,
``torchrun`` and ``accelerate launch``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

CLI_HOOK = "import seghelpers.params\n\nseghelpers.params.apply_cli(globals())  # --name value overrides"


def notebook_to_script(nb_path: Path) -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    parts = [f"# Exported from {Path(nb_path).as_posix()} by notebooks/export_script.py; edit the source instead.\n"
             "# ruff: noqa\n"]
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if any(line.lstrip().startswith(("%", "!")) for line in src.splitlines()):
            raise ValueError(f"{nb_path}: IPython magic in a code cell cannot run as a script:\n{src}")
        parts.append(src)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            parts.append(CLI_HOOK)
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = Path(argv[0]), Path(argv[1])
    text = notebook_to_script(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, suffix=".py.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, dst)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
