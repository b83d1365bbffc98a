import numpy as np
import pytest

import seghelpers as sh
from seghelpers.metrics import confusion_matrix

KEYS = ["mean_iou", "mean_accuracy", "overall_accuracy", "per_category_iou", "per_category_accuracy"]


def hub_mean_iou(results, gt_seg_maps, num_labels, ignore_index, nan_to_num=None, label_map=None,
                 reduce_labels=False):
    """The algorithm of the hub's evaluate-metric/mean_iou, restated for the test (3 histograms per image)."""
    ti = np.zeros(num_labels)
    tu = np.zeros(num_labels)
    tp = np.zeros(num_labels)
    tl = np.zeros(num_labels)
    for pred, label in zip(results, gt_seg_maps):
        label = np.array(label).copy()
        if label_map is not None:
            for old, new in label_map.items():
                label[label == old] = new
        pred = np.array(pred)
        if reduce_labels:
            label[label == 0] = 255
            label = label - 1
            label[label == 254] = 255
        mask = label != ignore_index
        pred, label = pred[mask], label[mask]
        inter = pred[pred == label]
        ai = np.histogram(inter, bins=num_labels, range=(0, num_labels - 1))[0]
        ap = np.histogram(pred, bins=num_labels, range=(0, num_labels - 1))[0]
        al = np.histogram(label, bins=num_labels, range=(0, num_labels - 1))[0]
        ti += ai
        tu += ap + al - ai
        tp += ap
        tl += al
    with np.errstate(divide="ignore", invalid="ignore"):
        iou, acc = ti / tu, ti / tl
        out = {"mean_iou": np.nanmean(iou), "mean_accuracy": np.nanmean(acc),
               "overall_accuracy": ti.sum() / tl.sum(), "per_category_iou": iou, "per_category_accuracy": acc}
    if nan_to_num is not None:
        out = {k: np.nan_to_num(v, nan=nan_to_num) for k, v in out.items()}
    return out


def assert_same(a, b):
    assert list(a) == KEYS == list(b)
    for k in KEYS:
        np.testing.assert_allclose(np.asarray(a[k], float), np.asarray(b[k], float), rtol=0, atol=1e-12,
                                   equal_nan=True, err_msg=k)


