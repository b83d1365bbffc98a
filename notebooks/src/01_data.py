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
# Semantic segmentation gives every pixel of an image a class. It does not tell apart objects of the same
# class: two cars are both "car". Instance segmentation would label them "car-1" and "car-2" (the guide's
# example), and panoptic segmentation does both at once. SegFormer, and this course, do semantic segmentation.
#
# Before any model appears, this notebook looks closely at what we will train on: a small subset of
# SceneParse150, the benchmark version of ADE20K (150 classes of indoor and outdoor "stuff" and "things"), or
# a dataset of your own.
#
# **You will learn to**
# - run the guide's `load_dataset`, see why its dataset id fails today, and load the same rows from a Parquet source;
# - split the data into a training set and a test set with the guide's `train_test_split`, and make the split repeatable;
# - read one example: the image, its annotation and its scene category;
# - load the class names `id2label` / `label2id` the way the guide does, and read your dataset's own;
# - understand ADE's "0 = other" and label reduction (0 → 255, ignored; *k* → *k*−1).

# %% [markdown] tags=["lang-zh"]
# # 01 · 数据：SceneParse150 及其标签
#
# 语义分割要给图像中的每个像素分配一个类别，但不区分同一类别的不同个体：两辆车都标成“car”。实例分割则要把它们分开，标成“car-1”和“car-2”（这是指南里的例子）；全景分割两件事都做。SegFormer 和本课程做的都是语义分割。
#
# 在接触模型之前，本篇先把训练数据摸清楚：SceneParse150 的一个小子集，或者你自己的数据集。SceneParse150 是 ADE20K 的评测版本，包含 150 个室内外常见的类别（既有墙、天空这类“背景物”，也有床、人这类“物体”）。
#
# **本篇目标**
# - 运行指南里的 `load_dataset`，弄明白它的数据集 id 现在为什么会报错，并改从 Parquet 数据源加载同样的样本；
# - 用指南的 `train_test_split` 划分训练集和测试集，并让划分结果可以复现；
# - 看懂一个样本：图像、标注和场景类别；
# - 按指南的做法加载类别名 `id2label` / `label2id`，并读出你自己数据集的类别；
# - 理解 ADE 里“0 = 其他”的含义，以及标签缩减（reduce labels：0 改为 255，其余减一）。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# All notebooks of the course share the parameter names above; `None` means "take it from the profile". The
# next cell fills in the profile and checks every value, so a typo stops here with a message that names
# the parameter and the fix. This notebook only uses `dataset`, `split` and `seed`.

# %% [markdown] tags=["lang-zh"]
# 本套件所有笔记本的参数名都和上面一样，`None` 表示“沿用预设（profile）里的值”。下一个单元格会按预设补全参数并逐项校验：参数写错了会直接在这里停下，报错信息会指出是哪个参数、该怎么改。本篇只用到 `dataset`、`split` 和 `seed`。

# %%
{{snippet:validate}}

# %% [markdown] tags=["lang-en"]
# ## 1. Which guide this course follows
#
# The course follows the Chinese edition of the Hugging Face guide *Semantic segmentation*: every cell
# marked `# 指南原代码 / the guide's code (Chinese edition)` is that edition's code, changed only where
# today's libraries or the offline setup force it, and each forced change is shown (the guide's line, its
# error or silent fault, then the fix). The English guide has been updated since; if you read it next to
# this course, these are the differences:
#
# | step | Chinese edition (this course) | current English guide (transformers v4.57 docs) | in this course |
# |---|---|---|---|
# | dataset id | `load_dataset("scene_parse_150", ...)` | `load_dataset("merve/scene_parse_150", ...)` | the guide's line fails; section 2 loads the Parquet copy |
# | label reduction | `from_pretrained(checkpoint, reduce_labels=True)` | `do_reduce_labels=True` | the old keyword is silently ignored; notebook 02 shows it and the fix |
# | evaluation schedule | `TrainingArguments(evaluation_strategy="steps")` | `eval_strategy="steps"` | the old name was removed; notebook 04 uses `eval_strategy` |
# | TensorFlow | a TensorFlow section (Keras `fit`, a `PiecewiseConstantDecay` learning-rate schedule) | removed: transformers 5 dropped TensorFlow | the TensorFlow notebooks keep it, on transformers 4.57 (the last line with TF models) |
#
# The kit is the course's package `seghelpers` (imported as `sh`). Where one of its helpers replaces a guide
# step, it comes after the guide's code, with a check that both agree. Each helper is printed where it first
# appears, by the kit's `show_source`: a short one in full, a long one as its signature, the first paragraph
# of its docstring, and its file and line.
#
# The Chinese edition uses a few terms the 中文 notebooks replace (segmentation map, annotation, channels-first,
# metric); the Chinese version of this section maps them. One sentence of its preprocessing section is
# wrong: it says the image processor *crops* the images and labels; it resizes them (notebook 02 shows the
# output size).

