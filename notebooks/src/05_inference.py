# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en", "pt"]
# # 05 · Inference: segment images with the fine-tuned model (PyTorch)
#
# Training is done; now we use the model. This notebook loads what notebook 04 saved, segments an image
# of the test split with the guide's code, colours the result over the photo and scores the model class
# by class.
#
# **You will learn to**
# - load the fine-tuned model and its image processor from a folder, and check that the model knows the
#   dataset's classes;
# - run the guide's `image-segmentation` pipeline and read its output;
# - do the same by hand with the guide's code: image processor → logits → upsample to the image size →
#   argmax, and know why the order matters;
# - colour and overlay a segmentation map with the guide's palette code, and spot its two faults (a palette
#   one row off, and a BGR swap);
# - compute the per-class IoU of the model on the whole test split.

# %% [markdown] tags=["lang-zh", "pt"]
# # 05 · 推理：用微调好的模型分割图像（PyTorch）
#
# 训练已经完成，现在来用这个模型。本篇加载第 04 篇保存的模型，用指南原代码对测试集里的一张图像做分割，把结果上色后叠加到原图上，最后逐个类别地评估模型。
#
# **本篇目标**
# - 从文件夹加载微调后的模型和图像处理器，并确认模型的类别就是数据集的类别；
# - 运行指南里的 `image-segmentation` pipeline，看懂它的输出；
# - 用指南原代码手动走一遍同样的流程：图像处理器 → logits → 上采样到原图尺寸 → argmax，并理解为什么顺序不能颠倒；
# - 用指南的调色板代码给分割图上色、叠加到原图上，并找出其中的两处错误（调色板错了一行；红蓝通道对调成了 BGR）；
# - 在整个测试集上计算模型各类别的交并比（IoU）。

# %% [markdown] tags=["lang-en", "tf"]
# # 05 · Inference: segment images with the fine-tuned model (TensorFlow)
#
# Training is done; now we use the model. This notebook loads what notebook 04 saved, segments an image
# of the test split with the guide's code, colours the result over the photo and scores the model class
# by class.
#
# **You will learn to**
# - load the fine-tuned TensorFlow model and its image processor from a folder, and check that the model
#   knows the dataset's classes;
# - segment an image by hand with the guide's code (transformers has no TensorFlow pipeline for this task):
#   image processor → logits → channels-last → upsample to the image size → argmax, and know why the order
#   matters;
# - colour and overlay a segmentation map with the guide's palette code, and spot its two faults (a palette
#   one row off, and a BGR swap);
# - compute the per-class IoU of the model on the whole test split.

# %% [markdown] tags=["lang-zh", "tf"]
# # 05 · 推理：用微调好的模型分割图像（TensorFlow）
#
# 训练已经完成，现在来用这个模型。本篇加载第 04 篇保存的模型，用指南原代码对测试集里的一张图像做分割，把结果上色后叠加到原图上，最后逐个类别地评估模型。
#
# **本篇目标**
# - 从文件夹加载微调后的 TensorFlow 模型和图像处理器，并确认模型的类别就是数据集的类别；
# - 用指南原代码手动完成分割（transformers 没有这个任务的 TensorFlow 版 pipeline）：图像处理器 → logits → 转成通道在后 → 上采样到原图尺寸 → argmax，并理解为什么顺序不能颠倒；
# - 用指南的调色板代码给分割图上色、叠加到原图上，并找出其中的两处错误（调色板错了一行；红蓝通道对调成了 BGR）；
# - 在整个测试集上计算模型各类别的交并比（IoU）。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The parameters are the same as in notebook 04, on purpose: with the same values (the same `profile`,
# `dataset`, and `output_dir` if you changed it there), `P.output_dir` is exactly the folder 04 saved its
# model and image processor to, and `dataset`, `split` and `seed` rebuild the same 80/20 split, so the
# images below were never seen in training.

# %% [markdown] tags=["lang-zh"]
# 这里的参数和第 04 篇完全一样，这是有意为之：只要取值相同（`profile`、`dataset` 相同；如果在第 04 篇改过 `output_dir`，这里也要一样），`P.output_dir` 就正好是第 04 篇保存模型和图像处理器的文件夹；`dataset`、`split` 和 `seed` 会重建同样的 80/20 划分，所以下面用到的图像在训练中从未出现过。

# %%
{{snippet:validate}}

# %% tags=["pt"]
import seghelpers.pt as shpt  # imports torch (USE_TF=0 keeps TensorFlow out)
import torch
from torch import nn

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow: selects Keras 2 (tf-keras)
import tensorflow as tf

print("TensorFlow", tf.__version__, "| GPUs:", len(tf.config.list_physical_devices("GPU")))

# %% [markdown] tags=["lang-en"]
# ## 1. Which model?
#
# `meta`, the dataset description, holds the dataset's class names, a colour per class and its label
# convention. The model comes from `P.output_dir`. If that folder has no `config.json`, notebook 04 has
# not run yet with these parameters. Rather than stop, the kit's `sh.trained_model_folder` then saves an
# *untrained* stand-in with the dataset's classes (the profile's `checkpoint`, its decode head freshly
# initialised) in a temporary folder, so that every cell below still runs, and says so loudly: its predictions
# are noise. Run notebook 04 with the same parameters, then rerun this one.
#
# **On Colab** every notebook gets its own runtime, and a runtime's disk goes with it, so this notebook
# never sees a folder notebook 04 wrote in its runtime. Mount Google Drive in both notebooks (Files ▸ Mount
# Drive, or `from google.colab import drive; drive.mount("/content/drive")`) before their parameters cell:
# `output_dir` then defaults to `MyDrive/segformer-kit/models/segformer-<profile>-<fw>`, where 04 saves and
# 05 looks. If the model is missing, the warning below says what to do.

# %% [markdown] tags=["lang-zh"]
# 数据集描述 `meta` 里存着数据集的类别名、每个类别的颜色，以及它的标签约定。模型从 `P.output_dir` 加载。如果这个文件夹里没有 `config.json`，说明还没有用这组参数运行过第 04 篇。这时套件的 `sh.trained_model_folder` 不会直接报错停下，而是在一个临时文件夹里保存一个带有数据集类别的*未训练*替代模型（预设里的 `checkpoint`，解码头是新初始化的），让下面每个单元格都能照常运行，同时给出醒目的警告：它的预测只是噪声。用同样的参数运行第 04 篇，再重新运行本篇即可。
#
# **在 Colab 上**，每个笔记本都运行在各自的运行时里，运行时的磁盘也随它一起消失，所以本篇看不到第 04 篇在它自己的运行时里写下的文件夹。两个笔记本都要先挂载 Google Drive，再运行参数单元格（在左侧“文件”面板点“装载 Google 云端硬盘”，或运行 `from google.colab import drive; drive.mount("/content/drive")`）。挂载之后，`output_dir` 的默认值就变成 `MyDrive/segformer-kit/models/segformer-<profile>-<fw>`：第 04 篇把模型保存到这里，本篇也从这里加载；找不到模型时，下面的警告会说明该怎么做。

