"""Build the kit's pinned environment on Linux, macOS and Windows, with nothing but Python's standard library.

    python3 scripts/setup_env.py setup          # macOS / Linux (`make setup` runs this)
    py -3.11 scripts\\setup_env.py setup         # Windows (no make needed)
    py -3.11 scripts\\setup_env.py run           # = make run: every notebook, smoke profile, into build/executed
    py -3.11 scripts\\setup_env.py lab           # = make lab: JupyterLab in the pinned environment
    py -3.11 scripts\\setup_env.py test          # = make test's pytest suite (the notebook checks need make)

Other commands: ``python`` / ``venv`` / ``hash`` print the environment's interpreter, folder and key;
``lock`` re-resolves ``requirements.in`` into ``requirements.lock`` (``make lock``; needs the index).

The environment is a venv outside the clone, ``$SEGKIT_HOME/venv-<hash>`` (``SEGKIT_HOME`` defaults to
``~/.cache/segkit``), keyed by the first 12 hex digits of the SHA-256 of ``requirements.lock`` followed by
``requirements-bootstrap.lock`` (line endings normalised to LF, so a Windows checkout gets the same key).
The venv is built with Python 3.11, the version the lock is resolved for: this interpreter if it is 3.11,
else ``python3.11`` on PATH, else (Windows) ``py -3.11``. pip installs uv from the hash-pinned bootstrap
lock, then uv installs ``requirements.lock`` with every hash required. A build that stops half-way leaves
no stamp, so the next run starts it again.

Runs on any Python 3 from 3.6 up (no newer syntax), so that a wrong Python gets a message, not a traceback.
"""
from __future__ import print_function

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "requirements.lock"
BOOTSTRAP_LOCK = "requirements-bootstrap.lock"
PYTHON = (3, 11)  # the lock is resolved for CPython 3.11
STAMP = ".segkit-installed"
BYTECODE = ".segkit-bytecode"
#: the `make lock` command: one lock for every platform (markers on the Linux-only CUDA wheels), all hashes
LOCK_ARGS = ["pip", "compile", "requirements.in", "--universal", "--python-version", "3.11",
             "--generate-hashes", "--no-header", "--quiet"]

#: what PyTorch's CPU-only index replaces (``--torch-index``): torch, torchvision and the CUDA wheels torch pulls in
TORCH_PACKAGES = ("torch", "torchvision")
CUDA_PREFIXES = ("nvidia-", "cuda-", "triton")
COLAB = "https://colab.research.google.com (README: Colab)"
CONDA = "conda env create -f environment.yml"


class SetupError(Exception):
    """A problem the learner can fix; the message (English, then Chinese) says how."""


# ------------------------------------------------------------------------------------------ pure logic
def lock_hash(root=ROOT):
    """The environment's key: 12 hex digits of SHA-256 over the two lock files (LF line endings).

    On Linux and macOS this equals ``cat requirements.lock requirements-bootstrap.lock | sha256sum | cut -c1-12``.
    """
    h = hashlib.sha256()
    for name in (LOCK, BOOTSTRAP_LOCK):
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as fh:
                h.update(fh.read().replace(b"\r\n", b"\n"))
        except IOError:
            raise SetupError("%s is missing: run this script from a complete clone of the kit.\n"
                             "缺少 %s：请在完整克隆的仓库里运行本脚本。" % (path, path))
    return h.hexdigest()[:12]


def segkit_home(environ=None):
    """``$SEGKIT_HOME``, else ``~/.cache/segkit`` (on every system)."""
    environ = os.environ if environ is None else environ
    home = environ.get("SEGKIT_HOME")
    return os.path.expanduser(home) if home else os.path.join(os.path.expanduser("~"), ".cache", "segkit")


def venv_dir(home, key):
    return os.path.join(home, "venv-" + key)


def venv_bin(venv, name, system=None):
    """A program inside a venv: ``Scripts\\name.exe`` on Windows, ``bin/name`` elsewhere."""
    system = system or platform.system()
    if system == "Windows":
        return os.path.join(venv, "Scripts", name + ".exe")
    return os.path.join(venv, "bin", name)


