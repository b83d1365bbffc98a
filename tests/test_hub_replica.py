"""The `guide` profile's Hub code paths, proven offline on local replicas of the Hub repositories (issue 13).

* ``merve/scene_parse_150`` and ``nvidia/mit-b0`` replicas (tests/replicas.py) go through the same
  library code as the Hub ids: the packaged parquet builder, ``from_pretrained`` (PT and TF), the
  image processor built from the checkpoint's own ``preprocessor_config.json``.
* ``make prefetch``'s plan: the rows a split needs are streamed and cached as a Hub-layout folder that
  the Hub id then loads offline; the model files it downloads are exactly those the loaders read.
* An unreachable Hub costs one short probe per process, not the libraries' timeouts.
* Notebooks 01 -> 05 run under ``profile="guide"`` on the replicas, both frameworks (small sizes).

The replicas are deterministic and cached in ``build/test-replicas-v1`` (about 45 MB; a few minutes
to build once on 2 busy cores, mostly TensorFlow converting the weights).
"""
from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from replicas import (SCENES, build_dataset_replica, build_model_replica, fake_hub_cache,  # noqa: E402
                      kernel_env, replica_rows, with_safetensors)

ROOT = Path(__file__).resolve().parents[1]
REPLICAS = ROOT / "build" / "test-replicas-v1"
HUB_DATASET, HUB_MODEL = "merve/scene_parse_150", "nvidia/mit-b0"
MAIN_FILES = [".gitattributes", "README.md", "config.json", "preprocessor_config.json", "pytorch_model.bin",
              "tf_model.h5"]


@pytest.fixture(scope="session")
def dataset_replica() -> Path:
    return build_dataset_replica(REPLICAS / "merve--scene_parse_150", n_train=60, n_val=10, train_shards=2)


@pytest.fixture(scope="session")
def model_replica() -> Path:
    return build_model_replica(REPLICAS / "nvidia--mit-b0")


@pytest.fixture(scope="session")
def model_replica_st(model_replica) -> Path:
    return with_safetensors(model_replica, REPLICAS / "nvidia--mit-b0-with-safetensors")


@pytest.fixture
def kit_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGHELPERS_CACHE", str(tmp_path / "kit-cache"))
    return tmp_path / "kit-cache"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def _subprocess_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
                                                            "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


# ------------------------------------------------------------------------------------- the replicas
def test_dataset_replica_loads_like_the_hub_id(dataset_replica):
    import datasets

    import seghelpers as sh
    from seghelpers.data import is_hub_layout

    shards = sorted(p.name for p in (dataset_replica / "data").iterdir())
    assert shards == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet",
                      "validation-00000-of-00001.parquet"]
    assert "class_label:" in (dataset_replica / "README.md").read_text()
    ds = datasets.load_dataset(str(dataset_replica), split="train[:50]")  # the guide's call, a folder for the id
    assert len(ds) == 50  # crosses the shard boundary (30 rows per shard)
    scene = ds.features["scene_category"]
    assert isinstance(scene, datasets.ClassLabel) and scene.names == SCENES
    assert isinstance(ds.features["image"], datasets.Image) and isinstance(ds.features["annotation"], datasets.Image)
    ex = ds[0]
    assert ex["image"].format == "JPEG" and min(ex["image"].size) >= 384 and ex["annotation"].mode == "L"
    values = np.unique(np.concatenate([np.unique(np.asarray(r["annotation"])) for r in ds.select(range(10))]))
    assert values.min() == 0 and values.max() <= 150  # raw ADE ids, 0 = other
    assert scene.int2str(ex["scene_category"]) in SCENES

    # the kit: a Hub-layout folder is a first-class source, read with the ADE convention
    assert is_hub_layout(dataset_replica) and sh.guide_source(str(dataset_replica)) == str(dataset_replica)
    kit = sh.load_scene_parse(str(dataset_replica), "train[:50]")
    assert len(kit) == 50 and kit.features["scene_category"].names == SCENES
    for i in (0, 29, 30, 49):  # both shards
        assert np.array_equal(np.asarray(kit[i]["annotation"]), np.asarray(ds[i]["annotation"]))
        assert np.array_equal(np.asarray(kit[i]["image"]), np.asarray(ds[i]["image"].convert("RGB")))
    labels = sh.dataset_labels(str(dataset_replica))
    assert labels.num_labels == 150 and labels.reduce_labels
    assert len(sh.load_scene_parse(str(dataset_replica), "validation")) == 10


