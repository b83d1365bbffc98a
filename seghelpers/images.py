"""Turn whatever image a learner has into the 8-bit RGB image the models and plots expect."""
from __future__ import annotations

import numpy as np

from .i18n import tr

_FIX = ("Pass a PIL image, a uint8 array of shape (H, W), (H, W, 3) or (H, W, 4), or a float array with values "
        "in [0, 1] (what plt.imread gives for PNG).")
_FIX_ZH = ("请传入 PIL 图像、形状为 (H, W)、(H, W, 3) 或 (H, W, 4) 的 uint8 数组，或取值在 [0, 1] 之间的浮点数组"
           "（plt.imread 读 PNG 得到的就是这种）。")


def as_rgb(image, name: str = "image"):
    """Any learner image -> ``PIL.Image`` in mode RGB.

    Accepted: PIL images in any mode (RGBA, LA, P, L, CMYK, I;16 ... are converted; alpha is dropped, as
    the transformers pipeline does); numpy arrays (or CPU tensors) of shape (H, W) grayscale,
    (H, W, 1), (H, W, 3) or (H, W, 4), dtype uint8, or float with values in [0, 1] (scaled by 255 and
    rounded), or bool (as black/white).

    Raises ``TypeError`` naming the shape / dtype and the fix for anything else: channels-first arrays
    (3, H, W), float arrays outside [0, 1], integer arrays beyond 0..255.
    """
    from PIL import Image

    if isinstance(image, Image.Image):
        if image.mode == "RGB":
            return image
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(image)
            hi = int(arr.max()) if arr.size else 0
            if hi > 255:  # 16-bit photo: scale to 8 bits
                arr = np.round(arr.astype(np.float64) * (255.0 / (65535 if hi > 4095 else 4095)))
            return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").convert("RGB")
        if image.mode == "F":
            return as_rgb(np.asarray(image), name)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
        return image.convert("RGB")
    if hasattr(image, "detach"):  # torch tensor
        image = image.detach().cpu().numpy()
    try:
        arr = np.asarray(image)
    except Exception:
        raise TypeError(tr(f"{name}: cannot read a {type(image).__name__} as an image. {_FIX}",
                           f"{name}：无法把 {type(image).__name__} 当作图像读取。{_FIX_ZH}")) from None
    if arr.dtype == object or arr.ndim not in (2, 3):
        shape = getattr(arr, 'shape', '?')
        raise TypeError(tr(f"{name}: got {type(image).__name__} of shape {shape}. {_FIX}",
                           f"{name}：收到的是形状为 {shape} 的 {type(image).__name__}。{_FIX_ZH}"))
    if arr.ndim == 3:
        if arr.shape[-1] not in (1, 3, 4):
            first = arr.shape[0] in (1, 3, 4)
            hint = (f" It looks channels-first: use np.transpose(x, (1, 2, 0))." if first else "")
            hint_zh = "看起来是通道在前的布局：请用 np.transpose(x, (1, 2, 0))。" if first else ""
            raise TypeError(tr(f"{name}: array of shape {arr.shape} has {arr.shape[-1]} channels in the last axis.{hint} "
                               f"{_FIX}",
                               f"{name}：形状为 {arr.shape} 的数组最后一维有 {arr.shape[-1]} 个通道。{hint_zh}"
                               f"{_FIX_ZH}"))
        if arr.shape[-1] == 1:
            arr = arr[..., 0]
        elif arr.shape[-1] == 4:
            arr = arr[..., :3]
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype.kind == "f":
        if arr.size and (not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1):
            lo, hi = (float(np.nanmin(arr)), float(np.nanmax(arr))) if arr.size else (0, 0)
            raise TypeError(tr(f"{name}: float image with values {lo:g}..{hi:g}, but float images must lie in [0, 1]. "
                               "Divide by 255 (if it holds 0..255 values) or convert with .astype('uint8').",
                               f"{name}：浮点图像的取值是 {lo:g}..{hi:g}，但浮点图像必须在 [0, 1] 之内。"
                               "请除以 255（如果它存的是 0..255 的值），或者用 .astype('uint8') 转换。"))
        arr = np.round(arr * 255.0).astype(np.uint8)
    elif arr.dtype.kind in "iu":
        if arr.dtype != np.uint8:
            if arr.size and (arr.min() < 0 or arr.max() > 255):
                raise TypeError(tr(f"{name}: {arr.dtype} image with values {arr.min()}..{arr.max()}, beyond 0..255. "
                                   "Scale it to 8 bits first, e.g. (x / x.max() * 255).astype('uint8').",
                                   f"{name}：{arr.dtype} 图像的取值是 {arr.min()}..{arr.max()}，超出了 0..255。"
                                   "请先把它缩放到 8 位，例如 (x / x.max() * 255).astype('uint8')。"))
            arr = arr.astype(np.uint8)
    else:
        raise TypeError(tr(f"{name}: dtype {arr.dtype} is not an image dtype. {_FIX}",
                           f"{name}：dtype {arr.dtype} 不是图像能用的数据类型。{_FIX_ZH}"))
    arr = np.ascontiguousarray(arr)
    return Image.fromarray(arr, "L").convert("RGB") if arr.ndim == 2 else Image.fromarray(arr, "RGB")


def as_rgb_array(image, name: str = "image") -> np.ndarray:
    """:func:`as_rgb` as a (H, W, 3) uint8 array."""
    return np.asarray(as_rgb(image, name))


def save_class_map(seg, path):
    """Save a (H, W) map of integer class ids (e.g. what ``predict`` returns, int64) as a lossless PNG.

    uint8 (mode L) when every id is below 256, else 16-bit. The pixel value is the class id: to *look* at it,
    save ``sh.colorize(seg, meta=meta)`` instead. Returns the path. Raises ``ValueError`` for a map that is
    not 2-D, ids outside 0..65535, or a file name that is not ``.png`` (JPEG would blur the ids).
    """
    from pathlib import Path

    from PIL import Image

    from .i18n import tr

    path = Path(path)
    a = np.asarray(seg)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(tr(f"save_class_map: expected a (H, W) integer map of class ids, got {a.dtype} {a.shape}",
                            f"save_class_map：应当是 (H, W) 的整数类别编号图，实际是 {a.dtype} {a.shape}"))
    if path.suffix.lower() != ".png":
        raise ValueError(tr(f"save_class_map: {path.name}: save class ids as .png (lossless); JPEG blurs the ids "
                            "along every edge into other classes",
                            f"save_class_map：{path.name}：类别编号要存成 .png（无损）；JPEG 会把边缘处的编号模糊成别的类别"))
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise ValueError(tr(f"save_class_map: ids must lie in 0..65535, got {a.min()}..{a.max()}",
                            f"save_class_map：类别编号必须在 0..65535 之内，实际是 {a.min()}..{a.max()}"))
    img = Image.fromarray(a.astype(np.uint8), "L") if (not a.size or a.max() < 256) else Image.fromarray(
        a.astype(np.uint16))
    img.save(path, format="PNG")
    return path
