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
# them by hand first, then with 🤗 Evaluate, then the way the `Trainer` will during training.
#
# **You will learn to**
# - compute per-class IoU, mean IoU and pixel accuracy by hand on a 4×4 example, ignored pixel included;
# - load the `mean_iou` metric through 🤗 Evaluate *offline*, and see why the guide's `evaluate.load("mean_iou")` is not;
# - read the same numbers off a confusion matrix, and accumulate them batch by batch;
# - explain why a class gets IoU `nan` on a small evaluation set, and what `nan_to_num` does (and does not) change;
# - write `compute_metrics` for the `Trainer` without keeping every logit of the evaluation set in memory.

# %% [markdown] tags=["lang-zh", "pt"]
# # 03 · 衡量分割质量：平均交并比（PyTorch）
#
# 损失只负责告诉优化器往哪个方向走，并不能告诉*你*分割出来的掩码到底好不好。语义分割看的是每个类别的交并比（IoU），
# 以及它在所有类别上的平均值——平均交并比（mIoU）。本节先手算，再用 🤗 Evaluate 算，最后按 `Trainer` 训练时的方式算。
#
# **本节目标**
# - 在一个 4×4 的小例子上手算各类别的交并比、mIoU 和像素准确率，包括被忽略的像素；
# - *离线*通过 🤗 Evaluate 加载 `mean_iou` 指标，并弄清指南里的 `evaluate.load("mean_iou")` 为什么离线用不了；
# - 从混淆矩阵里读出同样的数字，并按批累积；
# - 解释为什么在小规模评估集上某些类别的交并比会是 `nan`，以及 `nan_to_num` 改变了什么、没改变什么；
# - 为 `Trainer` 编写 `compute_metrics`，而不必把整个评估集的 logits 都留在内存里。

# %% [markdown] tags=["lang-en", "tf"]
# # 03 · Measuring segmentation quality: mean IoU (TensorFlow)
#
# Loss tells the optimiser what to do; it does not tell *you* whether the masks are any good. Semantic
# segmentation is judged by per-class IoU and its average over classes, mean IoU. This notebook computes
# them by hand first, then with 🤗 Evaluate, then the way Keras will during training.
#
# **You will learn to**
# - compute per-class IoU, mean IoU and pixel accuracy by hand on a 4×4 example, ignored pixel included;
# - load the `mean_iou` metric through 🤗 Evaluate *offline*, and see why the guide's `evaluate.load("mean_iou")` is not;
# - read the same numbers off a confusion matrix, and accumulate them batch by batch;
# - explain why a class gets IoU `nan` on a small evaluation set, and what `nan_to_num` does (and does not) change;
# - write the `metric_fn` for `KerasMetricCallback`, and spot the label mix-up in the guide's TensorFlow version.

# %% [markdown] tags=["lang-zh", "tf"]
# # 03 · 衡量分割质量：平均交并比（TensorFlow）
#
# 损失只负责告诉优化器往哪个方向走，并不能告诉*你*分割出来的掩码到底好不好。语义分割看的是每个类别的交并比（IoU），
# 以及它在所有类别上的平均值——平均交并比（mIoU）。本节先手算，再用 🤗 Evaluate 算，最后按 Keras 训练时的方式算。
#
# **本节目标**
# - 在一个 4×4 的小例子上手算各类别的交并比、mIoU 和像素准确率，包括被忽略的像素；
# - *离线*通过 🤗 Evaluate 加载 `mean_iou` 指标，并弄清指南里的 `evaluate.load("mean_iou")` 为什么离线用不了；
# - 从混淆矩阵里读出同样的数字，并按批累积；
# - 解释为什么在小规模评估集上某些类别的交并比会是 `nan`，以及 `nan_to_num` 改变了什么、没改变什么；
# - 为 `KerasMetricCallback` 编写 `metric_fn`，并找出指南 TensorFlow 版代码里的标签错位问题。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# Every notebook of the kit takes the same parameters (`None` = from the profile), and the next cell
# checks them before any heavy work. This notebook needs no model and no data set: it only uses `seed`,
# for the made-up logits further down.