# %% [markdown] tags=["lang-zh"]
# ## 1. 本课程依据哪一版指南
#
# 本课程依据 Hugging Face《语义分割》指南的中文版：凡是标着 `# 指南原代码 / the guide's code (Chinese edition)` 的单元格，都是中文版的原代码，只在当前的库版本或离线环境确实要求时才做必要的改动；每处改动都会演示出来（先跑指南的原句，看它报什么错或悄悄出什么问题，再给出修正）。英文版指南后来更新过，如果你对照着英文版阅读，差别如下：
#
# | 步骤 | 中文版（本课程） | 当前英文版（transformers v4.57 文档） | 本课程的处理 |
# |---|---|---|---|
# | 数据集 id | `load_dataset("scene_parse_150", ...)` | `load_dataset("merve/scene_parse_150", ...)` | 指南原句会报错；第 2 小节改为加载 Parquet 副本 |
# | 标签缩减 | `from_pretrained(checkpoint, reduce_labels=True)` | `do_reduce_labels=True` | 旧参数名会被悄悄忽略；第 02 篇演示这个问题和修正 |
# | 评估时机 | `TrainingArguments(evaluation_strategy="steps")` | `eval_strategy="steps"` | 旧参数名已被删除；第 04 篇使用 `eval_strategy` |
# | TensorFlow | 有 TensorFlow 小节（Keras `fit`，学习率按 `PiecewiseConstantDecay` 分段下降） | 已删除：transformers 5 不再支持 TensorFlow | TensorFlow 版笔记本保留这部分，运行在 transformers 4.57 上（最后一个带 TF 模型的版本） |
#
# 套件的辅助函数（`sh.…`）如果替代了指南的某一步，就放在那段指南原代码之后出场，并附一次检查，证明两者结果相同；课程用到的每个辅助函数，第一次出现时都会用套件的 `show_source` 展示出来：短的打印全部代码，长的打印函数签名、文档字符串的第一段，以及代码所在的文件和行号。
#
# 指南中文版有几个词的译法和本课程不同，对照着读时可按下表换算（本课程的用词见 `notebooks/TERMINOLOGY.md`）：
#
# | 指南中文版 | 本课程 | 英文 | 说明 |
# |---|---|---|---|
# | “分割地图” | 分割图 | segmentation map | 逐像素的类别图 |
# | “注释” | 标注 | annotation | 本课程里“注释”只指代码注释 |
# | “通道优先” | 通道在前 | channels-first | 即 (C, H, W) 的布局 |
# | “度量指标” | 评估指标 | metric | 如 mIoU |
#
# 指南正文还有一处说错了：预处理一节说图像处理器对 `images`“进行裁剪和归一化，只裁剪 `labels`”。这里的“裁剪”其实是调整尺寸（resize）：图像和标签图都被整体拉伸到指定尺寸，没有切掉任何部分（第 02 篇会打印出输出尺寸）。

# %% [markdown] tags=["lang-en"]
# ## 2. Loading the data: `load_dataset`
#
# The guide's first step, `notebook_login()`, logs in to the Hugging Face Hub; only uploading a model needs
# it, so notebook 04 runs it first, only when `push_to_hub = True`. Then the guide loads the first 50 training
# examples of SceneParse150. Run its line as it is:

# %% [markdown] tags=["lang-zh"]
# ## 2. 加载数据：`load_dataset`
#
# 指南的第一步是 `notebook_login()`，用来登录 Hugging Face Hub；只有上传模型时才需要登录，所以放到第 04 篇开头，而且只在 `push_to_hub = True` 时才调用。接下来指南加载 SceneParse150 训练集的前 50 个样本。先原样运行指南的这一行：

# %%
# 指南原代码 / the guide's code (Chinese edition)
from datasets import load_dataset

try:
    ds = load_dataset("scene_parse_150", split="train[:50]")
except Exception as err:  # datasets>=4: RuntimeError online, ConnectionError offline
    print(f"{type(err).__name__}: {err}")

# %% [markdown] tags=["lang-en"]
# The Hub repository `scene_parse_150` is a *script* dataset: a Python file that downloads and parses the
# original archive. `datasets` 4.0 stopped running dataset scripts, so online the line fails with
# `RuntimeError: Dataset scripts are no longer supported, but found scene_parse_150.py`; offline, as in the
# `smoke` profile, it cannot even reach the repository. The kit's own loader recognises the old id and says so:

# %% [markdown] tags=["lang-zh"]
# Hub 上的 `scene_parse_150` 仓库是*脚本型*数据集：靠一个 Python 脚本去下载并解析原始压缩包。`datasets` 从 4.0 起不再执行数据集脚本，所以联网时这一行会报 `RuntimeError: Dataset scripts are no longer supported, but found scene_parse_150.py`；离线时（比如 `smoke` 预设）则连仓库都访问不到。套件自己的加载函数能认出这个旧 id，并直接说明原因：

# %%
try:
    sh.load_scene_parse("scene_parse_150", "train[:50]")
except ValueError as err:
    print(err)

