# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en", "pt"]
# # 03 · Measuring segmentation quality: mean IoU (PyTorch)
#
# Loss tells the optimiser what to do; it does not tell *you* whether the masks are any good. Semantic
# segmentation is judged by per-class IoU and its average over classes, mean IoU. This notebook computes
# them by hand first, then with the guide's 🤗 Evaluate code, then the way the `Trainer` will during training.
#
# **You will learn to**
# - compute per-class IoU, mean IoU and pixel accuracy by hand on a 4×4 example, ignored pixel included;
# - run the guide's `evaluate.load("mean_iou")`, see why it fails offline, and load the same metric from a local copy;
# - read the same numbers off a confusion matrix, and accumulate them batch by batch;
# - explain why a class gets IoU `nan` on a small test split, and what `nan_to_num` does (and does not) change;
# - run the guide's `compute_metrics` for the `Trainer`, and the kit's batched version that gives the same numbers.

# %% [markdown] tags=["lang-zh", "pt"]
# # 03 · 衡量分割质量：平均交并比（PyTorch）
#
# 损失只负责告诉优化器往哪个方向走，并不能告诉*你*分割出来的掩码到底好不好。语义分割看的是每个类别的交并比（IoU），以及它在所有类别上的平均值——平均交并比（mIoU）。本篇先手算，再运行指南里基于 🤗 Evaluate 的代码，最后按 `Trainer` 训练时的方式算。
#
# **本篇目标**
# - 在一个 4×4 的小例子上手算各类别的交并比、mIoU 和像素准确率，包括被忽略的像素；
# - 运行指南里的 `evaluate.load("mean_iou")`，弄清它为什么离线用不了，再从本地副本加载同一个指标；
# - 从混淆矩阵里读出同样的数字，并按批次累积；
# - 解释为什么在小规模测试集上某些类别的交并比会是 `nan`，以及 `nan_to_num` 改变了什么、没改变什么；
# - 运行指南里为 `Trainer` 写的 `compute_metrics`，再看套件按批次计算的版本如何得出相同的数字。

# %% [markdown] tags=["lang-en", "tf"]
# # 03 · Measuring segmentation quality: mean IoU (TensorFlow)
#
# Loss tells the optimiser what to do; it does not tell *you* whether the masks are any good. Semantic
# segmentation is judged by per-class IoU and its average over classes, mean IoU. This notebook computes
# them by hand first, then with the guide's 🤗 Evaluate code, then the way Keras will during training.
#
# **You will learn to**
# - compute per-class IoU, mean IoU and pixel accuracy by hand on a 4×4 example, ignored pixel included;
# - run the guide's `evaluate.load("mean_iou")`, see why it fails offline, and load the same metric from a local copy;
# - read the same numbers off a confusion matrix, and accumulate them batch by batch;
# - explain why a class gets IoU `nan` on a small test split, and what `nan_to_num` does (and does not) change;
# - run the guide's TensorFlow `compute_metrics`, find the label mix-up in it, and fix it.

# %% [markdown] tags=["lang-zh", "tf"]
# # 03 · 衡量分割质量：平均交并比（TensorFlow）
#
# 损失只负责告诉优化器往哪个方向走，并不能告诉*你*分割出来的掩码到底好不好。语义分割看的是每个类别的交并比（IoU），以及它在所有类别上的平均值——平均交并比（mIoU）。本篇先手算，再运行指南里基于 🤗 Evaluate 的代码，最后按 Keras 训练时的方式算。
#
# **本篇目标**
# - 在一个 4×4 的小例子上手算各类别的交并比、mIoU 和像素准确率，包括被忽略的像素；
# - 运行指南里的 `evaluate.load("mean_iou")`，弄清它为什么离线用不了，再从本地副本加载同一个指标；
# - 从混淆矩阵里读出同样的数字，并按批次累积；
# - 解释为什么在小规模测试集上某些类别的交并比会是 `nan`，以及 `nan_to_num` 改变了什么、没改变什么；
# - 运行指南 TensorFlow 版的 `compute_metrics`，找出其中的标签错位并改正。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# `None` means "take it from the profile"; the next cell checks every value. This notebook needs no model
# and no images: it takes the list of classes from `dataset` (section 6) and `seed` for made-up logits.

# %% [markdown] tags=["lang-zh"]
# `None` 表示沿用预设（profile）里的值，下一个单元格会逐项校验。本篇不需要模型，也不读取图像：只从 `dataset` 取类别列表（第 6 小节），再用 `seed` 固定构造 logits 时的随机数。

# %%
{{snippet:validate}}

# %% [markdown] tags=["lang-en"]
# ## 1. IoU by hand
#
# For one class *c*, compare the set of pixels **predicted** as *c* with the set **labelled** *c*:
#
# $$\mathrm{IoU}_c = \frac{|\,\mathrm{pred}_c \cap \mathrm{ref}_c\,|}{|\,\mathrm{pred}_c \cup \mathrm{ref}_c\,|} = \frac{TP}{TP + FP + FN}$$
#
# Mean IoU is the plain average over classes, so a small class counts as much as a large one. Pixel
# accuracy (correct pixels / labelled pixels) is different: walls and floors dominate it, which is why
# segmentation papers report mean IoU.
#
# Here is a 4×4 ground truth (🤗 Evaluate calls it `references`) with three classes (0, 1, 2). Its
# bottom-right pixel is 255, the ignore index: the value the image processor writes for ADE's "other"
# after `do_reduce_labels` (notebook 02). Whether a pixel counts is decided by the *ground truth*: the
# prediction there (a 2) is dropped as well, so 15 pixels are scored. Count first with a pencil, then run
# the cell:
#
# | class | labelled | predicted | intersection | union | IoU | accuracy (TP / labelled) |
# |---|---|---|---|---|---|---|
# | 0 | 4 | 4 | 3 | 5 | 3/5 = 0.6000 | 3/4 |
# | 1 | 5 | 7 | 5 | 7 | 5/7 = 0.7143 | 5/5 |
# | 2 | 6 | 4 | 4 | 6 | 4/6 = 0.6667 | 4/6 |
#
# Mean IoU = (0.6 + 0.7143 + 0.6667) / 3 = 0.6603; overall accuracy = (3 + 5 + 4) / 15 = 0.8.