def _version_tuple(text):
    parts = []
    for p in (text or "").split(".")[:2]:
        try:
            parts.append(int(p))
        except ValueError:
            break
    return tuple(parts)


def platform_problem(system, machine, mac_version=""):
    """``None`` where the lock installs (Linux x86-64/aarch64, macOS 14+ on Apple silicon, Windows x64),
    else a bilingual message naming the alternative."""
    machine = (machine or "").lower()
    if system == "Linux" and machine in ("x86_64", "amd64", "aarch64", "arm64"):
        return None
    if system == "Windows" and machine in ("amd64", "x86_64"):
        return None
    if system == "Darwin":
        if machine not in ("arm64", "aarch64"):
            return ("This is an Intel Mac: PyPI has no torch 2.14 or TensorFlow 2.21 wheels for Intel Macs, so the "
                    "kit's pinned environment cannot be installed here (conda's environment.yml installs the same "
                    "wheels and fails the same way). Run the notebooks on Google Colab instead: " + COLAB + ".\n"
                    "这是一台 Intel 芯片的 Mac：PyPI 上没有适用于 Intel Mac 的 torch 2.14 和 TensorFlow 2.21 安装包，"
                    "因此无法在本机安装套件锁定的环境（conda 的 environment.yml 安装的是同样的包，也会失败）。"
                    "请改用 Google Colab 运行这些笔记本：" + COLAB + "。")
        if _version_tuple(mac_version) < (14,):
            return ("macOS %s is too old: torch 2.14's Mac wheels need macOS 14 (Sonoma) or newer. Update macOS, or "
                    "run the notebooks on Google Colab: %s.\n"
                    "macOS %s 版本过低：torch 2.14 的 Mac 安装包要求 macOS 14（Sonoma）或更新版本。请升级 macOS，"
                    "或改用 Google Colab 运行这些笔记本：%s。" % (mac_version, COLAB, mac_version, COLAB))
        return None
    return ("%s on %s is not a platform the kit's lock supports (Linux x86-64 or aarch64, macOS 14+ on Apple silicon, "
            "Windows x64). Use Google Colab: %s.\n"
            "套件的锁定文件不支持 %s（%s）：支持的平台是 Linux x86-64 或 aarch64、Apple 芯片上的 macOS 14 及以上、"
            "Windows x64。请改用 Google Colab：%s。" % (system, machine or "?", COLAB, system, machine or "?", COLAB))


def without_torch(lock_text):
    """``lock_text`` minus the blocks of torch, torchvision and the CUDA packages (for ``--torch-index``), and the
    ``name==version`` pins of torch and torchvision it had."""
    kept, pins, drop = [], [], False
    for line in lock_text.splitlines(True):
        if line[:1].isalnum():  # a new requirement block starts
            name = line.split("==")[0].strip().lower()
            drop = name in TORCH_PACKAGES or name.startswith(CUDA_PREFIXES)
            if name in TORCH_PACKAGES:
                pins.append(line.split(" ")[0].strip())
        if not drop:
            kept.append(line)
    return "".join(kept), pins


def python_candidates(system, current_version, current_executable, which=shutil.which):
    """Interpreters to try, best first, as argument lists: this one if it is 3.11, then ``python3.11`` on
    PATH, then (Windows) the launcher ``py -3.11``."""
    found = []
    if tuple(current_version[:2]) == PYTHON:
        found.append([current_executable])
    exe = which("python3.11")
    if exe:
        found.append([exe])
    if system == "Windows" and which("py"):
        found.append(["py", "-3.11"])
    return found


