"""README.md and README.zh-CN.md: short, same structure, the Chinese one in Chinese, every figure generated.

Each checker is a function returning a list of problems; the tests run it on the real files (no problems)
and on a broken copy (problems found), so a checker that stopped checking goes red too.
"""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EN = ROOT / "README.md"
ZH = ROOT / "README.zh-CN.md"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MAX_CHARS = 16_000

# every heading of README.md, in order, and its counterpart in README.zh-CN.md
HEADINGS = {
    "# SegFormer semantic segmentation, in PyTorch and TensorFlow side by side":
        "# SegFormer 语义分割：PyTorch 与 TensorFlow 对照教程",
    "## Two commands": "## 两条命令",
    "## The notebooks": "## 笔记本一览",
    "## Profiles": "## 预设",
    "## Your own data": "## 使用你自己的数据",
    "## Offline workshops": "## 离线工作坊",
    "## Library versions": "## 库版本",
    "## Scaling up": "## 扩展到更大规模",
    "## Performance": "## 性能",
}

# summary row (EN label starts with ...) -> the benchmarks/RESULTS.md row it must quote
SUMMARY_SOURCES = {
    "label a batch of photos": "6. batch inference, mit-b0 512x512, PyTorch CPU",
    "mean IoU of 100 maps": "1. mean IoU vs hub algorithm",
    "the guide's `compute_metrics`": "10. the guide's compute_metrics (evaluate .compute)",
    "train with the guide's recipe, PyTorch": "8. training throughput, guide recipe (mit-b0 512x512, batch 2), PyTorch CPU",
    "the same, TensorFlow": "8. training throughput, guide recipe (mit-b0 512x512, batch 2), TensorFlow CPU",
    "peak memory of Trainer evaluation": "4. Trainer eval peak RSS, 20 -> 200 images (mit-b0, 512x512)",
}

CJK = "\u3400-\u4dbf\u4e00-\u9fff"  # ideographs only: full-width punctuation may end a wrapped line
NUMBER = r"\d+(?:\.\d+)?"


def read(path):
    return path.read_text(encoding="utf-8")


def without_code(text: str) -> list[str]:
    """The Markdown lines outside fenced code blocks and HTML comments."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced and not re.fullmatch(r"\s*<!--.*-->\s*", line):
            out.append(line)
    return out


def headings(text: str) -> list[str]:
    return [line.rstrip() for line in without_code(text) if re.match(r"#{1,6} ", line)]


# ----------------------------------------------------------------------------- checkers
def length_problems(text: str, name: str) -> list[str]:
    return [f"{name}: {len(text)} characters (limit {MAX_CHARS})"] if len(text) >= MAX_CHARS else []


def structure_problems(en: str, zh: str) -> list[str]:
    problems = []
    if headings(en) != list(HEADINGS):
        problems.append(f"README.md headings {headings(en)} != {list(HEADINGS)} (update HEADINGS with the ZH twin)")
    expected = [HEADINGS.get(h, f"<no ZH twin for {h!r}>") for h in headings(en)]
    if headings(zh) != expected:
        problems.append(f"README.zh-CN.md headings {headings(zh)} != {expected}")
    return problems


def _plain(text: str) -> str:
    """Prose only: no inline code, link targets, bare URLs or reference definitions."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "] ", text)
    text = re.sub(r"\]\[[^\]]*\]", "] ", text)
    text = re.sub(r"^\[[^\]]+\]:\s*\S+", " ", text)
    return re.sub(r"https?://\S+", " ", text)


def english_prose_problems(zh: str) -> list[str]:
    """Headings wholly Chinese (product names aside); no paragraph, bullet or table cell mostly in English."""
    problems = []
    for h in headings(zh):
        rest = re.sub(r"SegFormer|PyTorch|TensorFlow", "", _plain(h.lstrip("# ")))
        if re.search(r"[A-Za-z]", rest):
            problems.append(f"heading not in Chinese: {h!r}")
    for line in without_code(zh):
        if re.match(r"#{1,6} ", line):
            continue
        pieces = line.split("|") if line.lstrip().startswith("|") else [line]
        for piece in pieces:
            plain = _plain(piece)
            words = re.findall(r"[A-Za-z][A-Za-z'-]*", plain)
            cjk = re.findall(f"[{CJK}]", plain)
            if len(words) >= 3 and len(cjk) < len(words):
                problems.append(f"English prose in README.zh-CN.md: {piece.strip()[:100]!r}")
    return problems


