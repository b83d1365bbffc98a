"""Keep library start-up banners and routine load reports out of a learner's notebook.

Every notebook's setup cell calls :func:`apply` once, before anything imports TensorFlow,
transformers or datasets. It works the same in papermill, plain Jupyter and Colab (it does not rely
on environment variables set by ``make``). What it hides, and nothing else:

* TensorFlow's C++ start-up lines ("All log messages before absl::InitializeLog() ...",
  "Could not find cuda drivers ...", "This TensorFlow binary is optimized ...", "failed call to
  cuInit"). Some are printed by absl's C++ logging, which ignores ``TF_CPP_MIN_LOG_LEVEL``, so
  besides setting that variable :func:`apply` installs a one-shot import hook: while ``tensorflow``
  is imported, file descriptor 2 goes to a temporary file; afterwards the known banner lines are
  dropped and anything else is written back to ``sys.stderr`` (so a real message still shows).
* TensorFlow's Python logger below ERROR (``INFO:tensorflow:Using MirroredStrategy ...``,
  tf.function retracing warnings), and AutoGraph's echo of its warnings to stdout.
* a few named messages of transformers / datasets: the "TensorFlow and JAX classes are deprecated"
  notice, the weight-load reports that say everything loaded (or that only BatchNorm's
  ``num_batches_tracked`` counter was skipped), "Device set to use cpu", and datasets' "couldn't be
  hashed properly" note about ``set_transform`` functions.

Warnings a learner must act on stay visible: ``warnings.warn`` calls (the kit's own UserWarnings,
the untrained-model fallback in notebook 05), "newly initialized" weight reports, and every
logger message not listed in :data:`HIDDEN_MESSAGES`. Set ``SEGKIT_QUIET=0`` to turn all of this off.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import tempfile

#: logger name -> messages (regular expressions, matched at the start) that :func:`apply` hides
HIDDEN_MESSAGES: dict[str, tuple[str, ...]] = {
    "transformers.modeling_tf_utils": (
        r"TensorFlow and JAX classes are deprecated",
        r"All model checkpoint layers were used when initializing",
        r"All the layers of \w+ were initialized from the model checkpoint",
    ),
    "transformers.feature_extraction_utils": (r"TensorFlow and JAX classes are deprecated",),
    "transformers.modeling_tf_pytorch_utils": (
        # the only unused PyTorch tensors are BatchNorm step counters, which TF has no slot for
        r"Some weights of the (PyTorch|TF 2\.0) model were not used when initializing .*: "
        r"\[('[\w.]*num_batches_tracked'(, )?)+\]",
        r"All the weights of \w+ were initialized from the (PyTorch|TF 2\.0) model",
    ),
    "transformers.pipelines.base": (r"Device set to use ",),
    # printed by the guide's AutoImageProcessor.from_pretrained(...); names a release long past (v4.52)
    "transformers.models.auto.image_processing_auto": (r"Using a slow image processor as `use_fast` is unset",),
    "datasets.fingerprint": (r"(Parameter '\w+'=.* of the transform|Transform) .* couldn't be hashed properly",),
}

#: lines TensorFlow's native code writes to stderr at import (absl / tsl logging, no learner value)
NATIVE_BANNERS = (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"[IWE]\d{4} [\d:. ]+\s*\d+ \w+\.(cc|h):\d+\] ",  # absl/tsl prefix: I0000 00:00:17.. 1234 file.cc:31]
    r"To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags",
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] \S+\.(cc|h):\d+\] ",  # older TF log prefix
)


class _HideMessages(logging.Filter):
    def __init__(self, patterns):
        super().__init__()
        self.patterns = [re.compile(p, re.S) for p in patterns]

    def filter(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # a broken record is not ours to judge
            return True
        return not any(p.match(msg) for p in self.patterns)


class _ErrorsOnly(logging.Filter):
    """On the ``tensorflow`` logger: a filter survives TF resetting the level to INFO in Jupyter."""

    def filter(self, record):
        return record.levelno >= logging.ERROR


_FILTERS: dict[str, logging.Filter] = {}
_TF_FILTER = _ErrorsOnly()


def live_progress() -> bool:
    """True when a person watches the cell that calls this: a Jupyter front-end (JupyterLab, Notebook, Colab,
    VS Code) runs it, so live progress bars (the Trainer's, Keras', datasets') are worth drawing. False in
    papermill, nbval and other programs that execute notebooks (they send cells with ``allow_stdin=False``: no
    one is there to type), in a plain script, and in IPython's terminal; executed notebooks and the book then
    keep one printed line per evaluation instead of a bar's hundreds of redraws.

    ``SEGKIT_PROGRESS=live`` or ``=lines`` overrides the guess.
    """
    mode = os.environ.get("SEGKIT_PROGRESS", "").strip().lower()
    if mode in ("live", "lines"):
        return mode == "live"
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return bool(getattr(getattr(shell, "kernel", None), "_allow_stdin", False))


def enabled() -> bool:
    """False when the environment says ``SEGKIT_QUIET=0`` (show everything, e.g. for debugging)."""
    return os.environ.get("SEGKIT_QUIET", "1").strip().lower() not in ("0", "false", "no", "off")


def drop_native_banners(text: str) -> str:
    """``text`` without the lines of :data:`NATIVE_BANNERS`."""
    banners = [re.compile(p) for p in NATIVE_BANNERS]
    kept = [ln for ln in text.splitlines(keepends=True) if not any(b.match(ln) for b in banners)]
    return "".join(kept)


@contextlib.contextmanager
def native_stderr_filtered():
    """Route file descriptor 2 to a temporary file inside the block; afterwards write back to
    ``sys.stderr`` every line that is not a known banner (all of it if the block raised)."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded interpreters): do nothing
        yield
        return
    failed = False
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            rest = text if failed else drop_native_banners(text)
            if rest:
                sys.stderr.write(rest)
                with contextlib.suppress(Exception):
                    sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        _remove_hook()  # the import is happening now: one-shot
        with native_stderr_filtered():
            self.loader.exec_module(module)
        _quiet_tensorflow_python()

    def __getattr__(self, name):  # get_source, get_filename, is_package, ... for tracebacks
        return getattr(self.loader, name)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """One-shot: wraps the loader of the top-level ``tensorflow`` package; removed when that loader runs (not
    here: ``importlib.util.find_spec("tensorflow")``, e.g. the kit's framework check, asks without importing)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _remove_hook():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]


def _quiet_tensorflow_python():
    """After ``import tensorflow``: stop AutoGraph echoing its warnings to stdout."""
    with contextlib.suppress(Exception):
        from tensorflow.python.autograph.utils import ag_logging

        ag_logging.echo_log_to_stdout = False


def apply() -> None:
    """Hide the noise listed in this module's docstring; safe to call more than once."""
    if not enabled():
        return
    # TensorFlow's own C++ logging (tsl): 3 = errors hidden too ("failed call to cuInit" on a CPU machine)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name, patterns in HIDDEN_MESSAGES.items():
        logger = logging.getLogger(name)  # the same object the library gets later
        if name not in _FILTERS:
            _FILTERS[name] = _HideMessages(patterns)
        if _FILTERS[name] not in logger.filters:
            logger.addFilter(_FILTERS[name])
    tf_logger = logging.getLogger("tensorflow")
    if _TF_FILTER not in tf_logger.filters:
        tf_logger.addFilter(_TF_FILTER)
    if "tensorflow" in sys.modules:
        _quiet_tensorflow_python()
    elif not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


def undo() -> None:
    """Reverse :func:`apply` (the environment variable stays: TensorFlow reads it only at import)."""
    for name, f in _FILTERS.items():
        logging.getLogger(name).removeFilter(f)
    logging.getLogger("tensorflow").removeFilter(_TF_FILTER)
    _remove_hook()