# %%
from pathlib import Path

import numpy as np

meta = sh.dataset_meta(P.dataset)  # the dataset description: classes, colours, label convention
print(meta.describe())
model_dir, trained = sh.trained_model_folder(P, FRAMEWORK, meta=meta)  # 04's model, or an untrained stand-in

# %%
sh.show_source(sh.trained_model_folder)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "pt"]
# The guide keeps using the `model` and `image_processor` of its training section; in a fresh notebook we
# load both from the folder with `from_pretrained` (the processor saved there is the slow one 02 taught and
# 04 trained with), and move the model to the device. `eval()` switches dropout off and makes the decode
# head's BatchNorm use the running statistics it learnt instead of the current batch's; `from_pretrained`
# already returns the model in this mode, so the call only makes it explicit.

# %% [markdown] tags=["lang-zh", "pt"]
# 指南一直沿用训练部分里的 `model` 和 `image_processor`；在一个新的笔记本里，我们用 `from_pretrained` 从文件夹加载这两样（文件夹里保存的正是第 02 篇讲解、第 04 篇训练时用的慢速处理器），并把模型放到设备上。`eval()` 会关闭 dropout，并让解码头里的 BatchNorm 使用训练中学到的滑动统计量，而不是当前批次的统计量；`from_pretrained` 返回的模型本来就处于这个模式，这里只是把它写明。

# %% tags=["pt"]
from transformers import AutoImageProcessor, AutoModelForSemanticSegmentation

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
image_processor = AutoImageProcessor.from_pretrained(model_dir)
model = AutoModelForSemanticSegmentation.from_pretrained(model_dir).to(device).eval()

# %% [markdown] tags=["lang-en", "tf"]
# The guide loads someone else's fine-tuned model from the Hub, `"MariaK/scene_segmentation"`; we load
# ours from the folder, with the image processor saved next to it (the slow one 02 taught and 04 trained
# with). That is the only change.

# %% [markdown] tags=["lang-zh", "tf"]
# 指南从 Hub 加载的是别人微调好的模型 `"MariaK/scene_segmentation"`；我们从文件夹加载自己的模型，以及与它保存在一起的图像处理器（正是第 02 篇讲解、第 04 篇训练时用的慢速处理器）。改动仅此一处。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
from transformers import AutoImageProcessor

image_processor = AutoImageProcessor.from_pretrained(model_dir)  # guide: "MariaK/scene_segmentation"

from transformers import TFAutoModelForSemanticSegmentation

model = TFAutoModelForSemanticSegmentation.from_pretrained(model_dir)  # guide: "MariaK/scene_segmentation"

# %% [markdown] tags=["lang-en"]
# A model trained on other data would still predict, just with the wrong classes. So check first that the
# model's classes are the dataset's:

# %% [markdown] tags=["lang-zh"]
# 在别的数据上训练的模型照样能输出预测，只是类别全错。所以先确认模型的类别就是数据集的类别：

# %%
model_classes = model.config.id2label  # {class id: name}, as notebook 04 saved it
if [n.strip() for n in model_classes.values()] != [n.strip() for n in meta.id2label.values()]:
    raise ValueError(
        f"The model in {model_dir} has {len(model_classes)} classes {list(model_classes.values())[:6]}..., but "
        f"dataset={P.dataset!r} ({meta.name}) has {meta.num_labels}: {list(meta.id2label.values())[:6]}... "
        "Run notebook 04 with this dataset (same parameters), or set dataset to the one the model was trained on.")
print(f"{type(model).__name__}: {len(model_classes)} classes, the dataset's | input size {image_processor.size}")

# %% [markdown] tags=["lang-en"]
# ## 2. An image from the test split
#
# We rebuild the split as notebooks 01 and 04 do. The guide then takes `image = ds[0]["image"]`, but at
# that point its `ds` is the result of `train_test_split`, a `DatasetDict` keyed by split name, so the
# line fails; we take the first image of the test split. Keep one convention in mind: PIL reports
# `image.size` as **(width, height)**, while arrays and tensors are **(height, width)**. That is why the
# code below keeps writing `image.size[::-1]`.

# %% [markdown] tags=["lang-zh"]
# ## 2. 测试集里的一张图像
#
# 按照第 01、04 篇的方式重建数据划分。指南接着写 `image = ds[0]["image"]`，可这时它的 `ds` 已经是 `train_test_split` 的结果，一个按划分名索引的 `DatasetDict`，所以这一行会报错；我们改取测试集的第一张图像。有一个约定要记牢：PIL 的 `image.size` 是 **（宽，高）**，而数组和张量的形状是 **（高，宽）**。所以下面的代码里会反复出现 `image.size[::-1]`。

# %%
ds = sh.load_scene_parse(P.dataset, P.split).train_test_split(test_size=0.2, seed=P.seed)  # as in 01, 04

# %%
# 指南原代码 / the guide's code (Chinese edition)
try:
    image = ds[0]["image"]
except KeyError as err:
    print("KeyError:", err)

# %%
# NBVAL_CHECK_OUTPUT
image = ds["test"][0]["image"]  # the fix: an image of the test split
images = [ex["image"] for ex in ds["test"]]  # decode once
annotations = [ex["annotation"] for ex in ds["test"]]
print(f"{len(images)} test images; the first is {image.size[0]}x{image.size[1]} (width x height)")
print("as an array:", np.array(image).shape)

# %% [markdown] tags=["lang-en", "pt"]
# ## 3. The `image-segmentation` pipeline
#
# The quickest route is the guide's pipeline. It names the model `"my_awesome_seg_model"`, the
# `output_dir` of the guide's training run. Here that name is neither a folder nor a model on the Hub,
# so the guide's line fails at once:

# %% [markdown] tags=["lang-zh", "pt"]
# ## 3. `image-segmentation` pipeline
#
# 最快的办法是指南里的 pipeline。指南把模型写成 `"my_awesome_seg_model"`，也就是指南训练时的 `output_dir`。在这里这个名字既不是一个文件夹，也不是 Hub 上的模型，所以指南的这一行会立刻报错：

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
from transformers import pipeline

try:
    segmenter = pipeline("image-segmentation", model="my_awesome_seg_model")
except OSError as err:
    print("OSError:", str(err).splitlines()[0])

