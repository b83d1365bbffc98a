# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en", "pt"]
# # 04 · Fine-tune SegFormer with the 🤗 `Trainer` (PyTorch)
#
# **You will learn to**
# - load SegFormer for your dataset's classes with the guide's `from_pretrained` line, and know what `ignore_mismatched_sizes` is for;
# - say what SegFormer computes: a four-stage encoder, an all-MLP decoder, logits at 1/4 of the input size;
# - run the guide's `TrainingArguments`, `Trainer` and `train()` on today's transformers (one argument was renamed);
# - evaluate mean IoU during training without keeping every logit in memory, and resume an interrupted run;
# - read the loss and mean-IoU curves, and know why notebook 05 reports a slightly different mean IoU.

# %% [markdown] tags=["lang-zh", "pt"]
# # 04 · 用 🤗 `Trainer` 微调 SegFormer（PyTorch）
#
# **本篇目标**
# - 用指南里那行 `from_pretrained` 按自己数据集的类别加载 SegFormer，并弄清 `ignore_mismatched_sizes` 的用途；
# - 说清 SegFormer 在算什么：四个阶段的编码器、全 MLP 解码头，输出的 logits 只有输入尺寸的 1/4；
# - 在今天的 transformers 上运行指南的 `TrainingArguments`、`Trainer` 和 `train()`（有一个参数改了名）；
# - 训练过程中评估平均交并比（mIoU），同时不把全部 logits 攒在内存里；训练中断后能断点续训；
# - 读懂损失曲线和 mIoU 曲线，并知道第 05 篇算出的 mIoU 为什么略有不同。

# %% [markdown] tags=["lang-en", "tf"]
# # 04 · Fine-tune SegFormer with Keras `fit` (TensorFlow)
#
# **You will learn to**
# - load SegFormer for your dataset's classes with the guide's `from_pretrained` line, and fix the two faults it has today;
# - say what SegFormer computes: a four-stage encoder, an all-MLP decoder, logits at 1/4 of the input size;
# - build the guide's `PiecewiseConstantDecay` schedule, and `compile` without a loss;
# - turn a 🤗 dataset into a `tf.data` pipeline with `to_tf_dataset` (the guide's call, repaired);
# - train with `fit`, track mean IoU with `KerasMetricCallback`, keep the best epoch with `ModelCheckpoint`, and resume an interrupted run;
# - export the best weights with `save_pretrained`, and read the training curves.

# %% [markdown] tags=["lang-zh", "tf"]
# # 04 · 用 Keras `fit` 微调 SegFormer（TensorFlow）
#
# **本篇目标**
# - 用指南里那行 `from_pretrained` 按自己数据集的类别加载 SegFormer，并修好它今天会碰到的两个问题；
# - 说清 SegFormer 在算什么：四个阶段的编码器、全 MLP 解码头，输出的 logits 只有输入尺寸的 1/4；
# - 搭建指南中的 `PiecewiseConstantDecay` 学习率调度，并在不传损失函数的情况下 `compile`；
# - 用 `to_tf_dataset` 把 🤗 数据集转成 `tf.data` pipeline（修好指南里的这次调用）；
# - 用 `fit` 训练，用 `KerasMetricCallback` 跟踪 mIoU，用 `ModelCheckpoint` 保留最优的一轮，训练中断后能断点续训；
# - 用 `save_pretrained` 导出最优权重，并读懂训练曲线。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The next cell checks every parameter before anything heavy runs; a typo stops here, with the fix in the message.

# %% [markdown] tags=["lang-zh"]
# 下一个单元格会在任何耗时操作之前校验全部参数；参数写错了会在这里报错，错误信息里写明了怎么改。

# %%
{{snippet:validate}}

# %%
CHECKPOINT = sh.resolve_checkpoint(P.checkpoint, P.image_size, P.seed)  # as in 02: a Hub id, a folder, or "random:tiny"

# %% [markdown] tags=["lang-en", "pt"]
# **Logging in to the Hub.** The guide's very first step is `notebook_login()`, and it comes first here too:
# with `push_to_hub = True` the `Trainer` creates your Hub repository as soon as it is built, so the token
# must be there before training. It asks for a Hugging Face access token, which `push_to_hub` needs to upload
# your model; nothing else in the course needs it. To share a model: create a token with *write* access at
# https://huggingface.co/settings/tokens, set `push_to_hub = True` in the parameters cell, and paste the token
# when the prompt below appears (on Colab you can store it once as the secret `HF_TOKEN` instead). Offline
# there is nothing to log in to, so the cell calls it only when `push_to_hub` is on.

# %% [markdown] tags=["lang-zh", "pt"]
# **登录 Hugging Face Hub。** 指南的第一步就是 `notebook_login()`，本篇也把它放在最前面：`push_to_hub = True` 时，`Trainer` 一创建就会在 Hub 上建仓库，所以开始训练之前就得登录好。它要你输入一个 Hugging Face 访问令牌（token），`push_to_hub` 上传模型时要用到，课程里别的地方都用不到它。想分享模型的话，先在 https://huggingface.co/settings/tokens 创建一个有*写入*（write）权限的令牌，在参数单元格里设 `push_to_hub = True`，等下面出现输入框时粘贴令牌即可（在 Colab 上也可以把它存成名为 `HF_TOKEN` 的密钥，一次设好）。离线时无处可登录，所以下面的单元格只在 `push_to_hub` 打开时才调用它。

# %% [markdown] tags=["lang-en", "tf"]
# **Logging in to the Hub.** The guide's very first step is `notebook_login()`, and it comes first here too:
# with `push_to_hub = True`, section 6 uploads the exported model with `model.push_to_hub`, which needs the
# token; log in now so the run does not stop at the end. It asks for a Hugging Face access token; nothing else
# in the course needs it. To share a model: create a token with *write* access at
# https://huggingface.co/settings/tokens, set `push_to_hub = True` in the parameters cell, and paste the token
# when the prompt below appears (on Colab you can store it once as the secret `HF_TOKEN` instead). Offline
# there is nothing to log in to, so the cell calls it only when `push_to_hub` is on.

# %% [markdown] tags=["lang-zh", "tf"]
# **登录 Hugging Face Hub。** 指南的第一步就是 `notebook_login()`，本篇也把它放在最前面：`push_to_hub = True` 时，第 6 小节会用 `model.push_to_hub` 上传导出的模型，这需要令牌；现在先登录，免得训练完了才卡在上传这一步。它要你输入一个 Hugging Face 访问令牌（token），课程里别的地方都用不到它。想分享模型的话，先在 https://huggingface.co/settings/tokens 创建一个有*写入*（write）权限的令牌，在参数单元格里设 `push_to_hub = True`，等下面出现输入框时粘贴令牌即可（在 Colab 上也可以把它存成名为 `HF_TOKEN` 的密钥，一次设好）。离线时无处可登录，所以下面的单元格只在 `push_to_hub` 打开时才调用它。

# %%
# 指南原代码 / the guide's code (Chinese edition)
from huggingface_hub import notebook_login

if P.push_to_hub:  # forced: offline there is no Hub to log in to (the guide calls notebook_login() always)
    notebook_login()

# %% [markdown] tags=["lang-en"]
# ## 1. Data, labels and transforms
#
# Notebooks 01 and 02 ran the guide's code for these steps; here they take a few lines: read the dataset's
# classes, label convention and colours into one object (`meta`), load the subset, split it 80/20 with the
# guide's `train_test_split` and a `seed`, load the image processor with the dataset's convention and the
# `image_size` parameter (as at the end of 02's section 2), and attach 02's on-the-fly transforms (colour
# jitter for training only).

# %% [markdown] tags=["lang-zh"]
# ## 1. 数据、标签与变换
#
# 第 01、02 篇已经逐行运行过指南的这几步代码，这里几行就能完成：把数据集的类别、标签约定和颜色读进一个对象（`meta`），加载数据子集，用指南的 `train_test_split` 加上 `seed` 按 80/20 划分出训练集和测试集，按数据集的标签约定和参数 `image_size` 加载图像处理器（与第 02 篇第 2 小节末尾相同），再挂上第 02 篇的即时变换（颜色抖动只用于训练集）。

# %% tags=["pt"]
from seghelpers import pt as shpt
from transformers import AutoImageProcessor

meta = sh.dataset_meta(P.dataset)  # this dataset's description: classes, label convention, colours
ds = sh.load_scene_parse(P.dataset, P.split)
splits = ds.train_test_split(test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
image_processor = AutoImageProcessor.from_pretrained(  # as in 02: the dataset's convention, image_size
    CHECKPOINT, do_reduce_labels=meta.reduce_labels, size={"height": P.image_size, "width": P.image_size})
train_transforms, val_transforms = shpt.make_transforms(image_processor, seed=P.seed, fast=P.fast, meta=meta)
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)

# %% tags=["tf"]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ log: errors only (before TF loads)
import seghelpers.tf as shtf  # before TensorFlow: selects Keras 2 (tf-keras)
import tensorflow as tf
from transformers import AutoImageProcessor

tf.keras.utils.set_random_seed(P.seed)  # weights of new layers, shuffling and augmentation
meta = sh.dataset_meta(P.dataset)  # this dataset's description: classes, label convention, colours
ds = sh.load_scene_parse(P.dataset, P.split)
splits = ds.train_test_split(test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
image_processor = AutoImageProcessor.from_pretrained(  # as in 02: the dataset's convention, image_size
    CHECKPOINT, do_reduce_labels=meta.reduce_labels, size={"height": P.image_size, "width": P.image_size})
train_transforms, val_transforms = shtf.make_transforms(image_processor, meta=meta)
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)

# %%
# NBVAL_CHECK_OUTPUT
print(meta.describe())
print(f"train: {len(train_ds)} images, test: {len(test_ds)} images")
print("one training example:", {k: tuple(v.shape) for k, v in train_ds[0].items()})

# %% [markdown] tags=["lang-en"]
# ## 2. The model
#
# The guide loads the model in one line. `id2label` and `label2id` size the decode head for the dataset's
# classes and store their names in the model's config, so every later prediction (and the pipeline in
# notebook 05) speaks in class names. The guide builds them from ADE20K's label file; here they come from
# the dataset description `meta`, so the same line serves your own classes.

# %% [markdown] tags=["lang-zh"]
# ## 2. 模型
#
# 指南只用一行代码加载模型。`id2label` 和 `label2id` 决定解码头输出多少个类别，并把类别名写进模型配置（`config`），之后的每次预测（包括第 05 篇的 pipeline）给出的都是类别名，而不是编号。指南从 ADE20K 的标签文件构造这两个映射；这里取自数据集描述 `meta`，所以同一行代码也适用于你自己的类别。

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
from transformers import AutoModelForSemanticSegmentation, TrainingArguments, Trainer

