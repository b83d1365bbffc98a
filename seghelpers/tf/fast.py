"""Faster training for transformers' ``TFSegformerForSemanticSegmentation`` on the same weights.

:func:`fast_training` rewrites a model *in place*, replacing two layers' ``call`` on the instance
(weights, variable names, ``save_pretrained`` output and the function computed are unchanged; results
differ by float rounding only):

1. **Depthwise convolution.** Each Mix-FFN's 3x3 depthwise convolution is a Keras ``Conv2D`` with
   ``groups=channels``; TensorFlow's CPU kernels run that grouped convolution, and its gradient, several
   times slower than ``tf.nn.depthwise_conv2d`` computing the same thing from the same kernel
   (measured here: the mit-b0 encoder's forward + backward at 512x512, batch 2, 9.9 s vs 4.5 s).
2. **Folded decode head.** The same algebra as :class:`seghelpers.pt.fast.TrainableFoldedDecodeHead`:
   each stage's MLP ``A_i x + a_i`` followed by its block ``F_i`` of the 1x1 fuse convolution is one
   linear map ``(A_i F_i) x + a_i F_i``, and bilinear resizing commutes with it, so each stage goes to the
   256 fused channels at its own resolution and only the sum is normalised. The products are recomputed
   from the live variables in every call, so gradients reach the original kernels.

XLA (``jit_compile=True``) was measured too and is *slower* on CPU (20 s vs 9 s a step for mit-b0 at
512x512, batch 2), so the kit does not turn it on.
"""
from __future__ import annotations

import types

import tensorflow as tf


def _depthwise_call(self, hidden_states, height, width):
    """TFSegformerDWConv.call through ``tf.nn.depthwise_conv2d`` (same kernel variable, same result)."""
    batch = tf.shape(hidden_states)[0]
    channels = hidden_states.shape[-1]
    conv = self.depthwise_convolution
    x = tf.reshape(hidden_states, (batch, height, width, channels))
    kernel = tf.transpose(conv.kernel, (0, 1, 3, 2))  # (3, 3, 1, C) grouped -> (3, 3, C, 1) depthwise
    x = tf.nn.depthwise_conv2d(x, kernel, strides=(1, 1, 1, 1), padding="SAME") + conv.bias
    return tf.reshape(x, (batch, height * width, channels))


def _folded_head_call(self, encoder_hidden_states, training=False):
    """TFSegformerDecodeHead.call with each stage's MLP folded into its block of the fuse convolution."""
    width = self.config.decoder_hidden_size
    n = len(self.mlps)
    fuse = self.linear_fuse.kernel[0, 0]  # (n * width, width); the concatenation is last stage first
    size = tf.shape(encoder_hidden_states[0])[2:]
    total = None
    for i, (h, mlp) in enumerate(zip(encoder_hidden_states, self.mlps)):  # h: (batch, C_i, H_i, W_i)
        block = fuse[(n - 1 - i) * width:(n - i) * width]
        kernel = tf.matmul(mlp.proj.kernel, block)  # (C_i, width)
        bias = tf.linalg.matvec(block, mlp.proj.bias, transpose_a=True)
        y = tf.einsum("bchw,cd->bhwd", h, kernel) + bias
        if i:
            y = tf.image.resize(y, size=size, method="bilinear")
        total = y if total is None else total + y
    hidden = self.activation(self.batch_norm(total, training=training))
    return self.classifier(self.dropout(hidden, training=training))


def unsupported(model) -> str | None:
    """Why :func:`fast_training` cannot rewrite ``model``, or None if it can."""
    from transformers import TFSegformerForSemanticSegmentation
    from transformers.models.segformer.modeling_tf_segformer import TFSegformerDecodeHead

    if not isinstance(model, TFSegformerForSemanticSegmentation):
        return f"fast_training needs a TFSegformerForSemanticSegmentation, got {type(model).__name__}"
    head = model.decode_head
    if type(head) is not TFSegformerDecodeHead:
        return f"fast_training folds transformers' TFSegformerDecodeHead only, this model has {type(head).__name__}"
    if model.config.reshape_last_stage is False:
        return "fast_training does not support the deprecated SegformerConfig(reshape_last_stage=False)"
    if head.linear_fuse.use_bias or tuple(head.linear_fuse.kernel_size) != (1, 1):
        return "fast_training: this decode head's fuse layer differs from TFSegformerDecodeHead's"
    return None


def fast_training(model):
    """Speed up training (and inference) of a ``TFSegformerForSemanticSegmentation`` in place; returns it.

    Rewrites 1 and 2 of this module. Call it after ``load_model`` and before ``compile``/``fit``. The model
    must be built (``load_model`` returns built models). Losses and gradients equal the unmodified model's up
    to float32 rounding (``tests/test_fast.py``; ``make bench`` checks the loss trajectory over the guide's
    recipe). Raises ``TypeError`` for a model it cannot rewrite (see :func:`unsupported`): train it as it is.
    """
    from transformers.models.segformer.modeling_tf_segformer import TFSegformerDWConv

    reason = unsupported(model)
    if reason:
        raise TypeError(f"{reason}; train the model as it is (fast = False)")
    for layer in model.submodules:
        if type(layer) is TFSegformerDWConv:
            layer.call = types.MethodType(_depthwise_call, layer)
    model.decode_head.call = types.MethodType(_folded_head_call, model.decode_head)
    return model