def test_first_shard_without_the_card_is_a_dataset(dataset_replica, tmp_path):
    """What `hf download merve/scene_parse_150 --repo-type dataset --include "data/train-00000-*"` leaves:
    the first shard alone loads (features, ClassLabel included, come from the parquet metadata). With the
    card's README.md beside it, the card's `configs` name a validation split that is not there."""
    import shutil

    import seghelpers as sh

    part = tmp_path / "sp150-first-shard"  # not "scene_parse_150": datasets would cache it under the guide's id
    (part / "data").mkdir(parents=True)
    shutil.copy(dataset_replica / "data" / "train-00000-of-00002.parquet", part / "data")
    ds = sh.load_scene_parse(str(part), "train[:20]")
    assert len(ds) == 20 and ds.features["scene_category"].names == SCENES
    shutil.copy(dataset_replica / "README.md", part)
    with pytest.raises(ValueError):
        sh.load_scene_parse(str(part), "train[:20]")


def test_model_replica_has_the_hub_repo_layout(model_replica):
    assert sorted(p.name for p in model_replica.iterdir()) == MAIN_FILES
    config = json.loads((model_replica / "config.json").read_text())
    assert config["architectures"] == ["SegformerForImageClassification"]
    assert len(config["id2label"]) == 1000 and config["hidden_sizes"] == [32, 64, 160, 256]
    assert (model_replica / "preprocessor_config.json").stat().st_size == 272
    sizes = {p.name: p.stat().st_size for p in model_replica.iterdir()}
    assert 13e6 < sizes["pytorch_model.bin"] < 16e6 and 13e6 < sizes["tf_model.h5"] < 16e6  # Hub: 14.4 / 14.6 MB


def test_guide_pytorch_steps_on_the_model_replica(model_replica, dataset_replica):
    """What notebooks 02 and 04 (PyTorch) do with nvidia/mit-b0, checked fact by fact."""
    import torch
    from transformers import AutoImageProcessor, AutoModelForSemanticSegmentation, SegformerForImageClassification

    import seghelpers as sh

    ckpt = sh.resolve_checkpoint(str(model_replica), 64)
    labels = sh.dataset_labels(str(dataset_replica))
    # the checkpoint's processor config says no reduction; the guide's old keyword does not change that
    assert AutoImageProcessor.from_pretrained(ckpt).do_reduce_labels is False
    assert AutoImageProcessor.from_pretrained(ckpt, reduce_labels=True).do_reduce_labels is False
    processor = sh.load_image_processor(ckpt, image_size=64, do_reduce_labels=labels.reduce_labels)
    assert processor.do_reduce_labels is True
    row = sh.load_scene_parse(str(dataset_replica), "train[:2]")[0]
    out = processor(row["image"], row["annotation"], return_tensors="np")
    assert out["pixel_values"].shape == (1, 3, 64, 64)
    raw = np.asarray(row["annotation"].resize((64, 64), 0))  # nearest, as the processor resizes masks
    expected = np.where(raw == 0, 255, raw.astype(np.int64) - 1)
    assert np.array_equal(out["labels"][0], expected)  # 0 -> 255, k -> k-1

    torch.manual_seed(0)
    model, info = AutoModelForSemanticSegmentation.from_pretrained(
        ckpt, id2label=labels.id2label, label2id=labels.label2id, ignore_mismatched_sizes=True,
        output_loading_info=True)
    assert {k.split(".")[0] for k in info["missing_keys"] + info["mismatched_keys"]} == {"decode_head"}
    assert model.config.num_labels == 150 and model.config.id2label == labels.id2label
    assert model.decode_head.classifier.out_channels == 150
    encoder = SegformerForImageClassification.from_pretrained(ckpt).segformer.state_dict()
    for name, value in model.segformer.state_dict().items():  # every encoder weight comes from the checkpoint
        assert torch.equal(value, encoder[name]), name


