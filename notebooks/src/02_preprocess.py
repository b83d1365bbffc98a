# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en", "pt"]
# # 02 · Preprocessing: image processor, label reduction and augmentation (PyTorch)
#
# A model does not take PIL images. This notebook turns each (image, annotation) pair into the two
# tensors SegFormer trains on, `pixel_values` and `labels`, and adds colour augmentation for training.
#
# **You will learn to**
# - load the image processor as the guide does, see why its `reduce_labels=True` is silently ignored today, and fix it;
# - follow one annotation through the processor: label reduction, and resizing with nearest neighbour;
# - write the guide's `ColorJitter` augmentation and its `train_transforms` / `val_transforms`;
# - attach them with `set_transform` and check the shapes and values the model will get.

# %% [markdown] tags=["lang-zh", "pt"]
# # 02 · 预处理：图像处理器、标签缩减与数据增强（PyTorch）
#
# 模型不能直接接收 PIL 图像。本篇把每一对（图像，标注）变成 SegFormer 训练时真正用到的两个张量：`pixel_values` 和 `labels`，并只给训练集加上颜色方面的数据增强。
#
# **本篇目标**
# - 按指南的写法加载图像处理器，弄清指南里的 `reduce_labels=True` 现在为什么会被悄悄忽略，并改正它；
# - 跟踪一张标注经过图像处理器的全过程：标签缩减，以及用最近邻插值调整尺寸；
# - 写出指南里的 `ColorJitter` 增强和 `train_transforms` / `val_transforms` 两个函数；
# - 用 `set_transform` 挂上这两个函数，并检查模型最终拿到的张量形状和取值。

# %% [markdown] tags=["lang-en", "tf"]
# # 02 · Preprocessing: image processor, label reduction and augmentation (TensorFlow)
#
# A model does not take PIL images. This notebook turns each (image, annotation) pair into the two
# arrays SegFormer trains on, `pixel_values` and `labels`, and adds colour augmentation for training.
#
# **You will learn to**
# - load the image processor as the guide does, see why its `reduce_labels=True` is silently ignored today, and fix it;
# - follow one annotation through the processor: label reduction, and resizing with nearest neighbour;
# - run the guide's `tf.image` augmentation, see why the image processor rejects its output, and fix it;
# - attach the transforms with `set_transform` and check the shapes and values the model will get.

# %% [markdown] tags=["lang-zh", "tf"]
# # 02 · 预处理：图像处理器、标签缩减与数据增强（TensorFlow）
#
# 模型不能直接接收 PIL 图像。本篇把每一对（图像，标注）变成 SegFormer 训练时真正用到的两个数组：`pixel_values` 和 `labels`，并只给训练集加上颜色方面的数据增强。
#
# **本篇目标**
# - 按指南的写法加载图像处理器，弄清指南里的 `reduce_labels=True` 现在为什么会被悄悄忽略，并改正它；
# - 跟踪一张标注经过图像处理器的全过程：标签缩减，以及用最近邻插值调整尺寸；
# - 运行指南里基于 `tf.image` 的增强代码，看清图像处理器为什么拒收它的输出，并改正它；
# - 用 `set_transform` 挂上变换函数，并检查模型最终拿到的数组形状和取值。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The next cell fills the `None` parameters from the profile and checks every value before anything
# heavy runs; a typo such as `image_size = 500` stops here with the fix in the message. The cell after it
# picks the checkpoint (a local folder or a Hub id): the image processor's settings come with the checkpoint,
# so this notebook needs one even though it trains nothing.

# %% [markdown] tags=["lang-zh"]
# 下一个单元格按预设补全取值为 `None` 的参数，并在任何耗时操作之前逐项校验；像 `image_size = 500` 这样的笔误会在这里直接报错，报错信息里写明了怎么改。再下一个单元格确定用哪个检查点（本地文件夹或 Hub id）：图像处理器的设置跟着检查点走，所以本篇虽然不训练，也要先定好检查点。

# %%
{{snippet:validate}}

# %%
# a Hub id or a local folder is used as it is; "random:tiny" (the smoke profile's) builds a small untrained model once
CHECKPOINT = sh.resolve_checkpoint(P.checkpoint, P.image_size, P.seed)
print("checkpoint ->", CHECKPOINT)

# %%
sh.show_source(sh.resolve_checkpoint)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "pt"]
# ## 1. Data and framework
#
# The same subset, 80/20 split and label convention as in notebook 01. `seghelpers.pt` holds the
# PyTorch side of the kit's helpers; importing it imports torch.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 1. 数据与框架
#
# 数据子集、80/20 的划分和标签约定都和第 01 篇相同。`seghelpers.pt` 是套件辅助函数的 PyTorch 部分，导入它会顺带导入 torch。

# %% [markdown] tags=["lang-en", "tf"]
# ## 1. Data and framework
#
# The same subset, 80/20 split and label convention as in notebook 01. Import `seghelpers.tf` *before*
# TensorFlow: it makes `tf.keras` mean Keras 2 (the `tf-keras` package), which transformers' TensorFlow
# models are built on; since TF 2.16 `tf.keras` would otherwise be Keras 3.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 1. 数据与框架
#
# 数据子集、80/20 的划分和标签约定都和第 01 篇相同。`seghelpers.tf` 一定要在 TensorFlow *之前*导入：它让 `tf.keras` 指向 Keras 2（即 `tf-keras` 包），transformers 的 TensorFlow 模型正是基于它写的。从 TF 2.16 起，`tf.keras` 默认是 Keras 3。

# %% tags=["pt"]
import torch

import seghelpers.pt as shpt

print("torch", torch.__version__)

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow: selects Keras 2 (tf-keras)
import tensorflow as tf

print("tensorflow", tf.__version__, "| tf.keras is", tf.keras.optimizers.Adam.__module__.split(".")[0])  # tf_keras = Keras 2

# %%
import numpy as np