# %% [markdown] tags=["lang-en", "pt"]
# The fix is the folder notebook 04 saved to. The pipeline returns one entry per class that appears in the
# prediction: `label` is the class name, `mask` a black-and-white PIL image of the image's own size (255
# where that class was predicted), and `score` is `None`, because semantic segmentation does not score its
# masks.

# %% [markdown] tags=["lang-zh", "pt"]
# 改法是换成第 04 篇保存模型的文件夹。pipeline 为预测结果中出现的每个类别返回一条输出：`label` 是类别名，`mask` 是一张与原图同样大小的黑白 PIL 图像（预测为该类别的位置是 255），`score` 则是 `None`，因为语义分割不给掩码打分。

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
segmenter = pipeline("image-segmentation", model=model_dir)  # guide: "my_awesome_seg_model"
segments = segmenter(image)  # guide: segmenter(image), the result shown as the cell's output

# %% tags=["pt"]
print(len(segments), "classes predicted; the first three:")
for s in segments[:3]:
    print({"score": s["score"], "label": s["label"], "mask": f"PIL {s['mask'].mode} {s['mask'].size}"})

# %% [markdown] tags=["lang-en", "pt"]
# One mask per class is handy for cutting out objects, but for colouring and for metrics we want a single
# segmentation map: one class id per pixel. Rebuilding it from the masks is easy (they never overlap), and
# it lets us compare the pipeline with the by-hand route below.

# %% [markdown] tags=["lang-zh", "pt"]
# 每个类别一张掩码，抠图时很方便；但上色和计算指标需要的是一张分割图：每个像素一个类别编号。从掩码拼回分割图很简单（各掩码互不重叠），这样也能把 pipeline 和下面的手动流程做个对比。

# %% tags=["pt"]
pipe_seg = np.full(image.size[::-1], 255, dtype=np.int64)  # (height, width), 255 = not covered
for s in segments:
    pipe_seg[np.array(s["mask"]) > 0] = model.config.label2id[s["label"]]

# %% [markdown] tags=["lang-en", "pt"]
# ## 4. The same by hand
#
# What the pipeline does inside, in the guide's code:
#
# 1. the image processor resizes and normalises the image to `pixel_values`, shape (1, 3, size, size);
# 2. the model returns logits at a quarter of that resolution: (1, number of classes, size/4, size/4);
# 3. we upsample the logits bilinearly to the image's own size, `image.size[::-1]` = (height, width);
# 4. argmax over the class dimension gives one class id per pixel.
#
# Why upsample *logits* and not class ids? Interpolating scores gives smooth, sub-pixel boundaries; taking
# the argmax first and then resizing ids (with nearest neighbour, the only valid way for ids) gives
# staircase boundaries, one step per logit cell (4 or more image pixels).
#
# The guide's code runs as written. One silent cost: it calls the model outside `torch.no_grad()`, so
# PyTorch records every operation for a backward pass that never comes (`requires_grad` below); on big
# images that is a lot of memory.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 4. 手动完成同样的流程
#
# pipeline 内部做的事情，用指南原代码一步一步来：
#
# 1. 图像处理器把图像调整尺寸、归一化成 `pixel_values`，形状为 (1, 3, size, size)；
# 2. 模型输出的 logits 分辨率是输入的四分之一：(1, 类别数, size/4, size/4)；
# 3. 把 logits 双线性上采样到原图尺寸 `image.size[::-1]`，即（高，宽）；
# 4. 在类别维度上取 argmax，每个像素得到一个类别编号。
#
# 为什么上采样的是 *logits* 而不是类别编号？对得分做插值，边界平滑，能精确到亚像素；先取 argmax 再调整类别编号的尺寸（类别编号只能用最近邻插值），得到的边界是阶梯状的，每个台阶就是一个 logits 格子（对应原图 4 个像素甚至更多）。
#
# 指南原代码可以原样运行。只有一处隐性开销：它没有在 `torch.no_grad()` 里调用模型，于是 PyTorch 会为一次永远不会发生的反向传播记录下每一步运算（见下面的 `requires_grad`）；图像大时这要占不少内存。

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # 如果有可用的GPU，则使用GPU，否则使用CPU
encoding = image_processor(image, return_tensors="pt")
pixel_values = encoding.pixel_values.to(device)

outputs = model(pixel_values=pixel_values)
logits = outputs.logits.cpu()

upsampled_logits = nn.functional.interpolate(
    logits,
    size=image.size[::-1],
    mode="bilinear",
    align_corners=False,
)

pred_seg = upsampled_logits.argmax(dim=1)[0]

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
print("pixel_values    ", tuple(pixel_values.shape))
print("logits          ", tuple(logits.shape), "| requires_grad:", logits.requires_grad)
print("upsampled_logits", tuple(upsampled_logits.shape))
print("pred_seg        ", tuple(pred_seg.shape), pred_seg.dtype, "| the image's size:", tuple(pred_seg.shape) == image.size[::-1])

# %% [markdown] tags=["lang-en", "pt"]
# The pipeline and the guide's code agree pixel for pixel. The kit's `shpt.predict`, which section 8 uses on
# every test image, agrees with them except at exact ties: it runs the same steps on a batch of images at
# once, under `torch.no_grad()`, and returns each map at its own image's size. On the CPU it upsamples a band
# of rows at a time, so a pixel can differ from the guide's only where its two top classes score the same
# within float32 rounding.

# %% [markdown] tags=["lang-zh", "pt"]
# pipeline 和指南原代码的结果逐像素一致。第 8 小节用套件的 `shpt.predict` 预测全部测试图像，它的结果除了恰好打平的像素之外也与两者一致。它对一批图像一次执行同样的步骤，全程在 `torch.no_grad()` 里，并把每张分割图还原到各自原图的尺寸。在 CPU 上它会分块做上采样，所以只有得分最高的两个类别相差不到 float32 舍入误差的像素，结果才可能与指南不同。

# %% tags=["pt"]
pred = pred_seg.numpy()  # the guide keeps a tensor; numpy from here on
helper_seg = shpt.predict(model, image_processor, [image], fast=False)[0]
assert np.array_equal(pred, pipe_seg)
assert (helper_seg == pred).mean() > 0.999
print("guide's code == pipeline:", np.array_equal(pred, pipe_seg))
print("guide's code == shpt.predict(fast=False):", np.array_equal(pred, helper_seg))

# %% tags=["pt"]
sh.show_source(shpt.predict)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# ## 3. No pipeline in TensorFlow
#
# The guide shows `pipeline("image-segmentation", ...)` for PyTorch only, and for a reason: transformers
# implements the image-segmentation pipeline for PyTorch models alone. In TensorFlow we write the steps
# out, which also shows what a pipeline hides (section 4).

