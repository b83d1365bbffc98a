#!/usr/bin/env python
"""Generate the kit's notebooks from one jupytext source per stage.

    python notebooks/generate.py            # (re)write notebooks/{en,zh}/*.ipynb
    python notebooks/generate.py --check    # exit 1 if a committed notebook is stale, missing or extra
    python notebooks/generate.py --matrix   # print the README's notebook table (Markdown)

Sources: ``notebooks/src/NN_stage.py`` in jupytext *percent* format. One source holds both
languages and both frameworks; cell tags select where a cell goes:

* markdown cells: exactly one of ``lang-en`` / ``lang-zh``. Every ``lang-en`` cell is immediately
  followed by its ``lang-zh`` twin, which carries the same framework tags.
* ``pt`` / ``tf`` (code or markdown): the cell appears only in the PyTorch / TensorFlow variant;
  untagged cells appear in every variant. A cell may not carry both.
* ``parameters``: the papermill parameters cell; every generated notebook has exactly one.
* ``collapsed`` (markdown cells starting with a heading, e.g. the "Under the hood" appendix): the
  cell gets ``"jp-MarkdownHeadingCollapsed": true`` metadata, so JupyterLab shows that heading's
  section folded; the tag itself is stripped. Both twins carry it or neither does.
* any other tag (``nbval-skip``, ...) is copied into the notebook.
* a code cell whose first line is ``# @title <what it does>`` (the Colab set-up cell) opens with its code
  folded (``cellView: form`` for Colab, ``jupyter.source_hidden`` for JupyterLab); the title stays visible.
* ``{{REPO}}`` and ``{{BRANCH}}`` anywhere in a cell are replaced by the values in
  ``notebooks/config.json`` (the Colab install cell uses them).

A stage with no ``pt``/``tf`` cell is framework-free and yields ``{en,zh}/NN_stage.ipynb``;
otherwise it yields ``{en,zh}/NN_stage_pytorch.ipynb`` and ``{en,zh}/NN_stage_tensorflow.ipynb``.
Each notebook starts with a generated "Open in Colab" badge cell. Output is deterministic
(content-derived cell ids, sorted keys, indent=1, UTF-8 without escapes, trailing newline), so
regenerating unchanged sources is byte-identical.

Library use (README generator, Makefile, tests)::

    gen = <import this file>
    gen.colab_badge("en", "04_train_pytorch")      # Markdown badge
    gen.matrix_markdown()                          # the README table
    gen.check()                                    # [] when committed notebooks are current
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parent
SRC_DIR = NOTEBOOKS_DIR / "src"
CONFIG_PATH = NOTEBOOKS_DIR / "config.json"

LANGS = ("en", "zh")
LANG_TAGS = {"lang-en": "en", "lang-zh": "zh"}
FRAMEWORK_TAGS = {"pt": "pytorch", "tf": "tensorflow"}
FRAMEWORKS = ("pytorch", "tensorflow")
FRAMEWORK_LABELS = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
LANG_LABELS = {"en": "EN", "zh": "中文"}
PARAMETERS_TAG = "parameters"
COLLAPSED_TAG = "collapsed"
#: cell metadata that makes JupyterLab (and Notebook 7) open a heading's section folded
COLLAPSED_METADATA = {"jp-MarkdownHeadingCollapsed": True}
#: a code cell whose first line is ``# @title ...`` (the set-up cell) opens with its code folded: Colab shows
#: the title as a form, JupyterLab / Notebook 7 a "hidden code" bar; one click shows the code
FOLDED_CODE_METADATA = {"cellView": "form", "jupyter": {"source_hidden": True}}
STAGE_GLOB = "[0-9][0-9]_*.py"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_ALT = {"en": "Open In Colab", "zh": "在 Colab 中打开"}
BADGE_CELL_ID = "colab-badge"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}

# tags that look like a typo of the real ones -> hint
_TAG_HINTS = {
    "en": "lang-en", "zh": "lang-zh", "lang-cn": "lang-zh", "lang-zh-cn": "lang-zh",
    "pytorch": "pt", "torch": "pt", "tensorflow": "tf", "keras": "tf",
}
# metadata jupytext adds for round-tripping; meaningless in the generated notebooks
_JUPYTEXT_KEYS = {
    "skipline", "noskipline", "cell_marker", "lines_to_next_cell",
    "lines_to_end_of_cell_marker", "title", "region_name",
}
_CELL_MARKER = re.compile(r"^\s*#\s*%%(?!%)(\s|$)")


class SourceError(ValueError):
    """A stage source breaks the format rules (the message names file, cell and line)."""


@dataclass(frozen=True)
class Variant:
    """One generated notebook: ``stage`` (e.g. ``04_train``), ``framework`` (None = framework-free)
    and ``lang``."""

    stage: str
    framework: str | None
    lang: str

    @property
    def name(self) -> str:
        return self.stage if self.framework is None else f"{self.stage}_{self.framework}"

    @property
    def relpath(self) -> str:
        """Path relative to the notebooks folder, e.g. ``zh/04_train_pytorch.ipynb``."""
        return f"{self.lang}/{self.name}.ipynb"


@dataclass
class SourceCell:
    index: int  # 1-based position in the source
    line: int | None  # 1-based line of its ``# %%`` marker, when known
    cell_type: str
    source: str
    lang: str | None
    framework: str | None
    tags: list  # tags to keep (lang/framework removed)
    metadata: dict  # other metadata to keep

    def where(self, path: Path) -> str:
        line = f" (line {self.line})" if self.line else ""
        return f"{_show(path)}: cell {self.index}{line}"


# ----------------------------------------------------------------------------- config / badges
# GitHub's rules: an owner (user or organisation) has 1-39 letters, digits or single hyphens, not at
# either end; a repository name has letters, digits, ".", "-" or "_" (at most 100), and is not "." or ".."
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def github_repo_problem(repo) -> str | None:
    """Why ``repo`` is not a well-formed GitHub ``owner/name`` (``None`` when it is)."""
    if not isinstance(repo, str) or repo.count("/") != 1:
        return f"expected 'owner/name', got {repo!r}"
    owner, name = repo.split("/")
    if len(owner) > 39 or not _GITHUB_OWNER.fullmatch(owner):
        return (f"owner {owner!r} is not a GitHub account name (1-39 letters, digits or single hyphens, "
                "not at either end)")
    if not _GITHUB_NAME.fullmatch(name) or name in (".", "..") or name.lower().endswith(".git"):
        return f"repository name {name!r} is not valid on GitHub (letters, digits, '.', '-', '_'; no '.git')"
    return None


def load_config(path: str | os.PathLike = CONFIG_PATH) -> dict:
    """``notebooks/config.json``: ``{"repo": "owner/name", "branch": "main"}``, the GitHub repository (and
    branch) the Colab badges open and the notebooks' install cell ``pip install``s the kit from."""
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    repo, branch = config.get("repo"), config.get("branch")
    problem = github_repo_problem(repo)
    if problem:
        raise ValueError(f"{path}: 'repo' must be the GitHub repository 'owner/name': {problem}")
    if not isinstance(branch, str) or not re.fullmatch(r"[A-Za-z0-9._/-]+", branch):
        raise ValueError(f"{path}: 'branch' must be a branch name like 'main' (it ends up in URLs), got {branch!r}")
    return config


