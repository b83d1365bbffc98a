"""The instructor's pack cannot rot: every kit message it quotes still exists in the code, its timing tables come
from a run summary, and the READMEs and the book link to it."""
import ast
import importlib.util
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"en": ROOT / "notebooks" / "INSTRUCTOR.md", "zh": ROOT / "notebooks" / "INSTRUCTOR.zh-CN.md"}
QUOTE = re.compile(r"^\s*(?:Message:|报错信息：)\s*`([^`]+)`\s*$", re.M)


def _strings(path: Path) -> list[str]:
    """The string literals of a Python file, implicitly concatenated ones joined (f-strings keep their {...})."""
    out, run = [], []
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline):
        if tok.type == tokenize.STRING:
            text = tok.string
            prefix = re.match(r"^[A-Za-z]*", text).group(0)
            body = text[len(prefix):]
            try:
                run.append(ast.literal_eval(("r" if "r" in prefix.lower() else "") + body))
            except (SyntaxError, ValueError):
                run.append(body.strip("'\""))
        elif tok.type in (tokenize.NL, tokenize.COMMENT) and run:
            continue
        elif run:
            out.append("".join(run))
            run = []
    if run:
        out.append("".join(run))
    return out


@pytest.fixture(scope="module")
def corpus() -> str:
    files = [*(ROOT / "seghelpers").rglob("*.py"), *(ROOT / "notebooks" / "src").rglob("*.py")]
    return "\n".join(s for f in files for s in _strings(f))


def _quoted(lang: str) -> list[str]:
    return QUOTE.findall(PAGES[lang].read_text("utf-8"))


def _missing(message: str, corpus: str) -> list[str]:
    return [part.strip() for part in message.split("…") if part.strip() and part.strip() not in corpus]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pack_quotes_twelve_messages_that_exist_in_the_code(lang, corpus):
    quoted = _quoted(lang)
    assert len(quoted) == 12, quoted
    for message in quoted:
        assert not _missing(message, corpus), f"{PAGES[lang].name}: {message!r} is no longer in the kit's code"


def test_message_check_can_fail(corpus):
    assert _missing("the Hugging Face Hub cannot be reached", corpus) == []
    assert _missing("the Hugging Face Hub is on holiday", corpus)
    # a message split over two implicitly concatenated literals is still found whole
    assert _missing("Import seghelpers.tf before using tf.keras", corpus) == []


def test_chinese_page_has_its_own_mirror_section():
    zh = PAGES["zh"].read_text("utf-8")
    section = zh[zh.index("## 中国大陆的学员"):]
    for needed in ("HF_ENDPOINT", "PIP_INDEX_URL", "UV_DEFAULT_INDEX", "make prefetch", "make setup", "Colab"):
        assert needed in section, needed


def _timings():
    spec = importlib.util.spec_from_file_location("instructor_timings", ROOT / "notebooks" / "instructor_timings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_timing_tables_are_generated_from_a_summary(tmp_path):
    gen = _timings()
    rows = ["| notebook | status | first output (s) | wall (s) | final metrics |", "|---|---|---:|---:|---|"]
    walls = {"01_data": 30, "02_preprocess_pytorch": 40, "03_metrics_pytorch": 20, "04_train_pytorch": 90,
             "05_inference_pytorch": 50, "02_preprocess_tensorflow": 60, "03_metrics_tensorflow": 25,
             "04_train_tensorflow": 120, "05_inference_tensorflow": 70}
    for lang in ("en", "zh"):
        for name, wall in walls.items():
            rows.append(f"| `{lang}/{name}` | ok | 5.0 | {wall + (lang == 'zh')}.0 | mean IoU 0.5 |")
    summary = tmp_path / "SUMMARY.md"
    summary.write_text("# Notebook run: profile `smoke`\n\n18 notebooks, 2 at a time, 300 s wall in all.\n\n"
                       + "\n".join(rows) + "\n")
    profile, jobs, parsed = gen.read_summary(summary)
    assert (profile, jobs, len(parsed)) == ("smoke", 2, 18)
    en = gen.block("en", profile, jobs, parsed, [])
    pt_total = sum(w + 1 for n, w in walls.items() if n == "01_data" or n.endswith("pytorch")) / 60
    assert f"**{pt_total:.1f} min**" in en  # the slower language counts, and the sum is computed
    assert "| `04_train` | 5 / 91 | 5 / 121 |" in en
    # the plan's run time per block comes from the same rows: 04 runs over the break (91 s PT, 121 s TF)
    assert re.search(r"^\| 1:50–2:00 \| break.*\| 1\.5 / 2\.0 \|$", en, re.M), en
    assert "合计" in gen.block("zh", profile, jobs, parsed, [])
    # the pages carry the generated block (or the placeholder until a summary exists)
    for page in PAGES.values():
        text = page.read_text("utf-8")
        block = text[text.index(gen.START):text.index(gen.END)]
        assert "| `05_inference` |" in block or "no summary yet" in block


def test_readmes_and_book_link_the_pack():
    assert "notebooks/INSTRUCTOR.md" in (ROOT / "README.md").read_text("utf-8")
    assert "notebooks/INSTRUCTOR.zh-CN.md" in (ROOT / "README.zh-CN.md").read_text("utf-8")
    book = (ROOT / "book" / "build.py").read_text("utf-8")
    assert "INSTRUCTOR.md" in book and "INSTRUCTOR.zh-CN.md" in book