checkpoint = CHECKPOINT  # guide: "nvidia/mit-b0"; here: the profile's checkpoint
id2label, label2id = meta.id2label, meta.label2id  # guide: ADE20K's label file; here: this dataset's
try:
    model = AutoModelForSemanticSegmentation.from_pretrained(checkpoint, id2label=id2label, label2id=label2id)
    print(f"loaded as it is: {model.config.num_labels} classes")  # kit: says that it loaded
except RuntimeError as e:  # explained below
    print("RuntimeError:", " ".join(str(e).splitlines()[:2]))

# %% [markdown] tags=["lang-en", "pt"]
# When the cell above prints a `size mismatch`, the checkpoint's decode head was trained for a different
# number of classes than your dataset has (the smoke profile's `random:tiny` and every model fine-tuned on
# ADE20K have 150). `ignore_mismatched_sizes=True` tells `from_pretrained` to drop the weights whose
# shapes do not fit (only the final classifier) and to initialise them anew; every other weight still comes
# from the checkpoint. With `nvidia/mit-b0`, an encoder-only checkpoint, the whole decode head is new anyway.
# The kit always passes the flag, and reports which parts start from scratch:

# %% [markdown] tags=["lang-zh", "pt"]
# 如果上面的单元格打印出 `size mismatch`，说明检查点里已经有一个解码头，而它的类别数和你的数据集不一样（`smoke` 预设用的 `random:tiny` 和所有在 ADE20K 上微调过的模型都是 150 类）。`ignore_mismatched_sizes=True` 让 `from_pretrained` 丢掉形状对不上的权重（只有最后的分类层），重新初始化它们；其余权重照样来自检查点。`nvidia/mit-b0` 只是编码器检查点，整个解码头本来就是新初始化的。套件总是传入这个参数，并报告哪些部分从零开始：

# %% tags=["pt"]
import torch

from transformers.utils import logging as hf_logging

torch.manual_seed(P.seed)  # the new weights' initial values
hf_logging.set_verbosity_error()  # the loading report is summarised below instead
model, info = AutoModelForSemanticSegmentation.from_pretrained(
    CHECKPOINT, id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True, output_loading_info=True)
hf_logging.set_verbosity_warning()
new = sorted({k.split(".")[0] for k in info["missing_keys"] + info["mismatched_keys"]})
print(f"{model.__class__.__name__}: {model.num_parameters() / 1e6:.2f} M parameters, "
      f"{model.config.num_labels} classes")
print("newly initialised:", ", ".join(new) or "nothing, every weight comes from the checkpoint")

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
from transformers import TFAutoModelForSemanticSegmentation  # forced: the guide writes the PyTorch class here

checkpoint = CHECKPOINT  # guide: "nvidia/mit-b0"; here: the profile's checkpoint
id2label, label2id = meta.id2label, meta.label2id  # guide: ADE20K's label file; here: this dataset's
try:
    model = TFAutoModelForSemanticSegmentation.from_pretrained(checkpoint, id2label=id2label, label2id=label2id)  # forced: TF class
    print(f"loaded as it is: {model.config.num_labels} classes")  # kit: says that it loaded
except Exception as e:  # explained below
    print(f"{type(e).__name__}: {e}")

# %% [markdown] tags=["lang-en", "tf"]
# (The Chinese edition's TF block writes `AutoModelForSemanticSegmentation`, the PyTorch class; the TF class
# is `TFAutoModelForSemanticSegmentation`.) On a folder that holds only PyTorch weights (`model.safetensors`,
# as the smoke profile's `random:tiny` and every model from the PyTorch notebook do), the TF loader of
# transformers 4.57 crashes with `'builtins.safe_open' object is not iterable`. The guide's own checkpoint,
# `nvidia/mit-b0`, ships TensorFlow weights and does not meet this; the course's smoke model does.
#
# The fix is one keyword. The next cell runs `from_pretrained(checkpoint, id2label=id2label,
# label2id=label2id, from_pt=True)`, which converts the PyTorch weights as long as the class count stays the
# checkpoint's. The cell after it loads the model with the kit's `shtf.load_model`, which passes `from_pt`
# itself and also handles a new class count: with `ignore_mismatched_sizes=True` it starts only the final classifier
# anew (`random:tiny` and every model fine-tuned on ADE20K have 150 classes; `nvidia/mit-b0`, an
# encoder-only checkpoint, gets a new decode head anyway).

# %% [markdown] tags=["lang-zh", "tf"]
# （中文版指南的 TF 代码写的是 `AutoModelForSemanticSegmentation`，那是 PyTorch 的类；TF 的类是 `TFAutoModelForSemanticSegmentation`。）如果文件夹里只有 PyTorch 权重（`model.safetensors`，`smoke` 预设的 `random:tiny` 和 PyTorch 笔记本训练出的模型都是这样），transformers 4.57 的 TF 加载器会直接崩溃：`'builtins.safe_open' object is not iterable`。指南自己用的 `nvidia/mit-b0` 带有 TensorFlow 权重，不会遇到这个问题；课程的 `smoke` 模型会。
#
# 修复只需一个参数。下一个单元格运行 `from_pretrained(checkpoint, id2label=id2label, label2id=label2id, from_pt=True)`，只要类别数和检查点一致，它就能把 PyTorch 权重转换过来。再下一个单元格用套件的 `shtf.load_model` 加载模型：它会自动传入 `from_pt`，类别数变了也能处理——借助 `ignore_mismatched_sizes=True`，只把最后的分类层重新初始化（`random:tiny` 和所有在 ADE20K 上微调过的模型都是 150 类；`nvidia/mit-b0` 只是编码器检查点，整个解码头本来就是新初始化的）。

# %% tags=["tf"]
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()  # the conversion's weight report: the printed line below says what matters
try:  # the fix in the guide's words: one keyword, from_pt=True, converts the PyTorch weights
    model = TFAutoModelForSemanticSegmentation.from_pretrained(
        checkpoint, id2label=id2label, label2id=label2id, from_pt=True)
    print(f"from_pt=True: loaded, {model.config.num_labels} classes")
except Exception as e:  # a new class count: the conversion cannot drop the checkpoint's classifier
    print(f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
finally:
    hf_logging.set_verbosity_warning()

# %% tags=["tf"]
# the kit's loader: from_pt=True for a PyTorch-only folder, and a new classifier first when the class count
# changes (the PyTorch->TF conversion cannot drop a mismatched one); the loss fix of the next cells stays off
model = shtf.load_model(CHECKPOINT, fix_loss_fn=False, meta=meta, ignore_mismatched_sizes=True)
print(f"{model.__class__.__name__}: {model.count_params() / 1e6:.2f} M parameters, "
      f"{model.config.num_labels} classes")

# %% tags=["tf"]
sh.show_source(shtf.load_model)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# The second fault shows only when the model computes its loss. Pixels the loss must skip carry the label 255,
# but TF SegFormer applies its sparse cross-entropy to *all* labels first and masks the ignored ones
# afterwards. On a CPU, TensorFlow refuses the out-of-range label 255; on a GPU it does not raise, it returns
# NaN for those pixels, and NaN × 0 is still NaN, so the guide's run shows `loss: nan` from the first step
# without an error.

# %% [markdown] tags=["lang-zh", "tf"]
# 第二个问题要等模型计算损失时才会暴露。损失要跳过的像素，标签是 255；但 TF 版 SegFormer 先对*所有*标签算稀疏交叉熵，之后才用掩码去掉被忽略的像素。在 CPU 上，TensorFlow 会拒绝超出范围的标签 255 并报错；在 GPU 上它不报错，而是给这些像素返回 NaN，而 NaN 乘以 0 仍是 NaN，于是指南的训练从第一步起就显示 `loss: nan`，却没有任何报错。

# %% tags=["tf"]
import re

batch = test_ds[:1]  # one test image and its labels
print("ignored pixels (label 255) in this image:", int((batch["labels"] == 255).sum()))
try:
    print(f"loss: {float(model(**batch).loss[0]):.4f}")
except tf.errors.InvalidArgumentError as e:
    print("InvalidArgumentError:", re.search(r"Received a label value of \d+ [^.]*", str(e)).group(0))

# %% [markdown] tags=["lang-en", "tf"]
# The kit's `shtf.fix_loss` swaps in a loss that masks the ignored pixels *before* the cross-entropy.
# `shtf.load_model(CHECKPOINT, ...)` does both fixes (`from_pt` and the loss) in one call.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件的 `shtf.fix_loss` 换上一个先用掩码去掉被忽略像素、再算交叉熵的损失。`shtf.load_model(CHECKPOINT, ...)` 一次完成这两处修复（`from_pt` 和损失）。

# %% tags=["tf"]
model = shtf.fix_loss(model)
print(f"loss: {float(model(**batch).loss[0]):.4f}")

# %% tags=["tf"]
sh.show_source(shtf.fix_loss)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 3. What is SegFormer?
#
# SegFormer (Xie et al., 2021) has two parts:
#
# - a **hierarchical encoder**, the Mix Transformer (MiT): four stages of transformer blocks. Each stage
#   starts with an overlapping patch embedding (a strided convolution) that shrinks the feature map, to 1/4,
#   1/8, 1/16 and 1/32 of the input, while the number of channels grows. To keep self-attention affordable on
#   the large early maps, the keys and values are computed on a spatially reduced copy of the map;
# - a **lightweight all-MLP decode head**: a linear layer projects each stage's features to the same width,
#   all four are upsampled to the 1/4 map and concatenated, another linear layer fuses them, and a last one
#   gives one score per class at every position.
#
# So the logits come out at **1/4 of the input resolution**, `(num_labels, H/4, W/4)`. Before they can be
# compared with a label map (in the loss, in the metric, at inference) they must be upsampled. The next cells
# run one test image through `model` with `output_hidden_states=True` and draw the shapes it really produces.
# `nvidia/mit-b0`, the smallest MiT, has 32, 64, 160 and 256 channels; the smoke profile's tiny random model
# has the same layout with fewer channels.

# %% [markdown] tags=["lang-zh"]
# ## 3. SegFormer 是什么？
#
# SegFormer（Xie 等，2021）由两部分组成：
#
# - **分层编码器**，即 Mix Transformer（MiT）：四个阶段的 Transformer 块。每个阶段开头是一个重叠的图块嵌入（带步幅的卷积），把特征图缩小到输入的 1/4、1/8、1/16 和 1/32，同时通道数逐级增加。前几个阶段的特征图很大，为了让自注意力算得动，键和值是在空间上缩小后的特征图上计算的；
# - **轻量的全 MLP 解码头**：先用一个线性层把每个阶段的特征投影到相同的通道数，四路特征都上采样到 1/4 尺寸后拼接，再用一个线性层融合，最后一个线性层在每个位置给出每个类别的得分。
#
# 因此 logits 的分辨率只有**输入的 1/4**，形状是 `(num_labels, H/4, W/4)`。要和标签图比较（无论是算损失、算指标还是推理），都得先上采样。下面几个单元格把一张测试图像送进 `model`（`output_hidden_states=True`），画出它实际产生的各层形状。最小的 MiT，即 `nvidia/mit-b0`，四个阶段分别有 32、64、160、256 个通道；`smoke` 预设里的随机初始化小模型结构相同，只是通道更少。

# %% tags=["pt"]
batch = test_ds[:1]  # one test image
with torch.no_grad():
    out = model(pixel_values=batch["pixel_values"], output_hidden_states=True)

# %% tags=["tf"]
out = model(pixel_values=batch["pixel_values"], output_hidden_states=True)

# %%
# NBVAL_CHECK_OUTPUT
in_shape = tuple(batch["pixel_values"].shape[1:])
stage_shapes = [tuple(h.shape[1:]) for h in out.hidden_states]
logits_shape = tuple(out.logits.shape[1:])
print("input (channels, height, width):", in_shape)
for i, s in enumerate(stage_shapes, 1):
    print(f"stage {i}: {s}, 1/{in_shape[-1] // s[-1]} of the input")
print(f"logits: {logits_shape}, 1/{in_shape[-1] // logits_shape[-1]} of the input")

# %%
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

fig, ax = plt.subplots(figsize=(12, 3.8))
unit = 2.4 / in_shape[-1]  # squares are drawn to scale: the input is 2.4 units wide


def fmt(shape):
    return "×".join(map(str, shape))


def square(x, shape, text, color):
    side = max(shape[-1] * unit, 0.06)
    ax.add_patch(Rectangle((x, -side / 2), side, side, fc=color, ec="black", lw=0.8))
    ax.text(x + side / 2, -1.35, text, ha="center", va="top", fontsize=8)
    return x + side, side


def arrow(start, end, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, lw=0.8,
                                 connectionstyle=f"arc3,rad={rad}"))


