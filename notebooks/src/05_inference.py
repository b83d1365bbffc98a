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
# of the evaluation split, draws the result over the photo and measures the model class by class.
#
# **You will learn to**
# - load the fine-tuned model and its image processor from a folder (and notice when there is none);
# - run the `image-segmentation` pipeline and read its output;
# - do the same by hand: image processor → logits → upsample to the image size → argmax, and know why the order matters;
# - colour a segmentation map with the ADE palette, overlay it on the image, and avoid the guide's BGR slip;
# - compute the per-class IoU of the model on the whole evaluation split.

# %% [markdown] tags=["lang-zh", "pt"]
# # 05 · 推理：用微调好的模型分割图像（PyTorch）
#
# 训练已经完成，现在来用这个模型。本节加载 04 节保存的模型，对评估集里的一张图像做分割，把结果叠加到原图上，
# 最后逐个类别地评估模型。
#
# **本节目标**
# - 从文件夹加载微调后的模型和图像处理器（文件夹里没有模型时能及时发现）；
# - 运行 `image-segmentation` pipeline，并看懂它的输出；
# - 手动走一遍同样的流程：图像处理器 → logits → 上采样到原图尺寸 → argmax，并理解为什么顺序不能颠倒；
# - 用 ADE 调色板给分割图上色、叠加到原图上，并避开指南里的 BGR 失误；
# - 在整个评估集上计算模型各类别的交并比（IoU）。

# %% [markdown] tags=["lang-en", "tf"]
# # 05 · Inference: segment images with the fine-tuned model (TensorFlow)
#
# Training is done; now we use the model. This notebook loads what notebook 04 saved, segments an image
# of the evaluation split, draws the result over the photo and measures the model class by class.
#
# **You will learn to**
# - load the fine-tuned TensorFlow model and its image processor from a folder (and notice when there is none);
# - segment an image by hand, since transformers has no TensorFlow pipeline for this task: image processor →
#   logits → channels-last → upsample to the image size → argmax, and know why the order matters;
# - colour a segmentation map with the ADE palette, overlay it on the image, and avoid the guide's BGR slip;
# - compute the per-class IoU of the model on the whole evaluation split.

# %% [markdown] tags=["lang-zh", "tf"]
# # 05 · 推理：用微调好的模型分割图像（TensorFlow）
#
# 训练已经完成，现在来用这个模型。本节加载 04 节保存的模型，对评估集里的一张图像做分割，把结果叠加到原图上，
# 最后逐个类别地评估模型。
#
# **本节目标**
# - 从文件夹加载微调后的 TensorFlow 模型和图像处理器（文件夹里没有模型时能及时发现）；
# - 手动完成分割，因为 transformers 没有这个任务的 TensorFlow 版 pipeline：图像处理器 → logits → 转成通道在后 →
#   上采样到原图尺寸 → argmax，并理解为什么顺序不能颠倒；
# - 用 ADE 调色板给分割图上色、叠加到原图上，并避开指南里的 BGR 失误；
# - 在整个评估集上计算模型各类别的交并比（IoU）。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The parameters are the same as in notebook 04, on purpose: with the same `profile` (and the same
# `output_dir` if you changed it there), `P.output_dir` is exactly the folder 04 saved its model and image
# processor to. `dataset`, `split` and `seed` rebuild the same 80/20 split, so the images below were never
# seen in training.

# %% [markdown] tags=["lang-zh"]
# 这里的参数和 04 节完全一样，这是有意为之：只要 `profile` 相同（如果在 04 节改过 `output_dir`，这里也要一样），
# `P.output_dir` 就正好是 04 节保存模型和图像处理器的文件夹。`dataset`、`split` 和 `seed` 会重建同样的 80/20 划分，
# 所以下面用到的图像在训练中从未出现过。

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
# By default we load the fine-tuned model from `P.output_dir`. If that folder has no `config.json`,
# notebook 04 has not run yet (or saved elsewhere). Rather than stop, the notebook falls back to the
# profile's `checkpoint` so that every cell below still runs, and says so loudly: that checkpoint was not
# fine-tuned on ADE20K (in the `smoke` profile it is a random initialization; with `nvidia/mit-b0` only the
# encoder is pretrained and the decode head is random), so its predictions are noise. Run notebook 04
# with the same parameters, then rerun this one.