ds = sh.load_scene_parse(P.dataset, P.split)
splits = ds.train_test_split(test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
meta = sh.dataset_meta(P.dataset)  # the dataset description: classes, label convention, colours
example = train_ds[0]  # kept as PIL images: after set_transform the dataset returns arrays only
raw_batch = train_ds[:4]  # four raw rows, for the checks below
print(meta.describe())
print(f"train: {len(train_ds)}, test: {len(test_ds)}; example image {example['image'].size[0]}x{example['image'].size[1]}")

# %% [markdown] tags=["lang-en"]
# ## 2. The image processor: `AutoImageProcessor`
#
# `AutoImageProcessor` reads the checkpoint's `preprocessor_config.json` and builds a
# `SegformerImageProcessor`. For every image it resizes to a fixed size, rescales the pixel values from
# [0, 255] to [0, 1] and normalises them with the ImageNet mean and standard deviation. For every
# annotation it resizes with nearest neighbour (section 3) and, with `do_reduce_labels=True`, applies the
# label reduction of notebook 01: raw 0 ("other") → 255, the ignore index; raw *k* → *k*−1.
#
# The guide loads it with `nvidia/mit-b0`; here `checkpoint` is the profile's (a small local stand-in in
# `smoke`, `nvidia/mit-b0` in `guide`). Run the guide's line:

# %% [markdown] tags=["lang-zh"]
# ## 2. 图像处理器：`AutoImageProcessor`
#
# `AutoImageProcessor` 读取检查点里的 `preprocessor_config.json`，构造出一个 `SegformerImageProcessor`。对图像，它先调整到固定尺寸，再做数值缩放（把像素值从 [0, 255] 映射到 [0, 1]），最后用 ImageNet 的均值和标准差做归一化。对标注，它用最近邻插值调整尺寸（见第 3 小节），并在 `do_reduce_labels=True` 时做第 01 篇讲过的标签缩减：原始 0（“其他”）→ 255，即忽略索引；原始 *k* → *k*−1。
#
# 指南用的是 `nvidia/mit-b0`；这里的 `checkpoint` 取自预设（`smoke` 下是一个小型的本地替代模型，`guide` 下就是 `nvidia/mit-b0`）。运行指南的这一行：

# %%
# 指南原代码 / the guide's code (Chinese edition)
from transformers import AutoImageProcessor

checkpoint = CHECKPOINT  # guide: "nvidia/mit-b0"
image_processor = AutoImageProcessor.from_pretrained(checkpoint, reduce_labels=True)

# %% [markdown] tags=["lang-en"]
# No error. But did `reduce_labels=True` do anything? Load the same checkpoint asking for the opposite:

# %% [markdown] tags=["lang-zh"]
# 没有报错。可 `reduce_labels=True` 到底起作用了没有？用同一个检查点、把参数反过来再加载一次：

# %%
# NBVAL_CHECK_OUTPUT
opposite = AutoImageProcessor.from_pretrained(checkpoint, reduce_labels=False)
print("reduce_labels=True  -> do_reduce_labels =", image_processor.do_reduce_labels)
print("reduce_labels=False -> do_reduce_labels =", opposite.do_reduce_labels)

# %% [markdown] tags=["lang-en"]
# The same value both times: the keyword is ignored. It was renamed `do_reduce_labels`, and
# `from_pretrained` only applies keywords that name an attribute of the processor, so the old one is
# dropped *without a word*. The processor keeps what the checkpoint's config says. For `nvidia/mit-b0` that
# is `false`: raw 0 ("other") stays class 0, every other class is shifted by one, and the model learns
# shifted labels, usually without any error. (Where the checkpoint's config already says `true`, the
# ignored keyword happens to do no harm; the fault is that the keyword decides nothing.)
#
# **The fix** is the new name. For ADE20K the value is `True`; a dataset of your own declares its
# convention, so pass `meta.reduce_labels`:

# %% [markdown] tags=["lang-zh"]
# 两次的结果一样：这个参数被忽略了。它已经改名为 `do_reduce_labels`，而 `from_pretrained` 只接收与处理器属性同名的参数，旧参数会被*悄无声息地*丢掉，处理器沿用检查点配置里的值。`nvidia/mit-b0` 的配置写的是 `false`：原始 0（“其他”）仍被当作 0 号类别，其余类别全部错位一格，模型学到的是错位的标签，而且通常不会报任何错。（如果检查点的配置里本来就写着 `true`，被忽略的参数碰巧不会造成损害；问题在于这个参数根本不起作用。）
#
# **修正办法**是换用新参数名。ADE20K 取 `True`；你自己的数据集声明了自己的标签约定，所以传入 `meta.reduce_labels`：

# %%
image_processor = AutoImageProcessor.from_pretrained(checkpoint, do_reduce_labels=meta.reduce_labels)  # the fix
print("do_reduce_labels =", image_processor.do_reduce_labels)

# %% [markdown] tags=["lang-en"]
# From here on, and in notebook 04, the line has one more keyword: `size=`, the output size, from the
# `image_size` parameter. The guide leaves it out and gets the checkpoint's own size (512×512 for
# `nvidia/mit-b0`, which is also `image_size` in the `guide` profile); the `smoke` profile trains at 64×64 to
# finish in minutes on a CPU. `AutoImageProcessor` gives the slow, PIL-based `SegformerImageProcessor`, as it
# does for the guide.

# %% [markdown] tags=["lang-zh"]
# 从这里开始（第 04 篇也一样），这一行多了一个参数 `size=`，即输出尺寸，取自参数 `image_size`。指南没有写它，用的是检查点自带的尺寸（`nvidia/mit-b0` 是 512×512，`guide` 预设里的 `image_size` 也是 512）；`smoke` 预设用 64×64 训练，在 CPU 上几分钟就能跑完。`AutoImageProcessor` 给出的是基于 PIL 的慢速处理器 `SegformerImageProcessor`，和指南运行时拿到的一样。

# %%
# NBVAL_CHECK_OUTPUT
image_processor = AutoImageProcessor.from_pretrained(
    checkpoint, do_reduce_labels=meta.reduce_labels,  # guide: reduce_labels=True (ignored today: see above)
    size={"height": P.image_size, "width": P.image_size})  # guide: not set (the checkpoint's 512×512)
print(type(image_processor).__name__, "| do_reduce_labels:", image_processor.do_reduce_labels,
      "| size:", image_processor.size)

# %% [markdown] tags=["lang-en"]
# ## 3. One example through the processor
#
# Call the processor on one image and its annotation, and compare the values before and after. With
# label reduction raw 0 becomes 255 and every class value drops by one; `meta.to_model_ids` does the
# same on the full-size mask. The label map also shrinks to `image_size`, so a class that covered only a
# few pixels can disappear.

# %% [markdown] tags=["lang-zh"]
# ## 3. 让一个样本走一遍处理器
#
# 把一张图像和它的标注交给图像处理器，对比处理前后的取值。做标签缩减时，原始 0 变成 255，每个类别值都减一；`meta.to_model_ids` 在原尺寸的掩码上做的是同样的转换。标签图还被缩小到了 `image_size`，所以只占几个像素的类别有可能就此消失。

# %%
# NBVAL_CHECK_OUTPUT
raw = np.array(example["annotation"])
encoded = image_processor(example["image"], example["annotation"], return_tensors="np")
print("raw annotation  ", raw.shape, sorted(np.unique(raw).tolist()))
print("to_model_ids    ", raw.shape, sorted(np.unique(meta.to_model_ids(raw)).tolist()))
print("processor labels", encoded["labels"].shape[1:], sorted(np.unique(encoded["labels"]).tolist()))
print("pixel_values    ", encoded["pixel_values"].shape[1:], encoded["pixel_values"].dtype)

# %% [markdown] tags=["lang-en"]
# **Resize masks with nearest neighbour, never bilinear.** Bilinear interpolation averages neighbouring
# pixels. That is right for colours, but a label is a class id, and the average of two ids is some
# unrelated third class. The processor resizes images bilinearly and segmentation maps with nearest
# neighbour; do the same in any resizing, cropping or rotation you add yourself. Below, a hand-made mask
# that is half value 1 and half value 13 is shrunk both ways: bilinear invents values in between, classes
# that appear nowhere in the picture.

# %% [markdown] tags=["lang-zh"]
# **调整掩码尺寸只能用最近邻插值，绝不能用双线性插值。** 双线性插值是对相邻像素取加权平均，对颜色来说没问题；但标签是类别编号，两个编号的平均值会变成一个毫不相干的第三类。图像处理器对图像用双线性插值，对分割图用最近邻插值；你自己加调整尺寸、裁剪、旋转之类的操作时也要照此处理。下面把一张手写的掩码（一半是值 1，一半是值 13）分别用两种方式缩小：双线性插值凭空造出了介于两者之间的值，也就是图里根本不存在的类别。

# %%
# NBVAL_CHECK_OUTPUT
from PIL import Image

mask = np.zeros((8, 8), dtype=np.uint8)
mask[:, :4], mask[:, 4:] = 1, 13  # a hand-made mask: two class values
for resample in (Image.Resampling.BILINEAR, Image.Resampling.NEAREST):
    small = np.array(Image.fromarray(mask).resize((5, 5), resample=resample))
    print(f"{resample.name:<8} first row {small[0].tolist()} -> values {sorted(np.unique(small).tolist())}")

# %% [markdown] tags=["lang-en", "pt"]
# ## 4. Augmentation (training set only)
#
# Fifty photos are few; a model sees them again and again and starts memorising them. Data augmentation
# shows it a slightly different version each time. The guide uses torchvision's `ColorJitter`: it changes
# colours only, never geometry, so the annotation stays valid untouched (a flip or crop would have to be
# applied to image *and* mask together). Its two functions turn a batch of rows into model inputs:
# `train_transforms` jitters each image, then runs the image processor on images and annotations;
# `val_transforms` runs the processor only. The test set is never augmented: evaluation must measure the
# model on the data as it is, and the same way every time.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 4. 数据增强（只用于训练集）
#
# 50 张照片实在不多，模型反复看同样的图，很快就会把它们背下来。数据增强让模型每次看到的都是略有不同的版本。指南用的是 torchvision 的 `ColorJitter`：它只改颜色、不动几何形状，所以标注不用做任何改动依然有效（翻转、裁剪这类增强则必须对图像*和*掩码同步施加）。指南的两个函数把一个批次的样本变成模型的输入：`train_transforms` 先对每张图像做颜色抖动，再把图像和标注一起交给图像处理器；`val_transforms` 只过图像处理器。测试集永远不做增强：评估要衡量的是模型在原始数据上的表现，而且每次的口径都得一致。

# %% tags=["pt"]
# 指南原代码 / the guide's code (Chinese edition)
from torchvision.transforms import ColorJitter

jitter = ColorJitter(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.1)


def train_transforms(example_batch):
    images = [jitter(x) for x in example_batch["image"]]
    labels = [x for x in example_batch["annotation"]]
    inputs = image_processor(images, labels)
    return inputs


def val_transforms(example_batch):
    images = [x for x in example_batch["image"]]
    labels = [x for x in example_batch["annotation"]]
    inputs = image_processor(images, labels)
    return inputs


# %% [markdown] tags=["lang-en", "pt"]
# This code runs as written. The kit's `shpt.make_transforms(image_processor, fast=False, meta=meta)`
# returns the same two functions (given `meta`, it also checks that the processor reduces labels as the
# dataset declares); with the same random seed the jitter draws are the same, so the outputs must be
# identical, value for value:

# %% [markdown] tags=["lang-zh", "pt"]
# 这段代码原样就能运行。套件的 `shpt.make_transforms(image_processor, fast=False, meta=meta)` 返回的是同样的两个函数（传入 `meta` 时，它还会检查图像处理器是否按数据集声明的约定做标签缩减）；随机种子相同时，颜色抖动的随机取值也相同，所以输出应该逐个数值完全一致：

# %% tags=["pt"]
kit_train, kit_val = shpt.make_transforms(image_processor, fast=False, meta=meta)
torch.manual_seed(P.seed)
guide_out = train_transforms(raw_batch)
torch.manual_seed(P.seed)
kit_out = kit_train(raw_batch)
for key in ("pixel_values", "labels"):
    assert np.array_equal(np.stack(guide_out[key]), kit_out[key].numpy())
    assert np.array_equal(np.stack(val_transforms(raw_batch)[key]), kit_val(raw_batch)[key].numpy())
print("make_transforms(image_processor, fast=False) == the guide's transforms:", True)

# %% tags=["pt"]
sh.show_source(shpt.make_transforms)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# ## 4. Augmentation (training set only)
#
# Fifty photos are few; a model sees them again and again and starts memorising them. Data augmentation
# shows it a slightly different version each time. The guide's TensorFlow code changes colours with
# `tf.image`: random brightness, contrast, saturation and hue. Colour changes leave the annotation valid
# untouched; a flip or crop would have to be applied to image *and* mask together. `aug_transforms`
# jitters one image for training; `transforms` only converts it, for the test set, which is never
# augmented: evaluation must measure the model on the data as it is, and the same way every time.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 4. 数据增强（只用于训练集）
#
# 50 张照片实在不多，模型反复看同样的图，很快就会把它们背下来。数据增强让模型每次看到的都是略有不同的版本。指南的 TensorFlow 代码用 `tf.image` 改颜色：随机调整亮度、对比度、饱和度和色调。只改颜色的话，标注不用做任何改动依然有效；翻转、裁剪这类增强则必须对图像*和*掩码同步施加。`aug_transforms` 对训练用的单张图像做抖动；`transforms` 只做格式转换，供测试集使用。测试集永远不做增强：评估要衡量的是模型在原始数据上的表现，而且每次的口径都得一致。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
def aug_transforms(image):
    image = tf.keras.utils.img_to_array(image)
    image = tf.image.random_brightness(image, 0.25)
    image = tf.image.random_contrast(image, 0.5, 2.0)
    image = tf.image.random_saturation(image, 0.75, 1.25)
    image = tf.image.random_hue(image, 0.1)
    image = tf.transpose(image, (2, 0, 1))
    return image


def transforms(image):
    image = tf.keras.utils.img_to_array(image)
    image = tf.transpose(image, (2, 0, 1))
    return image


# %% [markdown] tags=["lang-en", "tf"]
# Next, the guide's two functions that turn a batch of rows into model inputs: they apply the image
# transform, then the image processor on images and annotations.

# %% [markdown] tags=["lang-zh", "tf"]
# 接下来是指南里把一个批次的样本变成模型输入的两个函数：先做图像变换，再把图像和标注一起交给图像处理器。

# %% tags=["tf"]
# 指南原代码 / the guide's code (Chinese edition)
def train_transforms(example_batch):
    images = [aug_transforms(x.convert("RGB")) for x in example_batch["image"]]
    labels = [x for x in example_batch["annotation"]]
    inputs = image_processor(images, labels)
    return inputs


def val_transforms(example_batch):
    images = [transforms(x.convert("RGB")) for x in example_batch["image"]]
    labels = [x for x in example_batch["annotation"]]
    inputs = image_processor(images, labels)
    return inputs


# %% [markdown] tags=["lang-en", "tf"]
# Try them on four training rows. `val_transforms` works; `train_transforms` does not:

# %% [markdown] tags=["lang-zh", "tf"]
# 在 4 个训练样本上试一试。`val_transforms` 没问题，`train_transforms` 却不行：

# %% tags=["tf"]
print("val_transforms:", len(val_transforms(raw_batch)["pixel_values"]), "images processed")
try:
    train_transforms(raw_batch)
except ValueError as err:
    print("train_transforms: ValueError:", err)

# %% [markdown] tags=["lang-en", "tf"]
# **Why.** `img_to_array` gives floats with values from 0 to 255, and the guide jitters those:
#
# - `tf.image` assumes float images hold values in [0, 1]. On a 0～255 scale, `random_brightness(image, 0.25)`
#   adds at most ±0.25, which nobody could see, while a contrast factor of 2 pushes values far outside [0, 255].
# - The image processor resizes with PIL, which needs 8-bit pixels. It accepts a float image only if it
#   holds whole numbers from 0 to 255, or values in [0, 1], which it multiplies by 255 for PIL and divides back
#   afterwards. Jittered floats on a 0～255 scale are neither, so it raises. The message names [0, 1] because
#   that is the only float range it can convert; but passing [0, 1] floats fails differently: after resizing,
#   the processor's rescale divides by 255 again, leaving 1/255 of the intended values. The guide's training
#   transform fails on practically every image.
#
# **The fix** changes `aug_transforms` only: scale to [0, 1] first and jitter there (now a brightness
# delta of 0.25 is a quarter of the range), clip back into [0, 1], then round to whole numbers 0～255 as
# `uint8`, exactly what an untouched photo gives. `train_transforms` looks `aug_transforms` up when it runs,
# so it picks up the new version:

# %% [markdown] tags=["lang-zh", "tf"]
# **原因在这里。** `img_to_array` 给出的是取值 0～255 的浮点数，指南直接在它上面做抖动：
#
# - `tf.image` 假定浮点图像的取值范围是 [0, 1]。放在 0～255 的尺度上，`random_brightness(image, 0.25)` 最多只加减 0.25，肉眼根本看不出来；而对比度系数取 2 时，数值会被远远推出 [0, 255]。
# - 图像处理器用 PIL 调整尺寸，PIL 要的是 8 位像素。浮点图像只有两种情况会被接受：全是 0～255 之间的整数，或者取值都在 [0, 1] 之内——这时它先乘以 255 交给 PIL 调整尺寸，再除回去。抖动后 0～255 尺度上的浮点数两种都不是，于是报错。报错信息里提到 [0, 1]，只是因为这是它唯一能转换的浮点范围；可如果先除以 255、传入 [0, 1] 的浮点数，也不行：调整尺寸之后，处理器的数值缩放（rescale）还会再除一次 255，像素值只剩原来的 1/255。指南的训练变换几乎在每张图上都会报错。
#
# **修正办法**只改 `aug_transforms`：先缩放到 [0, 1]，在这个范围里做抖动（此时亮度增量 0.25 相当于四分之一的取值范围），再截断回 [0, 1]，最后四舍五入成 0～255 的整数、存为 `uint8`，和一张没动过的照片完全一样。`train_transforms` 在运行时才去查找 `aug_transforms`，所以会自动用上新版本：

# %% tags=["tf"]
def aug_transforms(image):
    image = tf.keras.utils.img_to_array(image) / 255.0  # fix: tf.image expects floats in [0, 1]
    image = tf.image.random_brightness(image, 0.25)
    image = tf.image.random_contrast(image, 0.5, 2.0)
    image = tf.image.random_saturation(image, 0.75, 1.25)
    image = tf.image.random_hue(image, 0.1)
    image = tf.clip_by_value(image, 0.0, 1.0)  # fix: contrast and saturation can leave [0, 1]
    image = tf.cast(tf.round(image * 255.0), tf.uint8)  # fix: whole numbers 0..255, as in a photo
    image = tf.transpose(image, (2, 0, 1))
    return image


print("train_transforms:", len(train_transforms(raw_batch)["pixel_values"]), "images processed")

# %% [markdown] tags=["lang-en", "tf"]
# The kit's `shtf.make_transforms(image_processor, meta=meta)` returns the same two functions, with this
# fix inside (`shtf.aug_transforms`); given `meta`, it also checks that the processor reduces labels as the
# dataset declares. With the same random seed the jitter draws are the same, so the outputs
# must be identical, value for value. Later notebooks call it so that the fix lives in one place.

# %% [markdown] tags=["lang-zh", "tf"]
# 套件的 `shtf.make_transforms(image_processor, meta=meta)` 返回的是同样的两个函数，内部已经包含这个修正（`shtf.aug_transforms`）；传入 `meta` 时，它还会检查图像处理器是否按数据集声明的约定做标签缩减。随机种子相同时，颜色抖动的随机取值也相同，所以输出应该逐个数值完全一致。后面几篇都调用它，这样修正只需写在一处。

# %% tags=["tf"]
kit_train, kit_val = shtf.make_transforms(image_processor, meta=meta)
tf.keras.utils.set_random_seed(P.seed)
guide_out = train_transforms(raw_batch)
tf.keras.utils.set_random_seed(P.seed)
kit_out = kit_train(raw_batch)
for key in ("pixel_values", "labels"):
    assert np.array_equal(np.stack(guide_out[key]), kit_out[key])
    assert np.array_equal(np.stack(val_transforms(raw_batch)[key]), kit_val(raw_batch)[key])
print("shtf.make_transforms(image_processor) == the guide's transforms (fixed):", True)

# %% tags=["tf"]
sh.show_source(shtf.make_transforms, shtf.aug_transforms)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en", "tf"]
# **About channels-first.** The guide transposes every image to `(3, H, W)` "since computer vision models in 🤗
# Transformers expect channels-first layout" (the English guide's words). The models do take channels-first
# `pixel_values`, but the image processor *outputs* channels-first whatever layout it is given. The transpose
# only changes the *input* layout, which the processor then has to guess from the shape. Both layouts give the
# same `pixel_values`. The kit's `make_transforms` still hands over `(3, H, W)` and says so
# (`input_data_format="channels_first"`), so nothing is guessed: a guess can go wrong for an image only 3
# pixels wide or tall.

# %% [markdown] tags=["lang-zh", "tf"]
# **关于通道在前。** 指南把每张图像都转置成 `(3, H, W)`，理由是“🤗 Transformers中的计算机视觉模型需要以通道优先的布局（channels-first layout）”（指南原文；“通道优先”即本课程说的通道在前）。模型接收的 `pixel_values` 确实是通道在前，但图像处理器不管输入是什么布局，*输出*都是通道在前。转置改变的只是*输入*的布局，处理器还得根据形状去猜哪一维是通道。两种布局得到的 `pixel_values` 完全相同。套件的 `make_transforms` 仍然传入 `(3, H, W)` 的数组，但同时用 `input_data_format="channels_first"` 告诉处理器通道在第一维，省得它去猜——遇到宽或高恰好只有 3 个像素的图像，猜测就可能出错。

# %% tags=["tf"]
# NBVAL_CHECK_OUTPUT
hwc = np.asarray(example["image"])  # (H, W, 3): what PIL gives
chw = hwc.transpose(2, 0, 1)  # (3, H, W): what the guide's transpose gives
out_hwc = image_processor(hwc, return_tensors="np")["pixel_values"]
out_chw = image_processor(chw, input_data_format="channels_first", return_tensors="np")["pixel_values"]
print("input", hwc.shape, "-> pixel_values", out_hwc.shape)
print("input", chw.shape, "-> pixel_values", out_chw.shape)
print("identical:", np.array_equal(out_hwc, out_chw))

# %% [markdown] tags=["lang-en"]
# ## 5. On-the-fly transforms: `set_transform`
#
# `set_transform` does not compute anything now. It stores the function, and every time rows are read
# (`train_ds[0]`, or a batch during training) it runs on just those rows. So no preprocessed copy is
# written to disk, a different image size costs nothing, and, the important part for augmentation, every
# epoch gets *fresh* random jitter. `ds.map(...)` would instead compute everything once and freeze one
# random draw into the cache.
#
# After `set_transform` the dataset returns only what the function returns: `pixel_values` and `labels`.
# That is why we kept `example` and `raw_batch` as PIL images above.

# %% [markdown] tags=["lang-zh"]
# ## 5. 即时变换：`set_transform`
#
# `set_transform` 被调用时并不做任何计算，只是把函数记下来；之后每次读取数据（`train_ds[0]`，或训练时取一个批次），才对读到的那几行执行它。这样既不用往磁盘写一份预处理后的副本，换个图像尺寸也没有额外开销；对数据增强来说最关键的是，每一轮（epoch）拿到的都是*重新抽取*的随机抖动。换成 `ds.map(...)` 则会一次性算完，把某一次的随机结果固化在缓存里。
#
# 设置之后，数据集只返回变换函数的输出：`pixel_values` 和 `labels`。这就是前面要先把 `example` 和 `raw_batch` 以 PIL 图像的形式留下来的原因。

# %%
# 指南原代码 / the guide's code (Chinese edition)
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)