def _notebook_name(name: str) -> str:
    return name[: -len(".ipynb")] if name.endswith(".ipynb") else name


def colab_url(lang: str, name: str, config: dict | None = None) -> str:
    """Colab URL of ``notebooks/{lang}/{name}.ipynb`` on GitHub."""
    config = config or load_config()
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return (
        f"https://colab.research.google.com/github/{config['repo']}/blob/{config['branch']}"
        f"/notebooks/{lang}/{_notebook_name(name)}.ipynb"
    )


def colab_badge(lang: str, name: str, config: dict | None = None) -> str:
    """Markdown "Open in Colab" badge for ``notebooks/{lang}/{name}.ipynb``."""
    return f"[![{BADGE_ALT[lang]}]({BADGE_IMAGE})]({colab_url(lang, name, config)})"


# ----------------------------------------------------------------------------- reading sources
def _show(path: Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def stage_files(src_dir: str | os.PathLike = SRC_DIR) -> list[Path]:
    """The stage sources ``NN_*.py`` in ``src_dir``, sorted."""
    return sorted(Path(src_dir).glob(STAGE_GLOB))


def read_source(path: str | os.PathLike) -> list[SourceCell]:
    """Parse and validate one stage source; raises :class:`SourceError` listing every problem."""
    import jupytext

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="py:percent")
    markers = [i + 1 for i, line in enumerate(text.splitlines()) if _CELL_MARKER.match(line)]
    n = len(nb.cells)
    if len(markers) == n:
        lines = markers
    elif len(markers) == n - 1:  # text before the first marker became an implicit first cell
        lines = [None] + markers
    else:
        lines = [None] * n

    errors: list[str] = []
    cells: list[SourceCell] = []
    for i, (cell, line) in enumerate(zip(nb.cells, lines), start=1):
        metadata = {k: copy.deepcopy(v) for k, v in cell.metadata.items() if k not in _JUPYTEXT_KEYS}
        tags = list(metadata.pop("tags", []))
        sc = SourceCell(i, line, cell.cell_type, cell.source.rstrip(), None, None, [], metadata)
        where = sc.where(path)
        langs = [t for t in tags if t in LANG_TAGS]
        fws = [t for t in tags if t in FRAMEWORK_TAGS]
        for t in tags:
            if t.startswith("lang-") and t not in LANG_TAGS:
                errors.append(f"{where}: unknown language tag {t!r} (use lang-en or lang-zh)")
            elif t in _TAG_HINTS:
                errors.append(f"{where}: unknown tag {t!r}; did you mean {_TAG_HINTS[t]!r}?")
        if len(set(fws)) > 1:
            errors.append(f"{where}: tagged both 'pt' and 'tf'; leave both off for a cell shared by the frameworks")
        sc.framework = FRAMEWORK_TAGS[fws[0]] if fws else None
        if cell.cell_type == "markdown":
            if not langs:
                errors.append(f"{where}: markdown cell without a language tag (add lang-en or lang-zh)")
            elif len(set(langs)) > 1:
                errors.append(f"{where}: markdown cell tagged both lang-en and lang-zh")
            else:
                sc.lang = LANG_TAGS[langs[0]]
            if PARAMETERS_TAG in tags:
                errors.append(f"{where}: a markdown cell cannot be the '{PARAMETERS_TAG}' cell")
            if COLLAPSED_TAG in tags and not re.match(r"#{1,6}\s", cell.source.lstrip()):
                errors.append(f"{where}: a '{COLLAPSED_TAG}' cell must start with a Markdown heading "
                              "(JupyterLab folds the section under that heading)")
        elif cell.cell_type == "code":
            if COLLAPSED_TAG in tags:
                errors.append(f"{where}: '{COLLAPSED_TAG}' is for markdown headings; a code cell cannot carry it")
            if langs:
                errors.append(
                    f"{where}: code cell tagged {langs[0]!r}; code is shared by both languages "
                    "(put language-specific text in markdown cells or comments)"
                )
        else:
            errors.append(f"{where}: {cell.cell_type} cells are not supported (use markdown or code)")
        sc.tags = [t for t in tags if t not in LANG_TAGS and t not in FRAMEWORK_TAGS]
        cells.append(sc)

    # pairing: lang-en immediately followed by its lang-zh twin with the same framework tag
    for k, sc in enumerate(cells):
        nxt = cells[k + 1] if k + 1 < len(cells) else None
        prev = cells[k - 1] if k > 0 else None
        if sc.lang == "en":
            if nxt is None or nxt.cell_type != "markdown" or nxt.lang != "zh":
                errors.append(
                    f"{sc.where(path)}: lang-en markdown cell is not immediately followed by its lang-zh twin"
                )
            elif nxt.framework != sc.framework:
                errors.append(
                    f"{nxt.where(path)}: lang-zh cell's framework tag ({_fw_tag(nxt.framework)}) differs from "
                    f"its lang-en twin's ({_fw_tag(sc.framework)}, cell {sc.index})"
                )
            elif (COLLAPSED_TAG in sc.tags) != (COLLAPSED_TAG in nxt.tags):
                errors.append(
                    f"{nxt.where(path)}: only one of the twins (cells {sc.index} and {nxt.index}) is tagged "
                    f"'{COLLAPSED_TAG}'; tag both or neither"
                )
        elif sc.lang == "zh":
            if prev is None or prev.cell_type != "markdown" or prev.lang != "en":
                errors.append(
                    f"{sc.where(path)}: lang-zh markdown cell does not immediately follow a lang-en twin"
                )

    # exactly one parameters cell per generated notebook
    if not errors:
        for framework in stage_frameworks(cells):
            params = [c for c in cells if _in_variant(c, framework) and PARAMETERS_TAG in c.tags]
            if len(params) != 1:
                where_ = ", ".join(f"cell {c.index}" + (f" (line {c.line})" if c.line else "") for c in params)
                label = f"the {framework} notebook" if framework else "the notebook"
                errors.append(
                    f"{_show(path)}: {label} would have {len(params)} cells tagged '{PARAMETERS_TAG}'"
                    + (f" ({where_})" if params else "")
                    + "; exactly one is required"
                )
    if errors:
        raise SourceError("\n".join(errors))
    return cells