def test_hand_computed_example():
    pred = np.array([[0, 0, 1], [1, 2, 2]])
    ref = np.array([[0, 1, 1], [1, 2, 255]])
    m = sh.mean_iou([pred], [ref], num_labels=4, ignore_index=255)
    # class 0: I=1, U=2 ; class 1: I=2, U=3 ; class 2: I=1, U=1 ; class 3: absent -> NaN
    np.testing.assert_allclose(m["per_category_iou"][:3], [1 / 2, 2 / 3, 1.0])
    assert np.isnan(m["per_category_iou"][3])
    assert m["mean_iou"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    np.testing.assert_allclose(m["per_category_accuracy"][:3], [1.0, 2 / 3, 1.0])
    assert m["overall_accuracy"] == pytest.approx(4 / 5)


@pytest.mark.parametrize("reduce_labels", [False, True])
@pytest.mark.parametrize("nan_to_num", [None, 0.0])
def test_matches_hub_algorithm_random(rng, reduce_labels, nan_to_num):
    n = 20
    preds = [rng.integers(0, n, (17, 23)) for _ in range(5)]
    refs = [rng.integers(0, n + 1 if reduce_labels else n, (17, 23)) for _ in range(5)]
    for r in refs:
        r[rng.random(r.shape) < 0.1] = 255
    refs[0][0, :4] = 40  # out of range, not ignored: counted only in the pred area
    preds[1][0, :3] = 99  # out-of-range prediction
    kw = dict(num_labels=n, ignore_index=255, nan_to_num=nan_to_num, reduce_labels=reduce_labels)
    assert_same(sh.mean_iou(preds, refs, **kw), hub_mean_iou(preds, refs, **kw))


def test_label_map_and_batches(rng):
    preds = rng.integers(0, 5, (3, 8, 8))
    refs = rng.integers(0, 6, (3, 8, 8))
    kw = dict(num_labels=5, ignore_index=255, label_map={5: 255, 1: 2})
    assert_same(sh.mean_iou(preds, refs, **kw), hub_mean_iou(list(preds), list(refs), **kw))


def test_streaming_equals_one_shot(rng):
    preds = [rng.integers(0, 7, (9, 11 + i)) for i in range(6)]  # varying sizes
    refs = [rng.integers(0, 7, p.shape) for p in preds]
    acc = sh.MeanIoU(7, 255)
    for p, r in zip(preds, refs):
        acc.update(p, r)
    assert_same(acc.compute(), sh.mean_iou(preds, refs, 7, 255))
    acc.reset()
    assert acc.cm.sum() == 0


def test_against_torchmetrics(rng):
    import torch
    from torchmetrics.classification import MulticlassJaccardIndex

    n = 6
    pred = rng.integers(0, n, (4, 32, 32))
    ref = rng.integers(0, n, (4, 32, 32))
    ref[:, :3] = 255
    ours = sh.mean_iou(pred, ref, n, 255)
    tm = MulticlassJaccardIndex(num_classes=n, ignore_index=255, average="none")
    per = tm(torch.from_numpy(pred), torch.from_numpy(ref)).numpy()
    np.testing.assert_allclose(ours["per_category_iou"], per, atol=1e-6)
    tm_macro = MulticlassJaccardIndex(num_classes=n, ignore_index=255, average="macro")
    assert ours["mean_iou"] == pytest.approx(float(tm_macro(torch.from_numpy(pred), torch.from_numpy(ref))), abs=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        sh.mean_iou([np.zeros((2, 2), int)], [np.zeros((3, 2), int)], 3, 255)
    with pytest.raises(TypeError, match="integer"):
        sh.mean_iou([np.full((2, 2), 0.5)], [np.zeros((2, 2), int)], 3, 255)
    with pytest.raises(ValueError, match="predictions"):
        sh.mean_iou([np.zeros((2, 2), int)] * 2, [np.zeros((2, 2), int)], 3, 255)
    with pytest.raises(ValueError, match="num_labels"):
        sh.MeanIoU(0)


def test_confusion_matrix_layout():
    cm, ep, er = confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2)
    assert cm.tolist() == [[1, 1], [0, 1]]  # rows = reference, columns = prediction
    assert ep.sum() == er.sum() == 0


def test_evaluate_load_offline_module(rng):
    import evaluate

    metric = evaluate.load(sh.MEAN_IOU_METRIC)
    preds = [rng.integers(0, 10, (8, 8)) for _ in range(3)]
    refs = [rng.integers(0, 11, (8, 8)) for _ in range(3)]
    got = metric.compute(predictions=preds, references=refs, num_labels=10, ignore_index=255, reduce_labels=True)
    assert_same(got, hub_mean_iou(preds, refs, 10, 255, reduce_labels=True))


def test_named_metrics():
    m = sh.mean_iou([np.array([[0, 1]])], [np.array([[0, 1]])], 2, 255)
    named = sh.named_metrics(m, {0: "wall", 1: "bed "}, prefix="val_")
    assert named["val_iou_wall"] == 1.0 and named["val_accuracy_bed "] == 1.0 and named["val_mean_iou"] == 1.0


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                                   ">i8", ">u4"])
@pytest.mark.parametrize("ignore_index", [255, None, 5000, -100])
def test_every_integer_dtype_and_ignore_index(rng, dtype, ignore_index):
    """Fast path (ignore_index None or 0..4095) and masked path give the hub's numbers for any int dtype."""
    n = 12
    info = np.iinfo(dtype)
    preds = rng.integers(0, n, (3, 9, 13)).astype(dtype)
    refs = rng.integers(0, n, (3, 9, 13)).astype(dtype)
    refs[0, 0, :5] = min(info.max, 40)  # out of range, not ignored
    preds[1, 0, :4] = info.max  # out-of-range prediction
    if info.min < 0:  # negative ids: counted nowhere, like the hub metric's histograms
        refs[2, 1, :3] = -1
        preds[2, 2, :3] = info.min
    if ignore_index is not None and info.min <= ignore_index <= info.max:
        refs[:, 3] = ignore_index
    kw = dict(num_labels=n, ignore_index=ignore_index)
    want = hub_mean_iou(list(preds), list(refs), **kw)
    assert_same(sh.mean_iou(preds, refs, **kw), want)
    assert_same(sh.mean_iou(list(preds), list(refs), **kw), want)