# %% [markdown] tags=["lang-zh"]
# ## 1. 用哪个模型？
#
# 默认从 `P.output_dir` 加载微调好的模型。如果这个文件夹里没有 `config.json`，说明 04 节还没运行过（或者保存到了别处）。
# 这时笔记本不会直接报错停下，而是退回到配置档里的 `checkpoint`，让下面每个单元格都能照常运行，同时给出醒目的警告：
# 这个检查点没有在 ADE20K 上微调过（`smoke` 配置下它是随机初始化的；用 `nvidia/mit-b0` 时也只有编码器是预训练的，
# 解码头仍是随机的），所以它的预测只是噪声。用同样的参数跑完 04 节，再重新运行本节即可。

# %%
import warnings
from pathlib import Path

from IPython.display import display

trained = (Path(P.output_dir) / "config.json").is_file()
if trained:
    model_path, model_kwargs = P.output_dir, {}
else:
    model_path = sh.resolve_checkpoint(P.checkpoint, P.image_size, P.seed)
    model_kwargs = dict(id2label=sh.id2label, label2id=sh.label2id)  # the 150 ADE classes, as in 04
    message = (f"No trained model in {P.output_dir!r} (run notebook 04 with the same parameters first). "
               f"Falling back to checkpoint={P.checkpoint!r}, which is NOT fine-tuned: "
               "its predictions below are untrained noise.")
    # bold in Jupyter, plain text in logs
    display({"text/markdown": f"**⚠️ WARNING: {message}**", "text/plain": f"⚠️ WARNING: {message}"}, raw=True)
    warnings.warn(message, stacklevel=1)
print("model:", model_path)

# %% [markdown] tags=["lang-en", "pt"]
# `from_pretrained` reads the weights and `config.json` (with `id2label`, so predictions come with class
# names). `sh.load_image_processor` loads the processor saved next to the model: the same resize and
# normalisation as in training, which matters, since a model only works on inputs prepared the way it
# was trained. `eval()` switches dropout off.

# %% [markdown] tags=["lang-zh", "pt"]
# `from_pretrained` 读取权重和 `config.json`（其中有 `id2label`，所以预测结果带着类名）。`sh.load_image_processor` 加载与模型
# 保存在一起的图像处理器：缩放和归一化方式与训练时一模一样。这一点很重要，模型只有在输入的处理方式与训练时一致时才靠得住。
# `eval()` 会关闭 dropout。

# %% tags=["pt"]
from transformers import AutoModelForSemanticSegmentation

device = "cuda" if torch.cuda.is_available() else "cpu"
model = AutoModelForSemanticSegmentation.from_pretrained(model_path, **model_kwargs).to(device).eval()
processor = sh.load_image_processor(model_path)
print(type(model).__name__, "on", device, "|", len(model.config.id2label), "classes | input size", processor.size)

# %% [markdown] tags=["lang-en", "tf"]
# `seghelpers.tf.load_model` wraps `TFAutoModelForSemanticSegmentation.from_pretrained`: notebook 04 saved a
# TensorFlow folder (`tf_model.h5`), which loads directly, while a folder with only PyTorch weights (such as
# the offline fallback) is loaded with `from_pt=True`, since the TF loader crashes on it otherwise.
# `sh.load_image_processor` loads the processor saved next to the model: the same resize and normalisation
# as in training, which matters, since a model only works on inputs prepared the way it was trained.