right, _ = square(0, in_shape, "image\n1/1\n" + fmt(in_shape), "#d9d9d9")
tops = []
for i, s in enumerate(stage_shapes, 1):
    side = max(s[-1] * unit, 0.06)
    x = right + 0.5 if i == 1 else tops[-1][0] + 1.35 - side / 2  # stage labels 1.35 units apart
    arrow((right, 0), (x, 0))
    right, side = square(x, s, f"stage {i}\n1/{in_shape[-1] // s[-1]}\n{fmt(s)}", "#9ecae1")
    tops.append((x + side / 2, side / 2))
ax.text((tops[0][0] + tops[-1][0]) / 2, 1.55, "Mix Transformer encoder", ha="center", fontsize=9, weight="bold")
dec_x = right + 0.9
ax.add_patch(Rectangle((dec_x, -1.1), 1.9, 2.2, fc="#fdd0a2", ec="black", lw=0.8))
ax.text(dec_x + 0.95, 0, f"all-MLP decoder\n\nper stage: linear\nto {model.config.decoder_hidden_size} channels,\n"
        "upsample to 1/4;\nconcat, fuse,\nclassify", ha="center", va="center", fontsize=8)
for cx, top in tops:
    arrow((cx, top), (dec_x + 0.3, 1.1), rad=-0.25)
x = dec_x + 2.45
arrow((dec_x + 1.9, 0), (x, 0))
right, _ = square(x, logits_shape, f"logits\n1/{in_shape[-1] // logits_shape[-1]}\n{fmt(logits_shape)}", "#fc9272")
x = right + 1.5
arrow((right, 0), (x, 0))
ax.text((right + x) / 2, 0.12, "upsample\n+ argmax", ha="center", va="bottom", fontsize=8)
square(x, in_shape, f"class ids\n1/1\n{fmt(in_shape[1:])}", "#c7e9c0")
ax.set_xlim(-0.1, x + 2.5)
ax.set_ylim(-2.0, 1.8)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("SegFormer: feature-map shapes (channels×height×width) from one forward pass", fontsize=10)
plt.show()

# %% [markdown] tags=["lang-en", "pt"]
# ## 4. Training arguments
#
# The guide's `TrainingArguments`, with the profile's values in place of its literals (the `smoke` profile
# trains a tiny random model for 50 steps; `guide` uses the guide's own numbers) and `max_steps` added, so
# that `smoke` can stop early (−1 trains for `num_train_epochs`). `remove_unused_columns=False` matters:
# without it the Trainer drops the `image` and `annotation` columns before our transform can turn them into
# `pixel_values` and `labels`. Run as written, the call fails on today's transformers:

# %% [markdown] tags=["lang-zh", "pt"]
# ## 4. 训练参数
#
# 下面是指南的 `TrainingArguments`，只是把其中写死的数值换成了预设里的值（`smoke` 预设用一个随机初始化的小模型训练 50 步；`guide` 预设用的就是指南自己的数值），另外加了 `max_steps`，好让 `smoke` 提前结束（取 −1 时按 `num_train_epochs` 训练）。`remove_unused_columns=False` 很关键：不设它，Trainer 会在我们的变换把 `image`、`annotation` 两列变成 `pixel_values`、`labels` 之前就把它们删掉。原样运行，这次调用在今天的 transformers 上会报错：

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
try:
    training_args = TrainingArguments(
        output_dir=P.checkpoints_dir,  # guide: "segformer-b0-scene-parse-150"
        learning_rate=P.learning_rate,  # guide: 6e-5
        num_train_epochs=P.num_train_epochs,  # guide: 50
        max_steps=P.max_steps,  # guide: not set (-1, train for num_train_epochs)
        per_device_train_batch_size=P.batch_size,  # guide: 2
        per_device_eval_batch_size=P.batch_size,  # guide: 2
        save_total_limit=3,
        evaluation_strategy="steps",
        save_strategy="steps",
        save_steps=P.save_steps,  # guide: 20
        eval_steps=P.eval_steps,  # guide: 20
        logging_steps=1,
        eval_accumulation_steps=5,
        remove_unused_columns=False,
        push_to_hub=P.push_to_hub,  # guide: True (needs the login at the top)
    )
except TypeError as e:
    print("TypeError:", e)

# %% [markdown] tags=["lang-en", "pt"]
# `evaluation_strategy` was renamed `eval_strategy`, and the old name has since been removed (the current
# English guide already writes `eval_strategy`). Of the guide's other arguments, `save_total_limit=3` keeps only
# the three newest checkpoints on disk, and `logging_steps=1` logs the training loss at every step. The cell
# after this list is the guide's call with that one fix, plus a few arguments of the kit's. What each one is for:
#
# - **Evaluation memory.** By default the Trainer keeps every evaluation logit until evaluation ends; at 512×512
#   that is about 20 GB for ADE20K's 2000 validation images. The guide's `eval_accumulation_steps=5` moves the
#   gathered logits from the GPU to the CPU every 5 evaluation batches: GPU memory stays flat, but CPU memory
#   still grows with the test split. That is why the kit streams the metric: with `batch_eval_metrics=True`, plus
#   `preprocess_logits_for_metrics` in the `Trainer` below, each batch's logits are upsampled and reduced to class
#   ids at once, and `shpt.ComputeMetrics` adds them to a confusion matrix (notebook 03). Same mean IoU, flat
#   memory. Set `stream_metrics = False` to keep every logit in memory as the guide's Trainer does (the metric is
#   still the kit's).
# - **Folders.** Checkpoints go to `<output_dir>-checkpoints`; section 6 exports the trained model to
#   `output_dir`, the folder notebook 05 loads. On Colab, mount Google Drive (Files ▸ Mount Drive) before the
#   parameters cell: both then lie in `MyDrive/segformer-kit/models/`, where notebook 05 (its own runtime) and
#   `resume` find them.
# - **Quiet, reproducible runs.** `seed` and `report_to="none"` (no experiment trackers). How progress shows is
#   set in section 5: the Trainer's live bar (step, elapsed, time left) while you watch, in JupyterLab or Colab;
#   one printed line per evaluation in a papermill run or the course's web version (`make book`).
# - **Seeded colour jitter.** `make_transforms(..., seed=P.seed)` in section 1 and the `AugmentationEpoch`
#   callback make each image's jitter depend only on the seed, the epoch and the image, so a resumed run
#   retraces an uninterrupted one (`resume = True` in the parameters cell continues from the last complete
#   checkpoint).

# %% [markdown] tags=["lang-zh", "pt"]
# `evaluation_strategy` 已改名为 `eval_strategy`，旧名字后来被删除了（现在的英文版指南已经写成 `eval_strategy`）。指南的其他参数里，`save_total_limit=3` 让磁盘上只保留最新的 3 个检查点，`logging_steps=1` 让每一步都记录训练损失。列表后面的单元格是指南的原调用，只改了这一处，再加上套件的几个参数；各参数的用途如下：
#
# - **评估时的内存。** Trainer 默认把评估的全部 logits 攒到评估结束；在 512×512 的分辨率下，ADE20K 的 2000 张验证图像大约要 20 GB。指南里的 `eval_accumulation_steps=5` 每 5 个评估批次就把攒下的 logits 从 GPU 挪到 CPU：显存保住了，但内存仍随测试集增长。所以套件改为流式计算指标：设置 `batch_eval_metrics=True`，再在下面的 `Trainer` 里传入 `preprocess_logits_for_metrics`，每个批次的 logits 会立即上采样并转成类别编号，`shpt.ComputeMetrics` 把它们累加进一个混淆矩阵（见第 03 篇）。mIoU 完全一样，内存却不再增长。把 `stream_metrics` 设为 `False`，就会像指南的 Trainer 那样把全部 logits 留在内存里（指标仍由套件计算）。
# - **文件夹。** 检查点存到 `<output_dir>-checkpoints`；第 6 小节把训练好的模型导出到 `output_dir`，第 05 篇从这里加载。在 Colab 上，请先挂载 Google Drive（左侧“文件”面板 ▸“装载 Google 云端硬盘”），再运行参数单元格；挂载后这两个文件夹都会放在 `MyDrive/segformer-kit/models/` 下，第 05 篇（在它自己的运行时里）和断点续训都能找到它们。
# - **安静、可复现的训练。** 固定 `seed`，`report_to="none"`（不接任何实验跟踪工具）。进度怎么显示在第 5 小节设定：你在 JupyterLab 或 Colab 里盯着看时，是 Trainer 自带的实时进度条（当前步数、已用时间、剩余时间）；用 papermill 运行或在课程网页版里，每次评估打印一行文字。
# - **带种子的颜色抖动。** 第 1 小节的 `make_transforms(..., seed=P.seed)` 加上 `AugmentationEpoch` 回调，让每张图像的抖动只取决于种子、轮数和图像本身，所以断点续训的结果与不中断的训练完全一致（在参数单元格里设 `resume = True`，就会从最近一个完整的检查点接着训练）。

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
stream_metrics = True  # kit: False keeps every eval logit until the end, as the guide's Trainer does
training_args = TrainingArguments(
    output_dir=P.checkpoints_dir,  # guide: "segformer-b0-scene-parse-150"
    learning_rate=P.learning_rate,  # guide: 6e-5
    num_train_epochs=P.num_train_epochs,  # guide: 50
    max_steps=P.max_steps,  # guide: not set (-1)
    per_device_train_batch_size=P.batch_size,  # guide: 2
    per_device_eval_batch_size=P.batch_size,  # guide: 2
    save_total_limit=3,
    eval_strategy="steps",  # forced: the guide's evaluation_strategy was removed
    save_strategy="steps",
    save_steps=P.save_steps,  # guide: 20
    eval_steps=P.eval_steps,  # guide: 20
    logging_steps=1,
    eval_accumulation_steps=5,
    remove_unused_columns=False,
    push_to_hub=P.push_to_hub,  # guide: True
    batch_eval_metrics=stream_metrics,  # kit: the metric counted batch by batch (memory, see the list above)
    hub_model_id=P.hub_model_id,  # guide: not set (the repository is named after output_dir)
    seed=P.seed,  # guide: not set (the Trainer's default, 42)
    report_to="none",  # kit: no experiment trackers
    use_cpu=not (torch.cuda.is_available() or torch.backends.mps.is_available()),  # kit: CPU only without a GPU
    dataloader_pin_memory=torch.cuda.is_available(),  # kit: pinned memory helps only a CUDA GPU
)

