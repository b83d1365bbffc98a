"""Run the notebook collection through papermill and write a Markdown summary.

    python notebooks/run_all.py --profile smoke --out build/executed --jobs 2 [--langs en zh]
                                [--only 04_train] [-p name value ...]

Notebooks run in separate kernels, ``--jobs`` at a time. Every notebook saves and loads its model where a
learner's JupyterLab would (``seghelpers.params.default_output_dir``: the checkout's ``build/models/``), so
``make run``, ``make lab``, English and 中文 share one model per profile and framework. Two ``04_train_<fw>``
(English and 中文) therefore never run at the same time, and every ``05_inference_<fw>`` waits until all of
them have finished (it loads the model they saved; the save is atomic). Executed copies go to
``<out>/<lang>/<name>.ipynb``; ``<out>/SUMMARY.md`` lists status, wall time and the lines printed by
cells tagged ``metrics``. Exit status 1 if any notebook failed (the failing cell is printed).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"


def framework_of(name: str) -> str | None:
    return "pt" if name.endswith("_pytorch") else "tf" if name.endswith("_tensorflow") else None


def read_notebook(executed: Path) -> dict:
    """An executed notebook as JSON; ``{}`` when it is missing or unreadable."""
    try:
        return json.loads(executed.read_text())
    except (OSError, ValueError):
        return {}


def metric_lines(nb: dict) -> list[str]:
    """The stdout lines of the cells tagged ``metrics`` in an executed notebook (:func:`read_notebook`)."""
    lines = []
    for cell in nb.get("cells", []):
        if "metrics" in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stdout":
                    lines += [ln for ln in "".join(out.get("text", "")).splitlines() if ln.strip()]
    return lines


def first_output_seconds(nb: dict) -> float | None:
    """Seconds from papermill's start (before the kernel starts) to the end of the first cell that shows output.

    What a learner waits for after "Run all": kernel start-up, imports, then the first printed line or figure.
    ``nb`` comes from :func:`read_notebook`; ``None`` when papermill's timestamps are missing.
    """
    from datetime import datetime

    try:
        start = datetime.fromisoformat(nb["metadata"]["papermill"]["start_time"])
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and cell.get("outputs"):
                return (datetime.fromisoformat(cell["metadata"]["papermill"]["end_time"]) - start).total_seconds()
    except (ValueError, KeyError, TypeError):
        return None
    return None


_TOKEN_RE = re.compile(r"hf_[A-Za-z0-9]{30,}")


def leaked_secrets(paths) -> list[str]:
    """Files (executed notebooks, logs) that contain a Hugging Face token or the value of $HF_TOKEN."""
    secret = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    bad = []
    for path in paths:
        text = Path(path).read_text(errors="replace")
        if _TOKEN_RE.search(text) or (secret and secret in text):
            bad.append(str(path))
    return bad


def run_one(src: Path, dst: Path, params: dict, env: dict, log: Path) -> tuple[bool, float, str]:
    cmd = [sys.executable, "-m", "papermill", str(src), str(dst), "--cwd", str(ROOT), "--no-progress-bar",
           "--log-level", "WARNING"]
    for k, v in params.items():
        cmd += ["-p", k, str(v)]
    t = time.monotonic()
    with open(log, "w") as fh:
        rc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    wall = time.monotonic() - t
    tail = ""
    if rc != 0:
        text = log.read_text(errors="replace")
        tail = text[-3000:]
    return rc == 0, wall, tail


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--out", default="build/executed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--langs", nargs="+", default=["en", "zh"])
    ap.add_argument("--only", default="", help="run notebooks whose name contains this text")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = ap.parse_args(argv)

    out = (ROOT / args.out).resolve()
    notebooks = []
    for lang in args.langs:
        found = sorted((NB_DIR / lang).glob("[0-9][0-9]_*.ipynb"))
        if not found:
            print(f"no notebooks in {NB_DIR / lang}; run `make notebooks`", file=sys.stderr)
            return 2
        notebooks += [(lang, p) for p in found if args.only in p.stem]
    (out / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))
    env.setdefault("OMP_NUM_THREADS", str(threads))  # N kernels share the cores instead of fighting

    results: dict[str, tuple[bool, float, str]] = {}
    done = {key: threading.Event() for key in [f"{lang}/{p.stem}" for lang, p in notebooks]}
    # the 04 notebooks of one framework write the same folder: one at a time
    train_lock = {fw: threading.Lock() for fw in ("pt", "tf")}

    def task(lang: str, src: Path):
        key = f"{lang}/{src.stem}"
        fw = framework_of(src.stem)
        try:
            if src.stem.startswith("05_") and fw:
                trainer = f"04_train_{src.stem.split('_')[-1]}"
                for dep in [d for d in done if d.endswith("/" + trainer)]:
                    done[dep].wait()
                    if not results[dep][0]:
                        results[key] = (False, 0.0, f"skipped: {dep} failed")
                        return
            params = {"profile": args.profile, **dict(args.param)}
            dst = out / lang / f"{src.stem}.ipynb"
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.stem.startswith("04_") and fw:
                with train_lock[fw]:
                    ok, wall, tail = run_one(src, dst, params, env, out / "logs" / f"{lang}-{src.stem}.log")
            else:
                ok, wall, tail = run_one(src, dst, params, env, out / "logs" / f"{lang}-{src.stem}.log")
            results[key] = (ok, wall, tail)
            print(f"{'ok  ' if ok else 'FAIL'} {key:38s} {wall:6.1f} s", flush=True)
            if not ok:
                print(tail, file=sys.stderr, flush=True)
        finally:
            done[key].set()

    # trainers first so the inference notebooks waiting on them do not hold a worker idle
    order = sorted(notebooks, key=lambda x: (not x[1].stem.startswith("04_"), x[1].stem.startswith("05_"), x[1].stem))
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for lang, src in order:
            pool.submit(task, lang, src)
    total = time.monotonic() - t0

    rows = ["| notebook | status | first output (s) | wall (s) | final metrics |", "|---|---|---:|---:|---|"]
    for lang, src in notebooks:
        key = f"{lang}/{src.stem}"
        ok, wall, tail = results.get(key, (False, 0.0, "not run"))
        nb = read_notebook(out / lang / f"{src.stem}.ipynb") if ok else {}
        lines, first = metric_lines(nb), first_output_seconds(nb)
        status = "ok" if ok else ("skipped" if tail.startswith("skipped") else "FAILED")
        rows.append(f"| `{key}` | {status} | {'—' if first is None else f'{first:.1f}'} | {wall:.1f} | "
                    f"{'<br>'.join(lines)} |")
    summary = (f"# Notebook run: profile `{args.profile}`\n\n{len(notebooks)} notebooks, {args.jobs} at a time, "
               f"{total:.0f} s wall in all (the collection's wall time). *First output*: seconds from the start "
               f"(kernel start included) to the end of the first cell that prints or draws something; *wall*: the "
               f"whole notebook, papermill's start-up included.\n\n" + "\n".join(rows) + "\n")
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".md.tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(summary)
    os.replace(tmp, out / "SUMMARY.md")
    print(f"\nsummary: {out / 'SUMMARY.md'}  ({total:.0f} s)")
    leaks = leaked_secrets([*out.glob("*/*.ipynb"), *(out / "logs").glob("*.log")])
    if leaks:
        print("a Hugging Face token appears in: " + ", ".join(leaks) + " - delete these files", file=sys.stderr)
        return 1
    return 0 if all(results.get(f"{lang}/{src.stem}", (False,))[0] for lang, src in notebooks) else 1


if __name__ == "__main__":
    sys.exit(main())