# %% [markdown] tags=["lang-zh"]
# ## 1. 手算交并比
#
# 对某个类别 *c*，比较**预测**为 *c* 的像素集合与**标注**为 *c* 的像素集合：
#
# $$\mathrm{IoU}_c = \frac{|\,\mathrm{pred}_c \cap \mathrm{ref}_c\,|}{|\,\mathrm{pred}_c \cup \mathrm{ref}_c\,|} = \frac{TP}{TP + FP + FN}$$
#
# 平均交并比（mIoU）就是对各类别直接取平均，小类别和大类别的权重一样。像素准确率（预测正确的像素数 / 有标注的像素数）则不同：它几乎由墙、地板这类大面积类别决定，所以语义分割的论文都报告 mIoU。
#
# 下面是一张 4×4 的真实标签图（🤗 Evaluate 里叫 `references`），有 0、1、2 三个类别。右下角的像素是 255，也就是忽略索引：经过 `do_reduce_labels` 之后，图像处理器会把 ADE 里的“其他”写成 255（见第 02 篇）。某个像素算不算分，由*真实标签*决定：那个位置上的预测值（2）也一并丢掉，所以参与计算的是 15 个像素。先拿笔算一遍，再运行下面的单元格：
#
# | 类别 | 标注像素 | 预测像素 | 交集 | 并集 | 交并比 | 准确率（TP / 标注像素） |
# |---|---|---|---|---|---|---|
# | 0 | 4 | 4 | 3 | 5 | 3/5 = 0.6000 | 3/4 |
# | 1 | 5 | 7 | 5 | 7 | 5/7 = 0.7143 | 5/5 |
# | 2 | 6 | 4 | 4 | 6 | 4/6 = 0.6667 | 4/6 |
#
# mIoU = (0.6 + 0.7143 + 0.6667) / 3 = 0.6603；总体准确率 = (3 + 5 + 4) / 15 = 0.8。

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

reference = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [2, 2, 2, 1],
                      [2, 2, 2, 255]])  # 255 = ignore index
prediction = np.array([[0, 0, 1, 1],
                       [0, 1, 1, 1],
                       [2, 2, 1, 1],
                       [2, 2, 0, 2]])

scored = reference != 255
ious = []
for c in range(3):
    pred_c = (prediction == c) & scored
    ref_c = (reference == c) & scored
    inter, union = (pred_c & ref_c).sum(), (pred_c | ref_c).sum()
    ious.append(inter / union)
    print(f"class {c}: intersection {inter}, union {union}, IoU {inter / union:.4f}")
print(f"mean IoU         {np.mean(ious):.4f}")
print(f"overall accuracy {(prediction == reference)[scored].mean():.4f}")

# %% [markdown] tags=["lang-en"]
# ## 2. The guide's metric: 🤗 Evaluate's `mean_iou`
#
# The guide loads the metric with `evaluate.load("mean_iou")`. That call fetches the metric's Python
# script from the Hugging Face Hub at run time. Offline (the `smoke` default; `make run` sets
# `HF_HUB_OFFLINE=1`), the guide's line fails at once; online (on Colab, say) it simply works. Its message, "doesn't
# exist on the Hugging Face Hub either", really means "could not ask the Hub".

# %% [markdown] tags=["lang-zh"]
# ## 2. 指南的指标：🤗 Evaluate 的 `mean_iou`
#
# 指南用 `evaluate.load("mean_iou")` 加载指标。这个调用会在运行时从 Hugging Face Hub 下载该指标的 Python 脚本。离线运行时（`smoke` 预设的默认情形；`make run` 会设置 `HF_HUB_OFFLINE=1`），指南这一行会立刻失败；联网运行（比如在 Colab 上）则一切正常。报错信息说该模块“在 Hugging Face Hub 上也不存在”，实际意思是“没法去 Hub 上查”。

# %% tags=["pt"]
import seghelpers.pt as shpt  # imports torch (USE_TF=0 keeps TensorFlow out)

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow and before evaluate (which imports transformers): selects Keras 2
import tensorflow as tf

print("TensorFlow", tf.__version__, "| GPUs:", len(tf.config.list_physical_devices("GPU")))

# %%
# 指南原代码 / the guide's code (Chinese edition)
import evaluate

try:  # kit: offline the guide's line raises; the except shows its error
    metric = evaluate.load("mean_iou")
    print("loaded mean_iou from the Hub")  # kit: says that it worked
except Exception as err:
    print(f"{type(err).__name__}: {str(err).split('. ')[-1]}")

# %% [markdown] tags=["lang-en"]
# Offline (the `smoke` default), the change is forced: `evaluate.load()` also accepts a folder, and
# `sh.MEAN_IOU_METRIC` is a local copy of the same metric script, with the same arguments, result keys and
# numbers.
#
# `compute()` takes lists of label maps. `reduce_labels=False` because our labels are already reduced (the
# image processor did it once, in notebook 02); `ignore_index=255` skips the same pixels the loss skips.

# %% [markdown] tags=["lang-zh"]
# 离线运行时（`smoke` 预设的默认情形），这里不得不改一处：`evaluate.load()` 也接受文件夹路径，`sh.MEAN_IOU_METRIC` 就是同一个指标脚本的本地副本，参数、返回的键和计算结果都与 Hub 上的一致。
#
# `compute()` 接收由标签图组成的列表。这里传 `reduce_labels=False`，因为我们的标签已经缩减过一次了（第 02 篇里由图像处理器完成）；`ignore_index=255` 跳过的像素和损失函数跳过的完全一样。

# %%
# NBVAL_CHECK_OUTPUT
metric = evaluate.load(sh.MEAN_IOU_METRIC)  # forced change: a local copy, no Hub needed


def show(metrics: dict) -> None:
    for key, value in metrics.items():
        print(f"{key:22s}", np.array2string(np.asarray(value), precision=4, floatmode="fixed"))


results = metric.compute(predictions=[prediction], references=[reference], num_labels=3,
                         ignore_index=255, reduce_labels=False)
show(results)

# %% [markdown] tags=["lang-en"]
# The kit's `sh.mean_iou` takes the same arguments and returns the same dict; it counts with a confusion
# matrix (section 3) instead of per-image histograms, which is faster. Same input, same numbers:

# %% [markdown] tags=["lang-zh"]
# 套件的 `sh.mean_iou` 参数相同，返回的字典也相同；区别在于它用混淆矩阵计数（见第 3 小节），而不是对每张图分别统计直方图，所以更快。同样的输入，同样的数字：

# %%
# NBVAL_CHECK_OUTPUT
def same_numbers(a: dict, b: dict) -> bool:
    """Same keys and the same values; nan equals nan (a class absent everywhere)."""
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], equal_nan=True) for k in a)


