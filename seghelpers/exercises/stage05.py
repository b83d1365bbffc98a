"""Notebook 05 (inference): segment by hand (= the kit's / pipeline's route); the guide's palette off by one row;
argmax after upsampling."""
from __future__ import annotations

import numpy as np

from . import Choice, Exercise, Wrong, call
from ..palette import colorize


def _test_images(image):
    image = image.convert("RGB")
    w, h = image.size
    return [(image, "the test image", "测试图像"),
            (image.crop((0, 0, w, max(1, h // 2))), f"its top half ({w}x{max(1, h // 2)}, not square)",
             f"它的上半部分（{w}x{max(1, h // 2)}，不是正方形）"),
            (image.resize((5, 2)), "a tiny 5x2 image", "一张 5x2 的小图")]  # 1 pixel: the processor rejects it


def _check_segment(fn, model, image_processor, image, framework):
    if framework == "pt":
        from .. import pt as fw
        kit = lambda im: fw.predict(model, image_processor, [im], fast=False)[0]  # noqa: E731
    else:
        from .. import tf as fw
        kit = lambda im: fw.predict(model, image_processor, [im])[0]  # noqa: E731
    for im, en, zh in _test_images(image):
        want = kit(im)
        got = np.asarray(call(fn, im))
        if got.ndim == 3 and got.shape[0] == 1:
            got = got[0]
        if got.shape != want.shape:
            swap = ("; (width, height) and (height, width) swapped? PIL's image.size is (width, height)",
                    "；是不是把（宽，高）和（高，宽）弄反了？PIL 的 image.size 是（宽，高）") \
                if got.shape == want.shape[::-1] else ("", "")
            raise Wrong(f"for {en} the map should be (height, width) = {want.shape}, got {got.shape}{swap[0]}",
                        f"对{zh}，结果应为（高，宽）= {want.shape}，你得到的是 {got.shape}{swap[1]}")
        diff = int((got.astype(np.int64) != want).sum())
        if diff > max(1, want.size // 1000):  # float near-ties may flip a pixel or two
            raise Wrong(f"for {en}, {diff} of {want.size} pixels ({diff / want.size:.1%}) get another class than "
                        "the processor -> model -> bilinear upsample of the logits -> argmax route",
                        f"对{zh}，{want.size} 个像素中有 {diff} 个（{diff / want.size:.1%}）的类别和“图像处理器 → 模型 → "
                        "对 logits 双线性上采样 → argmax”的结果不同")
    return ("processor -> model -> upsample the logits to (height, width) -> argmax over the classes is exactly what "
            "the pipeline and the kit's predict do, for any image size.",
            "图像处理器 → 模型 → 把 logits 上采样到（高，宽）→ 在类别维度上取 argmax，这正是 pipeline 和套件的 "
            "predict 所做的，对任何尺寸的图像都成立。")


_SEGMENT_PT = '''
    def my_segment(image):
        inputs = image_processor(image, return_tensors="pt").to(device)
        with torch.no_grad():
            logits = model(**inputs).logits.cpu()  # (1, classes, height / 4, width / 4)
        logits = nn.functional.interpolate(logits, size=image.size[::-1], mode="bilinear", align_corners=False)
        return logits.argmax(dim=1)[0].numpy()  # upsample first, then argmax
    '''
_SEGMENT_TF = '''
    def my_segment(image):
        logits = model(**image_processor(image, return_tensors="tf")).logits  # (1, classes, h / 4, w / 4)
        logits = tf.transpose(logits, [0, 2, 3, 1])  # channels last, for tf.image.resize
        logits = tf.image.resize(logits, image.size[::-1])  # bilinear, to (height, width)
        return tf.math.argmax(logits, axis=-1)[0].numpy()  # upsample first, then argmax
    '''
_SEGMENT_WHY = ("The logits come out at a quarter of the input's size; upsample them (bilinear) to the image's "
                "(height, width), which is image.size reversed, then take the argmax over the class axis.",
                "logits 的尺寸只有输入的四分之一；先把它们（双线性）上采样到原图的（高，宽），也就是把 image.size 反过来，"
                "再在类别维度上取 argmax。")
_SEGMENT_HINT = ("copy section 4's cells into the function: processor, model, upsample the logits to image.size[::-1], "
                 "argmax over the classes; return a (height, width) array.",
                 "把第 4 小节的几个单元格搬进函数：图像处理器、模型、把 logits 上采样到 image.size[::-1]、在类别维度上取 "
                 "argmax；返回（高，宽）的数组。")

segment_by_hand_pt = Exercise(1, lambda fn, model, proc, image: _check_segment(fn, model, proc, image, "pt"),
                              hint=_SEGMENT_HINT, solution=(_SEGMENT_PT, *_SEGMENT_WHY))
segment_by_hand_tf = Exercise(1, lambda fn, model, proc, image: _check_segment(fn, model, proc, image, "tf"),
                              hint=_SEGMENT_HINT, solution=(_SEGMENT_TF, *_SEGMENT_WHY))


def _check_colours(fn, pred, meta):
    table = np.vstack([[0, 0, 0], meta.palette]).astype(np.uint8)  # the guide's layout: row 0 = "other"
    last = meta.num_labels - 1
    cases = [(np.array([[0]]), "a one-pixel map of class 0", "只有一个像素、类别为 0 的图"),
             (np.array([[last, 0]]), f"the map [[{last}, 0]]", f"图 [[{last}, 0]]"),
             (np.asarray(pred), "your prediction `pred`", "你的预测结果 `pred`")]
    for p, en, zh in cases:
        want = colorize(p, meta=meta)
        got = np.asarray(call(fn, p.copy(), table.copy()))
        if got.shape != want.shape:
            raise Wrong(f"for {en} expected an (H, W, 3) image of shape {want.shape}, got {got.shape}",
                        f"对{zh}，应得到形状为 {want.shape} 的（H, W, 3）图像，你得到的是 {got.shape}")
        if np.array_equal(got, want):
            continue
        shifted = table[np.clip(p, 0, len(table) - 1)]
        if np.array_equal(got, shifted):
            raise Wrong(f"for {en} you take row k of the guide's table for class k; that table starts with the row "
                        "of \"other\", so class k is row k + 1 (class 0 came out black)",
                        f"对{zh}，你给类别 k 取的是指南表格的第 k 行；可那张表的第 0 行是“其他”，所以类别 k 在第 k + 1 行"
                        "（类别 0 被涂成了黑色）")
        if np.array_equal(got[..., ::-1], want):
            raise Wrong(f"for {en} the colour channels are reversed (BGR): matplotlib wants RGB, drop [..., ::-1]",
                        f"对{zh}，颜色通道反了（BGR）：matplotlib 要的是 RGB，去掉 [..., ::-1]")
        raise Wrong(f"for {en}, {int((got != want).any(-1).sum())} pixels get a different colour than "
                    "sh.colorize(pred, meta=meta)",
                    f"对{zh}，有 {int((got != want).any(-1).sum())} 个像素的颜色与 sh.colorize(pred, meta=meta) "
                    "不同")
    return ("the guide's table has one extra first row for \"other\" (raw 0), so model class k is row k + 1 "
            "and RGB stays RGB; that is the dataset palette where row i = class i.",
            "指南的表格开头多了一行“其他”（原始值 0），所以模型的类别 k 对应第 k + 1 行，而且 RGB 不要反转；"
            "这就是第 i 行对应类别 i 的数据集调色板。")


palette_fix = Exercise(
    2, _check_colours,
    hint=("model class k is raw annotation value k + 1, and the guide's table is indexed by raw values: "
          "`guide_table[pred + 1]` colours every pixel at once.",
          "模型的类别 k 就是原始标注值 k + 1，而指南的表格是按原始值排的：`guide_table[pred + 1]` 一次给所有像素上色。"),
    solution=('''
        def my_colorize(pred, guide_table):
            return guide_table[pred + 1].astype(np.uint8)  # row 0 is "other": class k is row k + 1; stays RGB
        ''',
              "The guide's 151-row table is indexed by raw annotation values (0 = \"other\"); the model predicts "
              "reduced ids (raw - 1). Shift by one row, and do not flip to BGR: matplotlib shows RGB.",
              "指南那张 151 行的表按原始标注值排列（0 = “其他”），而模型预测的是缩减后的编号（原始值 − 1）。"
              "所以要错开一行；也不要转成 BGR：matplotlib 显示的是 RGB。"))


argmax_after_upsampling = Choice(
    3,
    options={
        "a": ("No: argmax first is cheaper, but that is a reason *for* it, not against it.",
              "不对：先取 argmax 确实更省计算，但这是支持它的理由，而不是反对的理由。"),
        "b": ("Yes: upsampling the scores blends neighbouring classes' evidence, so boundaries fall between the coarse "
              "pixels; argmax first gives blocky class ids that nearest-neighbour can only copy.",
              "对：对分数做上采样会融合相邻像素各类别的证据，边界可以落在粗糙像素之间；先取 argmax 得到的是块状的类别编号，"
              "最近邻插值只能复制它们。"),
        "c": ("No: class ids cannot be interpolated bilinearly at all (a 2.5 is no class); that is why argmax-first "
              "must use nearest neighbour.",
              "不对：类别编号根本不能做双线性插值（2.5 不是任何类别）；正因如此，先取 argmax 时只能用最近邻。"),
        "d": ("No: the model has no idea of the output size; upsampling is done after the model, by us.",
              "不对：模型并不知道输出尺寸；上采样是在模型之后由我们完成的。"),
    },
    right="b", variable="upsample_answer",
    hint=("think of a pixel halfway between a coarse \"wall\" pixel and a coarse \"floor\" pixel.",
          "想象一个位于粗糙的“墙”像素和“地板”像素正中间的像素。"),
    solution_why=("b: bilinear upsampling of the logits interpolates each class's score, so the argmax can switch "
                  "class anywhere between two coarse pixels; argmax first fixes the class per 4x4 block.",
                  "b：对 logits 做双线性上采样会对每个类别的分数插值，argmax 可以在两个粗糙像素之间的任意位置切换类别；"
                  "先取 argmax 则每个 4×4 的块只能是同一个类别。"))
