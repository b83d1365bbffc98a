# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en", "pt"]
# # 02 · Preprocessing: image processor, reduced labels and augmentation (PyTorch)
#
# A model does not eat PIL images. This notebook turns each (image, annotation) pair into the two
# tensors SegFormer trains on, `pixel_values` and `labels`, and adds colour augmentation for training.
#
# **You will learn to**
# - load the image processor with `do_reduce_labels=True`, and see why the guide's `reduce_labels=True` does nothing;
# - follow one annotation through the processor: 0 → 255 (ignored), *k* → *k*−1, resized with nearest neighbour;
# - add the guide's `ColorJitter` augmentation to the training set only;
# - attach on-the-fly transforms with `set_transform` and check the shapes and values the model will get.

# %% [markdown] tags=["lang-zh", "pt"]
# # 02 · 预处理：图像处理器、标签减一与数据增强（PyTorch）
#
# 模型不能直接吃 PIL 图像。本节把每一对（图像，标注）变成 SegFormer 训练时真正用到的两个张量：`pixel_values` 和
# `labels`，并只给训练集加上颜色方面的数据增强。
#
# **本节目标**
# - 以 `do_reduce_labels=True` 加载图像处理器，并弄清指南里的 `reduce_labels=True` 为什么不起作用；
# - 跟踪一张标注经过图像处理器的全过程：0 → 255（忽略），*k* → *k*−1，并用最近邻插值缩放；
# - 只在训练集上加入指南中的 `ColorJitter` 增强；
# - 用 `set_transform` 挂上即时执行的变换，并检查模型最终拿到的张量形状和取值。

# %% [markdown] tags=["lang-en", "tf"]
# # 02 · Preprocessing: image processor, reduced labels and augmentation (TensorFlow)
#
# A model does not eat PIL images. This notebook turns each (image, annotation) pair into the two
# arrays SegFormer trains on, `pixel_values` and `labels`, and adds colour augmentation for training.
#
# **You will learn to**
# - load the image processor with `do_reduce_labels=True`, and see why the guide's `reduce_labels=True` does nothing;
# - follow one annotation through the processor: 0 → 255 (ignored), *k* → *k*−1, resized with nearest neighbour;
# - augment with `tf.image`, and see what goes wrong in the guide's TensorFlow augmentation and how the kit fixes it;
# - attach on-the-fly transforms with `set_transform` and check the shapes and values the model will get.

# %% [markdown] tags=["lang-zh", "tf"]
# # 02 · 预处理：图像处理器、标签减一与数据增强（TensorFlow）
#
# 模型不能直接吃 PIL 图像。本节把每一对（图像，标注）变成 SegFormer 训练时真正用到的两个数组：`pixel_values` 和
# `labels`，并只给训练集加上颜色方面的数据增强。
#
# **本节目标**
# - 以 `do_reduce_labels=True` 加载图像处理器，并弄清指南里的 `reduce_labels=True` 为什么不起作用；
# - 跟踪一张标注经过图像处理器的全过程：0 → 255（忽略），*k* → *k*−1，并用最近邻插值缩放；
# - 用 `tf.image` 做增强，看清指南里 TensorFlow 版增强代码错在哪里、kit 是怎么修的；
# - 用 `set_transform` 挂上即时执行的变换，并检查模型最终拿到的数组形状和取值。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The next cell fills the `None` parameters from the profile, checks every value and resolves the
# checkpoint, before anything heavy runs: a typo such as `-p image_size 500`, or a hub id that is not
# cached while offline, stops here with the fix in the message. The image processor comes from the
# checkpoint, so this notebook needs one even though it trains nothing.

# %% [markdown] tags=["lang-zh"]
# 下一个单元格用配置档补全取值为 `None` 的参数，逐项校验，并解析检查点，这些都在任何耗时操作之前完成：
# 像 `-p image_size 500` 这样的笔误，或者离线时本地缓存里没有的 Hub 模型 id，都会在这里直接报错，
# 报错信息里写明了怎么改。图像处理器的配置跟着检查点走，所以本节虽然不训练，也要先定好检查点。

