import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import seghelpers as sh
from seghelpers import synthetic
from seghelpers.data import DataError, load_ade_folder, parse_split


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_synthetic_is_deterministic_and_sceneparse_shaped(tmp_path):
    a = synthetic.build_synthetic_ade(tmp_path / "a", n_train=10, n_val=3, seed=7)
    b = synthetic.build_synthetic_ade(tmp_path / "b", n_train=10, n_val=3, seed=7)
    c = synthetic.build_synthetic_ade(tmp_path / "c", n_train=10, n_val=3, seed=8)
    assert _digest(a) == _digest(b) != _digest(c)
    imgs = sorted((a / "images" / "training").glob("*.jpg"))
    anns = sorted((a / "annotations" / "training").glob("*.png"))
    assert [p.stem for p in imgs] == [p.stem for p in anns] and len(imgs) == 10
    assert imgs[0].name == "ADE_train_00000001.jpg"
    sizes, classes, has_other = set(), set(), False
    for i, m in zip(imgs, anns):
        im, an = Image.open(i), Image.open(m)
        assert im.format == "JPEG" and im.mode == "RGB" and an.mode == "L" and im.size == an.size
        arr = np.asarray(an)
        sizes.add(im.size)
        classes |= set(np.unique(arr).tolist()) - {0}
        has_other |= bool((arr == 0).any())
        assert arr.max() <= 150
    assert len(sizes) > 1 and any(w != h for w, h in sizes)
    assert has_other
    assert (a / "sceneCategories.txt").read_text().startswith("ADE_train_00000001 ")
    full = synthetic.build_synthetic_ade(tmp_path / "full", seed=0)
    all_classes = set()
    for m in (full / "annotations" / "training").glob("*.png"):
        all_classes |= set(np.unique(np.asarray(Image.open(m))).tolist()) - {0}
    assert len(all_classes) >= 8


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = synthetic._render_example

    def flaky(rng):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(rng)

    monkeypatch.setattr(synthetic, "_render_example", flaky)
    with pytest.raises(KeyboardInterrupt):
        synthetic.build_synthetic_ade(tmp_path, n_train=5, n_val=1)
    assert list(tmp_path.iterdir()) == []  # no half data set, no temp folder


def test_load_ade_folder_and_split_slicing(synthetic_root):
    ds = load_ade_folder(synthetic_root, "train[:5]")
    assert ds.column_names == ["image", "annotation", "scene_category"] and len(ds) == 5
    ex = ds[0]
    assert ex["image"].mode == "RGB" and ex["annotation"].mode == "L"
    assert ex["image"].size == ex["annotation"].size
    assert ds.features["scene_category"].names == sorted(synthetic.SCENES)
    assert len(load_ade_folder(synthetic_root, "train")) == 12
    assert len(load_ade_folder(synthetic_root, "validation")) == 4
    assert len(load_ade_folder(synthetic_root, "train[2:5]")) == 3
    assert len(load_ade_folder(synthetic_root, "train[:50%]")) == 6
    assert load_ade_folder(synthetic_root, "train[2:3]")[0]["annotation"].tobytes() == \
        Image.open(synthetic_root / "annotations/training/ADE_train_00000003.png").tobytes()


