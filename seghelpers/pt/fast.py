"""Fast SegFormer inference in PyTorch: the same class maps in less time and memory.

Three rewrites, each exact in real arithmetic; in float32 the logits move by rounding only (~1e-7 of
their size), so a class map can change only at a pixel whose two best classes are already tied to that
precision (in float16 / bfloat16, to that format's much coarser precision):

1. **Fused attention.** ``scaled_dot_product_attention`` replaces transformers' matmul, divide,
   softmax, matmul (one kernel; the score matrix never goes through memory).
2. **Folded decode head.** The all-MLP head projects each encoder stage to 256 channels (linear),
   upsamples to 1/4 resolution (bilinear: linear too), concatenates and mixes with a 1x1 conv (linear
   again), then BatchNorm (affine in eval). Linear maps compose and commute with bilinear upsampling,
   so each stage can go straight to the fused 256 channels with one matrix, *at its own resolution*
   (1/8 .. 1/32: 4x to 64x fewer pixels), and the sum is upsampled instead of the concatenation.
   For mit-b0 this removes ~4.3 of its ~8 GMAC per 512x512 image.
3. **Streamed upsample + argmax** (:func:`upsample_argmax_streamed`): a band of output rows at a time,
   so the (classes x H x W) float map (210 MB for one 512x683 image) is never built.

1 and 2 make a model copy (:func:`fast_segformer`), used by ``seghelpers.pt.predict(..., fast=True)``
(the default); 3 is how ``seghelpers.pt.upsample_argmax`` works on the CPU, whatever the model.
``make bench`` (benchmark 6) measures each against the transformers pipeline's way.
"""
from __future__ import annotations

import copy
import functools

import torch
from torch import nn

#: a band of the streamed upsample holds at most this many floats (4 MB: stays in the CPU's cache)
BAND_FLOATS = 1 << 20


def _source_index(out_size: int, in_size: int):
    """Bilinear source rows/columns (align_corners=False) as torch's CPU kernels compute them.

    ``(dst + 0.5) * scale - 0.5`` is rounded once, as the fused multiply-add of torch's vectorised (AVX2,
    AVX-512, NEON) builds does: the float64 product of two float32 numbers is exact. Rounding twice would
    move some weights by one float32 step of the coordinate (~4e-6 at 64), i.e. by that times the logit step.
    """
    scale = torch.tensor(in_size, dtype=torch.float32) / out_size
    dst = torch.arange(out_size, dtype=torch.float32) + 0.5
    src = (scale.double() * dst.double() - 0.5).float().clamp_min(0)
    i0 = src.floor().long().clamp_max(in_size - 1)
    w1 = (src - i0).clamp(0, 1)
    i1 = torch.where(i0 < in_size - 1, i0 + 1, i0)
    return i0, i1, 1 - w1, w1