# %% [markdown] tags=["lang-en", "pt"]
# ## 5. Train
#
# The guide's `Trainer` and `train()`, each in a cell of its own; the kit's additions sit in a cell between them.
# `compute_metrics` is `shpt.ComputeMetrics`, notebook 03's streaming version of the guide's `compute_metrics`
# (the same numbers). The guide's function runs 🤗 Evaluate's `metric.compute` at every evaluation, which
# notebook 03 times on your machine. On the 2-core benchmark CPU it takes about 12.7 s per 512×512 map, so about
# 2 minutes per evaluation of the guide's 10 test images; the guide evaluates 50 times, close to two hours of
# metric alone (item 10 of `benchmarks/RESULTS.md`, "the guide's compute_metrics", from `make bench`).
#
# On the `smoke` profile training takes seconds on a laptop CPU. `smoke` trains a tiny model from random
# weights: it shows the mechanics, not fine-tuning. To watch the guide's pretrained mit-b0 being fine-tuned on
# real photos on a laptop CPU, set `profile = "workshop"` in the parameters cell (about 3 minutes in PyTorch,
# 7 in TensorFlow; it reads the Hub once, so run `make prefetch PROFILE=workshop` while online). The `guide`
# profile (40 images at 512×512, 50 epochs, 1000 steps) wants a GPU and prints a line every 20 steps.
#
# **Why is the guide's learning rate so small?** 6e-5 is less than a tenth of Adam's default 1e-3 (about
# 1/17). The encoder is pretrained: its weights already compute useful features, and large steps would
# overwrite them with whatever a few dozen training images can teach (40 of the guide's `train[:50]`).
# Fine-tuning should move a pretrained encoder only a little. (The `Trainer`'s own default, 5e-5, is this low
# for the same reason: `TrainingArguments` is built for fine-tuning.) The `smoke` profile's 2e-3 is no
# contradiction: its model starts from random weights, so there is nothing to preserve. Nor is the `workshop`
# profile's 2e-4: with only 80 steps, instead of the guide's 1000, a somewhat larger step is the price of
# seeing the loss fall within a workshop slot; the encoder still moves little in 80 steps.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 5. 训练
#
# 下面是指南的 `Trainer` 和 `train()`，各占一个单元格；套件加的东西放在两者之间单独的单元格里。`compute_metrics` 用的是 `shpt.ComputeMetrics`，即第 03 篇里指南 `compute_metrics` 的流式版本（结果相同）。指南的版本每次评估都要调用 🤗 Evaluate 的 `metric.compute`，第 03 篇在你的机器上测过它的耗时。在基准测试用的那台 2 核 CPU 上，它算一张 512×512 的分割图约需 12.7 秒，评估一次指南的 10 张测试图像约需 2 分钟；指南要评估 50 次，光算指标就将近两小时（见 `benchmarks/RESULTS.md` 第 10 项“the guide's compute_metrics”，由 `make bench` 测得）。
#
# 用 `smoke` 预设，在一台普通电脑的 CPU 上几秒钟就能训练完。不过 `smoke` 训练的是一个从随机权重开始的小模型，演示的是流程，而不是微调。想在笔记本电脑的 CPU 上看到指南的预训练模型 mit-b0 在真实照片上微调，就在参数单元格里把 `profile` 设为 `"workshop"`（PyTorch 约 3 分钟，TensorFlow 约 7 分钟；它要访问一次 Hub，所以先趁联网运行一次 `make prefetch PROFILE=workshop`）。`guide` 预设（40 张 512×512 的图像，50 轮，共 1000 步）最好用 GPU，每 20 步打印一行。
#
# **指南的学习率为什么这么小？** 6e-5 还不到 Adam 默认学习率 1e-3 的十分之一（约为 1/17）。编码器是预训练过的，它的权重已经能提取有用的特征；步子迈得太大，这些特征就会被区区几十张训练图像（指南的 `train[:50]` 里是 40 张）里学到的东西冲掉。所以微调预训练的编码器时，权重只宜小幅调整。（`Trainer` 自己的默认学习率 5e-5 也这么小，原因相同：`TrainingArguments` 本来就是为微调设计的。）`smoke` 预设用 2e-3 并不矛盾：它的模型从随机权重开始，本来就没有什么需要保留。`workshop` 预设的 2e-4 也不矛盾：它只训练 80 步（指南是 1000 步），要在一节课的时间里看到损失明显下降，步子只好稍大一些；80 步下来，编码器的权重变化依然很小。

# %% tags=["pt"]
compute_metrics = shpt.ComputeMetrics(meta=meta)  # notebook 03's compute_metrics, streamed
if P.fast:  # opt-in (fast = True): the kit's faster model, see Under the hood; the default trains the guide's
    shpt.fast_training(model)

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=train_ds,
    eval_dataset=test_ds,
    compute_metrics=compute_metrics,  # kit: shpt.ComputeMetrics (the cell above), the guide's function streamed
)

# %% [markdown] tags=["lang-en", "pt"]
# The guide's `Trainer` is complete. Before `train()`, the kit adds three things to it, each for a reason:
#
# - `preprocess_logits_for_metrics` turns each evaluation batch's logits into class ids at once (the memory
#   point of section 4);
# - `AugmentationEpoch` tells the seeded training transform which epoch it is in, so each image's colour jitter
#   depends only on the seed, the epoch and the image, and a resumed run retraces an uninterrupted one;
# - `report_progress` keeps the Trainer's live progress bar where you watch (JupyterLab, Colab), with its table
#   of evaluations showing numbers only (the per-class lists stay in the log); where nobody watches (papermill,
#   nbval) it removes the bar and prints one line per evaluation instead. Its code is shown in Under the hood.
#
# With `resume = True` in the parameters cell, `train()` continues from the last complete checkpoint.

# %% [markdown] tags=["lang-zh", "pt"]
# 指南的 `Trainer` 到这里就完整了。调用 `train()` 之前，套件再给它加三样东西，各有用处：
#
# - `preprocess_logits_for_metrics` 把每个评估批次的 logits 立即转成类别编号（即第 4 小节说的内存问题）；
# - `AugmentationEpoch` 告诉带种子的训练变换当前是第几轮，这样每张图像的颜色抖动只取决于种子、轮数和图像本身，断点续训的结果与不中断时完全一致；
# - `report_progress` 在有人看着的地方（JupyterLab、Colab）保留 Trainer 的实时进度条，评估结果表里只列数值（各类别的列表留在日志里）；没人看的地方（papermill、nbval）去掉进度条，改为每次评估打印一行。它的代码放在“实现细节”里。
#
# 在参数单元格里设 `resume = True`，`train()` 就会从最近一个完整的检查点接着训练。

# %% tags=["pt"]
from seghelpers.pt.progress import report_progress

trainer.preprocess_logits_for_metrics = shpt.preprocess_logits_for_metrics if stream_metrics else None
trainer.add_callback(shpt.AugmentationEpoch(train_transforms))
report_progress(trainer)  # a live bar where you watch; one line per evaluation in executed notebooks
resume_from = shpt.last_complete_checkpoint(P.checkpoints_dir) if P.resume else None
if P.resume:
    print("resuming from", resume_from or "scratch (no complete checkpoint yet)")

# %% tags=["pt"]
sh.show_source(shpt.AugmentationEpoch, shpt.last_complete_checkpoint)  # the kit's code, where it is first used

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
trainer.train(resume_from_checkpoint=resume_from)  # guide: trainer.train() (resume_from is None unless resume = True)

# %% [markdown] tags=["lang-en", "tf"]
# ## 4. Learning-rate schedule and optimizer
#
# The Chinese edition's TF section steps the learning rate down with `PiecewiseConstantDecay`: 1e-4 for the
# first 100 optimizer steps, then 5e-5, 3e-5, 1e-5, 1e-6 and finally 1e-7 after step 3000. The guide's code runs
# as written:

# %% [markdown] tags=["lang-zh", "tf"]
# ## 4. 学习率调度与优化器
#
# 中文版指南的 TF 部分用 `PiecewiseConstantDecay` 分段降低学习率：前 100 步用 1e-4，之后依次降到 5e-5、3e-5、1e-5、1e-6，第 3000 步以后是 1e-7。指南的这段代码可以原样运行：

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
learning_rate = tf.keras.optimizers.schedules.PiecewiseConstantDecay(
    boundaries=[100, 300, 500, 1000, 3000],
    values=[1e-4, 5e-5, 3e-5, 1e-5, 1e-6, 1e-7])

# %% [markdown] tags=["lang-en", "tf"]
# The kit keeps that shape and scales it to the profile's learning rate (the `smoke` profile's tiny random model
# needs 2e-3 to learn anything in 50 steps). The `guide` and `full` profiles set `learning_rate` to 1e-4 in the
# TensorFlow notebooks (6e-5 in the PyTorch ones, the guide's `TrainingArguments`), so they run the guide's exact
# values. The boundaries count optimizer steps, so a short run never reaches them.
#
# **Why is the guide's learning rate so small?** 1e-4, falling from there, is a tenth of Adam's default 1e-3.
# The encoder is pretrained: its weights already compute useful features, and large steps would overwrite them
# with whatever a few dozen training images can teach (40 of the guide's `train[:50]`). Fine-tuning should
# move a pretrained encoder only a little. The `smoke` profile's 2e-3 is no contradiction: its model starts
# from random weights, so there is nothing to preserve.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件沿用这种分段方式，只是按预设的学习率等比例缩放（`smoke` 预设的随机初始化小模型要用 2e-3 才能在 50 步内学到东西）。`guide` 和 `full` 预设在 TensorFlow 笔记本里把 `learning_rate` 设为 1e-4（PyTorch 笔记本里是 6e-5，即指南 `TrainingArguments` 里的值），跑的正是指南的原始数值。分段边界按优化器的更新步数计算，训练步数少时根本走不到第一个边界。
#
# **指南的学习率为什么这么小？** 1e-4 只有 Adam 默认学习率 1e-3 的十分之一，之后还要一路往下降。编码器是预训练过的，它的权重已经能提取有用的特征；步子迈得太大，这些特征就会被区区几十张训练图像（指南的 `train[:50]` 里是 40 张）里学到的东西冲掉。所以微调预训练的编码器时，权重只宜小幅调整。`smoke` 预设用 2e-3 并不矛盾：它的模型从随机权重开始，本来就没有什么需要保留。

