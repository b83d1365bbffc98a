"""Notebook 02 (preprocess): label reduction by hand; flips (PyTorch); the guide's TF augmentation."""
from __future__ import annotations

import numpy as np

from . import Choice, Exercise, Wrong, call
from ..labels import reduce_labels as _kit_reduce


def _by_processor(processor, image, annotation):
    """The processor's own reduction at the annotation's size (no resize), or None if it cannot be asked."""
    try:
        out = processor(image, annotation, do_reduce_labels=True, do_resize=False, return_tensors="np")
        return np.asarray(out["labels"][0])
    except Exception:  # noqa: BLE001 - a processor without these options: fall back to the kit's reduction
        return None


def _check_reduce(fn, example, processor=None):
    raw = np.asarray(example["annotation"])
    cases = [
        (np.array([[0]], np.uint8), "a one-pixel annotation of 0 (\"other\")", "一个只有一个像素、值为 0（“其他”）的标注"),
        (np.array([[1, 150]], np.uint8), "the values 1 and 150", "取值 1 和 150"),
        (np.array([[0, 5]], np.int64), "an int64 annotation [[0, 5]]", "一个 int64 类型的标注 [[0, 5]]"),
        (raw, "the example's annotation", "样本的标注"),
    ]
    for mask, en, zh in cases:
        want = _kit_reduce(mask).astype(np.int64)
        got = np.asarray(call(fn, mask.copy()))
        if got.shape != mask.shape:
            raise Wrong(f"for {en} the result should keep the shape {mask.shape}, got {got.shape}",
                        f"对{zh}，结果应保持形状 {mask.shape}，你得到的是 {got.shape}")
        got = got.astype(np.int64)
        if np.array_equal(got, want):
            continue
        zero = mask == 0
        if zero.any() and (got[zero] == -1).any():
            raise Wrong(f"for {en}, 0 became -1: in a signed array 0 - 1 is -1, not 255. Set the zeros to 255 "
                        "explicitly (np.where), or compute in uint8, where 0 - 1 wraps to 255",
                        f"对{zh}，0 变成了 -1：有符号整数里 0 − 1 等于 −1，不是 255。要么用 np.where 显式地把 0 设为 255，"
                        "要么在 uint8 里计算（0 − 1 会回绕成 255）")
        if zero.any() and not (got[zero] == 255).all():
            raise Wrong(f"for {en}, raw 0 (\"other\") must become 255, the ignore index; you give {got[zero][0]}",
                        f"对{zh}，原始值 0（“其他”）必须变成忽略索引 255，你给出的是 {got[zero][0]}")
        k = mask[~zero & (got != want)]
        if k.size:
            raise Wrong(f"for {en}, raw class {int(k[0])} must become {int(k[0]) - 1} (k -> k - 1); you give "
                        f"{int(got[mask == k[0]][0])}",
                        f"对{zh}，原始类别 {int(k[0])} 应该变成 {int(k[0]) - 1}（k → k − 1），你给出的是 "
                        f"{int(got[mask == k[0]][0])}")
        raise Wrong(f"for {en} the result differs from the reduction", f"对{zh}，结果与标签缩减的结果不同")
    if processor is not None:
        theirs = _by_processor(processor, example["image"], example["annotation"])
        mine = np.asarray(call(fn, raw.copy())).astype(np.int64)
        if theirs is not None and not np.array_equal(theirs.astype(np.int64), mine):
            raise Wrong("on the example, your map differs from the image processor's (do_reduce_labels=True) in "
                        f"{int((theirs != mine).sum())} pixels",
                        f"在样本上，你的结果和图像处理器（do_reduce_labels=True）的结果有 {int((theirs != mine).sum())} "
                        "个像素不同")
    return ("0 (\"other\") becomes 255, which the loss and the metric skip, and class k becomes k - 1, so the "
            "model's 150 outputs are classes 0-149, exactly as the image processor does with do_reduce_labels=True.",
            "0（“其他”）变成 255，损失和指标都会跳过它；类别 k 变成 k − 1，于是模型的 150 个输出对应类别 0～149，"
            "和图像处理器在 do_reduce_labels=True 时做的完全一样。")