def _tf_encoder_check_script(folder: str, st_folder: str) -> str:
    return f"""
import os, numpy as np
import seghelpers.tf as shtf
import tensorflow as tf
import torch
from transformers import TFAutoModelForSemanticSegmentation, SegformerForImageClassification
import seghelpers as sh
labels = sh.dataset_labels("synthetic")
pt = {{k: v.numpy() for k, v in SegformerForImageClassification.from_pretrained({folder!r}).segformer.state_dict().items()}}
out = {{}}
for name, path in (("main", {folder!r}), ("with_safetensors", {st_folder!r})):
    try:
        m = shtf.load_model(path, id2label=labels.id2label, label2id=labels.label2id, ignore_mismatched_sizes=True)
        m(tf.zeros((1, 3, 64, 64)))
        w = {{v.name: v.numpy() for v in m.segformer.weights}}
        k = next(n for n in w if "patch_embeddings.0" in n and "proj" in n and "kernel" in n)
        same = np.allclose(w[k], pt["encoder.patch_embeddings.0.proj.weight"].transpose(2, 3, 1, 0), atol=1e-6)
        out[name] = dict(ok=True, num_labels=m.config.num_labels, encoder_from_checkpoint=bool(same),
                         head=m.decode_head.classifier.filters if hasattr(m.decode_head.classifier, "filters") else None)
    except Exception as e:
        out[name] = dict(ok=False, error=f"{{type(e).__name__}}: {{e}}"[:300])
# the guide's plain line (TF class) on a folder with PyTorch safetensors: the trap
try:
    TFAutoModelForSemanticSegmentation.from_pretrained({st_folder!r}, id2label=labels.id2label,
                                                       label2id=labels.label2id)
    out["plain_on_safetensors"] = "loaded"
except Exception as e:
    out["plain_on_safetensors"] = f"{{type(e).__name__}}: {{e}}"[:300]
print("RESULT", __import__("json").dumps(out))
"""