# %% [markdown] tags=["lang-zh"]
# kit 里每个笔记本的参数都相同（`None` 表示沿用配置档里的值），下一个单元格会在任何耗时操作之前先校验它们。
# 本节既不需要模型也不需要数据集，只用到 `seed`：后面构造假 logits 时要用它固定随机数。

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
# Here is a 4×4 reference with three classes (0, 1, 2). Its bottom-right pixel is 255, the ignore index:
# the value the image processor writes for ADE's "other" after `do_reduce_labels` (notebook 02). Whether a
# pixel counts is decided by the *reference*: the prediction there (a 2) is dropped as well, so 15 pixels
# are scored. Count first with a pencil, then run the cells:
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
# 平均交并比（mIoU）就是对各类别直接取平均，小类别和大类别的权重一样。像素准确率（预测正确的像素数 / 有标注的像素数）
# 则不同：它几乎由墙、地板这类大面积类别决定，所以语义分割的论文都报告 mIoU。
#
# 下面是一张 4×4 的参考标签图，有 0、1、2 三个类别。右下角的像素是 255，也就是忽略索引：经过 `do_reduce_labels`
# 之后，图像处理器会把 ADE 里的“其他”写成 255（见 02 节）。某个像素算不算分，由*参考标签*决定：那个位置上的
# 预测值（2）也一并丢掉，所以参与计算的是 15 个像素。先拿笔算一遍，再运行下面的单元格：
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
# ## 2. The same with 🤗 Evaluate, offline
#
# The guide loads the metric with `evaluate.load("mean_iou")`. That call downloads the metric's Python
# script from the Hugging Face Hub at run time, so it fails offline, behind a firewall, or whenever the
# Hub is down. The kit ships the same metric as a local 🤗 Evaluate module: `evaluate.load()` also accepts
# a folder path, and `seghelpers.MEAN_IOU_METRIC` is that path. The arguments, result keys and numbers
# are those of the Hub metric (the kit's tests compare them).
#
# `import evaluate` is slow, about 10 s, because it imports transformers; that is the pause you will see.

# %% [markdown] tags=["lang-zh"]
# ## 2. 用 🤗 Evaluate 离线计算
#
# 指南用 `evaluate.load("mean_iou")` 加载指标。这个调用会在运行时从 Hugging Face Hub 下载该指标的 Python 脚本，
# 所以在离线环境、防火墙后面，或者 Hub 出故障时都会失败。kit 把同一个指标做成了本地的 🤗 Evaluate 模块：
# `evaluate.load()` 也接受文件夹路径，`seghelpers.MEAN_IOU_METRIC` 就是这个路径。参数、返回的键和计算结果都与
# Hub 上的指标一致（kit 的测试会逐项比对）。
#
# `import evaluate` 比较慢，大约 10 秒，因为它会连带导入 transformers；下面那个单元格的停顿就是这么来的。

# %% tags=["pt"]
import seghelpers.pt as shpt  # imports torch (USE_TF=0 keeps TensorFlow out)

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow and before evaluate (which imports transformers): selects Keras 2
import tensorflow as tf

print("TensorFlow", tf.__version__, "| GPUs:", len(tf.config.list_physical_devices("GPU")))

# %%
import time

t0 = time.perf_counter()
import evaluate

metric = evaluate.load(sh.MEAN_IOU_METRIC)  # the guide: evaluate.load("mean_iou"), which needs the Hub
print(f"import evaluate + load: {time.perf_counter() - t0:.1f} s")

# %% [markdown] tags=["lang-en"]
# `compute()` takes lists of label maps. `reduce_labels=False` because our labels are already reduced (the
# image processor did it once, in notebook 02); `ignore_index=255` skips the same pixels the loss skips.

# %% [markdown] tags=["lang-zh"]
# `compute()` 接收由标签图组成的列表。这里传 `reduce_labels=False`，因为我们的标签已经减过一次了（02 节里由图像处理器完成）；
# `ignore_index=255` 跳过的像素和损失函数跳过的完全一样。