# %%
sh.show_source(sh.load_scene_parse)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# **The fix** is a Parquet source: the same images and annotations stored as plain data files, which
# `load_dataset` reads without running anyone's code. `sh.guide_source(dataset)` says what to pass to the
# guide's `load_dataset` for each value of the `dataset` parameter:
#
# | `dataset=` | what it is | `sh.guide_source` gives |
# |---|---|---|
# | `"merve/scene_parse_150"` | the Parquet copy of SceneParse150 on the Hub (profiles `guide`, `full`) | the Hub id itself |
# | `"synthetic"` | a small generated stand-in with ADE's layout and label ids (profile `smoke`, offline) | a local folder in the Hub's Parquet layout, built once |
# | a folder path | the official `ADEChallengeData2016` download, or your own data in the same layout | the same: a local Parquet copy, built once |
#
# The split string `"train[:50]"` takes the first 50 training examples, as in the guide: a small subset
# lets you check that everything works before a long run.

# %% [markdown] tags=["lang-zh"]
# **修正办法**是换成 Parquet 数据源：同样的图像和标注，存成普通的数据文件，`load_dataset` 读取时不需要执行任何第三方代码。对参数 `dataset` 的每种取值，`sh.guide_source(dataset)` 都返回该交给指南 `load_dataset` 的数据源：
#
# | `dataset=` | 是什么 | `sh.guide_source` 给出 |
# |---|---|---|
# | `"merve/scene_parse_150"` | Hub 上 SceneParse150 的 Parquet 副本（`guide`、`full` 预设使用） | Hub id 本身 |
# | `"synthetic"` | 套件生成的小型合成数据，目录结构和标签编号与 ADE 一致（`smoke` 预设使用，离线可用） | 一个按 Hub 的 Parquet 布局存放的本地文件夹，只生成一次 |
# | 文件夹路径 | 官方下载的 `ADEChallengeData2016`，或按同样结构组织的你自己的数据 | 同上：一份本地 Parquet 副本，只生成一次 |
#
# 划分字符串 `"train[:50]"` 表示取训练集的前 50 个样本，和指南一致。先用小子集把流程跑通，再去做耗时的完整训练。

# %%
ds = load_dataset(sh.guide_source(P.dataset, P.split), split=P.split)  # the fix: a Parquet source
ds

# %%
sh.show_source(sh.guide_source)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# The kit's helper `sh.load_scene_parse(dataset, split)` returns the same rows. The next cell checks it
# image by image and annotation by annotation.

# %% [markdown] tags=["lang-zh"]
# 套件的辅助函数 `sh.load_scene_parse(dataset, split)` 返回的是同样的样本。下一个单元格逐张图像、逐张标注地核对这一点。

# %%
import numpy as np


def same_rows(a, b):
    """True when two datasets hold the same images and annotations, in the same order."""
    return len(a) == len(b) and all(
        np.array_equal(np.asarray(x["image"].convert("RGB")), np.asarray(y["image"].convert("RGB")))
        and np.array_equal(np.asarray(x["annotation"]), np.asarray(y["annotation"]))
        for x, y in zip(a, b))


kit_ds = sh.load_scene_parse(P.dataset, P.split)
assert same_rows(ds, kit_ds)
print("sh.load_scene_parse gives the same rows as load_dataset:", True)

# %% [markdown] tags=["lang-en"]
# Later notebooks call `sh.load_scene_parse`: it opens every image and mask before training starts, and
# stops with a message naming the file and the fix when something is wrong (a mask of the wrong size, a
# JPEG-compressed mask, a class value that does not exist).

# %% [markdown] tags=["lang-zh"]
# 后面几篇调用的都是 `sh.load_scene_parse`：它在训练开始前就把每张图像和掩码都打开检查一遍，发现问题（掩码尺寸不对、掩码存成了有损的 JPEG、出现不存在的类别值）会立即停下，报错信息里写明是哪个文件、该怎么改。

# %% [markdown] tags=["lang-en"]
# ## 3. Training set and test set: `train_test_split`
#
# The guide holds out 20 % of the examples as a test set: 50 examples become 40 for training and 10 for
# testing. During training the test split plays the role of a validation set: the mean IoU is measured on it.

# %% [markdown] tags=["lang-zh"]
# ## 3. 训练集与测试集：`train_test_split`
#
# 指南留出 20% 的样本作为测试集：50 个样本划分成 40 个训练样本和 10 个测试样本。训练过程中，这个测试集实际上扮演验证集的角色，平均交并比（mIoU）就是在它上面算的。

# %%
# 指南原代码 / the guide's code (Chinese edition)
ds = ds.train_test_split(test_size=0.2)
train_ds = ds["train"]
test_ds = ds["test"]

# %% [markdown] tags=["lang-en"]
# This runs, but it has a silent fault: without a `seed`, every call shuffles differently, so every run
# of the notebook tests on different images, and two results cannot be compared. Split the same 50 rows once more:

# %% [markdown] tags=["lang-zh"]
# 这段代码能运行，但有个不易察觉的问题：不给 `seed` 的话，每次调用打乱的顺序都不一样，每次运行笔记本测试的都是另一批图像，两次的结果也就没法比较。把同样的 50 个样本再划分一次看看：

# %%
again = kit_ds.train_test_split(test_size=0.2)
print("the same test set as the guide's split above:", same_rows(again["test"], test_ds))

# %% [markdown] tags=["lang-en"]
# **The fix** is one argument, `seed=`. Later notebooks split the same way, with the same `seed`, so every
# notebook trains and tests on the same images.