# %% [markdown] tags=["lang-zh", "tf"]
# `seghelpers.tf.load_model` 封装了 `TFAutoModelForSemanticSegmentation.from_pretrained`：04 节保存的是 TensorFlow 格式的文件夹
# （`tf_model.h5`），可以直接加载；只有 PyTorch 权重的文件夹（比如离线回退用的那个）则用 `from_pt=True` 加载，否则 TF 加载器会崩溃。
# `sh.load_image_processor` 加载与模型保存在一起的图像处理器：缩放和归一化方式与训练时一模一样。这一点很重要，
# 模型只有在输入的处理方式与训练时一致时才靠得住。

# %% tags=["tf"]
model = shtf.load_model(model_path, **model_kwargs)
processor = sh.load_image_processor(model_path)
print(type(model).__name__, "|", len(model.config.id2label), "classes | input size", processor.size)

# %% [markdown] tags=["lang-en"]
# ## 2. An image from the evaluation split
#
# We rebuild the split exactly as notebooks 01 and 04 do and take the test part. Keep one convention in
# mind: PIL reports `image.size` as **(width, height)**, while arrays and tensors are **(height, width)**.
# That is why the code below keeps writing `image.size[::-1]`.

# %% [markdown] tags=["lang-zh"]
# ## 2. 评估集里的一张图像
#
# 按照 01 节和 04 节完全相同的方式重建数据划分，取其中的测试部分。有一个约定要记牢：PIL 的 `image.size` 是
# **（宽，高）**，而数组和张量的形状是 **（高，宽）**。所以下面的代码里会反复出现 `image.size[::-1]`。

# %%
import numpy as np

ds = sh.load_scene_parse(P.dataset, P.split)
eval_ds = sh.split_train_test(ds, 0.2, seed=P.seed)["test"]
images = [ex["image"] for ex in eval_ds]  # decode once
annotations = [ex["annotation"] for ex in eval_ds]
image = images[0]

# %%
# NBVAL_CHECK_OUTPUT
print(f"{len(images)} evaluation images; the first is {image.size[0]}x{image.size[1]} (width x height)")
print("as an array:", np.array(image).shape)

# %% [markdown] tags=["lang-en", "pt"]
# ## 3. The `image-segmentation` pipeline
#
# The quickest route is a pipeline. We hand it the model and image processor we already loaded (the guide
# passes a folder name, which makes the pipeline load them again). It returns one entry per class that
# appears in the prediction: `label` is the class name, `mask` a black-and-white PIL image of the image's
# own size (255 where that class was predicted), and `score` is `None`, because semantic segmentation
# does not score its masks.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 3. `image-segmentation` pipeline
#
# 最快的办法是用 pipeline。这里把已经加载好的模型和图像处理器直接交给它（指南传的是文件夹名，pipeline 会再加载一遍）。
# 预测结果中出现的每个类别对应一条输出：`label` 是类名，`mask` 是一张与原图同样大小的黑白 PIL 图像（预测为该类别的位置是 255），
# `score` 则是 `None`，因为语义分割不给掩码打分。

# %% tags=["pt"]
from transformers import pipeline

segmenter = pipeline("image-segmentation", model=model, image_processor=processor)
segments = segmenter(image)
print(len(segments), "classes predicted; the first three:")
for s in segments[:3]:
    print({"score": s["score"], "label": s["label"], "mask": f"PIL {s['mask'].mode} {s['mask'].size}"})

# %% [markdown] tags=["lang-en", "pt"]
# One mask per class is convenient for cutting out objects, but for colouring and for metrics we want a
# single segmentation map: one class id per pixel. Rebuilding it from the masks is easy (the masks never
# overlap), and it is also the easiest way to compare the pipeline with the by-hand route below.

# %% [markdown] tags=["lang-zh", "pt"]
# 每个类别一张掩码，抠图时很方便；但上色和计算指标需要的是一张分割图：每个像素一个类别编号。从掩码拼回分割图很简单
# （各掩码互不重叠），这也是把 pipeline 和下面手动流程做对比的最省事的办法。