def no_python_message(current_version):
    have = ".".join(str(v) for v in current_version[:3])
    return ("Python 3.11 was not found (this is Python %s; the lock is resolved for 3.11 only). Install Python 3.11: "
            "python.org/downloads (Windows: tick 'Add python.exe to PATH', then run `py -3.11 scripts\\setup_env.py "
            "setup`), Homebrew `brew install python@3.11`, your Linux distribution's python3.11 package, or "
            "`uv python install 3.11`; or pass --python /path/to/python3.11 (make: SETUP_PYTHON=...). Conda users: "
            "%s, then `conda activate segformer-kit`.\n"
            "没有找到 Python 3.11（当前是 Python %s，而锁定文件只针对 3.11 解析）。请安装 Python 3.11："
            "python.org/downloads（Windows 上勾选 “Add python.exe to PATH”，再运行 `py -3.11 scripts\\setup_env.py "
            "setup`）、Homebrew 的 `brew install python@3.11`、Linux 发行版的 python3.11 软件包，或 "
            "`uv python install 3.11`；也可以用 --python /path/to/python3.11 指定（make 用 SETUP_PYTHON=...）。"
            "使用 conda 的话：%s，然后 `conda activate segformer-kit`。" % (have, CONDA, have, CONDA))


# ------------------------------------------------------------------------------------------- actions
def _version_of(cmd):
    try:
        out = subprocess.check_output(cmd + ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                      stderr=subprocess.STDOUT, universal_newlines=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return _version_tuple(out.strip())


def pick_python(explicit=None):
    """The interpreter (argument list) that builds the venv; SetupError when there is no Python 3.11."""
    if explicit:
        cmd = explicit.split() if os.path.basename(explicit.split()[0]) == "py" else [explicit]
        if _version_of(cmd) != PYTHON:
            raise SetupError("--python %s is not Python 3.11 (found %s).\n--python %s 不是 Python 3.11（实际为 %s）。"
                             % (explicit, _version_of(cmd), explicit, _version_of(cmd)))
        return cmd
    for cmd in python_candidates(platform.system(), sys.version_info, sys.executable):
        if _version_of(cmd) == PYTHON:
            return cmd
    raise SetupError(no_python_message(sys.version_info))


def check_platform():
    problem = platform_problem(platform.system(), platform.machine(), platform.mac_ver()[0])
    if problem:
        raise SetupError(problem)


def _run(cmd, **kw):
    print(">> " + " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, **kw)
    if rc != 0:
        raise SetupError("this step failed (exit status %d): %s\nThe output above says why; rerun the same command "
                         "once the cause is fixed (the build starts again from scratch).\n"
                         "这一步失败了（退出码 %d）：%s\n原因见上面的输出；解决后重新运行同一条命令即可（会从头重新构建）。"
                         % (rc, " ".join(cmd), rc, " ".join(cmd)))


def setup(venv, python=None, torch_index=None):
    """Build the venv ``venv`` once (skipped when its stamp exists); return its folder.

    ``torch_index`` (e.g. PyTorch's CPU-only https://download.pytorch.org/whl/cpu): every other pin from the lock,
    hash-checked; torch and torchvision at the lock's versions from that index (no hashes: the index's own
    builds), without the CUDA libraries. The venv's folder then ends in ``-torch-index``."""
    home = os.path.dirname(os.path.abspath(venv))
    if os.path.exists(os.path.join(venv, STAMP)):
        return venv
    check_platform()
    cmd = pick_python(python)
    print(">> building %s from %s (minutes; downloads the pinned wheels once)" % (venv, LOCK), flush=True)
    if not os.path.isdir(home):
        os.makedirs(home)
    shutil.rmtree(venv, ignore_errors=True)  # an interrupted build has no stamp: start again
    _run(cmd + ["-m", "venv", venv])
    py = venv_bin(venv, "python")
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "--no-deps",
          "-r", os.path.join(ROOT, BOOTSTRAP_LOCK)])
    uv = venv_bin(venv, "uv")
    if torch_index:
        with open(os.path.join(ROOT, LOCK)) as fh:
            rest, torch_pins = without_torch(fh.read())
        filtered = os.path.join(venv, "requirements-without-torch.lock")
        with open(filtered, "w") as fh:
            fh.write(rest)
        _run([uv, "pip", "install", "--quiet", "--python", py, "--require-hashes", "--no-deps", "-r", filtered])
        _run([uv, "pip", "install", "--quiet", "--python", py, "--no-deps", "--index-url", torch_index] + torch_pins)
    else:
        _run([uv, "pip", "install", "--quiet", "--python", py, "--require-hashes", "-r", os.path.join(ROOT, LOCK)])
    open(os.path.join(venv, STAMP), "w").close()
    # kernels run with PYTHONDONTWRITEBYTECODE=1: compile the venv's modules once, here (status ignored: a few
    # packages ship data files named *.py that are not Python 3)
    print(">> precompiling the venv's bytecode (once)", flush=True)
    with open(os.devnull, "w") as null:
        subprocess.call([py, "-m", "compileall", "-q", "-j", "0", venv], stdout=null, stderr=null)
    open(os.path.join(venv, BYTECODE), "w").close()
    print(">> environment ready: %s" % venv, flush=True)
    return venv