# %% [markdown] tags=["lang-zh", "tf"]
# ## 3. TensorFlow 没有 pipeline
#
# 指南只在 PyTorch 部分演示了 `pipeline("image-segmentation", ...)`，这是有原因的：transformers 的 image-segmentation pipeline 只支持 PyTorch 模型。在 TensorFlow 里我们把每一步都写出来，正好也能看清 pipeline 替我们做了什么（第 4 小节）。

# %% [markdown] tags=["lang-en", "tf"]
# ## 4. By hand
#
# The guide's TensorFlow code, step by step:
#
# 1. the image processor resizes and normalises the image to `pixel_values`, shape (1, 3, size, size);
# 2. the model returns logits at a quarter of that resolution, **channels-first** like the PyTorch model:
#    (1, number of classes, size/4, size/4);
# 3. `tf.image.resize` expects channels-last (N, H, W, C), so the guide transposes first;
# 4. it upsamples the logits to the image's own size, `image.size[::-1]` = (height, width)
#    (`tf.image.resize` is bilinear by default);
# 5. argmax over the class axis (now the last one) gives one class id per pixel.
#
# Why upsample *logits* and not class ids? Interpolating scores gives smooth, sub-pixel boundaries; taking
# the argmax first and then resizing ids (with nearest neighbour, the only valid way for ids) gives
# staircase boundaries, one step per logit cell (4 or more image pixels). The guide's code runs as written.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 4. 手动完成分割
#
# 指南的 TensorFlow 代码，一步一步来：
#
# 1. 图像处理器把图像调整尺寸、归一化成 `pixel_values`，形状为 (1, 3, size, size)；
# 2. 模型输出的 logits 分辨率是输入的四分之一，并且和 PyTorch 模型一样是**通道在前**的：(1, 类别数, size/4, size/4)；
# 3. `tf.image.resize` 要求通道在后的布局 (N, H, W, C)，所以指南先做转置；
# 4. 把 logits 上采样到原图尺寸 `image.size[::-1]`，即（高，宽）（`tf.image.resize` 默认就是双线性插值）；
# 5. 在类别轴（现在是最后一维）上取 argmax，每个像素得到一个类别编号。
#
# 为什么上采样的是 *logits* 而不是类别编号？对得分做插值，边界平滑，能精确到亚像素；先取 argmax 再调整类别编号的尺寸（类别编号只能用最近邻插值），得到的边界是阶梯状的，每个台阶就是一个 logits 格子（对应原图 4 个像素甚至更多）。指南原代码可以原样运行。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
inputs = image_processor(image, return_tensors="tf")
logits = model(**inputs).logits

logits = tf.transpose(logits, [0, 2, 3, 1])

upsampled_logits = tf.image.resize(
    logits,
    # 由于`image.size`返回宽度和高度，所以我们颠倒了`image`的形状。
    # (we reverse the shape of `image` because `image.size` returns width and height)
    image.size[::-1],
)

pred_seg = tf.math.argmax(upsampled_logits, axis=-1)[0]

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
print("pixel_values    ", tuple(inputs["pixel_values"].shape), "(channels-first)")
print("logits          ", tuple(logits.shape), "(after the transpose: channels-last)")
print("upsampled_logits", tuple(upsampled_logits.shape))
print("pred_seg        ", tuple(pred_seg.shape), pred_seg.dtype.name, "| the image's size:", tuple(pred_seg.shape) == image.size[::-1])

# %% [markdown] tags=["lang-en", "tf"]
# The kit's `shtf.predict` gives the same map pixel for pixel. Section 8 calls it because it runs the same
# steps on a batch of images at once and returns each map at its own image's size.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件的 `shtf.predict` 得到的分割图与此逐像素一致。第 8 小节用的就是它：它对一批图像一次执行同样的步骤，并把每张分割图还原到各自原图的尺寸。

# %% tags=["tf"]
pred = pred_seg.numpy()  # the guide keeps a tensor; numpy from here on
helper_seg = shtf.predict(model, image_processor, [image])[0]
assert np.array_equal(pred, helper_seg)
print("guide's code == shtf.predict:", np.array_equal(pred, helper_seg))

# %% tags=["tf"]
sh.show_source(shtf.predict)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 5. Colours: the guide's palette has two faults
#
# To draw the map, the guide colours each class with `ade_palette()`, the ADE20K colour table it links from
# DeepLab, and then blends it with the photo. Two faults hide in its few lines:
#
# - **One row off.** That table has 151 rows: row 0 is black for ADE's "other" (mask value 0) and row *k*
#   colours mask value *k*. But the model predicts *reduced* labels, class *k* = mask value *k* + 1 (02).
#   Looping `for label, color in enumerate(palette)` over the predictions therefore paints class 0 black and
#   every other class in its predecessor's colour.
# - **BGR.** `color_seg[..., ::-1]`, commented "转换为BGR" ("convert to BGR"), is an OpenCV habit: OpenCV
#   stores images as BGR, but matplotlib expects RGB, so red and blue are swapped in the figure.
#
# The guide's code, as written (its two comments are the Chinese edition's, with the English after them):

# %% [markdown] tags=["lang-zh"]
# ## 5. 颜色：指南的调色板有两处错误
#
# 为了画出分割图，指南用 `ade_palette()` 给每个类别上色，这是它从 DeepLab 引用的 ADE20K 颜色表，然后再和照片混合。短短几行里藏着两处错误：
#
# - **错了一行。** 这张表有 151 行：第 0 行是黑色，对应 ADE 的“其他”（掩码值 0），第 *k* 行给掩码值 *k* 上色。可模型预测的是*缩减后*的标签，类别 *k* 对应掩码值 *k* + 1（见第 02 篇）。于是在预测结果上执行 `for label, color in enumerate(palette)`，类别 0 被涂成黑色，其余每个类别都用了前一个类别的颜色。
# - **BGR。** `color_seg[..., ::-1]` 的注释是“转换为BGR”，这是 OpenCV 的习惯：OpenCV 按 BGR 存图，而 matplotlib 要的是 RGB，于是图中的红蓝通道对调了。
#
# 下面是原样的指南原代码：

# %%
# 指南原代码 / the guide's code (Chinese edition)
import matplotlib.pyplot as plt
import numpy as np


def ade_palette():  # guide: links this table (DeepLab's ADE20K colormap) as ade_palette()
    return np.vstack([[0, 0, 0], sh.ade_palette()])  # forced: the guide links the table without code; the same 151 rows


color_seg = np.zeros((pred_seg.shape[0], pred_seg.shape[1], 3), dtype=np.uint8)
palette = np.array(ade_palette())
for label, color in enumerate(palette):
    color_seg[pred_seg == label, :] = color