# %% [markdown] tags=["lang-zh"]
# **修正办法**只是多传一个参数 `seed=`。后面几篇都用同样的方式、同一个 `seed` 划分，所以每一篇训练和测试用的都是同一批图像。

# %%
splits = kit_ds.train_test_split(test_size=0.2, seed=P.seed)  # the fix: a seed
again = kit_ds.train_test_split(test_size=0.2, seed=P.seed)
print("the same test set twice with seed=P.seed:", same_rows(splits["test"], again["test"]))
train_ds, test_ds = splits["train"], splits["test"]

# %%
# NBVAL_CHECK_OUTPUT
print(f"train: {len(train_ds)} examples, test: {len(test_ds)} examples")
print("columns:", train_ds.column_names)

# %% [markdown] tags=["lang-en"]
# ## 4. One example
#
# Indexing a `Dataset` decodes the row: both `image` and `annotation` come back as PIL images.
#
# - `image`: the photo, RGB;
# - `annotation`: the segmentation map, one channel (mode `L`), one byte per pixel holding a class value.
#   It is what the model learns to predict, so it must be exactly as large as the image;
# - `scene_category`: one id for the whole image (section 6).
#
# The same kind of picture, one class per pixel, goes by several names in this course, one for each role:
#
# | name | what it is | where you meet it |
# |---|---|---|
# | **annotation** | the file as the dataset stores it (raw mask values) | the dataset's `annotation` column, from here on |
# | **label map** (`labels`) | the annotation turned into model class ids | training and metrics (notebooks 02–04) |
# | **mask** | usually a yes/no map of one class; also used loosely for any of these | the pipeline's output (notebook 05) |
# | **segmentation map** | the general name; in this course mostly what the model predicts (the guide also calls the annotation one) | predictions (notebook 05) |
# | **ground truth** | the label map a prediction is compared with | metrics (notebook 03), the error map (notebook 05) |


# %% [markdown] tags=["lang-zh"]
# ## 4. 看一个样本
#
# 对 `Dataset` 取下标时会解码这一行数据：`image` 和 `annotation` 都以 PIL 图像的形式返回。
#
# - `image`：场景照片，RGB 格式；
# - `annotation`：分割图，单通道（mode `L`），每个像素一个字节，存的是类别值。它是模型要学着预测的目标，因此尺寸必须和图像完全一致；
# - `scene_category`：整张图对应的场景编号，每张图只有一个（见第 6 小节）。
#
# 这种“每个像素一个类别”的图，本课程按用途有几种叫法：
#
# | 叫法 | 是什么 | 在哪里遇到 |
# |---|---|---|
# | **标注**（annotation） | 数据集里存的原始文件（原始掩码值） | 数据集的 `annotation` 列，从本篇开始 |
# | **标签图**（label map，`labels`） | 把标注换成模型类别编号后的结果 | 训练和算指标（第 02～04 篇） |
# | **掩码**（mask） | 通常指某一个类别的二值图，也常泛指以上任何一种 | pipeline 的输出（第 05 篇） |
# | **分割图**（segmentation map） | 这类图的统称；本课程多用来指模型的预测结果（指南把标注也叫分割图） | 预测结果（第 05 篇） |
# | **真实标签**（ground truth） | 和预测对比的那张标签图 | 算指标（第 03 篇）、错分图（第 05 篇） |


# %%
example = train_ds[0]
example

# %%
# NBVAL_CHECK_OUTPUT
image, annotation = example["image"], example["annotation"]
print("image mode:", image.mode, "| annotation mode:", annotation.mode)
print("same size:", image.size == annotation.size)

# %% [markdown] tags=["lang-en"]
# Viewed directly, the annotation looks almost black: its values are small integers, not brightness
# levels. `show_example` colours it with the dataset's palette (one fixed colour per class; ignored
# pixels black) so that you can compare it with the photo. `sh.dataset_meta` gives the dataset description,
# `meta`: the dataset's classes, colours and label convention (sections 5 and 7) in one object, which the
# kit's helpers take as `meta=meta`. The name `labels` keeps the meaning it has in the guide: the label maps.

# %% [markdown] tags=["lang-zh"]
# 直接打开标注图，看到的几乎是一片黑：里面存的是很小的整数类别值，不是亮度。`show_example` 会按数据集的调色板给它上色（每个类别一种固定颜色，被忽略的像素为黑色），这样就能和原图对照着看了。`sh.dataset_meta` 返回数据集描述 `meta`：数据集的类别、颜色和标签约定（见第 5、7 小节）都在这一个对象里，套件的辅助函数通过 `meta=meta` 接收它。`labels` 这个名字则保留它在指南里的意思：标签图。

# %%
import matplotlib.pyplot as plt
from seghelpers import viz

meta = sh.dataset_meta(P.dataset)  # the dataset description: classes, colours, label convention
viz.show_example(image, annotation, title=f"train_ds[0]: {image.size[0]}x{image.size[1]} pixels", meta=meta)
plt.show()

