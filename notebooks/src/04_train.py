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
# - load `AutoModelForSemanticSegmentation` with the ADE20K label maps (`id2label` / `label2id`);
# - set up `TrainingArguments` with the guide's hyper-parameters, and know which of them matter and why;
# - evaluate mean IoU during training *without* keeping every logit in memory;
# - resume an interrupted run from its last complete checkpoint, save the model, and (optionally) push it to the Hub;
# - read the loss and mean-IoU curves.

# %% [markdown] tags=["lang-zh", "pt"]
# # 04 · 用 🤗 `Trainer` 微调 SegFormer（PyTorch）
#
# **本节目标**
# - 用 ADE20K 的标签映射（`id2label` / `label2id`）加载 `AutoModelForSemanticSegmentation`；
# - 按指南的超参数配置 `TrainingArguments`，弄清哪些参数关键、为什么；
# - 训练过程中评估平均交并比（mIoU），同时*不*把所有 logits 都攒在内存里；
# - 训练中断后从最近一个完整的检查点恢复，保存模型，并（可选）推送到 Hub；
# - 读懂损失曲线和 mIoU 曲线。

# %% [markdown] tags=["lang-en", "tf"]
# # 04 · Fine-tune SegFormer with Keras `fit` (TensorFlow)
#
# **You will learn to**
# - load `TFAutoModelForSemanticSegmentation` with the ADE20K label maps, even from a PyTorch-only folder;
# - build the guide's `PiecewiseConstantDecay` schedule and Adam optimizer, and `compile` without a loss;
# - turn a 🤗 `Dataset` into a `tf.data.Dataset` with `to_tf_dataset`;
# - track mean IoU with `KerasMetricCallback`, keep the best weights with `ModelCheckpoint`, and survive an interruption with `BackupAndRestore`;
# - save the model with `save_pretrained` and read the training curves.

# %% [markdown] tags=["lang-zh", "tf"]
# # 04 · 用 Keras `fit` 微调 SegFormer（TensorFlow）
#
# **本节目标**
# - 用 ADE20K 的标签映射加载 `TFAutoModelForSemanticSegmentation`，即使文件夹里只有 PyTorch 权重也能加载；
# - 搭建指南中的 `PiecewiseConstantDecay` 学习率调度和 Adam 优化器，并在不传损失函数的情况下 `compile`；
# - 用 `to_tf_dataset` 把 🤗 `Dataset` 转成 `tf.data.Dataset`；
# - 用 `KerasMetricCallback` 跟踪 mIoU，用 `ModelCheckpoint` 保留最优权重，用 `BackupAndRestore` 扛住训练中断；
# - 用 `save_pretrained` 保存模型，并读懂训练曲线。

# %%
{{snippet:setup}}

# %% tags=["parameters"]
{{snippet:parameters}}

# %% [markdown] tags=["lang-en"]
# The next cell checks every parameter and resolves the checkpoint *before* anything heavy runs, so a
# typo such as `-p num_train_epochs ten` or an uncached hub id stops here with the fix in the message.

# %% [markdown] tags=["lang-zh"]
# 下一个单元格会在任何耗时操作之前校验全部参数并解析检查点。像 `-p num_train_epochs ten` 这样的笔误，
# 或者本地缓存里没有的 Hub 模型 id，都会在这里直接报错，错误信息里写明了怎么改。

# %%
{{snippet:validate}}
CHECKPOINT = sh.resolve_checkpoint(P.checkpoint, P.image_size, P.seed)

# %% [markdown] tags=["lang-en"]
# ## Data and transforms
#
# Notebooks 01 and 02 explained these steps; here we only call the same `seghelpers` functions: load the
# subset, split it 80/20, load the image processor with `do_reduce_labels=True` (raw 0 → 255, ignored;
# raw *k* → *k*−1), and attach the on-the-fly transforms (colour jitter for training only).

