"""Notebook hygiene: generated notebooks match their sources and follow the kit's rules.

Two groups (no kernel is started; the whole file runs in seconds):

* checks on the real repo (``notebooks/{en,zh}/*.ipynb`` generated from ``notebooks/src/*.py``):
  up to date, no outputs, identical code in EN/ZH, complete set of stages, one ``parameters`` cell
  up front, Chinese prose in ZH cells, ``notebooks/TERMINOLOGY.md`` followed, exercises at the end;
* unit tests of ``notebooks/generate.py`` and of the checks themselves on the fixture sources in
  ``tests/fixtures/nb_src`` (so every check is shown to pass on good input and fail on bad input).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "src"
TERMINOLOGY_MD = NB_DIR / "TERMINOLOGY.md"
FIXTURE_SRC = Path(__file__).resolve().parent / "fixtures" / "nb_src"

# the complete kit: every name must exist in notebooks/en and notebooks/zh
EXPECTED_NOTEBOOKS = (
    "01_data",
    "02_preprocess_pytorch",
    "02_preprocess_tensorflow",
    "03_metrics_pytorch",
    "03_metrics_tensorflow",
    "04_train_pytorch",
    "04_train_tensorflow",
    "05_inference_pytorch",
    "05_inference_tensorflow",
)
EXPECTED_STAGES = 5
MIN_CJK_SHARE = 0.20  # of the letters of a ZH markdown cell (code, URLs and LaTeX ignored)
MAX_CJK_SHARE_EN = 0.50  # an EN cell this Chinese is probably mis-tagged
TEST_CONFIG = {"repo": "octo-org/kit-under-test", "branch": "dev"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("segkit_notebooks_generate", NB_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


# ============================================================================ the checks
def load_nb(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _src(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _tags(cell: dict) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_badge(cell: dict) -> bool:
    return cell.get("id") == gen.BADGE_CELL_ID


_STRIP = [
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M),  # fenced code
    re.compile(r"(`+)(?!`).+?(?<!`)\1", re.S),  # inline code
    re.compile(r"\$\$.+?\$\$", re.S),  # display math
    re.compile(r"\\\[.+?\\\]", re.S),
    re.compile(r"\\\(.+?\\\)", re.S),
    re.compile(r"(?<![\\$])\$[^$\n]+?\$"),  # inline math
    re.compile(r"\]\([^)]*\)"),  # link / image targets
    re.compile(r"https?://\S+"),  # bare URLs
    re.compile(r"<[^>\n]+>"),  # HTML tags
]


def prose(text: str) -> str:
    """Markdown text without code, LaTeX, URLs, link targets and HTML."""
    for pattern in _STRIP:
        text = pattern.sub(lambda m: "]" if m.group(0).startswith("](") else " ", text)
    return text


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or 0xF900 <= o <= 0xFAFF


def cjk_share(text: str) -> float | None:
    """Share of CJK ideographs among the letters of ``prose(text)``; None when it has no letters."""
    letters = [ch for ch in prose(text) if ch.isalpha()]
    if not letters:
        return None
    return sum(_is_cjk(ch) for ch in letters) / len(letters)


@dataclass(frozen=True)
class Term:
    english: tuple  # alternatives
    chinese: tuple  # accepted forms (usage hints in （…） removed)
    avoid: tuple


def parse_terminology(path: Path = TERMINOLOGY_MD) -> list[Term]:
    """Rows of the ``| English | 中文 | 不要用 (avoid) | note |`` table."""
    terms, in_table = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if cols[0] == "English":
            in_table = True
            assert cols[1] == "中文" and cols[2].startswith("不要用"), f"unexpected header: {line}"
            continue
        if not in_table or set(cols[0]) <= set("-: "):
            continue
        assert len(cols) == 4, f"TERMINOLOGY.md: row needs 4 columns: {line}"
        english = tuple(a.strip() for a in cols[0].split(" / ") if a.strip())
        chinese = tuple(
            a for a in (re.sub(r"（[^）]*）", "", c).strip() for c in cols[1].split(" / ")) if a
        )
        avoid = tuple(a.strip() for a in re.split(r"、", cols[2]) if a.strip() and a.strip() not in "—-")
        terms.append(Term(english, chinese, avoid))
    return terms


def _english_regex(term: str) -> str:
    body = r"\s+".join(re.escape(w) for w in term.split())
    forms = [body + r"(?:s|es|d|ed|ing)?"]
    if term.endswith("e"):
        forms.append(body[:-1] + r"(?:ing|ed|es)")
    return r"(?<!\w)(?:" + "|".join(forms) + r")(?!\w)"


def mentioned_terms(en_text: str, terms: list[Term]) -> set[int]:
    """Indices of the terms an English text mentions; longest match wins ("mean IoU" is not "IoU")."""
    text = prose(en_text)
    alts = sorted(((len(a), i, a) for i, t in enumerate(terms) for a in t.english), reverse=True)
    found = set()
    for _, i, alt in alts:
        def mask(m, i=i):
            found.add(i)
            return "\0" * len(m.group(0))

        text = re.sub(_english_regex(alt), mask, text, flags=re.I)
    return found


#: a quotation in Chinese prose: “…” or 「…」 on one line (the guide's words, quoted verbatim)
QUOTATION = re.compile(r"“[^”\n]*”|「[^」\n]*」")


def unquoted(zh_text: str) -> str:
    """Chinese prose without its quotations: avoided terms may appear where the guide is quoted."""
    return QUOTATION.sub(" ", zh_text)


def terminology_problems(en_text: str, zh_text: str, terms: list[Term]) -> list[str]:
    problems = []
    zh_all = re.sub(r"\]\([^)]*\)|https?://\S+|<!--.*?-->", " ", zh_text, flags=re.S).lower()
    for i in sorted(mentioned_terms(en_text, terms)):
        t = terms[i]
        if not any(form.lower() in zh_all for form in t.chinese):
            problems.append(f"EN mentions {t.english[0]!r} but ZH lacks {' / '.join(t.chinese)!r}")
    zh_prose = unquoted(prose(zh_text))  # the guide's own words may be quoted verbatim
    for t in terms:
        for bad in t.avoid:
            if bad in zh_prose:
                problems.append(f"ZH uses {bad!r}; write {t.chinese[0]!r} (for {t.english[0]!r})")
    return problems


# per-notebook checks: each returns a list of problems ([] = fine)
def output_problems(nb: dict) -> list[str]:
    out = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            if c.get("outputs"):
                out.append(f"cell {i}: has outputs")
            if c.get("execution_count") is not None:
                out.append(f"cell {i}: execution_count {c['execution_count']}")
    return out


#: the one line where EN and ZH code may differ: the language of the kit's messages (generate.py's {{LANG}})
LANG_LINE = re.compile(r"set_language\('(en|zh)'\)")


def code_cell_problems(en: dict, zh: dict) -> list[str]:
    def code(nb):
        return [(LANG_LINE.sub("set_language(LANG)", _src(c)), _tags(c)) for c in nb["cells"] if c["cell_type"] == "code"]

    a, b = code(en), code(zh)
    if len(a) != len(b):
        return [f"EN has {len(a)} code cells, ZH has {len(b)}"]
    return [f"code cell {k}: EN and ZH differ" for k, (x, y) in enumerate(zip(a, b)) if x != y]


def parameters_problems(nb: dict) -> list[str]:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    hits = [k for k, c in enumerate(code) if "parameters" in _tags(c)]
    if len(hits) != 1:
        return [f"{len(hits)} code cells tagged 'parameters' (need exactly 1)"]
    if hits[0] > 1:
        return [f"the 'parameters' cell is code cell {hits[0] + 1}; it must be among the first two"]
    return []


def zh_prose_problems(en: dict, zh: dict) -> list[str]:
    if [c["cell_type"] for c in en["cells"]] != [c["cell_type"] for c in zh["cells"]]:
        return ["EN and ZH notebooks do not have the same cell layout"]
    out = []
    for i, (e, z) in enumerate(zip(en["cells"], zh["cells"])):
        if z["cell_type"] != "markdown" or _is_badge(z):
            continue
        share = cjk_share(_src(z))
        if share is None:  # nothing but code / formulas
            continue
        if share < MIN_CJK_SHARE:
            out.append(f"cell {i}: only {share:.0%} of the ZH letters are Chinese: {_src(z)[:60]!r}")
        if prose(_src(z)).split() == prose(_src(e)).split():
            out.append(f"cell {i}: ZH text is the same as the EN text")
        en_share = cjk_share(_src(e))
        if en_share is not None and en_share > MAX_CJK_SHARE_EN:
            out.append(f"cell {i}: EN cell is {en_share:.0%} Chinese (mis-tagged?)")
    return out


def zh_terminology_problems(en: dict, zh: dict, terms: list[Term]) -> list[str]:
    out = []
    for i, (e, z) in enumerate(zip(en["cells"], zh["cells"])):
        if z["cell_type"] == "markdown" and not _is_badge(z):
            out += [f"cell {i}: {p}" for p in terminology_problems(_src(e), _src(z), terms)]
    return out


#: the closing sections every notebook has, in this order (level-2 headings, exact text)
SUMMARY_HEADING = {"en": "## Summary", "zh": "## 小结"}
EXERCISES_HEADING = {"en": "## Exercises", "zh": "## 练习"}
APPENDIX_HEADING = {"en": "## Under the hood", "zh": "## 实现细节（Under the hood）"}
COLLAPSED_KEY = "jp-MarkdownHeadingCollapsed"


def _fenced_free_lines(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    out, fence = [], None
    for line in text.splitlines():
        m = re.match(r"\s*(```|~~~)", line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence is None:
            out.append(line)
    return out


def top_headings(nb: dict) -> list[tuple[int, str]]:
    """``(cell index, heading line)`` of every level-1/2 Markdown heading, in order."""
    found = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "markdown" and not _is_badge(c):
            found += [(i, ln.rstrip()) for ln in _fenced_free_lines(_src(c)) if re.match(r"#{1,2}\s", ln)]
    return found


def exercises_problems(nb: dict, lang: str) -> list[str]:
    """The notebook ends with ``## Summary`` then ``## Exercises`` (d2l's 小结 + 练习), optionally
    followed by one collapsed ``## Under the hood`` appendix and nothing else at that level."""
    summary, exercises, appendix = SUMMARY_HEADING[lang], EXERCISES_HEADING[lang], APPENDIX_HEADING[lang]
    heads = top_headings(nb)
    texts = [h for _, h in heads]
    ending = texts[-3:] if texts[-1:] == [appendix] else texts[-2:]
    wanted = [summary, exercises] + ([appendix] if texts[-1:] == [appendix] else [])
    problems = []
    if ending != wanted:
        problems.append(f"the notebook must end with the sections {wanted} (level-2 headings, that text); "
                        f"its last ones are {texts[-3:]}")
    for heading in (summary, exercises, appendix):
        if texts.count(heading) > 1:
            problems.append(f"{heading!r} appears {texts.count(heading)} times")
    if texts[-1:] == [appendix]:
        cell = nb["cells"][heads[-1][0]]
        if not cell.get("metadata", {}).get(COLLAPSED_KEY):
            problems.append(f"cell {heads[-1][0]}: the appendix is not collapsed (tag its source cell 'collapsed')")
    return problems