def kit_env(environ=None):
    """The environment the kit's commands run in (as the Makefile sets it): this checkout on PYTHONPATH, offline."""
    env = dict(os.environ if environ is None else environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", env["HF_HUB_OFFLINE"])
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def lock(out=None, uv=None):
    """Re-resolve requirements.in into ``out`` (default requirements.lock). The existing lock's pins are the
    resolver's preferences, so an unchanged requirements.in gives a byte-identical lock."""
    out = out or os.path.join(ROOT, LOCK)
    uv = uv or shutil.which("uv") or venv_bin(venv_dir(segkit_home(), lock_hash()), "uv")
    if not os.path.exists(uv) and not shutil.which(uv):
        raise SetupError("`lock` needs uv: run `setup` first (the venv brings it) or put uv on PATH "
                         "(pip install uv).\n`lock` 需要 uv：请先运行 `setup`（虚拟环境里自带 uv），或把 uv 加入 PATH"
                         "（pip install uv）。")
    if out != os.path.join(ROOT, LOCK) and not os.path.exists(out):
        shutil.copyfile(os.path.join(ROOT, LOCK), out)  # same preferences as `make lock`
    _run([uv] + LOCK_ARGS + ["-o", out], cwd=ROOT)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["setup", "run", "lab", "test", "python", "venv", "hash", "lock"])
    ap.add_argument("--home", default=None, help="where venvs live (default $SEGKIT_HOME or ~/.cache/segkit)")
    ap.add_argument("--venv", default=None, help="the venv's folder (default <home>/venv-<hash>)")
    ap.add_argument("--python", default=None, help="the Python 3.11 that builds the venv (default: found)")
    ap.add_argument("--torch-index", default=None, help="take torch/torchvision from this index, e.g. PyTorch's "
                    "CPU-only https://download.pytorch.org/whl/cpu (Linux: skips the CUDA libraries)")
    ap.add_argument("--profile", default="smoke", help="run: the profile (smoke, workshop, guide, full)")
    # options may come before or after the command; anything else goes on to run_all.py / pytest / jupyter
    args, extra = ap.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    if extra and args.command not in ("run", "lab", "test"):
        ap.error("unrecognized arguments: %s" % " ".join(extra))
    try:
        venv = args.venv or venv_dir(args.home or segkit_home(), lock_hash())
        if args.torch_index:
            venv += "-torch-index"
        if args.command == "hash":
            print(lock_hash())
        elif args.command == "venv":
            print(venv)
        elif args.command == "python":
            print(venv_bin(venv, "python"))
        elif args.command == "lock":
            lock()
        else:
            venv = setup(venv, args.python, args.torch_index)
            py = venv_bin(venv, "python")
            if args.command == "run":
                _run([py, os.path.join("notebooks", "run_all.py"), "--profile", args.profile, "--out",
                      os.path.join("build", "executed"), "--jobs", "2", "--langs", "en", "zh"] + extra,
                     cwd=ROOT, env=kit_env())
            elif args.command == "lab":
                _run([venv_bin(venv, "jupyter"), "lab", "--notebook-dir=notebooks"] + extra, cwd=ROOT, env=kit_env())
            elif args.command == "test":
                _run([py, "-m", "pytest", "-q", "tests"] + extra, cwd=ROOT, env=kit_env())
    except SetupError as e:
        print("setup_env: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
