# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown] tags=["lang-en"]
# # 01 · The data: SceneParse150 and its labels
#
# Semantic segmentation gives every pixel of an image a class. Before any model appears, this notebook
# looks closely at what we will train on: a small subset of SceneParse150, the benchmark version of ADE20K
# (150 classes of indoor and outdoor "stuff" and "things").
#
# **You will learn to**
# - load the data from the Hub, from a local ADE20K folder, or offline from a synthetic stand-in, and know
#   why the guide's `load_dataset("scene_parse_150")` no longer works;
# - split it into a training set and a test set the way the guide does;
# - read one example: the image, its annotation and its scene category;
# - use the 150-class label maps `id2label` / `label2id`;
# - understand ADE's "0 = other" and the label convention the whole kit uses (0 → 255, ignored; *k* → *k*−1).

# %% [markdown] tags=["lang-zh"]
# # 01 · 数据：SceneParse150 及其标签
#
# 语义分割要给图像中的每个像素分配一个类别。在请出模型之前，本节先把训练数据摸清楚：SceneParse150 的一个小子集。
# SceneParse150 是 ADE20K 的评测版本，包含 150 个室内外常见的类别（既有墙、天空这类“背景物”，也有床、人这类“物体”）。
#
# **本节目标**
# - 从 Hub、本地 ADE20K 文件夹或离线的合成数据加载数据集，并弄明白指南里的 `load_dataset("scene_parse_150")`
#   为什么现在跑不通；
# - 按指南的做法划分训练集和测试集；
# - 看懂一个样本：图像、标注和场景类别；
# - 使用 150 个类别的标签映射 `id2label` / `label2id`；
# - 理解 ADE 里“0 = 其他”的含义，以及整个 kit 统一采用的标签约定（0 → 255 忽略；*k* → *k*−1）。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# All notebooks of the kit share the parameter names above; `None` means "take it from the profile". The
# next cell fills in the profile and checks every value, so a typo stops here with a message that names
# the parameter and the fix. This notebook only uses `dataset`, `split` and `seed`.

# %% [markdown] tags=["lang-zh"]
# kit 里所有笔记本的参数名都和上面一样，`None` 表示“沿用配置档（profile）里的值”。下一个单元格会补全配置并逐项校验：
# 参数写错了会直接在这里停下，报错信息会指出是哪个参数、该怎么改。本节只用到 `dataset`、`split` 和 `seed`。

# %%
{{snippet:validate}}

# %% [markdown] tags=["lang-en"]
# ## 1. Where the data comes from
#
# `sh.load_scene_parse(source, split)` returns the same thing, a 🤗 `datasets.Dataset` with the columns
# `image`, `annotation` and `scene_category`, from three kinds of source:
#
# | `dataset=` | what it is | needs |
# |---|---|---|
# | `"merve/scene_parse_150"` | a Parquet copy of SceneParse150 on the Hub (profiles `guide`, `full`) | the Hub, or a warm cache |
# | a folder path | the official `ADEChallengeData2016` download (`images/training/*.jpg`, `annotations/training/*.png`, `sceneCategories.txt`) | the unzipped folder |
# | `"synthetic"` | a small generated stand-in with the same layout and label ids (profile `smoke`) | nothing, works offline |
#
# **Why not `load_dataset("scene_parse_150")`, as the guide writes?** That Hub repository is a *script*
# dataset: a Python file that downloads and parses the archive. `datasets` 4.0 dropped support for
# dataset scripts, so the call now fails. The Parquet copy holds the same images and annotations as
# plain files, so it loads without running anyone's code. The kit catches the old name and says what to
# use instead (next cell; nothing is downloaded).
#
# The split string works the same for every source: `"train[:50]"` takes the first 50 training
# examples, like the guide. A small subset lets you check that everything works before a long run.

