#!/usr/bin/env python
"""Render the executed course as a static site: ``make book`` (writes build/book/index.html).

    python book/build.py [--executed build/executed] [--out build/book] [--no-execute] [--jobs 2]

1. Freshness: every ``notebooks/{en,zh}/NN_*.ipynb`` must have an executed twin in ``--executed`` whose
   cells are the same (papermill's injected-parameters cell aside) and that ran without an error. If one
   is missing or stale, the whole collection is executed with the ``smoke`` profile first
   (notebooks/run_all.py); ``--no-execute`` renders what is there instead (stale pages are listed).
2. Sources: one MyST page per stage and language under build/book-src/ (``en/04_train.md``, ...). The
   notebooks' HTML comes from nbconvert (outputs and figures as they were executed, nothing re-run); the
   PyTorch and TensorFlow variants of a stage are the two tabs of one sphinx-design tab set. The landing
   page is the README's notebook matrix. Files are rewritten only when their content changes, so
   Sphinx rebuilds only the pages whose notebook changed.
3. ``sphinx-build -W`` (the theme and its assets come from the pinned wheels: no network).
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = Path(__file__).resolve().parent
NB_DIR = ROOT / "notebooks"
FRAMEWORK_SUFFIXES = ("_pytorch", "_tensorflow")
PAPERMILL_TAG = "injected-parameters"
STAMP_NAME = ".segkit-book.json"

TEXT = {
    "en": {
        "caption": "English",
        "read": "read",
        "download": "Download notebook",
        "download_executed": "with outputs",
        "profile": "Executed with the <code>{profile}</code> profile; outputs and figures as they came out.",
        "stale": "This page shows an older run of the notebook (it changed since): run <code>make book</code>.",
        "hint": "Hint",
        "solution": "Solution",
    },
    "zh": {
        "caption": "中文",
        "read": "阅读",
        "download": "下载笔记本",
        "download_executed": "含输出",
        "profile": "以 <code>{profile}</code> 预设（profile）执行；输出与图表均为运行结果原样。",
        "stale": "本页显示的是该笔记本较早的一次运行结果（笔记本已修改）：请运行 <code>make book</code>。",
        "hint": "提示",
        "solution": "参考答案",
    },
}


def _generator():
    """notebooks/generate.py as a module (colab_url, labels, config)."""
    spec = importlib.util.spec_from_file_location("generate", NB_DIR / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate", mod)
    spec.loader.exec_module(mod)
    return mod


GEN = _generator()


# ----------------------------------------------------------------------------- collection
def stage_of(name: str) -> str:
    for suffix in FRAMEWORK_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def framework_of(name: str) -> str | None:
    for fw in GEN.FRAMEWORKS:
        if name.endswith("_" + fw):
            return fw
    return None


def collection(langs=GEN.LANGS) -> dict[str, dict[str, list[str]]]:
    """{lang: {stage: [notebook names, PyTorch first]}} from notebooks/{en,zh}/."""
    out = {}
    for lang in langs:
        stages: dict[str, list[str]] = {}
        for path in sorted((NB_DIR / lang).glob(GEN.NOTEBOOK_GLOB)):
            stages.setdefault(stage_of(path.stem), []).append(path.stem)
        for names in stages.values():
            names.sort(key=lambda n: GEN.FRAMEWORKS.index(framework_of(n)) if framework_of(n) else -1)
        out[lang] = stages
    if not any(out.values()):
        raise SystemExit(f"no notebooks under {NB_DIR}/{{en,zh}}: run `make notebooks`")
    return out


def _cells(nb: dict) -> list[tuple[str, str]]:
    return [
        (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        for c in nb["cells"]
        if PAPERMILL_TAG not in c.get("metadata", {}).get("tags", [])
    ]


def staleness(executed: Path, langs=GEN.LANGS) -> dict[str, str]:
    """{"en/04_train_pytorch": why} for every notebook whose executed copy is missing, failed or stale."""
    problems = {}
    for lang, stages in collection(langs).items():
        for names in stages.values():
            for name in names:
                key, done = f"{lang}/{name}", executed / lang / f"{name}.ipynb"
                if not done.exists():
                    problems[key] = "not executed"
                    continue
                try:
                    ran = json.loads(done.read_text(encoding="utf-8"))
                except ValueError:
                    problems[key] = "unreadable"
                    continue
                if ran.get("metadata", {}).get("papermill", {}).get("exception"):
                    problems[key] = "its run failed"
                elif _cells(ran) != _cells(json.loads((NB_DIR / lang / f"{name}.ipynb").read_text(encoding="utf-8"))):
                    problems[key] = "the notebook changed since it was executed"
    return problems


# ----------------------------------------------------------------------------- one notebook -> HTML
_MATH_BLOCK = re.compile(r"\$\$(.+?)\$\$", re.S)
_MATH_INLINE = re.compile(r"(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def _mathml(tex: str, display: bool) -> str:
    import latex2mathml.converter

    return latex2mathml.converter.convert(tex.strip(), display="block" if display else "inline")


def markdown_math_to_mathml(text: str) -> str:
    """$$...$$ and $...$ become MathML (Chromium renders it natively: no MathJax download). Code spans
    and fenced code are left alone."""
    keep: list[str] = []

    def hide(m):
        keep.append(m.group(0))
        return f"\x00{len(keep) - 1}\x00"

    text = re.sub(r"^(```|~~~).*?^\1", hide, text, flags=re.S | re.M)
    text = _CODE_SPAN.sub(hide, text)
    text = _MATH_BLOCK.sub(lambda m: "\n\n" + _mathml(m.group(1), True) + "\n\n", text)
    text = _MATH_INLINE.sub(lambda m: _mathml(m.group(1), False), text)
    return re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], text)


@functools.cache
def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input_prompt = False
    return exporter


def _rewrite_links(body: str, lang: str, names: dict[str, str], config: dict) -> str:
    """Links inside a notebook: another notebook -> its book page; other relative paths -> GitHub."""

    def fix(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        if re.match(r"^(#|[a-z][a-z0-9+.-]*:)", url, re.I):
            return m.group(0)
        path, _, frag = url.partition("#")
        target = os.path.normpath(os.path.join("notebooks", lang, path)).replace(os.sep, "/")
        nb = re.fullmatch(r"notebooks/(en|zh)/([0-9][0-9]_\w+)\.ipynb", target)
        if nb and nb.group(2) in names:
            fw = framework_of(nb.group(2))
            new = f"../{nb.group(1)}/{stage_of(nb.group(2))}.html" + (f"?framework={fw}" if fw else "")
        else:
            new = f"https://github.com/{config['repo']}/blob/{config['branch']}/{target}" + (f"#{frag}" if frag else "")
        return f'{attr}="{html.escape(new)}"'

    return re.sub(r'(href|src)="([^"]*)"', fix, body)


CHECK_CELL = re.compile(r"^ex\.(\w+)\.check\(", re.M)


def exercise_dropdowns(name: str, source: str, lang: str) -> str | None:
    """The collapsed hint and solution (HTML ``<details>``) for an exercise's check cell ``source`` in notebook
    ``name``, in ``lang``; None for any other cell. Texts come from ``seghelpers.exercises`` (one source with the
    notebooks' ``hint()`` / ``solution()``)."""
    m = CHECK_CELL.search(source)
    if not m:
        return None
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import importlib

    try:
        ex = getattr(importlib.import_module(f"seghelpers.exercises.stage{name[:2]}"), m.group(1))
    except (ImportError, AttributeError):
        return None
    zh = lang == "zh"

    def text(t: str) -> str:
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(t, quote=False))

    t = TEXT[lang]
    code = html.escape(ex.solution_code, quote=False).replace("\n", "&#10;")  # one line: a Markdown HTML block
    return (f'<details class="exercise-dropdown exercise-hint"><summary>{t["hint"]}</summary>'
            f"<p>{text(ex._hint[1 if zh else 0])}</p></details>"
            f'<details class="exercise-dropdown exercise-solution"><summary>{t["solution"]}</summary>'
            f'<pre><code class="language-python">{code}</code></pre>'
            f"<p>{text(ex._why_zh if zh else ex._why_en)}</p></details>")


