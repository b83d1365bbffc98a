import json
import subprocess
import sys

import numpy as np
import pytest

import seghelpers as sh


def test_label_map_spot_checks():
    assert sh.NUM_LABELS == 150 == len(sh.id2label) == len(sh.label2id)
    assert sh.id2label[0] == "wall" and sh.id2label[2] == "sky" and sh.id2label[149] == "flag"
    assert sh.id2label[7] == "bed "  # Hugging Face spelling keeps the trailing space
    assert sh.label2id["bed "] == 7 and sh.label2id["chest of drawers"] == 44
    assert all(sh.label2id[v] == k for k, v in sh.id2label.items())


def test_reduce_labels_matches_image_processor_convention():
    raw = np.array([[0, 1, 2], [150, 149, 255]], np.uint8)
    red = sh.reduce_labels(raw)
    assert red.tolist() == [[255, 0, 1], [149, 148, 255]]
    assert sh.raw_from_reduced(red)[0].tolist() == [0, 1, 2]


def test_reduce_labels_same_as_segformer_processor():
    from transformers import SegformerImageProcessor

    rng = np.random.default_rng(1)
    ann = rng.integers(0, 151, (32, 32)).astype(np.uint8)
    img = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    proc = SegformerImageProcessor(do_reduce_labels=True, size={"height": 32, "width": 32})
    labels = proc(img, ann, return_tensors="np")["labels"][0]
    np.testing.assert_array_equal(labels, sh.reduce_labels(ann))


def test_load_label_file(tmp_path):
    f = tmp_path / "id2label.json"
    f.write_text(json.dumps({"0": "road", "1": "car"}))
    i2l, l2i = sh.load_label_file(f)
    assert i2l == {0: "road", 1: "car"} and l2i == {"road": 0, "car": 1}
    f.write_text(json.dumps({"0": "road", "2": "car"}))
    with pytest.raises(ValueError, match="0..N-1"):
        sh.load_label_file(f)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        sh.load_label_file(tmp_path / "missing.json")


def test_palette_spot_checks():
    pal = sh.ade_palette()
    assert pal.shape == (150, 3) and pal.dtype == np.uint8
    assert pal[0].tolist() == [120, 120, 120]  # wall
    assert pal[1].tolist() == [180, 120, 120]  # building
    assert pal[2].tolist() == [6, 230, 230]  # sky
    assert pal[149].tolist() == [92, 0, 255]  # flag
    pal[0] = 0  # a copy: the shared palette must not change
    assert sh.ade_palette()[0].tolist() == [120, 120, 120]


def _loop_colorize(seg):
    out = np.zeros(seg.shape + (3,), np.uint8)
    for label, color in enumerate(sh.ade_palette()):
        out[seg == label] = color
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.int32])
def test_colorize_equals_per_class_loop(dtype, rng):
    seg = rng.integers(0, 150, (37, 53)).astype(dtype)
    seg[0, :5] = 255
    got = sh.colorize(seg)
    np.testing.assert_array_equal(got, _loop_colorize(seg))
    assert got.dtype == np.uint8 and got.flags.c_contiguous and got.shape == seg.shape + (3,)
    assert got[0, 0].tolist() == [0, 0, 0]


def test_colorize_rejects_bad_input():
    with pytest.raises(ValueError, match="H, W"):
        sh.colorize(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="integer"):
        sh.colorize(np.zeros((2, 2), np.float32))
    assert sh.colorize(np.array([[-1, 300]]))[0].tolist() == [[0, 0, 0], [0, 0, 0]]


def test_colorize_annotation_and_roundtrip(rng):
    raw = rng.integers(0, 151, (20, 30)).astype(np.uint8)
    col = sh.colorize_annotation(raw)
    assert (col[raw == 0] == 0).all()
    np.testing.assert_array_equal(col[raw == 1][0], [120, 120, 120])
    back = sh.ids_from_colors(col)
    # the palette repeats (140,140,140) for classes 7 and 49 (raw): the lower id wins
    dup = np.isin(raw, [7, 49])
    np.testing.assert_array_equal(back[~dup], raw[~dup])
    with pytest.raises(ValueError, match="not in the ADE palette"):
        sh.ids_from_colors(np.full((2, 2, 3), 1, np.uint8))


def test_overlay_and_legend(rng):
    img = rng.integers(0, 256, (10, 12, 3)).astype(np.uint8)
    seg = np.zeros((10, 12), np.uint8)
    seg[:, 6:] = 2
    seg[0, 0] = 255
    out = sh.overlay(img, seg, alpha=0.5)
    assert out.shape == img.shape and out.dtype == np.uint8
    expect = (img[5, 8].astype(np.float32) * 0.5 + np.array([6, 230, 230], np.float32) * 0.5).astype(np.uint8)
    np.testing.assert_array_equal(out[5, 8], expect)
    np.testing.assert_array_equal(out[0, 0], img[0, 0])  # ignored pixel keeps the image
    np.testing.assert_array_equal(sh.overlay(img, seg, alpha=0.0), img)
    with pytest.raises(ValueError, match="upsample"):
        sh.overlay(img, seg[:5])
    with pytest.raises(ValueError, match="alpha"):
        sh.overlay(img, seg, alpha=2)
    leg = sh.legend(seg)
    assert [(c, n) for c, n, _, _ in leg] == [(2, "sky"), (0, "wall")]
    assert abs(sum(f for *_, f in leg) - 1) < 1e-9


def test_import_pulls_no_framework():
    code = ("import sys, seghelpers, seghelpers.params, seghelpers.viz;"
            "bad=[m for m in ('torch','tensorflow','datasets','transformers','matplotlib') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
