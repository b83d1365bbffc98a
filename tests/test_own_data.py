"""A learner's own data: label conventions, mask encodings, image inputs, label-map forms (issue 11)."""
import json
import warnings

import numpy as np
import pytest
from PIL import Image

import seghelpers as sh
from seghelpers.data import DataError, load_ade_folder, read_mask
from seghelpers.images import as_rgb


def make_folder(root, masks, id2label=None, meta=None, save=None, ext=".png", images=None):
    """images/training/iNNN.jpg + annotations/training/iNNN<ext>; ``save(mask, path)`` writes one mask."""
    (root / "images/training").mkdir(parents=True)
    (root / "annotations/training").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, m in enumerate(masks):
        h, w = np.asarray(m).shape[:2]
        img = images[i] if images else Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        img.save(root / "images/training" / f"i{i:03d}.jpg")
        p = root / "annotations/training" / f"i{i:03d}{ext}"
        (save or (lambda a, q: Image.fromarray(np.asarray(a, np.uint8), "L").save(q)))(m, p)
    if id2label is not None:
        (root / "id2label.json").write_text(json.dumps({str(k): v for k, v in id2label.items()}))
    if meta is not None:
        (root / "dataset.json").write_text(json.dumps(meta))
    return root


def blobs(n=6, h=32, w=40, fg=1, bg=0, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = np.full((h, w), bg, np.uint8)
        y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
        m[y:y + h // 2, x:x + w // 2] = fg
        out.append(m)
    return out


def three_class(n=6, h=32, w=40):
    """values 0, 1, 2 in bands (0 is a real class when reduce_labels is false)."""
    out = []
    for k in range(n):
        m = np.zeros((h, w), np.uint8)
        m[h // 3:] = 1
        m[2 * h // 3:, k:k + w // 2] = 2
        out.append(m)
    return out


BIN = {0: "background", 1: "polyp"}


# ---- kind 1: the label convention is the dataset's, explicit and validated ----

def test_binary_masks_without_declaration_stop_with_the_fix(tmp_path):
    root = make_folder(tmp_path / "bin", blobs(), BIN)
    with pytest.raises(DataError, match=r"ambiguous.*dataset\.json.*reduce_labels\": false"):
        sh.load_scene_parse(str(root), "train")


def test_binary_masks_declared_zero_is_a_class_train_right(tmp_path, tiny_checkpoint):
    root = make_folder(tmp_path / "bin", blobs(), BIN, meta={"reduce_labels": False})
    labels = sh.dataset_labels(str(root))
    assert (labels.num_labels, labels.reduce_labels) == (2, False)
    ds = sh.load_scene_parse(str(root), "train")
    proc = sh.load_image_processor(tiny_checkpoint, image_size=64, do_reduce_labels=labels.reduce_labels)
    import seghelpers.pt as shpt

    _, val_tf = shpt.make_transforms(proc, augment=False)
    got = val_tf({"image": ds["image"], "annotation": ds["annotation"]})["labels"].numpy()
    assert set(np.unique(got)) == {0, 1}  # background is trained as class 0, polyp as 1; nothing ignored
    # a constant "background everywhere" predictor no longer scores a perfect mean IoU
    m = sh.mean_iou(np.zeros_like(got), got, num_labels=2, ignore_index=255)
    assert m["mean_iou"] < 0.6 and m["per_category_iou"][1] == 0
    refs = [labels.to_model_ids(a) for a in ds["annotation"]]
    assert all(set(np.unique(r)) <= {0, 1} for r in refs)


def test_declared_ade_convention_contradicted_by_the_data(tmp_path):
    root = make_folder(tmp_path / "bin", blobs(), BIN, meta={"reduce_labels": True})
    with pytest.raises(DataError, match=r"value 2 \(class 'polyp'\) never occurs.*reduce_labels\": false"):
        sh.load_scene_parse(str(root), "train")


def test_ade_convention_inferred_when_the_values_prove_it(tmp_path):
    masks = [m + 1 for m in three_class()]  # values 1..3, none 0
    for m in masks:
        m[0, :] = 0  # a thin "other" line
    root = make_folder(tmp_path / "own3", masks, {0: "road", 1: "car", 2: "sky"})
    with pytest.warns(UserWarning, match="ADE way"):
        labels = sh.dataset_labels(str(root))
    assert labels.reduce_labels and labels.id2label == {0: "road", 1: "car", 2: "sky"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per folder, not at every call
        assert len(sh.load_scene_parse(str(root), "train")) == 6
    assert np.array_equal(labels.to_model_ids(masks[0])[0], np.full(masks[0].shape[1], 255))


@pytest.mark.parametrize("n", [2, 3, 5])
def test_n_classes_zero_is_a_class(tmp_path, n):
    masks = [(np.arange(40)[None, :].repeat(24, 0) * n // 40).astype(np.uint8) for _ in range(5)]
    root = make_folder(tmp_path / f"c{n}", masks, {i: f"c{i}" for i in range(n)}, meta={"reduce_labels": False})
    ds = sh.load_scene_parse(str(root), "train")
    vals = np.unique(np.asarray(ds[0]["annotation"]))
    assert vals.tolist() == list(range(n))
    bad = make_folder(tmp_path / f"bad{n}", [m + 1 for m in masks], {i: f"c{i}" for i in range(n)},
                      meta={"reduce_labels": False})
    with pytest.raises(DataError, match=rf"label value {n} is above {n - 1}.*255 = ignored"):
        sh.load_scene_parse(str(bad), "train")


def test_zero_255_binary_masks_are_refused(tmp_path):
    root = make_folder(tmp_path / "b255", blobs(fg=255), BIN, meta={"reduce_labels": False})
    with pytest.raises(DataError, match=r"only 0 and 255.*ignore index.*> 127"):
        sh.load_scene_parse(str(root), "train")


def test_void_255_is_ignored_with_zero_a_class(tmp_path):
    masks = three_class()
    for m in masks:
        m[:, 0] = 255
    root = make_folder(tmp_path / "void", masks, {0: "a", 1: "b", 2: "c"}, meta={"reduce_labels": False})
    ds = sh.load_scene_parse(str(root), "train")
    ids = sh.dataset_labels(str(root)).to_model_ids(ds[0]["annotation"])
    assert set(np.unique(ids)) == {0, 1, 2, 255}


def test_one_class_dataset_is_refused_with_the_fix(tmp_path):
    root = make_folder(tmp_path / "one", blobs(), {0: "lesion"})
    with pytest.raises(ValueError, match=r"only one class.*background class"):
        sh.dataset_labels(str(root))
    with pytest.raises(ValueError, match="only one class"):
        sh.load_scene_parse(str(root), "train")


def test_no_argmax_over_one_channel(tmp_path):
    import torch

    import seghelpers.pt as shpt
    from seghelpers.checkpoints import build_random_segformer
    from transformers import AutoModelForSemanticSegmentation

    with pytest.raises(ValueError, match="one output channel|1 output channel"):
        shpt.upsample_argmax(torch.zeros(1, 1, 4, 4), (8, 8))
    with pytest.raises(ValueError, match="output channel"):
        shpt.ComputeMetrics(num_labels=1)
    ck = build_random_segformer(tmp_path / "one", "tiny", 64, id2label={0: "lesion"})
    model = AutoModelForSemanticSegmentation.from_pretrained(str(ck))
    with pytest.raises(ValueError, match="background class"):
        shpt.predict(model, sh.load_image_processor(str(ck)), [Image.new("RGB", (20, 20))])


def test_dataset_json_errors_name_the_file(tmp_path):
    root = make_folder(tmp_path / "m", three_class(), {0: "a", 1: "b", 2: "c"}, meta={"reduce_labels": "no"})
    with pytest.raises(DataError, match=r"dataset\.json: reduce_labels must be true or false"):
        sh.dataset_labels(str(root))
    (root / "dataset.json").write_text('{"reduce_label": false}')
    with pytest.raises(DataError, match=r"dataset\.json: unknown key"):
        sh.dataset_labels(str(root))
    (root / "dataset.json").write_text('{"reduce_labels": false, "palette": [[0, 0, 0]]}')
    with pytest.raises(DataError, match=r"palette must list one \[r, g, b\] per class \(3 rows"):
        sh.dataset_labels(str(root))


# ---- kind 2: every mask encoding decodes right or fails naming the file ----

def _palette_png(values, palette_rows):
    im = Image.fromarray(values, "P")
    flat = np.zeros((256, 3), np.uint8)
    flat[: len(palette_rows)] = palette_rows
    im.putpalette(flat.ravel().tolist())
    return im


def _decoded(tmp_path, save, meta=None, masks=None):
    masks = masks or three_class()
    root = make_folder(tmp_path / "enc", masks, {0: "a", 1: "b", 2: "c"},
                       meta=meta or {"reduce_labels": False}, save=save)
    ds = sh.load_scene_parse(str(root), "train")
    return masks, [np.asarray(a) for a in ds["annotation"]]


@pytest.mark.parametrize("kind", ["gray-palette", "voc-palette", "declared-palette"])
def test_palette_png_indices_are_values(tmp_path, kind):
    pal = {"gray-palette": [(i, i, i) for i in range(3)],
           "voc-palette": [(0, 0, 0), (128, 0, 0), (0, 128, 0)],
           "declared-palette": [(10, 20, 30), (200, 0, 0), (0, 0, 200)]}[kind]
    meta = {"reduce_labels": False, "palette": pal} if kind == "declared-palette" else None
    masks, got = _decoded(tmp_path, lambda m, p: _palette_png(m, pal).save(p), meta)
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))


def test_palette_png_with_shuffled_indices_is_decoded_by_colour(tmp_path):
    pal = [(10, 20, 30), (200, 0, 0), (0, 0, 200)]
    order = [2, 0, 1]  # index i holds the colour of class order[i]

    def save(m, p):
        idx = np.argsort(order)[m].astype(np.uint8)
        _palette_png(idx, [pal[c] for c in order]).save(p)

    masks, got = _decoded(tmp_path, save, {"reduce_labels": False, "palette": pal})
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))


def test_rgb_colour_masks(tmp_path):
    pal = [(10, 20, 30), (200, 0, 0), (0, 0, 200)]
    save = lambda m, p: Image.fromarray(np.asarray(pal, np.uint8)[m]).save(p)  # noqa: E731
    masks, got = _decoded(tmp_path, save, {"reduce_labels": False, "palette": pal})
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))
    # undeclared colours: stop with the file and the fix
    root = make_folder(tmp_path / "undeclared", three_class(), {0: "a", 1: "b", 2: "c"},
                       meta={"reduce_labels": False}, save=save)
    with pytest.raises(DataError, match=r"i000\.png: colour mask.*\"palette\""):
        sh.load_scene_parse(str(root), "train")


def test_gray_as_rgb_16bit_and_bilevel_masks(tmp_path):
    save_rgb = lambda m, p: Image.fromarray(np.stack([m] * 3, -1)).save(p)  # noqa: E731
    masks, got = _decoded(tmp_path / "rgb", save_rgb)
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))
    save16 = lambda m, p: Image.fromarray(m.astype(np.uint16)).save(p)  # noqa: E731
    masks, got = _decoded(tmp_path / "i16", save16)
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))
    bin_masks = blobs()
    masks, got = _decoded(tmp_path / "one-bit", lambda m, p: Image.fromarray(m.astype(bool)).save(p),
                          masks=bin_masks, meta={"reduce_labels": False})
    assert all(np.array_equal(a, b) for a, b in zip(masks, got))