def notebook_html(path: Path, lang: str, names: dict[str, str], config: dict, prefix: str) -> tuple[str, str]:
    """(HTML of the executed notebook, papermill profile). Ids get ``prefix`` (two tabs share a page)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    profile = str(nb.metadata.get("papermill", {}).get("parameters", {}).get("profile", "?"))
    cells = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("id") == GEN.BADGE_CELL_ID or PAPERMILL_TAG in tags:
            continue  # the page shows its own badge bar; papermill's cell holds this machine's paths
        if cell.cell_type == "markdown":
            cell.source = markdown_math_to_mathml(cell.source)
        cells.append(cell)
        dropdowns = exercise_dropdowns(path.stem, cell.source, lang) if cell.cell_type == "code" else None
        if dropdowns:  # hint and solution under the check cell, folded
            cells.append(nbformat.v4.new_markdown_cell(dropdowns, id=f"{cell.get('id', 'cell')}-answers"))
    nb.cells = cells
    body, _ = _exporter().from_notebook_node(nb)
    # the page title is <h1>: a notebook's own headings go one level down
    body = re.sub(r"<(/?)h([1-5])\b", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", body)
    # nbconvert percent-encodes heading ids; keep them readable (the links percent-encode them)
    def plain(v):
        return urllib.parse.unquote(html.unescape(v))

    body = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}{html.escape(plain(m.group(1)))}"', body)
    body = re.sub(r'href="#([^"]*)"', lambda m: f'href="#{prefix}{urllib.parse.quote(plain(m.group(1)))}"', body)
    body = _rewrite_links(body, lang, names, config)
    return f'<div class="nb">\n{body}\n</div>\n', profile


def _h1(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1)
    return path.stem


def stage_title(paths: list[Path]) -> str:
    """One title for a stage's variants: the notebooks' H1s without "(PyTorch)" etc.; where they still
    differ, the differing middle parts are joined with " / "."""
    titles = [re.sub(r"\s*[(（](PyTorch|TensorFlow)[)）]\s*$", "", _h1(p)) for p in paths]
    if len(set(titles)) == 1:
        return titles[0]
    words = [t.split(" ") for t in titles]
    head = 0
    while all(len(w) > head for w in words) and len({w[head] for w in words}) == 1:
        head += 1
    tail = 0
    while all(len(w) > head + tail for w in words) and len({w[-1 - tail] for w in words}) == 1:
        tail += 1
    mids = [" ".join(w[head: len(w) - tail]) for w in words]
    return " ".join([*words[0][:head], " / ".join(mids), *words[0][len(words[0]) - tail:]]).strip()


# ----------------------------------------------------------------------------- pages
def _write(path: Path, text: str | bytes) -> None:
    """Write only when the content changed (keeps mtimes, so Sphinx rebuilds only what changed)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _bar(lang: str, name: str, profile: str, stale: bool, config: dict) -> str:
    t = TEXT[lang]
    colab = html.escape(GEN.colab_url(lang, name, config))
    parts = [
        f'<a class="nb-colab" href="{colab}"><img src="../_static/colab-badge.svg" width="117" height="20" '
        f'alt="{html.escape(GEN.BADGE_ALT[lang])}"></a>',
        f'<span class="nb-download"><a href="../notebooks/{lang}/{name}.ipynb" download>{t["download"]} '
        f"<code>{name}.ipynb</code></a> (<a href=\"../executed/{lang}/{name}.ipynb\" download>"
        f'{t["download_executed"]}</a>)</span>',
        f'<span class="nb-profile">{t["profile"].format(profile=html.escape(profile))}</span>',
    ]
    if stale:
        parts.append(f'<span class="nb-stale">{t["stale"]}</span>')
    return '<div class="nb-bar">' + "".join(parts) + "</div>\n"