# %% tags=["tf"]
import math

steps_per_epoch = math.ceil(len(train_ds) / P.batch_size)
# like the Trainer: max_steps (if set) wins over num_train_epochs
epochs = math.ceil(P.max_steps / steps_per_epoch) if P.max_steps > 0 else math.ceil(P.num_train_epochs)
scale = P.learning_rate / learning_rate.values[0]
lr_schedule = tf.keras.optimizers.schedules.PiecewiseConstantDecay(
    boundaries=learning_rate.boundaries, values=[v * scale for v in learning_rate.values])
total_steps = steps_per_epoch * epochs
print(f"{epochs} epochs of {steps_per_epoch} steps = {total_steps} optimizer steps; "
      f"boundaries reached: {[b for b in lr_schedule.boundaries if b < total_steps] or 'none'}")
print("learning rate per stage:", ", ".join(f"{v:.0e}" for v in lr_schedule.values))
print(f"len(train_ds) * epochs = {len(train_ds) * epochs} (images), optimizer steps = {total_steps}")

# %% tags=["tf"]
if P.fast:  # opt-in (fast = True), before compile: the kit's faster model, see Under the hood
    shtf.fast_training(model)

# %% [markdown] tags=["lang-en", "tf"]
# The guide compiles the model **without a loss**: transformers' TF models compute their own loss whenever the
# batch contains `labels` (here, the fixed loss from section 2).

# %% [markdown] tags=["lang-zh", "tf"]
# 指南编译模型时**不传损失函数**：只要批次里有 `labels`，transformers 的 TF 模型就会自己计算损失（这里用的是第 2 小节修好的那个）。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
optimizer = tf.keras.optimizers.Adam(learning_rate=lr_schedule)  # guide: learning_rate, its own schedule
model.compile(optimizer=optimizer)

# %% [markdown] tags=["lang-en", "tf"]
# ## 5. `tf.data`, callbacks and `fit`
#
# The guide converts the training split in one call:

# %% [markdown] tags=["lang-zh", "tf"]
# ## 5. `tf.data`、回调与 `fit`
#
# 指南用一次调用转换训练集：

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
try:
    train_dataset = train_ds.to_tf_dataset(with_transform=train_transforms)
except TypeError as e:
    print("TypeError:", e)

# %% [markdown] tags=["lang-en", "tf"]
# `to_tf_dataset` has no `with_transform` argument. The transform is already attached (`set_transform` in
# section 1); what `to_tf_dataset` needs is the columns to feed, the batch size, whether to shuffle, and a
# collator that stacks the transformed examples into batches. The fixed call, on the test split:

# %% [markdown] tags=["lang-zh", "tf"]
# `to_tf_dataset` 没有 `with_transform` 这个参数。变换已经挂好了（第 1 小节的 `set_transform`）；`to_tf_dataset` 需要的是：要送进模型的列、批大小、是否打乱，以及一个把变换后的样本堆叠成批次的整理函数（collator）。在测试集上修好的调用如下：

# %% tags=["tf"]
import copy

import numpy as np
from transformers import DefaultDataCollator

collate = DefaultDataCollator(return_tensors="np")  # stacks the examples' numpy arrays into a batch
tf_eval = copy.copy(test_ds).to_tf_dataset(  # copy.copy: see "Under the hood"
    columns=["pixel_values", "labels"], batch_size=P.batch_size, shuffle=False, collate_fn=collate)
first = next(iter(tf_eval))
print({k: tuple(v.shape) for k, v in first.items()})

# %% [markdown] tags=["lang-en", "tf"]
# The kit's `shtf.to_tf_dataset` makes the same call; the next cell checks that it yields the same batches and
# uses it for the training split. The guide also passes `validation_data=test_ds` to `fit`, the 🤗 dataset
# itself; Keras cannot read it, and would fail at the end of the first epoch with the error `evaluate` shows
# at once below. The converted `tf_eval` is what `fit` needs.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件的 `shtf.to_tf_dataset` 做的是同一次调用；下一个单元格检查它给出的批次完全相同，并用它转换训练集。指南还把 🤗 数据集本身 `test_ds` 直接传给 `fit(validation_data=...)`；Keras 读不了它，会在第一轮结束时报错，下面用 `evaluate` 立刻就能看到同样的错误。`fit` 需要的是转换好的 `tf_eval`。

# %% tags=["tf"]
kit_first = next(iter(shtf.to_tf_dataset(test_ds, batch_size=P.batch_size, shuffle=False)))
assert all(np.array_equal(first[k], kit_first[k]) for k in first)
print("shtf.to_tf_dataset gives the same batches:", True)
tf_train = shtf.to_tf_dataset(train_ds, batch_size=P.batch_size, shuffle=True)

try:
    model.evaluate(test_ds, verbose=0)  # what fit(validation_data=test_ds) would run after epoch 1
except ValueError as e:
    print("ValueError:", e)

# %% tags=["tf"]
sh.show_source(shtf.to_tf_dataset)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# The guide's only callback keeps the weights of the epoch with the lowest `val_loss` (the loss on the test
# split) in `checkpoint.h5`, here in the checkpoints folder:

# %% [markdown] tags=["lang-zh", "tf"]
# 指南只用了一个回调：把 `val_loss`（测试集上的损失）最低那一轮的权重存进 `checkpoint.h5`，这里存到检查点文件夹里：

# %% tags=["tf"]
from pathlib import Path

ckpt_dir = Path(P.checkpoints_dir)  # the checkpoints folder, beside output_dir (the guide: the working folder)
ckpt_dir.mkdir(parents=True, exist_ok=True)

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
checkpoint_callback = tf.keras.callbacks.ModelCheckpoint(
    filepath=str(ckpt_dir / "checkpoint.h5"),  # guide: "checkpoint.h5", in the working folder
    save_weights_only=True,
    save_best_only=True,
    monitor="val_loss",
    mode="min",
)

# %% [markdown] tags=["lang-en", "tf"]
# The guide's text promises a callback that computes metrics, but its code has none. The kit adds four:
#
# - `KerasMetricCallback` runs `shtf.ComputeMetrics` on the test split after every epoch and adds
#   `val_mean_iou`, `val_overall_accuracy` and one `val_iou_<class>` per class, named by the dataset's
#   `id2label`, to the logs (notebook 03's fixed version of the guide's TF `compute_metrics`, counted with a
#   confusion matrix because 🤗 Evaluate is slow; notebook 03 timed it);
# - `BackupAndRestore` saves model, optimizer and epoch after every epoch: run the notebook again with
#   `resume = True` in the parameters cell and training continues after the last finished epoch;
# - a one-line printer per epoch (Keras' own log would list every per-class metric);
# - `shtf.LiveProgress`, a progress bar with the loss and the mean IoU, drawn only where you watch (JupyterLab,
#   Colab); a papermill run keeps the printed lines alone.

# %% [markdown] tags=["lang-zh", "tf"]
# 指南的正文说要加一个计算指标的回调，代码里却没有。套件加了四个：
#
# - `KerasMetricCallback`：每轮结束后在测试集上运行 `shtf.ComputeMetrics`（第 03 篇修好标签问题的指南 TF 版 `compute_metrics`），把 `val_mean_iou`、`val_overall_accuracy` 和每个类别的 `val_iou_<类别名>` 写进日志。它用混淆矩阵计数，因为 🤗 Evaluate 太慢（第 03 篇测过它的耗时）；
# - `BackupAndRestore` 每轮结束后保存模型、优化器状态和轮数：在参数单元格里设 `resume = True` 再运行一遍本笔记本，训练会从最后一个完整的轮次之后继续；
# - 每轮打印一行（Keras 自带的日志会把每个类别的指标全列出来）；
# - `shtf.LiveProgress`：显示损失和 mIoU 的进度条，只在有人看着的地方（JupyterLab、Colab）才画出来；用 papermill 运行时只有打印的文字行。

# %% tags=["tf"]
from transformers import KerasMetricCallback

if not P.resume and (ckpt_dir / "backup").exists():
    import shutil

    shutil.rmtree(ckpt_dir / "backup")  # resume = False: start over instead of silently continuing
callbacks = [
    KerasMetricCallback(metric_fn=shtf.ComputeMetrics(meta=meta),
                        eval_dataset=tf_eval, batch_size=P.batch_size, label_cols=["labels"]),
    checkpoint_callback,
    tf.keras.callbacks.BackupAndRestore(backup_dir=str(ckpt_dir / "backup")),
    tf.keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"epoch {epoch + 1}: loss {logs['loss']:.4f}, val_loss {logs['val_loss']:.4f}, "
        f"val_mean_iou {logs['val_mean_iou']:.4f}")),
    shtf.LiveProgress(),  # a bar with the loss and the mean IoU where you watch (JupyterLab, Colab); else nothing
]

# %% tags=["tf"]
sh.show_source(shtf.LiveProgress)  # the kit's code, where it is first used


# %% [markdown] tags=["lang-en", "tf"]
# On the `smoke` profile training takes a minute or two on a laptop CPU. `smoke` trains a tiny model from
# random weights: it shows the mechanics, not fine-tuning. To watch the guide's pretrained mit-b0 being
# fine-tuned on real photos on a laptop CPU, set `profile = "workshop"` in the parameters cell (about 7 minutes
# in TensorFlow, 3 in PyTorch; it reads the Hub once, so run `make prefetch PROFILE=workshop` while online).
# The `guide` profile (40 images at 512×512, 50 epochs, 1000 steps) wants a GPU.

# %% [markdown] tags=["lang-zh", "tf"]
# 用 `smoke` 预设，在一台普通电脑的 CPU 上训练一两分钟。不过 `smoke` 训练的是一个从随机权重开始的小模型，演示的是流程，而不是微调。想在笔记本电脑的 CPU 上看到指南的预训练模型 mit-b0 在真实照片上微调，就在参数单元格里把 `profile` 设为 `"workshop"`（TensorFlow 约 7 分钟，PyTorch 约 3 分钟；它要访问一次 Hub，所以先趁联网运行一次 `make prefetch PROFILE=workshop`）。`guide` 预设（40 张 512×512 的图像，50 轮，共 1000 步）最好用 GPU。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
history = model.fit(  # kit: history keeps the curves for section 6 (guide: model.fit(...))
    tf_train,  # forced: the guide's train_dataset (to_tf_dataset(with_transform=...)) raises, shown above
    validation_data=tf_eval,  # forced: the guide's test_ds is not a tf.data pipeline, shown above
    epochs=epochs,  # guide: 50
    callbacks=callbacks,  # kit: the guide's [checkpoint_callback] and four more, listed above
    verbose=0,  # kit: Keras' own bar lists every per-class value; LiveProgress draws the bar
)

