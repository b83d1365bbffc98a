"""A Hub mirror through ``HF_ENDPOINT`` (the instructor's pack, section on mainland China): ``make prefetch``
and the kit's Hub probe send their requests to the mirror, never to huggingface.co.

A local stub server plays the mirror and records every request; it answers the probe and 404s the rest, so
prefetch stops early, after its first Hub requests, which is all this test needs to see.
"""
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def mirror():
    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            seen.append((self.command, self.path))
            self.send_response(200 if self.path in ("", "/") else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def _env(url: str, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(ROOT), HF_ENDPOINT=url, HF_HOME=str(tmp / "hf"), SEGHELPERS_CACHE=str(tmp / "kit"),
               HF_HUB_DISABLE_TELEMETRY="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               HF_HUB_ETAG_TIMEOUT="5", HF_HUB_DOWNLOAD_TIMEOUT="5")
    return env


def test_make_prefetch_runs_the_module_and_keeps_hf_endpoint():
    """`make prefetch` is `python -m seghelpers.prefetch` with the offline switches off; it does not set HF_ENDPOINT,
    so the learner's mirror reaches the module (the next test follows it there)."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^prefetch:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "-m seghelpers.prefetch" in recipe and "HF_HUB_OFFLINE=0" in recipe
    assert "HF_ENDPOINT" not in recipe


def test_prefetch_and_probe_go_to_hf_endpoint(mirror, tmp_path):
    url, seen = mirror
    run = subprocess.run([sys.executable, "-m", "seghelpers.prefetch", "--frameworks", "pt", "--timeout", "5"],
                         env=_env(url, tmp_path), capture_output=True, text=True, timeout=180, cwd=ROOT)
    out = run.stdout + run.stderr
    assert "unreachable" not in out, out  # the probe reached the mirror
    assert seen and seen[0][0] == "HEAD", seen  # the probe first
    hub_calls = [p for _, p in seen if "mit-b0" in p or "scene_parse_150" in p]
    assert hub_calls, (seen, out[-2000:])  # then the model / dataset requests, at the mirror
    assert "huggingface.co" not in " ".join(p for _, p in seen)


def test_probe_without_mirror_names_huggingface_co(monkeypatch):
    from seghelpers import hub

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hub.endpoint() == "https://huggingface.co"
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com/")
    assert hub.endpoint() == "https://hf-mirror.com"