def soft_break_problems(zh: str) -> list[str]:
    """A line ending in a Chinese character followed by one starting with a Chinese character renders a stray
    space between them: write each Chinese paragraph on one line."""
    lines = without_code(zh)
    return [f"soft line break between CJK characters: {a[-12:]!r} / {b[:12]!r}"
            for a, b in zip(lines, lines[1:])
            if re.search(f"[{CJK}]$", a.rstrip()) and re.match(f"[{CJK}]", b.lstrip())]


def results_table(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| measure |"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows[cells[0]] = cells[1:]
    return rows


def summary_table(readme: str) -> list[list[str]]:
    block = re.search(r"<!-- bench:start -->\n(.*?)<!-- bench:end -->", readme, re.S)
    if not block:
        return []
    rows = [line for line in block.group(1).splitlines() if line.startswith("|")][2:]  # no header, no rule
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in rows]


def summary_problems(en: str, zh: str, results: str) -> list[str]:
    """6 rows; every figure of a row is a figure of the RESULTS.md row it quotes; the ratio is that row's
    ratio; README.zh-CN.md shows the same figures, row for row."""
    problems, table = [], results_table(results)
    en_rows, zh_rows = summary_table(en), summary_table(zh)
    if len(en_rows) != 6 or len(zh_rows) != 6:
        return [f"the performance summary must have 6 rows (EN {len(en_rows)}, ZH {len(zh_rows)})"]
    for row in en_rows:
        label = row[0]
        source = next((m for k, m in SUMMARY_SOURCES.items() if label.startswith(k)), None)
        if source is None and "smoke" in label:
            source = next((m for m in table if "smoke" in m.lower()), None)
        if source is None or source not in table:
            problems.append(f"summary row {label!r}: no RESULTS.md row {source!r}")
            continue
        cells = table[source]
        allowed = set(re.findall(NUMBER, " ".join([source] + cells)))
        quoted = set(re.findall(NUMBER, " ".join(row)))
        if not quoted <= allowed:
            problems.append(f"summary row {label!r}: {sorted(quoted - allowed)} not in RESULTS.md row {source!r}")
        ratio = re.search(rf"({NUMBER})x\b", cells[2])
        if ratio is None or not re.fullmatch(rf"{re.escape(ratio.group(1))}×", row[3]):
            problems.append(f"summary row {label!r}: ratio {row[3]!r}, RESULTS.md says {cells[2]!r}")
    for e, z in zip(en_rows, zh_rows):
        if re.findall(NUMBER, " ".join(e[1:4])) != re.findall(NUMBER, " ".join(z[1:4])):
            problems.append(f"ZH summary row {z[0]!r} shows other figures than EN {e[0]!r}")
    return problems


