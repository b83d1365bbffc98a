"""A small, deterministic, SceneParse150-shaped data set for offline runs and tests.

:func:`build_synthetic_ade` writes the official offline layout::

    ADEChallengeData2016/
      images/{training,validation}/ADE_{train,val}_%08d.jpg   (RGB JPEG)
      annotations/{training,validation}/...png                (mode L, raw ADE ids 0..150)
      sceneCategories.txt                                      ("ADE_train_00000001 bedroom")

Each image is a little indoor/outdoor scene: a sky or ceiling band over a floor/road/grass band,
with buildings, beds, cabinets, trees, people and paintings drawn as rectangles, ellipses and
polygons. Every class has its own colour and texture, so a tiny model learns it in a few dozen
steps; thin "other" (raw 0) borders are left around some objects. Sizes vary and are not square.
Same seed -> identical files.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .i18n import tr
from .labels import label2id

#: model class name -> (base RGB colour, texture); raw ADE id = model id + 1
CLASSES: dict[str, tuple[tuple[int, int, int], str]] = {
    "wall": ((200, 190, 170), "flat"),
    "building": ((150, 70, 60), "bricks"),
    "sky": ((110, 170, 235), "gradient"),
    "floor": ((120, 85, 50), "planks"),
    "tree": ((40, 120, 40), "noise"),
    "ceiling": ((235, 235, 225), "flat"),
    "road": ((70, 70, 75), "noise"),
    "bed ": ((190, 40, 110), "stripes"),
    "grass": ((90, 190, 60), "noise"),
    "cabinet": ((230, 170, 40), "planks"),
    "person": ((240, 180, 150), "flat"),
    "painting": ((40, 60, 160), "checker"),
}
SCENES = {"bedroom": ("ceiling", "wall", "floor", ["bed ", "cabinet", "painting", "person"]),
          "street": ("sky", "building", "road", ["tree", "person", "building"]),
          "park": ("sky", "tree", "grass", ["tree", "person", "building"])}
#: the sizes (width, height) drawn from; deliberately not all square
SIZES = [(160, 120), (120, 160), (144, 144), (192, 128), (128, 176), (176, 112)]


def raw_id(name: str) -> int:
    return label2id[name] + 1


def _texture(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == "flat":
        t = np.zeros((h, w))
    elif kind == "noise":
        t = rng.normal(0, 18, (h, w))
    elif kind == "stripes":
        t = np.where((xx // 4) % 2 == 0, 25.0, -25.0)
    elif kind == "checker":
        t = np.where(((xx // 6) + (yy // 6)) % 2 == 0, 30.0, -30.0)
    elif kind == "bricks":
        t = np.where((yy % 8 == 0) | (((xx + 8 * ((yy // 8) % 2)) % 16) == 0), -45.0, 0.0)
    elif kind == "planks":
        t = np.where(yy % 10 < 2, -35.0, 0.0) + rng.normal(0, 5, (h, w))
    elif kind == "gradient":
        t = (yy / max(h - 1, 1) - 0.5) * 50.0
    else:  # pragma: no cover - guarded by CLASSES
        raise ValueError(kind)
    return t


def _render_example(rng: np.random.Generator) -> tuple[Image.Image, Image.Image, str]:
    scene = list(SCENES)[rng.integers(len(SCENES))]
    top, middle, bottom, objects = SCENES[scene]
    w, h = SIZES[rng.integers(len(SIZES))]
    label = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(label)
    horizon = int(h * rng.uniform(0.3, 0.45))
    ground = int(h * rng.uniform(0.65, 0.8))
    draw.rectangle([0, 0, w, horizon], fill=raw_id(top))
    draw.rectangle([0, horizon, w, ground], fill=raw_id(middle))
    draw.rectangle([0, ground, w, h], fill=raw_id(bottom))
    for _ in range(int(rng.integers(2, 5))):
        name = objects[rng.integers(len(objects))]
        ow, oh = int(w * rng.uniform(0.15, 0.35)), int(h * rng.uniform(0.15, 0.4))
        x0, y0 = int(rng.integers(0, w - ow)), int(rng.integers(horizon // 2, h - oh))
        box = [x0, y0, x0 + ow, y0 + oh]
        border = rng.random() < 0.5  # some objects get a thin "other" (raw 0) outline
        shape = {"tree": "ellipse", "person": "ellipse", "painting": "rect"}.get(name, "rect")
        if name == "building" and rng.random() < 0.5:
            shape = "polygon"
        if shape == "ellipse":
            draw.ellipse(box, fill=raw_id(name), outline=0 if border else None, width=2)
        elif shape == "polygon":
            pts = [(x0, y0 + oh), (x0, y0 + oh // 3), (x0 + ow // 2, y0), (x0 + ow, y0 + oh // 3), (x0 + ow, y0 + oh)]
            draw.polygon(pts, fill=raw_id(name), outline=0 if border else None)
        else:
            draw.rectangle(box, fill=raw_id(name), outline=0 if border else None, width=2)
    ann = np.asarray(label)
    img = np.zeros((h, w, 3), np.float64)
    for name, (colour, texture) in CLASSES.items():
        m = ann == raw_id(name)
        if m.any():
            layer = np.asarray(colour, np.float64)[None, None, :] + _texture(texture, h, w, rng)[..., None]
            img[m] = layer[m]
    other = ann == 0
    img[other] = rng.integers(0, 60, (int(other.sum()), 1))  # dark, uninformative "other" pixels
    img += rng.normal(0, 4, img.shape)  # sensor noise
    image = Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8), "RGB")
    return image, label, scene


def build_synthetic_ade(root, n_train: int = 60, n_val: int = 10, seed: int = 0, overwrite: bool = False) -> Path:
    """Write a synthetic ``ADEChallengeData2016`` folder under ``root`` and return its path.

    The folder is built in a temporary sibling and renamed into place, so an interrupted build never
    leaves a half data set behind. An existing complete folder is reused unless ``overwrite``.
    """
    if n_train < 1 or n_val < 0:
        raise ValueError(tr(f"n_train must be >= 1 and n_val >= 0, got n_train={n_train}, n_val={n_val}",
                            f"n_train 必须 >= 1，n_val 必须 >= 0，实际是 n_train={n_train}，n_val={n_val}"))
    root = Path(root)
    target = root / "ADEChallengeData2016"
    if target.exists():
        if not overwrite:
            return target
        shutil.rmtree(target)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".ADEChallengeData2016.", dir=root))
    try:
        rng = np.random.default_rng(seed)
        scenes = []
        for split, prefix, n in (("training", "ADE_train", n_train), ("validation", "ADE_val", n_val)):
            (tmp / "images" / split).mkdir(parents=True)
            (tmp / "annotations" / split).mkdir(parents=True)
            for i in range(1, n + 1):
                image, label, scene = _render_example(rng)
                stem = f"{prefix}_{i:08d}"
                image.save(tmp / "images" / split / f"{stem}.jpg", quality=92)
                label.save(tmp / "annotations" / split / f"{stem}.png")
                scenes.append(f"{stem} {scene}")
        (tmp / "sceneCategories.txt").write_text("\n".join(scenes) + "\n")
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(tmp)  # another process (e.g. a second torchrun rank) finished first: same data
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