# %% tags=["pt"]
pipe_seg = np.full(image.size[::-1], 255, dtype=np.int64)  # (height, width), 255 = not covered
for s in segments:
    pipe_seg[np.array(s["mask"]) > 0] = model.config.label2id[s["label"]]

# %% [markdown] tags=["lang-en", "pt"]
# ## 4. The same by hand
#
# What the pipeline does inside, step by step:
#
# 1. the image processor resizes and normalises the image to `pixel_values`, shape (1, 3, size, size);
# 2. the model returns logits at a quarter of that resolution: (1, 150, size/4, size/4);
# 3. we upsample the logits bilinearly to the image's own size, `image.size[::-1]` = (height, width);
# 4. argmax over the class dimension gives one class id per pixel.
#
# Why upsample *logits* and not class ids? Interpolating scores gives smooth, sub-pixel boundaries; taking the
# argmax first and then resizing ids (with nearest neighbour, the only valid way for ids) gives staircase
# boundaries, one step per logit cell (4 or more image pixels). `align_corners=False` matches how the
# processor resized the image.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 4. 手动完成同样的流程
#
# pipeline 内部做的事情，一步一步来：
#
# 1. 图像处理器把图像缩放、归一化成 `pixel_values`，形状为 (1, 3, size, size)；
# 2. 模型输出的 logits 分辨率是输入的四分之一：(1, 150, size/4, size/4)；
# 3. 把 logits 双线性上采样到原图尺寸 `image.size[::-1]`，即（高，宽）；
# 4. 在类别维度上取 argmax，每个像素得到一个类别编号。
#
# 为什么上采样的是 *logits* 而不是类别编号？对得分做插值，边界平滑，能精确到亚像素；先取 argmax 再缩放类别编号
# （类别编号只能用最近邻插值）得到的边界是阶梯状的，每个台阶就是一个 logits 格子（对应原图 4 个像素甚至更多）。
# `align_corners=False` 与图像处理器缩放图像的方式一致。

# %% tags=["pt"]
inputs = processor(image, return_tensors="pt")
with torch.no_grad():
    logits = model(pixel_values=inputs["pixel_values"].to(device)).logits
upsampled = nn.functional.interpolate(logits, size=image.size[::-1], mode="bilinear", align_corners=False)
pred_seg = upsampled.argmax(dim=1)[0].cpu().numpy()

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
print("pixel_values", tuple(inputs["pixel_values"].shape))
print("logits      ", tuple(logits.shape))
print("upsampled   ", tuple(upsampled.shape))
print("pred_seg    ", pred_seg.shape, pred_seg.dtype, "| same size as the image:", pred_seg.shape == image.size[::-1])

# %% [markdown] tags=["lang-en", "pt"]
# For many images, calling the pipeline (or the cell above) once per image wastes time. `seghelpers.pt.predict`
# runs the same four steps on batches of images and returns one map per image, each at its own size.
#
# By default (`fast=True`) it runs an inference-only copy of the model made by `seghelpers.pt.fast_segformer`,
# with two rewrites that change only the order of the floating-point operations, not the mathematics:
#
# - **attention** goes through PyTorch's fused `scaled_dot_product_attention`: one kernel instead of matmul,
#   divide, softmax, matmul;
# - the **decode head** is folded: its per-stage MLPs, the 1×1 fuse convolution and BatchNorm are all linear, and
#   so is bilinear upsampling, so each encoder stage is mapped straight to the fused channels at its own, smaller
#   resolution and only the sum is upsampled. For mit-b0 at 512×512 this removes about half of the model's
#   multiply-adds.
#
# And on the CPU, whatever `fast` says, `seghelpers.pt.upsample_argmax` upsamples and takes the argmax a band of
# rows at a time, so the (150, height, width) float map is never built.
#
# How much faster this is on your machine: `make bench`, benchmark 6 (the README's Performance table). Rounding
# can flip only a pixel whose two best classes are practically tied, where the class is undefined anyway; the
# check below allows a difference exactly where the top-2 margin of the upsampled logits is at most 1e-5.
# `fast=False` runs the model as loaded.

