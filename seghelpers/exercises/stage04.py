"""Notebook 04 (train): steps per epoch against the live trainer / tf.data; read the curves of this run."""
from __future__ import annotations

import math

import numpy as np

from . import Choice, Exercise, Wrong, call


def _live_steps(loader) -> int:
    """Batches per epoch of the live training data: a PyTorch DataLoader or a tf.data.Dataset."""
    if hasattr(loader, "cardinality"):  # tf.data
        n = int(loader.cardinality())
        if n >= 0:
            return n
        return sum(1 for _ in loader)
    return len(loader)


def _check_steps(fn, train_ds, batch_size, loader):
    cases = [(40, 4), (41, 4), (3, 4), (1, 1), (len(train_ds), int(batch_size))]
    for n, b in cases:
        want = math.ceil(n / b)
        got = call(fn, n, b)
        if got != want:
            floor = n // b
            why = (f": the last {n - floor * b} image(s) still make a (smaller) batch, so round up (math.ceil)",
                   f"：剩下的 {n - floor * b} 张图像仍然组成一个（较小的）批次，所以要向上取整（math.ceil）") \
                if got == floor and n % b else ("", "")
            raise Wrong(f"{n} images in batches of {b} take {want} steps per epoch, you give {got}{why[0]}",
                        f"{n} 张图像、批大小 {b}，每轮（epoch）需要 {want} 步，你给出的是 {got}{why[1]}")
    live = _live_steps(loader)
    got = call(fn, len(train_ds), int(batch_size))
    if live != got:
        raise Wrong(f"the training data of this notebook yields {live} batches per epoch, your function says {got}",
                    f"本笔记本的训练数据每轮产生 {live} 个批次，你的函数给出的是 {got}")
    return (f"every image is seen once per epoch, the last batch may be smaller, so ceil({len(train_ds)} / "
            f"{batch_size}) = {live} optimizer steps, as the live training data confirms.",
            f"每轮（epoch）每张图像只过一次，最后一个批次可以不满，所以是 ceil({len(train_ds)} / {batch_size}) = "
            f"{live} 个优化步，和本笔记本实际的训练数据一致。")


steps_per_epoch = Exercise(
    1, _check_steps,
    hint=("one step per batch; a last, incomplete batch is still a step: `math.ceil(num_images / batch_size)`.",
          "一个批次一步；最后一个不满的批次也算一步：`math.ceil(num_images / batch_size)`。"),
    solution=('''
        import math


        def my_steps_per_epoch(num_images, batch_size):
            return math.ceil(num_images / batch_size)  # the last, smaller batch is a step too
        ''',
              "An epoch shows every training image once, batch_size at a time; the remainder forms one more, "
              "smaller batch (neither the Trainer nor to_tf_dataset drops it here).",
              "一轮（epoch）把每张训练图像过一遍，每次 batch_size 张；余下的图像再组成一个较小的批次"
              "（这里 Trainer 和 to_tf_dataset 都不会丢掉它）。"))


def curves(log):
    """(training losses, evaluation mean IoUs) in order, from the Trainer's ``log_history`` (a list of dicts)
    or Keras' ``history.history`` (a dict of lists)."""
    if isinstance(log, dict):
        return list(log.get("loss", [])), list(log.get("val_mean_iou", []))
    losses = [r["loss"] for r in log if "loss" in r]
    mious = [r["eval_mean_iou"] for r in log if "eval_mean_iou" in r]
    return losses, mious


def _curve_letter(log):
    losses, mious = curves(log)
    if len(losses) < 2 or losses[-1] >= losses[0]:
        return "c"
    return "a" if len(mious) >= 2 and np.nan_to_num(mious[-1]) > np.nan_to_num(mious[0]) else "b"


def _numbers(log):
    losses, mious = curves(log)
    loss = f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "—"
    miou = f"{mious[0]:.3f} -> {mious[-1]:.3f}" if mious else "—"
    return loss, miou


def _feedback(letter_en, letter_zh):
    def fb(log):
        loss, miou = _numbers(log)
        return (f"{letter_en} In this run the training loss went {loss} and the evaluation mean IoU {miou}.",
                f"{letter_zh}本次运行中训练损失从 {loss.replace(' -> ', ' 变为 ')}，评估 mIoU 从 "
                f"{miou.replace(' -> ', ' 变为 ')}。")
    return fb


read_the_curves = Choice(
    2,
    options={
        "a": _feedback("Loss down and mean IoU up: the model learned something that carries over to the test split.",
                       "损失下降、mIoU 上升：模型学到的东西在测试集上也管用。"),
        "b": _feedback("Loss down but mean IoU not up: the model fits the training images without getting better on "
                       "unseen ones (too few steps, or memorising).",
                       "损失下降但 mIoU 没有上升：模型拟合了训练图像，在没见过的图像上却没有变好（步数太少，或者在死记硬背）。"),
        "c": _feedback("Loss not down: training did not work (learning rate, labels, or too few steps).",
                       "损失没有下降：训练没有起作用（学习率、标签，或者步数太少）。"),
    },
    right=_curve_letter, variable="curves_answer",
    hint=("compare the first and last training loss, then the first and last evaluation mean IoU, in section 6's "
          "`log`.",
          "在第 6 小节的 `log` 里，比较第一个和最后一个训练损失，再比较第一个和最后一个评估 mIoU。"),
    solution_why=("The right letter depends on your run: compare first and last values of both curves. A falling loss "
                  "says the model fits the training set; only a rising test-split mean IoU says it generalises.",
                  "正确选项取决于你这次运行：比较两条曲线各自的首尾数值。损失下降只说明模型拟合了训练集；"
                  "只有测试集上的 mIoU 上升，才说明它能泛化。"),
    solution_code='''
        losses, mious = ex.curves(log)  # training losses and evaluation mean IoUs, in order
        if losses[-1] >= losses[0]:
            curves_answer = "c"
        else:
            curves_answer = "a" if mious[-1] > mious[0] else "b"
        ''')