ours = sh.mean_iou([prediction], [reference], num_labels=3, ignore_index=255, reduce_labels=False)
assert same_numbers(results, ours)
print("sh.mean_iou == evaluate's mean_iou:", same_numbers(results, ours))

# %%
sh.show_source(sh.mean_iou)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 3. The confusion-matrix view
#
# A confusion matrix counts pixels by (true class, predicted class): row *r*, column *p*. Every number
# above can be read off it:
#
# - the diagonal is the intersection (true positives) of each class;
# - a row sum is the labelled area of a class, a column sum its predicted area;
# - union = row sum + column sum − diagonal, so IoU = diagonal / union;
# - per-class accuracy = diagonal / row sum; overall accuracy = trace / total.
#
# The off-diagonal cells also tell you *which* classes get confused, which a single IoU number hides.

# %% [markdown] tags=["lang-zh"]
# ## 3. 从混淆矩阵看指标
#
# 混淆矩阵按（真实类别，预测类别）统计像素数：第 *r* 行、第 *p* 列。上面所有的数字都能从中直接读出来：
#
# - 对角线是每个类别的交集（真正例）；
# - 行和是某个类别的标注面积，列和是它的预测面积；
# - 并集 = 行和 + 列和 − 对角线，因此交并比 = 对角线 / 并集；
# - 单类准确率 = 对角线 / 行和；总体准确率 = 迹 / 总数。
#
# 非对角线上的数字还能告诉你*哪些*类别之间容易混淆，这是单看一个交并比数值发现不了的。

# %%
# NBVAL_CHECK_OUTPUT
scored = reference != 255  # the ignore index: not scored
# one count per (true class, predicted class) pair: pair (r, p) gets the number 3 * r + p, 0..8
cm = np.bincount(3 * reference[scored] + prediction[scored], minlength=3 * 3).reshape(3, 3)
print("rows = ground truth, columns = prediction\n", cm)
tp = np.diag(cm)
union = cm.sum(axis=1) + cm.sum(axis=0) - tp
print("IoU per class   ", np.round(tp / union, 4))
print(f"overall accuracy {np.trace(cm) / cm.sum():.4f}")

# %% [markdown] tags=["lang-en"]
# ## 4. Streaming: add up confusion matrices, not scores
#
# Confusion matrices of different batches simply add up, and the sum gives exactly the metric of the whole
# set. That is what `seghelpers.MeanIoU` does: `update()` per batch, `compute()` at the end, with one
# `num_labels × num_labels` matrix as its only state, however many images are scored.
#
# Averaging per-batch mean IoUs instead is a common bug: each batch has its own set of classes, so the
# average of the averages is a different (and wrong) number. Split our example into its top and bottom half:

# %% [markdown] tags=["lang-zh"]
# ## 4. 流式计算：累加混淆矩阵，而不是累加分数
#
# 不同批次的混淆矩阵可以直接相加，用总和算出的指标与一次性在整个数据集上计算完全相同。`seghelpers.MeanIoU` 正是这么做的：每个批次调用 `update()`，最后调用 `compute()`；不管要评估多少张图，它只保存一个 `num_labels × num_labels` 的矩阵。
#
# 而把各批次的 mIoU 取平均是一个常见的错误：每个批次里出现的类别不同，“平均值的平均值”是另一个（错误的）数。把上面的例子拆成上下两半试试：

# %%
# NBVAL_CHECK_OUTPUT
acc = sh.MeanIoU(num_labels=3, ignore_index=255)
acc.update(prediction[:2], reference[:2])  # "batch" 1: top half
acc.update(prediction[2:], reference[2:])  # "batch" 2: bottom half
print(f"streamed mean IoU {acc.compute()['mean_iou']:.4f} (one shot: {results['mean_iou']:.4f})")

halves = [sh.mean_iou([prediction[s]], [reference[s]], num_labels=3)["mean_iou"]
          for s in (slice(0, 2), slice(2, 4))]
print(f"per-batch mean IoU {halves[0]:.4f} and {halves[1]:.4f} -> their average {np.mean(halves):.4f} (wrong)")

# %%
sh.show_source(sh.MeanIoU)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 5. Why some IoUs are `nan`
#
# With ADE's 150 classes and a test split of ten images (the guide's), most classes appear nowhere: neither in the
# ground truth nor in the predictions. Their union is 0, so their IoU is 0/0 = `nan`, "undefined", not
# "zero": the model made no mistake on them. `mean_iou` averages with `np.nanmean`, which skips those
# classes. A class that the model *predicts* but that is absent from the ground truth is different: its
# union is not empty, its IoU is 0, and it pulls the mean down.
#
# `nan_to_num=0` replaces the `nan`s in the *returned* arrays (handy for loggers that choke on `nan`). It
# is applied after averaging, so `mean_iou` does not change. Averaging the zero-filled per-class list
# yourself, though, would count every absent class as a failure. Score our 4×4 example as if it were an
# ADE image, with 150 classes:

# %% [markdown] tags=["lang-zh"]
# ## 5. 为什么有些交并比是 `nan`
#
# ADE 有 150 个类别，而测试集只有 10 张图（指南里正是如此），大多数类别根本不会出现：真实标签里没有，预测里也没有。它们的并集为 0，交并比就是 0/0 = `nan`，意思是“未定义”而不是“零分”：模型在这些类别上并没有犯错。`mean_iou` 用 `np.nanmean` 求平均，会跳过这些类别。模型*预测*了、但真实标签里没有的类别则不同：它的并集不为空，交并比为 0，会拉低平均值。
#
# `nan_to_num=0` 只是把*返回结果*数组里的 `nan` 换成 0（有些日志工具处理不了 `nan`，这时很方便）。它在求平均之后才生效，所以 `mean_iou` 不变。但如果你自己对补零后的各类别列表再求平均，就等于把每个没出现的类别都算成了失败。把上面的 4×4 例子当成一张 ADE 图像、按 150 个类别来算：

# %%
# NBVAL_CHECK_OUTPUT
r150 = metric.compute(predictions=[prediction], references=[reference], num_labels=150,
                      ignore_index=255, reduce_labels=False)
iou = r150["per_category_iou"]
print("per-class IoU of classes 0-4:", np.round(iou[:5], 4))
print(f"classes with IoU nan: {np.isnan(iou).sum()} of {iou.size}")
print(f"mean_iou (nanmean):   {r150['mean_iou']:.4f}")
print(f"plain np.mean:        {np.mean(iou)}")

r0 = metric.compute(predictions=[prediction], references=[reference], num_labels=150,
                    ignore_index=255, reduce_labels=False, nan_to_num=0)