def _run_tf_check(model_replica, model_replica_st) -> dict:
    r = subprocess.run([sys.executable, "-c", _tf_encoder_check_script(str(model_replica), str(model_replica_st))],
                       env=_subprocess_env(USE_TF="AUTO", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1"),
                       capture_output=True, text=True, timeout=900)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, r.stdout[-2000:] + r.stderr[-4000:]
    return json.loads(line[7:])


@pytest.fixture(scope="module")
def tf_results(model_replica, model_replica_st):
    return _run_tf_check(model_replica, model_replica_st)


def test_tensorflow_loads_the_pretrained_encoder_from_the_hub_layout(tf_results):
    main = tf_results["main"]
    assert main["ok"], main
    assert main["num_labels"] == 150 and main["encoder_from_checkpoint"]


def test_tensorflow_safetensors_trap_is_real(tf_results):
    # transformers 4.57 picks PyTorch's model.safetensors before tf_model.h5 and then crashes on it
    assert "safe_open" in tf_results["plain_on_safetensors"], tf_results["plain_on_safetensors"]


def test_kit_tf_loader_survives_safetensors_next_to_tf_weights(tf_results):
    st = tf_results["with_safetensors"]
    assert st["ok"], st
    assert st["num_labels"] == 150 and st["encoder_from_checkpoint"]


# --------------------------------------------------------------------------------------- prefetch
def test_prefetch_streams_only_the_rows_the_split_needs(dataset_replica, kit_cache, monkeypatch, capsys):
    import datasets

    import seghelpers as sh
    from seghelpers import prefetch

    assert prefetch.rows_needed("train[:50]") == ("train", 50)
    assert prefetch.rows_needed("train[10:20]") == ("train", 20)
    assert prefetch.rows_needed("train") == ("train", None) and prefetch.rows_needed("train[:10%]") == ("train", None)

    prefetch.prefetch(HUB_DATASET, "train[:50]", checkpoint="", reader=str(dataset_replica))
    printed = capsys.readouterr().out
    folder = kit_cache / "prefetched" / "merve--scene_parse_150" / "train"
    assert f"dataset {HUB_DATASET} train[:50]: 50 rows" in printed and str(folder) in printed
    assert json.loads((folder / "prefetch.json").read_text())["rows"] == 50
    prefetch.prefetch(HUB_DATASET, "train[:20]", checkpoint="", reader=str(dataset_replica))  # covered: kept
    assert "train[:20]: 50 rows" in capsys.readouterr().out
    cached = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    whole = sum(p.stat().st_size for p in (dataset_replica / "data").glob("train-*"))
    assert cached < whole * 50 / 60 * 1.1  # the 50 rows, not the whole split
    # the cached bytes are the Hub's bytes (no decode / re-encode)
    import pyarrow.parquet as pq

    t = pq.read_table(next((folder / "data").glob("*.parquet"))).to_pydict()
    src = replica_rows(dataset_replica, "train")[:50]
    assert [i["bytes"] for i in t["image"]] == [r[0] for r in src]
    assert [a["bytes"] for a in t["annotation"]] == [r[1] for r in src]
    assert t["scene_category"] == [r[2] for r in src]

    # offline, the Hub id loads exactly those rows, without touching the network
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds = sh.load_scene_parse(HUB_DATASET, "train[:50]")
    ref = datasets.load_dataset(str(dataset_replica), split="train[:50]")
    assert len(ds) == 50 and ds.features["scene_category"].names == SCENES
    for i in (0, 31, 49):
        assert np.array_equal(np.asarray(ds[i]["annotation"]), np.asarray(ref[i]["annotation"]))
    assert len(sh.load_scene_parse(HUB_DATASET, "train[10:20]")) == 10  # any slice inside the cached rows
    # the guide's own load_dataset gets the same rows through guide_source (notebook 01's cell)
    guide = datasets.load_dataset(sh.guide_source(HUB_DATASET, "train[:50]"), split="train[:50]")
    assert np.array_equal(np.asarray(guide[31]["annotation"]), np.asarray(ref[31]["annotation"]))
    assert sh.guide_source(HUB_DATASET, "train[:60]") == HUB_DATASET  # not covered: the Hub id itself
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="make prefetch"):
        sh.load_scene_parse(HUB_DATASET, "train[:60]")  # more rows than were cached
    with pytest.raises(ConnectionError, match="make prefetch"):
        sh.load_scene_parse(HUB_DATASET, "validation[:5]")
    assert time.monotonic() - t0 < 30


def test_prefetch_model_plan_is_what_the_loaders_read(model_replica, model_replica_st, tmp_path):
    from seghelpers import prefetch

    assert prefetch.plan_model_files(MAIN_FILES) == ["config.json", "preprocessor_config.json", "pytorch_model.bin",
                                                     "tf_model.h5"]
    with_st = MAIN_FILES + ["model.safetensors"]
    assert prefetch.plan_model_files(with_st, ["pt"]) == ["config.json", "preprocessor_config.json",
                                                          "model.safetensors"]
    assert prefetch.plan_model_files(with_st, ["tf"])[-1] == "tf_model.h5"
    assert prefetch.plan_model_files(["config.json", "model.safetensors"], ["tf"]) == ["config.json",
                                                                                      "model.safetensors"]
    with pytest.raises(ValueError, match="config.json"):
        prefetch.plan_model_files(["README.md", "pytorch_model.bin"])

    calls = []

    def download(repo, allow):  # what snapshot_download(allow_patterns=...) leaves: only those files
        calls.append((repo, list(allow)))
        return fake_hub_cache(tmp_path / "hub", repo, model_replica, allow)

    files, size = prefetch.prefetch_model(HUB_MODEL, list_files=lambda repo: MAIN_FILES, download=download)
    assert calls == [(HUB_MODEL, files)] and "README.md" not in files
    assert 25e6 < size < 32e6  # Hub: 14.4 + 14.6 MB of weights