def _exercise_cells(nb: dict, lang: str) -> list[tuple[int, dict]]:
    heads = top_headings(nb)
    starts = [i for i, h in heads if h == EXERCISES_HEADING[lang]]
    if not starts:
        return []
    later = [i for i, _ in heads if i > starts[-1]]
    end = later[0] if later else len(nb["cells"])
    return [(i, nb["cells"][i]) for i in range(starts[-1], end)]


_PAPERMILL_SYNTAX = re.compile(r"papermill|(?<!\S)-p\s+\w", re.I)


def exercise_text_problems(nb: dict, lang: str) -> list[str]:
    """Exercises are done in Jupyter/Colab: set a value in the parameters cell, not ``papermill -p``."""
    out = []
    for i, c in _exercise_cells(nb, lang):
        m = _PAPERMILL_SYNTAX.search(_src(c))
        if m:
            out.append(f"cell {i}: exercise text uses {m.group(0)!r}; say which value to set in the parameters cell")
    return out


def cjk_soft_breaks(text: str) -> list[str]:
    """Places where a Markdown soft line break falls between two CJK characters (it renders as a
    stray space). Fenced code is ignored; block-quote markers and list indentation are looked through."""
    out = []
    lines = _fenced_free_lines(text)
    for a, b in zip(lines, lines[1:]):
        a_body = re.sub(r"^(\s*>)+\s?", "", a)
        b_body = re.sub(r"^(\s*>)+\s?", "", b).lstrip()
        if a.endswith(("  ", "\\")) or not a_body.strip() or not b_body:
            continue  # hard break, or a paragraph break
        if _is_cjk(a_body.rstrip()[-1]) and _is_cjk(b_body[0]):
            out.append(f"…{a_body.rstrip()[-12:]}⏎{b_body[:12]}…")
    return out


