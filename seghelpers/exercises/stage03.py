"""Notebook 03 (metrics): mean IoU by hand (absent class, ignored pixels, one pixel); per-image averaging."""
from __future__ import annotations

import numpy as np

from . import Choice, Exercise, Wrong, call
from ..metrics import confusion_matrix, mean_iou


def _cases(prediction, reference):
    p, r = np.asarray(prediction), np.asarray(reference)
    n = int(max(p[r != 255].max(initial=0), r[r != 255].max(initial=0))) + 1
    return [
        (p, r, n, "the notebook's example", "笔记本里的例子"),
        (p, r, n + 1, f"the same maps with num_labels={n + 1} (class {n} in neither map)",
         f"同样的两张图、num_labels={n + 1}（类别 {n} 两张图里都没有）"),
        (np.array([[1]]), np.array([[1]]), 2, "a one-pixel image, class 1 predicted right",
         "一张只有一个像素的图像，类别 1 预测正确"),
        (np.array([[0, 1]]), np.array([[0, 255]]), 2, "[[0, 1]] against the reference [[0, 255]]",
         "预测 [[0, 1]] 对真实标签 [[0, 255]]"),
    ]


def _check_mean_iou(fn, prediction, reference):
    for p, r, n, en, zh in _cases(prediction, reference):
        truth = mean_iou([p], [r], num_labels=n, ignore_index=255)
        want = np.asarray(truth["per_category_iou"], dtype=float)
        out = call(fn, p.copy(), r.copy(), n, 255)
        try:
            got_mean, got = out
            got_mean, got = float(got_mean), np.asarray(got, dtype=float).ravel()
        except (TypeError, ValueError):
            raise Wrong(f"return two things, (mean IoU, per-class IoUs); got {type(out).__name__}",
                        f"应该返回两个值：(mIoU, 各类别的交并比)；你返回的是 {type(out).__name__}") from None
        if got.shape != want.shape:
            raise Wrong(f"for {en}: one IoU per class, {n} numbers, expected; got {got.size}",
                        f"对{zh}：每个类别一个交并比，应有 {n} 个数，你给出了 {got.size} 个")
        cm = confusion_matrix(p, r, n, ignore_index=255)[0]
        inter, union = np.diag(cm), cm.sum(0) + cm.sum(1) - np.diag(cm)
        for c in range(n):
            if np.isnan(want[c]) and not np.isnan(got[c]):
                raise Wrong(f"for {en}, class {c} is in neither map: its IoU is 0/0, NaN (undefined), not {got[c]:g}. "
                            "Leave it NaN and average with np.nanmean",
                            f"对{zh}，类别 {c} 在两张图里都没有：它的交并比是 0/0，即 NaN（无定义），不是 {got[c]:g}。"
                            "保留 NaN，并用 np.nanmean 求平均")
            if not np.isnan(want[c]) and not np.isclose(got[c], want[c]):
                total = int(cm.sum())
                extra = ""
                if union[c] and np.isclose(got[c], inter[c] / total):
                    extra = (f": you divided by all {total} scored pixels, not by the union of class {c}",
                             f"：你除以的是全部 {total} 个参与计算的像素，而不是类别 {c} 的并集")
                elif (r == 255).any() and np.isclose(got[c], _iou_counting_ignored(p, r, c)):
                    extra = (": the pixels whose reference is 255 must be left out, prediction included",
                             "：真实标签为 255 的像素必须排除，那里的预测也不算")
                extra = extra or ("", "")
                raise Wrong(f"for {en}, class {c}'s IoU should be {inter[c]}/{union[c]} = {want[c]:.4f}, you give "
                            f"{got[c]:.4f}{extra[0]}",
                            f"对{zh}，类别 {c} 的交并比应为 {inter[c]}/{union[c]} = {want[c]:.4f}，你给出的是 "
                            f"{got[c]:.4f}{extra[1]}")
        if not np.isclose(got_mean, truth["mean_iou"]):
            raise Wrong(f"for {en} the per-class IoUs are right but the mean should be {truth['mean_iou']:.4f} "
                        f"(np.nanmean over the classes), you give {got_mean:.4f}",
                        f"对{zh}，各类别的交并比都对，但平均值应为 {truth['mean_iou']:.4f}（对各类别用 np.nanmean），"
                        f"你给出的是 {got_mean:.4f}")
    return ("IoU is intersection / union per class over the scored pixels (reference != 255); a class in neither map "
            "is 0/0 = NaN and np.nanmean skips it, so it neither helps nor hurts the mean.",
            "交并比是每个类别在参与计算的像素（真实标签 != 255）上的交集 / 并集；两张图里都没有的类别是 0/0 = NaN，"
            "np.nanmean 会跳过它，所以它对平均值既无贡献也无拖累。")