color_seg = color_seg[..., ::-1]  # 转换为BGR (convert to BGR)

img = np.array(image) * 0.5 + color_seg * 0.5  # 将图像与分割图重叠显示 (overlay the segmentation map on the image)
img = img.astype(np.uint8)

plt.figure(figsize=(15, 10))
plt.imshow(img)
plt.show()

# %% [markdown] tags=["lang-en"]
# The guide's table is ADE20K's, so its colours mean something only when the classes are ADE20K's 150; the
# kit checks that here, and on any other dataset skips the row-by-row comparison below.

# %% [markdown] tags=["lang-zh"]
# 指南这张表是 ADE20K 的，只有类别正好是 ADE20K 的 150 个时，它给出的颜色才有意义；所以套件在这里检查一下，换成别的数据集就跳过下面逐行的对比。

# %%
ADE = meta.num_labels == 150
if not ADE:
    print(f"{meta.name} has {meta.num_labels} classes, not ADE20K's 150: the guide's ADE palette does not "
          "apply; its own palette, meta.palette, row i = class i, colours the maps below.")

# %% [markdown] tags=["lang-en"]
# For the classes in this prediction: the colour each class should get, the row the guide takes instead,
# and what matplotlib finally shows after `[..., ::-1]`. Then the three versions side by side.

# %% [markdown] tags=["lang-zh"]
# 对这张预测图里出现的每个类别，下面列出：它应有的颜色、指南实际取到的那一行，以及经过 `[..., ::-1]` 之后 matplotlib 最终显示的颜色。然后把三个版本并排画出来。

# %%
from seghelpers import viz

names = model.config.id2label
if ADE:
    table = np.array(ade_palette())
    for cid in np.unique(pred)[:6]:
        took = "the black row 0" if cid == 0 else f"the row of {names[cid - 1].strip()!r}"
        print(f"class {cid:3d} {names[cid].strip()!r:14} should be {meta.palette[cid].tolist()}, guide takes "
              f"{took} {table[cid].tolist()}, shown as {table[cid][::-1].tolist()}")

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = [("the guide as written", color_seg),
              ("row fixed, still BGR", sh.colorize(pred, meta=meta)[..., ::-1]),
              ("sh.colorize: right row, RGB", sh.colorize(pred, meta=meta))]
    for ax, (title, colours) in zip(axes, panels):
        ax.imshow(colours)
        ax.set_title(title)
        ax.axis("off")
    plt.show()

# %%
sh.show_source(sh.ade_palette, sh.colorize)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# With both faults fixed (the dataset's palette, where row *i* is class *i*, and no `[..., ::-1]`), the
# guide's loop and blend give exactly what the kit's `sh.colorize` and `sh.overlay` return. The later sections
# of this notebook call those: one table lookup instead of a loop over every class, and the right colours for any dataset.

# %% [markdown] tags=["lang-zh"]
# 把两处错误都改掉之后（换成数据集自己的调色板，第 *i* 行就是类别 *i*；去掉 `[..., ::-1]`），指南的循环和混合得到的结果与套件的 `sh.colorize`、`sh.overlay` 完全相同。本篇后面几节用的就是这两个函数：一次查表代替逐类别的循环，而且对任何数据集颜色都是对的。

# %%
# the guide's loop and blend with both fixes
color_seg = np.zeros((pred.shape[0], pred.shape[1], 3), dtype=np.uint8)
for label, color in enumerate(meta.palette):  # row i = class i
    color_seg[pred == label, :] = color
img = (np.array(image) * 0.5 + color_seg * 0.5).astype(np.uint8)  # RGB, as matplotlib expects

assert np.array_equal(sh.colorize(pred, meta=meta), color_seg)
assert np.array_equal(sh.overlay(image, pred, meta=meta), img)
print("fixed guide code == sh.colorize and sh.overlay:", True)

# %%
sh.show_source(sh.overlay)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 6. The overlay
#
# `viz.show_overlay` draws that blend, half image and half colour (the guide's 0.5), with a legend of the
# classes the model predicted, largest first: with many classes, a picture without a legend is hard to
# read. We also save the figure as `overlay.png` next to the model.

# %% [markdown] tags=["lang-zh"]
# ## 6. 叠加图
#
# `viz.show_overlay` 画的就是上面的混合结果，原图和颜色各占一半（即指南中的 0.5），并附上模型预测出的类别图例，按面积从大到小排列：类别一多，没有图例的叠加图就很难看懂。我们还把这张图保存为模型旁边的 `overlay.png`。

# %%
ax = viz.show_overlay(image, pred, meta=meta,
                      title="prediction" if trained else "prediction (UNTRAINED model)")
ids, counts = np.unique(pred, return_counts=True)  # the predicted classes and their pixel counts
for i in np.argsort(-counts, kind="stable")[:5]:  # the five largest
    print(f"{counts[i] / pred.size:6.1%}  {ids[i]:3d}  {names[int(ids[i])].strip()}")
ax.figure.savefig(Path(model_dir) / "overlay.png", bbox_inches="tight")
plt.show()

# %%
sh.show_source(viz.show_overlay)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 7. Prediction against the truth
#
# An overlay shows what the model says, not whether it is right. Put the prediction beside the ground truth
# (the annotation, turned into model class ids with `meta.to_model_ids` as in training) and mark every
# pixel where the two differ. Pixels the annotation leaves unlabelled (mask value 0 in ADE, 255 after
# `to_model_ids`) are not scored, in the metric or here. In the error map, red marks a wrong pixel, grey a right one, and black one that is not scored. The
# list below the figure names the true classes with the most wrong pixels, and what the model took them for:
# that is where to look first, with the per-class bars of section 8.

# %% [markdown] tags=["lang-zh"]
# ## 7. 预测与真实标签对照
#
# 叠加图只告诉你模型说了什么，却看不出它说得对不对。把预测和真实标签并排放在一起（真实标签就是标注，像训练时一样用 `meta.to_model_ids` 换成模型的类别编号），再把两者不一致的像素标出来。标注里没有标上类别的像素（ADE 里是掩码值 0，经 `to_model_ids` 转换后为 255）不参与评估，这里也不算。错分图（error map）中红色是预测错的像素，灰色是预测对的，黑色不参与评估。图下面的列表给出错误像素最多的几个真实类别，以及模型把它们错认成了什么：先从这里查起，再结合第 8 小节的各类别柱状图看。

# %%
truth = meta.to_model_ids(annotations[0])  # the first test image's annotation, as model class ids
scored = truth != meta.ignore_index  # 255: not labelled, not scored
wrong = scored & (pred != truth)
print(f"wrong: {wrong.sum()} of {scored.sum()} scored pixels ({wrong.sum() / max(scored.sum(), 1):.1%})")