def zh_line_break_problems(zh: dict) -> list[str]:
    out = []
    for i, c in enumerate(zh["cells"]):
        if c["cell_type"] == "markdown" and not _is_badge(c):
            out += [f"cell {i}: line break between two Chinese characters: {x}" for x in cjk_soft_breaks(_src(c))]
    return out


# ============================================================================ real repo
def _committed(lang: str) -> list[str]:
    return sorted(p.stem for p in (NB_DIR / lang).glob(gen.NOTEBOOK_GLOB))


COMMITTED = {lang: _committed(lang) for lang in gen.LANGS}
NAMES = sorted(set(COMMITTED["en"]) | set(COMMITTED["zh"]))
PAIRS = sorted(set(COMMITTED["en"]) & set(COMMITTED["zh"]))
FILES = [(lang, n) for lang in gen.LANGS for n in COMMITTED[lang]]
N_STAGES = len(gen.stage_files(SRC_DIR))
_NO_NOTEBOOKS = "no committed notebooks yet (notebooks/src is still being written)"


def _params(items, ids=None):
    if items:
        return pytest.mark.parametrize("item", items, ids=ids or [str(x) for x in items])
    return pytest.mark.parametrize("item", [pytest.param(None, marks=pytest.mark.skip(reason=_NO_NOTEBOOKS))])


def _file_ids(files):
    return [f"{lang}/{n}" for lang, n in files]


@pytest.fixture(scope="module")
def terms():
    return parse_terminology()


def test_committed_notebooks_match_sources():
    problems = gen.check(SRC_DIR, NB_DIR)
    assert not problems, "run `python notebooks/generate.py`:\n" + "\n".join(problems)


def test_every_notebook_exists_in_both_languages():
    assert COMMITTED["en"] == COMMITTED["zh"], (
        f"only EN: {sorted(set(COMMITTED['en']) - set(COMMITTED['zh']))}, "
        f"only ZH: {sorted(set(COMMITTED['zh']) - set(COMMITTED['en']))}"
    )


def test_expected_set_of_notebooks():
    if N_STAGES < EXPECTED_STAGES:
        pytest.skip(f"notebooks/src has {N_STAGES} of {EXPECTED_STAGES} stages (content is being written)")
    generated = sorted({v.name for v in gen.variants(SRC_DIR)})
    assert generated == sorted(EXPECTED_NOTEBOOKS), "notebooks/src yields the wrong set of notebooks"
    for lang in gen.LANGS:
        assert COMMITTED[lang] == sorted(EXPECTED_NOTEBOOKS), f"notebooks/{lang} has the wrong set of notebooks"


@_params(FILES, _file_ids(FILES))
def test_no_outputs_or_execution_counts(item):
    lang, name = item
    assert output_problems(load_nb(NB_DIR / lang / f"{name}.ipynb")) == []


@_params(PAIRS)
def test_en_zh_code_cells_identical(item):
    en, zh = (load_nb(NB_DIR / lang / f"{item}.ipynb") for lang in gen.LANGS)
    assert code_cell_problems(en, zh) == []


@_params(FILES, _file_ids(FILES))
def test_single_parameters_cell_up_front(item):
    lang, name = item
    assert parameters_problems(load_nb(NB_DIR / lang / f"{name}.ipynb")) == []


@_params(PAIRS)
def test_zh_prose_is_chinese(item):
    en, zh = (load_nb(NB_DIR / lang / f"{item}.ipynb") for lang in gen.LANGS)
    assert zh_prose_problems(en, zh) == []


@_params(PAIRS)
def test_zh_follows_terminology(item, terms):
    en, zh = (load_nb(NB_DIR / lang / f"{item}.ipynb") for lang in gen.LANGS)
    problems = zh_terminology_problems(en, zh, terms)
    assert not problems, "see notebooks/TERMINOLOGY.md:\n" + "\n".join(problems)


@_params(FILES, _file_ids(FILES))
def test_ends_with_summary_exercises_and_appendix(item):
    lang, name = item
    assert exercises_problems(load_nb(NB_DIR / lang / f"{name}.ipynb"), lang) == []


@_params(FILES, _file_ids(FILES))
def test_exercises_are_done_in_the_notebook(item):
    lang, name = item
    assert exercise_text_problems(load_nb(NB_DIR / lang / f"{name}.ipynb"), lang) == []


