"""Time notebook 04 under the `workshop` profile, PyTorch then TensorFlow, offline; writes benchmarks/WORKSHOP.md.

    python scripts/workshop_timing.py [--summary build/executed/SUMMARY.md]

The cost of a training step does not depend on the weights' values, so the real `nvidia/mit-b0` and
`merve/scene_parse_150` are stood in for by the tests' local replicas (random-init MiT-b0 of the same
architecture and files; ADE-sized photos), built in build/test-replicas-v1/workshop/. Notebook 04 runs through
notebooks/run_all.py (one at a time, 2 threads: a 2-core laptop) on the guide's code path (``fast = False``, the slower one); its
SUMMARY.md is copied to benchmarks/WORKSHOP.md, from which notebooks/update_readme.py fills the README's
profile table. ``--summary`` copies an existing SUMMARY.md of such a run instead of running again.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "WORKSHOP.md"
REPLICAS = ROOT / "build" / "test-replicas-v1" / "workshop"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", type=Path, default=None)
    ap.add_argument("--out", default="build/executed-workshop")
    ap.add_argument("--note", default="", help="a line about the machine, kept in the file (e.g. that it was shared)")
    args = ap.parse_args(argv)
    summary = args.summary
    if summary is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from replicas import build_dataset_replica, build_model_replica

        data = build_dataset_replica(REPLICAS / "merve--scene_parse_150", n_train=110, n_val=10, train_shards=2)
        model = build_model_replica(REPLICAS / "nvidia--mit-b0")
        env = dict(os.environ, OMP_NUM_THREADS="2", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        subprocess.run([sys.executable, str(ROOT / "notebooks" / "run_all.py"), "--profile", "workshop", "--out",
                        args.out, "--jobs", "1", "--langs", "en", "--only", "04_train", "-p", "dataset", str(data),
                        "-p", "checkpoint", str(model), "-p", "fast", "False"], cwd=ROOT, env=env, check=True)
        summary = ROOT / args.out / "SUMMARY.md"
    text = Path(summary).read_text(encoding="utf-8")
    OUT.write_text("<!-- written by scripts/workshop_timing.py: notebook 04 under the workshop profile on the Hub "
                   "replicas (random-init mit-b0), fast = False, 2 threads; read by notebooks/update_readme.py -->\n"
                   + (f"\n> {args.note}\n\n" if args.note else "") + text,
                   encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
