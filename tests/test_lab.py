"""The course as a learner drives it: JupyterLab in headless Chromium, Run All, one notebook after another.

papermill and nbval never see the front-end. This test starts JupyterLab with the README's ``make lab`` (the project's
venv; as root in CI, so ``make lab`` must allow that; the URL it prints is awaited; localhost, a token,
``--no-browser``, ``--LabApp.expose_app_in_browser`` so the page's ``window.jupyterapp`` runs JupyterLab's own
commands), opens copies of the generated notebooks in ``build/lab-test/notebooks/<lang>/`` (a kernel's working
folder that is not the checkout's root, as under ``make lab``) and runs, through the UI:

* per framework, notebook 04 in one language, then 05 in the other (``en/04_pytorch -> zh/05_pytorch``,
  ``zh/04_tensorflow -> en/05_tensorflow``): 05 must load the model that 04 saved a minute earlier (it prints
  ``loading the model from <folder>``; the folder is removed before 04 starts), never the untrained stand-in;
* 01, 02 and 03 once per language (02/03 alternate the frameworks).

Two notebooks run at a time, each in its own page (2 cores). For each: Run All must finish, the kernel go idle,
no error output, no stderr output, no "IProgress not found", every output image decoded (``naturalWidth > 0``,
windowed rendering off so every cell is in the page). 04 must show live progress (a person is watching: the
Trainer's notebook bar / Keras' progress bar). Screenshots (04 mid-training, 05's overlay, each notebook's end)
go to ``build/lab-screenshots/``; each notebook's Run-All time goes to ``build/executed/LAB.md`` beside
``SUMMARY.md``. The server is stopped by its process group, kernels included, even on failure.

Runs under ``make test-lab`` (the last step of ``make test``; ``SEGKIT_LAB_TEST=1``), skipped otherwise; skipped
without Playwright or Chromium outside CI (a failure in CI).
"""
from __future__ import annotations

import json
import re
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from test_book import CHROMIUM_FLAGS, _chromium, _skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "build" / "lab-test"
SHOTS = ROOT / "build" / "lab-screenshots"
MODELS = ROOT / "build" / "models"
REPORT = ROOT / "build" / "executed" / "LAB.md"
PROFILE = "smoke"
NOTEBOOK_TIMEOUT_S = 600
#: what notebook 05 prints before it loads a trained model (absent when it falls back to the untrained stand-in),
#: in the notebook's language (sh.trained_model_folder)
LOADING = re.compile(r"^(?:loading the model from (?P<en>.+)|从 (?P<zh>.+) 加载模型)$")

#: (04 in one language) -> (05 in the other), per framework; then 01-03 once per language
CHAINS = [
    ["en/04_train_pytorch", "zh/05_inference_pytorch", "en/01_data", "en/02_preprocess_pytorch",
     "en/03_metrics_tensorflow"],
    ["zh/04_train_tensorflow", "en/05_inference_tensorflow", "zh/01_data", "zh/02_preprocess_tensorflow",
     "zh/03_metrics_pytorch"],
]