# %%
# NBVAL_CHECK_OUTPUT
def show(metrics: dict) -> None:
    for key, value in metrics.items():
        print(f"{key:22s}", np.array2string(np.asarray(value), precision=4, floatmode="fixed"))


results = metric.compute(predictions=[prediction], references=[reference], num_labels=3,
                         ignore_index=255, reduce_labels=False)
show(results)

# %% [markdown] tags=["lang-en"]
# ## 3. The confusion-matrix view
#
# A confusion matrix counts pixels by (reference class, predicted class): row *r*, column *p*. Every number
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
# 混淆矩阵按（参考类别，预测类别）统计像素数：第 *r* 行、第 *p* 列。上面所有的数字都能从中直接读出来：
#
# - 对角线是每个类别的交集（真正例）；
# - 行和是某个类别的标注面积，列和是它的预测面积；
# - 并集 = 行和 + 列和 − 对角线，因此交并比 = 对角线 / 并集；
# - 单类准确率 = 对角线 / 行和；总体准确率 = 迹 / 总数。
#
# 非对角线上的数字还能告诉你*哪些*类别之间容易混淆，这是单看一个交并比数值发现不了的。

# %%
# NBVAL_CHECK_OUTPUT
from seghelpers.metrics import confusion_matrix

cm, _, _ = confusion_matrix(prediction, reference, num_labels=3, ignore_index=255)
print("rows = reference, columns = prediction\n", cm)
tp = np.diag(cm)
union = cm.sum(axis=1) + cm.sum(axis=0) - tp
print("IoU per class   ", np.round(tp / union, 4))
print(f"overall accuracy {np.trace(cm) / cm.sum():.4f}")

# %% [markdown] tags=["lang-en"]
# ## 4. Streaming: add up confusion matrices, not scores
#
# Confusion matrices of different batches simply add up, and the sum gives exactly the metric of the whole
# set. That is what `seghelpers.MeanIoU` does: `update()` per batch, `compute()` at the end, with a
# `num_labels × num_labels` matrix as its only state (180 KB for 150 classes), however large the evaluation set.
#
# Averaging per-batch mean IoUs instead is a common bug: each batch has its own set of classes, so the
# average of the averages is a different (and wrong) number. Split our example into its top and bottom half:

# %% [markdown] tags=["lang-zh"]
# ## 4. 流式计算：累加混淆矩阵，而不是累加分数
#
# 不同批次的混淆矩阵可以直接相加，加起来的结果算出的指标与一次性在整个数据集上计算完全相同。`seghelpers.MeanIoU`
# 正是这么做的：每个批次调用 `update()`，最后调用 `compute()`；它只保存一个 `num_labels × num_labels` 的矩阵
# （150 个类别时约 180 KB），不管评估集有多大。
#
# 而把各批次的 mIoU 取平均是一个常见的错误：每个批次里出现的类别不同，“平均值的平均值”是另一个（错误的）数。
# 把上面的例子拆成上下两半试试：

# %%
# NBVAL_CHECK_OUTPUT
acc = sh.MeanIoU(num_labels=3, ignore_index=255)
acc.update(prediction[:2], reference[:2])  # "batch" 1: top half
acc.update(prediction[2:], reference[2:])  # "batch" 2: bottom half
print(f"streamed mean IoU {acc.compute()['mean_iou']:.4f} (one shot: {results['mean_iou']:.4f})")

halves = [sh.mean_iou([prediction[s]], [reference[s]], num_labels=3)["mean_iou"]
          for s in (slice(0, 2), slice(2, 4))]
print(f"per-batch mean IoU {halves[0]:.4f} and {halves[1]:.4f} -> their average {np.mean(halves):.4f} (wrong)")
print(f"state: {sh.MeanIoU(num_labels=150).cm.nbytes:,} bytes for 150 classes")