# %%
{{snippet:validate}}
CHECKPOINT = sh.resolve_checkpoint(P.checkpoint, P.image_size, P.seed)
print("checkpoint ->", CHECKPOINT)

# %% [markdown] tags=["lang-en", "pt"]
# ## 1. Data and framework
#
# The same subset and 80/20 split as in notebook 01. `seghelpers.pt` holds the PyTorch side of the kit
# (transforms, metrics, prediction); importing it imports torch. Seeding torch makes the random colour
# jitter below repeat from run to run.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 1. 数据与框架
#
# 数据子集和 80/20 的划分都和 01 节相同。`seghelpers.pt` 是 kit 的 PyTorch 部分（变换、指标、预测），导入它会顺带导入 torch。
# 固定 torch 的随机种子后，下面的随机颜色抖动每次运行都一样，方便对照。

# %% [markdown] tags=["lang-en", "tf"]
# ## 1. Data and framework
#
# The same subset and 80/20 split as in notebook 01. Import `seghelpers.tf` *before* TensorFlow: it
# makes `tf.keras` mean Keras 2 (the `tf-keras` package, which transformers' TF models are built on; since
# TF 2.16 it would otherwise be Keras 3) and avoids a crash when triton is imported after TensorFlow.
# `set_random_seed` makes the random colour jitter below repeat from run to run.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 1. 数据与框架
#
# 数据子集和 80/20 的划分都和 01 节相同。`seghelpers.tf` 一定要在 TensorFlow *之前* 导入：它让 `tf.keras` 指向
# Keras 2（即 `tf-keras` 包，transformers 的 TF 模型是基于它写的；TF 2.16 起默认会变成 Keras 3），同时避开
# “先导入 TensorFlow、后导入 triton”时的崩溃。`set_random_seed` 让下面的随机颜色抖动每次运行都一样，方便对照。

# %% tags=["pt"]
import torch

import seghelpers.pt as shpt

torch.manual_seed(P.seed)  # repeatable ColorJitter draws
print("torch", torch.__version__)

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow: selects Keras 2 (tf-keras)
import tensorflow as tf

tf.keras.utils.set_random_seed(P.seed)  # repeatable tf.image draws
print("tensorflow", tf.__version__, "| tf.keras is", tf.keras.optimizers.Adam.__module__.split(".")[0])  # tf_keras = Keras 2

# %%
import numpy as np