#: user settings for the test's JupyterLab: every cell rendered (no windowing), nothing written back to disk
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab over copies of notebooks/{en,zh}; yields (base URL, token)."""
    if not os.environ.get("SEGKIT_LAB_TEST"):  # minutes of notebooks: run once, by `make test-lab` (in make test)
        pytest.skip("the live JupyterLab test runs with `make test-lab` (SEGKIT_LAB_TEST=1)")
    pytest.importorskip("playwright.sync_api")
    if _chromium() is None:
        _skip_or_fail("no Chromium: apt-get install chromium (or set CHROMIUM=/path/to/chromium)")
    shutil.rmtree(LAB, ignore_errors=True)
    for lang in ("en", "zh"):
        shutil.copytree(ROOT / "notebooks" / lang, LAB / "notebooks" / lang)
    home = tmp_path_factory.mktemp("lab-home")
    for name, value in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("SEGKIT_PROGRESS", "MAKEFLAGS", "MAKELEVEL")}
    env.update(OMP_NUM_THREADS="1", JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    # the README's `make lab` itself (as root in CI: it must add --allow-root), on a free port with a known token
    args = (f"--no-browser --port={port} --ip=127.0.0.1 --IdentityProvider.token={token} "
            "--LabApp.expose_app_in_browser=True")
    cmd = ["make", "--no-print-directory", "lab", f"LAB_DIR={LAB / 'notebooks'}", f"LAB_ARGS={args}"]
    log_path = home / "server.log"
    log = open(log_path, "w")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while f"{base}/lab?token=" not in log_path.read_text():  # the URL it serves (a token set by hand shows as ...)
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make lab did not start or print its URL: {log_path.read_text()[-3000:]}")
            time.sleep(1)
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=30)
        yield base, token
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
            server.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_READY = f"""(path) => {{
  const w = {_PANEL};
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
  const s = w.sessionContext.session;
  return !!(s && s.kernel && s.kernel.status === 'idle' && w.content.widgets.length > 0);
}}"""
_START = """() => {
  window.__segkit = {done: null};
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .then(r => { window.__segkit.done = {ok: r !== false}; })
    .catch(e => { window.__segkit.done = {ok: false, error: String(e)}; });
}"""
_STATE = f"""() => {{
  const w = {_PANEL};
  const running = Array.from(w.node.querySelectorAll('.jp-InputPrompt')).filter(p => p.textContent.includes('*'));
  const text = running.map(p => p.closest('.jp-Cell').querySelector('.jp-OutputArea')?.textContent || '').join('');
  return {{done: window.__segkit.done, kernel: w.sessionContext.session.kernel.status, running: running.length,
          bar: w.node.querySelectorAll('.jp-OutputArea progress, .jp-OutputArea .widget-progress').length > 0
               || /\\d+\\/\\d+\\s\\[/.test(text)}};  // tqdm's widget writes U+2007 spaces: \\s, not ' '
}}"""
_IMAGES = f"""() => Array.from({_PANEL}.node.querySelectorAll('.jp-OutputArea img'))
  .map(i => ({{src: i.src.slice(0, 40), complete: i.complete, width: i.naturalWidth}}))"""


class Run:
    """One notebook opened in its own page and run with Run All."""

    def __init__(self, browser, lab, key: str):
        base, token = lab
        self.key, self.path = key, key + ".ipynb"
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        self.page = self.context.new_page()
        self.page.set_default_timeout(180_000)
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        workspace = key.replace("/", "-")
        self.page.goto(f"{base}/lab/workspaces/{workspace}/tree/{self.path}?reset&token={token}")
        self.page.wait_for_function(_READY, arg=self.path, timeout=180_000, polling=500)
        self.start = time.monotonic()
        self.page.evaluate(_START)
        self.wall: float | None = None
        self.state: dict = {}
        self.shot_mid = False

    def poll(self) -> bool:
        """True once Run All has finished and the kernel is idle."""
        self.state = self.page.evaluate(_STATE)
        done = self.state["done"] is not None and self.state["kernel"] == "idle" and self.state["running"] == 0
        if done and self.wall is None:
            self.wall = time.monotonic() - self.start
        return done

    def screenshot_running_cell(self, name: str):
        cell = self.page.locator(".jp-Cell:has(.jp-InputPrompt:text-matches('\\\\*'))").first
        cell.scroll_into_view_if_needed()
        self.page.screenshot(path=str(SHOTS / name))

    def notebook(self) -> dict:
        return self.page.evaluate(f"() => {_PANEL}.content.model.toJSON()")

    def images(self) -> list[dict]:
        self.page.wait_for_function(f"() => Array.from({_PANEL}.node.querySelectorAll('.jp-OutputArea img'))"
                                    ".every(i => i.complete)", timeout=60_000)
        return self.page.evaluate(_IMAGES)

    def screenshot_last_image_of(self, needle: str, name: str) -> bool:
        cells = self.page.locator(".jp-CodeCell").filter(has_text=needle).filter(has=self.page.locator("img"))
        if cells.count() == 0:
            return False
        img = cells.last.locator(".jp-OutputArea img").last
        img.scroll_into_view_if_needed()
        self.page.screenshot(path=str(SHOTS / name))
        return True

    def close(self):
        self.context.close()


def _text(x) -> str:
    return "".join(x) if isinstance(x, list) else (x or "")


def output_problems(nb: dict) -> list[str]:
    """Error outputs, stderr streams and tqdm's "IProgress not found" anywhere in a notebook (nbformat JSON)."""
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue', '')[:300]}")
            elif kind == "stream" and out.get("name") == "stderr" and _text(out.get("text")).strip():
                problems.append(f"cell {i}: stderr: {_text(out.get('text')).strip()[:300]}")
            if "IProgress not found" in json.dumps(out):
                problems.append(f"cell {i}: IProgress not found")
    return problems


def stdout_text(nb: dict) -> str:
    return "\n".join(_text(o.get("text")) for c in nb.get("cells", []) if c.get("cell_type") == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_output_problems_finds_errors_stderr_and_iprogress():
    nb = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": "fine\n"}]},
        {"cell_type": "code", "outputs": [{"output_type": "error", "ename": "KeyError", "evalue": "4"}]},
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr", "text": ["warn\n"]}]},
        {"cell_type": "code", "outputs": [{"output_type": "display_data",
                                           "data": {"text/plain": "IProgress not found. Please update"}}]},
        {"cell_type": "markdown", "source": "stderr"}]}
    assert output_problems(nb) == ["cell 1: KeyError: 4", "cell 2: stderr: warn", "cell 3: IProgress not found"]