# %% [markdown] tags=["lang-zh"]
# ## 1. 数据从哪里来
#
# `sh.load_scene_parse(source, split)` 支持三种数据来源，返回的都是同一种东西：一个带 `image`、`annotation`、
# `scene_category` 三列的 🤗 `datasets.Dataset`。
#
# | `dataset=` | 是什么 | 前提 |
# |---|---|---|
# | `"merve/scene_parse_150"` | Hub 上 SceneParse150 的 Parquet 副本（`guide`、`full` 配置使用） | 能访问 Hub，或本地已有缓存 |
# | 文件夹路径 | 官方下载的 `ADEChallengeData2016`（`images/training/*.jpg`、`annotations/training/*.png`、`sceneCategories.txt`） | 解压好的文件夹 |
# | `"synthetic"` | kit 自动生成的小型替身数据，目录结构和标签编号与真实数据一致（`smoke` 配置使用） | 无，离线可用 |
#
# **为什么不照指南写 `load_dataset("scene_parse_150")`？** Hub 上的这个仓库是*脚本型*数据集：靠一个 Python
# 脚本去下载、解析压缩包。`datasets` 从 4.0 起不再支持数据集脚本，这行代码现在会直接报错。Parquet 副本把同样的
# 图像和标注存成普通数据文件，加载时不需要执行任何第三方代码。kit 会拦下旧名字，并提示应该换成什么（见下一个单元格，
# 不会触发下载）。
#
# 切分字符串对三种来源都一样：`"train[:50]"` 表示取训练集的前 50 个样本，和指南一致。先用小子集把流程跑通，
# 再去做耗时的完整训练。

# %%
try:
    sh.load_scene_parse("scene_parse_150", "train[:50]")
except ValueError as err:
    print(err)

# %%
ds = sh.load_scene_parse(P.dataset, P.split)
ds

# %% [markdown] tags=["lang-en"]
# ## 2. Training set and test set
#
# The guide calls `ds.train_test_split(test_size=0.2)`. `sh.split_train_test` does the same, adds the
# `seed` (without it every run draws a different test set, and results cannot be compared), and refuses
# subsets too small to split, with a message instead of an empty test set. 50 examples become 40 for
# training and 10 for testing. The test set plays the role of a validation set during training: it is
# what the mean IoU is measured on.

# %% [markdown] tags=["lang-zh"]
# ## 2. 训练集与测试集
#
# 指南里用的是 `ds.train_test_split(test_size=0.2)`。`sh.split_train_test` 做的是同一件事，另外多了两点：
# 固定 `seed`（不固定的话每次运行抽到的测试集都不一样，结果没法比较）；子集太小、没法切分时直接报错说明原因，
# 而不是悄悄给出一个空的测试集。50 个样本切成 40 个训练样本和 10 个测试样本。训练过程中，这个测试集实际上扮演验证集的角色，
# 平均交并比（mIoU）就是在它上面算的。

# %%
splits = sh.split_train_test(ds, test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]

# %%
# NBVAL_CHECK_OUTPUT
print(f"train: {len(train_ds)} examples, test: {len(test_ds)} examples")
print("columns:", train_ds.column_names)

# %% [markdown] tags=["lang-en"]
# ## 3. One example
#
# Indexing a `Dataset` decodes the row: both `image` and `annotation` come back as PIL images.
#
# - `image`: the photo, RGB (the loaders convert the few greyscale ADE photos to RGB, so every image has
#   three channels);
# - `annotation`: the segmentation map, one channel (mode `L`), one byte per pixel holding the raw ADE class
#   id. It is what the model learns to predict, so it must be exactly as large as the image;
# - `scene_category`: one id for the whole image (see section 5).

# %% [markdown] tags=["lang-zh"]
# ## 3. 看一个样本
#
# 对 `Dataset` 取下标时会解码这一行数据：`image` 和 `annotation` 都以 PIL 图像的形式返回。
#
# - `image`：场景照片，RGB 格式（ADE 里有少数灰度图，加载时已统一转成 RGB，所以每张图都是三通道）；
# - `annotation`：分割图，单通道（mode `L`），每个像素一个字节，存的是 ADE 原始类别编号。它是模型要学着预测的目标，
#   因此尺寸必须和图像完全一致；
# - `scene_category`：整张图对应的场景编号，每张图只有一个（见第 5 节）。

# %%
example = train_ds[0]
example

# %%
# NBVAL_CHECK_OUTPUT
image, annotation = example["image"], example["annotation"]
print("image mode:", image.mode, "| annotation mode:", annotation.mode)
print("same size:", image.size == annotation.size)

# %% [markdown] tags=["lang-en"]
# Viewed directly, the annotation looks almost black: its values are small integers (0 to 150), not
# brightness levels. `show_example` colours it with the ADE palette (each class gets a fixed colour;
# "other" stays black) so you can compare it with the photo.

