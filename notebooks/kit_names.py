"""Count the kit names a learner meets in each generated notebook (issue 26).

A kit name is an attribute reached through one of the kit's import names, ``sh.``, ``shpt.``, ``shtf.`` or
``viz.`` (``sh.viz.plot_training_curves`` counts once, as ``viz.plot_training_curves``), or a name imported with
``from seghelpers... import name`` (as ``name``; the exercises' own module is not a lesson name), in the notebook's
code cells; the shared set-up and parameter cells, the collapsed "Under the hood" appendix and the arguments of
``sh.show_source(...)`` (shown, not called) are left out.

    python notebooks/kit_names.py            # the working tree's notebooks/en/*.ipynb
    python notebooks/kit_names.py REF        # also the same notebooks at git REF, as "before -> after"
    python notebooks/kit_names.py --names    # list the names per notebook
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT_NAME = re.compile(r"(?<![\w.])(?:sh\.(?=viz\.))?(sh|shpt|shtf|viz)\.([A-Za-z_]\w*)")
FROM_IMPORT = re.compile(r"^from seghelpers(?:\.(?!exercises)[\w.]+)? import ([\w, ]+)", re.M)
#: the set-up and parameter-check cells every notebook shares (notebooks/src/_snippets/), not the lesson
SNIPPET = re.compile(r"seghelpers\.quiet\.apply\(\)|resolve_namespace\(")
APPENDIX = re.compile(r"^#{1,2}\s+(Under the hood|实现细节)", re.M)
#: a ``sh.show_source(...)`` call; group 1: its arguments (shown to the learner, not called)
SHOW_SOURCE = re.compile(r"show_source\(([^)]*)\)")


def kit_names(nb: dict) -> set[str]:
    """Distinct ``prefix.name`` strings in the notebook's code cells before the Under-the-hood appendix."""
    names = set()
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and APPENDIX.search(src):
            break
        if cell["cell_type"] == "code" and not SNIPPET.search(src):
            code = "\n".join(line.split("#", 1)[0] for line in src.splitlines())  # comments do not count
            # what sh.show_source(...) shows is read, not called: its arguments are not names to learn
            code = SHOW_SOURCE.sub("show_source()", code)
            names |= {f"{m.group(1)}.{m.group(2)}" for m in KIT_NAME.finditer(code)}
            names |= {n.split(" as ")[0].strip() for m in FROM_IMPORT.finditer(code) for n in m.group(1).split(",")
                      if n.split(" as ")[0].strip() not in ("pt", "tf", "viz")}  # the module aliases shpt, shtf, viz
    return names


def counts(ref: str | None = None) -> dict[str, set[str]]:
    out = {}
    for path in sorted((ROOT / "notebooks/en").glob("*.ipynb")):
        if ref is None:
            text = path.read_text(encoding="utf-8")
        else:
            rel = path.relative_to(ROOT).as_posix()
            text = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout
        out[path.stem] = kit_names(json.loads(text))
    return out


def main(argv: list[str]) -> None:
    show = "--names" in argv
    refs = [a for a in argv if not a.startswith("--")]
    now = counts()
    before = counts(refs[0]) if refs else None
    for stem, names in now.items():
        line = f"{stem:28} {len(before[stem]):3d} -> {len(names):3d}" if before else f"{stem:28} {len(names):3d}"
        print(line)
        if show:
            print("    " + ", ".join(sorted(names)))
    every = set().union(*now.values())
    if before:
        print(f"{'distinct over all':28} {len(set().union(*before.values())):3d} -> {len(every):3d}")
    else:
        print(f"{'distinct over all':28} {len(every):3d}")


if __name__ == "__main__":
    main(sys.argv[1:])
