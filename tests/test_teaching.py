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
            if "/en/" in path.as_posix() else ("怎样读这几条曲线", "过拟合", "mIoU 变平", "学习率为什么这么小"))
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
SHOWN = re.compile(r"show_source\(([^)]*)\)")


def _track(framework):
    """The English notebooks a learner of one framework reads, in course order."""
    return [p for p in NOTEBOOKS if "/en/" in p.as_posix()
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
                for m in SHOWN.finditer(src):
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