# %%
sh.show_source(sh.dataset_meta, viz.show_example)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 5. The class names: `id2label` and `label2id`
#
# The model only outputs numbers; `id2label` turns them into names, and `label2id` goes the other way.
# Both are stored in the model's config when it is created (notebook 04), so predictions come back with
# class names. The guide downloads ADE20K's names from the file `ade20k-id2label.json` in the Hub dataset
# repository `huggingface/label-files`:

# %% [markdown] tags=["lang-zh"]
# ## 5. 类别名：`id2label` 与 `label2id`
#
# 模型输出的只是数字，`id2label` 负责把数字翻译成类别名，`label2id` 则反过来。创建模型时（第 04 篇）两者都会写进模型配置（`config`），这样预测结果里带的就是类别名。指南从 Hub 的数据集仓库 `huggingface/label-files` 下载 ADE20K 的类别名文件 `ade20k-id2label.json`：

# %%
# 指南原代码 / the guide's code (Chinese edition)
import json

try:
    from huggingface_hub import cached_download, hf_hub_url
except ImportError as err:
    print("ImportError:", str(err).split(" (")[0])

# %% [markdown] tags=["lang-en"]
# `cached_download` no longer exists in `huggingface_hub`; its replacement is `hf_hub_download`, which
# returns the path of the downloaded (or cached) file. Offline, and with the file not cached, it raises an
# `OSError`; then read the copy of the very same file that ships with the kit. The guide's `json` lines
# stay as they are:

# %% [markdown] tags=["lang-zh"]
# `huggingface_hub` 里已经没有 `cached_download` 了，取代它的是 `hf_hub_download`，返回下载好（或已缓存）的文件路径。离线且本地没有缓存时它会抛出 `OSError`，这时就改读套件自带的同一份文件。指南里处理 `json` 的几行保持不变：

# %%
import importlib.resources

from huggingface_hub import hf_hub_download

repo_id = "huggingface/label-files"
filename = "ade20k-id2label.json"
try:  # the fix: hf_hub_download replaces cached_download(hf_hub_url(...))
    path = hf_hub_download(repo_id, filename, repo_type="dataset")
except OSError:  # offline and not cached: the same file ships with the kit
    path = importlib.resources.files("seghelpers") / "data" / filename
id2label = json.load(open(path, "r"))
id2label = {int(k): v for k, v in id2label.items()}
label2id = {v: k for k, v in id2label.items()}
num_labels = len(id2label)
print("num_labels:", num_labels)

# %% [markdown] tags=["lang-en"]
# Those are ADE20K's 150 classes. A dataset of your own has its own classes, in an `id2label.json` in its
# folder. `meta = sh.dataset_meta(P.dataset)` (loaded above) holds the classes of whatever dataset you
# run, and for an ADE20K source they are exactly the guide's:

# %% [markdown] tags=["lang-zh"]
# 这是 ADE20K 的 150 个类别。你自己的数据集有自己的类别，写在数据集文件夹里的 `id2label.json` 中。上面加载的 `meta = sh.dataset_meta(P.dataset)` 存的是当前所用数据集的类别；对 ADE20K 数据源来说，它和指南加载的完全一样：

# %%
# NBVAL_CHECK_OUTPUT
print(meta.describe())
for class_id, name in list(meta.id2label.items())[:6]:
    print(f"{class_id:3d} -> {name!r}")
if meta.num_labels > 6:
    print(f"... and {meta.num_labels - 6} more")
same = meta.id2label == id2label and meta.label2id == label2id  # True for an ADE20K source
print("meta holds the guide's id2label and label2id:", same)
if not same:
    print(f"{meta.name}: its own {meta.num_labels} classes, from its id2label.json (not the guide's ADE file)")

# %% [markdown] tags=["lang-en"]
# Later notebooks take the guide's `id2label`, `label2id` and `num_labels` from `meta` (`meta.id2label`,
# ...) and pass the whole description to the kit's helpers (`meta=meta`), so your own classes appear in
# every metric, legend and plot.
#
# Check the names for stray spaces: ADE20K's class 7 is spelled `"bed "`, with a trailing space. The
# kit keeps names exactly as the file spells them, so that model configs and metric names match the
# guide's models; `label2id["bed"]` is then a `KeyError`. Use `name.strip()` when you print names.

# %% [markdown] tags=["lang-zh"]
# 后面几篇都从 `meta` 里取指南用到的 `id2label`、`label2id` 和 `num_labels`（`meta.id2label` 等），并把整个数据集描述交给套件的辅助函数（`meta=meta`），这样每个指标、图例和图表里出现的都是你自己的类别。
#
# 顺便检查一下类别名里有没有多余的空格：ADE20K 的 7 号类别写作 `"bed "`，末尾多了一个空格。套件按文件原样保留类别名，好让模型配置和指标名称与指南里的模型对得上；这样一来，`label2id["bed"]` 就会抛出 `KeyError`。打印类别名时用 `name.strip()` 去掉首尾空格。

# %%
# NBVAL_CHECK_OUTPUT
padded = {i: name for i, name in meta.id2label.items() if name != name.strip()}
print("names with leading or trailing spaces:", padded)
for name in padded.values():
    print(f"{name.strip()!r} in label2id: {name.strip() in meta.label2id} | {name!r} in label2id: {name in meta.label2id}")