# %% [markdown] tags=["lang-zh"]
# ## 数据与变换
#
# 这些步骤在 01、02 两节里已经讲过，这里直接调用同样的 `seghelpers` 函数：加载数据子集，按 80/20 划分，
# 以 `do_reduce_labels=True` 加载图像处理器（原始标签 0 → 255，即忽略；原始标签 *k* → *k*−1），
# 再挂上即时执行的变换（颜色抖动只用于训练集）。

# %% tags=["pt"]
from seghelpers import pt as shpt

ds = sh.load_scene_parse(P.dataset, P.split)
splits = sh.split_train_test(ds, test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
image_processor = sh.load_image_processor(CHECKPOINT, image_size=P.image_size)
# seed: each image's jitter depends on (seed, epoch, image) only, so a resumed run matches an uninterrupted one
train_transforms, val_transforms = shpt.make_transforms(image_processor, seed=P.seed)
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)

# %% tags=["tf"]
import seghelpers.tf as shtf  # before TensorFlow: selects Keras 2 (tf-keras)
import tensorflow as tf

tf.keras.utils.set_random_seed(P.seed)  # weights of new layers, shuffling and augmentation
ds = sh.load_scene_parse(P.dataset, P.split)
splits = sh.split_train_test(ds, test_size=0.2, seed=P.seed)
train_ds, test_ds = splits["train"], splits["test"]
image_processor = sh.load_image_processor(CHECKPOINT, image_size=P.image_size)
train_transforms, val_transforms = shtf.make_transforms(image_processor)
train_ds.set_transform(train_transforms)
test_ds.set_transform(val_transforms)

# %%
# NBVAL_CHECK_OUTPUT
print(f"train: {len(train_ds)} images, test: {len(test_ds)} images")
print("one training example:", {k: tuple(v.shape) for k, v in train_ds[0].items()})

# %% [markdown] tags=["lang-en", "pt"]
# ## The model
#
# `AutoModelForSemanticSegmentation.from_pretrained` puts a fresh decode head on the pretrained encoder.
# Passing `id2label` / `label2id` sizes that head for our 150 classes and stores the class names in the
# config, so every later prediction (and the pipeline in notebook 05) speaks in names, not numbers.
# `nvidia/mit-b0` is an *encoder* checkpoint (ImageNet-pretrained); the log will say the decode head is
# newly initialised — that is expected, training it is the point. In the `smoke` profile the whole model
# is randomly initialised (`random:tiny`), so it has to learn from scratch and uses a larger learning rate.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 模型
#
# `AutoModelForSemanticSegmentation.from_pretrained` 会在预训练编码器上接一个全新的解码头。
# 传入 `id2label` / `label2id` 后，解码头的输出维度就是我们的 150 个类别，类别名也会写进 config，
# 之后的每次预测（包括 05 节的 pipeline）给出的都是类名，而不是一串数字。
# `nvidia/mit-b0` 只是一个*编码器*检查点（在 ImageNet 上预训练），日志会提示解码头是新初始化的——这很正常，
# 训练的就是它。`smoke` 配置下整个模型都是随机初始化的（`random:tiny`），需要从零学起，所以学习率也设得更大。

# %% [markdown] tags=["lang-en", "tf"]
# ## The model
#
# `seghelpers.tf.load_model` wraps `TFAutoModelForSemanticSegmentation.from_pretrained` and fixes two
# traps of transformers 4.57: a folder that holds PyTorch `model.safetensors` crashes the TF loader
# (`'builtins.safe_open' object is not iterable`), so it passes `from_pt=True` when there is no
# `tf_model.h5`; and the TF SegFormer computes its loss on the ignored label 255 *before* masking it,
# which raises on CPU (`Received a label value of 255 which is outside the valid range`), so it swaps in
# a loss that masks first. Passing `id2label` / `label2id` sizes the decode head for our 150 classes.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 模型
#
# `seghelpers.tf.load_model` 封装了 `TFAutoModelForSemanticSegmentation.from_pretrained`，顺手绕开
# transformers 4.57 的两个坑：一是文件夹里如果只有 PyTorch 的 `model.safetensors`，TF 加载器会直接崩溃
# （`'builtins.safe_open' object is not iterable`），所以在没有 `tf_model.h5` 时它会传 `from_pt=True`；
# 二是 TF 版 SegFormer 先在被忽略的标签 255 上算损失、再做掩码，CPU 上会报错
# （`Received a label value of 255 which is outside the valid range`），所以它换上了先掩码、再算损失的实现。
# 传入 `id2label` / `label2id` 后，解码头的输出维度就是我们的 150 个类别。

