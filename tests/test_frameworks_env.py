"""Issue 24, item 4: both frameworks in any import order and under any USE_TF/USE_TORCH a user may have set.

transformers reads USE_TF/USE_TORCH once per process, so every case runs in a child process with the
environment a learner would have (conftest's USE_TF=AUTO removed).
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("SEGKIT_TEST_ROOT", Path(__file__).resolve().parents[1]))  # another tree: before/after

LOAD_TF = """
import seghelpers as sh
id2label = {0: "background", 1: "polyp"}  # notebook 04's own-data TF path: a new head for 2 classes
m = shtf.load_model(CKPT, id2label=id2label, label2id={v: k for k, v in id2label.items()})
print("TF-OK", m.config.num_labels, m.config.id2label[1])
meta = sh.DatasetMeta(id2label, reduce_labels=False)
"""
LOAD_PT = """
m = shpt.load_model(CKPT, meta=meta)
print("PT-OK", m.config.num_labels, m.config.id2label[1])
"""


def run_child(code: str, ckpt: str, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("USE_TF", "USE_TORCH", "SEGHELPERS_SET_USE_TF")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1", **env_vars)
    src = f"CKPT = {ckpt!r}\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", src], env=env, capture_output=True, text=True, timeout=600)


def test_use_tf_1_does_not_hide_what_the_tf_loader_needs(tiny_checkpoint):
    """USE_TF=1 (transformers' docs suggest it to TF users) hides the PyTorch classes; the TF re-head needs none."""
    p = run_child("from seghelpers import tf as shtf\n" + LOAD_TF, tiny_checkpoint, USE_TF="1")
    assert "TF-OK 2 polyp" in p.stdout, p.stderr[-3000:]
    assert "requires the PyTorch library" not in p.stderr


def test_pt_then_tf_alphabetical_order_both_load(tiny_checkpoint):
    p = run_child("from seghelpers import pt as shpt\nfrom seghelpers import tf as shtf\n" + LOAD_TF + LOAD_PT,
                  tiny_checkpoint)
    assert "TF-OK 2 polyp" in p.stdout and "PT-OK 2 polyp" in p.stdout, p.stderr[-3000:]


@pytest.mark.parametrize("env, layer, var", [({"USE_TF": "0"}, "tf", "USE_TF=0"),
                                             ({"USE_TORCH": "1"}, "tf", "USE_TORCH=1"),
                                             ({"USE_TF": "1"}, "pt", "USE_TF=1"),
                                             ({"USE_TORCH": "0"}, "pt", "USE_TORCH=0")])
def test_a_users_variable_that_hides_the_framework_is_named(tiny_checkpoint, env, layer, var):
    p = run_child(f"from seghelpers import {layer}", tiny_checkpoint, **env)
    assert p.returncode != 0
    assert "ImportError" in p.stderr and f"{var} is set in this environment" in p.stderr, p.stderr[-3000:]
    assert f"unset {var.split('=')[0]}" in p.stderr


def test_transformers_imported_under_the_kits_use_tf_0_says_restart(tiny_checkpoint):
    p = run_child("from seghelpers import pt\nimport transformers.utils.import_utils\nfrom seghelpers import tf",
                  tiny_checkpoint)
    assert p.returncode != 0 and "set by seghelpers.pt" in p.stderr and "Restart the kernel" in p.stderr, p.stderr[-3000:]


def test_messages_in_chinese(tiny_checkpoint):
    p = run_child("from seghelpers import tf", tiny_checkpoint, USE_TF="0", SEGKIT_LANG="zh")
    assert "让 transformers 看不到 TensorFlow" in p.stderr and "(English:" in p.stderr, p.stderr[-2000:]