def test_run_all_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for fw in ("pt", "tf"):  # 05 must find the model its 04 writes now, not one left by make run
        for suffix in ("", "-checkpoints"):
            shutil.rmtree(MODELS / f"segformer-{PROFILE}-{fw}{suffix}", ignore_errors=True)
    results: dict[str, dict] = {}
    failures: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS)
        try:
            queues = [list(chain) for chain in CHAINS]
            active: list[Run | None] = [None] * len(queues)
            trained_at: dict[str, float] = {}
            t0 = time.monotonic()
            while any(queues) or any(active):
                for k, queue in enumerate(queues):
                    if active[k] is None and queue:
                        key = queue.pop(0)
                        if key.split("/")[1].startswith("04_"):
                            trained_at[key.rsplit("_", 1)[1]] = time.time()
                        active[k] = Run(browser, lab, key)
                    run = active[k]
                    if run is None:
                        continue
                    finished = run.poll()
                    name = run.key.replace("/", "-")
                    if (run.key.split("/")[1].startswith("04_") and not run.shot_mid and not finished
                            and run.state["running"] and run.state["bar"]):
                        run.screenshot_running_cell(f"{name}-training.png")
                        run.shot_mid = True
                    if not finished and time.monotonic() - run.start > NOTEBOOK_TIMEOUT_S:
                        failures.append(f"{run.key}: Run All did not finish in {NOTEBOOK_TIMEOUT_S} s")
                        run.page.screenshot(path=str(SHOTS / f"{name}-timeout.png"))
                        run.close()
                        active[k] = None
                        queue.clear()
                        continue
                    if finished:
                        nb = run.notebook()
                        images = run.images()
                        if run.key.split("/")[1].startswith("05_"):
                            run.screenshot_last_image_of("overlay", f"{name}-overlay.png")
                        run.page.screenshot(path=str(SHOTS / f"{name}-end.png"), full_page=False)
                        results[run.key] = dict(wall=run.wall, nb=nb, images=images, ok=run.state["done"]["ok"],
                                                page_errors=run.page_errors, shot_mid=run.shot_mid)
                        print(f"lab: {run.key:32s} {run.wall:6.1f} s", flush=True)
                        run.close()
                        active[k] = None
                time.sleep(1)
            total = time.monotonic() - t0
        finally:
            browser.close()

    rows = ["| notebook | Run All (s) |", "|---|---:|"]
    rows += [f"| `{key}` | {r['wall']:.1f} |" for key, r in results.items()]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text(f"# JupyterLab in a browser: Run All, profile `{PROFILE}`\n\n{len(results)} notebooks, two at a "
                   f"time, {total:.0f} s in all (tests/test_lab.py; kernel start and page load not counted).\n\n"
                   + "\n".join(rows) + "\n")
    os.replace(tmp, REPORT)

    for key, r in results.items():
        failures += [f"{key}: {p}" for p in output_problems(r["nb"])]
        if not r["ok"]:
            failures.append(f"{key}: Run All stopped early")
        failures += [f"{key}: image {i['src']}... not decoded" for i in r["images"] if i["width"] <= 0]
        fw = "tf" if key.endswith("_tensorflow") else "pt"
        name = key.split("/")[1]
        if name.startswith("04_"):
            if not r["shot_mid"]:
                failures.append(f"{key}: no live progress bar seen while training")
            text = json.dumps(r["nb"])
            live = "<progress" in text if fw == "pt" else "widget-view" in text  # Trainer's bar / LiveProgress
            if not live:
                failures.append(f"{key}: no live progress bar in a live front-end")
        if name.startswith("05_"):
            model = MODELS / f"segformer-{PROFILE}-{fw}"
            printed = [(m["en"] or m["zh"]).strip() for ln in stdout_text(r["nb"]).splitlines()
                       if (m := LOADING.match(ln))]
            if printed != [str(model)]:
                failures.append(f"{key}: used model {printed or 'none (the untrained stand-in)'}, expected {model}")
            elif (model / "config.json").stat().st_mtime < trained_at[name.rsplit("_", 1)[1]]:
                failures.append(f"{key}: {model} is older than this test's 04 run")
        if not r["images"] and not name.startswith("03_"):  # 03 is numbers and tables
            failures.append(f"{key}: no figure rendered")
    missing = [k for chain in CHAINS for k in chain if k not in results]
    failures += [f"{k}: did not run" for k in missing]
    assert not failures, "\n".join(failures)