def _fw_tag(framework: str | None) -> str:
    return {"pytorch": "pt", "tensorflow": "tf", None: "none"}[framework]


def stage_frameworks(cells: list[SourceCell]) -> tuple:
    """``(None,)`` for a framework-free stage, else ``("pytorch", "tensorflow")``."""
    return FRAMEWORKS if any(c.framework for c in cells) else (None,)


def _in_variant(cell: SourceCell, framework: str | None) -> bool:
    return cell.framework is None or cell.framework == framework


# ----------------------------------------------------------------------------- building notebooks
_SNIPPET_RE = re.compile(r"^\{\{snippet:([\w-]+)\}\}$", re.M)


def _substitute(text: str, config: dict, snippet_dir: Path | None = None, framework: str | None = None,
                lang: str | None = None) -> str:
    """Expand ``{{snippet:NAME}}`` lines (``<src>/_snippets/NAME.py``: code several cells share, written once:
    the fixed top of every notebook, 03's metric-cost cell in both framework variants), then ``{{FW}}`` (the variant's framework), ``{{LANG}}`` (its language, for the
    kit's messages: the one place where EN and ZH code differ) and ``{{REPO}}`` / ``{{BRANCH}}``."""

    def load(m):
        path = (snippet_dir or SRC_DIR / "_snippets") / f"{m.group(1)}.py"
        if not path.exists():
            raise SourceError(f"unknown snippet {m.group(1)!r}: {path} does not exist")
        return path.read_text(encoding="utf-8").rstrip("\n")

    text = _SNIPPET_RE.sub(load, text)
    text = text.replace("{{FW}}", repr({"pytorch": "pt", "tensorflow": "tf"}.get(framework, framework)))
    text = text.replace("{{LANG}}", repr(lang or "en"))
    return text.replace("{{REPO}}", config["repo"]).replace("{{BRANCH}}", config["branch"])


