"""A compact progress printer for ``transformers.Trainer``: one line per evaluation.

The Trainer's own printers are a progress bar (off when ``disable_tqdm=True``) or one dict per
logging step (``PrinterCallback``: 1,000 dicts for the guide's run). :class:`ProgressPrinter` prints
instead, on the main process only,

* one line per evaluation: step, epoch, mean training loss since the previous line, eval loss, eval mIoU;
* a training-loss line every ``every`` steps when no evaluation falls on that step.
"""
from __future__ import annotations

from transformers import TrainerCallback

from ..i18n import tr


class ProgressPrinter(TrainerCallback):
    """``Trainer(callbacks=[ProgressPrinter()])``; remove ``PrinterCallback`` to avoid a second printer."""

    def __init__(self, every: int = 100, metric: str = "eval_mean_iou"):
        if int(every) < 1:
            raise ValueError(tr(f"every={every!r}: print a loss line every N >= 1 steps",
                                f"every={every!r}：每 N 步打印一行损失，N 必须 >= 1"))
        self.every = int(every)
        self.metric = metric
        self._losses: list[float] = []
        self._training = False

    def _head(self, state) -> str:
        width = len(str(state.max_steps))
        return f"step {state.global_step:>{width}}/{state.max_steps}  epoch {state.epoch or 0:5.2f}"

    def _train_loss(self) -> str:
        if not self._losses:
            return ""
        mean = sum(self._losses) / len(self._losses)
        self._losses.clear()
        return f"  loss {mean:.4f}"

    @staticmethod
    def _evaluates_now(args, state) -> bool:
        strategy = getattr(args.eval_strategy, "value", args.eval_strategy)
        return strategy == "steps" and state.global_step % int(args.eval_steps or 1) == 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._losses.clear()
        self._training = True
        if state.is_world_process_zero:
            print(tr(f"training for {state.max_steps} steps, batch size {args.per_device_train_batch_size} "
                     f"per device, starting at step {state.global_step}",
                     f"共训练 {state.max_steps} 步，每个设备的批大小为 {args.per_device_train_batch_size}，"
                     f"从第 {state.global_step} 步开始", keep_en=False))

    def on_train_end(self, args, state, control, **kwargs):
        self._training = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self._losses.append(float(logs["loss"]))
            if (state.is_world_process_zero and state.global_step % self.every == 0
                    and not self._evaluates_now(args, state)):
                print(self._head(state) + self._train_loss())

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not (self._training and state.is_world_process_zero and metrics):
            return  # evaluate() after training prints its own results
        line = self._head(state) + self._train_loss()
        if "eval_loss" in metrics:
            line += f"  eval_loss {metrics['eval_loss']:.4f}"
        if self.metric in metrics:
            line += f"  {self.metric} {metrics[self.metric]:.4f}"
        print(line)


def _compact_bars():
    """Subclasses of the Trainer's two bars that show numbers only (built on first use: they import transformers)."""
    from transformers import ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback

    class CompactNotebookProgress(NotebookProgressCallback):
        """The notebook bar and its table of evaluations, one column per number: per-class lists (150 values
        each for ADE20K) stay in ``trainer.state.log_history``."""

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            scalars = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
            return super().on_evaluate(args, state, control, metrics=scalars, **kwargs)

    class QuietProgress(ProgressCallback):
        """tqdm's bar without its copy of every log dict (``logging_steps=1``: one dict per step)."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    return CompactNotebookProgress, QuietProgress


def report_progress(trainer, live: bool | None = None) -> None:
    """How ``trainer`` shows its progress: a live bar where a person watches, printed lines elsewhere.

    ``live``: None asks :func:`seghelpers.quiet.live_progress` (True in JupyterLab, Notebook, Colab and VS Code;
    False in papermill, nbval, scripts).

    * Live in a notebook front-end: the Trainer's notebook bar and table of evaluations stay, with numbers only
      (its table would otherwise hold every per-class list the metric returns).
    * Live elsewhere (tqdm's text bar): the bar stays, without its copy of every log dict, and a
      :class:`ProgressPrinter` prints one line per evaluation.
    * Not live: the bar is removed, so an executed notebook does not keep hundreds of redraws, and a
      :class:`ProgressPrinter` prints one line per evaluation.

    ``PrinterCallback`` (one raw dict per logging step, the Trainer's choice under ``disable_tqdm=True``) is always
    removed. Call it once, after ``Trainer(...)`` and before ``trainer.train()``.
    """
    from transformers import PrinterCallback, ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback

    from ..quiet import live_progress

    compact_notebook, quiet_bar = _compact_bars()
    live = live_progress() if live is None else bool(live)
    callbacks = trainer.callback_handler.callbacks
    notebook_bar = any(type(cb) is NotebookProgressCallback for cb in callbacks)
    text_bar = any(type(cb) is ProgressCallback for cb in callbacks)
    for callback in (PrinterCallback, NotebookProgressCallback, ProgressCallback):
        trainer.remove_callback(callback)
    if live and notebook_bar:
        trainer.add_callback(compact_notebook())
        return
    if live and text_bar:
        trainer.add_callback(quiet_bar())
    if not any(isinstance(cb, ProgressPrinter) for cb in trainer.callback_handler.callbacks):
        trainer.add_callback(ProgressPrinter())
