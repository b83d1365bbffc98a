"""Benchmark 7 (informative): tensor memory of one mit-b0 training step at 512x512, per batch size.

No GPU is needed: the step runs on the CPU and the kit counts the bytes a GPU would have to hold as
tensors at the peak of a step, exactly, from PyTorch itself:

* model states: weights + gradients + AdamW's two moments (4 x the parameter bytes, float32);
* activations: every tensor storage autograd keeps for the backward pass, counted once each through
  ``torch.autograd.graph.saved_tensors_hooks`` (the parameters themselves excluded); this includes
  the logits upsampled to 512x512 for the loss.

The sum is a lower bound for a GPU's peak: the CUDA context, cuDNN workspaces, the backward pass's
temporaries and allocator fragmentation come on top and are not estimated here (``GPU`` section of
RESULTS.md: measured only on a GPU).
"""
from __future__ import annotations

from .common import Row, check, failed_row

SIZE = 512
BATCHES_FULL = (2, 8)  # the guide's batch size, the `full` profile's batch size per GPU
BATCHES_QUICK = (1, 2)


def step_tensor_bytes(model, batch: int, size: int = SIZE) -> dict:
    """Bytes of model states and of saved activations for one forward + loss at ``batch`` x ``size``^2."""
    import torch

    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    param_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in param_storages:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=g)
    y = torch.randint(0, model.config.num_labels, (batch, size, size), generator=g)
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(pixel_values=x, labels=y).loss
    check(bool(torch.isfinite(loss)), f"batch {batch}: loss is not finite")
    return {"params": param_bytes, "model_states": 4 * param_bytes, "activations": sum(saved.values())}


def run(quick: bool = False) -> list[Row]:
    import torch
    from transformers import SegformerForSemanticSegmentation

    from seghelpers.checkpoints import resolve_checkpoint

    rows = []
    for batch in (BATCHES_QUICK if quick else BATCHES_FULL):
        name = f"7. (informative) training step tensor memory, mit-b0 {SIZE}x{SIZE}, batch {batch}"
        how = (f"random-init mit-b0 (150 classes), float32, one forward + loss on CPU (torch {torch.__version__}); "
               "model states = weights + grads + AdamW moments = 4 x parameter bytes; activations = every storage "
               "autograd saves for backward, counted once (saved_tensors_hooks), parameters excluded. A lower bound "
               "for peak GPU memory per GPU (CUDA context, workspaces, backward temporaries not included)")
        try:
            model = SegformerForSemanticSegmentation.from_pretrained(resolve_checkpoint("random:mit-b0", SIZE))
            m = step_tensor_bytes(model, batch)
            total = m["model_states"] + m["activations"]
            rows.append(Row(name, "—", f"{total / 2**30:.2f} GiB", "—", "", None,
                            how + f"; parameters {m['params'] / 2**20:.1f} MiB, model states "
                            f"{m['model_states'] / 2**20:.0f} MiB, activations {m['activations'] / 2**30:.2f} GiB "
                            f"({m['activations'] / batch / 2**20:.0f} MiB per image)"))
        except Exception as e:  # noqa: BLE001
            rows.append(failed_row(name, e, "", how))
    return rows