def test_16bit_mask_values_beyond_255(tmp_path):
    def save(m, p):
        a = m.astype(np.uint16)
        a[0, 0] = 300
        Image.fromarray(a).save(p)

    root = make_folder(tmp_path / "big", three_class(), {0: "a", 1: "b", 2: "c"},
                       meta={"reduce_labels": False}, save=save)
    with pytest.raises(DataError, match=r"i000\.png: I;16.* mask with values 0\.\.300"):
        sh.load_scene_parse(str(root), "train")


def _circle_masks(n=5):
    ids = np.full((48, 64), 3, np.uint8)
    yy, xx = np.mgrid[:48, :64]
    ids[(yy - 30) ** 2 + (xx - 20) ** 2 < 150] = 8
    ids[yy > 40] = 4
    return [ids] * n


def test_jpeg_masks_refused_whatever_the_name(tmp_path):
    save_jpeg = lambda m, p: Image.fromarray(m, "L").save(p, format="JPEG", quality=75)  # noqa: E731
    root = make_folder(tmp_path / "jpg", _circle_masks(), ext=".jpg", save=save_jpeg)
    with pytest.raises(DataError, match=r"i000\.jpg: annotation saved as JPEG \(no i000\.png.*lossless PNG"):
        sh.load_scene_parse(str(root), "train")
    root = make_folder(tmp_path / "renamed", _circle_masks(), save=save_jpeg)  # JPEG bytes in a .png file
    with pytest.raises(DataError, match=r"i000\.png: this mask is stored as JPEG although its name ends in \.png"):
        sh.load_scene_parse(str(root), "train")
    # decoded from JPEG and saved as a real PNG: the damage is still recognised
    jp = tmp_path / "x.jpg"
    save_jpeg(_circle_masks(1)[0], jp)
    damaged = np.asarray(Image.open(jp))
    root = make_folder(tmp_path / "resaved", [damaged] * 5)
    with pytest.raises(DataError, match=r"i000\.png: .*single-pixel specks.*value ramps.*lossless PNG"):
        sh.load_scene_parse(str(root), "train")
    # a clean mask of the same shapes passes
    assert len(sh.load_scene_parse(str(make_folder(tmp_path / "clean", _circle_masks())), "train")) == 5