# %% [markdown] tags=["lang-en"]
# ## 6. `scene_category`
#
# `scene_category` says what kind of place the whole photo shows ("bedroom", "street", ...). It is a
# `ClassLabel` feature: an integer plus a list of names, which `ds.features` holds. Segmentation does not
# use it (only `image` and `annotation` are needed), but it is handy to check how varied a subset is.
# The real data has hundreds of scene names; the synthetic stand-in has three, and a folder of your own
# without scene names has one, `unknown`.

# %% [markdown] tags=["lang-zh"]
# ## 6. `scene_category`
#
# `scene_category` 描述整张照片拍的是什么地方（“卧室”“街道”……）。它是一个 `ClassLabel` 特征：本身是个整数，对应的名称列表存在 `ds.features` 里。语义分割用不到它（只需要 `image` 和 `annotation`），但可以用来看看子集的场景是否足够多样。真实数据有几百种场景名，合成数据只有三种；你自己的数据集如果没有场景名，就只有一种 `unknown`。

# %%
scene = train_ds.features["scene_category"]
print("feature type:", type(scene).__name__)
if hasattr(scene, "int2str"):  # a ClassLabel: integer ids with names
    print(f"{scene.num_classes} scene name(s), the first ones: {scene.names[:5]}")
    print("train_ds[0]:", example["scene_category"], "->", scene.int2str(example["scene_category"]))

# %% [markdown] tags=["lang-en"]
# ## 7. ADE's "0 = other" and label reduction
#
# In a raw ADE annotation, 0 means "other": pixels that belong to none of the 150 classes, or were never
# annotated. Classes are numbered 1 to 150. The model, though, has 150 outputs numbered 0 to 149, and
# "other" is not a class it should learn. So every label is *reduced* before training (label reduction,
# `reduce_labels`):
#
# - raw 0 → **255**, the ignore index: the loss and the mean IoU skip these pixels;
# - raw *k* → *k*−1, so raw 1 ("wall") becomes class 0, the first entry of `id2label`.
#
# This is what the image processor does with `do_reduce_labels=True` (notebook 02). The hand-made ADE
# annotation below shows it with `sh.reduce_labels`:

# %% [markdown] tags=["lang-zh"]
# ## 7. ADE 的“0 = 其他”与标签缩减
#
# 在 ADE 的原始标注里，0 表示“其他”：不属于 150 个类别中任何一类、或者压根没标注过的像素；真正的类别编号是 1 到 150。可模型只有 150 个输出，编号 0 到 149，而且“其他”并不是我们希望它学会的一个类别。所以训练前要对每个标签做**标签缩减**（reduce labels：0 改为 255，其余减一）：
#
# - 原始 0 → **255**，即忽略索引：计算损失和平均交并比（mIoU）时都跳过这些像素；
# - 原始 *k* → *k*−1，于是原始的 1，即墙（wall），变成 0 号类别，正好是 `id2label` 的第一项。
#
# 图像处理器在 `do_reduce_labels=True` 时做的就是这件事（见第 02 篇）。下面用 `sh.reduce_labels` 在一张手写的 ADE 标注上演示：

# %%
# NBVAL_CHECK_OUTPUT
raw = np.array([[0, 1, 2],
                [8, 150, 0]], dtype=np.uint8)  # hand-made raw ADE values
reduced = sh.reduce_labels(raw)
print("raw:\n", raw)
print("reduced:\n", reduced)
print("names:", [id2label[int(v)] if v != 255 else "(ignored)" for v in reduced.ravel()])  # 255: ignored
print("back to raw:", np.array_equal(np.where(reduced == 255, 0, reduced.astype(int) + 1), raw))

# %%
sh.show_source(sh.reduce_labels)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# Label reduction is ADE's convention, not a law. Many datasets use 0 for a real class ("background"):
# there mask value *k* is class *k*, and only 255 is ignored. A dataset of your own says which convention
# it follows in a `dataset.json` next to its `id2label.json` (`{"reduce_labels": false}` when 0 is a real
# class); `meta.reduce_labels` holds the answer, and `meta.to_model_ids(annotation)` turns a mask into
# model class ids under that convention (255 = ignored). Here is the convention of the dataset you are running:

# %% [markdown] tags=["lang-zh"]
# 标签缩减是 ADE 的约定，并不是放之四海皆准的规则。很多数据集把 0 当作一个真正的类别（“背景”）：这时掩码值 *k* 就是类别 *k*，只有 255 表示忽略。你自己的数据集在 `id2label.json` 旁边放一个 `dataset.json` 来声明采用哪种约定（0 是真实类别时写 `{"reduce_labels": false}`）。`meta.reduce_labels` 记录的就是这个约定，`meta.to_model_ids(annotation)` 按它把掩码转换成模型的类别编号（255 表示忽略）。下面是当前所用数据集的约定：

# %%
# NBVAL_CHECK_OUTPUT
model_ids = meta.to_model_ids(annotation)
print("reduce_labels:", meta.reduce_labels)
print("mask values in the example:", sorted(np.unique(np.array(annotation)).tolist()))
print("model class ids:           ", sorted(np.unique(model_ids).tolist()), "(255 = ignored)")