ds = sh.load_scene_parse(P.dataset, P.split)
splits = sh.split_train_test(ds, test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
example = train_ds[0]  # kept as PIL images: after set_transform the dataset returns tensors only
print(f"train: {len(train_ds)}, test: {len(test_ds)}; example image {example['image'].size[0]}x{example['image'].size[1]}")

# %% [markdown] tags=["lang-en"]
# ## 2. The image processor
#
# `AutoImageProcessor` reads the checkpoint's `preprocessor_config.json` and builds a
# `SegformerImageProcessor`. For every image it resizes to a fixed size, rescales 0..255 to 0..1 and
# normalises with the ImageNet mean and standard deviation; for every annotation it resizes (with nearest
# neighbour, see section 3) and, with `do_reduce_labels=True`, applies the label convention of
# notebook 01: raw 0 ("other") → 255, the ignore index; raw *k* → *k*−1.
#
# `sh.load_image_processor(checkpoint)` is `AutoImageProcessor.from_pretrained(checkpoint,
# do_reduce_labels=True)`, with two deliberate choices:
#
# - **the slow (PIL-based) processor.** transformers 4.57.6 also offers a "fast" one (`use_fast=True`),
#   but for a *batch* of segmentation maps it returns a single label map (shape `(1, H, W)` instead of
#   `(N, H, W)`), and its antialiased resize shifts pixel values slightly. The kit's tests watch both bugs.
# - **`size` from the `image_size` parameter.** The checkpoint's own processor config has a size too
#   (512×512 for `nvidia/mit-b0`); passing `image_size` makes the parameter count. In the `guide` profile
#   both are 512, as in the guide.

# %% [markdown] tags=["lang-zh"]
# ## 2. 图像处理器
#
# `AutoImageProcessor` 读取检查点里的 `preprocessor_config.json`，构造出一个 `SegformerImageProcessor`。
# 对图像，它缩放到固定尺寸，把 0..255 缩放到 0..1，再用 ImageNet 的均值和标准差做归一化；对标注，它同样缩放
# （用最近邻插值，见第 3 节），并在 `do_reduce_labels=True` 时套用 01 节讲过的标签约定：原始 0（“其他”）→ 255，
# 即忽略索引；原始 *k* → *k*−1。
#
# `sh.load_image_processor(checkpoint)` 就是 `AutoImageProcessor.from_pretrained(checkpoint, do_reduce_labels=True)`，
# 外加两个有意为之的选择：
#
# - **用慢速（基于 PIL 的）处理器。** transformers 4.57.6 另有一个“快速”版（`use_fast=True`），但它处理*一批*
#   分割图时只返回一张标签图（形状是 `(1, H, W)` 而不是 `(N, H, W)`），而且它带抗锯齿的缩放会让像素值略有偏差。
#   kit 的测试盯着这两个问题，哪天升级修好了会第一时间发现。
# - **`size` 取自参数 `image_size`。** 检查点自带的处理器配置里也有尺寸（`nvidia/mit-b0` 是 512×512）；
#   显式传入 `image_size`，这个参数才真正生效。`guide` 配置下两者都是 512，与指南一致。

# %%
image_processor = sh.load_image_processor(CHECKPOINT, image_size=P.image_size)

# %%
# NBVAL_CHECK_OUTPUT
print(type(image_processor).__name__)
print("do_reduce_labels:", image_processor.do_reduce_labels, "| size:", image_processor.size)
print("image_mean:", [round(m, 4) for m in image_processor.image_mean])
print("image_std: ", [round(s, 4) for s in image_processor.image_std])

# %% [markdown] tags=["lang-en"]
# **The guide's pitfall: `reduce_labels=True`.** The guide loads the processor with
# `AutoImageProcessor.from_pretrained(checkpoint, reduce_labels=True)`. The keyword was renamed
# `do_reduce_labels`; `from_pretrained` only applies keywords that name an attribute of the processor, so
# the old one is dropped *without a word*. The processor then keeps raw 0 as class 0 ("wall") and shifts
# every other class by one. The model learns shifted labels, and usually nothing crashes: only an image
# that contains raw class 150 ("flag") hits an out-of-range label. The next cell shows it offline: `from_dict` is the step `from_pretrained` runs once it has read the config
# (`nvidia/mit-b0`'s config says `do_reduce_labels: false`).

# %% [markdown] tags=["lang-zh"]
# **指南里的坑：`reduce_labels=True`。** 指南加载处理器时写的是
# `AutoImageProcessor.from_pretrained(checkpoint, reduce_labels=True)`。这个参数已经改名为 `do_reduce_labels`，
# 而 `from_pretrained` 只接收与处理器属性同名的参数，旧参数会被*悄无声息地*丢掉。结果处理器把原始 0 当成 0 号类别
# （“wall”），其余类别全部错位一格。模型学到的是错位的标签，而且通常不会报错：只有图里恰好出现原始编号 150（“flag”）时，
# 才会碰上越界的标签。下一个单元格离线复现了这个问题：
# `from_dict` 正是 `from_pretrained` 读完配置之后执行的那一步（`nvidia/mit-b0` 的配置里写的是 `do_reduce_labels: false`）。

# %%
# NBVAL_CHECK_OUTPUT
from transformers import SegformerImageProcessor

mit_b0_config = {"do_reduce_labels": False}  # what nvidia/mit-b0's preprocessor_config.json says
guide = SegformerImageProcessor.from_dict(mit_b0_config, reduce_labels=True)
fixed = SegformerImageProcessor.from_dict(mit_b0_config, do_reduce_labels=True)
print("reduce_labels=True    -> do_reduce_labels =", guide.do_reduce_labels)
print("do_reduce_labels=True -> do_reduce_labels =", fixed.do_reduce_labels)

# %% [markdown] tags=["lang-en"]
# ## 3. One example through the processor
#
# Call the processor on one image and its annotation and compare the values before and after. Raw 0
# becomes 255 and every class id drops by one. The label map also shrinks to `image_size`, so a class that
# covered only a few pixels can disappear.

# %% [markdown] tags=["lang-zh"]
# ## 3. 让一个样本走一遍处理器
#
# 把一张图像和它的标注交给图像处理器，对比处理前后的取值：原始 0 变成 255，每个类别编号都减了一。
# 标签图还被缩放到了 `image_size`，所以只占几个像素的类别有可能就此消失。

# %%
# NBVAL_CHECK_OUTPUT
raw = np.array(example["annotation"])
encoded = image_processor(example["image"], example["annotation"], return_tensors="np")
print("raw annotation  ", raw.shape, sorted(np.unique(raw).tolist()))
print("reduce_labels   ", raw.shape, sorted(np.unique(sh.reduce_labels(raw)).tolist()))
print("processor labels", encoded["labels"].shape[1:], sorted(np.unique(encoded["labels"]).tolist()))
print("pixel_values    ", encoded["pixel_values"].shape[1:], encoded["pixel_values"].dtype)

# %% [markdown] tags=["lang-en"]
# **Resize masks with nearest neighbour, never bilinear.** Bilinear interpolation averages neighbouring
# pixels. That is right for colours, but a label is a class id, and the average of two ids is some
# unrelated third class. The processor resizes images bilinearly and segmentation maps with nearest
# neighbour; do the same in any resizing, cropping or rotation you add yourself. Below, a mask that is half
# "wall" (raw 1) and half "person" (raw 13) is shrunk both ways: bilinear invents a column of "road"
# (raw 7) that exists nowhere in the picture.

# %% [markdown] tags=["lang-zh"]
# **缩放掩码只能用最近邻插值，绝不能用双线性插值。** 双线性插值是对相邻像素取加权平均，对颜色来说没问题；
# 但标签是类别编号，两个编号的平均值会变成一个毫不相干的第三类。图像处理器对图像用双线性插值，对分割图用最近邻插值；
# 你自己加缩放、裁剪、旋转之类的操作时也要照此处理。下面把一张一半是“wall”（原始 1）、一半是“person”（原始 13）的掩码
# 分别用两种方式缩小：双线性插值凭空造出了一列“road”（原始 7），而图里根本没有路。

# %%
# NBVAL_CHECK_OUTPUT
from PIL import Image

mask = np.zeros((8, 8), dtype=np.uint8)
mask[:, :4], mask[:, 4:] = 1, 13  # raw ids: wall | person
for resample in (Image.Resampling.BILINEAR, Image.Resampling.NEAREST):
    small = np.array(Image.fromarray(mask).resize((5, 5), resample=resample))
    names = [sh.id2label[int(v) - 1] for v in np.unique(small)]
    print(f"{resample.name:<8} first row {small[0].tolist()} -> {names}")

# %% [markdown] tags=["lang-en", "pt"]
# ## 4. Augmentation (training set only)
#
# Fifty photos are few; a model sees them again and again and starts memorising them. Data augmentation
# shows it a slightly different version each time. The guide uses torchvision's
# `ColorJitter(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.1)`: it changes colours only, never
# geometry, so the annotation stays valid untouched. (A flip or crop would have to be applied to image
# *and* mask together.)
#
# `shpt.make_transforms(image_processor)` returns the guide's two functions:
# - `train_transforms(batch)`: jitter each image, then run the processor on images + annotations;
# - `val_transforms(batch)`: the processor only. The test set is never augmented: evaluation must measure
#   the model on the data as it is, and the same way every time.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 4. 数据增强（只用于训练集）
#
# 50 张照片实在不多，模型反复看同样的图，很快就会把它们背下来。数据增强让模型每次看到的都是略有不同的版本。
# 指南用的是 torchvision 的 `ColorJitter(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.1)`：
# 它只改颜色、不动几何形状，所以标注不用做任何改动依然有效。（翻转、裁剪这类增强则必须对图像*和*掩码同步施加。）
#
# `shpt.make_transforms(image_processor)` 返回指南里的两个函数：
# - `train_transforms(batch)`：先对每张图像做颜色抖动，再把图像和标注一起交给图像处理器；
# - `val_transforms(batch)`：只过图像处理器。测试集永远不做增强：评估要衡量的是模型在原始数据上的表现，而且每次的口径都得一致。

# %% tags=["pt"]
print(shpt.JITTER)
train_transforms, val_transforms = shpt.make_transforms(image_processor)

# %% [markdown] tags=["lang-en", "tf"]
# ## 4. Augmentation (training set only)
#
# Fifty photos are few; a model sees them again and again and starts memorising them. Data augmentation
# shows it a slightly different version each time. The guide's TensorFlow code changes colours with
# `tf.image`: random brightness, contrast (0.5–2.0), saturation (0.75–1.25) and hue (±0.1). Colour changes
# leave the annotation valid untouched; a flip or crop would have to be applied to image *and* mask together.
#
# **What is wrong with the guide's version.** It turns the PIL image into a float array with values
# 0..255 and jitters that. Two things go wrong:
# - `tf.image` expects floats in [0, 1]. On a 0..255 scale, `random_brightness(image, 0.25)` adds at most
#   ±0.25, which nobody could see, while a contrast factor of 2 throws values far outside [0, 255].
# - The image processor resizes with PIL, which needs 8-bit pixels. It accepts a float image only if it
#   holds whole numbers in 0..255, or values in [0, 1] (which it scales up by 255). Jittered 0..255 floats
#   are neither, so it raises a `ValueError`, even after the invisible brightness change. The guide's
#   training transform fails on practically every image.
#
# The next cell shows both on our example: the largest brightness shift the guide can draw (+0.25) and
# its strongest contrast (×2).

# %% [markdown] tags=["lang-zh", "tf"]
# ## 4. 数据增强（只用于训练集）
#
# 50 张照片实在不多，模型反复看同样的图，很快就会把它们背下来。数据增强让模型每次看到的都是略有不同的版本。
# 指南的 TensorFlow 代码用 `tf.image` 改颜色：随机亮度、对比度（0.5–2.0）、饱和度（0.75–1.25）和色调（±0.1）。
# 只改颜色的话，标注不用做任何改动依然有效；翻转、裁剪这类增强则必须对图像*和*掩码同步施加。
#
# **指南的写法错在哪里。** 它先把 PIL 图像转成取值 0..255 的浮点数组，再在上面做抖动。这里有两个问题：
# - `tf.image` 默认浮点图像的取值在 [0, 1]。放在 0..255 的尺度上，`random_brightness(image, 0.25)` 最多只加减 0.25，
#   肉眼根本看不出来；而对比度系数取 2 时，数值会被远远推出 [0, 255]。
# - 图像处理器用 PIL 做缩放，PIL 要的是 8 位像素。浮点图像只有两种情况会被接受：全是 0..255 之间的整数，
#   或者取值都在 [0, 1] 之内（它会先乘以 255）。抖动过的 0..255 浮点数两头都不沾，于是直接抛出 `ValueError`，
#   哪怕只是那点看不出来的亮度变化也不行。指南的训练变换几乎在每张图上都会报错。
#
# 下一个单元格在我们的样本上复现这两个问题：亮度取指南可能抽到的最大偏移（+0.25），对比度取最大系数（×2）。

# %% tags=["tf"]
x = tf.keras.utils.img_to_array(example["image"])  # the guide's input: float32, 0..255
guide_jitter = {"brightness +0.25": tf.image.adjust_brightness(x, 0.25),
                "contrast x2": tf.image.adjust_contrast(x, 2.0)}
for name, y in guide_jitter.items():
    print(f"{name}: values {float(tf.reduce_min(y)):.2f} .. {float(tf.reduce_max(y)):.2f}, "
          f"largest change {float(tf.reduce_max(tf.abs(y - x))):.2f}")
    try:
        image_processor(tf.transpose(y, (2, 0, 1)).numpy(), example["annotation"])  # channels-first, as the guide
        print("    image processor: accepted")
    except ValueError as err:
        print("    image processor: ValueError:", str(err).split(", got")[0])

# %% [markdown] tags=["lang-en", "tf"]
# **The fix** (`shtf.aug_transforms`): scale to [0, 1] first, jitter there (now a brightness delta of
# 0.25 means a quarter of the range), clip back into [0, 1], then round to `uint8` 0..255. The processor
# gets exactly what it gets from an untouched photo. Floats in [0, 1] would not do: the processor would
# divide by 255 a second time.
#
# **Why channels-first, `(3, H, W)`?** Transformers' vision models take `pixel_values` channels-first,
# as in PyTorch; the TF SegFormer transposes to channels-last (NHWC) inside the model, because TF
# convolutions on CPU only support that layout. Given `(H, W, 3)` the processor would have to *guess* which
# axis holds the channels, and a guess can go wrong for odd sizes (an image only 3 pixels tall). The kit hands
# over `(3, H, W)` and says so (`input_data_format="channels_first"`), so nothing is guessed.
#
# `shtf.make_transforms(image_processor)` returns the guide's two functions: `train_transforms` (jitter,
# then the processor) and `val_transforms` (channels-first `uint8`, then the processor). The test set is
# never augmented: evaluation must measure the model on the data as it is, and the same way every time.

# %% [markdown] tags=["lang-zh", "tf"]
# **修复方法**（`shtf.aug_transforms`）：先缩放到 [0, 1]，在这个范围里做抖动（此时亮度增量 0.25 相当于四分之一的取值范围），
# 再截断回 [0, 1]，最后四舍五入成 0..255 的 `uint8`。这样图像处理器拿到的数据，格式和一张没动过的照片完全一样。
# 不能直接交 [0, 1] 的浮点数：处理器会再除一次 255。
#
# **为什么要通道优先的 `(3, H, W)`？** Transformers 的视觉模型都按 PyTorch 的习惯，以通道优先布局接收 `pixel_values`；
# TF 版 SegFormer 会在模型内部再转成通道在后（NHWC），因为 TF 的卷积在 CPU 上只支持这种布局。如果传入 `(H, W, 3)`，
# 处理器就得*猜*哪一维是通道，碰上特殊尺寸（比如高只有 3 个像素的图）就可能猜错。kit 直接交给它 `(3, H, W)`，
# 并明确告诉它（`input_data_format="channels_first"`），不留任何猜测的余地。
#
# `shtf.make_transforms(image_processor)` 返回指南里的两个函数：`train_transforms`（先抖动，再过图像处理器）和
# `val_transforms`（转成通道优先的 `uint8`，再过图像处理器）。测试集永远不做增强：评估要衡量的是模型在原始数据上的表现，
# 而且每次的口径都得一致。

# %% tags=["tf"]
augmented = shtf.aug_transforms(example["image"])
print("aug_transforms ->", augmented.shape, augmented.dtype, "values", augmented.min(), "..", augmented.max())
print(shtf.JITTER)
train_transforms, val_transforms = shtf.make_transforms(image_processor)

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
# That is why we kept `example` as PIL images above.

# %% [markdown] tags=["lang-zh"]
# ## 5. 即时变换：`set_transform`
#
# `set_transform` 调用时什么都不算，只是把函数记下来；之后每次读取数据（`train_ds[0]`，或训练时取一个 batch），
# 才对读到的那几行执行它。这样既不用往磁盘写一份预处理后的副本，换个图像尺寸也没有额外开销；对数据增强来说最关键的是，
# 每一轮（epoch）拿到的都是*重新抽取*的随机抖动。换成 `ds.map(...)` 则会一次性算完，把某一次的随机结果固化在缓存里。
#
# 设置之后，数据集只返回变换函数的输出：`pixel_values` 和 `labels`。这就是前面要先把 `example` 以 PIL 图像的形式留下来的原因。

# %%
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)
print(sorted(train_ds[0].keys()))