# %% [markdown] tags=["lang-zh"]
# 直接打开标注图，看到的几乎是一片黑：里面存的是 0 到 150 的类别编号，不是亮度。`show_example` 会按 ADE 调色板
# 给它上色（每个类别一种固定颜色，“其他”保持黑色），这样就能和原图对照着看了。

# %%
import matplotlib.pyplot as plt
from seghelpers.viz import show_example

show_example(image, annotation, title=f"train_ds[0]: {image.size[0]}x{image.size[1]} pixels")
plt.show()

# %% [markdown] tags=["lang-en"]
# ## 4. The 150 class names: `id2label` and `label2id`
#
# The model only outputs numbers; `id2label` turns them into names, and `label2id` goes the other way.
# Both are stored in the model's config when it is created (notebook 04), so predictions come back with
# class names. The guide downloads them from the Hub file `ade20k-id2label.json` in the dataset repo
# `huggingface/label-files`; the kit bundles the same file, so this works offline.
#
# Look closely at class 7: its name is `"bed "`, with a trailing space. That is how the file spells it,
# and the kit keeps it so that configs and metric names match the guide's models. `label2id["bed"]` is a
# `KeyError`; strip the names if you print them.

# %% [markdown] tags=["lang-zh"]
# ## 4. 150 个类别名：`id2label` 与 `label2id`
#
# 模型输出的只是数字，`id2label` 负责把数字翻译成类别名，`label2id` 则反过来。创建模型时（04 节）两者都会写进
# 模型的 config，这样预测结果里带的就是类别名。指南是从 Hub 的数据集仓库 `huggingface/label-files` 下载
# `ade20k-id2label.json`；kit 自带了同一份文件，离线也能用。
#
# 注意 7 号类别：它的名字是 `"bed "`，末尾多了一个空格。原文件就是这么写的，kit 原样保留，好让 config 和指标名称
# 与指南里的模型对得上。所以 `label2id["bed"]` 会抛出 `KeyError`；打印类别名时记得 strip 一下。

# %%
# NBVAL_CHECK_OUTPUT
print("NUM_LABELS:", sh.NUM_LABELS, "| len(id2label):", len(sh.id2label))
for class_id in (0, 2, 7, 12, 149):
    print(f"{class_id:3d} -> {sh.id2label[class_id]!r}")
print("label2id['wall']:", sh.label2id["wall"], "| label2id['bed ']:", sh.label2id["bed "])
print("'bed' in label2id:", "bed" in sh.label2id)

# %% [markdown] tags=["lang-en"]
# ## 5. `scene_category`
#
# `scene_category` says what kind of place the whole photo shows ("bedroom", "street", ...). It is a
# `ClassLabel` feature: an integer plus a list of names, which `ds.features` holds. Segmentation does not
# use it (only `image` and `annotation` are needed), but it is handy to check how varied a subset is, or
# to train a scene classifier as a side project. The real data has hundreds of scene names; the synthetic
# stand-in has three.

# %% [markdown] tags=["lang-zh"]
# ## 5. `scene_category`
#
# `scene_category` 描述整张照片拍的是什么地方（“卧室”“街道”……）。它是一个 `ClassLabel` 特征：本身是个整数，
# 对应的名称列表存在 `ds.features` 里。语义分割用不到它（只需要 `image` 和 `annotation`），但可以用来看看子集的
# 场景是否足够多样，或者拿来顺手训练一个场景分类器。真实数据有几百种场景名，合成数据只有三种。

# %%
scene = train_ds.features["scene_category"]
print("feature type:", type(scene).__name__)
if hasattr(scene, "int2str"):  # a ClassLabel: integer ids with names
    print(f"{scene.num_classes} scene names, the first ones: {scene.names[:5]}")
    print("train_ds[0]:", example["scene_category"], "->", scene.int2str(example["scene_category"]))

# %% [markdown] tags=["lang-en"]
# ## 6. ADE's "0 = other" and the kit's label convention
#
# In a raw ADE annotation, 0 means "other": pixels that belong to none of the 150 classes, or were never
# annotated. Classes are numbered 1 to 150. The model, though, has 150 outputs numbered 0 to 149, and
# "other" is not a class it should learn. So every label is *reduced* before training:
#
# - raw 0 → **255**, the ignore index: the loss and the mean IoU skip these pixels;
# - raw *k* → *k*−1, so raw 1 ("wall") becomes class 0, the index into `id2label`.
#
# This is what the image processor does with `do_reduce_labels=True` (notebook 02). The whole kit uses
# this one convention, and `sh.reduce_labels` / `sh.raw_from_reduced` implement it for numpy arrays.