# %% tags=["pt"]
from transformers import AutoModelForSemanticSegmentation

id2label, label2id = sh.label_maps_for(P.dataset)  # ADE20K's 150, or your data set's own id2label.json
model = AutoModelForSemanticSegmentation.from_pretrained(CHECKPOINT, id2label=id2label, label2id=label2id,
                                                         ignore_mismatched_sizes=True)
print(f"{model.__class__.__name__}: {model.num_parameters() / 1e6:.2f} M parameters, "
      f"{model.config.num_labels} classes")

# %% tags=["tf"]
id2label, label2id = sh.label_maps_for(P.dataset)  # ADE20K's 150, or your data set's own id2label.json
model = shtf.load_model(CHECKPOINT, id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True)
print(f"{model.__class__.__name__}: {model.count_params() / 1e6:.2f} M parameters, "
      f"{model.config.num_labels} classes")

# %% [markdown] tags=["lang-en", "pt"]
# ## Training arguments
#
# The guide's values, taken from the profile: learning rate, batch size 2, evaluation and a checkpoint
# every 20 steps, at most 3 checkpoints kept, `logging_steps=1`, `eval_accumulation_steps=5`. Four details
# the guide does not spell out:
#
# - `remove_unused_columns=False` is required: the Trainer would otherwise drop the `image` and
#   `annotation` columns before our transform can turn them into `pixel_values` and `labels`.
# - The argument is `eval_strategy` now; the guide's `evaluation_strategy` was removed.
# - **Memory.** By default the Trainer keeps every evaluation logit until the end: 150 × 128 × 128 float32
#   ≈ 9.8 MB per 512² image, about 20 GB for 2,000 images. `preprocess_logits_for_metrics` upsamples and
#   takes the argmax per batch (0.25 MB of uint8 per image), and `batch_eval_metrics=True` feeds each
#   batch into a streaming confusion matrix, so evaluation memory no longer grows with the eval set.
# - Checkpoints go to `<output_dir>-checkpoints`; the final model is exported to `output_dir` in one
#   atomic step, so notebook 05 never loads a half-written model.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 训练参数
#
# 数值沿用指南（由配置档给出）：学习率、批大小 2、每 20 步评估一次并保存一个检查点、最多保留 3 个检查点、
# `logging_steps=1`、`eval_accumulation_steps=5`。另外有四个细节指南没有讲透：
#
# - 必须设置 `remove_unused_columns=False`：否则 Trainer 会在我们的变换把 `image`、`annotation`
#   变成 `pixel_values`、`labels` 之前，就把这两列删掉。
# - 参数名现在是 `eval_strategy`，指南里的 `evaluation_strategy` 已被移除。
# - **内存。** Trainer 默认会把评估时的全部 logits 攒到最后：每张 512² 图像 150 × 128 × 128 个 float32，
#   约 9.8 MB，2,000 张就是约 20 GB。`preprocess_logits_for_metrics` 在每个批次里先上采样再取 argmax
#   （每张图只剩 0.25 MB 的 uint8），`batch_eval_metrics=True` 再把每个批次累加进一个流式的混淆矩阵，
#   评估占用的内存就不再随评估集变大而增长。
# - 检查点存到 `<output_dir>-checkpoints`；最终模型一次性原子地导出到 `output_dir`，
#   05 节永远不会加载到写了一半的模型。

# %% tags=["pt"]
import torch
from transformers import PrinterCallback, Trainer, TrainingArguments