# %%
print(sorted(train_ds[0].keys()))

# %% [markdown] tags=["lang-en"]
# ## 6. What the model will see
#
# Left: the original photo and its annotation (model class ids, coloured with the dataset's palette). Then
# `train_ds[0]` read three times: the same example, jittered differently on each read, resized (squashed,
# the aspect ratio is not kept) to `image_size` and un-normalised for display; last, its `labels`
# (black = 255, ignored). `test_ds` rows never change between reads.

# %% [markdown] tags=["lang-zh"]
# ## 6. 模型实际看到的是什么
#
# 最左边是原始照片和它的标注（转换成模型的类别编号，按数据集的调色板上色）；接着是把 `train_ds[0]` 读三次的结果：同一个样本，每次读取的颜色抖动都不一样，已调整到 `image_size`（直接拉伸，不保持宽高比），为了显示又做了反归一化；最后是它的 `labels`（黑色为 255，即被忽略的像素）。`test_ds` 的数据则每次读取都完全相同。

# %%
import matplotlib.pyplot as plt

mean = np.array(image_processor.image_mean)[:, None, None]
std = np.array(image_processor.image_std)[:, None, None]


def to_display(pixel_values):
    """(3, H, W) normalised -> (H, W, 3) in [0, 1] for imshow."""
    return np.clip(np.asarray(pixel_values) * std + mean, 0, 1).transpose(1, 2, 0)


