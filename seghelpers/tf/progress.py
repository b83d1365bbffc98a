"""A live progress bar for Keras ``fit`` that shows the loss and the mean IoU, not every logged metric.

Keras' own bar (``fit(verbose=1)``) prints every value in ``logs``: with the kit's ``ComputeMetrics`` that is a
``val_iou_<class>`` and a ``val_accuracy_<class>`` per class (300 values per epoch for ADE20K, most of them
``nan``), and notebook 04's one-line-per-epoch printer lands glued to the bar's last line. :class:`LiveProgress`
draws one bar over all training steps with tqdm (``tqdm.auto``: a widget in JupyterLab and Colab, text
elsewhere), with the running loss and, after each epoch, ``val_loss`` and ``val_mean_iou``, where a person watches
(:func:`seghelpers.quiet.live_progress`); elsewhere (papermill, nbval, scripts) it draws nothing, and executed
notebooks keep their printed lines.
"""
from __future__ import annotations

import tensorflow as tf

from ..i18n import tr

#: the logged values the bar shows (when present); everything else stays in ``history.history``
SHOWN = ("loss", "val_loss", "val_mean_iou")


class LiveProgress(tf.keras.callbacks.Callback):
    """``model.fit(..., verbose=0, callbacks=[..., LiveProgress()])``: one bar, step and time left, a few values.

    ``live``: None asks :func:`seghelpers.quiet.live_progress` when training begins; False draws nothing.
    """

    def __init__(self, shown=SHOWN, live: bool | None = None):
        super().__init__()
        self.shown = tuple(shown)
        self.live = live
        self.bar = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        from ..quiet import live_progress

        if not (live_progress() if self.live is None else self.live):
            return

        steps, epochs = self.params.get("steps"), self.params.get("epochs")
        total = steps * epochs if steps and epochs else None
        self.bar = tqdm(total=total, desc="fit", unit="step", leave=True, dynamic_ncols=True)
        # the first step waits while TensorFlow traces the training step: say so, or the bar looks stuck at 0
        self.bar.set_postfix_str(tr("first step: TensorFlow is tracing the model, a few seconds",
                                    "第一步：TensorFlow 正在构建计算图，需要几秒钟", keep_en=False))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def _postfix(self, logs) -> dict:
        return {"epoch": self._epoch, **{k: f"{float(logs[k]):.4f}" for k in self.shown if k in (logs or {})}}

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(self._postfix(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.set_postfix(self._postfix(logs))

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
