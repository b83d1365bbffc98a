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


def _export(tmp_path_factory, framework: str) -> Path:
    sys.path.insert(0, str(ROOT / "notebooks"))
    from export_script import notebook_to_script

    nb = ROOT / "notebooks" / "en" / f"04_train_{framework}.ipynb"
    if not nb.exists():
        pytest.skip("notebooks not generated")
    path = tmp_path_factory.mktemp("script") / f"train_{framework}.py"
    path.write_text(notebook_to_script(nb))
    return path


@pytest.fixture(scope="module")
def train_script(tmp_path_factory):
    return _export(tmp_path_factory, "pytorch")


@pytest.fixture(scope="module")
def train_script_tf(tmp_path_factory):
    return _export(tmp_path_factory, "tensorflow")


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


def _epochs(text):
    """{epoch: (train loss, val mean IoU)} from the TF notebook's one line per epoch."""
    found = re.findall(r"^epoch (\d+): loss ([0-9.]+), val_loss [0-9.]+, val_mean_iou ([0-9.]+)$", text, re.M)
    assert found, text[-3000:]
    return {int(e): (float(loss), float(miou)) for e, loss, miou in found}


def _run_until_backup_then_kill(cmd, env, backup: Path):
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (backup / "chief" / "checkpoint").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before its first epoch backup"


def test_tf_sigkill_then_resume_continues_from_backup(train_script_tf, tmp_path):
    """Keras BackupAndRestore: a killed TF run, rerun with resume, continues after the last finished epoch.

    Exact equality with an uninterrupted run is not possible in TF (the backup holds weights, optimizer
    and epoch, not tf.data's shuffle position or the random generator behind the model's dropout), so
    the test checks continuity instead: the resumed run starts at epoch 2 with the epoch-2 loss of an
    uninterrupted run, not the epoch-1 loss of a fresh start.
    """
    env = dict(_env(tmp_path), USE_TF="AUTO", TF_CPP_MIN_LOG_LEVEL="3")
    base = [sys.executable, str(train_script_tf)]  # smoke: 10 steps per epoch, 5 epochs
    full = subprocess.run(base + ["--output_dir", str(tmp_path / "full")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert full.returncode == 0, full.stderr[-3000:]
    full_epochs = _epochs(full.stdout)
    assert sorted(full_epochs) == [1, 2, 3, 4, 5]

    out = tmp_path / "killed"
    backup = Path(f"{out}-checkpoints") / "backup"
    cmd = base + ["--output_dir", str(out)]
    _run_until_backup_then_kill(cmd, env, backup)
    resumed = subprocess.run(cmd + ["--resume", "True"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    got = _epochs(resumed.stdout)
    first = min(got)
    assert first >= 2 and max(got) == 5, f"resumed run trained epochs {sorted(got)}"
    loss, full_loss, fresh_loss = got[first][0], full_epochs[first][0], full_epochs[1][0]
    assert abs(loss - full_loss) < 0.05 * full_loss < abs(loss - fresh_loss), (loss, full_loss, fresh_loss)
    assert (out / "tf_model.h5").exists() and (out / "config.json").exists()
    assert not any(backup.rglob("ckpt-*")), "Keras deletes the backup when training completes"

    # resume=False with a stale backup starts over, and then equals the uninterrupted run exactly (same seed)
    _run_until_backup_then_kill(cmd, env, backup)
    fresh = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert _epochs(fresh.stdout) == full_epochs
    assert _metric(fresh.stdout) == _metric(full.stdout)