fig, axes = plt.subplots(1, 6, figsize=(18, 3.2))
axes[0].imshow(example["image"])
axes[0].set_title("original")
axes[1].imshow(sh.colorize(meta.to_model_ids(example["annotation"]), meta=meta))
axes[1].set_title("annotation")
for i, ax in enumerate(axes[2:5], start=1):
    ax.imshow(to_display(train_ds[0]["pixel_values"]))
    ax.set_title(f"train_ds[0], read {i}")
axes[5].imshow(sh.colorize(np.asarray(train_ds[0]["labels"]), meta=meta))
axes[5].set_title("labels (black = 255)")
for ax in axes:
    ax.axis("off")
plt.show()

# %%
sh.show_source(sh.colorize)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# Finally, the check that matters for training: shapes, dtypes and label values, for one row and for a
# batch. `pixel_values` is channels-first `(3, image_size, image_size)` float32; `labels` is
# `(image_size, image_size)` int64, with values among the dataset's classes plus 255. A 4-row batch has
# 4 label maps.

# %% [markdown] tags=["lang-zh"]
# 最后做一次对训练最要紧的检查：单个样本和一个批次的形状、数据类型和标签取值。`pixel_values` 是通道在前的 `(3, image_size, image_size)` float32；`labels` 是 `(image_size, image_size)` 的 int64，取值只能是数据集的类别编号或 255。4 个样本组成的批次必须带 4 张标签图。