def test_lossy_traces():
    from seghelpers.data import lossy_traces

    assert lossy_traces(np.zeros((8, 8), np.uint8)) == (0, 0)
    noisy = np.zeros((8, 8), np.uint8)
    noisy[3, 3] = 7
    assert lossy_traces(noisy)[0] == pytest.approx(1 / 64)
    ramp = np.zeros((8, 9), np.uint8)
    ramp[:, 4] = 1
    ramp[:, 5:] = 2  # 0 | 1 | 2: column 4 lies between its neighbours
    assert lossy_traces(ramp)[1] == pytest.approx(8 / 72)


# ---- kind 3: images in every form learners have ----

@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16", "1"])
def test_as_rgb_pil_modes(mode):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (10, 12, 3), dtype=np.uint8))
    im = rgb.convert(mode) if mode != "I;16" else Image.fromarray((np.asarray(rgb.convert("L")).astype(np.uint16) * 257))
    out = as_rgb(im)
    assert out.mode == "RGB" and out.size == (12, 10)
    if mode == "RGBA":
        assert np.array_equal(np.asarray(out), np.asarray(rgb))


def test_as_rgb_arrays():
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 255, (6, 7, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(as_rgb(u8)), u8)
    assert np.array_equal(np.asarray(as_rgb(np.dstack([u8, np.full((6, 7), 9, np.uint8)]))), u8)
    assert np.array_equal(np.asarray(as_rgb(u8 / 255.0)), u8)  # plt.imread of a PNG
    gray = u8[..., 0]
    assert np.array_equal(np.asarray(as_rgb(gray))[..., 2], gray)
    with pytest.raises(TypeError, match=r"values 0\.\.2.*\[0, 1\].*Divide by 255"):
        as_rgb(u8.astype(np.float32) / 100)
    with pytest.raises(TypeError, match=r"\(3, 6, 7\).*channels-first.*transpose"):
        as_rgb(u8.transpose(2, 0, 1))
    with pytest.raises(TypeError, match=r"int32 image with values .*beyond 0\.\.255"):
        as_rgb(np.full((4, 4), 300, np.int32))
    with pytest.raises(TypeError, match="cannot read|shape"):
        as_rgb("not an image")