reduce_by_hand = Exercise(
    1, _check_reduce,
    hint=("two cases: where the mask is 0 the answer is 255, elsewhere it is mask - 1. "
          "`np.where(mask == 0, 255, mask - 1)` does both; watch the dtype (int64: 0 - 1 is -1).",
          "分两种情况：掩码为 0 的地方结果是 255，其余地方是 mask − 1。"
          "`np.where(mask == 0, 255, mask - 1)` 一次做完两件事；注意数据类型（int64 里 0 − 1 是 −1）。"),
    solution=('''
        def my_reduce_labels(mask):
            mask = np.asarray(mask).astype(np.int64)
            return np.where(mask == 0, 255, mask - 1)  # "other" -> ignore index, class k -> k - 1
        ''',
              "ADE's raw annotations use 0 for \"other\" and 1-150 for the classes; the model has 150 outputs, 0-149. "
              "So 0 goes to 255 (ignored by the loss and the metric) and every class moves down by one.",
              "ADE 的原始标注里 0 表示“其他”，1～150 是各个类别；模型只有 150 个输出，对应 0～149。"
              "所以 0 改为 255（损失和指标都忽略它），其余类别都减一。"))


flip_same_draw = Choice(
    2,
    options={
        "a": ("No: flipping costs the same whether you draw once or twice.",
              "不对：抽一次还是抽两次随机数，翻转的开销都一样。"),
        "b": ("Yes: the annotation labels pixels by position. Flip only one of them and every label sits under the "
              "mirror-image pixel; colour jitter changes values, not positions, so the annotation stays right.",
              "对：标注是按位置给像素打标签的。只翻转其中一个，每个标签都会落到镜像位置的像素上；颜色抖动只改像素值、"
              "不改位置，所以标注不受影响。"),
        "c": ("No: the image processor does not flip anything; it resizes and normalises.",
              "不对：图像处理器不做翻转，它只负责调整尺寸和归一化。"),
        "d": ("No: flipping the annotation does not change which classes it holds, only where they are.",
              "不对：翻转标注不会改变其中有哪些类别，只改变它们的位置。"),
    },
    right="b", variable="flip_answer",
    hint=("what does the annotation's value at (row, column) describe?",
          "标注在（行，列）位置上的值描述的是什么？"),
    solution_why=("b: a mask is aligned with its image pixel by pixel; a geometric change must move both the same "
                  "way (one random draw per example), a colour change touches the image only.",
                  "b：掩码和图像是逐像素对齐的；几何变换必须让两者以同样的方式移动（每个样本只抽一次随机数），颜色变换只作用于图像。"))


guide_tf_augmentation = Choice(
    2,
    options={
        "a": ("No: the guide's TF code never flips.", "不对：指南的 TF 代码根本没有翻转。"),
        "b": ("Yes: the guide jitters `img_to_array`'s floats on a 0-255 scale. The results are neither whole "
              "numbers 0-255 nor values in [0, 1], the only two kinds of float image the processor accepts, so it "
              "raises (brightness alone is enough). The fix: scale to [0, 1] and jitter there, clip to [0, 1], "
              "then round to whole numbers 0-255 and cast to uint8.",
              "对：指南直接在 `img_to_array` 给出的 0～255 浮点数上做抖动。抖动后的值既不是 0～255 的整数，也不在 "
              "[0, 1] 之内，而图像处理器只接受这两种浮点图像，于是报错（单是亮度抖动就足以触发）。改法：先缩放到 "
              "[0, 1]，在这个范围里抖动，截断回 [0, 1]，再四舍五入成 0～255 的整数、转成 uint8。"),
        "c": ("No: label reduction is the image processor's job (do_reduce_labels), and it does it.",
              "不对：标签缩减由图像处理器负责（do_reduce_labels），它也确实做了。"),
        "d": ("No: channels-last is what tf.image expects; the guide transposes afterwards.",
              "不对：tf.image 本来就要求通道在后，指南在之后才做转置。"),
    },
    right="b", variable="tf_aug_answer",
    hint=("run the guide's `aug_transforms` on one image: are the values whole numbers? Are they in [0, 1]? "
          "Compare with what the processor's error message asks for.",
          "对一张图像运行指南的 `aug_transforms`：结果是整数吗？在 [0, 1] 之内吗？再和图像处理器报错信息里的要求对照一下。"),
    solution_why=("b: `img_to_array` gives floats from 0 to 255, and `tf.image` jitters them as if they were in "
                  "[0, 1]: a brightness delta of 0.25 is invisible there, and the results are neither whole numbers "
                  "0-255 nor values in [0, 1], the only floats the processor accepts. The lesson's fix, which "
                  "`shtf.make_transforms` holds: divide by 255 and jitter in [0, 1], clip to [0, 1], round to whole "
                  "numbers 0-255 and cast to uint8.",
                  "b：`img_to_array` 给出的是 0～255 的浮点数，`tf.image` 却按 [0, 1] 的尺度去抖动：亮度增量 0.25 "
                  "在这里肉眼根本看不出来，而抖动结果既不是 0～255 的整数，也不在 [0, 1] 之内，图像处理器却只接受这两种"
                  "浮点图像。课上的改法（`shtf.make_transforms` 里也是这样做的）：先除以 255，在 [0, 1] 内抖动，"
                  "截断回 [0, 1]，再四舍五入成 0～255 的整数、转成 uint8。"))