def _fence(directive: str, body: str, options: dict | None = None, colons: int = 3, argument: str = "") -> str:
    opts = "".join(f":{k}: {v}\n" for k, v in (options or {}).items())
    head = f"{':' * colons}{{{directive}}}" + (f" {argument}" if argument else "")
    return f"{head}\n{opts}\n{body.rstrip()}\n{':' * colons}\n"


def _raw_file(rel: str) -> str:
    return f"```{{raw}} html\n:file: {rel}\n```\n"


def stage_page(lang: str, stage: str, names: list[str], executed: Path, src: Path, stale: dict, config: dict,
               all_names: dict[str, str]) -> tuple[str, str]:
    title = stage_title([NB_DIR / lang / f"{n}.ipynb" for n in names])
    blocks = []
    for name in names:
        fw = framework_of(name)
        rel = f"_html/{lang}/{name}.html"
        # nbconvert is the slow part: redo a notebook's HTML only when its input or this script changed
        key = hashlib.sha256(b"\0".join([
            (executed / lang / f"{name}.ipynb").read_bytes(), Path(__file__).read_bytes(),
            json.dumps([sorted(all_names), config, f"{lang}/{name}" in stale]).encode(),
        ])).hexdigest()
        stamp = src / f"{rel}.key"
        if not ((src / rel).exists() and stamp.exists() and stamp.read_text() == key):
            body, profile = notebook_html(executed / lang / f"{name}.ipynb", lang, all_names, config,
                                          prefix=f"{fw or 'nb'}-")
            _write(src / rel, _bar(lang, name, profile, f"{lang}/{name}" in stale, config) + body)
            _write(stamp, key)
        blocks.append((fw, _raw_file(f"../{rel}")))
    if len(blocks) == 1:
        content = blocks[0][1]
    else:
        items = "\n".join(_fence("tab-item", raw, {"sync": fw}, argument=GEN.FRAMEWORK_LABELS[fw]) for fw, raw in blocks)
        content = _fence("tab-set", items, {"sync-group": "framework", "class": "framework-tabs"}, colons=4)
    return title, f"# {title}\n\n{content}"