def build_notebook(path: str | os.PathLike, cells: list[SourceCell], variant: Variant, config: dict):
    """The nbformat notebook of one variant of a parsed stage source."""
    import nbformat

    v4 = nbformat.v4
    badge = (
        f"<!-- Generated from notebooks/src/{Path(path).name} by notebooks/generate.py: "
        f"edit the source, not this notebook. -->\n{colab_badge(variant.lang, variant.name, config)}"
    )
    out = [v4.new_markdown_cell(badge, id=BADGE_CELL_ID)]
    seen: dict[str, int] = {}
    for c in cells:
        if not _in_variant(c, variant.framework):
            continue
        if c.cell_type == "markdown" and c.lang != variant.lang:
            continue
        metadata = copy.deepcopy(c.metadata)
        tags = [t for t in c.tags if t != COLLAPSED_TAG]
        if COLLAPSED_TAG in c.tags:
            metadata.update(COLLAPSED_METADATA)
        if tags:
            metadata["tags"] = tags
        source = _substitute(c.source, config, Path(path).parent / "_snippets", variant.framework, variant.lang)
        digest = hashlib.sha1(f"{c.cell_type}\0{source}".encode("utf-8")).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell_id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        if c.cell_type == "code":
            if source.startswith("# @title "):
                metadata.update(copy.deepcopy(FOLDED_CODE_METADATA))
            out.append(v4.new_code_cell(source, id=cell_id, metadata=metadata))
        else:
            out.append(v4.new_markdown_cell(source, id=cell_id, metadata=metadata))
    nb = v4.new_notebook(cells=out)
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": dict(LANGUAGE_INFO),
        "segkit": {"stage": variant.stage, "framework": variant.framework, "lang": variant.lang},
    }
    nbformat.validate(nb)
    return nb


def notebook_text(nb) -> str:
    """Canonical on-disk JSON (Jupyter's own layout: indent=1, sorted keys, UTF-8, final newline)."""
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


def stage_variants(path: str | os.PathLike, cells: list[SourceCell] | None = None) -> list[Variant]:
    """The notebooks one stage source yields (en first, then zh)."""
    cells = read_source(path) if cells is None else cells
    stage = Path(path).stem
    return [Variant(stage, fw, lang) for lang in LANGS for fw in stage_frameworks(cells)]


def variants(src_dir: str | os.PathLike = SRC_DIR) -> list[Variant]:
    """Every notebook the sources in ``src_dir`` yield."""
    return [v for p in stage_files(src_dir) for v in stage_variants(p)]


def render_notebooks(src_dir: str | os.PathLike = SRC_DIR, config: dict | None = None) -> dict[str, str]:
    """``{relpath: json text}`` for every generated notebook, e.g. ``{"en/01_data.ipynb": ...}``.

    Validates every source first; raises :class:`SourceError` with all problems of all files."""
    config = config or load_config()
    parsed, errors = [], []
    for path in stage_files(src_dir):
        try:
            parsed.append((path, read_source(path)))
        except SourceError as e:
            errors.append(str(e))
    if errors:
        raise SourceError("\n".join(errors))
    rendered = {}
    for path, cells in parsed:
        for variant in stage_variants(path, cells):
            rendered[variant.relpath] = notebook_text(build_notebook(path, cells, variant, config))
    return rendered