# %%
sh.show_source(sh.DatasetMeta.to_model_ids)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## 8. Which classes are in our example?
#
# `sh.legend` counts the pixels of each class in the model ids, largest first, and names them with the
# dataset's own classes. Ignored pixels are left out of the fractions; we count them separately. A class
# that covers only a sliver of the image weighs as much in the mean IoU as a large one, which is why
# small objects matter.

# %% [markdown] tags=["lang-zh"]
# ## 8. 这个样本里有哪些类别？
#
# `sh.legend` 统计模型类别编号中每个类别占多少像素，按面积从大到小排列，并用数据集自己的类别名标注。被忽略的像素不计入占比，我们单独统计。在 mIoU 里，只占一小条的类别和大面积的类别分量一样重，所以小物体同样要分对。

# %%
# NBVAL_CHECK_OUTPUT
print(f"ignored: {np.mean(model_ids == meta.ignore_index):.4f} of the pixels")
for class_id, name, colour, fraction in sh.legend(model_ids, meta=meta):
    print(f"{class_id:3d}  {name.strip():<10}  {fraction:.4f}  RGB{colour}")

# %%
sh.show_source(sh.legend)  # the kit's code, where it is first used

# %% [markdown] tags=["lang-en"]
# ## Summary
#
# - The Chinese edition's `load_dataset("scene_parse_150")` fails with `datasets` ≥ 4 (script datasets);
#   a Parquet source (`merve/scene_parse_150`, or `sh.guide_source(...)` offline) loads the same rows.
# - `train_test_split(test_size=0.2)` needs a `seed` to give the same test set on every run.
# - An example is an RGB `image`, a one-channel `annotation` of class values of the same size, and a `scene_category`.
# - `id2label` / `label2id` name the model's classes; `cached_download` became `hf_hub_download`, and your
#   own dataset brings its own `id2label.json`.
# - ADE's masks use 0 for "other": label reduction maps 0 → 255 (ignored) and *k* → *k*−1; a dataset
#   where 0 is a real class declares `reduce_labels: false`.

# %% [markdown] tags=["lang-zh"]
# ## 小结
#
# - 中文版指南的 `load_dataset("scene_parse_150")` 在 `datasets` 4 及以上版本会报错（不再支持脚本型数据集）；换成 Parquet 数据源（`merve/scene_parse_150`，离线时用 `sh.guide_source(...)`）就能加载同样的样本。
# - `train_test_split(test_size=0.2)` 要传 `seed`，每次运行才会得到同一个测试集。
# - 一个样本包括 RGB 的 `image`、与之同尺寸且存放类别值的单通道 `annotation`，以及 `scene_category`。
# - `id2label` / `label2id` 给模型的类别命名；`cached_download` 已换成 `hf_hub_download`，你自己的数据集则自带 `id2label.json`。
# - ADE 的掩码用 0 表示“其他”：标签缩减把 0 改为 255（忽略），把 *k* 改为 *k*−1；0 是真实类别的数据集要声明 `reduce_labels: false`。

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
from seghelpers.exercises import stage01 as ex

# %% [markdown] tags=["lang-en"]
# ### Exercise 1: how many images contain each class?
#
# Write `my_images_per_class(dataset, meta)`: an array of `meta.num_labels` counts, where entry *k* is
# the number of images in `dataset` that contain model class *k* at least once (ignored pixels are no class).
# The check runs it on `train_ds` and on three tiny images: one pixel of the first class; one ignored pixel;
# a 2×2 map with the last class in three pixels (counted once). It recomputes the counts itself. Then look:
# which classes never appear, and what does that mean for their IoU?

# %% [markdown] tags=["lang-zh"]
# ### 练习 1：每个类别出现在多少张图像里？
#
# 编写 `my_images_per_class(dataset, meta)`，返回 `meta.num_labels` 个计数组成的数组：第 *k* 项是 `dataset` 中至少含有一个模型类别 *k* 像素的图像数（被忽略的像素不算任何类别）。检查会在 `train_ds` 和一个 3 张图的小测试集上运行你的函数，并自己重新统计一遍。这 3 张图分别是：只有一个像素、属于第一个类别的图；只有一个被忽略像素的图；一张 2×2、其中 3 个像素是最后一个类别的图（这个类别只能算一次）。然后看看：哪些类别一次都没出现？这对它们的交并比（IoU）意味着什么？

# %% tags=["exercise"]
def my_images_per_class(dataset, meta):
    # one count per class: in how many images of dataset does class k appear?
    return ...


# %%
ex.class_frequencies.check(my_images_per_class, train_ds, meta)  # ex.class_frequencies.hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### Exercise 2: why one `seed` for notebooks 02, 04 and 05?
#
# Notebooks 02, 04 and 05 split the data again with `P.seed`. Why must that seed be the same
# everywhere? Set `seed_answer` to one letter:
#
# - (a) The split is faster with a fixed seed.
# - (b) So that 04 evaluates, and 05 scores, exactly the 20 % test split that 04 never trained on.
# - (c) A different seed would change the class names.
# - (d) It does not matter: any seed gives the same test split.