def test_load_scene_parse_synthetic_matches_guide_sizes(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGHELPERS_CACHE", str(tmp_path))
    ds = sh.load_scene_parse("synthetic", "train[:50]")
    assert len(ds) == 50
    split = sh.split_train_test(ds, 0.2, seed=0)
    assert (len(split["train"]), len(split["test"])) == (40, 10)


def test_parse_split():
    assert parse_split("train") == ("train", None)
    assert parse_split("train[:50]")[0] == "train"
    with pytest.raises(ValueError, match="train\\[:50\\]"):
        parse_split("train[:fifty]")


@pytest.fixture
def ade_copy(synthetic_root, tmp_path):
    dst = tmp_path / "ADEChallengeData2016"
    shutil.copytree(synthetic_root, dst)
    return dst


def _first(ade, kind="annotations"):
    return sorted((ade / kind / "training").iterdir())[0]


def test_error_annotation_size_differs(ade_copy):
    p = _first(ade_copy)
    Image.open(p).resize((33, 21), Image.NEAREST).save(p)
    with pytest.raises(DataError, match=f"{p.name}.*differs from its image"):
        load_ade_folder(ade_copy, "train")


def test_ade_colour_annotation_is_decoded(ade_copy):
    p = _first(ade_copy)
    raw = np.asarray(Image.open(p)).copy()
    Image.fromarray(sh.colorize_annotation(raw)).save(p)
    ds = load_ade_folder(ade_copy, "train")
    assert np.array_equal(np.asarray(ds[0]["annotation"]), raw)


def test_error_label_above_150(ade_copy):
    p = _first(ade_copy)
    arr = np.asarray(Image.open(p)).copy()
    arr[0, 0] = 151
    Image.fromarray(arr, "L").save(p)
    with pytest.raises(DataError, match=f"{p.name}.*151 is above 150"):
        load_ade_folder(ade_copy, "train")


def test_error_corrupt_image(ade_copy):
    p = _first(ade_copy, "images")
    p.write_bytes(p.read_bytes()[:200])  # truncated JPEG
    with pytest.raises(DataError, match=f"{p.name}.*cannot read"):
        load_ade_folder(ade_copy, "train")


def test_error_missing_annotation_and_orphan(ade_copy):
    p = _first(ade_copy)
    p.unlink()
    with pytest.raises(DataError, match=f"{p.stem}.jpg: no annotation"):
        load_ade_folder(ade_copy, "train")


def test_error_orphan_annotation(ade_copy):
    p = _first(ade_copy, "images")
    p.unlink()
    with pytest.raises(DataError, match="annotation without an image"):
        load_ade_folder(ade_copy, "train")


def test_error_empty_or_wrong_folder(tmp_path):
    (tmp_path / "images" / "training").mkdir(parents=True)
    (tmp_path / "annotations" / "training").mkdir(parents=True)
    with pytest.raises(DataError, match="holds no images"):
        sh.load_scene_parse(str(tmp_path), "train")
    with pytest.raises(DataError, match="validation is missing"):
        sh.load_scene_parse(str(tmp_path), "validation")


def test_error_unknown_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        sh.load_scene_parse("./no/such/ADE", "train")
    with pytest.raises(ValueError, match="script dataset.*merve/scene_parse_150"):
        sh.load_scene_parse("scene_parse_150", "train[:50]")
    with pytest.raises(ValueError, match="dataset=''"):
        sh.load_scene_parse("", "train")
    with pytest.raises(ConnectionError, match="make prefetch"):
        sh.load_scene_parse("someone/not-cached-dataset", "train[:5]")


def test_error_split_too_small(synthetic_root):
    ds = load_ade_folder(synthetic_root, "train[:3]")
    with pytest.raises(DataError, match="3 example.*at least 5.*80/20"):
        sh.split_train_test(ds, 0.2)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P"])
def test_image_modes_become_rgb(ade_copy, mode):
    p = _first(ade_copy, "images")
    im = Image.open(p).convert(mode)
    if mode in ("RGBA", "P"):
        p.unlink()
        p = p.with_suffix(".png")
        im.save(p)
    else:
        im.save(p)
    ds = load_ade_folder(ade_copy, "train[:1]")
    assert ds[0]["image"].mode == "RGB"


def test_exif_rotated_image_with_unrotated_annotation(ade_copy):
    p = _first(ade_copy, "images")
    im = Image.open(p)
    if im.size[0] == im.size[1]:
        pytest.skip("square example")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on load
    im.save(p, exif=exif)
    with pytest.raises(DataError, match="EXIF orientation 6.*matches the unrotated pixels"):
        load_ade_folder(ade_copy, "train")


def test_exif_rotated_image_with_matching_annotation_loads(ade_copy):
    p = _first(ade_copy, "images")
    a = _first(ade_copy)
    im = Image.open(p)
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(p, exif=exif)
    Image.open(a).transpose(Image.Transpose.ROTATE_270).save(a)  # what the viewer shows
    ds = load_ade_folder(ade_copy, "train[:1]")
    assert ds[0]["image"].size == ds[0]["annotation"].size


def test_16bit_image_fails_clearly(ade_copy):
    p = _first(ade_copy, "images")
    arr = (np.asarray(Image.open(p).convert("L")).astype(np.uint16) * 257)
    p.unlink()
    Image.fromarray(arr).save(p.with_suffix(".png"))  # uint16 -> mode I;16
    with pytest.raises(DataError, match="16-bit.*8-bit RGB"):
        load_ade_folder(ade_copy, "train")


def test_tiny_and_large_images_load(tmp_path):
    root = tmp_path / "ADEChallengeData2016"
    for split in ("training",):
        (root / "images" / split).mkdir(parents=True)
        (root / "annotations" / split).mkdir(parents=True)
    for stem, size in (("tiny", (20, 12)), ("huge", (4100, 300))):
        Image.new("RGB", size, (10, 20, 30)).save(root / "images/training" / f"{stem}.jpg")
        Image.new("L", size, 3).save(root / "annotations/training" / f"{stem}.png")
    ds = load_ade_folder(root, "train")
    assert sorted(x.size for x in ds["image"]) == [(20, 12), (4100, 300)]


def test_own_dataset_with_its_own_label_file(ade_copy):
    import json

    (ade_copy / "id2label.json").write_text(json.dumps({"0": "road", "1": "car", "2": "sky"}))
    with pytest.raises(DataError, match="above the 3 classes"):  # undeclared: the scan sees ADE ids up to 150
        sh.label_maps_for(str(ade_copy))
    (ade_copy / "dataset.json").write_text('{"reduce_labels": true}')
    i2l, _ = sh.label_maps_for(str(ade_copy))
    assert i2l == {0: "road", 1: "car", 2: "sky"}
    with pytest.raises(DataError, match="is above 3"):  # declared: each mask is checked
        sh.load_scene_parse(str(ade_copy), "train")
    for p in (ade_copy / "annotations" / "training").glob("*.png"):
        Image.fromarray((np.asarray(Image.open(p)) % 4).astype(np.uint8), "L").save(p)
    assert len(sh.load_scene_parse(str(ade_copy), "train")) == 12
    assert sh.label_maps_for("synthetic")[0][7] == "bed "