# %%
# NBVAL_CHECK_OUTPUT
for name, row in (("train_ds[0]", train_ds[0]), ("test_ds[0] ", test_ds[0])):
    pv, lb = np.asarray(row["pixel_values"]), np.asarray(row["labels"])
    print(f"{name}  pixel_values {pv.shape} {pv.dtype}  labels {lb.shape} {lb.dtype}")
batch = train_ds[:4]
print(f"train_ds[:4]  pixel_values {np.shape(batch['pixel_values'])}  labels {np.shape(batch['labels'])}")
values = set(np.unique(np.asarray(train_ds[0]["labels"])).tolist())
print("label values:", sorted(values))
print(f"all in 0..{meta.num_labels - 1} or {meta.ignore_index}:",
      values <= set(range(meta.num_labels)) | {meta.ignore_index})

# %% [markdown] tags=["lang-en", "pt"]
# ## Summary
#
# - The image processor resizes, rescales and normalises images, and resizes annotations with nearest
#   neighbour; `do_reduce_labels` applies label reduction.
# - The guide's `reduce_labels=True` is silently ignored today; `do_reduce_labels=meta.reduce_labels` is the fix.
# - Masks are resized with nearest neighbour only: bilinear invents classes.
# - The guide's `ColorJitter` + `train_transforms` / `val_transforms` run as written; `shpt.make_transforms(image_processor, fast=False)`
#   gives the same output.
# - `set_transform` applies the transforms on the fly, so every epoch gets fresh jitter.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 小结
#
# - 图像处理器对图像做调整尺寸、数值缩放和归一化，对标注用最近邻插值调整尺寸；`do_reduce_labels` 负责标签缩减。
# - 指南里的 `reduce_labels=True` 现在会被悄悄忽略，改成 `do_reduce_labels=meta.reduce_labels` 即可。
# - 掩码只能用最近邻插值调整尺寸，双线性插值会凭空造出类别。
# - 指南的 `ColorJitter` 以及 `train_transforms` / `val_transforms` 原样就能运行；`shpt.make_transforms(image_processor, fast=False)` 的输出与之完全相同。
# - `set_transform` 在读取时才执行变换，所以每一轮拿到的都是新的随机抖动。