def index_page(stages_by_lang: dict, titles: dict, config: dict) -> str:
    columns = [(fw, lang) for fw in GEN.FRAMEWORKS for lang in GEN.LANGS]
    head = "| Stage | " + " | ".join(f"{GEN.FRAMEWORK_LABELS[fw]} {GEN.LANG_LABELS[lang]}" for fw, lang in columns)
    head += " |"
    rows = [head, "|" + "---|" * (len(columns) + 1)]
    first = next(iter(stages_by_lang))
    for stage in stages_by_lang[first]:
        row = [f"`{stage}`<br><small>{html.escape(titles.get((first, stage), ''))}</small>"]
        for fw, lang in columns:
            names = stages_by_lang.get(lang, {}).get(stage, [])
            name = next((n for n in names if framework_of(n) in (fw, None)), None)
            if name is None:
                row.append("")
                continue
            query = f"?framework={fw}" if framework_of(name) else ""
            colab = html.escape(GEN.colab_url(lang, name, config))
            row.append(
                f'<a href="{lang}/{stage}.html{query}" title="{name}">{TEXT[lang]["read"]}</a> '
                f'<a href="{colab}"><img src="_static/colab-badge.svg" width="117" height="20" '
                f'alt="{html.escape(GEN.BADGE_ALT[lang])}"></a>'
            )
        rows.append("| " + " | ".join(row) + " |")
    toctrees = "\n".join(
        f"```{{toctree}}\n:caption: {TEXT[lang]['caption']}\n:hidden:\n\n"
        + "\n".join(f"{lang}/{stage}" for stage in stages)
        + "\n```\n"
        for lang, stages in stages_by_lang.items()
    )
    repo = f"https://github.com/{config['repo']}"
    return f"""# The SegFormer course, executed · 执行过的课程

Every notebook of the kit as it ran with the `smoke` profile: all outputs, plots, curves and
overlays, in English and 中文, with PyTorch and TensorFlow as two tabs of one page (the
switch remembers your choice). Open a notebook in Colab to run it, or download it.
Source: [{config['repo']}]({repo}). Teaching a room? The instructor's pack:
[INSTRUCTOR.md]({repo}/blob/{config['branch']}/notebooks/INSTRUCTOR.md).

本书收录套件全部笔记本以 `smoke` 预设（profile）执行后的结果：每个输出、每张图、训练曲线与叠加图都在。每页都可在 EN 与中文之间切换，PyTorch 与 TensorFlow 是同一页上的两个标签页。想自己运行，请点 Colab 徽章或下载笔记本。讲师手册：[INSTRUCTOR.zh-CN.md]({repo}/blob/{config['branch']}/notebooks/INSTRUCTOR.zh-CN.md)。

```{{rst-class}} matrix
```

{chr(10).join(rows)}

{toctrees}"""