print(f"with nan_to_num=0: mean_iou {r0['mean_iou']:.4f}, "
      f"but the mean of the zero-filled list is {np.mean(r0['per_category_iou']):.4f}")

# %% [markdown] tags=["lang-en", "pt"]
# ## 6. The guide's `compute_metrics` for the `Trainer`
#
# After each evaluation the `Trainer` calls `compute_metrics(eval_pred)`: `eval_pred` holds the logits and
# the labels of the whole test split. SegFormer's logits come at a quarter of the input resolution, so
# the guide's function first upsamples them to the label size, takes the argmax and then calls the metric.
#
# To run it without a model, make up an evaluation batch for your dataset's classes: logits for two 64×64
# images, SegFormer-shaped `(2, num_labels, 16, 16)`, in which the true class always scores 5 higher than
# random noise, and labels with a strip of ignored pixels. `num_labels` and `id2label` are the guide's
# names, taken from the dataset description `meta` (notebook 01).

# %% [markdown] tags=["lang-zh", "pt"]
# ## 6. 指南为 `Trainer` 编写的 `compute_metrics`
#
# 每次评估结束后，`Trainer` 会调用 `compute_metrics(eval_pred)`，`eval_pred` 里装着*整个*测试集的 logits 和标签。SegFormer 输出的 logits 分辨率只有输入的四分之一，所以指南的函数先把它们上采样到标签的尺寸，取 argmax，再调用指标。
#
# 不用模型也能运行它：按当前数据集的类别构造一个评估批次——两张 64×64 图像的 logits，形状与 SegFormer 一致，为 `(2, num_labels, 16, 16)`，其中真实类别的得分总比随机噪声高 5；再构造对应的标签，其中有一条被忽略的像素带。`num_labels` 和 `id2label` 沿用指南里的变量名，取自数据集描述 `meta`（见第 01 篇）。

# %% [markdown] tags=["lang-en", "tf"]
# ## 6. The guide's `compute_metrics` for `KerasMetricCallback`
#
# With Keras, `transformers.KerasMetricCallback(metric_fn, eval_dataset, ...)` computes metrics at the end
# of each epoch: it runs `model.predict` on the test split, gathers logits and labels as numpy arrays
# and calls `metric_fn((logits, labels))`. The returned dict goes into Keras' logs next to `val_loss`, so
# every value must be a scalar: per-class results become keys named by class, `val_iou_<class name>`, ...
#
# To run the guide's function without a model, make up an evaluation batch for your dataset's classes:
# logits for two 64×64 images, SegFormer-shaped `(2, num_labels, 16, 16)`, in which the true class always
# scores 5 higher than random noise, and labels with a strip of ignored pixels. `num_labels` and `id2label`
# are the guide's names, taken from the dataset description `meta` (notebook 01).

# %% [markdown] tags=["lang-zh", "tf"]
# ## 6. 指南为 `KerasMetricCallback` 编写的 `compute_metrics`
#
# 在 Keras 里，`transformers.KerasMetricCallback(metric_fn, eval_dataset, ...)` 会在每轮（epoch）结束时计算指标：它在测试集上运行 `model.predict`，把 logits 和标签收集成 numpy 数组，然后调用 `metric_fn((logits, labels))`。返回的字典会和 `val_loss` 一起写进 Keras 的日志，所以每个值都必须是标量：各类别的结果要拆成以类别名命名的键，即 `val_iou_<类别名>` 等。
#
# 不用模型也能运行指南的函数：按当前数据集的类别构造一个评估批次——两张 64×64 图像的 logits，形状与 SegFormer 一致，为 `(2, num_labels, 16, 16)`，其中真实类别的得分总比随机噪声高 5；再构造对应的标签，其中有一条被忽略的像素带。`num_labels` 和 `id2label` 沿用指南里的变量名，取自数据集描述 `meta`（见第 01 篇）。

# %%
# NBVAL_CHECK_OUTPUT
meta = sh.dataset_meta(P.dataset)  # the dataset description: classes, label convention, colours
num_labels, id2label = meta.num_labels, meta.id2label  # the guide's names
print(meta.describe())

rng = np.random.default_rng(P.seed)
n, k = 2, min(5, num_labels)  # two images; the true classes are 0..k-1
coarse = rng.integers(0, k, size=(n, 4, 4)).repeat(4, axis=1).repeat(4, axis=2)  # (2, 16, 16)
eval_logits = rng.normal(size=(n, num_labels, 16, 16)).astype(np.float32)
eval_logits += 5.0 * (np.arange(num_labels)[None, :, None, None] == coarse[:, None])  # the true class wins
eval_labels = coarse.repeat(4, axis=1).repeat(4, axis=2)  # (2, 64, 64): 4x the logit size, as in SegFormer
eval_labels[:, :4, :] = 255  # a strip of ignored pixels
print("logits", eval_logits.shape, eval_logits.dtype, "| labels", eval_labels.shape, eval_labels.dtype)

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
import numpy as np
import torch
from torch import nn

def compute_metrics(eval_pred):
    with torch.no_grad():
        logits, labels = eval_pred
        logits_tensor = torch.from_numpy(logits)
        logits_tensor = nn.functional.interpolate(
            logits_tensor,
            size=labels.shape[-2:],
            mode="bilinear",
            align_corners=False,
        ).argmax(dim=1)

        pred_labels = logits_tensor.detach().cpu().numpy()
        metrics = metric.compute(
            predictions=pred_labels,
            references=labels,
            num_labels=num_labels,
            ignore_index=255,
            reduce_labels=False,
        )
        for key, value in metrics.items():
            if type(value) is np.ndarray:
                metrics[key] = value.tolist()
        return metrics

# %% [markdown] tags=["lang-en", "pt"]
# The `Trainer` passes an `EvalPrediction`; build one from the made-up batch and run the guide's function
# on it:

# %% [markdown] tags=["lang-zh", "pt"]
# `Trainer` 传进来的是一个 `EvalPrediction`，我们用构造的批次建一个，交给指南的函数：

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
from transformers import EvalPrediction

eval_pred = EvalPrediction(predictions=eval_logits, label_ids=eval_labels)
guide_metrics = compute_metrics(eval_pred)
print(f"guide: mean IoU {guide_metrics['mean_iou']:.4f}, overall accuracy {guide_metrics['overall_accuracy']:.4f}")