# %% [markdown] tags=["lang-en", "tf"]
# ## Summary
#
# - The image processor resizes, rescales and normalises images, and resizes annotations with nearest
#   neighbour; `do_reduce_labels` applies label reduction.
# - The guide's `reduce_labels=True` is silently ignored today; `do_reduce_labels=meta.reduce_labels` is the fix.
# - Masks are resized with nearest neighbour only: bilinear invents classes.
# - The guide's `tf.image` jitter works on 0～255 floats, which the processor rejects; jittering in [0, 1],
#   clipping and rounding to `uint8` fixes it, and `shtf.make_transforms` gives the same output.
# - The processor outputs channels-first `pixel_values` whatever the input layout; `set_transform` applies
#   the transforms on the fly, so every epoch gets fresh jitter.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 小结
#
# - 图像处理器对图像做调整尺寸、数值缩放和归一化，对标注用最近邻插值调整尺寸；`do_reduce_labels` 负责标签缩减。
# - 指南里的 `reduce_labels=True` 现在会被悄悄忽略，改成 `do_reduce_labels=meta.reduce_labels` 即可。
# - 掩码只能用最近邻插值调整尺寸，双线性插值会凭空造出类别。
# - 指南的 `tf.image` 抖动作用在 0～255 的浮点数上，图像处理器会拒收；改为在 [0, 1] 内抖动、截断后取整成 `uint8` 即可，`shtf.make_transforms` 的输出与之完全相同。
# - 不管输入是什么布局，图像处理器输出的 `pixel_values` 都是通道在前；`set_transform` 在读取时才执行变换，所以每一轮拿到的都是新的随机抖动。

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
from seghelpers.exercises import stage02 as ex

# %% [markdown] tags=["lang-en"]
# ### Exercise 1: label reduction by hand
#
# Write `my_reduce_labels(mask)`: raw ADE values in, model class ids out: 0 ("other") becomes 255, every
# class *k* becomes *k*−1, same shape. The check runs it on a one-pixel mask of 0, on the values 1 and 150,
# on an `int64` mask (where 0 − 1 is −1, not 255), and on the example's annotation, and compares the last
# with what the image processor itself returns with `do_reduce_labels=True`.

# %% [markdown] tags=["lang-zh"]
# ### 练习 1：手写标签缩减
#
# 编写 `my_reduce_labels(mask)`：输入 ADE 的原始标注值，输出模型的类别编号：0（“其他”）变成 255，每个类别 *k* 变成 *k*−1，形状不变。检查会用这几种输入运行你的函数：只含一个值为 0 的像素的掩码；取值 1 和 150；一个 `int64` 掩码（这时 0 − 1 得 −1，而不是 255）；样本的标注——最后这一项还会和图像处理器在 `do_reduce_labels=True` 时的输出比较。

# %% tags=["exercise"]
def my_reduce_labels(mask):
    # 0 -> 255, k -> k - 1
    return ...


# %%
ex.reduce_by_hand.check(my_reduce_labels, example, image_processor)  # ex.reduce_by_hand.hint() / .solution()