# %% [markdown] tags=["lang-en"]
# ## 6. Evaluate, save, and read the curves

# %% [markdown] tags=["lang-zh"]
# ## 6. 评估、保存与训练曲线

# %% [markdown] tags=["lang-en", "pt"]
# The final mean IoU on the test split, for the model as it is after the last step. That is also the model
# the next cell exports to `output_dir`: the Trainer's checkpoints are the last three saves, not the best
# ones (`load_best_model_at_end=True` with `metric_for_best_model="mean_iou"` would change that).

# %% [markdown] tags=["lang-zh", "pt"]
# 下面是训练最后一步的模型在测试集上的最终 mIoU。下一个单元格导出到 `output_dir` 的也正是这个模型：Trainer 保留的是最近三次保存的检查点，而不是最好的那几次（设 `load_best_model_at_end=True` 和 `metric_for_best_model="mean_iou"` 才会改成保留最好的）。

# %% [markdown] tags=["lang-en", "tf"]
# `ModelCheckpoint(save_best_only=True)` wrote the weights of the epoch with the lowest `val_loss` to
# `checkpoint.h5`, but the model in memory holds the *last* epoch's weights, and the guide's `save_pretrained`
# would export those. The kit loads the best weights back first, so the exported model is the one the
# metrics below describe.

# %% [markdown] tags=["lang-zh", "tf"]
# `ModelCheckpoint(save_best_only=True)` 把 `val_loss` 最低那一轮的权重写进了 `checkpoint.h5`，但内存里的模型是*最后一轮*的权重，指南的 `save_pretrained` 导出的也是它。套件先把最优权重加载回来再导出，所以导出的模型就是下面这些指标描述的那一个。

# %% tags=["pt", "metrics"]
# NBVAL_CHECK_OUTPUT
final = trainer.evaluate()
print(f"eval mean IoU: {final['eval_mean_iou']:.4f}")
print(f"eval overall accuracy: {final['eval_overall_accuracy']:.4f}")
print(f"eval loss: {final['eval_loss']:.4f}")

# %% tags=["tf", "metrics"]
# NBVAL_CHECK_OUTPUT
best = int(np.argmin(history.history["val_loss"]))
final = {k: v[best] for k, v in history.history.items()}
print(f"best epoch (lowest val_loss): {history.epoch[best] + 1} of {epochs}")
print(f"eval mean IoU: {final['val_mean_iou']:.4f}")
print(f"eval overall accuracy: {final['val_overall_accuracy']:.4f}")
print(f"eval loss: {final['val_loss']:.4f}")

# %% [markdown] tags=["lang-en"]
# These numbers are computed at the processed size: the image processor resized every label map to
# `image_size` × `image_size` (64 × 64 in `smoke`), and the logits were upsampled to that size. Notebook 05
# upsamples to each image's original size and compares with the original annotation, so its mean IoU for the
# same model and the same images differs a little: thin borders and small objects count differently at another
# resolution. PyTorch and TensorFlow reach similar mean IoUs with different losses: their schedules differ
# (PyTorch's Trainer lowers the learning rate linearly to 0, the TensorFlow notebook keeps the guide's
# piecewise-constant schedule), and their new weights start from different random values.

# %% [markdown] tags=["lang-zh"]
# 这些数字是在预处理后的尺寸上算的：图像处理器已经把每张标签图调整尺寸为 `image_size` × `image_size`（`smoke` 下是 64 × 64），logits 也只上采样到这个尺寸。第 05 篇把 logits 上采样到每张图像的原始尺寸，再和原始标注比较，所以同一个模型、同一批图像，它算出的 mIoU 会略有不同：细边界和小物体在不同分辨率下占的像素比例不一样。PyTorch 和 TensorFlow 两版的 mIoU 相近，损失却不一样，原因有二：一是学习率调度不同（PyTorch 的 Trainer 让学习率线性降到 0，TensorFlow 版沿用指南的分段常数调度）；二是新加的权重随机初始化的值不同。

# %% tags=["pt"]
if trainer.is_world_process_zero():  # with several processes (torchrun), only one writes
    sh.save_pretrained_atomic(P.output_dir, trainer.model, image_processor, meta)  # meta: dataset_meta.json
    print("saved to", P.output_dir, sorted(os.listdir(P.output_dir)))
if P.push_to_hub:
    trainer.push_to_hub()  # the guide's last step (needs a Hugging Face token)

# %% tags=["pt"]
sh.show_source(sh.save_pretrained_atomic)  # the kit's code, where it is first used

# %% tags=["tf"]
model.load_weights(str(ckpt_dir / "checkpoint.h5"))  # the best epoch's weights, not the last epoch's

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
model.save_pretrained(P.output_dir)  # guide: "segformer-b0-scene-parse-150-tf"

# %% tags=["tf"]
image_processor.save_pretrained(P.output_dir)  # notebook 05 loads the processor from here too
meta.save(P.output_dir)  # the dataset's description (dataset_meta.json): its names, convention and colours
written = ("config.json", "tf_model.h5", "preprocessor_config.json", "dataset_meta.json")
print("saved to", P.output_dir, [f for f in written if os.path.exists(os.path.join(P.output_dir, f))])
if P.push_to_hub:  # needs a Hugging Face token
    model.push_to_hub(P.hub_model_id or Path(P.output_dir).name)
    image_processor.push_to_hub(P.hub_model_id or Path(P.output_dir).name)

# %% [markdown] tags=["lang-en", "pt"]
# The curves: the training loss is logged at every step (one batch each, hence the noise); the eval loss and
# mean IoU come every `eval_steps` steps, on the same test images. The two losses share the left panel, so their
# gap can be read off one y axis; mean IoU has a panel of its own. The y axes start at 0 and mean IoU spans
# [0, 1], so a small change looks small.

# %% [markdown] tags=["lang-zh", "pt"]
# 训练曲线：训练损失每一步记录一次（每个点只对应一个批次，所以波动较大）；评估损失和 mIoU 每 `eval_steps` 步在同一批测试图像上算一次。两条损失曲线画在左边同一张子图里，差距可以直接在同一根纵轴上读出；mIoU 单独占一张子图。纵轴从 0 开始，mIoU 的纵轴固定为 [0, 1]，小的变化看起来也就小。

# %% [markdown] tags=["lang-en", "tf"]
# The curves: one point per epoch for the training loss (the mean over the epoch), the loss on the test split
# and its mean IoU. The two losses share the left panel, so their gap can be read off one y axis; mean IoU has a
# panel of its own. The y axes start at 0 and mean IoU spans [0, 1], so a small change looks small.

# %% [markdown] tags=["lang-zh", "tf"]
# 训练曲线：每轮一个点，分别是训练损失（该轮的平均值）、测试集上的损失和 mIoU。两条损失曲线画在左边同一张子图里，差距可以直接在同一根纵轴上读出；mIoU 单独占一张子图。纵轴从 0 开始，mIoU 的纵轴固定为 [0, 1]，小的变化看起来也就小。

# %% tags=["pt"]
log, keys = trainer.state.log_history, ("loss", "eval_loss", "eval_mean_iou")

# %% tags=["tf"]
log, keys = history.history, ("loss", "val_loss", "val_mean_iou")

# %%
from matplotlib.ticker import MaxNLocator
from seghelpers import viz

axes = viz.plot_training_curves(log, keys=keys)
for ax in axes:
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole steps or epochs
axes[-1].set_ylim(0, 1)  # mean IoU lies in [0, 1]
plt.tight_layout()
plt.show()

# %%
sh.show_source(viz.plot_training_curves)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# **How to read these curves.** Look for four things:
#
# - **The gap between training and eval loss.** The training loss is measured on the training split, the
#   images the model learns from (40 of the guide's `train[:50]`), the eval loss on the test split it never
#   trains on (10 there). While both fall, the model learns something that carries over to new images. When
#   the training loss keeps falling but the eval loss levels off or rises, the model is memorising its
#   training images: it *overfits*. With so few images this comes early; in the guide's recipe every image is
#   seen 50 times.
# - **Eval loss below training loss?** That can happen for part of a run or all of it (look at this run's
#   curves). The training loss is measured with colour jitter and dropout on (and, in TensorFlow, averaged over
#   an epoch in which the weights kept improving). The eval loss is measured afterwards, on unjittered images
#   with dropout off. This gap is no cause for concern.
# - **A flat eval mean IoU.** Mean IoU changes only when a pixel's top class changes, so it can stay flat while
#   the losses still move. Flat at a good value: training has converged for this data, and more epochs only
#   memorise. Flat near 0 from the start: the model predicts nearly everything as one class; check the labels
#   (notebook 03) and the learning rate before training longer.
# - **Noise.** Judge trends, not single points: a training-loss point is one batch (PyTorch) or one epoch's mean
#   (TensorFlow), and the test split is a small sample (10 images in the guide's recipe), so a difference of a
#   few hundredths proves nothing.

# %% [markdown] tags=["lang-zh"]
# **怎样读这几条曲线。** 看四件事：
#
# - **训练损失和评估损失之间的差距。** 训练损失是在训练集上算的，也就是模型用来学习的那些图像（指南的 `train[:50]` 里是 40 张）；评估损失则来自它从没训练过的测试集（那里是 10 张）。两者一起下降，说明模型学到的东西对新图像也管用。如果训练损失还在降，评估损失却不再下降甚至回升，说明模型在死记训练图像，也就是*过拟合*。图像这么少，过拟合来得很早；按指南的配置，每张图像要看 50 遍。
# - **评估损失比训练损失还低？** 这并不反常，可能只出现在训练的某一段，也可能从头到尾都是这样（看看这次运行的曲线）：训练损失是在颜色抖动和 dropout 都开着时记录的（TensorFlow 还要对整轮取平均，而这一轮里权重一直在变好）；评估损失则是之后在没有增强的图像上、关掉 dropout 算出来的。
# - **评估 mIoU 趋于平稳。** 只有某个像素得分最高的类别变了，mIoU 才会变，所以损失还在变化时，mIoU 可能纹丝不动。如果它停在一个不错的值上，说明模型在这份数据上已经收敛，再多训几轮也只是死记；如果从一开始就一直接近 0，说明模型几乎把所有像素都判成同一类，先检查标签（第 03 篇）和学习率，别急着加长训练。
# - **噪声。** 看趋势，别看单个点：训练损失的每个点只对应一个批次（PyTorch）或一轮的平均值（TensorFlow）；测试集也只是个小样本（指南的配置里只有 10 张），mIoU 相差零点零几说明不了什么。