# %% [markdown] tags=["lang-en"]
# ## 5. Why some IoUs are `nan`
#
# With 150 classes and an evaluation set of ten images, most classes appear nowhere: neither in the
# references nor in the predictions. Their union is 0, so their IoU is 0/0 = `nan`, "undefined", not
# "zero": the model made no mistake on them. `mean_iou` averages with `np.nanmean`, which skips those
# classes. A class that the model *predicts* but that is absent from the references is different: its
# union is not empty, its IoU is 0, and it pulls the mean down.
#
# `nan_to_num=0` replaces the `nan`s in the *returned* arrays (handy for loggers that choke on `nan`). It
# is applied after averaging, so `mean_iou` does not change. Averaging the zero-filled per-class list
# yourself, though, would count every absent class as a failure:

# %% [markdown] tags=["lang-zh"]
# ## 5. 为什么有些交并比是 `nan`
#
# 150 个类别、只有十张图的评估集里，大多数类别根本不会出现：参考标签里没有，预测里也没有。它们的并集为 0，
# 交并比就是 0/0 = `nan`，意思是“无定义”而不是“零分”：模型在这些类别上并没有犯错。`mean_iou` 用 `np.nanmean`
# 求平均，会跳过这些类别。模型*预测*了、但参考标签里没有的类别则不同：它的并集不为空，交并比为 0，会拉低平均值。
#
# `nan_to_num=0` 只是把*返回结果*数组里的 `nan` 换成 0（有些日志工具处理不了 `nan`，这时很方便）。它在求平均之后才生效，
# 所以 `mean_iou` 不变。但如果你自己对补零后的各类别列表再求平均，就等于把每个没出现的类别都算成了失败：

# %%
# NBVAL_CHECK_OUTPUT
r150 = metric.compute(predictions=[prediction], references=[reference], num_labels=sh.NUM_LABELS,
                      ignore_index=255, reduce_labels=False)
iou = r150["per_category_iou"]
print("per-class IoU of classes 0-4:", np.round(iou[:5], 4))
print(f"classes with IoU nan: {np.isnan(iou).sum()} of {iou.size}")
print(f"mean_iou (nanmean):   {r150['mean_iou']:.4f}")
print(f"plain np.mean:        {np.mean(iou)}")

r0 = metric.compute(predictions=[prediction], references=[reference], num_labels=sh.NUM_LABELS,
                    ignore_index=255, reduce_labels=False, nan_to_num=0)
print(f"with nan_to_num=0: mean_iou {r0['mean_iou']:.4f}, "
      f"but the mean of the zero-filled list is {np.mean(r0['per_category_iou']):.4f}")

# %% [markdown] tags=["lang-en", "pt"]
# ## 6. `compute_metrics` for the `Trainer`
#
# After each evaluation loop the `Trainer` calls `compute_metrics(eval_pred)`, where `eval_pred.predictions`
# holds the model outputs for the *whole* evaluation set. SegFormer's logits come at a quarter of the
# input resolution: a 512×512 image gives 150×128×128 float32 values, 9.8 MB. The guide's
# `compute_metrics` receives all of them, then upsamples them all to label size at once (another 157 MB per
# image). Fine for the guide's ten test images; for the 2,000 ADE20K validation images the logits alone take 20 GB of RAM.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 6. 为 `Trainer` 编写 `compute_metrics`
#
# 每轮评估循环结束后，`Trainer` 会调用 `compute_metrics(eval_pred)`，其中 `eval_pred.predictions` 装着*整个*
# 评估集的模型输出。SegFormer 输出的 logits 分辨率是输入的四分之一：一张 512×512 的图像对应 150×128×128 个 float32，
# 即 9.8 MB。指南里的 `compute_metrics` 会拿到全部 logits，再一口气把它们上采样到标签的尺寸（每张图再多占 157 MB）。
# 指南里只有十张测试图，问题不大；换成 ADE20K 验证集的 2000 张图，光是 logits 就要占掉 20 GB 内存。

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
logits_mb = 150 * 128 * 128 * 4 / 1e6
print(f"logits of one 512x512 image:        {logits_mb:.1f} MB")
print(f"... of 2,000 validation images:     {2000 * logits_mb / 1e3:.1f} GB")
print(f"... upsampled to 512x512, per image: {150 * 512 * 512 * 4 / 1e6:.0f} MB")
print(f"uint8 class ids of one 512x512 image: {512 * 512 / 1e6:.2f} MB")