def test_overlay_and_plots_accept_learner_images():
    import matplotlib

    matplotlib.use("Agg")
    from seghelpers import viz

    rgb = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    seg = np.zeros((8, 9), np.int64)
    seg[4:] = 1
    ref = sh.overlay(rgb, seg)
    for im in (Image.fromarray(rgb).convert("RGBA"), rgb / 255.0, np.dstack([rgb, rgb[..., :1]])):
        assert np.array_equal(sh.overlay(im, seg), ref)
    assert sh.overlay(rgb[..., 0], seg).shape == (8, 9, 3)
    viz.show_overlay(rgb / 255.0, seg, id2label=["sea", "boat"], palette=[[0, 0, 255], [255, 0, 0]])
    viz.show_example(Image.fromarray(rgb).convert("L"), seg.astype(np.uint8),
                     labels=sh.DatasetLabels(["sea", "boat"], reduce_labels=False))


def test_predict_accepts_any_mode_pt(tiny_checkpoint):
    import seghelpers.pt as shpt
    from transformers import AutoModelForSemanticSegmentation

    model = AutoModelForSemanticSegmentation.from_pretrained(tiny_checkpoint)
    proc = sh.load_image_processor(tiny_checkpoint)
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8))
    ref = shpt.predict(model, proc, [rgb])[0]
    outs = shpt.predict(model, proc, [rgb.convert("RGBA"), rgb.convert("L"), rgb.convert("CMYK"),
                                      np.asarray(rgb) / 255.0, np.asarray(rgb.convert("L"))])
    assert np.array_equal(outs[0], ref) and np.array_equal(outs[3], ref)
    assert all(o.shape == (30, 40) for o in outs)
    with pytest.raises(TypeError, match="images\\[0\\]"):
        shpt.predict(model, proc, [np.zeros((3, 30, 40), np.uint8)])


