"""Notebook 01 (data): class frequencies over the split; why one ``seed`` for 02-05."""
from __future__ import annotations

import numpy as np

from . import Choice, Exercise, Wrong, call


def _present(annotation, meta) -> np.ndarray:
    ids = np.unique(meta.to_model_ids(annotation))
    return ids[(ids != meta.ignore_index) & (ids >= 0) & (ids < meta.num_labels)]


def _truth(dataset, meta) -> np.ndarray:
    counts = np.zeros(meta.num_labels, dtype=np.int64)
    for row in dataset:
        counts[_present(row["annotation"], meta)] += 1
    return counts


def _edge_dataset(meta):
    """Three one-row-per-case annotations: one pixel of the first class, one pixel the model ignores, and a
    2x2 map holding the last class three times (it must count once)."""
    from datasets import Dataset, Features, Image as ImageFeature
    from PIL import Image

    first = 1 if meta.reduce_labels else 0  # raw value of model class 0
    last = meta.num_labels - 1 + first
    ignored = 0 if meta.reduce_labels else meta.ignore_index
    maps = [np.array([[first]]), np.array([[ignored]]), np.array([[last, last], [last, first]])]
    return Dataset.from_dict({"annotation": [Image.fromarray(m.astype(np.uint8), "L") for m in maps]},
                             features=Features({"annotation": ImageFeature()}))


def _check_counts(fn, dataset, meta):
    for data, where_en, where_zh in ((_edge_dataset(meta), "a 3-image test set", "一个 3 张图的测试集"),
                                     (dataset, "your training set", "你的训练集")):
        truth = _truth(data, meta)
        got = np.asarray(call(fn, data, meta))
        if got.shape != truth.shape:
            raise Wrong(f"on {where_en}: expected one count per class, {meta.num_labels} numbers, got shape "
                        f"{got.shape}",
                        f"在{where_zh}上：应该每个类别一个计数，共 {meta.num_labels} 个数，你返回的形状是 {got.shape}")
        if np.array_equal(got, truth):
            continue
        pixels = np.zeros(meta.num_labels, dtype=np.int64)
        for row in data:
            ids = meta.to_model_ids(row["annotation"]).ravel()
            ids = ids[(ids >= 0) & (ids < meta.num_labels)]
            pixels += np.bincount(ids, minlength=meta.num_labels)
        if np.array_equal(got, pixels):
            raise Wrong(f"on {where_en} you counted pixels; the question asks for images: count a class once per "
                        "image that contains it (np.unique per image)",
                        f"在{where_zh}上你统计的是像素数；题目问的是图像数：一个类别在一张图里出现，只记一次"
                        "（对每张图用 np.unique）")
        k = int(np.flatnonzero(got != truth)[0])
        name = str(meta.id2label.get(k, k)).strip()
        raise Wrong(f"on {where_en}, class {k} ({name!r}) is in {truth[k]} image(s), your count says {got[k]}. "
                    "Are you counting model class ids (meta.to_model_ids), and leaving out the ignored value "
                    f"{meta.ignore_index}?",
                    f"在{where_zh}上，类别 {k}（{name!r}）出现在 {truth[k]} 张图里，你的结果是 {got[k]}。"
                    f"你统计的是模型的类别编号（meta.to_model_ids）吗？忽略索引 {meta.ignore_index} 排除了吗？")
    absent = int((truth == 0).sum())
    return (f"{absent} of {meta.num_labels} classes never appear in the training split: they have no ground-truth "
            "pixels, so the model cannot learn them, and on a test split without them their IoU is NaN (never "
            "predicted) or 0 (predicted by mistake).",
            f"{meta.num_labels} 个类别里有 {absent} 个在训练集里一次也没出现：它们没有真实标签像素，模型学不到；"
            "在同样没有它们的测试集上，它们的交并比要么是 NaN（从未被预测），要么是 0（被误预测）。")


class_frequencies = Exercise(
    1, _check_counts,
    hint=("loop over the rows; per row, `np.unique(meta.to_model_ids(row[\"annotation\"]))` gives the classes "
          "in that image; drop `meta.ignore_index` and add 1 to each class's count.",
          "逐行遍历；对每一行，`np.unique(meta.to_model_ids(row[\"annotation\"]))` 给出这张图里有哪些类别；"
          "去掉 `meta.ignore_index`，再给每个出现的类别计数加 1。"),
    solution=('''
        def my_images_per_class(dataset, meta):
            counts = np.zeros(meta.num_labels, dtype=int)
            for row in dataset:
                ids = np.unique(meta.to_model_ids(row["annotation"]))
                ids = ids[ids != meta.ignore_index]  # "other" is not a class
                counts[ids] += 1  # np.unique: once per image, however many pixels
            return counts
        ''',
              "`meta.to_model_ids` turns the raw annotation into the model's class ids (ADE: raw k -> k - 1, "
              "0 -> 255). `np.unique` lists each class once per image, so the count is images, not pixels.",
              "`meta.to_model_ids` 把原始标注转换成模型的类别编号（ADE：原始值 k → k − 1，0 → 255）。"
              "`np.unique` 让每个类别在一张图里只出现一次，所以统计的是图像数，而不是像素数。"))


def _seed_overlap(kit_ds):
    from ..data import split_train_test

    rows = kit_ds.add_column("_row", list(range(len(kit_ds))))  # which original rows land in each test split
    a = split_train_test(rows, test_size=0.2, seed=1)["test"]["_row"]
    b = split_train_test(rows, test_size=0.2, seed=2)["test"]["_row"]
    return len(a), len(set(a) & set(b))


def _option_d(kit_ds):
    n, shared = _seed_overlap(kit_ds)
    return (f"Try it: on your data, seed=1 and seed=2 give test splits of {n} rows that share only {shared}.",
            f"试一下：在你的数据上，seed=1 和 seed=2 得到的测试集各有 {n} 行，只有 {shared} 行相同。")


same_seed = Choice(
    2,
    options={
        "a": lambda kit_ds: ("No: the split takes the same time for any seed.",
                             "不对：无论用哪个 seed，划分花的时间都一样。"),
        "b": lambda kit_ds: ("Yes: 04 trains on the 80 % and evaluates on the 20 %, and 05 scores that same 20 %; with "
                             "another seed, part of that 20 % was seen in training and the mIoU would be flattered.",
                             "对：第 04 篇在 80 % 上训练、在另外 20 % 上评估，第 05 篇也在这 20 % 上打分；换一个 seed，"
                             "这 20 % 里就会混进训练时见过的图像，mIoU 会虚高。"),
        "c": lambda kit_ds: ("No: class names come from the dataset's label file, not from the split.",
                             "不对：类别名来自数据集的标签文件，与划分无关。"),
        "d": _option_d,
    },
    right="b", variable="seed_answer",
    hint=("compare the test rows of two seeds, then ask which notebook trains and which ones score.",
          "比较两个 seed 得到的测试集，再想想哪一篇在训练、哪几篇在评估。"),
    solution_why=("b: the seed decides which rows are held out. 04 must never train on the rows that 04 evaluates "
                  "and 05 scores, so 02, 04 and 05 all split with the same seed (`P.seed`).",
                  "b：seed 决定哪些样本被留出。第 04 篇评估、第 05 篇打分用的样本，第 04 篇绝不能拿来训练，所以第 02、04、05 "
                  "篇都必须用同一个 seed（`P.seed`）来划分。"))