# %% [markdown] tags=["lang-en", "pt"]
# The kit keeps memory flat in two steps:
#
# 1. `seghelpers.pt.preprocess_logits_for_metrics` runs on every evaluation batch, right after the forward
#    pass: it upsamples the logits bilinearly to the label size and takes the argmax there, so the `Trainer`
#    only collects class ids (uint8), about 38 times less than the logits.
# 2. `seghelpers.pt.ComputeMetrics` accepts logits or class ids. With `TrainingArguments(batch_eval_metrics=True)`
#    the `Trainer` calls it once per batch (`compute_result=False`, then `True` on the last batch); it only
#    adds each batch to a `MeanIoU` confusion matrix, so memory no longer grows with the evaluation set.
#
# Notebook 04 wires it up like this:
#
# ```python
# args = TrainingArguments(..., batch_eval_metrics=True)
# trainer = Trainer(..., compute_metrics=shpt.ComputeMetrics(num_labels=150),
#                   preprocess_logits_for_metrics=shpt.preprocess_logits_for_metrics)
# ```
#
# To try all three variants without a model, make up logits for two 64×64 images (SegFormer-shaped: 150
# classes at 16×16) whose true class always scores 5 higher than random noise, and labels with a strip of
# ignored pixels.

# %% [markdown] tags=["lang-zh", "pt"]
# kit 分两步让内存占用保持恒定：
#
# 1. `seghelpers.pt.preprocess_logits_for_metrics` 在每个评估批次的前向计算之后立即执行：先把 logits 双线性上采样到标签尺寸，
#    再在那里取 argmax，这样 `Trainer` 收集的只是 uint8 的类别编号，大约只有 logits 的 1/38。
# 2. `seghelpers.pt.ComputeMetrics` 既能接收 logits，也能接收类别编号。设置 `TrainingArguments(batch_eval_metrics=True)` 后，
#    `Trainer` 会每个批次调用它一次（前面的批次传 `compute_result=False`，最后一个批次传 `True`）；它只把每个批次累加进
#    `MeanIoU` 的混淆矩阵，内存就不再随评估集变大而增长。
#
# 04 节是这样接上的：
#
# ```python
# args = TrainingArguments(..., batch_eval_metrics=True)
# trainer = Trainer(..., compute_metrics=shpt.ComputeMetrics(num_labels=150),
#                   preprocess_logits_for_metrics=shpt.preprocess_logits_for_metrics)
# ```
#
# 不用模型也能把这三种做法都试一遍：为两张 64×64 的图像伪造 logits（形状与 SegFormer 一致：150 个类别、16×16），
# 让真实类别的得分总比随机噪声高 5；再造出对应的标签，其中有一条被忽略的像素带。