# %% [markdown] tags=["lang-en", "pt"]
# ## Summary
#
# - The guide's PyTorch training code still runs; the only forced change is `evaluation_strategy` → `eval_strategy`.
# - `id2label` / `label2id` size the decode head; `ignore_mismatched_sizes=True` replaces a head trained for
#   another number of classes.
# - SegFormer: a four-stage Mix Transformer encoder (1/4 to 1/32 of the input) and an all-MLP decoder whose
#   logits are 1/4 of the input size, so they are upsampled before loss, metric and prediction.
# - Streaming the metric (`preprocess_logits_for_metrics` + `batch_eval_metrics`) gives the same mean IoU
#   with flat memory.
# - The exported model is the last step's; 04's mean IoU is measured at the processed size, 05's at the
#   original size.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 小结
#
# - 指南的 PyTorch 训练代码今天仍能运行，唯一必须改的是 `evaluation_strategy` → `eval_strategy`。
# - `id2label` / `label2id` 决定解码头的类别数；`ignore_mismatched_sizes=True` 会替换掉为其他类别数训练的解码头。
# - SegFormer 由四个阶段的 Mix Transformer 编码器（输入的 1/4 到 1/32）和全 MLP 解码头组成，logits 只有输入的 1/4，所以算损失、算指标和预测之前都要先上采样。
# - 流式计算指标（`preprocess_logits_for_metrics` + `batch_eval_metrics`）得到的 mIoU 不变，内存却不再增长。
# - 导出的是最后一步的模型；本篇的 mIoU 在预处理后的尺寸上计算，第 05 篇则在原始尺寸上计算。

# %% [markdown] tags=["lang-en", "tf"]
# ## Summary
#
# - The guide's TF code needs four repairs today: the TF class `TFAutoModelForSemanticSegmentation`, a loss
#   that masks label 255 first (CPU: an error; GPU: a silent `nan`), a `to_tf_dataset` call without
#   `with_transform`, and a `tf.data` pipeline instead of the 🤗 dataset as `validation_data`. A folder with
#   PyTorch weights only (the smoke model, a model from the PyTorch notebook) also needs `from_pt=True`.
# - `PiecewiseConstantDecay` counts optimizer steps; `len(train_ds) * num_epochs` counts images.
# - SegFormer: a four-stage Mix Transformer encoder (1/4 to 1/32 of the input) and an all-MLP decoder whose
#   logits are 1/4 of the input size, so they are upsampled before loss, metric and prediction.
# - `ModelCheckpoint(save_best_only=True)` only writes a file; load it before `save_pretrained` to export the
#   best epoch.
# - 04's mean IoU is measured at the processed size, 05's at the original size.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 小结
#
# - 指南的 TF 代码今天要修四处：改用 TF 的类 `TFAutoModelForSemanticSegmentation`；损失要先用掩码去掉标签 255（CPU 上报错，GPU 上悄无声息地得到 `nan`）；`to_tf_dataset` 不能传 `with_transform`；`validation_data` 要传 `tf.data` pipeline，而不是 🤗 数据集本身。此外，只有 PyTorch 权重的文件夹（`smoke` 的模型、PyTorch 笔记本训练出的模型）还要加 `from_pt=True`。
# - `PiecewiseConstantDecay` 按优化器的更新步数计数，`len(train_ds) * num_epochs` 数的却是图像数。
# - SegFormer 由四个阶段的 Mix Transformer 编码器（输入的 1/4 到 1/32）和全 MLP 解码头组成，logits 只有输入的 1/4，所以算损失、算指标和预测之前都要先上采样。
# - `ModelCheckpoint(save_best_only=True)` 只是写一个文件；要导出最优的那一轮，得先把它加载回来再 `save_pretrained`。
# - 本篇的 mIoU 在预处理后的尺寸上计算，第 05 篇则在原始尺寸上计算。

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# Exercises 1 and 2 check themselves. Replace the `...` in the code cell with your answer, then run the
# check cell under it: it says whether the answer is right and why, or what is wrong, with a hint.
# `ex.<name>.hint()` prints the hint alone, `ex.<name>.solution()` a worked solution. The checks use this
# notebook's own variables, so run the sections above first.

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 练习 1 和练习 2 可以自动检查：把代码单元格里的 `...` 换成你的答案，再运行它下面的检查单元格。检查会告诉你答案是否正确、为什么正确；答错时指出错在哪里，并给出提示。`ex.<名称>.hint()` 只显示提示，`ex.<名称>.solution()` 显示参考答案。检查用的是本笔记本里的变量，所以请先运行上面各小节。

# %%
from seghelpers.exercises import stage04 as ex

# %% [markdown] tags=["lang-en"]
# ### Exercise 1: how many optimizer steps is one epoch?
#
# One optimizer step per batch. Write `my_steps_per_epoch(num_images, batch_size)`. The check tries it on
# 40 and 41 images in batches of 4, on 3 images in batches of 4 and on a single image, then on this run's
# `len(train_ds)` and `batch_size`, and compares the last with the number of batches the live training
# data actually yields. With it, `max_steps` ÷ `my_steps_per_epoch(...)` tells you how many epochs a profile trains.

# %% [markdown] tags=["lang-zh"]
# ### 练习 1：一轮（epoch）是多少个优化步？
#
# 每个批次对应一个优化步。编写 `my_steps_per_epoch(num_images, batch_size)`。检查会先用 40 张和 41 张图像、批大小 4，3 张图像、批大小 4，以及只有一张图像的情况试你的函数，再用本次运行的 `len(train_ds)` 和 `batch_size`，并把最后这个结果和实际训练数据每轮产生的批次数比较。有了它，用 `max_steps` ÷ `my_steps_per_epoch(...)` 就知道一个预设要训练多少轮。

# %% tags=["exercise"]
def my_steps_per_epoch(num_images, batch_size):
    # batches per epoch: the last batch may be smaller
    return ...


# %% tags=["pt"]
ex.steps_per_epoch.check(my_steps_per_epoch, train_ds, P.batch_size, trainer.get_train_dataloader())  # .hint() / .solution()

# %% tags=["tf"]
ex.steps_per_epoch.check(my_steps_per_epoch, train_ds, P.batch_size, tf_train)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 2: read the curves of this run
#
# Look at the curves of section 6 (`log` holds their numbers). Which sentence describes *this* run? The
# check reads the same numbers, so the right letter depends on your run. Set `curves_answer` to one letter:
#
# - (a) The training loss went down and the evaluation mean IoU went up.
# - (b) The training loss went down, but the evaluation mean IoU did not go up.
# - (c) The training loss did not go down.

# %% [markdown] tags=["lang-zh"]
# ### 练习 2：读懂这次运行的曲线
#
# 看第 6 小节的曲线（`log` 里是它们的数值）。哪句话描述的是*这一次*运行？检查读取的是同样的数值，所以正确选项取决于你的运行结果。把 `curves_answer` 设为一个字母：
#
# - (a) 训练损失下降了，评估 mIoU 上升了。
# - (b) 训练损失下降了，但评估 mIoU 没有上升。
# - (c) 训练损失没有下降。

# %% tags=["exercise"]
curves_answer = ...  # "a", "b" or "c"

# %%
ex.read_the_curves.check(curves_answer, log)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### More to explore
#
# 1. Interrupt training halfway (Kernel → Interrupt; `smoke` finishes in seconds, so use `profile = "workshop"`,
#    3 to 7 minutes on a laptop CPU, or `max_steps = 500`), set `resume = True` in the parameters cell and run the
#    notebook again. Which checkpoint does it continue from, and how much training is repeated?
# 2. Set `learning_rate` to twice and then half the profile's value in the parameters cell. How do the loss
#    curve and the final mean IoU change? Answer exercise 2 again for each run.
# 3. Compare batch sizes at the same number of epochs: set `batch_size = 2` with `max_steps = 100`, then
#    `batch_size = 8` with `max_steps = 25` (both 5 epochs of the 40 training images in `smoke`; in the
#    `guide` profile `max_steps` is −1, so the epochs stay fixed anyway). Which run reaches the higher mean IoU,
#    and whose loss curve is noisier?
# 4. Before running it, predict the shapes section 3 prints for `image_size = 128`. Run it to check. How does
#    the mean IoU change, and why might it?

# %% [markdown] tags=["lang-zh"]
# ### 更多探索
#
# 1. 训练到一半时中断（Kernel → Interrupt。`smoke` 几秒钟就训练完，来不及中断，请改用 `workshop` 预设——在笔记本电脑的 CPU 上要 3～7 分钟——或设 `max_steps = 500`），在参数单元格里设 `resume = True`，再运行一遍本笔记本。它从哪个检查点继续？有多少训练被重复了？
# 2. 在参数单元格里把 `learning_rate` 设为预设值的两倍，再设为一半。损失曲线和最终的 mIoU 分别怎么变？每次运行后都再做一遍练习 2。
# 3. 在轮数相同的前提下比较不同的批大小：先设 `batch_size = 2`、`max_steps = 100`，再设 `batch_size = 8`、`max_steps = 25`（在 `smoke` 下都是把 40 张训练图像过 5 轮；`guide` 预设的 `max_steps` 是 −1，轮数本来就不变）。哪一次的 mIoU 更高？哪一次的损失曲线波动更大？
# 4. 先预测一下：设 `image_size = 128` 时，第 3 小节会打印出哪些形状？运行验证你的预测。mIoU 有什么变化，可能的原因是什么？

# %% [markdown] tags=["lang-en", "collapsed", "pt"]
# ## Under the hood
#
# - **Evaluation memory, in numbers.** One 512×512 image gives 150 × 128 × 128 float32 logits, about 9.8 MB;
#   the Trainer gathers them for the whole eval set (about 20 GB for 2000 images, and 157 MB per image if they
#   were upsampled first). `preprocess_logits_for_metrics` keeps 0.26 MB of uint8 class ids per image instead,
#   and with `batch_eval_metrics=True` even those are dropped after each batch; only a 150 × 150 confusion
#   matrix remains.
# - **Why the jitter is seeded per image.** On resume the Trainer restores the global random state from the
#   checkpoint, but its data loader has already prefetched, and jittered, the next batch by then. Drawing each
#   image's jitter from (seed, epoch, image) under a forked generator makes the resumed run bit-identical.
# - **Export.** `sh.save_pretrained_atomic` writes model and processor to a temporary folder and renames it to
#   `output_dir` when complete, so notebook 05 never loads a half-written model; with several processes only
#   the main one writes.
# - **Devices.** `use_cpu=True` without an accelerator also lets `torchrun` start N CPU processes (gloo backend);
#   `dataloader_pin_memory` only helps with a CUDA GPU.
# - **More than one GPU or machine.** `make script` exports this notebook to `build/scripts/04_train_pytorch.py`,
#   which takes the parameters as `--name value`: `torchrun --nproc_per_node 4 build/scripts/04_train_pytorch.py
#   --profile full`. The README's "Scaling up" section has the commands and the memory per GPU.
# - **The kit's fast path (`fast = True`, off by default).** `shpt.fast_training(model)` rewrites two parts of the
#   model in place, on the same weights. Attention runs through PyTorch's fused `scaled_dot_product_attention`.
#   In the decode head, each stage's linear layer and the 1×1 fuse convolution act on every pixel separately,
#   and bilinear upsampling is linear; so the kit multiplies each stage's layer into the fuse convolution and
#   applies the product at that stage's own, smaller resolution, before upsampling. Section 1's training
#   transforms also take the fast path (`FastSegformerProcessor`, notebook 02). Loss and gradients equal the
#   guide's model up to float rounding; dropout masks fall on other elements, so the curves differ slightly
#   while the final numbers land close. The saved model is an ordinary SegFormer.
# - **How much faster.** The speed-up, measured with the guide's recipe (mit-b0, 512×512, batch size 2) by
#   `make bench`, is item 8 of `benchmarks/RESULTS.md` ("training throughput", PyTorch). Where time matters (a
#   workshop on CPUs), set `fast = True` in the parameters cell.