@_params(COMMITTED["zh"])
def test_zh_markdown_has_no_line_break_between_chinese_characters(item):
    problems = zh_line_break_problems(load_nb(NB_DIR / "zh" / f"{item}.ipynb"))
    assert not problems, "keep a Chinese paragraph on one line, or break after ，。；：、）:\n" + "\n".join(problems)


def test_readme_zh_has_no_line_break_between_chinese_characters():
    readme = ROOT / "README.zh-CN.md"
    problems = cjk_soft_breaks(re.sub(r"<!--.*?-->", "", readme.read_text(encoding="utf-8"), flags=re.S))
    assert not problems, f"README.zh-CN.md: {len(problems)} line break(s) between two Chinese characters:\n" + \
        "\n".join(problems)


# ============================================================================ TERMINOLOGY.md
REQUIRED_TERMS = {
    "semantic segmentation": "语义分割", "mean IoU": "平均交并比", "IoU": "交并比", "fine-tune": "微调",
    "data augmentation": "数据增强", "image processor": "图像处理器", "checkpoint": "检查点", "label": "标签",
    "annotation": "标注", "segmentation map": "分割图", "logits": "logits", "upsample": "上采样",
    "pipeline": "pipeline", "palette": "调色板", "overlay": "叠加图", "learning rate": "学习率",
    "batch size": "批大小", "epoch": "轮", "training set": "训练集", "test set": "测试集",
    "evaluation": "评估", "inference": "推理", "pretrained": "预训练", "random initialization": "随机初始化",
    "channels-first": "通道在前", "confusion matrix": "混淆矩阵", "ignore index": "忽略索引", "pixel": "像素",
    "class": "类别", "loss": "损失", "callback": "回调", "exercise": "练习",
    # the decisions of issue 12 (review §1.3-§1.5)
    "kit": "套件", "profile": "预设", "batch": "批次", "resize": "调整尺寸", "rescale": "数值缩放",
    "shuffle": "打乱", "fallback": "回退", "ground truth": "真实标签", "reference label": "真实标签",
    "notebook": "笔记本", "summary": "小结", "test split": "测试集", "channels-last": "通道在后",
    "under the hood": "实现细节", "reduce labels": "标签缩减",
}
REQUIRED_AVOID = {"kit": "kit", "profile": "配置档", "channels-first": "通道优先", "ground truth": "参考标签",
                  "notebook": "notebook", "test split": "评估集"}


def test_terminology_table(terms):
    by_english = {a.lower(): t for t in terms for a in t.english}
    for english, chinese in REQUIRED_TERMS.items():
        assert english.lower() in by_english, f"TERMINOLOGY.md lacks {english!r}"
        assert by_english[english.lower()].chinese[0] == chinese, f"{english!r} should be {chinese!r}"
    for english, bad in REQUIRED_AVOID.items():
        assert bad in by_english[english].avoid, f"TERMINOLOGY.md: {english!r} should list {bad!r} to avoid"
    accepted = {form for t in terms for form in t.chinese}
    for t in terms:
        assert t.english and t.chinese, t
        for bad in t.avoid:
            clash = [form for form in accepted if bad in form]
            assert not clash, f"avoided {bad!r} is part of the accepted term(s) {clash}"
    english = [a.lower() for t in terms for a in t.english]
    assert len(english) == len(set(english)), "an English term is listed twice"


def test_terminology_check_catches_mistakes(terms):
    assert terminology_problems("We fine-tune the model.", "我们微调模型。", terms) == []
    problems = terminology_problems("We fine-tune the model.", "我们精调模型。", terms)
    assert any("'微调'" in p for p in problems) and any("'精调'" in p for p in problems), problems
    # inflections count as mentions
    assert terminology_problems("Fine-tuning takes 3 epochs.", "需要三个 epoch。", terms)
    # longest match wins: "mean IoU" needs 平均交并比 or mIoU, not 交并比
    assert terminology_problems("The mean IoU rises.", "mIoU 上升。", terms) == []
    assert terminology_problems("The IoU of the road class.", "道路类别的 IoU。", terms)
    # code spans and URLs are not mentions; "mIoU" is not "IoU"; "subclass" is not "class"
    assert terminology_problems("Call `pipeline()` on a subclass, see https://x.org/pixel.", "见文档。", terms) == []
    assert terminology_problems("Report the mIoU.", "报告 mIoU。", terms) == []
    # avoided forms are found anywhere in ZH prose
    assert terminology_problems("A model.", "这是语意分割模型。", terms)
    # issue 12's decisions: each catches its drift, and the accepted form passes
    cases = [
        ("The kit ships helpers.", "套件自带辅助函数。", "这个 kit 自带辅助函数。"),
        ("Switch the profile.", "换一个预设。", "换一个配置档。"),
        ("PyTorch is channels-first.", "PyTorch 采用通道在前。", "PyTorch 采用通道优先。"),
        ("Compare with the ground truth.", "和真实标签对比。", "和参考标签对比。"),
        ("See notebook 02.", "见第 02 篇。", "见 notebook 02。"),
        ("We keep a test split.", "我们留出测试集。", "我们留出评估集。"),
        ("Images are resized.", "图像先调整尺寸。", "图像先缩放。"),
        ("Pixels are rescaled.", "像素值做数值缩放。", "像素值除以 255。"),
        ("We shuffle the data.", "我们打乱数据。", "我们洗牌数据。"),
    ]
    for en, good, bad in cases:
        assert terminology_problems(en, good, terms) == [], (en, good)
        assert terminology_problems(en, bad, terms), (en, bad)
    # quotations of the guide are verbatim: an avoided term inside “…” passes, outside it does not
    assert terminology_problems("The guide says channels-first.", "指南原文是“需要以通道优先的布局”，即通道在前。", terms) == []
    assert terminology_problems("PyTorch is channels-first.", "PyTorch 采用通道优先。", terms)
    assert terminology_problems("The guide's segmentation map.", "指南写作“分割地图”，本课程写分割图。", terms) == []
    # d2l-zh's 批量 / 批量大小 are accepted beside the course's 批次 / 批大小 (many learners know them from d2l)
    assert terminology_problems("Set the batch size.", "设置批量大小。", terms) == []
    assert terminology_problems("One batch of images.", "一个批量的图像。", terms) == []
    assert terminology_problems("A mask.", "一张掩膜。", terms) == []
    # "batch size" is its own term: it needs 批大小, not 批次
    assert terminology_problems("Set the batch size.", "设置批大小。", terms) == []
    assert terminology_problems("One batch of images.", "一个批次的图像。", terms) == []