# %% [markdown] tags=["lang-zh", "pt"]
# 图像多的时候，一张一张地调用 pipeline（或上面那个单元格）很浪费时间。`seghelpers.pt.predict` 按批次执行同样的四步，
# 每张图像返回一张与其原尺寸相同的分割图。
#
# 默认情况下（`fast=True`），它运行的是 `seghelpers.pt.fast_segformer` 生成的一个仅用于推理的模型副本。副本做了两处改写，
# 数学上完全等价，变的只是浮点运算的顺序：
#
# - **注意力**改用 PyTorch 的融合算子 `scaled_dot_product_attention`：用一个算子完成原先的矩阵乘、除法、softmax、矩阵乘四步；
# - **解码头**做了折叠：各阶段的 MLP、1×1 特征融合卷积和 BatchNorm 都是线性变换，双线性上采样也是，所以编码器的每个阶段
#   可以在各自更低的分辨率上直接映射到融合后的通道，最后只对求和结果做上采样。对 512×512 输入的 mit-b0，这样能省掉模型
#   大约一半的乘加运算。
#
# 此外，在 CPU 上无论 `fast` 取何值，`seghelpers.pt.upsample_argmax` 都按行分块完成上采样和 argmax，不会生成完整的
# (150, 高, 宽) 浮点张量。
#
# 在你的机器上能快多少，运行 `make bench` 看基准 6（README 中“性能”一节的表格）。舍入误差只可能改变得分最高的两个类别
# 几乎相等的像素，这些像素的类别本来就无法确定；下面的检查只允许上采样后 logits 前两名之差不超过 1e-5 的像素不一致。
# `fast=False` 则按加载时的原样运行模型。

# %% tags=["pt"]
helper_seg = shpt.predict(model, processor, [image])[0]  # fast=True, the default
plain_seg = shpt.predict(model, processor, [image], fast=False)[0]
top2 = upsampled.topk(2, dim=1).values[0]
near_tie = ((top2[0] - top2[1]) <= 1e-5).cpu().numpy()  # two classes tied at float32 precision

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
print("by hand == pipeline:", np.array_equal(pred_seg, pipe_seg))
print("by hand == predict(fast=False), near-ties aside:", bool(((pred_seg == plain_seg) | near_tie).all()))
print("by hand == predict(fast=True), near-ties aside:", bool(((pred_seg == helper_seg) | near_tie).all()))

# %% [markdown] tags=["lang-en", "tf"]
# ## 3. No pipeline in TensorFlow
#
# The guide shows `pipeline("image-segmentation", ...)` for PyTorch only, and for a reason: transformers
# implements the image-segmentation pipeline for PyTorch models alone. In TensorFlow we write the steps out,
# which also shows what a pipeline hides:
#
# 1. the image processor resizes and normalises the image to `pixel_values`, shape (1, 3, size, size);
# 2. the model returns logits at a quarter of that resolution, **channels-first** like the PyTorch model:
#    (1, 150, size/4, size/4);
# 3. `tf.image.resize` expects channels-last (N, H, W, C), so we transpose first;
# 4. we upsample the logits bilinearly to the image's own size, `image.size[::-1]` = (height, width);
# 5. argmax over the class axis (now the last one) gives one class id per pixel.
#
# Why upsample *logits* and not class ids? Interpolating scores gives smooth, sub-pixel boundaries; taking the
# argmax first and then resizing ids (with nearest neighbour, the only valid way for ids) gives staircase
# boundaries, one step per logit cell (4 or more image pixels). We name `method="bilinear"` explicitly
# rather than rely on the default.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 3. TensorFlow 没有 pipeline
#
# 指南只在 PyTorch 部分演示了 `pipeline("image-segmentation", ...)`，这是有原因的：transformers 的 image-segmentation pipeline
# 只支持 PyTorch 模型。在 TensorFlow 里我们把每一步都写出来，正好也能看清 pipeline 替我们做了什么：
#
# 1. 图像处理器把图像缩放、归一化成 `pixel_values`，形状为 (1, 3, size, size)；
# 2. 模型输出的 logits 分辨率是输入的四分之一，并且和 PyTorch 模型一样是**通道优先**的：(1, 150, size/4, size/4)；
# 3. `tf.image.resize` 要求通道在后的布局 (N, H, W, C)，所以先转置；
# 4. 把 logits 双线性上采样到原图尺寸 `image.size[::-1]`，即（高，宽）；
# 5. 在类别轴（现在是最后一维）上取 argmax，每个像素得到一个类别编号。
#
# 为什么上采样的是 *logits* 而不是类别编号？对得分做插值，边界平滑，能精确到亚像素；先取 argmax 再缩放类别编号
# （类别编号只能用最近邻插值）得到的边界是阶梯状的，每个台阶就是一个 logits 格子（对应原图 4 个像素甚至更多）。
# 这里显式写出 `method="bilinear"`，不依赖默认值。