# %% [markdown] tags=["lang-en", "pt"]
# **What the guide's metric costs.** `metric.compute` first writes every pixel of every map into an Arrow
# table (🤗 Evaluate's storage format) and reads it back; only then does it count. Its time grows with the
# number of pixels, and the guide pays it at every evaluation. The next cell times it on your machine
# against the kit's `sh.mean_iou`, both on the same maps, enlarged to this notebook's `image_size`.
# For the guide's 512×512 images, item 10 of `benchmarks/RESULTS.md` ("the guide's compute_metrics", from
# `make bench`, `benchmarks/bench_evaluate.py`) measured about 12.7 s per map on a 2-core CPU: about 2 minutes
# per evaluation of the guide's 10 test images, and the guide evaluates 50 times during training.

# %% [markdown] tags=["lang-zh", "pt"]
# **指南的指标要花多少时间。** `metric.compute` 先把每张图的每个像素写进一张 Arrow 表（🤗 Evaluate 的存储格式），再读回来，然后才开始计数。它的耗时随像素数增长，而指南每次评估都要付出这笔开销。下一个单元格在你的机器上，用同一批标签图（放大到本篇的 `image_size`）比较它和套件的 `sh.mean_iou` 各要花多少时间。指南的图像是 512×512。`benchmarks/RESULTS.md` 第 10 项（“the guide's compute_metrics”，由 `make bench` 运行 `benchmarks/bench_evaluate.py` 测得）在一台 2 核 CPU 上测出，这个尺寸下每张图约需 12.7 秒：评估一次指南的 10 张测试图像约需 2 分钟，而训练中指南要评估 50 次。

# %% tags=["pt"]
{{snippet:metric_cost}}

# %% [markdown] tags=["lang-en", "pt"]
# Now hand the same `eval_pred` to the kit's `shpt.ComputeMetrics`, with the dataset description
# (`meta=meta`: the number of classes and the ignore index come from it):

# %% [markdown] tags=["lang-zh", "pt"]
# 再把同一个 `eval_pred` 交给套件的 `shpt.ComputeMetrics`，并传入数据集描述（`meta=meta`：类别数和忽略索引都取自它）：

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
kit_metrics = shpt.ComputeMetrics(meta=meta)(eval_pred)
assert same_numbers(guide_metrics, kit_metrics)
print("shpt.ComputeMetrics == the guide's compute_metrics:", same_numbers(guide_metrics, kit_metrics))
print(f"classes with a finite IoU: {np.isfinite(kit_metrics['per_category_iou']).sum()} of {num_labels}")

# %% tags=["pt"]
sh.show_source(shpt.ComputeMetrics)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "pt"]
# Compare overall accuracy with mean IoU. The true classes are segmented well, but with many classes (ADE
# has 150), noise makes a few pixels score highest for classes that appear in no label; each such class gets
# IoU 0 and counts in the mean as much as a real one. An early, barely trained model shows exactly this
# pattern.
#
# ### The kit's batched version
#
# The guide's function needs every logit of the test split in memory at once: nearly 10 MB per
# 512×512 image, about 20 GB for ADE's 2000 validation images (the arithmetic is in the appendix). The
# kit computes the same numbers batch by batch: `shpt.preprocess_logits_for_metrics` turns
# each batch's logits into class ids right after the forward pass (upsample, argmax). With
# `TrainingArguments(batch_eval_metrics=True)`, the `Trainer` then calls `shpt.ComputeMetrics` once per batch
# (`compute_result=False`, then `True` on the last batch). All it does is add the batch to a confusion
# matrix, the streamed computation of section 4. Memory no longer grows with the number of images, and the
# numbers are the same:

# %% [markdown] tags=["lang-zh", "pt"]
# 比较一下总体准确率和 mIoU。标签里出现的类别都分得不错；可类别一多（ADE 有 150 个），噪声总会让少数像素上得分最高的类别变成标签里根本没有的类别。这些类别的交并比都是 0，却和真正出现的类别一样计入平均值。刚开始训练、几乎没学到东西的模型正是这个样子。
#
# ### 套件的分批版本
#
# 指南的函数要把整个测试集的 logits 同时放在内存里：每张 512×512 的图像将近 10 MB，ADE 验证集的 2000 张图就要约 20 GB（算式见文末附录）。套件*分批*算出同样的数字。`shpt.preprocess_logits_for_metrics` 在每个批次前向计算之后，立即把 logits 上采样并取 argmax，只留下类别编号；再设置 `TrainingArguments(batch_eval_metrics=True)`，`Trainer` 就会每个批次调用一次 `shpt.ComputeMetrics`（前面的批次传 `compute_result=False`，最后一个传 `True`）。它只做一件事：把这个批次累加进混淆矩阵（即第 4 小节的流式计算）。这样内存不再随图像数量增长，结果却完全相同：

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
compute_metrics_kit = shpt.ComputeMetrics(meta=meta)
ids = shpt.preprocess_logits_for_metrics(torch.from_numpy(eval_logits), torch.from_numpy(eval_labels))
print("kept per batch: class ids", tuple(ids.shape), ids.dtype, "instead of logits", eval_logits.shape)

for i in range(n):  # what the Trainer does with batch_eval_metrics=True (batch size 1 here)
    batch = EvalPrediction(predictions=ids[i:i + 1], label_ids=torch.from_numpy(eval_labels[i:i + 1]))
    streamed = compute_metrics_kit(batch, compute_result=(i == n - 1))
assert same_numbers(guide_metrics, streamed)
print("batched == the guide's compute_metrics:", same_numbers(guide_metrics, streamed))

# %% tags=["pt"]
sh.show_source(shpt.preprocess_logits_for_metrics)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "pt"]
# Notebook 04 therefore trains with the batched version. Going back to the guide's path takes only
# arguments: leave out `batch_eval_metrics=True` and `preprocess_logits_for_metrics`, and pass the guide's function.
#
# ```python
# # notebook 04 (batched)
# args = TrainingArguments(..., batch_eval_metrics=True)
# trainer = Trainer(..., compute_metrics=shpt.ComputeMetrics(meta=meta),
#                   preprocess_logits_for_metrics=shpt.preprocess_logits_for_metrics)
# # the guide's path (every logit at once)
# args = TrainingArguments(...)
# trainer = Trainer(..., compute_metrics=compute_metrics)
# ```

# %% [markdown] tags=["lang-zh", "pt"]
# 因此第 04 篇训练时用分批版本。换回指南的做法只需改参数：去掉 `batch_eval_metrics=True` 和 `preprocess_logits_for_metrics`，再传入指南的函数即可。
#
# ```python
# # notebook 04 (batched)
# args = TrainingArguments(..., batch_eval_metrics=True)
# trainer = Trainer(..., compute_metrics=shpt.ComputeMetrics(meta=meta),
#                   preprocess_logits_for_metrics=shpt.preprocess_logits_for_metrics)
# # the guide's path (every logit at once)
# args = TrainingArguments(...)
# trainer = Trainer(..., compute_metrics=compute_metrics)
# ```