def test_chinese_share_check():
    assert cjk_share("We train the model for three epochs.") == 0
    assert cjk_share("我们训练模型 `model.fit(x)` 见 https://example.org/a_b $x^2 + y$") == 1
    assert 0.2 < cjk_share("用 SegFormer 做语义分割") < 1
    assert cjk_share("`code only` $$a+b$$") is None


# ============================================================================ generator on the fixture
FIXTURE_NOTEBOOKS = {
    "en/01_demo_pytorch.ipynb", "en/01_demo_tensorflow.ipynb", "en/02_plain.ipynb",
    "zh/01_demo_pytorch.ipynb", "zh/01_demo_tensorflow.ipynb", "zh/02_plain.ipynb",
}


@pytest.fixture
def fixture_out(tmp_path):
    out = tmp_path / "out"
    gen.generate(FIXTURE_SRC, out, TEST_CONFIG)
    return out


def _fixture_nb(out, rel):
    return load_nb(out / rel)


def test_fixture_variants(fixture_out):
    files = {str(p.relative_to(fixture_out)) for p in fixture_out.rglob("*.ipynb")}
    assert files == FIXTURE_NOTEBOOKS
    assert {v.relpath for v in gen.variants(FIXTURE_SRC)} == FIXTURE_NOTEBOOKS


def test_fixture_framework_and_language_selection(fixture_out):
    pt = "\n".join(_src(c) for c in _fixture_nb(fixture_out, "en/01_demo_pytorch.ipynb")["cells"])
    tf = "\n".join(_src(c) for c in _fixture_nb(fixture_out, "en/01_demo_tensorflow.ipynb")["cells"])
    assert "import torch" in pt and "import tensorflow" not in pt and "channels-first" in pt
    assert "import tensorflow" in tf and "import torch" not in tf and "channels-first" not in tf
    assert "shared by both frameworks" in pt and "shared by both frameworks" in tf
    for name in ("01_demo_pytorch", "01_demo_tensorflow", "02_plain"):
        en, zh = (_fixture_nb(fixture_out, f"{lang}/{name}.ipynb") for lang in gen.LANGS)
        en_md = [_src(c) for c in en["cells"][1:] if c["cell_type"] == "markdown"]
        zh_md = [_src(c) for c in zh["cells"][1:] if c["cell_type"] == "markdown"]
        assert len(en_md) == len(zh_md) >= 2
        assert all(cjk_share(s) == 0 for s in en_md), en_md
        assert all(cjk_share(s) > 0.5 for s in zh_md), zh_md


def test_fixture_tags_stripped_other_tags_kept(fixture_out):
    seen = set()
    for rel in FIXTURE_NOTEBOOKS:
        for c in _fixture_nb(fixture_out, rel)["cells"]:
            tags = _tags(c)
            assert not set(tags) & {"lang-en", "lang-zh", "pt", "tf"}, (rel, tags)
            assert "tags" not in c["metadata"] or tags, "empty tags list left behind"
            assert not set(c["metadata"]) & {"lines_to_next_cell", "title", "region_name"}
            seen.update(tags)
    assert seen == {"parameters", "nbval-skip"}


def test_fixture_notebook_format(fixture_out):
    import nbformat

    for rel in FIXTURE_NOTEBOOKS:
        raw = (fixture_out / rel).read_text(encoding="utf-8")
        assert raw.endswith("}\n") and raw.startswith('{\n "cells": [\n  {\n   "cell_type"'), "indent=1 layout"
        assert "\\u" not in raw, "non-ASCII must not be escaped"
        nb = nbformat.reads(raw, as_version=4)
        nbformat.validate(nb)
        assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
        assert nb.metadata.kernelspec == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        assert nb.metadata.language_info.name == "python"
        ids = [c.id for c in nb.cells]
        assert len(ids) == len(set(ids))
        assert output_problems(nb) == []
        assert all(c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert "每个像素" in (fixture_out / "zh/02_plain.ipynb").read_text(encoding="utf-8")


def test_fixture_badge_and_placeholders(fixture_out):
    for rel in FIXTURE_NOTEBOOKS:
        lang, name = rel[:-len(".ipynb")].split("/")
        nb = _fixture_nb(fixture_out, rel)
        first = nb["cells"][0]
        url = f"https://colab.research.google.com/github/octo-org/kit-under-test/blob/dev/notebooks/{lang}/{name}.ipynb"
        assert first["cell_type"] == "markdown" and _is_badge(first)
        assert gen.colab_url(lang, name, TEST_CONFIG) == url
        assert gen.colab_badge(lang, name, TEST_CONFIG) in _src(first) and url in _src(first)
        text = (fixture_out / rel).read_text(encoding="utf-8")
        assert "{{REPO}}" not in text and "{{BRANCH}}" not in text
        if name.startswith("01_demo"):
            assert "github.com/octo-org/kit-under-test@dev" in text
    real = gen.load_config()  # whatever the publisher set (README, "The notebooks")
    assert gen.colab_url("zh", "01_data.ipynb") == (
        f"https://colab.research.google.com/github/{real['repo']}/blob/{real['branch']}/notebooks/zh/01_data.ipynb"
    )


@pytest.mark.parametrize("repo", ["segformer-kit/segformer-teaching-kit", "a/b", "octo-org/kit.under_test",
                                  "x" * 39 + "/" + "y" * 100, "A1-b2/.github"])
def test_github_repo_accepts_well_formed_owner_name(repo):
    assert gen.github_repo_problem(repo) is None


@pytest.mark.parametrize("repo", ["", "owner", "owner/", "/name", "a/b/c", "-owner/name", "owner-/name", "ow--ner/name",
                                  "own_er/name", "x" * 40 + "/name", "owner/.", "owner/..", "owner/na me",
                                  "owner/name.git", "owner/" + "y" * 101, "https://github.com/owner/name",
                                  "owner/name@main", None])
def test_github_repo_rejects_malformed(repo, tmp_path):
    assert gen.github_repo_problem(repo)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"repo": repo, "branch": "main"}), encoding="utf-8")
    with pytest.raises(ValueError, match="'repo' must be the GitHub repository"):
        gen.load_config(cfg)