# %% [markdown] tags=["lang-zh"]
# ### 练习 2：为什么第 02、04、05 篇要用同一个 `seed`？
#
# 第 02、04、05 篇都会用 `P.seed` 重新划分数据。为什么这个 seed 在各篇里必须相同？把 `seed_answer` 设为一个字母：
#
# - (a) 固定 seed 之后划分更快。
# - (b) 这样第 04 篇训练时评估的、第 05 篇最后打分的，正好是第 04 篇从未训练过的那 20 % 测试集。
# - (c) 换一个 seed，类别名就会变。
# - (d) 无所谓：任何 seed 得到的测试集都一样。

# %% tags=["exercise"]
seed_answer = ...  # "a", "b", "c" or "d"

# %%
ex.same_seed.check(seed_answer, kit_ds)  # .hint() / .solution()

# %% [markdown] tags=["lang-en"]
# ### More to explore
#
# 1. Look at `train_ds[1]` to `train_ds[4]`: are image and annotation always the same size? Which class
#    covers the most pixels (use `sh.legend(meta.to_model_ids(...), meta=meta)`),
#    and which scene category does each image have?
# 2. Set `split = "train[:20]"` in the parameters cell and run the notebook again, then `split = "train[:4]"`.
#    What are the split sizes? Which cell stops the second run, and what does its message say?

# %% [markdown] tags=["lang-zh"]
# ### 更多探索
#
# 1. 看看 `train_ds[1]` 到 `train_ds[4]`：图像和标注的尺寸是否总是一致？每张图里哪个类别占的像素最多（用 `sh.legend(meta.to_model_ids(...), meta=meta)`）？各自属于哪个场景类别？
# 2. 在参数单元格里设置 `split = "train[:20]"` 后重新运行本笔记本，再改成 `split = "train[:4]"`。划分后各有多少样本？第二次运行停在哪个单元格，报错信息说了什么？

# %% [markdown] tags=["lang-en", "collapsed"]
# ## Under the hood
#
# - `sh.guide_source` converts `"synthetic"` or an `ADEChallengeData2016`-style folder once into
#   `~/.cache/seghelpers/hub-layout/<name>-<signature>/data/train-00000-of-00001.parquet` (images embedded),
#   the layout `load_dataset` reads for a Hub dataset; a Hub id or a folder already in that layout is
#   returned unchanged. A changed source folder gets a new signature, hence a fresh copy.
# - `sh.load_scene_parse` reads folders directly. It validates every pair before returning: image
#   readable, mask the same size, lossless (JPEG masks are refused), values within the dataset's classes;
#   palette, RGB and 16-bit masks are decoded to class values (cached as mode `L` PNGs). Images are
#   converted to RGB, so the few greyscale ADE photos get three channels; `same_rows` compares in RGB for
#   that reason.
# - A folder of your own without `dataset.json` whose masks use the values 0…N for N classes is read the
#   ADE way, with a warning; any other ambiguous case stops with a message asking for `dataset.json`.
# - This notebook needs no deep-learning framework, so it loads none: the setup cell sets `USE_TF=0` before
#   transformers is imported, and nothing here imports PyTorch. Its kernel is ready in seconds; importing
#   PyTorch would add about 10 s, TensorFlow about 20 s (`make bench`, item 9 of `benchmarks/RESULTS.md`).
#   The last cell checks it.

# %% [markdown] tags=["lang-zh", "collapsed"]
# ## 实现细节（Under the hood）
#
# - 对 `"synthetic"` 或 `ADEChallengeData2016` 结构的文件夹，`sh.guide_source` 只转换一次，生成 `~/.cache/seghelpers/hub-layout/<名称>-<签名>/data/train-00000-of-00001.parquet`（图像数据直接嵌入文件），也就是 `load_dataset` 读取 Hub 数据集时的布局；Hub id 或已经是这种布局的文件夹则原样返回。源文件夹有改动时签名随之改变，会重新生成一份副本。
# - `sh.load_scene_parse` 直接读取文件夹，返回之前会逐对检查：图像能否打开、掩码尺寸是否一致、是否无损（JPEG 掩码会被拒收）、取值是否都在数据集的类别范围内；调色板、RGB 和 16 位掩码会被解码成类别值（缓存为 mode `L` 的 PNG）。图像统一转成 RGB，所以 ADE 里少数灰度照片也会变成三通道，这也是 `same_rows` 先转 RGB 再比较的原因。
# - 你自己的文件夹如果没有 `dataset.json`，而 N 个类别的掩码恰好用了 0～N 这些值，就按 ADE 的约定读取并给出警告；其他无法判断的情况会直接停下，提示你补上 `dataset.json`。
# - 本篇用不到深度学习框架，所以一个也不加载：设置单元格在导入 transformers 之前设了 `USE_TF=0`，这里也没有任何代码导入 PyTorch。内核几秒钟就能就绪；导入 PyTorch 大约要多花 10 秒，导入 TensorFlow 大约 20 秒（见 `make bench` 生成的 `benchmarks/RESULTS.md` 第 9 项）。最后一个单元格会检查这一点。

# %%
# NBVAL_CHECK_OUTPUT
import sys

print("deep-learning frameworks imported:", ", ".join(m for m in ("torch", "tensorflow", "jax") if m in sys.modules)
      or "none")