# ----------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def update_readme():
    spec = importlib.util.spec_from_file_location("_update_readme", ROOT / "notebooks" / "update_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_generated_blocks_are_current(update_readme, capsys):
    assert update_readme.main(["--check"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("block", ["matrix", "profiles", "versions", "memory", "bench"])
def test_every_generated_block_is_there_and_regenerated(tmp_path, update_readme, block):
    """Each block exists in both READMEs, and a hand edit inside it is undone by update_readme (so --check
    catches figures typed in by hand)."""
    mod = update_readme
    for path in (EN, ZH):
        text = read(path)
        m = re.search(rf"<!-- {block}:start -->\n(.*?)<!-- {block}:end -->", text, re.S)
        assert m and m.group(1).strip(), f"{path.name} has no filled {block} block"
        digit = re.search(r"\d", m.group(1))
        tampered = text[:m.start(1) + digit.start()] + "7" + text[m.start(1) + digit.end():]
        if tampered == text:
            tampered = text.replace(m.group(1), m.group(1) + "hand-made line\n")
        copy = tmp_path / path.name
        copy.write_text(tampered, encoding="utf-8")
        assert mod.render(copy) == text, f"{path.name}: editing the {block} block is not undone by update_readme"


def test_readmes_are_short():
    for path in (EN, ZH):
        assert not length_problems(read(path), path.name)
    assert length_problems("x" * MAX_CHARS, "long.md")


def test_readmes_have_the_same_sections():
    en, zh = read(EN), read(ZH)
    assert not structure_problems(en, zh)
    sections = re.split(r"\n(?=## )", zh)
    swapped = "\n".join(sections[:2] + [sections[3], sections[2]] + sections[4:])
    assert structure_problems(en, swapped)
    assert structure_problems(en + "\n## Extra\n", zh)


def test_chinese_readme_has_no_english_prose():
    zh = read(ZH)
    assert not english_prose_problems(zh)
    assert english_prose_problems(zh.replace("## 两条命令", "## Two commands"))
    assert english_prose_problems(zh + "\nThe kit builds the environment once and reuses it.\n")
    assert english_prose_problems(zh + "\n| a | The kit builds the environment once |\n")


def test_chinese_readme_has_no_soft_break_between_cjk_characters():
    zh = read(ZH)
    assert not soft_break_problems(zh)
    assert soft_break_problems("这是一段\n中文。\n")
    assert not soft_break_problems("这是一段，\n中文。\n```\n代码\n注释\n```\n")


def test_performance_summary_comes_from_benchmark_results():
    en, zh, results = read(EN), read(ZH), read(RESULTS)
    assert not summary_problems(en, zh, results)
    row = summary_table(en)[1]
    assert summary_problems(en.replace(f"| {row[3]} |", "| 12.0× |", 1), zh, results)       # a ratio typed in
    assert summary_problems(en.replace(f"| {row[1]} |", "| 3.1 s |", 1), zh, results)       # a time typed in
    assert summary_problems(en, zh.replace(f"| {row[3]} |", "| 9.0× |", 1), results)        # ZH drifts from EN
    assert summary_problems(en.replace("| " + row[0], "| hidden " + row[0], 1), zh, results)  # unknown row
    for name, text in (("README.md", en), ("README.zh-CN.md", zh)):
        assert "(benchmarks/RESULTS.md)" in text.split("## Performance" if name == "README.md" else "## 性能")[1]


def test_scaling_up_memory_figures_come_from_the_benchmark_results():
    """The memory per GPU quoted in "Scaling up" must be what benchmarks/RESULTS.md (rows 7) measured."""
    rows = [line for line in read(RESULTS).splitlines()
            if line.startswith("| 7. (informative) training step tensor memory")]
    assert rows, "benchmarks/RESULTS.md has no row 7 (run `make bench`)"
    figure = r"(?<![\d.])(?:\d+(?:\.\d+)? [GM]iB)"
    measured = {m for line in rows for m in re.findall(figure, line)}
    for path, heading in ((EN, "## Scaling up"), (ZH, "## 扩展到更大规模")):
        section = read(path).split(heading)[1].split("\n## ")[0]
        quoted = set(re.findall(figure, section))
        assert quoted and quoted <= measured, f"{path.name}: {sorted(quoted - measured)} not in RESULTS.md rows 7"


def test_smoke_claim_matches_the_training_test():
    threshold = {re.search(r"by more than (\d\.\d)", read(EN)).group(1), re.search(r"高出 (\d\.\d)", read(ZH)).group(1)}
    assert len(threshold) == 1
    assert f"before + {threshold.pop()}" in read(ROOT / "tests" / "test_training.py")


def test_readmes_document_the_commands_and_own_data():
    for path in (EN, ZH):
        text = read(path)
        for needle in ("make run", "make test", "make prefetch", "HF_HUB_OFFLINE=1", "ADEChallengeData2016",
                       "`smoke`", "`guide`", "`full`", "torchrun", "my_data/", "images/training",
                       "annotations/training", "id2label.json", "dataset.json", '{"reduce_labels": false}',
                       '{"reduce_labels": true}', '"palette"', 'dataset = "path/to/my_data"', 'split = "train"',
                       'PARAMS="-p dataset my_data', "benchmarks/RESULTS.md",
                       "zh/tasks/semantic_segmentation"):
            assert needle in text, f"{path.name} lacks {needle!r}"


def test_make_run_takes_the_parameters_the_readme_shows():
    """The READMEs tell learners `make run PARAMS="-p dataset my_data ..."`: the run target must pass them on."""
    makefile = read(ROOT / "Makefile")
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "$(PARAMS)" in recipe.group(1), "Makefile: `make run` ignores PARAMS"


def test_readmes_link_every_notebook():
    for path in (EN, ZH):
        text = read(path)
        for nb in sorted((ROOT / "notebooks").glob("*/[0-9][0-9]_*.ipynb")):
            rel = nb.relative_to(ROOT).as_posix()
            assert f"({rel})" in text, f"{path.name} lacks a link to {rel}"