def test_config_names_a_well_formed_repo_and_branch(tmp_path):
    """notebooks/config.json feeds every Colab badge and install cell: a malformed repo or branch fails here."""
    raw = json.loads(gen.CONFIG_PATH.read_text(encoding="utf-8"))
    assert gen.github_repo_problem(raw.get("repo")) is None, f"notebooks/config.json: {raw}"
    assert gen.load_config() == raw
    for bad in ("", "main branch", "main#x", None):
        cfg = tmp_path / "config.json"
        cfg.write_text(json.dumps({"repo": "a/b", "branch": bad}), encoding="utf-8")
        with pytest.raises(ValueError, match="'branch'"):
            gen.load_config(cfg)


def test_every_install_cell_and_badge_uses_the_configured_repo():
    config = gen.load_config()
    url = f"git+https://github.com/{config['repo']}@{config['branch']}"
    for lang, name in FILES:
        nb = load_nb(NB_DIR / lang / f"{name}.ipynb")
        first_code = next(_src(c) for c in nb["cells"] if c["cell_type"] == "code")
        assert f'"seghelpers[colab] @ {url}"' in first_code, f"{lang}/{name}: install cell does not use {url}"
        text = json.dumps(nb)
        found = set(re.findall(r"github\.com/([^/@\s\\\")]+/[^/@\s\\\")]+)", text))
        badges = set(re.findall(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/", text))
        assert badges == {config["repo"]}, f"{lang}/{name}: Colab badge opens {badges}"
        assert found == {config["repo"]}, f"{lang}/{name}: GitHub repos {found}"


def test_fixture_passes_the_hygiene_checks(fixture_out, terms):
    """Positive control: the checks the real notebooks get accept the well-formed fixture..."""
    for name in ("01_demo_pytorch", "01_demo_tensorflow", "02_plain"):
        en, zh = (_fixture_nb(fixture_out, f"{lang}/{name}.ipynb") for lang in gen.LANGS)
        assert code_cell_problems(en, zh) == []
        assert zh_prose_problems(en, zh) == []
        assert zh_terminology_problems(en, zh, terms) == []
        for lang, nb in (("en", en), ("zh", zh)):
            assert parameters_problems(nb) == []
            assert exercises_problems(nb, lang) == []
            assert exercise_text_problems(nb, lang) == []
        assert zh_line_break_problems(zh) == []


def test_hygiene_checks_catch_broken_notebooks(fixture_out, terms):
    """...and negative control: they reject damaged copies of it."""
    def pair():
        return (_fixture_nb(fixture_out, f"{lang}/01_demo_pytorch.ipynb") for lang in gen.LANGS)

    en, zh = pair()
    code = [c for c in zh["cells"] if c["cell_type"] == "code"]
    code[-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x\n"]}]
    code[-1]["execution_count"] = 3
    assert len(output_problems(zh)) == 2
    code[-1]["source"] = "print('changed')"
    assert code_cell_problems(en, zh)

    en, zh = pair()
    md = [i for i, c in enumerate(zh["cells"]) if c["cell_type"] == "markdown" and not _is_badge(c)]
    original = zh["cells"][md[0]]["source"]
    zh["cells"][md[0]]["source"] = en["cells"][md[0]]["source"]  # untranslated
    problems = zh_prose_problems(en, zh)
    assert len(problems) == 2 and "0% of the ZH letters" in problems[0] and "same as the EN" in problems[1]
    zh["cells"][md[0]]["source"] = "# Demo\n\nWe fine-tune the pretrained model 模型。"  # mostly English
    assert len(zh_prose_problems(en, zh)) == 1
    en["cells"][md[0]]["source"] = zh["cells"][md[0]]["source"] = original  # Chinese in the EN notebook
    problems = zh_prose_problems(en, zh)
    assert any("same as the EN" in p for p in problems) and any("mis-tagged" in p for p in problems)
    en, zh = pair()
    zh["cells"][md[0]]["source"] = "# 演示：精调模型\n\n我们在语意分割任务上精调一个预训练模型。"
    problems = zh_terminology_problems(en, zh, terms)
    assert any("精调" in p for p in problems) and any("语意分割" in p for p in problems)
    assert any("检查点" in p for p in problems) and any("平均交并比" in p for p in problems)

    en, _ = pair()
    params = next(c for c in en["cells"] if "parameters" in _tags(c))
    params["metadata"]["tags"] = []
    assert parameters_problems(en)
    en["cells"].append(dict(params, metadata={"tags": ["parameters"]}))
    assert "among the first two" in parameters_problems(en)[0]
    en["cells"].append({"cell_type": "markdown", "id": "x", "metadata": {}, "source": "## Summary"})
    en["cells"].append({"cell_type": "markdown", "id": "y", "metadata": {}, "source": "The end."})
    en["cells"].append({"cell_type": "markdown", "id": "z", "metadata": {}, "source": "Bye."})
    assert exercises_problems(en, "en")


def _md(source, **metadata):
    return {"cell_type": "markdown", "id": "m", "metadata": metadata, "source": source}


def test_closing_section_checks_catch_bad_endings(fixture_out):
    """Summary before Exercises, Exercises last (or before a collapsed appendix), no papermill, and
    no line break between two Chinese characters: each rule rejects a damaged copy of the fixture."""
    def nb(lang, name="01_demo_pytorch"):
        return _fixture_nb(fixture_out, f"{lang}/{name}.ipynb")

    def index_of(notebook, heading):
        return next(i for i, c in enumerate(notebook["cells"]) if _src(c).startswith(heading))

    # the fixture's appendix is folded by metadata; its tag is gone
    en = nb("en")
    appendix = en["cells"][index_of(en, APPENDIX_HEADING["en"])]
    assert appendix["metadata"].get(COLLAPSED_KEY) is True and "tags" not in appendix["metadata"]
    assert all(COLLAPSED_KEY not in c["metadata"] for c in en["cells"] if c is not appendix)

    # no summary
    zh = nb("zh")
    del zh["cells"][index_of(zh, SUMMARY_HEADING["zh"])]
    assert any("must end with" in p for p in exercises_problems(zh, "zh"))
    # summary after the exercises
    en = nb("en", "02_plain")
    k = index_of(en, SUMMARY_HEADING["en"])
    en["cells"].append(en["cells"].pop(k))
    assert exercises_problems(en, "en")
    # a section after the exercises that is not the appendix
    en = nb("en", "02_plain")
    en["cells"].append(_md("## Next steps\n\nRead notebook 03."))
    assert exercises_problems(en, "en")
    # English heading text in the Chinese notebook
    zh = nb("zh", "02_plain")
    zh["cells"][index_of(zh, SUMMARY_HEADING["zh"])]["source"] = "## Summary\n\n分割图。"
    assert exercises_problems(zh, "zh")
    # the appendix, but not collapsed
    en = nb("en")
    del en["cells"][index_of(en, APPENDIX_HEADING["en"])]["metadata"][COLLAPSED_KEY]
    assert any("not collapsed" in p for p in exercises_problems(en, "en"))
    # two appendices
    en = nb("en")
    en["cells"].append(_md(APPENDIX_HEADING["en"], **{COLLAPSED_KEY: True}))
    assert any("appears 2 times" in p for p in exercises_problems(en, "en"))

    # exercises written for papermill
    for text in ("Run `papermill 04.ipynb out.ipynb -p max_steps 100`.", "Rerun with -p learning_rate 1e-4."):
        en = nb("en")
        en["cells"][index_of(en, EXERCISES_HEADING["en"])]["source"] += "\n2. " + text
        assert exercise_text_problems(en, "en"), text
    en = nb("en")  # papermill in the appendix is fine (it is not an exercise)
    en["cells"][index_of(en, APPENDIX_HEADING["en"])]["source"] += "\n`make run` uses papermill -p profile smoke."
    assert exercise_text_problems(en, "en") == []

    # a soft line break between two Chinese characters (also inside list items and block quotes)
    for bad in ("模型会把\n图像缩放", "- 第一项的\n  续行", "> 引用里的\n> 断行"):
        zh = nb("zh")
        zh["cells"][index_of(zh, SUMMARY_HEADING["zh"])]["source"] = "## 小结\n\n" + bad
        assert len(zh_line_break_problems(zh)) == 1, bad
    for fine in ("第一段。\n\n第二段", "句子，\n接着写", "硬换行  \n下一行", "图像\n`code`", "```\n代码\n代码\n```",
                 "- 第一项\n- 第二项"):
        assert cjk_soft_breaks(fine) == [], fine


def test_fixture_generation_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    gen.generate(FIXTURE_SRC, a, TEST_CONFIG)
    gen.generate(FIXTURE_SRC, b, TEST_CONFIG)
    for rel in FIXTURE_NOTEBOOKS:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert gen.generate(FIXTURE_SRC, a, TEST_CONFIG) == [], "a second run must not rewrite anything"
    rendered = gen.render_notebooks(FIXTURE_SRC, TEST_CONFIG)
    assert all(rendered[rel].encode("utf-8") == (a / rel).read_bytes() for rel in FIXTURE_NOTEBOOKS)


def test_check_reports_stale_missing_and_extra(tmp_path):
    out = tmp_path / "out"
    assert set(gen.generate(FIXTURE_SRC, out, TEST_CONFIG)) == FIXTURE_NOTEBOOKS
    assert gen.check(FIXTURE_SRC, out, TEST_CONFIG) == []
    stale = out / "zh/01_demo_tensorflow.ipynb"
    stale.write_text(stale.read_text(encoding="utf-8").replace("练习", "习题"), encoding="utf-8")
    (out / "en/02_plain.ipynb").unlink()
    shutil.copy(out / "en/01_demo_pytorch.ipynb", out / "en/09_orphan.ipynb")
    problems = gen.check(FIXTURE_SRC, out, TEST_CONFIG)
    assert len(problems) == 3, problems
    assert any("01_demo_tensorflow" in p and "differs" in p for p in problems)
    assert any("02_plain" in p and "missing" in p for p in problems)
    assert any("09_orphan" in p and "extra" in p for p in problems)

    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(TEST_CONFIG), encoding="utf-8")
    cli = [sys.executable, str(NB_DIR / "generate.py"), "--src", str(FIXTURE_SRC), "--out", str(out), "--config", str(cfg)]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = subprocess.run(cli + ["--check"], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "09_orphan" in r.stderr and "02_plain" in r.stderr, r.stderr
    r = subprocess.run(cli, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert not (out / "en/09_orphan.ipynb").exists(), "stale notebooks are pruned"
    r = subprocess.run(cli + ["--check"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


def test_matrix(tmp_path):
    table = gen.matrix_markdown(FIXTURE_SRC, TEST_CONFIG).splitlines()
    assert table[0] == "| Stage | PyTorch EN | PyTorch 中文 | TensorFlow EN | TensorFlow 中文 |"
    assert len(table) == 2 + 2
    demo = [c.strip() for c in table[2].strip("|").split("|")]
    plain = [c.strip() for c in table[3].strip("|").split("|")]
    assert demo[0] == "`01_demo`" and plain[0] == "`02_plain`"
    assert demo[1].startswith("[01_demo_pytorch](notebooks/en/01_demo_pytorch.ipynb) ")
    assert demo[4].startswith("[01_demo_tensorflow](notebooks/zh/01_demo_tensorflow.ipynb) ")
    assert gen.colab_badge("zh", "01_demo_tensorflow", TEST_CONFIG) in demo[4]
    assert plain[1] == plain[3] and plain[2] == plain[4], "framework-free stage spans both frameworks"
    assert "[02_plain](notebooks/zh/02_plain.ipynb)" in plain[2]


# ---------------------------------------------------------------------------- source validation
_HEAD = '# %% [markdown] tags=["lang-en"]\n# Hi\n\n# %% [markdown] tags=["lang-zh"]\n# 你好\n\n'
_PARAMS = '# %% tags=["parameters"]\nX = 1\n\n'
BROKEN_SOURCES = {
    "markdown without language": (_HEAD + _PARAMS + "# %% [markdown]\n# Orphan\n", "cell 4 (line 10)", "without a language tag"),
    "both pt and tf": (_HEAD + _PARAMS + '# %% tags=["pt", "tf"]\nx = 1\n', "cell 4", "both 'pt' and 'tf'"),
    "en without zh twin": (_HEAD + '# %% [markdown] tags=["lang-en"]\n# More\n\n' + _PARAMS, "cell 3", "not immediately followed"),
    "zh without en twin": (_HEAD + _PARAMS + '# %% [markdown] tags=["lang-zh"]\n# 多余\n', "cell 4", "does not immediately follow"),
    "twins differ in framework": (
        _HEAD + _PARAMS + '# %% [markdown] tags=["lang-en", "pt"]\n# PT\n\n# %% [markdown] tags=["lang-zh"]\n# 中文\n',
        "cell 5", "framework tag",
    ),
    "code cell with language": (_HEAD + _PARAMS + '# %% tags=["lang-zh"]\nx = 1\n', "cell 4", "code cell tagged"),
    "no parameters cell": (_HEAD + "# %%\nx = 1\n", "01_broken.py", "0 cells tagged 'parameters'"),
    "two parameters cells": (_HEAD + _PARAMS + _PARAMS, "cell 3", "2 cells tagged 'parameters'"),
    "parameters only for PyTorch": (
        _HEAD + '# %% tags=["parameters", "pt"]\nX = 1\n', "tensorflow notebook", "0 cells tagged 'parameters'",
    ),
    "typo in tag": (_HEAD + _PARAMS + '# %% tags=["pytorch"]\nx = 1\n', "cell 4", "did you mean 'pt'"),
    "collapsed code cell": (_HEAD + _PARAMS + '# %% tags=["collapsed"]\nx = 1\n', "cell 4", "a code cell cannot"),
    "collapsed without heading": (
        _HEAD + _PARAMS + '# %% [markdown] tags=["lang-en", "collapsed"]\n# Text\n\n'
        '# %% [markdown] tags=["lang-zh", "collapsed"]\n# 文字\n', "cell 4", "must start with a Markdown heading",
    ),
    "collapsed on one twin": (
        _HEAD + _PARAMS + '# %% [markdown] tags=["lang-en", "collapsed"]\n# ## More\n\n'
        '# %% [markdown] tags=["lang-zh"]\n# ## 更多\n', "cell 5", "tag both or neither",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SOURCES))
def test_source_errors_name_file_and_cell(tmp_path, case):
    text, where, what = BROKEN_SOURCES[case]
    (tmp_path / "01_broken.py").write_text(text, encoding="utf-8")
    with pytest.raises(gen.SourceError) as err:
        gen.render_notebooks(tmp_path, TEST_CONFIG)
    msg = str(err.value)
    assert "01_broken.py" in msg and where in msg and what in msg, msg


def test_valid_minimal_source_and_cli_error(tmp_path):
    (tmp_path / "01_ok.py").write_text(_HEAD + _PARAMS, encoding="utf-8")
    assert set(gen.render_notebooks(tmp_path, TEST_CONFIG)) == {"en/01_ok.ipynb", "zh/01_ok.ipynb"}
    (tmp_path / "02_bad.py").write_text(_HEAD + "# %% [markdown]\n# x\n", encoding="utf-8")
    r = subprocess.run(
        [sys.executable, str(NB_DIR / "generate.py"), "--src", str(tmp_path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    assert r.returncode == 2 and "02_bad.py: cell 3" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists(), "nothing is written when a source is invalid"


@_params(FILES, _file_ids(FILES))
def test_kit_messages_in_the_notebooks_language(item):
    """The setup cell sets the kit's message language to the notebook's own (the 中文 notebooks answer in Chinese)."""
    lang, name = item
    found = {m.group(1) for c in load_nb(NB_DIR / lang / f"{name}.ipynb")["cells"] if c["cell_type"] == "code"
             for m in LANG_LINE.finditer(_src(c))}
    assert found == {lang}
