"""Issue 26, "teach the guide, not the kit": what the generated notebooks must hold for a learner.

- cells marked as the guide's code (first line ``# 指南原代码 / the guide's code``) contain the guide's code only:
  a line that reaches into the kit (``sh.``, ``shpt.``, ``shtf.``, ``viz.``), the data-set description (``meta.``,
  or ``labels.`` with one of the description's attributes: the guide's own ``labels`` is a label map, whose
  ``labels.shape`` is the guide's code) or a profile parameter (``P.``)
  must say what the guide wrote there (``# guide: <value>``) or why today's libraries force it
  (``# forced: <why>``);
- the default of the fast-path parameter is the guide's path (``tests/test_checkpoints_params.py`` checks
  every profile; here: the notebooks' parameters cell);
- 05 reads the prediction against the ground truth in its main flow, 04 teaches how to read the curves.
"""
import json
import re
from pathlib import Path

import pytest

from seghelpers.meta import DatasetMeta

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[ez][nh]/*.ipynb"))
GUIDE_MARK = "# 指南原代码"
# the description's attributes (DatasetMeta's fields, properties and methods), so that ``labels.num_labels`` is
# flagged and the guide's ``labels.shape`` (a label map) is not
META_ATTRS = sorted(a for a in dir(DatasetMeta) if not a.startswith("_")) + ["id2label"]
KIT = re.compile(r"(?<![\w.])(?:sh|shpt|shtf|viz|meta|P)\.\w"
                 r"|(?<![\w.])labels\.(?:" + "|".join(map(re.escape, META_ATTRS)) + r")\b")
MARKED = re.compile(r"#\s*(guide|forced):")
APPENDIX = re.compile(r"^#{1,2}\s+(Under the hood|实现细节)", re.M)


def _cells(path):
    return [("".join(c["source"]), c["cell_type"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]


def guide_cell_problems(source: str) -> list[str]:
    """Lines of a guide cell that use the kit or a parameter without a ``# guide:`` / ``# forced:`` note."""
    if not source.startswith(GUIDE_MARK):
        return []
    return [line.strip() for line in source.splitlines()[1:]
            if KIT.search(line.split("#", 1)[0]) and not MARKED.search(line)]


def test_guide_cell_check_catches_kit_code():
    cell = GUIDE_MARK + " / the guide's code (Chinese edition)\n"
    assert guide_cell_problems(cell + "trainer.train()\n") == []
    assert guide_cell_problems(cell + "lr = P.learning_rate  # guide: 6e-5\n") == []
    assert guide_cell_problems(cell + "x = sh.load(1)  # forced: the hub id is gone\n") == []
    assert guide_cell_problems(cell + "lr = P.learning_rate\n") == ["lr = P.learning_rate"]
    assert guide_cell_problems(cell + "m = shpt.ComputeMetrics(3)  # the kit's\n")
    assert guide_cell_problems("x = sh.load(1)\n") == []  # not a guide cell
    # the description object and the parameters, under either name
    assert guide_cell_problems(cell + "ADE = meta.num_labels == 150\n") == ["ADE = meta.num_labels == 150"]
    assert guide_cell_problems(cell + "print(labels.name, labels.palette)\n")
    assert guide_cell_problems(cell + "if P.fast:\n")
    # the guide's own `labels` is a label map: its attributes are the guide's code
    assert guide_cell_problems(cell + "size=labels.shape[-2:],\n") == []


def test_guide_cell_check_catches_the_old_05_palette_cell():
    """The palette cell of 05 before review 26 wrapped the guide's loop in the kit's ADE guard, unmarked."""
    old = (GUIDE_MARK + " / the guide's code (Chinese edition)\n"
           "import matplotlib.pyplot as plt\n\n\n"
           "def ade_palette():\n"
           "    return np.vstack([[0, 0, 0], sh.ade_palette()])  # guide: lists these 151 rows literally\n\n\n"
           "ADE = meta.num_labels == 150\n"
           "if ADE:\n"
           "    color_seg = np.zeros((pred_seg.shape[0], pred_seg.shape[1], 3), dtype=np.uint8)\n"
           "    palette = np.array(ade_palette())\n"
           "else:\n"
           '    print(f"{meta.name} has {meta.num_labels} classes, not ADE20K\'s 150: the guide\'s ADE palette does not "\n'
           '          "apply; its own palette, meta.palette, row i = class i, colours the maps below.")\n')
    problems = guide_cell_problems(old)
    assert problems[0] == "ADE = meta.num_labels == 150" and len(problems) == 3  # the guard and the print
    # the same cell before the rename of `labels` to `meta`
    assert len(guide_cell_problems(old.replace("meta.", "labels."))) == 3


def _load(relative: str, name: str):
    """A module of the repository that is not a package (tests/fixtures, notebooks/), loaded from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GUIDE = _load("tests/fixtures/guide_lines.py", "guide_lines")
KIT_NAMES = _load("notebooks/kit_names.py", "kit_names")
#: the three tags a guide-cell line may carry (notebooks/CONVENTIONS.md)
TAGGED = re.compile(r"#\s*(guide|forced|kit):")
#: other spellings of those tags, refused so that one word means one thing
UNTAGGED_NOTE = re.compile(r"#\s*(the guide|the kit|added|addition)\b")
WRAPPER = re.compile(r"(try|except\b[^#]*):(\s*#.*)?$")


def guide_cell_deviations(source: str, hashes: set[str]) -> list[str]:
    """Lines of a guide cell that are not a line of the guide's code (``hashes``: tests/fixtures/guide_lines.py)
    and carry none of ``# guide:``, ``# forced:``, ``# kit:``. Also allowed: ``try:`` / ``except ...:`` lines and the
    body of an ``except`` (showing the guide's error is part of showing its code), and a comment line in
    parentheses (the English of the guide's Chinese comment above it). A tag spelt another way is reported too."""
    if not source.startswith(GUIDE_MARK):
        return []
    out, except_indent = [], None
    for line in source.splitlines()[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if except_indent is not None and indent > except_indent:
            continue
        except_indent = None
        if UNTAGGED_NOTE.search(line):
            out.append(stripped)
        elif WRAPPER.match(stripped):
            except_indent = indent if stripped.startswith("except") else None
        elif not (GUIDE.digest(line) in hashes or TAGGED.search(line) or re.match(r"#\s*\(", stripped)):
            out.append(stripped)
    return out


def test_guide_line_check_flags_an_unmarked_change():
    hashes = {GUIDE.digest(ln) for ln in ('>>> ds = ds.train_test_split(test_size=0.2)', 'checkpoint_callback = f(',
                                          '    filepath="checkpoint.h5",', "model.fit(")}
    cell = GUIDE_MARK + " / the guide's code (Chinese edition)\n"
    assert guide_cell_deviations(cell + "ds = ds.train_test_split( test_size=0.2 )  # 划分\n", hashes) == []
    assert guide_cell_deviations(cell + 'checkpoint_callback = f(\n    filepath=str(d / "checkpoint.h5"),\n', hashes) \
        == ['filepath=str(d / "checkpoint.h5"),']
    assert guide_cell_deviations(cell + 'checkpoint_callback = f(\n    filepath=str(d),  # guide: "checkpoint.h5"\n',
                                 hashes) == []
    assert guide_cell_deviations(cell + "try:\n    model.fit(\nexcept ValueError as e:\n    print(e)\n", hashes) == []
    assert guide_cell_deviations(cell + "try:\n    history = model.fit(\nexcept ValueError:\n    pass\n", hashes) \
        == ["history = model.fit("]
    assert guide_cell_deviations(cell + "model.fit(  # the guide: no history\n", hashes)  # another spelling
    assert guide_cell_deviations("x = 1\n", hashes) == []  # not a guide cell


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "/en/" in p.as_posix()], ids=lambda p: p.stem)
def test_guide_cells_differ_from_the_guide_only_where_marked(path):
    """Every line of a guide cell is the guide's (tests/fixtures/guide_zh_lines.txt, hashed from the Chinese
    edition's code blocks) or says why it is not."""
    hashes = GUIDE.guide_hashes()
    problems = [f"cell {i}: {line}" for i, (src, kind) in enumerate(_cells(path)) if kind == "code"
                for line in guide_cell_deviations(src, hashes)]
    assert not problems, ("a cell marked as the guide's code has lines the guide does not have; tag each "
                          "`# guide: <what the guide wrote>`, `# forced: <why>` or `# kit: <why>`, or move it to a "
                          "cell of its own:\n" + "\n".join(problems))


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "/en/" in p.as_posix()], ids=lambda p: p.stem)
def test_guide_cells_hold_only_the_guides_code(path):
    problems = [f"cell {i}: {line}" for i, (src, kind) in enumerate(_cells(path)) if kind == "code"
                for line in guide_cell_problems(src)]
    assert not problems, ("a cell marked as the guide's code uses the kit; mark the line `# guide: <value>` "
                          "or `# forced: <why>`, or move it to a cell of its own:\n" + "\n".join(problems))


def test_parameters_cell_defaults_to_the_guides_path():
    for path in NOTEBOOKS:
        params = [s for s, k in _cells(path) if k == "code" and re.search(r"^fast = ", s, re.M)]
        assert params and all(re.search(r"^fast = False\b", s, re.M) for s in params), path.name


def _main_flow(path):
    out = []
    for src, kind in _cells(path):
        if kind == "markdown" and APPENDIX.search(src):
            break
        out.append((src, kind))
    return out


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem.startswith("05_")], ids=lambda p: p.parent.name + "/" + p.stem)
def test_05_shows_prediction_against_ground_truth_in_the_main_flow(path):
    code = "\n".join(s for s, k in _main_flow(path) if k == "code")
    assert '"ground truth"' in code and '"prediction"' in code and "wrong = scored & (pred != truth)" in code


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem.startswith("04_")], ids=lambda p: p.parent.name + "/" + p.stem)
def test_04_teaches_reading_the_curves_and_the_small_learning_rate(path):
    prose = "\n".join(s for s, k in _main_flow(path) if k == "markdown")
    want = (("How to read these curves", "overfit", "flat eval mean IoU", "learning rate so small")
            if "/en/" in path.as_posix() else ("怎样读这几条曲线", "过拟合", "mIoU 趋于平稳", "学习率为什么这么小"))
    missing = [w for w in want if w not in prose]
    assert not missing, missing
    assert "fast_training" not in prose, "the fast path's explanation belongs in Under the hood"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem == "01_data"], ids=lambda p: p.parent.name)
def test_01_opens_with_semantic_vs_instance_segmentation(path):
    first = _cells(path)[1][0]  # after the Colab badge: title and objectives
    assert "car-1" in first and "car-2" in first, first[:300]


def test_first_code_cell_is_the_folded_setup():
    """The first code a learner sees is one line: the set-up cell opens folded, showing only its title."""
    for path in NOTEBOOKS:
        first = next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
        assert "".join(first["source"]).startswith("# @title Setup"), path.name
        assert first["metadata"].get("cellView") == "form" and first["metadata"]["jupyter"]["source_hidden"], path.name


HELPER = re.compile(r"`[^`]*?(?<![\w.])((?:sh|shpt|shtf|viz)\.[A-Za-z_]\w*)")


def _track(framework, lang="en"):
    """The notebooks a learner of one framework reads in one language, in course order."""
    return [p for p in NOTEBOOKS if f"/{lang}/" in p.as_posix()
            and (not p.stem.endswith(("_pytorch", "_tensorflow")) or p.stem.endswith(framework))]


@pytest.mark.parametrize("framework", ["_pytorch", "_tensorflow"])
def test_helpers_named_in_the_text_are_shown_at_first_use(framework):
    """d2l shows every helper's code where it is defined: each kit helper a lesson's text names has its code (or,
    for a long one, its summary and where the code is) printed by ``show_source`` in that notebook or before."""
    shown, problems = set(), []
    for path in _track(framework):
        flow = _main_flow(path)
        for src, kind in flow:
            if kind == "code":
                for m in KIT_NAMES.SHOW_SOURCE.finditer(src):
                    shown |= {n.strip() for n in m.group(1).split(",")}
        for src, kind in flow:
            if kind == "markdown":
                for name in HELPER.findall(src):
                    if name not in shown and not name.split(".")[1].isupper():  # constants are values, not code
                        problems.append(f"{path.stem}: `{name}`")
    assert not problems, "named in the text but never shown with show_source(...):\n" + "\n".join(sorted(set(problems)))


def test_show_source_prints_short_helpers_whole_and_summarises_long_ones():
    from seghelpers.data import split_train_test
    from seghelpers.source import source_text

    short = source_text(split_train_test)
    assert "def split_train_test(" in short and "train_test_split" in short
    long = source_text(split_train_test, max_lines=3)
    assert "def " not in long and "split_train_test(ds" in long and "seghelpers/data.py, line" in long


def test_show_source_prints_the_code_of_the_helpers_the_lessons_explain():
    """Docstrings are cut to their first line, so a helper's code, not its documentation, decides what fits:
    03 explains MeanIoU.update/compute, 05 predict, 02 make_transforms."""
    import seghelpers as sh
    import seghelpers.pt as shpt
    from seghelpers.source import short_docstrings, source_text

    for helper, inside in ((sh.MeanIoU, "def update("), (shpt.predict, "upsample_argmax("),
                           (shpt.make_transforms, "def train_transforms("), (shpt.ComputeMetrics, "def __call__(")):
        assert inside in source_text(helper), helper.__name__
    cut = short_docstrings('def f(x):\n    """One line.\n\n    More text.\n    """\n    return x\n')
    assert cut == 'def f(x):\n    """One line. ..."""\n    return x'


def unshown_kit_names(track: list[dict]) -> list[str]:
    """Kit names a notebook's lesson uses (notebooks/kit_names.py) that neither it nor an earlier notebook of the
    learner's track shows with ``sh.show_source``; constants (``MEAN_IOU_METRIC``) are values, not code."""
    shown, missing = set(), []
    for nb in track:
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        # sh.show_source(sh.DatasetMeta.to_model_ids) shows the method and names its class
        shown |= {part for m in KIT_NAMES.SHOW_SOURCE.finditer(code) for arg in m.group(1).split(",")
                  for part in arg.strip().split(".")}
        missing += [name for name in sorted(KIT_NAMES.kit_names(nb)) if name.split(".")[-1] not in shown
                    and not name.split(".")[-1].isupper() and name != "sh.show_source"]
    return missing


def test_unshown_kit_names_are_found():
    cell = lambda src: {"cell_type": "code", "source": [src]}  # noqa: E731
    nb1 = {"cells": [cell("x = sh.load_scene_parse(a)\n"), cell("sh.show_source(sh.load_scene_parse)\n")]}
    nb2 = {"cells": [cell("y = sh.load_scene_parse(a)\nz = shpt.predict(m)\nn = sh.NUM_LABELS\n")]}
    assert unshown_kit_names([nb1, nb2]) == ["shpt.predict"]  # shown in an earlier notebook counts


@pytest.mark.parametrize("framework", ["_pytorch", "_tensorflow"])
def test_every_kit_name_a_lesson_uses_is_shown(framework):
    """A learner going 01 -> 05 in one framework sees the code (or the summary) of every kit helper they call."""
    for lang in ("en", "zh"):
        track = [json.loads(p.read_text(encoding="utf-8")) for p in _track(framework, lang)]
        assert len(track) == 5, [p.stem for p in _track(framework, lang)]
        missing = unshown_kit_names(track)
        assert not missing, f"{lang}/{framework}: used but never shown with sh.show_source: {missing}"