def _committed(out_dir: Path) -> set[str]:
    return {f"{lang}/{p.name}" for lang in LANGS for p in (out_dir / lang).glob(NOTEBOOK_GLOB)}


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def generate(
    src_dir: str | os.PathLike = SRC_DIR,
    out_dir: str | os.PathLike = NOTEBOOKS_DIR,
    config: dict | None = None,
    prune: bool = True,
) -> list[str]:
    """Write ``out_dir/{en,zh}/*.ipynb``; returns the relpaths written or removed.

    Unchanged files are not rewritten. With ``prune``, ``NN_*.ipynb`` files in ``out_dir/{en,zh}``
    that no source yields any more are deleted."""
    out_dir = Path(out_dir)
    rendered = render_notebooks(src_dir, config)
    changed = []
    for rel, text in sorted(rendered.items()):
        path = out_dir / rel
        if path.exists() and path.read_bytes() == text.encode("utf-8"):
            continue
        _write_atomic(path, text)
        changed.append(rel)
    if prune:
        for rel in sorted(_committed(out_dir) - rendered.keys()):
            (out_dir / rel).unlink()
            changed.append(rel)
    return changed


def check(
    src_dir: str | os.PathLike = SRC_DIR,
    out_dir: str | os.PathLike = NOTEBOOKS_DIR,
    config: dict | None = None,
) -> list[str]:
    """Problems with the committed notebooks (``[]`` when they equal freshly generated ones)."""
    out_dir = Path(out_dir)
    rendered = render_notebooks(src_dir, config)
    problems = []
    for rel, text in sorted(rendered.items()):
        path = out_dir / rel
        if not path.exists():
            problems.append(f"{_show(path)}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{_show(path)}: differs from its source")
    for rel in sorted(_committed(out_dir) - rendered.keys()):
        problems.append(f"{_show(out_dir / rel)}: extra (no source in {_show(Path(src_dir))})")
    return problems


# ----------------------------------------------------------------------------- README matrix
def matrix_markdown(
    src_dir: str | os.PathLike = SRC_DIR, config: dict | None = None, link_prefix: str = "notebooks/"
) -> str:
    """Markdown table: one row per stage; columns PyTorch EN | PyTorch 中文 | TensorFlow EN |
    TensorFlow 中文. A framework-free stage shows its single notebook in both framework columns.
    Links are ``{link_prefix}{lang}/{name}.ipynb`` (relative to the README at the repo root)."""
    config = config or load_config()
    columns = [(fw, lang) for fw in FRAMEWORKS for lang in LANGS]
    header = "| Stage | " + " | ".join(f"{FRAMEWORK_LABELS[fw]} {LANG_LABELS[lang]}" for fw, lang in columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for path in stage_files(src_dir):
        cells = read_source(path)
        free = stage_frameworks(cells) == (None,)
        row = [f"`{path.stem}`"]
        for fw, lang in columns:
            v = Variant(path.stem, None if free else fw, lang)
            row.append(f"[{v.name}]({link_prefix}{v.relpath}) {colab_badge(lang, v.name, config)}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if committed notebooks differ from the sources")
    mode.add_argument("--matrix", action="store_true", help="print the README notebook table (Markdown)")
    parser.add_argument("--src", default=SRC_DIR, type=Path, help="stage sources (default: notebooks/src)")
    parser.add_argument("--out", default=NOTEBOOKS_DIR, type=Path, help="output root holding en/ and zh/")
    parser.add_argument("--config", default=CONFIG_PATH, type=Path, help="config.json with repo and branch")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.matrix:
            sys.stdout.write(matrix_markdown(args.src, config))
            return 0
        if args.check:
            problems = check(args.src, args.out, config)
            if problems:
                print("Notebooks are not up to date with their sources:", file=sys.stderr)
                for p in problems:
                    print(f"  {p}", file=sys.stderr)
                print("Run: python notebooks/generate.py", file=sys.stderr)
                return 1
            print(f"{len(render_notebooks(args.src, config))} notebooks up to date")
            return 0
        changed = generate(args.src, args.out, config)
        for rel in changed:
            print(("removed " if not (args.out / rel).exists() else "wrote ") + _show(args.out / rel))
        print(f"{len(changed)} notebook(s) changed")
        return 0
    except SourceError as e:
        print(f"error in notebook sources:\n{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