# %% tags=["tf"]
inputs = processor(image, return_tensors="tf")
logits = model(pixel_values=inputs["pixel_values"], training=False).logits
logits_nhwc = tf.transpose(logits, [0, 2, 3, 1])
upsampled = tf.image.resize(logits_nhwc, image.size[::-1], method="bilinear")
pred_seg = tf.math.argmax(upsampled, axis=-1)[0].numpy()

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
print("pixel_values", tuple(inputs["pixel_values"].shape))
print("logits      ", tuple(logits.shape), "(channels-first)")
print("upsampled   ", tuple(upsampled.shape), "(channels-last)")
print("pred_seg    ", pred_seg.shape, pred_seg.dtype, "| same size as the image:", pred_seg.shape == image.size[::-1])

# %% [markdown] tags=["lang-en", "tf"]
# For many images, running the cell above once per image wastes time. `seghelpers.tf.predict` runs the same
# steps on batches of images and returns one map per image, each at its own size. Both routes agree pixel
# for pixel:

# %% [markdown] tags=["lang-zh", "tf"]
# 图像多的时候，对每张图都运行一遍上面的单元格很浪费时间。`seghelpers.tf.predict` 按批次执行同样的步骤，
# 每张图像返回一张与其原尺寸相同的分割图。两种做法的结果逐像素完全一致：

# %% tags=["tf"]
helper_seg = shtf.predict(model, processor, [image])[0]

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
print("by hand == seghelpers.tf.predict:", np.array_equal(pred_seg, helper_seg))

# %% [markdown] tags=["lang-en"]
# ## 5. Colours: the ADE palette
#
# `sh.ade_palette()` is a (150, 3) array of RGB colours, and **row *i* is the colour of model class *i***
# (row 0 = `wall`), the same numbering as `model.config.id2label`. So colouring a segmentation map is a
# single lookup, `palette[pred_seg]`, which `sh.colorize` does (black for the ignore index 255).
#
# The guide's plotting snippet ends its colouring loop with `color_seg = color_seg[..., ::-1]`, "convert to
# BGR". That is an OpenCV habit: OpenCV stores images as BGR, but matplotlib expects RGB, so in the guide's
# figure red and blue are swapped for every class: sky (cyan) turns yellow, trees (green) stay green, and the
# colours no longer match any ADE legend. The kit keeps RGB throughout. Compare:

# %% [markdown] tags=["lang-zh"]
# ## 5. 颜色：ADE 调色板
#
# `sh.ade_palette()` 是一个 (150, 3) 的 RGB 颜色数组，**第 *i* 行就是模型类别 *i* 的颜色**（第 0 行是 `wall`），
# 编号与 `model.config.id2label` 完全一致。所以给分割图上色只需一次查表 `palette[pred_seg]`，`sh.colorize` 做的就是这件事
# （忽略索引 255 涂成黑色）。
#
# 指南的绘图代码在上色循环之后加了一句 `color_seg = color_seg[..., ::-1]`，注释是“转换为 BGR”。这是 OpenCV 的习惯：
# OpenCV 按 BGR 存图，而 matplotlib 要的是 RGB，于是指南的图里每个类别的红蓝通道都对调了：天空（青色）变成黄色，
# 树（绿色）倒还是绿色，颜色和任何一份 ADE 图例都对不上了。kit 自始至终使用 RGB。对比一下：

# %%
# NBVAL_CHECK_OUTPUT
palette = sh.ade_palette()
print("palette", palette.shape, palette.dtype)
for cid in (0, 2, 4):  # wall, sky, tree
    print(f"class {cid} {model.config.id2label[cid]!r:8} RGB {palette[cid].tolist()}  after [::-1] {palette[cid][::-1].tolist()}")

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].imshow(sh.colorize(pred_seg))
axes[0].set_title("sh.colorize(pred_seg): RGB")
axes[1].imshow(sh.colorize(pred_seg)[..., ::-1])
axes[1].set_title("the guide's [..., ::-1]: red and blue swapped")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown] tags=["lang-en"]
# ## 6. The overlay
#
# `seghelpers.viz.show_overlay` blends the image and the coloured map half and half (the guide's 0.5) and
# adds a legend of the classes the model predicted, largest first; with 150 possible colours a picture
# without a legend is hard to read. We also save the figure as `overlay.png` next to the model. The file is
# written to a temporary name first and then renamed with `os.replace`, which is atomic: anyone looking at
# `overlay.png` (a file browser, a web page, a second notebook) sees the old file or the new one, never a
# half-written one.

# %% [markdown] tags=["lang-zh"]
# ## 6. 叠加图
#
# `seghelpers.viz.show_overlay` 把原图和上色后的分割图按各占一半的比例混合（即指南中的 0.5），并附上模型预测出的类别图例，
# 按面积从大到小排列；可能的颜色有 150 种，没有图例的叠加图很难看懂。我们还把这张图保存为模型旁边的 `overlay.png`。
# 文件先写到一个临时文件名，再用 `os.replace` 改名，这一步是原子操作：任何正在看 `overlay.png` 的人（文件浏览器、网页、
# 另一个笔记本）看到的要么是旧文件、要么是新文件，绝不会是写了一半的文件。

# %%
import os
import tempfile

from seghelpers import viz

ax = viz.show_overlay(image, pred_seg, title="prediction" if trained else "prediction (UNTRAINED model)")
for cid, name, colour, fraction in sh.legend(pred_seg)[:5]:
    print(f"{fraction:6.1%}  {cid:3d}  {name}")

overlay_png = Path(P.output_dir) / "overlay.png"
overlay_png.parent.mkdir(parents=True, exist_ok=True)
fd, tmp = tempfile.mkstemp(prefix=".overlay-", suffix=".png", dir=overlay_png.parent)
os.close(fd)
try:
    ax.figure.savefig(tmp, format="png", bbox_inches="tight")
    os.chmod(tmp, 0o644)  # mkstemp creates the file private to us
    os.replace(tmp, overlay_png)
except BaseException:
    os.unlink(tmp)
    raise
print("saved", overlay_png)
plt.show()

# %% [markdown] tags=["lang-en"]
# ## 7. Per-class IoU on the evaluation split
#
# One picture is an anecdote. To measure the model, predict every evaluation image with the batched helper
# and compute mean IoU against the annotations. Two details:
#
# - the dataset stores *raw* ADE annotations (0 = "other", 1..150), while the model predicts classes 0..149,
#   so the annotations go through `sh.reduce_labels` (0 → 255, ignored; *k* → *k*−1), the same convention as
#   in training;
# - the images have different sizes, so predictions and references are lists of maps, not one array.
#
# `sh.mean_iou` takes the same arguments and returns the same numbers as the 🤗 Evaluate metric of notebook
# 03, without the 10-second `import evaluate`. Classes absent from both predictions and references have
# IoU `nan` and are left out of the bar chart.