if P.push_to_hub:  # refuse early, and never print or store the token in the notebook
    from huggingface_hub import get_token

    if not get_token():
        raise PermissionError("push_to_hub=True needs a Hugging Face token: set HF_TOKEN or run "
                              "`huggingface-cli login` (in Jupyter: huggingface_hub.notebook_login()).")

training_args = TrainingArguments(
    output_dir=P.checkpoints_dir,
    learning_rate=P.learning_rate,
    num_train_epochs=P.num_train_epochs,
    max_steps=P.max_steps,
    per_device_train_batch_size=P.batch_size,
    per_device_eval_batch_size=P.batch_size,
    save_total_limit=3,
    eval_strategy="steps",
    save_strategy="steps",
    save_steps=P.save_steps,
    eval_steps=P.eval_steps,
    logging_steps=1,
    eval_accumulation_steps=5,
    remove_unused_columns=False,
    batch_eval_metrics=True,
    push_to_hub=P.push_to_hub,
    hub_model_id=P.hub_model_id,
    seed=P.seed,
    report_to="none",
    disable_tqdm=True,
    dataloader_pin_memory=torch.cuda.is_available(),
    # without an accelerator, say so: it also lets torchrun run N CPU processes (gloo) instead of N copies
    use_cpu=not (torch.cuda.is_available() or torch.backends.mps.is_available()),
)

trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=train_ds,
    eval_dataset=test_ds,
    compute_metrics=shpt.ComputeMetrics(num_labels=model.config.num_labels),
    preprocess_logits_for_metrics=shpt.preprocess_logits_for_metrics,
    callbacks=[shpt.AugmentationEpoch(train_transforms)],  # advances the seeded jitter every epoch
)
trainer.remove_callback(PrinterCallback)  # one printed dict per step is noise; the curves below show it all

# %% [markdown] tags=["lang-en", "tf"]
# ## Optimizer, schedule and `tf.data`
#
# The guide's TF section lowers the learning rate in steps with `PiecewiseConstantDecay` (boundaries at
# 100, 300, 500, 1000 and 3000 steps). We keep its shape but start from the profile's learning rate; to
# reproduce the guide exactly (it starts at 1e-4, not the PyTorch section's 6e-5), pass
# `-p learning_rate 1e-4`. The model is compiled **without a loss**: transformers' TF models compute their
# own loss when the batch contains `labels`.
#
# `to_tf_dataset` turns the transformed 🤗 datasets into batched `tf.data` pipelines. Keep the returned
# objects in variables as long as you train: with `set_transform`, datasets 5.0 empties the *source*
# dataset when such an object is garbage-collected — `seghelpers.tf.to_tf_dataset` converts a copy so
# `train_ds` stays usable.

# %% [markdown] tags=["lang-zh", "tf"]
# ## 优化器、学习率调度与 `tf.data`
#
# 指南的 TF 部分用 `PiecewiseConstantDecay` 分段降低学习率（在第 100、300、500、1000、3000 步处下调）。
# 这里保留它的形状，但起点换成配置档里的学习率；想完全复现指南（它从 1e-4 起步，而不是 PyTorch 部分的 6e-5），
# 传入 `-p learning_rate 1e-4` 即可。编译时**不传损失函数**：只要批次里有 `labels`，
# transformers 的 TF 模型会自己计算损失。
#
# `to_tf_dataset` 把做完变换的 🤗 数据集转换成按批次输出的 `tf.data` pipeline。训练期间要一直用变量持有返回的对象：
# 在使用 `set_transform` 时，datasets 5.0 会在这个对象被垃圾回收时清空*源*数据集——`seghelpers.tf.to_tf_dataset`
# 转换的是一份副本，`train_ds` 因此不受影响。

# %% tags=["tf"]
import math

boundaries = [100, 300, 500, 1000, 3000]
values = [P.learning_rate * f for f in (1.0, 0.5, 0.3, 0.1, 0.01, 0.001)]
learning_rate_schedule = tf.keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=boundaries, values=values)
optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate_schedule)
model.compile(optimizer=optimizer)

