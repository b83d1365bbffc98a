"""seghelpers.pt.fast: fused attention, folded decode head, streamed upsample + argmax."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _plain(logits, size):
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(1)


@pytest.mark.parametrize("shape, size", [
    ((3, 7, 9, 11), (37, 45)),   # upsample, uneven factors
    ((2, 5, 9, 11), (5, 4)),     # downsample: bands of one row, input rows skipped
    ((1, 6, 8, 8), (8, 19)),     # width only
    ((1, 4, 1, 1), (3, 5)),      # a single input pixel
    ((2, 150, 16, 16), (61, 64)),  # ADE's 150 classes
])
@pytest.mark.parametrize("band_floats", [1 << 20, 7])  # 7: every band split to one row
def test_streamed_upsample_argmax_equals_interpolate(monkeypatch, shape, size, band_floats):
    from seghelpers.pt import fast

    monkeypatch.setattr(fast, "BAND_FLOATS", band_floats)
    g = torch.Generator().manual_seed(sum(shape))
    logits = torch.randn(*shape, generator=g) * 4  # well-separated classes: no float near-ties
    got = fast.upsample_argmax_streamed(logits, size)
    assert got.dtype == torch.int64 and got.shape == (shape[0], *size)
    assert torch.equal(got, _plain(logits, size))
    cl = logits.contiguous(memory_format=torch.channels_last)[-1:]  # layout must not matter
    assert torch.equal(fast.upsample_argmax_streamed(cl, size), _plain(logits, size)[-1:])


def test_streamed_uses_torchs_source_coordinates():
    """A ramp class against a constant one: the winner flips exactly where torch's weights say (a source
    coordinate off by one float32 step would flip a different column)."""
    from seghelpers.pt.fast import upsample_argmax_streamed

    for level in (63.82, 10.37, 100.5001):
        x = torch.zeros(1, 2, 3, 128)
        x[0, 1] = torch.arange(128, dtype=torch.float32)
        x[0, 0] = level
        assert torch.equal(upsample_argmax_streamed(x, (3, 1000)), _plain(x, (3, 1000)))


def test_streamed_ties_go_to_the_first_class_like_argmax():
    from seghelpers.pt.fast import upsample_argmax_streamed

    g = torch.Generator().manual_seed(1)
    logits = torch.randn(1, 6, 5, 7, generator=g)
    logits[:, 2] = logits[:, 4] = logits.amax(1) + 1  # classes 2 and 4 tie everywhere
    got = upsample_argmax_streamed(logits, (23, 17))
    assert torch.equal(got, torch.full_like(got, 2))
    assert torch.equal(got, _plain(logits, (23, 17)))


def test_upsample_argmax_uses_streaming_on_cpu(monkeypatch):
    import seghelpers.pt as pt

    calls = []
    monkeypatch.setattr(pt, "upsample_argmax_streamed", lambda x, s: calls.append(s) or _plain(x, s))
    pt.upsample_argmax(torch.zeros(1, 3, 4, 4), (8, 8))
    pt.upsample_argmax(torch.zeros(1, 3, 8, 8), (8, 8))  # same size: a plain argmax
    assert calls == [(8, 8)]


def _random_bn(model, seed=0):
    """Non-trivial BatchNorm statistics, affine terms and MLP biases (fresh ones are 0/1 and would hide a
    folding mistake); small variances, so a forgotten ``eps`` shows."""
    g = torch.Generator().manual_seed(seed)
    head = model.decode_head
    bn = head.batch_norm
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=g))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 1e-3 + 1e-4)
        bn.weight.copy_(torch.randn(bn.num_features, generator=g) * 0.05)
        bn.bias.copy_(torch.randn(bn.num_features, generator=g))
        for mlp in head.linear_c:
            mlp.proj.bias.copy_(torch.randn(mlp.proj.bias.shape, generator=g) * 0.01)
    return model


def _model(architecture="tiny", **overrides):
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from seghelpers.checkpoints import ARCHITECTURES

    torch.manual_seed(0)
    config = SegformerConfig(num_labels=150, **{**ARCHITECTURES[architecture], **overrides})
    return _random_bn(SegformerForSemanticSegmentation(config)).eval()


@pytest.mark.parametrize("architecture", ["tiny", "mit-b0"])
def test_fast_segformer_same_logits(architecture):
    from seghelpers.pt.fast import FoldedDecodeHead, fast_segformer

    model = _model(architecture)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = fast_segformer(model)
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want, got = model(pixel_values=x).logits, fast(pixel_values=x).logits
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * float(want.abs().max()))
    top2 = want.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 1e-4  # pixels whose class is defined beyond float32 rounding
    assert bool(clear.float().mean() > 0.95)
    assert torch.equal(got.argmax(1)[clear], want.argmax(1)[clear])
    # the model itself is untouched: same weights, same classes
    assert isinstance(fast.decode_head, FoldedDecodeHead) and not isinstance(model.decode_head, FoldedDecodeHead)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    kinds = {type(m).__name__ for m in model.modules()}
    assert "FusedEfficientSelfAttention" not in kinds
    assert "FusedEfficientSelfAttention" in {type(m).__name__ for m in fast.modules()}


def test_fast_segformer_keeps_attention_maps_and_refuses_training():
    from seghelpers.pt.fast import fast_segformer

    model = _model()
    fast = fast_segformer(model)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = model(pixel_values=x, output_attentions=True).attentions
        got = fast(pixel_values=x, output_attentions=True).attentions  # falls back to transformers' code
    assert len(got) == len(want) and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got, want))
    fast.train()
    with pytest.raises(RuntimeError, match="inference only"):
        fast(pixel_values=x)
    with pytest.raises(TypeError, match="SegformerForSemanticSegmentation.*fast=False"):
        fast_segformer(torch.nn.Linear(2, 2))
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="reshape_last_stage"):
        fast_segformer(_model(reshape_last_stage=False))


def test_predict_fast_equals_plain(tiny_checkpoint):
    import numpy as np
    from PIL import Image
    from transformers import AutoImageProcessor, SegformerForSemanticSegmentation

    from seghelpers.pt import predict

    model = _random_bn(SegformerForSemanticSegmentation.from_pretrained(tiny_checkpoint))
    processor = AutoImageProcessor.from_pretrained(tiny_checkpoint, use_fast=False)
    rng = np.random.default_rng(0)
    sizes = [(50, 70), (64, 64), (33, 90)]
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in sizes]
    fast, plain = predict(model, processor, images, batch_size=2), predict(model, processor, images, fast=False)
    assert [p.shape for p in fast] == sizes
    diff = sum(int((a != b).sum()) for a, b in zip(fast, plain))
    assert diff <= 1e-3 * sum(p.size for p in plain)  # float32 near-ties only
    assert len(np.unique(np.concatenate([p.ravel() for p in plain]))) > 1  # not a constant map


def test_predict_uses_the_fast_copy_only_for_transformers_own_head(tiny_checkpoint, monkeypatch):
    import numpy as np
    from PIL import Image
    from transformers import AutoImageProcessor, SegformerForSemanticSegmentation
    from transformers.models.segformer.modeling_segformer import SegformerDecodeHead

    import seghelpers.pt as pt
    from seghelpers.pt.fast import unsupported

    processor = AutoImageProcessor.from_pretrained(tiny_checkpoint, use_fast=False)
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8))
    model = SegformerForSemanticSegmentation.from_pretrained(tiny_checkpoint)
    made = []
    real = pt.fast_segformer
    monkeypatch.setattr(pt, "fast_segformer", lambda m: made.append(m) or real(m))
    pt.predict(model, processor, image)
    assert made == []  # the default is the guide's model, as it is
    pt.predict(model, processor, image, fast=True)
    assert made == [model]  # opt-in: the fast copy

    class ShiftedHead(SegformerDecodeHead):  # a user's head: folding it would drop the shift
        def forward(self, hidden_states):
            return super().forward(hidden_states) + torch.arange(self.config.num_labels)[None, :, None, None]

    custom = SegformerForSemanticSegmentation.from_pretrained(tiny_checkpoint)
    custom.decode_head = ShiftedHead(custom.config)
    assert "SegformerDecodeHead only" in unsupported(custom)
    got = pt.predict(custom, processor, image, fast=True)
    assert len(made) == 1  # not rewritten
    assert np.array_equal(got, pt.predict(custom, processor, image, fast=False))
    assert (got == custom.config.num_labels - 1).mean() > 0.99  # the shift decides, as the head says

    custom.decode_head = torch.nn.Identity()  # not even a SegFormer head: still predicts via the model
    assert "Identity" in unsupported(custom)


def test_fast_training_same_loss_and_gradients():
    """fast_training rewrites in place: same state dict, same loss, same gradients up to float rounding."""
    import copy

    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from seghelpers.checkpoints import ARCHITECTURES
    from seghelpers.pt.fast import fast_training

    torch.manual_seed(0)
    cfg = SegformerConfig(num_labels=7, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                          classifier_dropout_prob=0.0, drop_path_rate=0.0, **ARCHITECTURES["tiny"])
    a = SegformerForSemanticSegmentation(cfg).train()
    b = fast_training(copy.deepcopy(a))
    assert type(b.decode_head) is not type(a.decode_head)
    assert a.state_dict().keys() == b.state_dict().keys()
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, 7, (2, 64, 64))
    y[:, :3] = 255
    la, lb = a(pixel_values=x, labels=y).loss, b(pixel_values=x, labels=y).loss
    assert torch.allclose(la, lb, rtol=1e-5)
    la.backward()
    lb.backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        scale = pa.grad.abs().max()
        if scale > 1e-6:  # key biases and pre-BatchNorm biases have a zero true gradient: rounding noise only
            assert torch.allclose(pa.grad, pb.grad, atol=1e-4 * scale), name
    # and fast_segformer still folds the trained model for inference
    from seghelpers.pt.fast import fast_segformer

    b.eval()
    with torch.no_grad():
        assert torch.allclose(fast_segformer(b)(pixel_values=x).logits, a.eval()(pixel_values=x).logits, atol=1e-4)