errors = np.zeros((*truth.shape, 3), dtype=np.uint8)  # black: not scored
errors[scored & ~wrong] = (190, 190, 190)  # grey: right
errors[wrong] = (220, 0, 0)  # red: wrong
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
panels = [("ground truth", sh.colorize(truth, meta=meta)),
          ("prediction", sh.colorize(pred, meta=meta)), ("red: wrong, grey: right, black: not scored", errors)]
for ax, (title, picture) in zip(axes, panels):
    ax.imshow(picture)
    ax.set_title(title)
    ax.axis("off")
plt.show()

missed = np.bincount(truth[wrong], minlength=len(names))  # wrong pixels per true class
present = np.bincount(truth[scored], minlength=len(names))
for cid in np.argsort(-missed, kind="stable")[:5]:
    if missed[cid]:
        taken_for = np.bincount(pred[wrong & (truth == cid)]).argmax()
        print(f"{names[cid].strip():>16}: {missed[cid]:5d} of {present[cid]:5d} pixels wrong, "
              f"mostly taken for {names[taken_for].strip()}")

# %% [markdown] tags=["lang-en"]
# ## 8. Per-class IoU on the test split
#
# One picture is an anecdote. To measure the model, predict every test image with the batched helper and
# compute mean IoU against the annotations. Two details:
#
# - the annotations hold *mask values*; `meta.to_model_ids` turns them into model class ids with the
#   dataset's convention (for ADE: 0 → 255, ignored; *k* → *k* − 1), as in training;
# - the images have different sizes, so predictions and references are lists of maps, not one array.
#
# `sh.mean_iou` takes the same arguments and returns the same numbers as the 🤗 Evaluate metric of
# notebook 03. Classes absent from both predictions and references have IoU `nan` and are left out of the
# bar chart.
#
# The mean IoU here differs a little from the one notebook 04 printed for the same model and images: 04
# scores at the processor's size (`image_size` × `image_size`, labels resized with nearest neighbour),
# while here every map is compared at its image's original size, so each original pixel counts exactly once.

# %% [markdown] tags=["lang-zh"]
# ## 8. 测试集上各类别的交并比
#
# 一张图只能算个例。要衡量模型，就用批量处理的辅助函数预测测试集里的每一张图像，再和标注一起计算 mIoU。有两个细节：
#
# - 标注里存的是*掩码值*；`meta.to_model_ids` 按数据集自己的约定把它们换成模型的类别编号（对 ADE：0 → 255，即忽略；*k* → *k* − 1），和训练时一致；
# - 图像尺寸各不相同，所以预测和真实标签都是由分割图组成的列表，而不是一个大数组。
#
# `sh.mean_iou` 的参数和返回结果都与第 03 篇的 🤗 Evaluate 指标相同。预测和真实标签里都没有出现的类别，交并比是 `nan`，不会出现在柱状图里。
#
# 这里的 mIoU 和第 04 篇对同一个模型、同一批图像打印的 mIoU 略有不同：第 04 篇是在图像处理器的尺寸上评估的（`image_size` × `image_size`，标签用最近邻插值调整尺寸），而这里每张分割图都在原图尺寸上比较，原图的每个像素恰好计一次。

# %% tags=["pt"]
preds = shpt.predict(model, image_processor, images, batch_size=P.batch_size, fast=P.fast)

# %% tags=["tf"]
preds = shtf.predict(model, image_processor, images, batch_size=P.batch_size)

# %%
# NBVAL_CHECK_OUTPUT
references = [meta.to_model_ids(a) for a in annotations]
print("every prediction has its image's size:",
      all(p.shape == im.size[::-1] == r.shape for p, im, r in zip(preds, images, references)))
results = sh.mean_iou(preds, references, num_labels=meta.num_labels, ignore_index=meta.ignore_index)
print("keys:", sorted(results))

# %%
iou = np.asarray(results["per_category_iou"])
with_iou = int(np.isfinite(iou).sum())
shown = min(20, with_iou)
ax = viz.plot_per_class_iou(iou, meta=meta, top=shown)
which = f"all {with_iou}" if shown == with_iou else f"the best {shown} of {with_iou}"
ax.set_title(f"IoU on {len(images)} test images: {which} classes with an IoU")
plt.show()

# %%
sh.show_source(viz.plot_per_class_iou)  # the kit's code, where it is first used

# %% tags=["metrics"]
print(f"model: {'trained by notebook 04' if trained else 'UNTRAINED fallback'} ({model_dir})")
print(f"eval images: {len(images)}")
print(f"eval mean IoU: {results['mean_iou']:.4f}")
print(f"eval mean accuracy: {results['mean_accuracy']:.4f}")
print(f"eval overall accuracy: {results['overall_accuracy']:.4f}")
print(f"classes with an IoU: {with_iou}")

# %% [markdown] tags=["lang-en", "pt"]
# ## Summary
#
# - `from_pretrained(folder)` loads the fine-tuned model and the image processor saved with it; a model
#   works only on inputs prepared as in training, and only with the dataset's classes, so check them.
# - The `image-segmentation` pipeline returns one mask per predicted class; the guide's by-hand route
#   (processor → logits at 1/4 resolution → bilinear upsample of the *logits* to the image size → argmax)
#   gives the same map, pixel for pixel.
# - A palette must colour class *i* with row *i*: the guide's 151-row ADE table is one row off for reduced
#   predictions, and `[..., ::-1]` swaps red and blue for matplotlib. `sh.colorize` / `sh.overlay` are the
#   guide's code with both faults fixed.
# - Put prediction and ground truth side by side and mark the wrong pixels: the error map and the list of
#   most-missed classes show where the model fails and what it takes those classes for, which one mIoU number
#   hides.
# - mean IoU at the images' original size differs slightly from 04's at the processed size.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 小结
#
# - `from_pretrained(文件夹)` 加载微调后的模型和与之一起保存的图像处理器；模型只有在输入按训练时的方式处理、类别与数据集一致时才靠得住，所以要检查类别。
# - `image-segmentation` pipeline 为每个预测出的类别返回一张掩码；指南的手动流程（图像处理器 → 1/4 分辨率的 logits → 把 *logits* 双线性上采样到原图尺寸 → argmax）得到的分割图与它逐像素相同。
# - 调色板必须用第 *i* 行给类别 *i* 上色：指南那张 151 行的 ADE 表用在缩减后的预测上错了一行，而 `[..., ::-1]` 又让 matplotlib 显示时红蓝对调。`sh.colorize` / `sh.overlay` 就是改掉这两处错误之后的指南原代码。
# - 把预测和真实标签并排放、标出错误像素：错分图和“错得最多的类别”列表告诉你模型错在哪里、把什么错认成了什么，这是单个 mIoU 数字看不出来的。
# - 在原图尺寸上算出的 mIoU 与第 04 篇在处理后尺寸上算出的略有不同。

