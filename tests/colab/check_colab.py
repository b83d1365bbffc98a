#!/usr/bin/env python
"""Run notebooks as a Colab user does, in a Colab-like venv built from ``tests/colab/colab-packages.txt``.

    python tests/colab/check_colab.py                  # what `make colab-check` runs
    python tests/colab/check_colab.py --python 3.13 --notebooks 04_train_pytorch 05_inference_pytorch

1. **venv**: ``uv venv --seed`` (pip included, as on Colab) with the list's Python, then ``uv pip install``
   of the list: Colab's preinstalled stack (TensorFlow 2.20 + its tf-keras, torch, transformers 5, ...).
2. **snapshot**: this working tree (tracked and untracked files, not ignored ones) committed to a
   throwaway git repository on ``notebooks/config.json``'s branch. In each notebook's install cell
   ``https://github.com/<repo>`` becomes ``file://<snapshot>``: the only change made to the cell, so the
   cell's own ``pip install`` command runs, git URL and branch syntax included.
3. **notebooks** (04 → 05, TensorFlow then PyTorch): each runs through papermill in a fresh "runtime"
   (own working folder, Hugging Face cache and seghelpers cache, as Colab gives each notebook), in a
   kernel of that venv where ``google.colab`` is in ``sys.modules`` (so the install cell takes its Colab
   branch) and ``SEGKIT_DRIVE`` names a "MyDrive" folder shared by the runtimes (Drive mounted in both).
4. **checks**: the ``# keep`` packages (Colab's TensorFlow, tf-keras, torch, torchvision) are unchanged;
   transformers is the kit's pin; each install cell ran its Colab branch; each 05 loaded the model its 04
   saved to "Drive".

Writes ``build/colab-check/`` (executed notebooks, logs, ``SUMMARY.md``); the venv goes to
``$SEGKIT_HOME/colab-check-venv`` and is rebuilt on every run (a fresh runtime; the uv cache makes
rebuilds quick). Exit status 1 when a step fails. Needs uv, git and PyPI; no Hugging Face Hub.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = Path(__file__).resolve().parent / "colab-packages.txt"
NB_DIR = ROOT / "notebooks"
DEFAULT_NOTEBOOKS = ("04_train_tensorflow", "05_inference_tensorflow", "04_train_pytorch", "05_inference_pytorch")
# stands in for Colab's kernel, which imports google.colab at start-up (only its presence is simulated)
SITECUSTOMIZE = """import importlib.machinery, sys, types
colab = types.ModuleType("google.colab")
colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)  # find_spec() works (accelerate calls it)
sys.modules.setdefault("google.colab", colab)
"""


# ----------------------------------------------------------------------------- pieces tests reuse
def read_packages(path: Path = PACKAGES) -> dict:
    """``{"python": "3.12", "exclude_newer": "2026-12-02", "requirements": [...], "keep": {name: version}}``."""
    info = {"requirements": [], "keep": {}}
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"#\s*(python|exclude-newer):\s*(\S+)", line)
        if header:
            info[header.group(1).replace("-", "_")] = header.group(2)
        req = line.split("#")[0].strip()
        if req:
            info["requirements"].append(req)
            if re.search(r"#\s*keep\b", line):
                name, _, version = req.partition("==")
                info["keep"][name.lower()] = version
    return info


def install_cell(nb: dict) -> str:
    """The source of a generated notebook's install cell (its first code cell)."""
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert 'if "google.colab" in sys.modules' in source, "the first code cell is not the install cell"
    return source