def _iou_counting_ignored(p, r, c):
    pc, rc = p == c, r == c
    union = (pc | rc).sum()
    return (pc & rc).sum() / union if union else np.nan


mean_iou_by_hand = Exercise(
    1, _check_mean_iou,
    hint=("keep only the pixels where reference != ignore_index; then for each class c: intersection = "
          "(pred == c) & (ref == c), union = (pred == c) | (ref == c); IoU = sum(inter) / sum(union), NaN when the "
          "union is 0; the mean is np.nanmean.",
          "先只保留 reference != ignore_index 的像素；然后对每个类别 c：交集 = (pred == c) & (ref == c)，"
          "并集 = (pred == c) | (ref == c)；交并比 = 交集像素数 / 并集像素数，并集为 0 时记为 NaN；平均用 np.nanmean。"),
    solution=('''
        def my_mean_iou(prediction, reference, num_labels, ignore_index=255):
            scored = reference != ignore_index  # the reference decides which pixels count
            p, r = prediction[scored], reference[scored]
            ious = np.full(num_labels, np.nan)
            for c in range(num_labels):
                union = ((p == c) | (r == c)).sum()
                if union:  # a class in neither map stays NaN
                    ious[c] = ((p == c) & (r == c)).sum() / union
            return np.nanmean(ious), ious
        ''',
              "Drop the ignored pixels first (where the reference is 255, whatever was predicted there). Each class "
              "then gets intersection / union; a class absent from both maps has an empty union and stays NaN, "
              "which np.nanmean skips.",
              "先去掉被忽略的像素（真实标签为 255 的位置，不管那里预测成了什么）。然后每个类别算交集 / 并集；"
              "两张图里都没有的类别并集为空，保持 NaN，np.nanmean 会跳过它。"))


def _halves(prediction, reference):
    p, r = np.asarray(prediction), np.asarray(reference)
    n = int(max(p[r != 255].max(initial=0), r[r != 255].max(initial=0))) + 1
    h = p.shape[0] // 2
    whole = mean_iou([p], [r], num_labels=n)["mean_iou"]
    parts = [mean_iou([p[s]], [r[s]], num_labels=n)["mean_iou"] for s in (slice(0, h), slice(h, None))]
    return whole, parts


def _option_b(prediction, reference):
    whole, parts = _halves(prediction, reference)
    return (f"Yes: on your example the halves score {parts[0]:.4f} and {parts[1]:.4f}, average {np.mean(parts):.4f}, "
            f"while the whole scores {whole:.4f}. Each half has its own classes and its own small unions; summing "
            "confusion matrices first weighs every pixel once.",
            f"对：在你的例子上，两半分别是 {parts[0]:.4f} 和 {parts[1]:.4f}，平均 {np.mean(parts):.4f}，而整体是 "
            f"{whole:.4f}。每一半有各自出现的类别和各自较小的并集；先把混淆矩阵加起来，每个像素只计一次。")


def _option_a(prediction, reference):
    whole, parts = _halves(prediction, reference)
    return (f"No: on your example the average of the halves is {np.mean(parts):.4f}, the whole {whole:.4f}.",
            f"不对：在你的例子上，两半的平均是 {np.mean(parts):.4f}，整体是 {whole:.4f}。")