# %% [markdown] tags=["lang-en", "tf"]
# ## Summary
#
# - `from_pretrained(folder)` loads the fine-tuned model and the image processor saved with it; a model
#   works only on inputs prepared as in training, and only with the dataset's classes, so check them.
# - transformers has no TensorFlow image-segmentation pipeline; the guide's by-hand route (processor →
#   channels-first logits at 1/4 resolution → transpose to channels-last → bilinear upsample of the *logits*
#   to the image size → argmax) is what `shtf.predict` runs, pixel for pixel.
# - A palette must colour class *i* with row *i*: the guide's 151-row ADE table is one row off for reduced
#   predictions, and `[..., ::-1]` swaps red and blue for matplotlib. `sh.colorize` / `sh.overlay` are the
#   guide's code with both faults fixed.
# - Put prediction and ground truth side by side and mark the wrong pixels: the error map and the list of
#   most-missed classes show where the model fails and what it takes those classes for, which one mIoU number
#   hides.
# - mean IoU at the images' original size differs slightly from 04's at the processed size.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 小结
#
# - `from_pretrained(文件夹)` 加载微调后的模型和与之一起保存的图像处理器；模型只有在输入按训练时的方式处理、类别与数据集一致时才靠得住，所以要检查类别。
# - transformers 没有 TensorFlow 版的 image-segmentation pipeline；指南的手动流程（图像处理器 → 通道在前、1/4 分辨率的 logits → 转置成通道在后 → 把 *logits* 双线性上采样到原图尺寸 → argmax）正是 `shtf.predict` 执行的步骤，结果逐像素相同。
# - 调色板必须用第 *i* 行给类别 *i* 上色：指南那张 151 行的 ADE 表用在缩减后的预测上错了一行，而 `[..., ::-1]` 又让 matplotlib 显示时红蓝对调。`sh.colorize` / `sh.overlay` 就是改掉这两处错误之后的指南原代码。
# - 把预测和真实标签并排放、标出错误像素：错分图和“错得最多的类别”列表告诉你模型错在哪里、把什么错认成了什么，这是单个 mIoU 数字看不出来的。
# - 在原图尺寸上算出的 mIoU 与第 04 篇在处理后尺寸上算出的略有不同。

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
from seghelpers.exercises import stage05 as ex

# %% [markdown] tags=["lang-en"]
# ### Exercise 1: segment an image by hand
#
# Write `my_segment(image)`: a PIL image in, a `(height, width)` array of class ids out, with `model` and
# `image_processor` from section 1, the way section 4 does it. The check runs it on the test image, on its
# top half (not square: height and width must not be swapped) and on a tiny 5×2 image, and compares each
# map with the kit's `predict`, the same route as the pipeline.

# %% [markdown] tags=["lang-zh"]
# ### 练习 1：手动分割一张图像
#
# 编写 `my_segment(image)`：输入一张 PIL 图像，输出（高，宽）的类别编号数组，像第 4 小节那样使用第 1 小节的 `model` 和 `image_processor`。检查会在测试图像、它的上半部分（不是正方形：高和宽不能弄反）和一张 5×2 的小图上运行你的函数，并把每个结果和套件的 `predict`（与 pipeline 走的是同一条流程）比较。

# %% tags=["exercise"]
def my_segment(image):
    # processor -> model -> upsample the logits to the image size -> argmax
    return ...


# %% tags=["pt"]
ex.segment_by_hand_pt.check(my_segment, model, image_processor, image)  # .hint() / .solution()

# %% tags=["tf"]
ex.segment_by_hand_tf.check(my_segment, model, image_processor, image)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 2: fix the guide's palette
#
# The guide colours a prediction with a table whose row 0 is "other" (raw annotation value 0). Write
# `my_colorize(pred, guide_table)` that colours a map of model class ids with that table, correctly, in RGB.
# The check builds the guide-style table from this dataset's palette, `np.vstack([[0, 0, 0], meta.palette])`,
# runs your function on a one-pixel map, on the last class and on `pred`, and compares with `sh.colorize`.

# %% [markdown] tags=["lang-zh"]
# ### 练习 2：修正指南的调色板
#
# 指南给预测结果上色时用的表格，第 0 行是“其他”（原始标注值 0）。编写 `my_colorize(pred, guide_table)`，用这张表正确地给模型类别编号图上色，输出 RGB。检查会用本数据集的调色板搭出一张指南式的表格 `np.vstack([[0, 0, 0], meta.palette])`，在一个单像素的图、最后一个类别和 `pred` 上运行你的函数，并和 `sh.colorize` 比较。

# %% tags=["exercise"]
def my_colorize(pred, guide_table):
    # an (H, W, 3) uint8 RGB image
    return ...


# %%
ex.palette_fix.check(my_colorize, pred, meta)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 3: argmax after upsampling
#
# Section 4 upsamples the logits and only then takes the argmax. Taking the argmax on the small logits and
# resizing the class ids with nearest neighbour would be cheaper. Why is it worse? Set `upsample_answer`:
#
# - (a) It is not worse, only cheaper.
# - (b) Upsampled scores let a boundary fall between two coarse pixels; argmax first gives blocky maps.
# - (c) Class ids would be interpolated bilinearly, giving classes like 2.5.
# - (d) The model needs to know the output size before it runs.

# %% [markdown] tags=["lang-zh"]
# ### 练习 3：先上采样，再取 argmax
#
# 第 4 小节先对 logits 上采样，然后才取 argmax。在小尺寸的 logits 上先取 argmax，再用最近邻插值把类别编号调整到原图尺寸，计算量会更小。为什么效果更差？把 `upsample_answer` 设为一个字母：
#
# - (a) 并不更差，只是更省计算。
# - (b) 对分数上采样后，边界可以落在两个粗糙像素之间；先取 argmax 只能得到块状的分割图。
# - (c) 类别编号会被双线性插值，得到 2.5 这样的类别。
# - (d) 模型运行之前就需要知道输出尺寸。

# %% tags=["exercise"]
upsample_answer = ...  # "a", "b", "c" or "d"