# ---- kind 4: label maps in every form ----

def test_normalize_id2label_forms(tiny_checkpoint):
    from transformers import AutoConfig

    want = {0: "road", 1: "car"}
    assert sh.normalize_id2label({"0": "road", "1": "car"}) == want
    assert sh.normalize_id2label(["road", "car"]) == want
    assert sh.normalize_id2label({1: "car", 0: "road"}) == want
    cfg = AutoConfig.from_pretrained(tiny_checkpoint)
    assert sh.normalize_id2label(cfg) == sh.id2label
    assert sh.normalize_id2label(sh.ADE20K) == sh.id2label
    with pytest.raises(ValueError, match="0..N-1 without gaps"):
        sh.normalize_id2label({0: "a", 2: "b"})
    with pytest.raises(ValueError, match="unique"):
        sh.normalize_id2label(["a", "a"])
    with pytest.raises(TypeError, match="expected a dict"):
        sh.normalize_id2label("road,car")


def test_string_keyed_label_maps_everywhere():
    import matplotlib

    matplotlib.use("Agg")
    from seghelpers import viz

    i2l = json.loads(json.dumps({str(k): v for k, v in sh.id2label.items()}))
    seg = np.zeros((8, 8), np.int64)
    seg[:5] = 2
    assert [n for _, n, _, _ in sh.legend(seg, i2l)] == ["sky", "wall"]
    m = sh.mean_iou([seg], [seg], 150)
    assert "iou_sky" in sh.named_metrics(m, i2l)
    assert "iou_sky" in sh.named_metrics(m, list(sh.id2label.values()))
    viz.plot_per_class_iou(m["per_category_iou"], i2l)
    assert [h.get_label() for h in viz.legend_handles(seg, i2l)] == ["sky (62%)", "wall (38%)"]
    with pytest.raises(ValueError, match="names 2 classes but the metrics have 150"):
        sh.named_metrics(m, ["a", "b"])


# ---- the guide's load_dataset on the same rows ----

def test_guide_source_gives_the_same_rows(tmp_path, monkeypatch):
    from datasets import load_dataset

    monkeypatch.setenv("SEGHELPERS_CACHE", str(tmp_path / "cache"))
    pal = [(10, 20, 30), (200, 0, 0), (0, 0, 200)]
    save = lambda m, p: Image.fromarray(np.asarray(pal, np.uint8)[m]).save(p)  # noqa: E731
    root = make_folder(tmp_path / "own", three_class(), {0: "a", 1: "b", 2: "c"},
                       meta={"reduce_labels": False, "palette": pal}, save=save)
    src = sh.guide_source(str(root))
    assert sh.data.is_hub_layout(src) and src != str(root)
    guide = load_dataset(src, split="train[:4]")
    kit = sh.load_scene_parse(str(root), "train[:4]")
    assert len(guide) == len(kit) == 4
    for g, k in zip(guide, kit):
        assert np.array_equal(np.asarray(g["annotation"]), np.asarray(k["annotation"]))
        assert np.array_equal(np.asarray(g["image"].convert("RGB")), np.asarray(k["image"]))
    # the Hub-layout folder is itself a dataset source with the same labels
    assert sh.dataset_labels(src).id2label == {0: "a", 1: "b", 2: "c"}
    assert not sh.dataset_labels(src).reduce_labels
    assert len(sh.load_scene_parse(src, "train")) == 6
    assert sh.guide_source("merve/scene_parse_150") == "merve/scene_parse_150"