tf_train = shtf.to_tf_dataset(train_ds, batch_size=P.batch_size, shuffle=True)
tf_eval = shtf.to_tf_dataset(test_ds, batch_size=P.batch_size, shuffle=False)
steps_per_epoch = len(tf_train)
# like the Trainer: max_steps (if set) wins over num_train_epochs
epochs = math.ceil(P.max_steps / steps_per_epoch) if P.max_steps > 0 else math.ceil(P.num_train_epochs)
print(f"{steps_per_epoch} steps per epoch, {epochs} epochs")

# %% [markdown] tags=["lang-en", "tf"]
# ## Callbacks
#
# - `KerasMetricCallback` runs `seghelpers.tf.ComputeMetrics` on the eval set after every epoch and adds
#   `val_mean_iou`, `val_overall_accuracy` and one `val_iou_<class>` per class to the logs (as the guide does).
# - `ModelCheckpoint(save_best_only=True, monitor="val_loss")` keeps the weights of the best epoch.
# - `BackupAndRestore` (not in the guide) saves model, optimizer and epoch after every epoch; if the run is
#   killed, running the notebook again continues from the last finished epoch. The backup is deleted when
#   training completes. It restores whole epochs, so an interrupted run repeats the unfinished epoch. Unlike
#   the PyTorch resume, the result is close to, not identical with, an uninterrupted run: the backup holds
#   weights, optimizer state and epoch, but not tf.data's shuffle position or the random generator behind the
#   model's dropout, so later epochs see another (still seeded) order and other dropout masks (`make test`
#   checks that the first resumed epoch's loss is within 5% of the uninterrupted run's loss for that epoch,
#   not a fresh start's epoch-1 loss).

# %% [markdown] tags=["lang-zh", "tf"]
# ## 回调
#
# - `KerasMetricCallback` 在每轮（epoch）结束后用 `seghelpers.tf.ComputeMetrics` 在评估集上计算指标，
#   并把 `val_mean_iou`、`val_overall_accuracy` 以及每个类别各一个 `val_iou_<类名>` 写进日志（与指南一致）。
# - `ModelCheckpoint(save_best_only=True, monitor="val_loss")` 只保留验证损失最低那一轮的权重。
# - `BackupAndRestore`（指南里没有）每轮结束后保存模型、优化器状态和当前轮数；训练被中断后重新运行本 notebook，
#   会从最后一个完整的轮次继续。训练正常结束后备份会被删除。它按整轮恢复，所以被打断的那一轮会重新跑一遍。
#   PyTorch 的断点续训能得到与未中断训练完全相同的结果；TF 恢复后只是接近，不会逐位一致：备份里只有权重、
#   优化器状态和轮数，没有 tf.data 的 shuffle 状态，也没有模型 dropout 所用随机数生成器的状态，所以之后几轮的
#   数据顺序和 dropout 掩码都会不同（但仍由种子决定）。`make test` 会检查：恢复后第一轮的损失与未中断训练同一轮的
#   损失相差不到 5%，而不是从头训练时第 1 轮的损失。

# %% tags=["tf"]
from pathlib import Path

from transformers import KerasMetricCallback

ckpt_dir = Path(P.checkpoints_dir)
ckpt_dir.mkdir(parents=True, exist_ok=True)
if not P.resume and (ckpt_dir / "backup").exists():
    import shutil

    shutil.rmtree(ckpt_dir / "backup")  # resume=False: start over instead of silently continuing
callbacks = [
    KerasMetricCallback(metric_fn=shtf.ComputeMetrics(num_labels=model.config.num_labels, id2label=id2label),
                        eval_dataset=tf_eval, batch_size=P.batch_size, label_cols=["labels"]),
    tf.keras.callbacks.ModelCheckpoint(filepath=str(ckpt_dir / "best.weights.h5"), save_weights_only=True,
                                       save_best_only=True, monitor="val_loss", mode="min"),
    tf.keras.callbacks.BackupAndRestore(backup_dir=str(ckpt_dir / "backup")),
    # one short line per epoch (Keras' own log would list all 300 per-class metrics)
    tf.keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"epoch {epoch + 1}: loss {logs['loss']:.4f}, val_loss {logs['val_loss']:.4f}, "
        f"val_mean_iou {logs['val_mean_iou']:.4f}")),
]