# %% [markdown] tags=["lang-en"]
# ## 6. What the model will see
#
# Left: the original photo and its annotation. Then `train_ds[0]` read three times: the same example,
# jittered differently on each read, resized (squashed, the aspect ratio is not kept) to `image_size` and
# un-normalised for display; last, its `labels` (black = 255, ignored). `test_ds` rows never change between
# reads.

# %% [markdown] tags=["lang-zh"]
# ## 6. 模型实际看到的是什么
#
# 最左边是原始照片和它的标注；接着是把 `train_ds[0]` 读三次的结果：同一个样本，每次读取的颜色抖动都不一样，
# 已缩放到 `image_size`（直接拉伸，不保持宽高比），为了显示又做了反归一化；最后是它的 `labels`（黑色为 255，即被忽略的像素）。
# `test_ds` 的数据则每次读取都完全相同。

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
axes[1].imshow(sh.colorize_annotation(np.array(example["annotation"])))
axes[1].set_title("annotation")
for i, ax in enumerate(axes[2:5], start=1):
    ax.imshow(to_display(train_ds[0]["pixel_values"]))
    ax.set_title(f"train_ds[0], read {i}")
axes[5].imshow(sh.colorize(np.asarray(train_ds[0]["labels"])))
axes[5].set_title("labels (black = 255)")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown] tags=["lang-en"]
# Finally, the check that matters for training: shapes, dtypes and label values, for one row and for a
# batch. `pixel_values` is channels-first `(3, image_size, image_size)` float32; `labels` is
# `(image_size, image_size)` int64, with values among the 150 classes (0..149) plus 255. A 4-row batch
# has 4 label maps, the property the fast processor currently breaks.