# %% [markdown] tags=["lang-en", "tf"]
# ## 6. The `metric_fn` for `KerasMetricCallback`
#
# With Keras, `transformers.KerasMetricCallback(metric_fn, eval_dataset, ...)` computes metrics at the end
# of each epoch: it runs `model.predict` on the evaluation set, gathers logits and labels as numpy arrays
# and calls `metric_fn((logits, labels))`. The returned dict goes into Keras' logs next to `val_loss`, so
# every value must be a scalar: per-class results become keys named by class, `val_iou_wall`,
# `val_accuracy_wall`, ... as in the guide. `seghelpers.tf.ComputeMetrics` is such a `metric_fn`: it
# transposes the logits to channels-last, upsamples them bilinearly to label size, takes the argmax and
# computes mean IoU. Notebook 04 wires it up like this:
#
# ```python
# metric_callback = KerasMetricCallback(metric_fn=shtf.ComputeMetrics(num_labels=150),
#                                       eval_dataset=tf_eval_dataset, label_cols=["labels"])
# ```
#
# To try it without a model, make up logits for two 64×64 images (SegFormer-shaped: 150 classes at 16×16,
# channels-first) whose true class always scores 5 higher than random noise, and labels with a strip of
# ignored pixels.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 6. 为 `KerasMetricCallback` 编写 `metric_fn`
#
# 在 Keras 里，`transformers.KerasMetricCallback(metric_fn, eval_dataset, ...)` 会在每轮（epoch）结束时计算指标：
# 它在评估集上运行 `model.predict`，把 logits 和标签收集成 numpy 数组，然后调用 `metric_fn((logits, labels))`。
# 返回的字典会和 `val_loss` 一起写进 Keras 的日志，所以每个值都必须是标量：各类别的结果要拆成以类名命名的键，
# 即 `val_iou_wall`、`val_accuracy_wall` 等，和指南一样。`seghelpers.tf.ComputeMetrics` 就是这样一个 `metric_fn`：
# 它把 logits 转成通道在后的布局，双线性上采样到标签尺寸，取 argmax，再计算 mIoU。04 节是这样接上的：
#
# ```python
# metric_callback = KerasMetricCallback(metric_fn=shtf.ComputeMetrics(num_labels=150),
#                                       eval_dataset=tf_eval_dataset, label_cols=["labels"])
# ```
#
# 不用模型也能试一试：为两张 64×64 的图像伪造 logits（形状与 SegFormer 一致：150 个类别、16×16，通道优先），
# 让真实类别的得分总比随机噪声高 5；再造出对应的标签，其中有一条被忽略的像素带。

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(P.seed)
n, C = 2, sh.NUM_LABELS
coarse = rng.integers(0, 5, size=(n, 4, 4)).repeat(4, axis=1).repeat(4, axis=2)  # (2, 16, 16), classes 0-4
logits = rng.normal(size=(n, C, 16, 16)).astype(np.float32)
logits += 5.0 * (np.arange(C)[None, :, None, None] == coarse[:, None])  # the true class scores higher
labels = coarse.repeat(4, axis=1).repeat(4, axis=2)  # (2, 64, 64): 4x the logit size, as in SegFormer
labels[:, :4, :] = 255  # a strip of ignored pixels
print("logits", logits.shape, logits.dtype, "| labels", labels.shape, labels.dtype)

# %% [markdown] tags=["lang-en", "pt"]
# First the guide's recipe, written out with the offline `metric` (upsample all logits, argmax, compute),
# then the kit's `ComputeMetrics` fed the same `EvalPrediction` the `Trainer` would build:

# %% [markdown] tags=["lang-zh", "pt"]
# 先按指南的思路，用离线的 `metric` 写一遍（上采样全部 logits、取 argmax、计算指标），再把 `Trainer` 会构造的同一个
# `EvalPrediction` 交给 kit 的 `ComputeMetrics`：

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
import torch
from torch import nn
from transformers import EvalPrediction


def guide_compute_metrics(eval_pred):  # the guide's approach: every logit at once
    logits, labels = eval_pred
    with torch.no_grad():
        upsampled = nn.functional.interpolate(torch.from_numpy(logits), size=labels.shape[-2:],
                                              mode="bilinear", align_corners=False)
        pred = upsampled.argmax(dim=1).numpy()
    return metric.compute(predictions=pred, references=labels, num_labels=sh.NUM_LABELS,
                          ignore_index=255, reduce_labels=False)


guide = guide_compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
compute_metrics = shpt.ComputeMetrics(num_labels=sh.NUM_LABELS, ignore_index=255)
kit = compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
print("keys:", sorted(kit))
print(f"guide: mean IoU {guide['mean_iou']:.4f}, overall accuracy {guide['overall_accuracy']:.4f}")
print(f"kit:   mean IoU {kit['mean_iou']:.4f}, overall accuracy {kit['overall_accuracy']:.4f}")
print("per-class IoU of classes 0-4:", np.round(kit["per_category_iou"][:5], 4))
print(f"classes with a finite IoU: {np.isfinite(kit['per_category_iou']).sum()}")