# %% [markdown] tags=["lang-en", "pt"]
# ### Exercise 2: one random draw for image and mask
#
# Suppose you add a random horizontal flip to `train_transforms`. Why must the flip use the same random draw
# for the image *and* its annotation, while `ColorJitter` may touch the image alone? Set `flip_answer` to one
# letter:
#
# - (a) Drawing once is faster.
# - (b) The annotation labels pixels by position: a flip moves pixels, colour jitter only changes their values.
# - (c) The image processor flips the annotation again later.
# - (d) Flipping the annotation changes which classes it contains.

# %% [markdown] tags=["lang-zh", "pt"]
# ### 练习 2：图像和掩码共用一次随机结果
#
# 假设你给 `train_transforms` 加上随机水平翻转。为什么翻转必须用同一次随机结果同时作用于图像*和*它的标注，而 `ColorJitter` 只改图像就行？把 `flip_answer` 设为一个字母：
#
# - (a) 只抽一次随机数更快。
# - (b) 标注是按位置给像素打标签的：翻转会移动像素，颜色抖动只改变像素值。
# - (c) 图像处理器之后还会再翻转一次标注。
# - (d) 翻转标注会改变其中包含哪些类别。

# %% tags=["exercise", "pt"]
flip_answer = ...  # "a", "b", "c" or "d"

# %% tags=["pt"]
ex.flip_same_draw.check(flip_answer)  # .hint() / .solution()

# %% [markdown] tags=["lang-en", "tf"]
# ### Exercise 2: what the guide's TF augmentation got wrong
#
# Section 4 ran the guide's `aug_transforms` and the image processor rejected practically every image. What
# went wrong? Set `tf_aug_answer` to one letter:
#
# - (a) It flips the image but not the annotation.
# - (b) It jitters floats on a 0～255 scale, leaving values that are neither whole numbers nor in [0, 1], which
#   the processor can neither pass on as pixels nor rescale.
# - (c) It forgets to reduce the labels.
# - (d) It gives channels-last images.

# %% [markdown] tags=["lang-zh", "tf"]
# ### 练习 2：指南的 TF 数据增强错在哪里
#
# 第 4 小节运行了指南的 `aug_transforms`，图像处理器几乎拒收了每一张图像。问题出在哪里？把 `tf_aug_answer` 设为一个字母：
#
# - (a) 它只翻转了图像，没有翻转标注。
# - (b) 它在 0～255 尺度的浮点数上做抖动，得到的值既不是整数，也不在 [0, 1] 之内：图像处理器既不能把它们直接当像素用，也没法做数值缩放。
# - (c) 它忘了做标签缩减。
# - (d) 它输出的是通道在后的图像。

# %% tags=["exercise", "tf"]
tf_aug_answer = ...  # "a", "b", "c" or "d"

# %% tags=["tf"]
ex.guide_tf_augmentation.check(tf_aug_answer)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 3: a random flip for image and annotation
#
# Write `my_random_flip(image, annotation, rng)`: with probability ½ return both mirrored left-right, otherwise
# both unchanged, using the `rng` (a `np.random.Generator`) it is given. The check calls it 20 times on a
# 4×6 test pair and on the example, and checks that image and annotation are always flipped together and that
# about half the calls flip. Once it passes, it could go into `train_transforms`, per example, before the jitter.

# %% [markdown] tags=["lang-zh"]
# ### 练习 3：对图像和标注做随机翻转
#
# 编写 `my_random_flip(image, annotation, rng)`：以 ½ 的概率把两者都左右镜像翻转后返回，否则原样返回；随机数用传进来的 `rng`（一个 `np.random.Generator`）。检查会在一对 4×6 的测试图和样本上各调用 20 次，确认图像和标注总是一起翻转，而且大约一半的调用发生了翻转。通过之后，就可以把它放进 `train_transforms`，对每个样本调用，放在颜色抖动之前。

# %% tags=["exercise"]
def my_random_flip(image, annotation, rng):
    # one random draw for both
    return ...


# %%
ex.random_flip.check(my_random_flip, example)  # .hint() / .solution()

# %% [markdown] tags=["lang-en", "pt"]
# ### More to explore
#
# 1. Make the jitter extreme: in the guide's cell of section 4 write `ColorJitter(brightness=0.9, contrast=0.9,
#    saturation=0.9, hue=0.5)`, then run sections 4 to 6 again. Would you still recognise the classes? Would a model?
# 2. Load transformers' own fast processor, `fast_processor = AutoImageProcessor.from_pretrained(checkpoint,
#    do_reduce_labels=meta.reduce_labels, use_fast=True)`, and call it directly:
#    `fast_processor(raw_batch["image"], raw_batch["annotation"], return_tensors="pt")["labels"].shape`. Compare
#    with `image_processor` on the same rows. How many label maps do you get for 4 images, and what would
#    training on them do? (This is not the kit's `fast=True`, which gives the slow processor's labels.)
# 3. Set `image_size = 32` in the parameters cell and run the notebook, then `image_size = 128`. Count the
#    pixels of the example's smallest class in `labels` each time. What happens to small objects when images
#    are shrunk for training?

# %% [markdown] tags=["lang-zh", "pt"]
# ### 更多探索
#
# 1. 把颜色抖动调到极端：在第 4 小节指南原代码的单元格里改成 `ColorJitter(brightness=0.9, contrast=0.9, saturation=0.9, hue=0.5)`，再重新运行第 4～6 小节。你还认得出各个类别吗？模型呢？
# 2. 加载 transformers 自己的快速处理器 `fast_processor = AutoImageProcessor.from_pretrained(checkpoint, do_reduce_labels=meta.reduce_labels, use_fast=True)`，直接调用它：`fast_processor(raw_batch["image"], raw_batch["annotation"], return_tensors="pt")["labels"].shape`，再和 `image_processor` 在同样样本上的结果比较。4 张图像得到几张标签图？拿它去训练会发生什么？（这不是套件的 `fast=True`，后者给出的标签与慢速处理器相同。）
# 3. 在参数单元格里设置 `image_size = 32` 后运行本笔记本，再改成 `image_size = 128`。分别数一数样本中面积最小的那个类别在 `labels` 里还剩多少像素。为了训练把图像缩小时，小物体会怎样？