@torch.no_grad()
def upsample_argmax_streamed(logits: torch.Tensor, size) -> torch.Tensor:
    """(N, C, h, w) logits -> (N, H, W) int64: bilinear upsample to ``size`` then argmax, band by band.

    The same source coordinates and weights as ``interpolate(..., mode="bilinear", align_corners=False)``;
    the weighted sums are grouped differently (each output row is a weighted sum of two width-interpolated
    input rows), so values differ by float32 rounding and the argmax only where two classes are tied to
    that precision. Output rows between the same two input rows form a band (at most :data:`BAND_FLOATS`
    floats), interpolated and reduced while it is in cache; an input row is width-interpolated once.
    Memory: O(W x C) instead of O(H x W x C). Meant for the CPU; on a GPU one interpolate kernel is faster.
    """
    n, c, h, w = logits.shape
    big_h, big_w = (int(s) for s in size)
    out = torch.empty((n, big_h, big_w), dtype=torch.long, device=logits.device)
    c0, c1, cw0, cw1 = (t.to(logits.device) for t in _source_index(big_w, w))
    r0, r1, rw0, rw1 = _source_index(big_h, h)
    # output rows between the same two input rows form a group: [starts[g], starts[g + 1])
    starts = [0, *torch.unique_consecutive(r0, return_counts=True)[1].cumsum(0).tolist()]
    r0, r1 = r0.tolist(), r1.tolist()
    cw0, cw1 = cw0[:, None], cw1[:, None]
    rw0, rw1 = rw0.to(logits.device)[:, None, None], rw1.to(logits.device)[:, None, None]
    step = max(1, BAND_FLOATS // max(1, big_w * c))
    for k in range(n):
        x = logits[k].float().permute(1, 2, 0).contiguous()  # (h, w, C): classes innermost
        rows: dict[int, torch.Tensor] = {}

        def row(i: int) -> torch.Tensor:  # input row i interpolated to the output width: (W, C)
            if i not in rows:
                if len(rows) > 2:  # bands move down the image: older rows are done
                    del rows[min(rows)]
                xi = x[i]
                rows[i] = (xi[c0] * cw0).addcmul_(xi[c1], cw1)
            return rows[i]

        for g0, g1 in zip(starts[:-1], starts[1:]):
            a, b = row(r0[g0]), row(r1[g0])
            for y0 in range(g0, g1, step):
                y1 = min(g1, y0 + step)
                band = (a * rw0[y0:y1]).addcmul_(b, rw1[y0:y1])
                torch.argmax(band, dim=-1, out=out[k, y0:y1])
    return out


@functools.lru_cache(maxsize=None)
def _fused_attention_class():
    from transformers.models.segformer.modeling_segformer import SegformerEfficientSelfAttention

    class FusedEfficientSelfAttention(SegformerEfficientSelfAttention):
        """SegFormer's efficient self-attention through ``scaled_dot_product_attention``.

        Training too: attention dropout (0 in the mit-b* configs) is passed as ``dropout_p``, the same
        operation with another draw of the random generator.
        """

        def forward(self, hidden_states, height, width, output_attentions=False):
            if output_attentions:  # the attention maps themselves: the original code
                return super().forward(hidden_states, height, width, output_attentions)
            b, length, channels = hidden_states.shape
            heads, dim = self.num_attention_heads, self.attention_head_size

            def split(t):  # (b, L, heads*dim) -> (b, heads, L, dim)
                return t.view(b, -1, heads, dim).transpose(1, 2)

            query = split(self.query(hidden_states))
            if self.sr_ratio > 1:  # sequence reduction: a strided conv over the feature map, then LayerNorm
                grid = hidden_states.transpose(1, 2).reshape(b, channels, height, width)
                hidden_states = self.layer_norm(self.sr(grid).flatten(2).transpose(1, 2))
            context = nn.functional.scaled_dot_product_attention(
                query, split(self.key(hidden_states)), split(self.value(hidden_states)),
                dropout_p=self.dropout.p if self.training else 0.0)
            return (context.transpose(1, 2).reshape(b, length, heads * dim),)

    return FusedEfficientSelfAttention


class FoldedDecodeHead(nn.Module):
    """SegFormer's all-MLP decode head with its linear parts folded into one matrix per stage (eval only).

    Original: ``classifier(relu(bn(fuse(concat(up(mlp_i(h_i)) for stages reversed)))))``.
    Folded:   ``classifier(relu(sum_i up(conv1x1(h_i, W_i)) + bias))`` with ``W_i = s * F_i @ A_i``, where
    ``A_i`` is stage i's MLP, ``F_i`` its column block of the fuse conv and ``s`` BatchNorm's scale; the
    biases and BatchNorm's shift are summed into ``bias``. Weights are copied when it is built: train
    the original model, then fold again.
    """

    def __init__(self, head):
        super().__init__()
        width = head.config.decoder_hidden_size
        n = len(head.linear_c)
        bn = head.batch_norm
        with torch.no_grad():
            fuse = head.linear_fuse.weight[:, :, 0, 0].double()  # (width, n*width); concat is last stage first
            scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
            bias = bn.bias.double() - bn.running_mean.double() * scale
            mats = []
            for i, mlp in enumerate(head.linear_c):
                block = fuse[:, (n - 1 - i) * width:(n - i) * width]
                mats.append(scale[:, None] * (block @ mlp.proj.weight.double()))
                bias = bias + scale * (block @ mlp.proj.bias.double())
        dtype = head.linear_fuse.weight.dtype
        self.weights = nn.ParameterList([nn.Parameter(m.to(dtype)[:, :, None, None], requires_grad=False)
                                         for m in mats])
        self.bias = nn.Parameter(bias.to(dtype), requires_grad=False)
        self.classifier = copy.deepcopy(head.classifier)

    def forward(self, encoder_hidden_states):
        if self.training:
            raise RuntimeError("FoldedDecodeHead is for inference only: train the original model, then fold again")
        cl = torch.channels_last  # 1x1 convs and bilinear upsampling are faster on CPU in this layout
        size = encoder_hidden_states[0].shape[2:]
        total = None
        for h, weight in zip(encoder_hidden_states, self.weights):
            y = nn.functional.conv2d(h.contiguous(memory_format=cl), weight)
            if y.shape[2:] != size:
                y = nn.functional.interpolate(y, size=size, mode="bilinear", align_corners=False)
            total = y if total is None else total.add_(y)
        total = total.add_(self.bias[None, :, None, None]).relu_()
        return self.classifier(total)


def unsupported(model) -> str | None:
    """Why :func:`fast_segformer` cannot rewrite ``model``, or None if it can.

    Only transformers' own decode head is folded (exactly that class, with its linear MLPs, a bias-free fuse
    conv and BatchNorm with running statistics): a subclass or a custom head may compute something else.
    """
    from transformers import SegformerForSemanticSegmentation
    from transformers.models.segformer.modeling_segformer import SegformerDecodeHead

    if not isinstance(model, SegformerForSemanticSegmentation):
        return f"fast_segformer needs a SegformerForSemanticSegmentation, got {type(model).__name__}"
    head = model.decode_head
    if type(head) is not SegformerDecodeHead and type(head) is not _trainable_head_class():
        return f"fast_segformer folds transformers' SegformerDecodeHead only, this model has {type(head).__name__}"
    if model.config.reshape_last_stage is False:
        return "fast_segformer does not support the deprecated SegformerConfig(reshape_last_stage=False)"
    if (head.linear_fuse.bias is not None or head.linear_fuse.kernel_size != (1, 1)
            or not all(type(m.proj) is nn.Linear for m in head.linear_c)
            or type(head.batch_norm) is not nn.BatchNorm2d or head.batch_norm.running_mean is None):
        return "fast_segformer: this decode head's layers differ from SegformerDecodeHead's (cannot fold them)"
    return None


def fast_segformer(model):
    """An inference-only copy of a ``SegformerForSemanticSegmentation`` with rewrites 1 and 2 (see module).

    Same call, same outputs (``.logits`` equal up to float32 rounding). The copy snapshots the weights:
    after more training, call it again. ``model`` itself is not changed. The copy holds a second set of
    weights (for mit-b0, 14 MB); ``predict(fast=True)`` makes one per call.
    """
    reason = unsupported(model)
    if reason:
        raise TypeError(f"{reason}; use the model as it is (predict(..., fast=False))")
    from transformers.models.segformer.modeling_segformer import SegformerEfficientSelfAttention

    fast = copy.deepcopy(model).eval()
    for module in fast.modules():
        if type(module) is SegformerEfficientSelfAttention:  # exactly transformers' class, not a user subclass
            module.__class__ = _fused_attention_class()
    fast.decode_head = FoldedDecodeHead(model.decode_head).to(next(model.parameters()).device)
    return fast.eval()


@functools.lru_cache(maxsize=None)
def _trainable_head_class():
    from transformers.models.segformer.modeling_segformer import SegformerDecodeHead

    class TrainableFoldedDecodeHead(SegformerDecodeHead):
        """SegformerDecodeHead whose forward folds each stage's MLP into its block of the fuse conv.

        The same parameters (state dict, ``save_pretrained`` unchanged) and the same function in real
        arithmetic, in training too: ``F_i @ (A_i x + a_i) = (F_i A_i) x + F_i a_i`` and bilinear
        upsampling commutes with both, so the product ``F_i A_i`` (recomputed every call from the live
        weights, so gradients reach ``A_i`` and ``F``) is applied at the stage's own resolution and only
        the 256-channel sums are upsampled. Batch normalisation, ReLU, dropout and the classifier then
        run as before (BatchNorm still sees the same pre-normalisation activations). For mit-b0 at 512²
        this skips the 1x1 fuse conv over 1024 channels at 1/4 resolution: ~4.3 GMAC forward.
        """

        def forward(self, encoder_hidden_states):
            width = self.config.decoder_hidden_size
            n = len(self.linear_c)
            fuse = self.linear_fuse.weight[:, :, 0, 0]  # (width, n * width); the concat is last stage first
            size = encoder_hidden_states[0].shape[2:]
            total = None
            for i, (h, mlp) in enumerate(zip(encoder_hidden_states, self.linear_c)):
                block = fuse[:, (n - 1 - i) * width:(n - i) * width]
                weight = (block @ mlp.proj.weight)[:, :, None, None]
                y = nn.functional.conv2d(h, weight, block @ mlp.proj.bias)
                if y.shape[2:] != size:
                    y = nn.functional.interpolate(y, size=size, mode="bilinear", align_corners=False)
                total = y if total is None else total + y
            hidden = self.dropout(self.activation(self.batch_norm(total)))
            return self.classifier(hidden)

    return TrainableFoldedDecodeHead


def fast_training(model):
    """Speed up training of a ``SegformerForSemanticSegmentation`` *in place*; returns the model.

    Fused attention (rewrite 1, with attention dropout passed through) and the decode head's MLPs folded
    into the fuse conv (:class:`TrainableFoldedDecodeHead`, recomputed from the live weights each step).
    Parameters, state dict, config and ``save_pretrained`` output are unchanged, and so is the function in
    real arithmetic: losses and gradients differ by float rounding only (``make bench`` checks the loss
    trajectory against the unmodified model). A model it cannot rewrite (see :func:`unsupported`) raises
    ``TypeError``; train it as it is.
    """
    reason = unsupported(model)
    if reason:
        raise TypeError(f"{reason}; train the model as it is (fast=False)")
    from transformers.models.segformer.modeling_segformer import SegformerEfficientSelfAttention

    for module in model.modules():
        if type(module) is SegformerEfficientSelfAttention:
            module.__class__ = _fused_attention_class()
    model.decode_head.__class__ = _trainable_head_class()
    return model