# %% [markdown] tags=["lang-zh", "collapsed", "pt"]
# ## 实现细节（Under the hood）
#
# - **评估内存的具体数字。** 一张 512×512 的图像对应 150 × 128 × 128 个 float32 logits，约 9.8 MB；Trainer 会把所有评估图像的 logits 都收集起来（2000 张约 20 GB；如果先上采样，每张就是 157 MB）。`preprocess_logits_for_metrics` 让每张图只保留 0.26 MB 的 uint8 类别编号；再加上 `batch_eval_metrics=True`，这些编号在每个批次算完后也会丢掉，最后只剩一个 150 × 150 的混淆矩阵。
# - **为什么按图像设定抖动的种子。** 断点续训时，Trainer 会从检查点恢复全局随机状态，但这时它的数据加载器已经预取（并抖动）了下一个批次。每张图像的抖动改由（种子，轮数，图像）在一个独立分叉的随机数生成器里决定，续训的结果就能与不中断的训练逐位一致。
# - **导出。** `sh.save_pretrained_atomic` 先把模型和图像处理器写进一个临时文件夹，写完后再整体改名为 `output_dir`，所以第 05 篇不会读到写了一半的模型；多进程训练时只有主进程写入。
# - **设备。** 没有加速器时设 `use_cpu=True`，`torchrun` 还能借此启动 N 个 CPU 进程（gloo 后端）；`dataloader_pin_memory` 只对 CUDA GPU 有用。
# - **多卡与多机。** `make script` 把本笔记本导出为 `build/scripts/04_train_pytorch.py`，参数写成 `--name value`，例如 `torchrun --nproc_per_node 4 build/scripts/04_train_pytorch.py --profile full`。具体命令和每张卡的显存占用见 README.zh-CN 的“扩展到更大规模”一节。
# - **套件的快速路径（`fast = True`，默认关闭）。** `shpt.fast_training(model)` 在同一组权重上原地改写模型的两处。一是注意力改用 PyTorch 的融合算子 `scaled_dot_product_attention`。二是解码头：每个阶段的线性层和 1×1 融合卷积都是逐像素独立计算的，双线性上采样也是线性运算，所以套件把每个阶段的线性层和融合卷积乘成一个矩阵，在该阶段自己那个更低的分辨率上先算完，再上采样。第 1 小节的训练变换也会走快速路径（第 02 篇的 `FastSegformerProcessor`）。与指南的模型相比，损失和梯度只差浮点舍入误差；dropout 的掩码落在不同的元素上，所以曲线略有差别，最终结果很接近。保存下来的仍是普通的 SegFormer 模型。
# - **提速多少。** 见 `benchmarks/RESULTS.md` 第 8 项（“training throughput”，PyTorch），由 `make bench` 按指南的配置（mit-b0、512×512、批大小 2）测得。时间紧的场合（比如只有 CPU 的培训课），可以在参数单元格里设 `fast = True`。

# %% tags=["pt"]
sh.show_source(report_progress, shpt.fast_training)  # the progress plumbing and the kit's fast path

# %% [markdown] tags=["lang-en", "collapsed", "tf"]
# ## Under the hood
#
# - **`copy.copy` before `to_tf_dataset`.** For a dataset with `set_transform`, datasets 5.0 empties the
#   *source* dataset when the returned `tf.data` object is garbage-collected (the next `test_ds[0]` fails with
#   `'Dataset' object has no attribute '_data'`). Converting a shallow copy keeps `train_ds` and `test_ds`
#   usable; `shtf.to_tf_dataset` does the same.
# - **The loss fix.** `shtf.fix_loss` replaces the model's `hf_compute_loss`: it upsamples the logits to the
#   label size, sets the ignored labels to 0 before the sparse cross-entropy, and averages over the other pixels.
# - **The English guide's old optimizer.** Earlier versions of the English guide used
#   `create_optimizer(init_lr=6e-5, num_train_steps=len(train_ds) * num_epochs, weight_decay_rate=0.01,
#   num_warmup_steps=0)` instead: AdamW with a learning rate that falls linearly to 0 over `num_train_steps`.
#   But `len(train_ds) * num_epochs` counts *images*, not optimizer steps; with batches of 2 the decay is
#   planned for twice the real run, which ends with the learning rate still at half its start. The last line
#   printed by section 4's schedule cell gives both counts for this run.
# - **Resume.** `BackupAndRestore` restores whole epochs (an interrupted epoch runs again) and holds weights,
#   optimizer state and the epoch number, but not `tf.data`'s shuffle position or the random generator behind
#   dropout. A resumed run is therefore close to an uninterrupted one, not identical with it. The backup is
#   deleted when training completes.
# - **More than one GPU or machine.** Build and compile the model inside a `tf.distribute` strategy and feed
#   the global batch size: `strategy = tf.distribute.MirroredStrategy()` (all GPUs of one machine) or
#   `MultiWorkerMirroredStrategy()` (several machines, each with its own `TF_CONFIG`), then
#   `with strategy.scope(): model = shtf.load_model(...); model.compile(...)` and
#   `model.fit(shtf.to_tf_dataset(train_ds, P.batch_size * strategy.num_replicas_in_sync, shuffle=True), ...)`.
# - **The kit's fast path (`fast = True`, off by default).** `shtf.fast_training(model)` must run before
#   `compile`. It rewrites two layers in place, on the same weights. Inside each encoder block, the feed-forward
#   part (Mix-FFN) has a 3×3 *depthwise* convolution: one 3×3 filter per channel. transformers builds it as a
#   Keras `Conv2D` with `groups` equal to the number of channels, which TensorFlow runs slowly on a CPU; the kit
#   computes the same thing with `tf.nn.depthwise_conv2d`. In the decode head, each stage's linear layer and the
#   1×1 fuse convolution act on every pixel separately, and bilinear upsampling is linear; so the kit multiplies
#   them into one and applies it at each stage's own resolution. Loss and gradients equal the guide's model up
#   to float rounding (dropout draws aside), and the saved model is an ordinary SegFormer.
# - **How much faster.** The speed-up, measured with the guide's recipe by `make bench`, is item 8 of
#   `benchmarks/RESULTS.md` ("training throughput", TensorFlow). XLA (`compile(..., jit_compile=True)`) was
#   measured too: slower on a CPU. Where time matters (a workshop on CPUs), set `fast = True` in the parameters
#   cell.

# %% [markdown] tags=["lang-zh", "collapsed", "tf"]
# ## 实现细节（Under the hood）
#
# - **`to_tf_dataset` 之前为什么要 `copy.copy`。** 对挂了 `set_transform` 的数据集，datasets 5.0 会在返回的 `tf.data` 对象被垃圾回收时清空*源*数据集（之后再取 `test_ds[0]` 就会报 `'Dataset' object has no attribute '_data'`）。转换一个浅拷贝，`train_ds` 和 `test_ds` 就不受影响；`shtf.to_tf_dataset` 也是这么做的。
# - **损失的修复。** `shtf.fix_loss` 替换了模型的 `hf_compute_loss`：先把 logits 上采样到标签的尺寸，在稀疏交叉熵之前把被忽略的标签置为 0，再只对其余像素求平均。
# - **英文版指南早先的优化器。** 英文版指南的早先版本用的是 `create_optimizer(init_lr=6e-5, num_train_steps=len(train_ds) * num_epochs, weight_decay_rate=0.01, num_warmup_steps=0)`：AdamW，学习率在 `num_train_steps` 步内线性降到 0。可是 `len(train_ds) * num_epochs` 数的是*图像数*，不是优化器的更新步数；每个批次 2 张图像时，衰减按实际训练长度的两倍来安排，训练结束时学习率还停在初始值的一半。第 4 小节学习率单元格打印的最后一行给出了本次训练的这两个数。
# - **断点续训。** `BackupAndRestore` 按整轮恢复（被打断的那一轮会重跑），备份里有权重、优化器状态和轮数，但没有 `tf.data` 的打乱进度，也没有 dropout 所用随机数生成器的状态。所以续训的结果与不中断的训练接近，但不会逐位一致。训练正常结束后备份会被删除。
# - **多卡与多机。** 在 `tf.distribute` 策略里构建并编译模型，并按全局批大小喂数据：`strategy = tf.distribute.MirroredStrategy()`（单机的全部 GPU）或 `MultiWorkerMirroredStrategy()`（多台机器，每台用各自的 `TF_CONFIG` 启动），然后 `with strategy.scope(): model = shtf.load_model(...); model.compile(...)`，再 `model.fit(shtf.to_tf_dataset(train_ds, P.batch_size * strategy.num_replicas_in_sync, shuffle=True), ...)`。
# - **套件的快速路径（`fast = True`，默认关闭）。** `shtf.fast_training(model)` 必须放在 `compile` 之前调用。它在同一组权重上原地改写两处。每个编码器块里的前馈部分（Mix-FFN）有一个 3×3 的*深度卷积*（depthwise convolution），即每个通道各用一个 3×3 卷积核；transformers 把它写成 `groups` 等于通道数的 Keras `Conv2D`，TensorFlow 在 CPU 上执行这种分组卷积很慢，套件改用 `tf.nn.depthwise_conv2d` 计算同样的结果。解码头里，每个阶段的线性层和 1×1 融合卷积都是逐像素独立计算的，双线性上采样也是线性运算，所以可以乘成一个矩阵，在每个阶段自己的分辨率上先算完。与指南的模型相比，损失和梯度只差浮点舍入误差（dropout 的随机抽样除外），保存下来的仍是普通的 SegFormer 模型。
# - **提速多少。** 见 `benchmarks/RESULTS.md` 第 8 项（“training throughput”，TensorFlow），由 `make bench` 按指南的配置测得。XLA（`compile(..., jit_compile=True)`）也测过，在 CPU 上反而更慢。时间紧的场合（比如只有 CPU 的培训课），可以在参数单元格里设 `fast = True`。

# %% tags=["tf"]
sh.show_source(shtf.fast_training)  # the kit's fast path, described above