# %% [markdown] tags=["lang-en"]
# ## Train
#
# On the `smoke` profile this takes seconds (PyTorch) to a minute (TensorFlow) on a laptop CPU. The `guide`
# profile (50 epochs of 40 images at 512², 1,000 steps) wants a GPU.

# %% [markdown] tags=["lang-zh"]
# ## 训练
#
# 用 `smoke` 配置，在笔记本电脑的 CPU 上只需几秒（PyTorch）到一分钟左右（TensorFlow）。
# `guide` 配置（40 张 512² 图像训练 50 轮，共 1,000 步）最好用 GPU。

# %% tags=["pt"]
resume_from = shpt.last_complete_checkpoint(P.checkpoints_dir) if P.resume else None
if P.resume:
    print("resuming from", resume_from or "scratch (no complete checkpoint yet)")
train_result = trainer.train(resume_from_checkpoint=resume_from)
print(f"trained {train_result.global_step} steps")

# %% tags=["tf"]
history = model.fit(tf_train, validation_data=tf_eval, epochs=epochs, callbacks=callbacks, verbose=0)

# %% [markdown] tags=["lang-en"]
# ## Evaluate, save, and look at the curves
#
# The final mean IoU on the held-out 20 %. On `smoke` the run is seeded end to end, so the printed numbers
# are the same on every rerun — CI re-executes this notebook and checks exactly that.

# %% [markdown] tags=["lang-zh"]
# ## 评估、保存与训练曲线
#
# 下面是在留出的 20% 数据上的最终 mIoU。`smoke` 配置从头到尾都固定了随机种子，
# 所以每次重新运行打印出的数字都一样——CI 会重新执行本 notebook，检查的正是这一点。

# %% tags=["pt", "metrics"]
# NBVAL_CHECK_OUTPUT
final = trainer.evaluate()
print(f"eval mean IoU: {final['eval_mean_iou']:.4f}")
print(f"eval overall accuracy: {final['eval_overall_accuracy']:.4f}")
print(f"eval loss: {final['eval_loss']:.4f}")

# %% tags=["tf", "metrics"]
# NBVAL_CHECK_OUTPUT
final = {k: v[-1] for k, v in history.history.items()}
print(f"eval mean IoU: {final['val_mean_iou']:.4f}")
print(f"eval overall accuracy: {final['val_overall_accuracy']:.4f}")
print(f"eval loss: {final['val_loss']:.4f}")

# %% tags=["pt"]
if trainer.is_world_process_zero():  # under torchrun / accelerate only one process writes the export
    sh.save_pretrained_atomic(P.output_dir, trainer.model, image_processor)
    print("saved to", P.output_dir, sorted(os.listdir(P.output_dir)))
if P.push_to_hub:
    trainer.push_to_hub()

# %% tags=["tf"]
sh.save_pretrained_atomic(P.output_dir, model, image_processor)
print("saved to", P.output_dir, sorted(os.listdir(P.output_dir)))
if P.push_to_hub:
    from huggingface_hub import get_token

    if not get_token():
        raise PermissionError("push_to_hub=True needs a Hugging Face token: set HF_TOKEN or run `huggingface-cli login`.")
    model.push_to_hub(P.hub_model_id or Path(P.output_dir).name)
    image_processor.push_to_hub(P.hub_model_id or Path(P.output_dir).name)

# %% tags=["pt"]
import matplotlib.pyplot as plt

sh.viz.plot_training_curves(trainer.state.log_history, keys=("loss", "eval_loss", "eval_mean_iou"))
plt.tight_layout()
plt.show()

# %% tags=["tf"]
import matplotlib.pyplot as plt

sh.viz.plot_training_curves(history.history, keys=("loss", "val_loss", "val_mean_iou"))
plt.tight_layout()
plt.show()