# %% [markdown] tags=["lang-zh"]
# ## 6. ADE 的“0 = 其他”与 kit 的标签约定
#
# 在 ADE 的原始标注里，0 表示“其他”：不属于 150 个类别中任何一类、或者压根没标注过的像素；真正的类别编号是 1 到 150。
# 可模型只有 150 个输出，编号 0 到 149，而且“其他”并不是我们希望它学会的一个类别。所以训练前要先把每个标签*减一*：
#
# - 原始 0 → **255**，即忽略索引：计算损失和平均交并比（mIoU）时都跳过这些像素；
# - 原始 *k* → *k*−1，于是原始的 1（“wall”）变成 0 号类别，正好是 `id2label` 的下标。
#
# 这正是图像处理器在 `do_reduce_labels=True` 时做的事（见 02 节）。整个 kit 只用这一套约定，
# `sh.reduce_labels` / `sh.raw_from_reduced` 是它在 numpy 数组上的实现。

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

raw = np.array([[0, 1, 2],
                [8, 150, 0]], dtype=np.uint8)
reduced = sh.reduce_labels(raw)
print("raw:\n", raw)
print("reduced:\n", reduced)
print("names:", [sh.id2label[int(v)] if v != sh.IGNORE_INDEX else "(ignored)" for v in reduced.ravel()])
print("back to raw:", np.array_equal(sh.raw_from_reduced(reduced), raw))

# %% [markdown] tags=["lang-en"]
# ## 7. Which classes are in our example?
#
# Reduce the example's annotation and let `sh.legend` count the pixels of each class, largest first.
# Ignored pixels (raw 0) are left out of the fractions; we count them separately. A class that covers only
# a sliver of the image is as important for the mean IoU as a large one, which is why small objects matter.

# %% [markdown] tags=["lang-zh"]
# ## 7. 这个样本里有哪些类别？
#
# 把样本的标注减一，再用 `sh.legend` 统计每个类别占多少像素，按面积从大到小排列。被忽略的像素（原始 0）不计入占比，
# 我们单独统计。在 mIoU 里，只占一小条的类别和大面积的类别分量一样重，所以小物体同样要分对。

# %%
# NBVAL_CHECK_OUTPUT
labels = sh.reduce_labels(np.array(annotation))
print(f"ignored (raw 0 = other): {np.mean(labels == sh.IGNORE_INDEX):.4f} of the pixels")
for class_id, name, colour, fraction in sh.legend(labels):
    print(f"{class_id:3d}  {name.strip():<10}  {fraction:.4f}  RGB{colour}")

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# 1. Look at `train_ds[1]` to `train_ds[4]`: are image and annotation always the same size? Which class
#    covers the most pixels, and which scene category does each image have?
# 2. Run the notebook with `-p split "train[:20]"`, then `-p split "train[:4]"`. What are the split
#    sizes, and what does `split_train_test` say about the second?
# 3. Count, over all 40 training annotations, how many images contain each class (hint: `np.unique` on
#    `sh.reduce_labels(...)`). Which classes never appear, and what would that mean for their IoU?
# 4. *(needs the Hub)* Run with `-p profile guide` and compare the real examples with the synthetic ones:
#    image sizes, number of classes per image, share of "other" pixels.

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 1. 看看 `train_ds[1]` 到 `train_ds[4]`：图像和标注的尺寸是否总是一致？每张图里哪个类别占的像素最多？各自属于哪个场景类别？
# 2. 分别用 `-p split "train[:20]"` 和 `-p split "train[:4]"` 运行本笔记本。切分后各有多少样本？
#    第二种情况下 `split_train_test` 报了什么？
# 3. 统计 40 个训练标注中，每个类别出现在多少张图里（提示：对 `sh.reduce_labels(...)` 的结果用 `np.unique`）。
#    哪些类别一次都没出现？这对它们的交并比（IoU）意味着什么？
# 4. *（需要访问 Hub）* 用 `-p profile guide` 运行，把真实样本和合成样本对比一下：图像尺寸、每张图的类别数、“其他”像素的占比。