# ----------------------------------------------------------------------------- build
def execute(executed: Path, jobs: int, langs) -> None:
    cmd = [sys.executable, str(NB_DIR / "run_all.py"), "--profile", "smoke", "--out", str(executed),
           "--jobs", str(jobs), "--langs", *langs]
    print(">> executing the notebooks (smoke profile): " + " ".join(cmd), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        raise SystemExit("notebook execution failed (see above); the book was not built")


def fingerprint(executed: Path, langs=GEN.LANGS) -> str:
    h = hashlib.sha256()
    for lang, stages in collection(langs).items():
        for names in stages.values():
            for name in names:
                p = executed / lang / f"{name}.ipynb"
                h.update(f"{lang}/{name}\0".encode())
                h.update(p.read_bytes() if p.exists() else b"missing")
    return h.hexdigest()


def build(executed: Path, out: Path, src: Path, allow_execute: bool, jobs: int, langs=GEN.LANGS) -> int:
    t0 = time.monotonic()
    config = GEN.load_config()
    langs = [lang for lang in GEN.LANGS if lang in langs]
    stale = staleness(executed, langs)
    if stale and allow_execute:
        print(f">> {len(stale)} executed notebook(s) missing or stale, e.g. {next(iter(stale.items()))}", flush=True)
        execute(executed, jobs, langs)
        stale = staleness(executed, langs)
        if stale:
            raise SystemExit(f"still stale after executing: {stale}")
    missing = {k: v for k, v in stale.items() if v == "not executed"}
    if missing:
        raise SystemExit(f"no executed copy of {', '.join(sorted(missing))} in {executed} (run without --no-execute)")
    for key, why in stale.items():
        print(f"   warning: {key}: {why} (rendering the older run)", file=sys.stderr)
    t_exec = time.monotonic()

    stages_by_lang = collection(langs)
    all_names = {n: lang for lang, st in stages_by_lang.items() for names in st.values() for n in names}
    # configuration, templates and static files next to the generated pages
    for item in ("conf.py", "_static", "_templates"):
        s, d = BOOK_DIR / item, src / item
        if s.is_dir():
            for f in s.rglob("*"):
                if f.is_file():
                    _write(d / f.relative_to(s), f.read_bytes())
        else:
            _write(d, s.read_bytes())
    meta = {"repo": config["repo"], "branch": config["branch"], "langs": langs}
    _write(src / "book.json", json.dumps(meta, indent=1) + "\n")
    titles, pages = {}, {"index.md"}
    for lang, stages in stages_by_lang.items():
        for stage, names in stages.items():
            title, text = stage_page(lang, stage, names, executed, src, stale, config, all_names)
            titles[(lang, stage)] = title
            _write(src / lang / f"{stage}.md", text)
            pages.add(f"{lang}/{stage}.md")
            for name in names:  # downloads: the clean notebook and the executed one
                for kind, folder in (("notebooks", NB_DIR), ("executed", executed)):
                    _write(src / "_extra" / kind / lang / f"{name}.ipynb", (folder / lang / f"{name}.ipynb").read_bytes())
    _write(src / "index.md", index_page(stages_by_lang, titles, config))
    # drop pages of notebooks that no longer exist
    for md in src.rglob("*.md"):
        if md.relative_to(src).as_posix() not in pages:
            md.unlink()
    t_src = time.monotonic()

    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", str(src), str(out)]
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        return 1
    for page in out.glob("[a-z][a-z]/*.html"):  # pages of notebooks (or a language) no longer built
        if page.relative_to(out).with_suffix(".md").as_posix() not in pages:
            page.unlink()
    # the 中文 pages: lang="zh-CN" (CJK font choice, screen readers)
    for page in (out / "zh").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = re.sub(r'<html lang="[^"]*"', '<html lang="zh-CN"', text, count=1)
        if new != text:
            page.write_text(new, encoding="utf-8")
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static/ as it is
    (out / STAMP_NAME).write_text(json.dumps({"executed": fingerprint(executed, langs), "langs": langs,
                                              "stale": sorted(stale)}) + "\n")
    t_end = time.monotonic()
    print(f">> book: {out / 'index.html'}  (execute {t_exec - t0:.0f} s, pages {t_src - t_exec:.0f} s, "
          f"sphinx {t_end - t_src:.0f} s)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--executed", default=ROOT / "build" / "executed", type=Path)
    ap.add_argument("--out", default=ROOT / "build" / "book", type=Path)
    ap.add_argument("--src", default=ROOT / "build" / "book-src", type=Path, help="generated Sphinx sources")
    ap.add_argument("--no-execute", action="store_true", help="render what --executed holds, even if stale")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--langs", nargs="+", default=list(GEN.LANGS), choices=GEN.LANGS)
    args = ap.parse_args(argv)
    return build(args.executed.resolve(), args.out.resolve(), args.src.resolve(), not args.no_execute, args.jobs,
                 args.langs)


if __name__ == "__main__":
    sys.exit(main())