# %%
ex.argmax_after_upsampling.check(upsample_answer)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### More to explore
#
# 1. Change the by-hand route: take the argmax on the small logits first, then resize the class ids to the
#    image size with nearest neighbour. How many pixels of the first image change, and where are they?
# 2. Section 7's error list covers the first test image only. Extend it to the whole test split: add up the
#    wrong pixels of each true class over `zip(references, preds)` (section 8). Which true class loses the
#    most pixels, and what is it mostly taken for? Does it also have the lowest IoU in section 8's bars,
#    and why need it not?
# 3. Overlay a photo of your own: `sh.overlay(photo, my_segment(photo), meta=meta)` with
#    `photo = PIL.Image.open("your.jpg").convert("RGB")`. What does a model trained on this dataset see in it?
# 4. Set `output_dir = "build/models/none"` in the parameters cell (a folder with no model) and run the
#    notebook again: the untrained stand-in. How do mean IoU and the number of predicted classes change?

# %% [markdown] tags=["lang-zh"]
# ### 更多探索
#
# 1. 修改手动流程：先在小尺寸的 logits 上取 argmax，再用最近邻插值把类别编号调整到原图尺寸。第一张图像有多少个像素的结果变了？它们都分布在哪里？
# 2. 第 7 小节的错误列表只看了第一张测试图像。把它推广到整个测试集：用第 8 小节的 `zip(references, preds)`，逐张累加每个真实类别的错误像素数。哪个真实类别错的像素最多？它主要被错认成了什么？它在第 8 小节的柱状图里交并比（IoU）也是最低的吗？为什么不一定？
# 3. 给你自己拍的照片做一张叠加图：`photo = PIL.Image.open("your.jpg").convert("RGB")`，然后 `sh.overlay(photo, my_segment(photo), meta=meta)`。在这个数据集上训练的模型从照片里看到了什么？
# 4. 在参数单元格里设置 `output_dir = "build/models/none"`（一个没有模型的文件夹），再运行一遍本篇，这时用的是未训练的替代模型。mIoU 和预测出的类别数分别有什么变化？

# %% [markdown] tags=["lang-en", "collapsed", "pt"]
# ## Under the hood
#
# **`shpt.predict(fast=True)`.** The parameter `fast` is off by default, and so is `shpt.predict`'s own
# `fast`: called without it, from a notebook or a script, `predict` runs the model as it is, the guide's
# model. Section 8 passes `fast=P.fast`.
#
# With `fast=True`, `predict` runs an inference-only copy of the model made by `shpt.fast_segformer`, with
# two rewrites that are exact in real arithmetic and change only the order of float operations: attention goes through PyTorch's fused
# `scaled_dot_product_attention`, and the decode head is folded (its per-stage MLPs, the 1×1 fuse convolution,
# BatchNorm and bilinear upsampling are all linear, so each encoder stage maps straight to the fused channels
# at its own, smaller resolution and only the sum is upsampled; for mit-b0 at 512×512 this removes about half
# of the multiply-adds). On the CPU, whatever `fast` says, `shpt.upsample_argmax` upsamples and takes the
# argmax a band of rows at a time, so the (classes, height, width) float map is never built. `make bench`
# (item 6 of `benchmarks/RESULTS.md`) measures both against the pipeline.
#
# Rounding can flip only a pixel whose two best classes are tied to float32 precision, where the class is
# a coin toss anyway. The cell below counts the pixels where each route differs from the guide's code and
# checks that every one of them is such a tie (top-2 margin of the guide's upsampled logits at most 1e-5).

# %% [markdown] tags=["lang-zh", "collapsed", "pt"]
# ## 实现细节（Under the hood）
#
# **`shpt.predict(fast=True)`。** 参数 `fast` 默认关闭，`shpt.predict` 自己的 `fast` 默认也是关闭的：不传这个参数时，无论在笔记本里还是在自己的脚本里，`predict` 运行的都是模型本身，也就是指南的模型。第 8 小节传入的是 `fast=P.fast`。
#
# `fast=True` 时，`predict` 运行 `shpt.fast_segformer` 生成的一个仅用于推理的模型副本。副本做了两处改写，在实数运算下完全等价，变的只是浮点运算的顺序：注意力改用 PyTorch 的融合算子 `scaled_dot_product_attention`；解码头做了折叠（各阶段的 MLP、1×1 融合卷积、BatchNorm 和双线性上采样都是线性的，所以编码器的每个阶段可以在各自更低的分辨率上直接映射到融合后的通道，最后只对求和结果做上采样；对 512×512 输入的 mit-b0，这样能省掉大约一半的乘加运算）。此外，在 CPU 上无论 `fast` 取何值，`shpt.upsample_argmax` 都按行分块完成上采样和 argmax，不会生成完整的（类别数, 高, 宽）浮点张量。`make bench`（`benchmarks/RESULTS.md` 第 6 项）把两者和 pipeline 做了对比。
#
# 舍入误差只可能改变这样的像素：得分最高的两个类别相差不到 float32 的舍入误差。这些像素归哪一类，本来就是碰运气。下面的单元格统计两条路线与指南原代码结果不同的像素数，并检查这些像素全都属于这种打平的情况（指南上采样后 logits 的前两名之差不超过 1e-5）。

# %% tags=["pt"]
top2 = upsampled_logits.detach().topk(2, dim=1).values[0]
tie = ((top2[0] - top2[1]) <= 1e-5).numpy()  # two classes tied at float32 precision
fast_seg = shpt.predict(model, image_processor, [image], fast=True)[0]  # the fast path, whatever P.fast says
for route, seg in [("predict(fast=False)", helper_seg), ("predict(fast=True)", fast_seg)]:
    differ = seg != pred
    print(f"{route}: {int(differ.sum())} pixels differ from the guide's code, all at ties: {bool(tie[differ].all())}")

# %% [markdown] tags=["lang-en", "collapsed", "tf"]
# ## Under the hood
#
# `shtf.predict` hands the image processor channels-first uint8 arrays with
# `input_data_format="channels_first"`, so the processor never has to guess the layout of a small or
# unusual image, and runs the images through the model in batches of `batch_size`; upsampling and argmax
# are the guide's (`tf.image.resize`, bilinear with half-pixel centres, the same convention as PyTorch's
# `align_corners=False`). When no trained model exists, section 1 saves the untrained stand-in into a
# temporary folder, so the guide's `from_pretrained(folder)` line runs unchanged either way.

# %% [markdown] tags=["lang-zh", "collapsed", "tf"]
# ## 实现细节（Under the hood）
#
# `shtf.predict` 交给图像处理器的是通道在前的 uint8 数组，并注明 `input_data_format="channels_first"`，这样遇到很小或形状特殊的图像时，处理器不必去猜布局；图像按 `batch_size` 分批送进模型。上采样和 argmax 与指南相同（`tf.image.resize`，双线性插值，采用半像素中心，与 PyTorch 的 `align_corners=False` 约定一致）。还没有训练好的模型时，第 1 小节会把未训练的替代模型保存到一个临时文件夹，所以无论哪种情况，指南里 `from_pretrained(文件夹)` 那一行都能原样运行。