# %% [markdown] tags=["lang-en", "pt"]
# ## Going further: more than one GPU or machine
#
# The Trainer already speaks data parallelism: the same code runs on N GPUs (or N machines) when it is
# started by `torchrun` or `accelerate launch` instead of Jupyter. `make script` exports this notebook to
# `build/scripts/04_train_pytorch.py`, e.g. `torchrun --nproc_per_node 4 build/scripts/04_train_pytorch.py
# --profile full`. The README's "Scaling up" section has the commands and the memory per GPU.

# %% [markdown] tags=["lang-zh", "pt"]
# ## 进阶：多卡与多机训练
#
# Trainer 本身就支持数据并行：同一份代码改用 `torchrun` 或 `accelerate launch` 启动（而不是在 Jupyter 里运行），
# 就能跑在 N 张 GPU（或 N 台机器）上。`make script` 会把本 notebook 导出成 `build/scripts/04_train_pytorch.py`，
# 例如 `torchrun --nproc_per_node 4 build/scripts/04_train_pytorch.py --profile full`。
# 具体命令和每张卡的显存占用见 README 的“Scaling up”一节。

# %% [markdown] tags=["lang-en", "tf"]
# ## Going further: more than one GPU or machine
#
# Keras distributes `fit` through a `tf.distribute` strategy: build and compile the model inside
# `strategy.scope()`, and feed a global batch size (per-replica batch × replicas).
# `tf.distribute.MirroredStrategy()` uses all GPUs of one machine; `MultiWorkerMirroredStrategy()` spans
# machines, each started with its own `TF_CONFIG`. The sketch below runs the mirrored path on whatever
# devices this machine has (two logical CPU devices in the kit's tests).

# %% [markdown] tags=["lang-zh", "tf"]
# ## 进阶：多卡与多机训练
#
# Keras 通过 `tf.distribute` 策略把 `fit` 分布到多个设备上：在 `strategy.scope()` 里构建并编译模型，
# 批大小用全局批大小（单副本批大小 × 副本数）。`tf.distribute.MirroredStrategy()` 使用单机上的全部 GPU；
# `MultiWorkerMirroredStrategy()` 跨多台机器，每台机器用各自的 `TF_CONFIG` 启动。
# 下面的示例在本机现有的设备上跑一遍镜像策略（kit 的测试里是两个逻辑 CPU 设备）。

# %% tags=["tf"]
strategy = tf.distribute.MirroredStrategy()
print("replicas:", strategy.num_replicas_in_sync)
# with strategy.scope():
#     model = shtf.load_model(CHECKPOINT, id2label=sh.id2label, label2id=sh.label2id)
#     model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate_schedule))
# model.fit(shtf.to_tf_dataset(train_ds, P.batch_size * strategy.num_replicas_in_sync, shuffle=True), epochs=epochs)

# %% [markdown] tags=["lang-en"]
# ## Exercises
#
# 1. Run the notebook again with `resume=True` after interrupting it mid-training (Kernel → Interrupt).
#    Which step (PyTorch) or epoch (TensorFlow) does it continue from, and why?
# 2. Double `learning_rate` and halve it. How do the loss curve and the final mean IoU change?
# 3. Set `batch_size` to 1 and then 8 (keep `max_steps`). Which classes gain or lose IoU?
# 4. *(needs the hub)* Run with `-p profile guide` on a GPU and compare your mean IoU with the guide's model card.

# %% [markdown] tags=["lang-zh"]
# ## 练习
#
# 1. 训练到一半时中断（Kernel → Interrupt），再以 `resume=True` 重新运行。
#    它从哪一步（PyTorch）或哪一轮（TensorFlow）继续？为什么？
# 2. 把 `learning_rate` 加倍、再减半，损失曲线和最终 mIoU 分别怎么变？
# 3. 把 `batch_size` 改成 1，再改成 8（`max_steps` 不变），哪些类别的交并比上升了，哪些下降了？
# 4. *（需要访问 Hub）* 在 GPU 上用 `-p profile guide` 运行，把你的 mIoU 和指南模型卡上的结果对比一下。