@pytest.mark.parametrize("dtype", ["int64", ">i8", "int16", "uint16"])
def test_clean_and_corrupt_chunks_mixed(rng, monkeypatch, dtype):
    """Chunks with only in-table ids are coded directly, others are clipped: one call mixes both.

    The corrupt values include ids that a wrong unsigned view or an unchecked ``ref * cols + pred``
    would alias onto real cells (2**56 byte-swaps to 1; a prediction of n + 1 spills into the next row).
    """
    from seghelpers import metrics

    monkeypatch.setattr(metrics, "_CHUNK", 50)
    monkeypatch.setattr(metrics, "_threads_for", lambda size: 2)
    n = 9
    info = np.iinfo(dtype)
    preds = rng.integers(0, n, (6, 20, 30)).astype(dtype)
    refs = rng.integers(0, n, (6, 20, 30)).astype(dtype)
    refs[rng.random(refs.shape) < 0.05] = 255
    flat_p, flat_r = preds.reshape(-1), refs.reshape(-1)  # views: corrupt a few chunks only
    flat_p[120:125] = n + 1
    flat_r[777:780] = n + 3
    flat_p[1500:1550] = flat_r[1500:1550] = 0  # one whole chunk of zeros, but for one huge id
    flat_r[1501] = min(info.max, 2 ** 56)
    if info.min < 0:
        flat_p[2222:2224] = -1
        flat_r[3001] = -(n + 1)
    kw = dict(num_labels=n, ignore_index=255)
    assert_same(sh.mean_iou(preds, refs, **kw), hub_mean_iou(list(preds), list(refs), **kw))
    cm, ep, er = confusion_matrix(preds, refs, n, 255)
    ok = (refs >= 0) & (refs < n) & (preds >= 0) & (preds < n)
    want = np.zeros((n, n), np.int64)
    np.add.at(want, (refs[ok].astype(np.intp), preds[ok].astype(np.intp)), 1)
    np.testing.assert_array_equal(cm, want)


@pytest.mark.parametrize("ignore_index", [255, None])
def test_threaded_chunks_count_every_pixel_once(rng, monkeypatch, ignore_index):
    """Tiny chunks force many chunks and several threads; every pixel is counted exactly once."""
    from seghelpers import metrics

    monkeypatch.setattr(metrics, "_CHUNK", 64)
    monkeypatch.setattr(metrics, "_threads_for", lambda size: 3)
    n = 7
    preds = rng.integers(-2, n + 3, (5, 31, 37))
    refs = rng.integers(-2, n + 3, (5, 31, 37))
    refs[rng.random(refs.shape) < 0.1] = 255
    kw = dict(num_labels=n, ignore_index=ignore_index)
    got = sh.mean_iou(preds, refs, **kw)
    assert_same(got, hub_mean_iou(list(preds), list(refs), **kw))
    cm, ep, er = confusion_matrix(preds, refs, n, ignore_index)
    in_range = (refs >= 0) & (refs < n) & (preds >= 0) & (preds < n)
    assert cm.sum() == in_range.sum()