# %% [markdown] tags=["lang-en", "pt"]
# Note the gap between overall accuracy and mean IoU. Classes 0–4 are segmented well, but the noise wins
# the argmax on a handful of pixels for some classes that are not in the labels at all: each of those gets
# IoU 0 and counts as much as class 0. An early, barely trained model shows exactly this pattern.
#
# Now the memory-saving path: `preprocess_logits_for_metrics` turns each batch of logits into class ids,
# and with `batch_eval_metrics=True` the metric is fed batch by batch. Same numbers:

# %% [markdown] tags=["lang-zh", "pt"]
# 注意总体准确率和 mIoU 之间的差距。类别 0–4 分得很好，但在少数像素上，噪声让一些标签里根本不存在的类别赢得了 argmax：
# 这些类别的交并比都是 0，而且每个都和类别 0 同样计入平均值。刚开始训练、几乎没学到东西的模型正是这个样子。
#
# 再看省内存的做法：`preprocess_logits_for_metrics` 把每个批次的 logits 变成类别编号；设置 `batch_eval_metrics=True` 后，
# 指标按批次逐个喂入。结果完全相同：

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
ids = shpt.preprocess_logits_for_metrics(torch.from_numpy(logits), torch.from_numpy(labels))
print("class ids", tuple(ids.shape), ids.dtype, f"{ids.numel() * ids.element_size():,} bytes",
      f"vs logits {logits.nbytes:,} bytes")

for i in range(n):  # what the Trainer does with batch_eval_metrics=True (batch size 1 here)
    batch = EvalPrediction(predictions=ids[i:i + 1], label_ids=torch.from_numpy(labels[i:i + 1]))
    streamed = compute_metrics(batch, compute_result=(i == n - 1))
print(f"streamed: mean IoU {streamed['mean_iou']:.4f}, overall accuracy {streamed['overall_accuracy']:.4f}")

# %% [markdown] tags=["lang-en", "tf"]
# `ComputeMetrics` returns a flat dict of scalars, three summary values plus two per class:

# %% [markdown] tags=["lang-zh", "tf"]
# `ComputeMetrics` 返回一个扁平的标量字典：三个汇总值，再加上每个类别两个值：

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
metric_fn = shtf.ComputeMetrics(num_labels=sh.NUM_LABELS, id2label=sh.id2label)
tf_metrics = metric_fn((logits, labels))
print(f"{len(tf_metrics)} keys:", list(tf_metrics)[:3], "+", list(tf_metrics)[3:5], "...")
for key in ("val_mean_iou", "val_mean_accuracy", "val_overall_accuracy", "val_iou_wall", "val_iou_building",
            "val_iou_sky", "val_iou_floor", "val_iou_tree"):
    print(f"{key:22s} {tf_metrics[key]:.4f}")
print(f"classes with a finite IoU: {sum(np.isfinite(v) for k, v in tf_metrics.items() if k.startswith('val_iou_'))}")

# %% [markdown] tags=["lang-en", "tf"]
# Note the gap between overall accuracy and mean IoU. Classes 0–4 are segmented well, but the noise wins
# the argmax on a handful of pixels for some classes that are not in the labels at all: each of those gets
# IoU 0 and counts as much as `wall`. An early, barely trained model shows exactly this pattern.
#
# ### The guide's TensorFlow `compute_metrics` mixes up the labels
#
# The guide's TF version calls the metric with `ignore_index=-1, reduce_labels=image_processor.do_reduce_labels`.
# But the labels the callback passes in come from the image processor, which *already* reduced them
# (0 → 255, *k* → *k*−1). Reducing them a second time shifts every class by one more: a `building` pixel
# (1) now reads as `wall` (0), a `wall` pixel wraps round to 255, so every correct prediction is scored
# against the wrong class. And `ignore_index=-1` ignores nothing: predictions on the 255 pixels count as
# false positives. The kit uses ONE convention everywhere: the processor reduces once, and the loss and
# the metric both ignore 255 with `reduce_labels=False`. Same predictions, both settings:

# %% [markdown] tags=["lang-zh", "tf"]
# 注意总体准确率和 mIoU 之间的差距。类别 0–4 分得很好，但在少数像素上，噪声让一些标签里根本不存在的类别赢得了 argmax：
# 这些类别的交并比都是 0，而且每个都和 `wall` 同样计入平均值。刚开始训练、几乎没学到东西的模型正是这个样子。
#
# ### 指南 TensorFlow 版的 `compute_metrics` 把标签弄错位了
#
# 指南的 TF 版本调用指标时传的是 `ignore_index=-1, reduce_labels=image_processor.do_reduce_labels`。可是回调传进来的标签
# 来自图像处理器，*已经*减过一次了（0 → 255，*k* → *k*−1）。再减一次，每个类别又往前错了一位：`building`（1）的像素
# 变成了 `wall`（0），`wall` 的像素则绕回到 255，于是每个预测正确的像素都在和错误的类别比对。而 `ignore_index=-1`
# 什么也没忽略：落在 255 像素上的预测全都算成了假正例。
# kit 全程只用一套约定：图像处理器只减一次，损失和指标都用 `reduce_labels=False` 并忽略 255。同一批预测，两种设置对比如下：

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
pred = shtf.upsample_argmax(logits, labels.shape[-2:]).numpy()
guide = metric.compute(predictions=pred, references=labels, num_labels=sh.NUM_LABELS,
                       ignore_index=-1, reduce_labels=True)  # the guide's TF settings
kit = metric.compute(predictions=pred, references=labels, num_labels=sh.NUM_LABELS,
                     ignore_index=255, reduce_labels=False)  # the kit's single convention
print(f"guide's settings: mean IoU {guide['mean_iou']:.4f}, overall accuracy {guide['overall_accuracy']:.4f}")
print(f"kit's settings:   mean IoU {kit['mean_iou']:.4f}, overall accuracy {kit['overall_accuracy']:.4f}")

# %% [markdown] tags=["lang-en", "tf"]
# One more cost to know about: like the `Trainer`'s default, `KerasMetricCallback` collects the logits of the
# whole evaluation set before calling `metric_fn` (9.8 MB per 512×512 image). Keep the evaluation set small
# during training, and evaluate the full validation set afterwards in batches, as notebook 05 does.

# %% [markdown] tags=["lang-zh", "tf"]
# 还有一笔开销要心里有数：和 `Trainer` 的默认行为一样，`KerasMetricCallback` 会先收集整个评估集的 logits，再调用 `metric_fn`
# （每张 512×512 的图像 9.8 MB）。训练时评估集要小一些；完整的验证集留到训练结束后再分批评估，05 节就是这么做的。

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# 1. Change `prediction[3, 2]` from 0 to 2. Work out by hand which per-class IoUs change and the new mean
#    IoU, then rerun sections 1–2 to check.
# 2. Replace the ignored pixel `reference[3, 3] = 255` with a real class, say 1. Which numbers change, and
#    why does the pixel count go from 15 to 16?
# 3. In section 4, split the example into four 1×4 rows instead of two halves. How far is the average of
#    the per-row mean IoUs from the true value now?
# 4. In section 6, lower the true-class bonus from 5.0 to 3.0. Overall accuracy barely moves; how many
#    extra classes appear in the predictions, and what happens to mean IoU?

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 1. 把 `prediction[3, 2]` 从 0 改成 2。先手算哪些类别的交并比会变、新的 mIoU 是多少，再重新运行第 1、2 部分验证。
# 2. 把被忽略的像素 `reference[3, 3] = 255` 换成一个真实类别，比如 1。哪些数字会变？参与计算的像素为什么从 15 个变成 16 个？
# 3. 在第 4 部分，把例子拆成四个 1×4 的行，而不是上下两半。各行 mIoU 的平均值现在离正确结果有多远？
# 4. 在第 6 部分，把真实类别的加分从 5.0 降到 3.0。总体准确率几乎不变；预测里多出了多少个类别？mIoU 又怎样变化？
