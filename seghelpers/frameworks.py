"""Which frameworks transformers will see: ``USE_TF`` / ``USE_TORCH``, checked before a misleading library error.

transformers decides once, when it is first imported, from two environment variables:

* PyTorch classes exist only if ``USE_TORCH`` is unset/``AUTO``/true **and** ``USE_TF`` is not true;
* TensorFlow classes exist only if ``USE_TF`` is unset/``AUTO``/true **and** ``USE_TORCH`` is not true.

So ``USE_TF=1`` (which transformers' docs suggest to TF users) hides the PyTorch classes, and ``USE_TF=0``
(what :mod:`seghelpers.pt` sets, so that a PyTorch session does not import TensorFlow: ~8 s, ~640 MB) hides
the TensorFlow ones. A hidden class fails later with "requires the PyTorch/TensorFlow library but it was
not found in your environment", which sends a learner to reinstall a library they have.

:func:`ensure` is called by :mod:`seghelpers.pt` and :mod:`seghelpers.tf` at import. It undoes the kit's own
``USE_TF=0`` when TensorFlow is needed after all (any import order works while transformers is not yet
imported), and raises ``ImportError`` naming the variable to change when the user's setting, or a
transformers import made under it, hides a framework the layer needs. Framework-free (imports os/sys only).
"""
from __future__ import annotations

import importlib.util
import os
import sys

from .i18n import tr

_TRUE = {"1", "ON", "YES", "TRUE"}
_TRUE_AUTO = _TRUE | {"AUTO"}
#: set in the environment when the kit itself set USE_TF=0 (so that it may undo it)
KIT_MARK = "SEGHELPERS_SET_USE_TF"


def _env(name: str) -> str:
    return os.environ.get(name, "AUTO").upper()


def visible(framework: str) -> bool:
    """Whether transformers, imported now under this environment, would offer ``framework`` ("pt"/"tf")."""
    use_tf, use_torch = _env("USE_TF"), _env("USE_TORCH")
    if framework == "pt":
        return use_torch in _TRUE_AUTO and use_tf not in _TRUE
    return use_tf in _TRUE_AUTO and use_torch not in _TRUE


def hide_tensorflow_for_pytorch() -> None:
    """``USE_TF=0`` when unset and neither transformers nor TensorFlow is imported yet (a PyTorch session then
    skips TF's import); marked, so that :func:`ensure` ("tf") may undo it."""
    if "USE_TF" not in os.environ and "transformers" not in sys.modules and "tensorflow" not in sys.modules:
        os.environ["USE_TF"] = "0"
        os.environ[KIT_MARK] = "1"


def _culprit(framework: str) -> str:
    use_tf, use_torch = os.environ.get("USE_TF"), os.environ.get("USE_TORCH")
    parts = []
    if framework == "pt":
        if use_tf is not None and use_tf.upper() in _TRUE:
            parts.append(f"USE_TF={use_tf}")
        if use_torch is not None and use_torch.upper() not in _TRUE_AUTO:
            parts.append(f"USE_TORCH={use_torch}")
    else:
        if use_tf is not None and use_tf.upper() not in _TRUE_AUTO:
            parts.append(f"USE_TF={use_tf}")
        if use_torch is not None and use_torch.upper() in _TRUE:
            parts.append(f"USE_TORCH={use_torch}")
    return " and ".join(parts) or "USE_TF/USE_TORCH"


def ensure(framework: str) -> None:
    """Make sure transformers offers ``framework`` ("pt" or "tf"), or raise ``ImportError`` naming the fix.

    Called by the kit's framework layers at import; cheap (no framework is imported here).
    """
    name = {"pt": "PyTorch", "tf": "TensorFlow"}[framework]
    package = {"pt": "torch", "tf": "tensorflow"}[framework]
    if importlib.util.find_spec(package) is None:
        return  # not installed: the library's own message ("requires the ... library") is the right one
    loaded = sys.modules.get("transformers.utils.import_utils")
    if loaded is None:
        if visible(framework):
            return
        if framework == "tf" and os.environ.get(KIT_MARK) == "1":  # the kit's own USE_TF=0: undo it
            os.environ.pop("USE_TF", None)
            os.environ.pop(KIT_MARK, None)
            if visible("tf"):
                return
        var = _culprit(framework)
        raise ImportError(tr(
            f"{var} is set in this environment, and it hides {name} from transformers (its {name} classes would "
            f"fail with \"requires the {name} library but it was not found\", although {package} is installed). "
            f"Unset it before transformers is imported: in a notebook, os.environ.pop(\"{var.split('=')[0]}\") in "
            "the first cell (then restart the kernel if transformers was imported already); in a shell, "
            f"unset {var.split('=')[0]}. Both frameworks work with USE_TF and USE_TORCH unset.",
            f"当前环境设置了 {var}，它让 transformers 看不到 {name}（尽管已经安装了 {package}，transformers 的 "
            f"{name} 类仍会报错“requires the {name} library but it was not found”）。请在导入 transformers 之前去掉它："
            f"在 notebook 里，在第一个单元格执行 os.environ.pop(\"{var.split('=')[0]}\")（如果已经导入过 transformers，"
            f"还要重启内核）；在终端里执行 unset {var.split('=')[0]}。USE_TF 和 USE_TORCH 都不设置时，两个框架都能用。"))
    available = loaded.is_torch_available() if framework == "pt" else loaded.is_tf_available()
    if available:
        return
    kit = os.environ.get(KIT_MARK) == "1"
    var = "USE_TF=0 (set by seghelpers.pt, imported first)" if kit else _culprit(framework)
    raise ImportError(tr(
        f"transformers was imported while {var} hid {name}, and it decides that once per process, so its "
        f"{name} classes would fail with \"requires the {name} library\" although {package} is installed. "
        f"Restart the kernel (or process) and import seghelpers.{framework} before anything imports transformers"
        + ("" if kit else f", with {var.split('=')[0]} unset") + ".",
        f"transformers 是在 {var} 让它看不到 {name} 的时候导入的，而它每个进程只判断一次，所以它的 {name} 类会报错"
        f"“requires the {name} library”，尽管已经安装了 {package}。请重启内核（或进程），并在任何代码导入 transformers "
        f"之前先导入 seghelpers.{framework}" + ("" if kit else f"，同时不要设置 {var.split('=')[0]}") + "。"))
