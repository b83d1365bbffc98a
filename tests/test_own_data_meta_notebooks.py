"""Issue 24: 04 -> 05 on a learner's own two-class data set with a declared palette, PyTorch and TensorFlow,
English and 中文: the description (names, convention, colours) travels with the model, and the executed
notebooks show the data set's names and colours, no ADE name."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replicas import kernel_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMES = {0: "background", 1: "polyp"}
PALETTE = [[10, 20, 30], [200, 40, 90]]
ADE_ONLY = ("wall", "building", "floor", "ceiling", "tree", "bed ", "cabinet", "person", "painting", "sky")


def own_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    (root / "images/training").mkdir(parents=True)
    (root / "annotations/training").mkdir(parents=True)
    for i in range(10):
        m = np.zeros((48, 64), np.uint8)
        m[12:36, 4 * i: 4 * i + 24] = 1
        m[0, :] = 255  # a void border, ignored
        img = np.where(m[..., None] == 1, 200, 60) + rng.normal(0, 10, (48, 64, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / f"images/training/p{i:03d}.jpg")
        Image.fromarray(m, "L").save(root / f"annotations/training/p{i:03d}.png")
    (root / "id2label.json").write_text(json.dumps({str(k): v for k, v in NAMES.items()}))
    (root / "dataset.json").write_text(json.dumps({"reduce_labels": False, "palette": PALETTE}))
    return root


def run(nb: Path, out: Path, params: dict) -> str:
    import nbformat
    import papermill as pm

    dst = out / nb.name
    pm.execute_notebook(str(nb), str(dst), parameters=params, kernel_name="python3", cwd=str(out),
                        progress_bar=False, log_output=False)
    texts = []
    for cell in nbformat.read(dst, as_version=4).cells:
        for o in cell.get("outputs", []):
            texts.append(o.get("text", "") if o.get("output_type") == "stream" else str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.fixture
def env(tmp_path):
    with kernel_env(tmp_path / "cache"):
        yield tmp_path


@pytest.mark.parametrize("framework, lang", [("pytorch", "en"), ("tensorflow", "zh")])
def test_04_then_05_show_the_data_sets_names_and_colours(env, framework, lang):
    data = own_folder(env / "polyps")
    model = env / "model"
    params = {"dataset": str(data), "split": "train", "max_steps": 4, "output_dir": str(model)}
    nbs = ROOT / "notebooks" / lang
    texts = {n: run(nbs / f"{n}_{framework}.ipynb", env, params) for n in ("04_train", "05_inference")}
    saved = json.loads((model / "dataset_meta.json").read_text())  # the description travels with the model
    assert saved["palette"] == PALETTE and saved["reduce_labels"] is False and saved["id2label"] == {"0": "background", "1": "polyp"}
    assert "UNTRAINED" not in texts["05_inference"]
    for nb, text in texts.items():
        leaked = [n for n in ADE_ONLY if f"'{n}'" in text or f" {n}:" in text or f"iou_{n.strip()}" in text]
        assert not leaked, f"{nb} prints ADE class names {leaked}"
    assert "polyp" in texts["04_train"] and "polyp" in texts["05_inference"]
    # 05's overlay figure: its legend patches are drawn in the declared colours, not ADE's first rows
    pixels = np.asarray(Image.open(model / "overlay.png").convert("RGB")).reshape(-1, 3)
    count = {tuple(c): int((pixels == c).all(1).sum()) for c in PALETTE + [[120, 120, 120], [180, 120, 120]]}
    assert max(count[(10, 20, 30)], count[(200, 40, 90)]) >= 50, count
    assert count[(180, 120, 120)] < 20, count