def test_hub_id_loads_offline_from_the_prefetched_model_without_hf_hub_offline(model_replica, tmp_path):
    """The guide's `nvidia/mit-b0`, cached as `make prefetch` leaves it, with the Hub unreachable and
    HF_HUB_OFFLINE unset: the probe fails once, the libraries go offline, PT and TF load from the cache."""
    from seghelpers import prefetch

    hub_cache = tmp_path / "hf"
    fake_hub_cache(hub_cache / "hub", HUB_MODEL, model_replica, prefetch.plan_model_files(MAIN_FILES))
    code = f"""
import time, json
t0 = time.monotonic()
import seghelpers as sh
from seghelpers import hub
ckpt = sh.resolve_checkpoint({HUB_MODEL!r})
probe = hub.last_probe()
labels = sh.dataset_labels("synthetic")
proc = sh.load_image_processor(ckpt, image_size=64, do_reduce_labels=True)
import torch
from transformers import AutoModelForSemanticSegmentation
m = AutoModelForSemanticSegmentation.from_pretrained(ckpt, id2label=labels.id2label, label2id=labels.label2id,
                                                     ignore_mismatched_sizes=True)
t_pt = time.monotonic() - t0
import seghelpers.tf as shtf
tm = shtf.load_model(ckpt, id2label=labels.id2label, label2id=labels.label2id, ignore_mismatched_sizes=True)
print("RESULT", json.dumps(dict(probe=list(probe), pt_labels=m.config.num_labels, tf_labels=tm.config.num_labels,
      reduce=proc.do_reduce_labels, t_pt=t_pt, t_all=time.monotonic() - t0)))
"""
    env = _subprocess_env(HF_HOME=str(hub_cache), HF_HUB_CACHE=str(hub_cache / "hub"),
                          HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}", USE_TF="AUTO",
                          SEGHELPERS_CACHE=str(tmp_path / "kit"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, r.stdout[-2000:] + r.stderr[-4000:]
    res = json.loads(line[7:])
    assert res["probe"][0] is False and "refused" in res["probe"][1]
    assert res["pt_labels"] == 150 and res["tf_labels"] == 150 and res["reduce"] is True


# ------------------------------------------------------------------------------------ the probe
@pytest.fixture
def online_env(monkeypatch):
    from seghelpers import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    hub.reset()
    yield monkeypatch
    hub.reset()


def test_probe_closed_port_fails_fast(online_env):
    from seghelpers import hub

    online_env.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    t0 = time.monotonic()
    ok, why = hub.reachable()
    assert not ok and "refused" in why and time.monotonic() - t0 < 10
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # went offline for the rest of the process
    t1 = time.monotonic()
    assert hub.reachable() == (False, "offline mode (HF_HUB_OFFLINE=1)") and time.monotonic() - t1 < 0.1


def test_probe_blackholed_address_is_bounded(online_env):
    """A server that accepts the connection and never answers (what a dropped-packet network or a hung
    proxy looks like): the probe gives up after its timeout instead of the libraries' 10 s per request."""
    from seghelpers import hub

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        online_env.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        online_env.setenv("SEGHELPERS_HUB_TIMEOUT", "1")
        t0 = time.monotonic()
        ok, why = hub.reachable()
        elapsed = time.monotonic() - t0
    assert not ok and "no answer" in why, why
    assert 0.9 < elapsed < 10


def test_probe_answers_true_for_a_server_and_caches_per_process(online_env):
    from seghelpers import hub

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        online_env.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        assert hub.reachable() == (True, "HTTP 200")
        assert "HF_HUB_OFFLINE" not in os.environ
    finally:
        server.shutdown()
    assert hub.reachable() == (True, "HTTP 200")  # probed once per process and endpoint


@pytest.mark.parametrize("what", ["dataset", "checkpoint"])
def test_unreachable_hub_id_fails_in_seconds_without_hf_hub_offline(what, tmp_path):
    code = ("import time, seghelpers as sh\nt = time.monotonic()\n"
            "try:\n"
            + ("    sh.load_scene_parse('merve/scene_parse_150', 'train[:50]')\n" if what == "dataset" else
               "    sh.resolve_checkpoint('nvidia/mit-b0')\n")
            + "except Exception as e:\n    print(type(e).__name__, '|', e)\n"
              "print('SECONDS', time.monotonic() - t)\n")
    env = _subprocess_env(HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}", HF_HOME=str(tmp_path / "hf"),
                          SEGHELPERS_CACHE=str(tmp_path / "kit"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "make prefetch" in r.stdout and "refused" in r.stdout, r.stdout + r.stderr[-3000:]
    seconds = float(r.stdout.split("SECONDS")[-1])
    assert seconds < 10, r.stdout


# ---------------------------------------------------------------------- notebooks, guide profile
def _run_notebook(nb: str, out: Path, params: dict) -> dict:
    import nbformat
    import papermill as pm

    dst = out / f"{nb}.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "en" / f"{nb}.ipynb"), str(dst), parameters=params,
                        kernel_name="python3", cwd=str(out), progress_bar=False, log_output=False)
    return nbformat.read(dst, as_version=4)


#: stderr that the real checkpoint causes and the kit does not silence yet (issue 13 report): nvidia/mit-b0's
#: preprocessor_config.json still has the old key "reduce_labels", which transformers 4.57 drops with a warning;
#: the encoder-only checkpoint makes transformers log the new decode head (the notebook prints it itself).
#: Each one seen is re-raised as a pytest warning, so it stays visible in the summary.
KNOWN_STDERR = ("named arguments are not valid for `SegformerImageProcessor.__init__` and were ignored: "
                "'reduce_labels'", "image_processor = cls(**image_processor_dict)",
                "were not initialized from the model checkpoint", "are newly initialized",
                "You should probably TRAIN this model", "were not used when initializing",
                "- This IS expected if you are initializing", "- This IS NOT expected if you are initializing")


def _outputs(notebook) -> tuple[str, list[str]]:
    text, errors = [], []
    for cell in notebook.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append(o.get("text", ""))
                if o.get("name") == "stderr":
                    lines = [ln for ln in o.get("text", "").splitlines() if ln.strip()]
                    known = [ln for ln in lines if any(k in ln for k in KNOWN_STDERR)]
                    if known:
                        import warnings

                        warnings.warn(f"known stderr in a guide-profile notebook: {known[0][:160]}")
                    if len(known) < len(lines):
                        errors.append("\n".join(ln for ln in lines if ln not in known))
            elif o.get("output_type") == "error":
                errors.append(o.get("ename", ""))
            elif "data" in o:
                text.append(str(o["data"].get("text/plain", "")))
    return "\n".join(text), errors


@pytest.fixture(scope="module")
def nb_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("guide-nb")
    with kernel_env(base / "cache"):
        yield base


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_guide_profile_notebooks_on_the_replicas(nb_env, framework, dataset_replica, model_replica):
    chain = ([] if framework == "tensorflow" else ["01_data"]) + [
        f"{stage}_{framework}" for stage in ("02_preprocess", "03_metrics", "04_train", "05_inference")]
    out = nb_env / framework
    out.mkdir()
    params = {"profile": "guide", "dataset": str(dataset_replica), "checkpoint": str(model_replica),
              "split": "train[:50]", "image_size": 64, "max_steps": 4, "batch_size": 2,
              "output_dir": str(out / "model")}
    texts = {}
    for nb in chain:
        text, errors = _outputs(_run_notebook(nb, out, params))
        assert not errors, f"{nb}: {errors[:3]}"
        texts[nb] = text
    if "01_data" in texts:  # scene names come from the ClassLabel of the dataset card
        assert "ClassLabel" in texts["01_data"] and any(f"-> {s}" in texts["01_data"] for s in SCENES)
    saved = json.loads((out / "model" / "config.json").read_text())
    assert len(saved["id2label"]) == 150 and saved["id2label"]["0"] == "wall"  # the new head has ADE's classes
    assert saved["architectures"][0].endswith("ForSemanticSegmentation")
    assert "UNTRAINED" not in texts[chain[-1]]  # 05 used 04's model
    if framework == "pytorch":
        assert "newly initialised: decode_head" in texts["04_train_pytorch"]
        assert "do_reduce_labels = True" in texts["02_preprocess_pytorch"]
