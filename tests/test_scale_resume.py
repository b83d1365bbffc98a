"""The training notebook as a script: multi-process (torchrun, gloo), kill + resume; TF MirroredStrategy."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def train_script(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "notebooks"))
    from export_script import notebook_to_script

    nb = ROOT / "notebooks" / "en" / "04_train_pytorch.ipynb"
    if not nb.exists():
        pytest.skip("notebooks not generated")
    path = tmp_path_factory.mktemp("script") / "train_pt.py"
    path.write_text(notebook_to_script(nb))
    return path


def _env(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", USE_TF="0",
               SEGHELPERS_CACHE=str(tmp_path / "cache"), MPLBACKEND="Agg")
    return env


def _metric(text):
    found = re.findall(r"eval mean IoU: ([0-9.]+)", text)
    assert found, text[-3000:]
    return found[-1]


def test_script_rejects_unknown_parameter(train_script, tmp_path):
    r = subprocess.run([sys.executable, str(train_script), "--epochs", "3"], env=_env(tmp_path), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode != 0 and "unknown parameter --epochs" in r.stderr


def test_torchrun_two_cpu_processes_train_and_checkpoint(train_script, tmp_path):
    out = tmp_path / "ddp-model"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(train_script),
           "--output_dir", str(out), "--max_steps", "30"]
    r = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert float(_metric(r.stdout)) > 0.3  # the untrained model scores ~0.00001
    assert r.stdout.count("saved to") == 1  # only rank 0 exports
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    assert sorted(p.name for p in Path(f"{out}-checkpoints").iterdir()) == ["checkpoint-25", "checkpoint-30"]


def test_sigkill_then_resume_matches_uninterrupted_run(train_script, tmp_path):
    env = _env(tmp_path)
    base = [sys.executable, str(train_script), "--max_steps", "50"]
    full = subprocess.run(base + ["--output_dir", str(tmp_path / "full")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert full.returncode == 0, full.stderr[-3000:]

    out = tmp_path / "killed"
    proc = subprocess.Popen(base + ["--output_dir", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = Path(f"{out}-checkpoints") / "checkpoint-25"
    deadline = time.monotonic() + 300
    while not (ckpt / "trainer_state.json").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "config.json").exists(), "the run finished before it could be killed"

    resumed = subprocess.run(base + ["--output_dir", str(out), "--resume", "True"], env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stdout and "checkpoint-25" in resumed.stdout
    assert _metric(resumed.stdout) == _metric(full.stdout)


def test_tf_mirrored_strategy_two_logical_cpus(tmp_path):
    code = r'''
import numpy as np
import seghelpers as sh
import seghelpers.tf as shtf
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
tf.keras.utils.set_random_seed(0)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
ckpt = sh.resolve_checkpoint("random:tiny", 64, 0)
proc = sh.load_image_processor(ckpt)
ds = sh.split_train_test(sh.load_scene_parse("synthetic", "train[:20]"), 0.2, seed=0)["train"]
ds.set_transform(shtf.make_transforms(proc)[0])
with strategy.scope():
    model = shtf.load_model(ckpt)
    model.compile(optimizer=tf.keras.optimizers.Adam(2e-3))
data = shtf.to_tf_dataset(ds, 4 * strategy.num_replicas_in_sync, shuffle=True)
h = model.fit(data, epochs=3, verbose=0)
print("REPLICAS", strategy.num_replicas_in_sync, "LOSS", h.history["loss"][0], h.history["loss"][-1])
'''
    env = dict(_env(tmp_path), USE_TF="AUTO", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    m = re.search(r"REPLICAS (\d+) LOSS ([0-9.e-]+) ([0-9.e-]+)", r.stdout)
    assert m, r.stdout + r.stderr[-2000:]
    assert int(m.group(1)) == 2
    assert float(m.group(3)) < float(m.group(2))