per_image_average = Choice(
    2,
    options={
        "a": _option_a,
        "b": _option_b,
        "c": lambda *a: ("No: every mean IoU here is computed with the same np.nanmean; the problem is what is averaged.",
                         "不对：这里每个 mIoU 都用同样的 np.nanmean 计算；问题在于平均的对象。"),
        "d": lambda *a: ("No: the order of the images does not matter for either number.",
                         "不对：图像的顺序对这两个数都没有影响。"),
    },
    right="b", variable="average_answer",
    hint=("compute both numbers on the two halves of `prediction` / `reference` (section 4 does) and compare.",
          "在 `prediction` / `reference` 的上下两半上把两个数都算出来（第 4 小节就是这么做的），再比较。"),
    solution_why=("b: a class's IoU depends on its pixels in the whole set; per image, a class missing from one image "
                  "is NaN there and a small class gets a tiny union, so each image weighs its classes differently. "
                  "Add up the confusion matrices, then compute once.",
                  "b：一个类别的交并比取决于它在整个数据集上的像素；逐图计算时，某张图里没有的类别在那张图上是 NaN，"
                  "小类别的并集很小，于是每张图对各类别的权重都不一样。应先把混淆矩阵加起来，再只算一次。"))


def _check_prediction_change(answer, prediction, reference):
    p, r = np.asarray(prediction), np.asarray(reference)
    n = int(max(p[r != 255].max(initial=0), r[r != 255].max(initial=0))) + 1
    changed = p.copy()
    changed[3, 2] = 2
    before = mean_iou([p], [r], num_labels=n)["mean_iou"]
    after = mean_iou([changed], [r], num_labels=n)["mean_iou"]
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise Wrong(f"new_mean_iou should be a number, got {answer!r}", f"new_mean_iou 应该是一个数，现在是 {answer!r}") from None
    if np.isclose(got, after, atol=5e-4):
        ref = int(r[3, 2])
        return (f"the pixel (3, 2) is labelled {ref}; predicting 2 there changes only the classes {int(p[3, 2])} and 2, "
                f"so the mean IoU goes from {before:.4f} to {after:.4f}.",
                f"像素 (3, 2) 的真实标签是 {ref}；把那里的预测改成 2，只会影响类别 {int(p[3, 2])} 和类别 2，"
                f"所以 mIoU 从 {before:.4f} 变为 {after:.4f}。")
    if np.isclose(got, before, atol=5e-4):
        raise Wrong(f"{got:.4f} is the mean IoU before the change; set prediction[3, 2] = 2 on a copy and recount",
                    f"{got:.4f} 是改动之前的 mIoU；在一份拷贝上设置 prediction[3, 2] = 2 后重新计数")
    raise Wrong(f"{got:.4f} is not the new mean IoU: recount the intersection and union of class {int(p[3, 2])} and "
                "of class 2 (the pixel leaves one and joins the other); the other classes do not change",
                f"{got:.4f} 不是新的 mIoU：重新数一下类别 {int(p[3, 2])} 和类别 2 的交集与并集（这个像素从一个类别移到了"
                "另一个类别）；其他类别不变")


prediction_change = Exercise(
    3, _check_prediction_change,
    hint=("the pixel (3, 2) is labelled 2 in `reference`: the change removes one wrong pixel from class 0's union "
          "and adds one right pixel to class 2's intersection (and union).",
          "像素 (3, 2) 在 `reference` 里的标签是 2：这个改动让类别 0 的并集少一个预测错的像素，让类别 2 的交集（和并集）"
          "多一个预测对的像素。"),
    solution=('''
        changed = prediction.copy()
        changed[3, 2] = 2  # its reference is 2: a wrong 0 becomes a right 2
        new_mean_iou = sh.mean_iou([changed], [reference], num_labels=3)["mean_iou"]
        print(f"{new_mean_iou:.4f}")
        ''',
              "Only classes 0 and 2 change: class 0 loses a false positive (union 5 -> 4, IoU 3/4), class 2 gains a "
              "true positive (intersection 4 -> 5, IoU 5/6); class 1 stays 5/7. Work it out by hand first, then let "
              "`sh.mean_iou` (or your `my_mean_iou`) confirm.",
              "只有类别 0 和类别 2 会变：类别 0 少了一个误报（并集 5 → 4，交并比 3/4），类别 2 多了一个正确的像素"
              "（交集 4 → 5，交并比 5/6）；类别 1 仍是 5/7。先手算，再用 `sh.mean_iou`（或你的 `my_mean_iou`）验证。"))