def kit_pins(extra: str) -> dict:
    """``{name: version}`` of a ``pyproject.toml`` extra's exact pins."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][extra]
    return dict(d.split("==") for d in deps if "==" in d)


def find_python(version: str) -> str:
    """An interpreter for ``version`` (a path, ``pythonX.Y`` on PATH, or pyenv's); else the version for uv."""
    if os.sep in version:
        return version
    pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", Path(p).parents[1].name)])
    for candidate in filter(None, [shutil.which(f"python{version}"), *reversed(pyenv)]):
        if subprocess.run([candidate, "-c", "import sys"], capture_output=True).returncode == 0:  # not a dead shim
            return candidate
    return version


def find_uv() -> str:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists() and not shutil.which(uv):
        sys.exit("uv not found: install it (pip install uv) or run from the kit's venv (make setup)")
    return uv


# ----------------------------------------------------------------------------- steps
def run(cmd, log: Path | None = None, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if log is not None:
        log.write_text(f"$ {' '.join(map(str, cmd))}\n{r.stdout}\n{r.stderr}", encoding="utf-8")
    return r


def build_venv(venv: Path, python: str, info: dict, logs: Path) -> None:
    uv = find_uv()
    shutil.rmtree(venv, ignore_errors=True)
    r = run([uv, "venv", "--seed", "--python", python, venv], logs / "venv.log")
    if r.returncode:
        raise SystemExit(f"uv venv failed:\n{r.stderr}")
    cmd = [uv, "pip", "install", "--python", venv / "bin" / "python", *info["requirements"]]
    if info.get("exclude_newer"):
        cmd += ["--exclude-newer", info["exclude_newer"]]
    r = run(cmd, logs / "packages.log")
    if r.returncode:
        raise SystemExit(f"installing {PACKAGES.name} failed:\n{r.stderr[-4000:]}")


def snapshot(dest: Path, branch: str) -> Path:
    """The working tree as a one-commit git repository on ``branch`` (what pip's git+ URL clones)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    files = run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
    for rel in filter(None, files.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = ["git", "-C", dest, "-c", "user.name=colab-check", "-c", "user.email=colab-check@localhost"]
    for cmd in (["init", "-q", "-b", branch], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        r = run(git + cmd)
        if r.returncode:
            raise SystemExit(f"git {cmd[0]} in {dest} failed: {r.stderr}")
    return dest


def versions(python: Path, names) -> dict:
    code = ("import json, sys, importlib.metadata as m\n"
            "def v(n):\n    try: return m.version(n)\n    except m.PackageNotFoundError: return None\n"
            "print(json.dumps({n: v(n) for n in sys.argv[1:]}))")
    r = run([python, "-c", code, *names])
    return json.loads(r.stdout)


def outputs_text(nb: dict, cell_index: int | None = None) -> str:
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if cell_index is not None:
        cells = cells[cell_index:cell_index + 1]
    text = []
    for cell in cells:
        for out in cell.get("outputs", []):
            text.append("".join(out.get("text", "")))
            for value in out.get("data", {}).values():
                text.append("".join(value) if isinstance(value, list) else str(value))
            text += [out.get("ename", ""), out.get("evalue", "")]
    return "\n".join(text)


def run_notebook(name: str, lang: str, work: Path, venv: Path, config: dict, snap: Path, drive: Path,
                 timeout: float) -> tuple[bool, float, dict, str]:
    src = json.loads((NB_DIR / lang / f"{name}.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in src["cells"] if c["cell_type"] == "code")
    github = f"https://github.com/{config['repo']}"
    text = install_cell(src)
    assert f"git+{github}@{config['branch']}" in text, f"{name}: install cell does not pip install from {github}"
    cell["source"] = text.replace(github, snap.as_uri())  # the cell's command, pointed at the snapshot
    nb_in = work / "in" / f"{name}.ipynb"
    nb_out = work / "executed" / f"{name}.ipynb"
    nb_in.parent.mkdir(parents=True, exist_ok=True)
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    nb_in.write_text(json.dumps(src), encoding="utf-8")

    runtime = work / "runtimes" / name  # a fresh Colab runtime: its own /content and caches
    shutil.rmtree(runtime, ignore_errors=True)
    (runtime / "content").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "SEGKIT_", "SEGHELPERS_", "USE_TF", "USE_TORCH", "JUPYTER"))
           and k not in ("PYTHONPATH", "VIRTUAL_ENV", "HF_HOME")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(runtime / "hf"),
               SEGHELPERS_CACHE=str(runtime / "seghelpers"), SEGKIT_DRIVE=str(drive), PIP_CONFIG_FILE=os.devnull,
               JUPYTER_PATH=str(work / "jupyter"), MPLCONFIGDIR=str(runtime / "mpl"))
    if os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    cmd = [sys.executable, "-m", "papermill", nb_in, nb_out, "-k", "colab-sim", "--cwd", runtime / "content",
           "--no-progress-bar", "-p", "profile", "smoke"]
    t0 = time.perf_counter()
    try:
        r = run(cmd, work / "logs" / f"{name}.log", env=env, timeout=timeout)
        ok = r.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    wall = time.perf_counter() - t0
    executed = json.loads(nb_out.read_text(encoding="utf-8")) if nb_out.exists() else {"cells": []}
    return ok, wall, executed, str(work / "logs" / f"{name}.log")


def write_kernelspec(work: Path, venv: Path) -> None:
    fake = work / "fake-colab"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    spec = work / "jupyter" / "kernels" / "colab-sim"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like (simulated)", "language": "python",
        "env": {"PYTHONPATH": str(fake), "PYTHONNOUSERSITE": "1"},
    }), encoding="utf-8")


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=Path, default=PACKAGES)
    parser.add_argument("--python", help="the venv's Python (default: the list's, e.g. 3.12)")
    parser.add_argument("--notebooks", nargs="+", default=list(DEFAULT_NOTEBOOKS))
    parser.add_argument("--lang", default="en", choices=("en", "zh"))
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "colab-check")
    parser.add_argument("--venv", type=Path,
                        default=Path(os.environ.get("SEGKIT_HOME", Path.home() / ".cache" / "segkit")) / "colab-check-venv")
    parser.add_argument("--timeout", type=float, default=2400, help="seconds per notebook")
    args = parser.parse_args(argv)

    info = read_packages(args.packages)
    python = find_python(args.python or info.get("python", "3.12"))
    config = json.loads((NB_DIR / "config.json").read_text(encoding="utf-8"))
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    rows, failed = [], False

    def step(name, seconds, ok, detail=""):
        nonlocal failed
        failed |= not ok
        rows.append(f"| {name} | {'ok' if ok else 'FAILED'} | {seconds:.0f} | {detail} |")
        print(f"{'ok    ' if ok else 'FAILED'} {name} ({seconds:.0f} s) {detail}", flush=True)

    t0 = time.perf_counter()
    args.venv = args.venv.resolve()
    build_venv(args.venv, python, info, work / "logs")
    py = args.venv / "bin" / "python"
    pyver = run([py, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]).stdout.strip()
    watched = sorted({*info["keep"], "transformers", "huggingface-hub", "datasets", "seghelpers"})
    before = versions(py, watched)
    step("venv from " + args.packages.name, time.perf_counter() - t0, True,
         f"Python {pyver}; " + ", ".join(f"{n} {before[n]}" for n in watched if before[n]))

    t0 = time.perf_counter()
    snap = snapshot(work / "snapshot", config["branch"])
    write_kernelspec(work, args.venv)
    drive = work / "MyDrive"
    drive.mkdir()
    step("snapshot of the working tree", time.perf_counter() - t0, True, f"git+{snap.as_uri()}@{config['branch']}")

    pins = kit_pins("colab")
    for name in args.notebooks:
        ok, wall, executed, log = run_notebook(name, args.lang, work, args.venv, config, snap, drive, args.timeout)
        setup_out = outputs_text(executed, 0)
        notes = []
        if "installed:" not in setup_out:
            ok = False
            notes.append("the install cell did not take its Colab branch")
        if name.startswith("05_"):
            text = outputs_text(executed)
            fw = "tf" if name.endswith("_tensorflow") else "pt"
            if f"model: trained by notebook 04 ({drive}" not in text:
                ok = False
                notes.append(f"did not load 04's model from the simulated Drive ({drive})")
            else:
                notes.append(f"loaded 04's model from Drive: {sorted(p.name for p in (drive / 'segformer-kit' / 'models').glob(f'*-{fw}'))}")
        now = versions(py, watched)
        changed = {n: (before[n], now[n]) for n in info["keep"] if now[n] != before[n]}
        if changed:
            ok = False
            notes.append(f"changed Colab's packages: {changed}")
        if now["transformers"] != pins["transformers"]:
            ok = False
            notes.append(f"transformers {now['transformers']}, kit pins {pins['transformers']}")
        if name.endswith("_tensorflow"):
            notes.append(f"tensorflow {now['tensorflow']}, tf-keras {now['tf-keras']}")
        if not ok:
            notes.append(f"log: {log}")
        resolver = "dependency resolver" in setup_out
        notes.append("pip's resolver block shown + note" if resolver else "install cell output: "
                     + " | ".join(line for line in setup_out.splitlines() if line.strip())[:160])
        step(f"{args.lang}/{name}", wall, ok, "; ".join(notes))

    after = versions(py, watched)
    summary = ["# Colab-like check", "", f"Python {pyver}, packages from `{args.packages.name}`; before → after the "
               "install cells: " + ", ".join(f"{n} {before[n]} → {after[n]}" for n in watched), "",
               "| step | result | wall (s) | detail |", "|---|---|---:|---|", *rows, ""]
    (work / "SUMMARY.md").write_text("\n".join(summary), encoding="utf-8")
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