# %% [markdown] tags=["lang-en", "tf"]
# The guide's function reads `image_processor.do_reduce_labels`. Here `image_processor` stands in for the
# one notebook 02 built for this dataset (only that setting matters):

# %% [markdown] tags=["lang-zh", "tf"]
# 指南的函数要读取 `image_processor.do_reduce_labels`。这里的 `image_processor` 代替第 02 篇为这个数据集创建的图像处理器（只有这一项设置起作用）：

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
from transformers import SegformerImageProcessor

image_processor = SegformerImageProcessor(do_reduce_labels=meta.reduce_labels)
print("image_processor.do_reduce_labels:", image_processor.do_reduce_labels)

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
def compute_metrics(eval_pred):
    logits, labels = eval_pred
    logits = tf.transpose(logits, perm=[0, 2, 3, 1])
    logits_resized = tf.image.resize(
        logits,
        size=tf.shape(labels)[1:],
        method="bilinear",
    )

    pred_labels = tf.argmax(logits_resized, axis=-1)
    metrics = metric.compute(
        predictions=pred_labels,
        references=labels,
        num_labels=num_labels,
        ignore_index=-1,
        reduce_labels=image_processor.do_reduce_labels,
    )

    per_category_accuracy = metrics.pop("per_category_accuracy").tolist()
    per_category_iou = metrics.pop("per_category_iou").tolist()

    metrics.update({f"accuracy_{id2label[i]}": v for i, v in enumerate(per_category_accuracy)})
    metrics.update({f"iou_{id2label[i]}": v for i, v in enumerate(per_category_iou)})
    return {"val_" + k: v for k, v in metrics.items()}

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
guide_metrics = compute_metrics((eval_logits, eval_labels))
print(f"guide's code: mean IoU {guide_metrics['val_mean_iou']:.4f}, "
      f"overall accuracy {guide_metrics['val_overall_accuracy']:.4f}")

# %% [markdown] tags=["lang-en", "tf"]
# ### The guide's TensorFlow `compute_metrics` mixes up the labels
#
# The true class wins almost every pixel, yet the guide's code scores far lower than the fix below (near
# zero in ADE's convention), and nothing warns you: a silent fault.
#
# The labels that reach `compute_metrics` come from the image processor, which has *already* reduced them
# in the ADE convention the guide uses (0 → 255, *k* → *k*−1). `reduce_labels=image_processor.do_reduce_labels` reduces them a
# second time: every class shifts by one more (class 1 now reads as class 0, class 0 wraps round to 255),
# so every correct prediction is scored against the wrong class. And `ignore_index=-1` ignores nothing:
# predictions on the 255 pixels count as false positives. (For a dataset whose masks need no reduction,
# `do_reduce_labels` is False and only the second fault remains.) The fix is the PyTorch section's
# setting, one convention everywhere: the processor reduces once, and the loss and the metric both ignore
# 255 with `reduce_labels=False`. The guide's function with those two arguments changed:

# %% [markdown] tags=["lang-zh", "tf"]
# ### 指南 TensorFlow 版的 `compute_metrics` 把标签弄错位了
#
# 几乎每个像素上都是真实类别得分最高，指南代码算出的分数却远低于下面改正后的结果（按 ADE 约定几乎为 0），而且没有任何报错或警告——这就是所谓的静默错误。
#
# 传进 `compute_metrics` 的标签来自图像处理器，按指南所用的 ADE 约定*已经*缩减过一次了（0 → 255，*k* → *k*−1）。`reduce_labels=image_processor.do_reduce_labels` 又缩减了一次：每个类别再往前错一位（类别 1 被当成类别 0，类别 0 绕回到 255），于是每个预测正确的像素都在和错误的类别比对。而 `ignore_index=-1` 什么也没忽略：落在 255 像素上的预测全都算成了假正例。（如果数据集的掩码不需要缩减，`do_reduce_labels` 为 False，就只剩第二个问题。）改法就是 PyTorch 版的设置，全程只用一套约定：图像处理器只缩减一次，损失和指标都用 `reduce_labels=False` 并忽略 255。下面是改了这两个参数的指南函数：

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
def compute_metrics_fixed(eval_pred):
    logits, labels = eval_pred
    logits = tf.transpose(logits, perm=[0, 2, 3, 1])
    logits_resized = tf.image.resize(logits, size=tf.shape(labels)[1:], method="bilinear")
    pred_labels = tf.argmax(logits_resized, axis=-1)
    metrics = metric.compute(
        predictions=pred_labels,
        references=labels,
        num_labels=num_labels,
        ignore_index=255,  # fixed: was -1
        reduce_labels=False,  # fixed: was image_processor.do_reduce_labels (reduced a second time)
    )
    per_category_accuracy = metrics.pop("per_category_accuracy").tolist()
    per_category_iou = metrics.pop("per_category_iou").tolist()
    metrics.update({f"accuracy_{id2label[i]}": v for i, v in enumerate(per_category_accuracy)})
    metrics.update({f"iou_{id2label[i]}": v for i, v in enumerate(per_category_iou)})
    return {"val_" + k: v for k, v in metrics.items()}


fixed_metrics = compute_metrics_fixed((eval_logits, eval_labels))
print(f"fixed:        mean IoU {fixed_metrics['val_mean_iou']:.4f}, "
      f"overall accuracy {fixed_metrics['val_overall_accuracy']:.4f}")

# %% [markdown] tags=["lang-en", "tf"]
# **What the guide's metric costs.** `metric.compute` first writes every pixel of every map into an Arrow
# table (🤗 Evaluate's storage format) and reads it back; only then does it count. Its time grows with the
# number of pixels, and the guide pays it at every evaluation. The next cell times it on your machine
# against the kit's `sh.mean_iou`, both on the same maps, enlarged to this notebook's `image_size`.
# For the guide's 512×512 images, item 10 of `benchmarks/RESULTS.md` ("the guide's compute_metrics", from
# `make bench`, `benchmarks/bench_evaluate.py`) measured about 12.7 s per map on a 2-core CPU: about 2 minutes
# per evaluation of the guide's 10 test images, and the guide evaluates 50 times during training.

