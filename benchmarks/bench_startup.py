"""Benchmark 9 (informative): a kernel's start-up imports with and without the venv's precompiled bytecode.

Kernels on these machines run with ``PYTHONDONTWRITEBYTECODE=1``: without ``.pyc`` files in the venv every
import compiles its modules again, in every kernel. ``make setup`` precompiles the venv once (compileall).
Each repetition is a fresh interpreter; "without" points ``PYTHONPYCACHEPREFIX`` at an empty folder, so no
``.pyc`` is found (nor written), "with" reads the venv's own.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from .common import Row, check, failed_row, fmt_time, interleaved

#: what the TensorFlow notebooks' first cells import (seghelpers.tf, then transformers' TF SegFormer)
IMPORTS = {
    "TensorFlow": "import seghelpers.tf, transformers; transformers.TFSegformerForSemanticSegmentation",
    "PyTorch": "import torch, transformers; transformers.SegformerForSemanticSegmentation",
}


def _runner(code: str, env: dict):
    def run():
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        check(proc.returncode == 0, f"import failed: {(proc.stderr.strip().splitlines() or [''])[-1]}")
    return run


def run(quick: bool = False) -> list[Row]:
    rows = []
    reps = 5
    for framework, code in IMPORTS.items():
        name = f"9. (informative) kernel start-up imports, {framework}: no .pyc vs the venv's precompiled .pyc"
        how = (f"fresh interpreter per repetition, PYTHONDONTWRITEBYTECODE=1 (as these machines run kernels), "
               f"`{code}`; baseline = PYTHONPYCACHEPREFIX set to an empty folder (no .pyc found: what a venv "
               f"installed without compiling gives every kernel); ours = the venv's .pyc files (make setup runs "
               f"compileall once); interleaved x{reps}, medians")
        try:
            base_env = {k: v for k, v in os.environ.items() if k not in ("USE_TF", "PYTHONPYCACHEPREFIX")}
            base_env.update(PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="3")
            if framework == "PyTorch":
                base_env["USE_TF"] = "0"
            with tempfile.TemporaryDirectory() as empty:
                t = interleaved(_runner(code, {**base_env, "PYTHONPYCACHEPREFIX": empty}), _runner(code, base_env),
                                reps=reps, warmup=1)
                check(not any(os.scandir(empty)), "a .pyc was written despite PYTHONDONTWRITEBYTECODE=1")
            rows.append(Row(name, fmt_time(t.baseline_median), fmt_time(t.ours_median), f"{t.speedup:.2f}x faster",
                            "", None, how + "; check: both import without error, nothing written"))
        except Exception as e:  # noqa: BLE001
            rows.append(failed_row(name, e, "", how))
    return rows