# %% [markdown] tags=["lang-en", "tf"]
# ### More to explore
#
# 1. Make the jitter extreme: `train_ds.set_transform(shtf.make_transforms(image_processor, jitter=dict(brightness=0.6,
#    contrast=(0.2, 3.0), saturation=(0.2, 3.0), hue=0.5))[0])`, then run section 6 again. Would you still
#    recognise the classes? Would a model?
# 2. Set `image_size = 32` in the parameters cell and run the notebook, then `image_size = 128`. Count the
#    pixels of the example's smallest class in `labels` each time. What happens to small objects when images
#    are shrunk for training?

# %% [markdown] tags=["lang-zh", "tf"]
# ### 更多探索
#
# 1. 把颜色抖动调到极端：`train_ds.set_transform(shtf.make_transforms(image_processor, jitter=dict(brightness=0.6, contrast=(0.2, 3.0), saturation=(0.2, 3.0), hue=0.5))[0])`，再重新运行第 6 小节。你还认得出各个类别吗？模型呢？
# 2. 在参数单元格里设置 `image_size = 32` 后运行本笔记本，再改成 `image_size = 128`。分别数一数样本中面积最小的那个类别在 `labels` 里还剩多少像素。为了训练把图像缩小时，小物体会怎样？

# %% [markdown] tags=["lang-en", "pt", "collapsed"]
# ## Under the hood
#
# - `FastSegformerProcessor` (in `seghelpers/fastproc.py`) does the slow processor's work in fewer passes: the
#   same PIL resize, then one fused float32 `x * (rescale / std) - mean / std` per channel written straight into
#   the batch array; masks are resized with PIL nearest first, then reduced through a 256-entry lookup table,
#   so the labels are identical. Inputs it does not cover (non-RGB images, channels-first arrays, per-call
#   overrides) go to the wrapped slow processor.
# - Why not transformers' `use_fast=True` processor: in transformers 4.57.6 it returns one label map for a
#   batch of several (More to explore, item 2), and its antialiased resize moves pixel values by up to about
#   0.02.
# - `make_transforms(..., seed=s)` draws each image's jitter from a seed made of `s`, the epoch and the image's
#   bytes, under a forked torch RNG. The global random stream (dropout, shuffling) is untouched, and a training
#   run resumed from a checkpoint sees the same jitter as an uninterrupted one.
# - **The kit's fast path.** By default `make_transforms` takes the guide's path, the processor as it is (as
#   `shpt.predict` does). Only with `fast=True` does it run the processor's arithmetic through the
#   `FastSegformerProcessor` above (notebook 04 passes `fast=P.fast`, so there the parameter `fast = True`
#   switches it on). The labels are identical and the pixel values agree within float32 rounding; it is only
#   faster. The cell below checks it.

# %% [markdown] tags=["lang-zh", "pt", "collapsed"]
# ## 实现细节（Under the hood）
#
# - `FastSegformerProcessor`（在 `seghelpers/fastproc.py` 里）用更少的遍历完成慢速处理器的工作：同样用 PIL 调整尺寸，然后对每个通道做一次融合的 float32 运算 `x * (rescale / std) - mean / std`，结果直接写进批次数组；掩码先用 PIL 最近邻调整尺寸，再查一张 256 项的表完成标签缩减，所以标签完全相同。它处理不了的输入（非 RGB 图像、通道在前的数组、调用时临时覆盖的参数）会交给被包装的慢速处理器。
# - 为什么不用 transformers 的 `use_fast=True` 处理器：在 transformers 4.57.6 中，它处理一个批次的多张分割图时只返回一张标签图（见“更多探索”第 2 题），而且它带抗锯齿的尺寸调整会让像素值偏差最多约 0.02。
# - `make_transforms(..., seed=s)` 用 `s`、当前轮次和图像字节共同生成每张图的抖动种子，并在分叉出来的 torch 随机数生成器里抽样。全局随机序列（dropout、打乱顺序）不受影响，从检查点恢复的训练和没中断的训练看到的抖动也完全一样。
# - **套件的快速路径。** `make_transforms` 默认走指南的路径，直接用图像处理器本身（`shpt.predict` 也是如此）；只有传入 `fast=True`，它才把图像处理器的计算交给上面的 `FastSegformerProcessor`。第 04 篇传的是 `fast=P.fast`，所以只有参数 `fast = True` 时才会这样用。标签完全相同，像素值只差 float32 的舍入误差，区别仅在于更快。下面的单元格验证这一点。

# %% tags=["pt"]
# NBVAL_CHECK_OUTPUT
fast_train, fast_val = shpt.make_transforms(image_processor, fast=True, meta=meta)
slow, fast = val_transforms(raw_batch), fast_val(raw_batch)
print("fast=True, labels identical:", np.array_equal(np.stack(slow["labels"]), fast["labels"].numpy()))
print("fast=True, pixel_values within 1e-5:", np.allclose(np.stack(slow["pixel_values"]), fast["pixel_values"].numpy(), rtol=0, atol=1e-5))

# %% [markdown] tags=["lang-en", "tf", "collapsed"]
# ## Under the hood
#
# - `seghelpers.tf` also loads triton before TensorFlow when both are installed: with TF 2.21 and triton 3.8,
#   importing triton *after* TensorFlow crashes the process, and transformers imports triton through torch.
# - `shtf.aug_transforms(image, jitter, seed)` is the fixed `aug_transforms` above, taking any image
#   `sh.as_rgb` accepts; `shtf.make_transforms(..., augment=False)` skips the jitter in `train_transforms`.
# - The guide's `val_transforms` works because `img_to_array` gives whole numbers 0～255 as floats, which
#   the processor accepts and resizes exactly like `uint8`: the outputs are identical.

# %% [markdown] tags=["lang-zh", "tf", "collapsed"]
# ## 实现细节（Under the hood）
#
# - 同时装有 triton 和 TensorFlow 时，`seghelpers.tf` 会先于 TensorFlow 加载 triton：在 TF 2.21 和 triton 3.8 下，先导入 TensorFlow、后导入 triton 会让进程崩溃，而 transformers 会经由 torch 导入 triton。
# - `shtf.aug_transforms(image, jitter, seed)` 就是上面修正后的 `aug_transforms`，可以接收 `sh.as_rgb` 支持的任何图像；`shtf.make_transforms(..., augment=False)` 会让 `train_transforms` 跳过抖动。
# - 指南的 `val_transforms` 之所以没问题，是因为 `img_to_array` 给出的是以浮点数存储的 0～255 整数，处理器可以接受，调整尺寸的结果和 `uint8` 完全相同。