# %% [markdown] tags=["lang-zh"]
# ## 7. 评估集上各类别的交并比
#
# 一张图只能算个例。要衡量模型，就用批量辅助函数预测评估集里的每一张图像，再和标注一起计算 mIoU。有两个细节：
#
# - 数据集里存的是 ADE 的*原始*标注（0 = “其他”，1..150），而模型预测的类别是 0..149，所以标注要先经过 `sh.reduce_labels`
#   （0 → 255，即忽略；*k* → *k*−1），和训练时的约定相同；
# - 图像尺寸各不相同，所以预测和参考标签都是由分割图组成的列表，而不是一个大数组。
#
# `sh.mean_iou` 的参数和返回结果都与 03 节的 🤗 Evaluate 指标相同，只是省掉了 `import evaluate` 那 10 秒。预测和参考标签里
# 都没有出现的类别，交并比是 `nan`，不会出现在柱状图里。

# %% tags=["pt"]
preds = shpt.predict(model, processor, images, batch_size=P.batch_size)

# %% tags=["tf"]
preds = shtf.predict(model, processor, images, batch_size=P.batch_size)

# %%
# NBVAL_CHECK_OUTPUT
references = [sh.reduce_labels(np.array(a)) for a in annotations]
print("every prediction has its image's size:",
      all(p.shape == im.size[::-1] == r.shape for p, im, r in zip(preds, images, references)))
results = sh.mean_iou(preds, references, num_labels=len(model.config.id2label), ignore_index=255)
print("keys:", sorted(results))

# %%
ax = viz.plot_per_class_iou(results["per_category_iou"], model.config.id2label, top=20)
ax.set_title(f"per-class IoU on {len(images)} evaluation images (top 20)")
plt.show()

# %% tags=["metrics"]
print(f"model: {'trained by notebook 04' if trained else 'UNTRAINED fallback'} ({model_path})")
print(f"eval images: {len(images)}")
print(f"eval mean IoU: {results['mean_iou']:.4f}")
print(f"eval mean accuracy: {results['mean_accuracy']:.4f}")
print(f"eval overall accuracy: {results['overall_accuracy']:.4f}")
print(f"classes with an IoU: {np.isfinite(results['per_category_iou']).sum()}")

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# 1. Replace the upsampling step of the by-hand route: take the argmax on the small logits first, then resize
#    the class ids to the image size with nearest neighbour. How many pixels of the first image change, and where are they?
# 2. Draw the reference next to the prediction: `sh.colorize(references[0])` beside `sh.colorize(pred_seg)`.
#    Which classes does the model confuse? Compare with the bar chart.
# 3. Time `predict` on the whole evaluation split with `batch_size=1` and with `batch_size=8`, then with
#    `fast=False` (PyTorch). Where do the differences come from?
# 4. Run this notebook once before and once after notebook 04 (or compare the fallback warning run with the
#    trained run). How do mean IoU and the number of predicted classes change?

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 1. 替换手动流程中的上采样那一步：先在小尺寸的 logits 上取 argmax，再用最近邻插值把类别编号缩放到原图尺寸。
#    第一张图像有多少个像素的结果变了？它们都分布在哪里？
# 2. 把参考标签和预测结果并排画出来：`sh.colorize(references[0])` 和 `sh.colorize(pred_seg)`。模型把哪些类别搞混了？
#    再和柱状图对照一下。
# 3. 分别用 `batch_size=1` 和 `batch_size=8` 对整个评估集运行 `predict` 并计时，再试试 `fast=False`（PyTorch）。
#    这些差距各从何而来？
# 4. 在 04 节运行之前和之后各跑一次本节（或者对比出现回退警告的那次运行和加载了训练好的模型的那次运行）。
#    mIoU 和预测出的类别数分别有什么变化？