# %% [markdown] tags=["lang-zh"]
# 最后做一次对训练最要紧的检查：单个样本和一个 batch 的形状、数据类型和标签取值。`pixel_values` 是通道优先的
# `(3, image_size, image_size)` float32；`labels` 是 `(image_size, image_size)` 的 int64，取值只能是 150 个类别
# （0..149）或 255。4 个样本组成的 batch 必须带 4 张标签图——快速版处理器眼下恰恰在这一点上出错。

# %%
# NBVAL_CHECK_OUTPUT
for name, row in (("train_ds[0]", train_ds[0]), ("test_ds[0] ", test_ds[0])):
    pv, lb = row["pixel_values"], row["labels"]
    print(f"{name}  pixel_values {tuple(pv.shape)} {pv.dtype}  labels {tuple(lb.shape)} {lb.dtype}")
batch = train_ds[:4]
print(f"train_ds[:4]  pixel_values {tuple(batch['pixel_values'].shape)}  labels {tuple(batch['labels'].shape)}")
values = set(np.unique(np.asarray(train_ds[0]["labels"])).tolist())
print("label values:", sorted(values))
print("all in 0..149 or 255:", values <= set(range(sh.NUM_LABELS)) | {sh.IGNORE_INDEX})

# %% [markdown] tags=["lang-en", "pt"]
# ## Exercises
#
# 1. Make the jitter extreme with `shpt.make_transforms(image_processor, jitter=dict(brightness=0.9,
#    contrast=0.9, saturation=0.9, hue=0.5))` and redraw section 6. Would you still recognise the classes?
#    Would a model?
# 2. Add a random horizontal flip to `train_transforms`. Why must the flip be applied to the image *and*
#    the annotation with the same random draw, and why is `ColorJitter` free of that problem?
# 3. Load the processor with `use_fast=True` and run `train_ds[:4]` with it. What shape do the `labels`
#    have, and what would training on them do?
# 4. Run with `-p image_size 32`, then `-p image_size 128`, and count the pixels of the example's smallest
#    class in `labels` each time. What happens to small objects when images are shrunk for training?