# %% [markdown] tags=["lang-zh", "tf"]
# **指南的指标要花多少时间。** `metric.compute` 先把每张图的每个像素写进一张 Arrow 表（🤗 Evaluate 的存储格式），再读回来，然后才开始计数。它的耗时随像素数增长，而指南每次评估都要付出这笔开销。下一个单元格在你的机器上，用同一批标签图（放大到本篇的 `image_size`）比较它和套件的 `sh.mean_iou` 各要花多少时间。指南的图像是 512×512。`benchmarks/RESULTS.md` 第 10 项（“the guide's compute_metrics”，由 `make bench` 运行 `benchmarks/bench_evaluate.py` 测得）在一台 2 核 CPU 上测出，这个尺寸下每张图约需 12.7 秒：评估一次指南的 10 张测试图像约需 2 分钟，而训练中指南要评估 50 次。

# %% tags=["tf"]
{{snippet:metric_cost}}

# %% [markdown] tags=["lang-en", "tf"]
# The kit's `shtf.ComputeMetrics` is such a `metric_fn`, with the same keys and the same numbers. Notebook 04
# uses it: it counts with a confusion matrix instead of 🤗 Evaluate (faster, as just measured) and takes the
# class names from `meta` (any form of `id2label` also works: a dict with int or str keys, a list of names,
# `model.config`).
# The guide's path stays one argument away: `KerasMetricCallback(metric_fn=compute_metrics_fixed, ...)`.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件的 `shtf.ComputeMetrics` 就是这样一个 `metric_fn`，键和数字都相同。它用混淆矩阵计数，而不是调用 🤗 Evaluate（更快，上面刚测过），并且从 `meta` 里取类别名（各种形式的 `id2label` 也都接受：整数键或字符串键的字典、类别名列表、`model.config`），所以第 04 篇用的是它。换回指南的做法也只需改一个参数：`KerasMetricCallback(metric_fn=compute_metrics_fixed, ...)`。

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
metric_fn = shtf.ComputeMetrics(meta=meta)
kit_metrics = metric_fn((eval_logits, eval_labels))
assert same_numbers(fixed_metrics, kit_metrics)
print("shtf.ComputeMetrics == the fixed guide function:", same_numbers(fixed_metrics, kit_metrics))
present = np.unique(eval_labels[eval_labels != 255])  # the classes in the labels
for key in ["val_mean_iou", "val_mean_accuracy", "val_overall_accuracy", *(f"val_iou_{id2label[c]}" for c in present)]:
    print(f"{key:24s} {kit_metrics[key]:.4f}")
finite = sum(np.isfinite(v) for key, v in kit_metrics.items() if key.startswith("val_iou_"))
print(f"classes with a finite IoU: {finite} of {num_labels}")

# %% tags=["tf"]
sh.show_source(shtf.ComputeMetrics)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# Compare overall accuracy with mean IoU. The true classes are segmented well, but with many classes (ADE
# has 150), noise makes a few pixels score highest for classes that appear in no label; each such class gets
# IoU 0 and counts in the mean as much as a real one. An early, barely trained model shows exactly this
# pattern.
#
# One cost to know about: `KerasMetricCallback` collects the logits of the whole test split before
# calling `metric_fn`, nearly 10 MB per 512×512 image. Keep the test split small during training, and
# evaluate the full validation set afterwards in batches: notebook 05 scores the test split with the kit's
# batched `predict` and `sh.mean_iou`, and ADE's 2000 validation images take the same code.

# %% [markdown] tags=["lang-zh", "tf"]
# 比较一下总体准确率和 mIoU。标签里出现的类别都分得不错；可类别一多（ADE 有 150 个），噪声总会让少数像素上得分最高的类别变成标签里根本没有的类别。这些类别的交并比都是 0，却和真正出现的类别一样计入平均值。刚开始训练、几乎没学到东西的模型正是这个样子。
#
# 还有一笔开销要心里有数：`KerasMetricCallback` 会先收集整个测试集的 logits，再调用 `metric_fn`，每张 512×512 的图像将近 10 MB。训练时测试集要小一些；完整的验证集留到训练结束后再分批评估：第 05 篇用套件的批量预测函数 `predict` 加 `sh.mean_iou` 评估测试集，换成 ADE 的 2000 张验证图像也是同样的写法。

# %% [markdown] tags=["lang-en"]
# ## Summary
#
# - IoU of a class = intersection / union of its predicted and true pixels; mean IoU averages over classes,
#   so small classes count as much as large ones. Pixels with the ignore index (255) are never scored.
# - The guide's `evaluate.load("mean_iou")` needs the Hub; a local copy of the same script
#   (`sh.MEAN_IOU_METRIC`) gives the same numbers offline.
# - All these metrics come from one confusion matrix, and confusion matrices add up over batches;
#   averaging per-batch mean IoUs does not.
# - A class absent from both prediction and ground truth has IoU `nan` (undefined) and is left out of the
#   mean; a class predicted but absent has IoU 0 and pulls the mean down.
# - The guide's `compute_metrics` upsamples the logits, takes the argmax and calls the metric; the labels
#   must be reduced exactly once, and 255 ignored.

# %% [markdown] tags=["lang-zh"]
# ## 小结
#
# - 某个类别的交并比 = 预测像素与真实像素的交集 / 并集；mIoU 对各类别直接取平均，小类别和大类别分量一样。取值为忽略索引（255）的像素从不计分。
# - 指南里的 `evaluate.load("mean_iou")` 需要访问 Hub；同一脚本的本地副本（`sh.MEAN_IOU_METRIC`）离线也能给出相同的结果。
# - 这些指标都能从同一个混淆矩阵算出，而混淆矩阵可以跨批次相加；各批次的 mIoU 取平均则不行。
# - 预测和真实标签里都没有的类别，交并比为 `nan`（未定义），不计入平均；预测了却不存在的类别，交并比为 0，会拉低平均值。
# - 指南的 `compute_metrics` 先上采样 logits、取 argmax，再调用指标；标签必须恰好缩减一次，并忽略 255。

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# Exercises 1 to 3 check themselves. Replace the `...` in the code cell with your answer, then run the
# check cell under it: it says whether the answer is right and why, or what is wrong, with a hint.
# `ex.<name>.hint()` prints the hint alone, `ex.<name>.solution()` a worked solution. The checks use this
# notebook's own variables, so run the sections above first.

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 练习 1～3 可以自动检查：把代码单元格里的 `...` 换成你的答案，再运行它下面的检查单元格。检查会告诉你答案是否正确、为什么正确；答错时指出错在哪里，并给出提示。`ex.<名称>.hint()` 只显示提示，`ex.<名称>.solution()` 显示参考答案。检查用的是本笔记本里的变量，所以请先运行上面各小节。

