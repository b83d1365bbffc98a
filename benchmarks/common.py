"""Shared benchmark utilities: interleaved median timer, peak-RSS probe, machine description, table rows.

Rules every benchmark follows (see run.py):

* a figure is a ratio measured side by side in one run: repetitions are interleaved
  (baseline, ours, baseline, ours, ...) and each side's median is taken (>= 5 repetitions);
* correctness is checked first; if the check fails the row says ``FAILED CHECK: ...`` and no ratio.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MIN_REPS = 5


class CheckFailed(AssertionError):
    """Raised by a benchmark when ours does not reproduce the baseline's output."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Timing:
    baseline: list[float]
    ours: list[float]

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def speedup(self) -> float:
        """baseline median / ours median (> 1: ours is faster)."""
        return self.baseline_median / self.ours_median


def interleaved(baseline, ours, reps: int = 7, warmup: int = 1, setup=None) -> Timing:
    """Time two callables alternately: warm-up, then ``reps`` x (baseline, ours); medians per side.

    ``setup()`` (optional, untimed) runs before every timed call, e.g. to reseed a RNG.
    Garbage is collected before each call so one side's garbage does not land on the other's clock.
    """
    if reps < MIN_REPS:
        raise ValueError(f"reps={reps}: use at least {MIN_REPS} repetitions per side")
    for _ in range(warmup):
        for fn in (baseline, ours):
            if setup:
                setup()
            fn()
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    for _ in range(reps):
        for name, fn in (("baseline", baseline), ("ours", ours)):
            if setup:
                setup()
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return Timing(times["baseline"], times["ours"])


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


# -- peak RSS -------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of *this* process so far, in MB (Linux ``ru_maxrss`` is in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024 / 1e6 if sys.platform != "darwin" else kib / 1e6


def run_children(jobs: list[tuple[str, list[str]]], threads_each: int | None = None,
                 timeout: float = 1800) -> list[dict]:
    """Run ``python -m <module> <args>`` for every job at once, each in a fresh process; return their results.

    Each child must print one JSON line prefixed ``RESULT ``. ``threads_each`` sets OMP_NUM_THREADS (torch's
    intra-op threads) per child, so that concurrent children do not oversubscribe the cores.
    """
    env = dict(os.environ, HF_HUB_OFFLINE="1", USE_TF="0", TF_CPP_MIN_LOG_LEVEL="3", TOKENIZERS_PARALLELISM="false")
    if threads_each:
        env["OMP_NUM_THREADS"] = str(threads_each)
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-m", module, *args], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for module, args in jobs]
    results = []
    try:
        for (module, args), proc in zip(jobs, procs):
            out, err = proc.communicate(timeout=timeout)
            for line in out.splitlines():
                if line.startswith("RESULT "):
                    results.append(json.loads(line[len("RESULT "):]))
                    break
            else:
                tail = (err or out)[-1500:]
                raise RuntimeError(f"{module} {' '.join(args)} exited with {proc.returncode} and no result:\n{tail}")
    finally:
        for proc in procs:  # only the children started here
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


# -- machine --------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def gpu_name() -> str:
    """The CUDA GPU torch sees (the name of device 0 and the count), or "none"."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} x {torch.cuda.device_count()}"
    except ImportError:
        pass
    return "none"


def core_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("numpy", "pillow", "torch", "torchvision", "torchmetrics", "transformers", "accelerate", "datasets"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def memory_gib() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def machine_short() -> str:
    v = library_versions()
    return f"{cpu_model()}, {core_count()} cores; numpy {v['numpy']}, torch {v['torch']}"


# -- result rows ----------------------------------------------------------------------------------
@dataclass
class Row:
    measure: str
    baseline: str
    ours: str
    ratio: str
    goal: str = ""
    met: bool | None = None  # None: no goal, or not decidable (failed check / error)
    how: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def goal_cell(self) -> str:
        if not self.goal:
            return "—"
        verdict = {True: "**met**", False: "**missed**", None: "not decided"}[self.met]
        return f"{self.goal}: {verdict}"


def failed_row(measure: str, exc: BaseException, goal: str = "", how: str = "") -> Row:
    if isinstance(exc, CheckFailed):
        text = f"FAILED CHECK: {exc}"
    else:
        text = f"ERROR: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    return Row(measure, "—", "—", text, goal, None, how)