def _flipped(out, original) -> bool | None:
    """True / False when ``out`` is ``original`` mirrored left-right / unchanged; None when it is neither."""
    out, original = np.asarray(out), np.asarray(original)
    if out.shape == original.shape and np.array_equal(out, original[:, ::-1]):
        return True
    if out.shape == original.shape and np.array_equal(out, original):
        return False
    return None


def _check_flip(fn, example):
    from PIL import Image

    grid = np.arange(24, dtype=np.uint8).reshape(4, 6)  # no row is its own mirror image
    pairs = [(Image.fromarray(np.stack([grid * 10] * 3, -1)), Image.fromarray(grid), "a 4x6 test pair",
              "一对 4x6 的测试图"),
             (example["image"], example["annotation"], "the example", "样本")]
    rng = np.random.default_rng(0)
    for image, annotation, en, zh in pairs:
        flips = 0
        for _ in range(20):
            out = call(fn, image, annotation, rng)
            try:
                out_image, out_annotation = out
            except (TypeError, ValueError):
                raise Wrong(f"return two things, (image, annotation); got {type(out).__name__}",
                            f"应该返回两个值：(image, annotation)；你返回的是 {type(out).__name__}") from None
            f_image, f_annotation = _flipped(out_image, image), _flipped(out_annotation, annotation)
            if f_image is None or f_annotation is None:
                which = ("image", "图像") if f_image is None else ("annotation", "标注")
                raise Wrong(f"for {en} the returned {which[0]} is neither the input nor its left-right mirror image",
                            f"对{zh}，返回的{which[1]}既不是输入本身，也不是它的左右镜像")
            if f_image != f_annotation:
                raise Wrong(f"for {en} the image was {'flipped' if f_image else 'kept'} but the annotation "
                            f"{'flipped' if f_annotation else 'kept'}: draw the random number once and apply it to both",
                            f"对{zh}，图像{'翻转了' if f_image else '没翻转'}，标注却{'翻转了' if f_annotation else '没翻转'}："
                            "只抽一次随机数，再把同一个结果用到两者上")
            flips += f_image
        if not 3 <= flips <= 17:
            raise Wrong(f"for {en} {flips} of 20 calls flipped: a random flip should happen about half the time "
                        "(use the rng you are given, e.g. rng.random() < 0.5)",
                        f"对{zh}，20 次调用中有 {flips} 次翻转：随机翻转应该大约一半的时候发生"
                        "（用传进来的 rng，例如 rng.random() < 0.5）")
    return ("one random draw decides for both, so every label stays on its pixel; colour jitter needs no such care "
            "because it moves no pixel.",
            "一次随机结果同时决定图像和标注，每个标签都还在它的像素上；颜色抖动不移动像素，所以不需要这样处理。")


random_flip = Exercise(
    3, _check_flip,
    hint=("`if rng.random() < 0.5:` once, then mirror both with `PIL.ImageOps.mirror` (or `np.fliplr` on arrays).",
          "只写一次 `if rng.random() < 0.5:`，然后用 `PIL.ImageOps.mirror`（数组则用 `np.fliplr`）把两者都镜像翻转。"),
    solution=('''
        from PIL import ImageOps


        def my_random_flip(image, annotation, rng):
            if rng.random() < 0.5:  # one draw decides for both
                return ImageOps.mirror(image), ImageOps.mirror(annotation)
            return image, annotation
        ''',
              "The annotation labels pixels by position, so a geometric change must move image and annotation "
              "together: draw once, apply the same flip to both. In `train_transforms` call it per example, before "
              "the colour jitter.",
              "标注是按位置给像素打标签的，所以几何变换必须让图像和标注一起移动：只抽一次随机数，把同一个翻转用到两者上。"
              "在 `train_transforms` 里要逐个样本调用它，放在颜色抖动之前。"))