# %%
from seghelpers.exercises import stage03 as ex

# %% [markdown] tags=["lang-en"]
# ### Exercise 1: mean IoU by hand
#
# Write `my_mean_iou(prediction, reference, num_labels, ignore_index=255)`. It returns two things: the mean
# IoU, and the per-class IoUs as an array of `num_labels` numbers. The check runs your function on section 1's
# example, on the same maps with one more class that appears in neither (its IoU must be `nan`), on a
# one-pixel image, and on a pixel whose reference is 255, and compares each result with `sh.mean_iou`.

# %% [markdown] tags=["lang-zh"]
# ### 练习 1：手算 mIoU
#
# 编写 `my_mean_iou(prediction, reference, num_labels, ignore_index=255)`，返回两个值：mIoU，以及由 `num_labels` 个数组成的各类别交并比数组。检查会用几组输入把你的结果和 `sh.mean_iou` 逐一比较：第 1 小节的例子；同样两张图，但多算一个两张图里都没有的类别（它的交并比必须是 `nan`）；一张只有一个像素的图；一个真实标签为 255 的像素。

# %% tags=["exercise"]
def my_mean_iou(prediction, reference, num_labels, ignore_index=255):
    # per-class IoUs (nan for a class in neither map), then their mean
    return ...


# %%
ex.mean_iou_by_hand.check(my_mean_iou, prediction, reference)  # ex.mean_iou_by_hand.hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 2: why not average per-image mean IoUs?
#
# An evaluation loop could compute the mean IoU of each image (or batch) and average them. Why does the kit
# add up confusion matrices instead? Set `average_answer` to one letter:
#
# - (a) Both give the same number; adding matrices is only faster.
# - (b) The average of per-image mean IoUs is a different number: each image has its own classes and unions.
# - (c) Per-image averaging counts the `nan` classes as 0.
# - (d) The average depends on the order of the images.

# %% [markdown] tags=["lang-zh"]
# ### 练习 2：为什么不能对逐图的 mIoU 取平均？
#
# 评估循环也可以先算每张图（或每个批次）的 mIoU，再取平均。为什么套件要先把混淆矩阵加起来？把 `average_answer` 设为一个字母：
#
# - (a) 两种做法结果一样，累加矩阵只是更快。
# - (b) 逐图 mIoU 的平均是另一个数：每张图有各自出现的类别和各自的并集。
# - (c) 逐图平均会把 `nan` 的类别当成 0。
# - (d) 平均值取决于图像的顺序。

# %% tags=["exercise"]
average_answer = ...  # "a", "b", "c" or "d"

# %%
ex.per_image_average.check(average_answer, prediction, reference)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 3: predict a change
#
# Suppose `prediction[3, 2]` were 2 instead of 0. Work out by hand which per-class IoUs change and the new
# mean IoU, and set `new_mean_iou` to it (a number, or the fractions you found). The check applies the
# change to a copy of section 1's maps and recomputes.

# %% [markdown] tags=["lang-zh"]
# ### 练习 3：预测一个改动的结果
#
# 假设 `prediction[3, 2]` 是 2 而不是 0。先手算哪些类别的交并比会变、新的 mIoU 是多少，再把 `new_mean_iou` 设为这个值（一个数，或者你算出的分数表达式）。检查会在第 1 小节两张图的拷贝上做这个改动，再重新计算。

# %% tags=["exercise"]
new_mean_iou = ...  # by hand first

# %%
ex.prediction_change.check(new_mean_iou, prediction, reference)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### More to explore
#
# 1. Replace the ignored pixel `reference[3, 3] = 255` with a real class, say 1. Which numbers change, and
#    why does the pixel count go from 15 to 16?
# 2. In section 6, lower the true-class bonus from 5.0 to 3.0 and rerun the section. Overall accuracy
#    barely moves; how many classes have a finite IoU now, and what happens to mean IoU?

# %% [markdown] tags=["lang-zh"]
# ### 更多探索
#
# 1. 把被忽略的像素 `reference[3, 3] = 255` 换成一个真实类别，比如 1。哪些数字会变？参与计算的像素为什么从 15 个变成 16 个？
# 2. 在第 6 小节，把真实类别的加分从 5.0 降到 3.0，再把这一小节重新运行一遍。总体准确率几乎不变；现在有多少个类别的交并比是有限值？mIoU 又怎样变化？

# %% [markdown] tags=["lang-en", "collapsed"]
# ## Under the hood
#
# **The local metric.** `sh.MEAN_IOU_METRIC` is a folder holding the Hub's `mean_iou` script; the kit's
# tests check that it and `sh.mean_iou` return the Hub metric's numbers. The first `import evaluate` in a
# session takes a while because it imports transformers.
#
# **Memory.** `sh.MeanIoU` keeps one `num_labels × num_labels` int64 matrix: 150 × 150 × 8 bytes = 180 KB,
# whatever the number of images. What the guide's `compute_metrics` (and `KerasMetricCallback`) hold
# instead, for SegFormer at 512×512 with 150 classes:

# %% [markdown] tags=["lang-zh", "collapsed"]
# ## 实现细节（Under the hood）
#
# **本地指标。** `sh.MEAN_IOU_METRIC` 是一个文件夹，里面放的就是 Hub 上的 `mean_iou` 脚本；套件的测试会检查它和 `sh.mean_iou` 给出的数字与 Hub 上的指标一致。每次会话里第一次 `import evaluate` 要等一会儿，因为它会连带导入 transformers。
#
# **内存。** `sh.MeanIoU` 只保存一个 `num_labels × num_labels` 的 int64 矩阵：150 × 150 × 8 字节 = 180 KB，与图像数量无关。而指南的 `compute_metrics`（以及 `KerasMetricCallback`）要保存的是下面这些（SegFormer，512×512 输入，150 个类别）：

# %%
# NBVAL_CHECK_OUTPUT
logits_mb = 150 * 128 * 128 * 4 / 1e6  # float32 logits at 1/4 of 512x512
print(f"logits of one 512x512 image:          {logits_mb:.1f} MB")
print(f"... of 2000 validation images:        {2000 * logits_mb / 1e3:.1f} GB")
print(f"... upsampled to 512x512, per image:  {150 * 512 * 512 * 4 / 1e6:.0f} MB")
print(f"uint8 class ids of one 512x512 image: {512 * 512 / 1e6:.2f} MB")
