import json

import pytest

from seghelpers import params
from seghelpers.checkpoints import CheckpointError, build_random_segformer, is_random_init, resolve_checkpoint


def test_random_tiny_checkpoint(tiny_checkpoint):
    from transformers import AutoImageProcessor, SegformerConfig

    cfg = SegformerConfig.from_pretrained(tiny_checkpoint)
    assert cfg.num_labels == 150 and cfg.id2label[7] == "bed " and cfg.label2id["flag"] == 149
    assert cfg.hidden_sizes == [16, 32, 64, 128]
    proc = AutoImageProcessor.from_pretrained(tiny_checkpoint)
    # as nvidia/mit-b0's preprocessor_config.json: notebook 02 shows the guide's ignored reduce_labels=True harm
    assert proc.do_reduce_labels is False and proc.size == {"height": 64, "width": 64}
    assert is_random_init(tiny_checkpoint)


def test_mit_b0_architecture(tmp_path):
    from transformers import SegformerConfig

    out = build_random_segformer(tmp_path / "b0", "mit-b0", image_size=128)
    cfg = SegformerConfig.from_pretrained(out)
    assert cfg.hidden_sizes == [32, 64, 160, 256] and cfg.depths == [2, 2, 2, 2] and cfg.decoder_hidden_size == 256
    size_mb = (out / "model.safetensors").stat().st_size / 2**20
    assert 12 < size_mb < 16  # ~3.7 M parameters, float32


def test_random_build_is_atomic(tmp_path, monkeypatch):
    import transformers

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(transformers.SegformerImageProcessor, "save_pretrained", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_random_segformer(tmp_path / "m", "tiny")
    assert list(tmp_path.iterdir()) == []


def test_resolve_checkpoint_errors(tmp_path, tiny_checkpoint):
    assert resolve_checkpoint(tiny_checkpoint) == tiny_checkpoint
    with pytest.raises(CheckpointError, match="unknown architecture 'b7'"):
        resolve_checkpoint("random:b7")
    with pytest.raises(CheckpointError, match="no such folder"):
        resolve_checkpoint("./runs/missing-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        resolve_checkpoint(str(tmp_path / "empty"))
    with pytest.raises(CheckpointError, match="HF_HUB_OFFLINE=1.*make prefetch"):
        resolve_checkpoint("nvidia/mit-b0")


def test_params_profiles_and_overrides():
    p = params.resolve("smoke")
    assert p.checkpoint == "random:tiny" and p.dataset == "synthetic" and p.image_size == 64
    g = params.resolve("guide")
    assert (g.checkpoint, g.split, g.learning_rate, g.num_train_epochs, g.batch_size, g.eval_steps, g.save_steps) == \
        ("nvidia/mit-b0", "train[:50]", 6e-5, 50, 2, 20, 20)
    q = params.resolve("smoke", learning_rate="1e-3", batch_size="8", max_steps=None)
    assert q.learning_rate == 1e-3 and q.batch_size == 8 and q.max_steps == p.max_steps
    assert "learning_rate" in q.table()


def test_params_summary_is_one_line_marking_overrides():
    base = params.PROFILES["smoke"]
    p = params.resolve("smoke")
    line = p.summary()
    assert "\n" not in line and len(line) < 120, line
    assert line.startswith("profile smoke · ") and "*" not in line and p.changed() == ()
    assert f"{base['max_steps']} steps × batch {base['batch_size']}" in line and base["checkpoint"] in line
    q = params.resolve("smoke", max_steps=30, dataset="/data/own3", resume=True)
    assert q.changed() == ("dataset", "max_steps")
    line = q.summary()
    assert "/data/own3* " in line and "30* steps" in line and " · resume" in line, line
    assert line.endswith("* = your value") and line.count("*") == 3, line
    g = params.resolve("guide")  # trains for epochs, not steps
    assert "50 epochs × batch 2" in g.summary() and "lr 6e-05" in g.summary()
    e = params.resolve("smoke", num_train_epochs=3)  # ignored while max_steps is set: say so
    assert "(max_steps wins)" in e.summary()
    assert f"eval every {base['eval_steps'] + 1}*" in params.resolve("smoke", eval_steps=base["eval_steps"] + 1).summary()
    assert len(p.table().splitlines()) == len(params.fields(p))  # the full table is still there


@pytest.mark.parametrize("kwargs, match", [
    (dict(profile="fast"), "profile='fast' is unknown"),
    (dict(num_train_epochs="ten"), "num_train_epochs='ten' is not a number"),
    (dict(learning_rate=-1e-4), "learning_rate=.* out of range"),
    (dict(image_size=100), "image_size=100 must be a multiple of 32.*try 96"),
    (dict(batch_size=0), "batch_size=0 is out of range"),
    (dict(batch_size=True), "batch_size=True"),
    (dict(split="train[:x]"), "split='train\\[:x\\]'"),
    (dict(max_steps=0), "max_steps=0"),
    (dict(push_to_hub="maybe"), "push_to_hub='maybe'"),
    (dict(epochs=3), "unknown parameter"),
])
def test_params_errors_name_the_parameter(kwargs, match):
    with pytest.raises(params.ParameterError, match=match):
        params.resolve(**kwargs)


def test_prefetch_fails_fast_and_clearly_offline(monkeypatch, capsys):
    from seghelpers import prefetch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert prefetch.main([]) == 2
    assert "HF_HUB_OFFLINE is set" in capsys.readouterr().err
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(prefetch, "HUB_URL", "http://127.0.0.1:9")  # discard port: connection refused at once
    ok, why = prefetch.hub_reachable(timeout=2)
    assert not ok and "did not answer" in why


def test_fast_parameter_defaults_to_the_guides_path_and_parses_papermill_strings():
    import re
    from pathlib import Path

    from seghelpers.params import PROFILES, ParameterError, resolve

    # the lesson runs the guide's model: every profile a learner starts from, and the notebooks' parameters cell
    for profile in PROFILES:
        assert resolve(profile).fast is False, profile
    snippet = (Path(__file__).parents[1] / "notebooks/src/_snippets/parameters.py").read_text()
    assert re.search(r"^fast = False\b", snippet, re.M), "the parameters cell must default to fast = False"
    quick = resolve("smoke", fast="True")  # papermill -p fast True passes a string
    assert quick.fast is True and "fast = True" in quick.summary()
    assert "fast" not in resolve("smoke").summary()
    with pytest.raises(ParameterError, match="fast="):
        resolve("smoke", fast="sometimes")


def test_the_guide_profile_follows_each_frameworks_recipe():
    """The Chinese edition trains PyTorch at 6e-5 and TensorFlow with a schedule from 1e-4 (notebook 04 scales that
    schedule to learning_rate): the TF `guide` profile starts at 1e-4, and that is not "your value"."""
    pt, tf = params.resolve("guide", framework="pt"), params.resolve("guide", framework="tf")
    assert (pt.learning_rate, tf.learning_rate) == (6e-5, 1e-4) and pt.changed() == tf.changed() == ()
    assert params.resolve("full", framework="tf").learning_rate == 1e-4
    mine = params.resolve("guide", framework="tf", learning_rate=6e-5)
    assert mine.changed() == ("learning_rate",) and "lr 6e-05*" in mine.summary()
    assert params.resolve("smoke", framework="tf").learning_rate == params.PROFILES["smoke"]["learning_rate"]
