"""seghelpers.fastproc.FastSegformerProcessor gives the slow SegformerImageProcessor's exact outputs."""
import numpy as np
import pytest
from PIL import Image

from seghelpers.fastproc import FastSegformerProcessor

SIZES = [(97, 61), (61, 97), (128, 128), (300, 211), (40, 333), (64, 64)]  # (width, height): up, down, odd, same


def _slow(**kwargs):
    from transformers import SegformerImageProcessor

    kwargs.setdefault("size", {"height": 64, "width": 80})
    return SegformerImageProcessor(**kwargs)


def _batch(rng, n=len(SIZES), grayscale=False, raw_max=150):
    images, maps = [], []
    for w, h in SIZES[:n]:
        # smooth-ish content with sharp edges, so resampling details show up in the numbers
        base = rng.integers(0, 256, (h // 4 + 1, w // 4 + 1, 3), dtype=np.uint8)
        arr = np.kron(base, np.ones((4, 4, 1), np.uint8))[:h, :w] ^ rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
        img = Image.fromarray(arr)
        if grayscale:  # a grayscale photo converted to RGB, as datasets do for ADE's few L images
            img = img.convert("L").convert("RGB")
        images.append(img)
        lab = rng.integers(0, raw_max + 1, (h, w), dtype=np.uint8)
        lab[: h // 3, : w // 3] = 0  # a block of "other" (raw 0)
        lab[-2:, -2:] = 255  # raw 255: stays 255 when reducing
        maps.append(Image.fromarray(lab))
    return images, maps


def _assert_same(slow_out, fast_out):
    sp, fp = np.asarray(slow_out["pixel_values"]), np.asarray(fast_out["pixel_values"])
    assert fp.shape == sp.shape and fp.dtype == sp.dtype == np.float32
    np.testing.assert_allclose(fp, sp, rtol=0, atol=1e-5)
    if "labels" in slow_out:
        sl, fl = np.asarray(slow_out["labels"]), np.asarray(fast_out["labels"])
        assert fl.shape == sl.shape and fl.dtype == sl.dtype == np.int64
        np.testing.assert_array_equal(fl, sl)


@pytest.mark.parametrize("reduce", [True, False])
@pytest.mark.parametrize("grayscale", [False, True])
def test_same_as_slow_numpy(rng, reduce, grayscale):
    slow = _slow(do_reduce_labels=reduce)
    fast = FastSegformerProcessor(slow)
    images, maps = _batch(rng, grayscale=grayscale)
    _assert_same(slow(images, maps, return_tensors="np"), fast(images, maps, return_tensors="np"))
    labels = fast(images, maps, return_tensors="np")["labels"]
    assert 255 in labels
    if reduce:  # raw 0 -> 255, raw 150 -> 149
        assert (labels[0, :5, :5] == 255).all()  # the block of raw 0 ("other")
        assert labels[labels != 255].max() == 149
    else:
        assert 0 in labels and labels[labels != 255].max() == 150


def test_same_as_slow_torch(rng):
    torch = pytest.importorskip("torch")
    slow = _slow(do_reduce_labels=True, size={"height": 96, "width": 96})
    fast = FastSegformerProcessor(slow)
    images, maps = _batch(rng)
    s, f = slow(images, maps, return_tensors="pt"), fast(images, maps, return_tensors="pt")
    assert isinstance(f["pixel_values"], torch.Tensor) and isinstance(f["labels"], torch.Tensor)
    assert f["labels"].dtype == torch.int64
    _assert_same({k: v.numpy() for k, v in s.items()}, {k: v.numpy() for k, v in f.items()})


def test_images_only_and_single_image(rng):
    slow = _slow(do_reduce_labels=True)
    fast = FastSegformerProcessor(slow)
    images, maps = _batch(rng, n=3)
    out = fast(images, return_tensors="np")
    assert set(out) == {"pixel_values"}
    _assert_same(slow(images, return_tensors="np"), out)
    _assert_same(slow(images[1], maps[1], return_tensors="np"), fast(images[1], maps[1], return_tensors="np"))
    # numpy (H, W, 3) uint8 images and numpy label maps take the fast path too
    arrs = [np.asarray(im) for im in images]
    labs = [np.asarray(m).astype(np.int32) for m in maps]
    _assert_same(slow(arrs, labs, return_tensors="np"), fast(arrs, labs, return_tensors="np"))


def test_other_settings(rng):
    images, maps = _batch(rng, n=4)
    for kwargs in [dict(image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5]), dict(do_normalize=False),
                   dict(do_rescale=False), dict(resample=Image.BICUBIC), dict(rescale_factor=1 / 127.5)]:
        slow = _slow(do_reduce_labels=True, **kwargs)
        _assert_same(slow(images, maps, return_tensors="np"),
                     FastSegformerProcessor(slow)(images, maps, return_tensors="np"))


def test_p_mode_maps_and_unlisted_inputs_fall_back(rng):
    slow = _slow(do_reduce_labels=True)
    fast = FastSegformerProcessor(slow)
    images, maps = _batch(rng, n=3)
    pmaps = [m.convert("P") for m in maps]
    assert all(np.array_equal(np.asarray(p), np.asarray(m)) for p, m in zip(pmaps, maps))
    _assert_same(slow(images, pmaps, return_tensors="np"), fast(images, pmaps, return_tensors="np"))
    # label values above 255 are not the fast path's business: the slow processor answers (here: it raises)
    big = [np.asarray(m).astype(np.int32) + 300 for m in maps]
    with pytest.raises(ValueError):
        slow(images, big, return_tensors="np")
    with pytest.raises(ValueError):
        fast(images, big, return_tensors="np")
    # a per-call override is forwarded to the slow processor
    out = fast(images, maps, return_tensors="np", size={"height": 32, "width": 32})
    _assert_same(slow(images, maps, return_tensors="np", size={"height": 32, "width": 32}), out)


def test_reduce_labels_table_is_exact():
    slow = _slow(do_reduce_labels=True, size={"height": 16, "width": 16})
    lab = np.arange(256, dtype=np.uint8).reshape(16, 16)
    img = Image.fromarray(np.zeros((16, 16, 3), np.uint8))
    s = slow([img], [Image.fromarray(lab)], return_tensors="np")["labels"][0]
    f = FastSegformerProcessor(slow)([img], [Image.fromarray(lab)], return_tensors="np")["labels"][0]
    np.testing.assert_array_equal(f, s)
    assert f.ravel()[0] == 255 and f.ravel()[1] == 0 and f.ravel()[255] == 255 and f.ravel()[151] == 150


def test_return_tensors_none_and_bad_value(rng):
    slow = _slow(do_reduce_labels=False)
    fast = FastSegformerProcessor(slow)
    images, maps = _batch(rng, n=2)
    s, f = slow(images, maps), fast(images, maps)
    assert isinstance(f["pixel_values"], list) and len(f["pixel_values"]) == 2
    for a, b in zip(s["pixel_values"], f["pixel_values"]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)
    for a, b in zip(s["labels"], f["labels"]):
        np.testing.assert_array_equal(b, a)
    with pytest.raises(ValueError, match="return_tensors"):
        fast(images, maps, return_tensors="jax")


def test_core_imports_no_framework():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from PIL import Image; from seghelpers.fastproc import FastSegformerProcessor;"
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