# %% [markdown] tags=["lang-zh", "pt"]
# ## 练习
#
# 1. 用 `shpt.make_transforms(image_processor, jitter=dict(brightness=0.9, contrast=0.9, saturation=0.9, hue=0.5))`
#    把颜色抖动调到极端，再画一遍第 6 节的图。你还认得出各个类别吗？模型呢？
# 2. 给 `train_transforms` 加上随机水平翻转。为什么翻转必须用同一次随机结果同时作用于图像*和*标注？为什么 `ColorJitter` 没有这个问题？
# 3. 用 `use_fast=True` 加载图像处理器，再取 `train_ds[:4]`。`labels` 的形状是什么？拿它去训练会发生什么？
# 4. 分别用 `-p image_size 32` 和 `-p image_size 128` 运行，数一数样本中面积最小的那个类别在 `labels` 里还剩多少像素。
#    为了训练把图像缩小时，小物体会怎样？

# %% [markdown] tags=["lang-en", "tf"]
# ## Exercises
#
# 1. Run the guide's original augmentation (jitter on 0..255 floats, no clipping) through `set_transform`
#    and read `train_ds[i]` for a few `i`. How often does the processor reject an image?
# 2. Make the jitter extreme with `shtf.make_transforms(image_processor, jitter=dict(brightness=0.6,
#    contrast=(0.2, 3.0), saturation=(0.2, 3.0), hue=0.5))` and redraw section 6. Would you still recognise
#    the classes? Would a model?
# 3. Add `tf.image.flip_left_right` to the augmentation. Why must the flip be applied to the image *and*
#    the annotation with the same random draw, and why is colour jitter free of that problem?
# 4. Run with `-p image_size 32`, then `-p image_size 128`, and count the pixels of the example's smallest
#    class in `labels` each time. What happens to small objects when images are shrunk for training?

# %% [markdown] tags=["lang-zh", "tf"]
# ## 练习
#
# 1. 把指南原来的增强写法（在 0..255 的浮点数上抖动、不做截断）通过 `set_transform` 挂上，读几次 `train_ds[i]`。
#    图像处理器拒收图像的频率有多高？
# 2. 用 `shtf.make_transforms(image_processor, jitter=dict(brightness=0.6, contrast=(0.2, 3.0), saturation=(0.2, 3.0), hue=0.5))`
#    把颜色抖动调到极端，再画一遍第 6 节的图。你还认得出各个类别吗？模型呢？
# 3. 在增强里加上 `tf.image.flip_left_right`。为什么翻转必须用同一次随机结果同时作用于图像*和*标注？为什么颜色抖动没有这个问题？
# 4. 分别用 `-p image_size 32` 和 `-p image_size 128` 运行，数一数样本中面积最小的那个类别在 `labels` 里还剩多少像素。
#    为了训练把图像缩小时，小物体会怎样？
