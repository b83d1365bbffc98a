"""The rendered course (`make book` -> build/book/) in a real browser: headless Debian Chromium driven by
Playwright (no browser download: `executable_path` is the system's chromium).

Every page is opened over a local HTTP server with all other hosts blocked: no console error, no page
error, no request leaving the machine, every <img> decoded (naturalWidth > 0), no broken internal link
or anchor. The EN <-> 中文 switch and the PyTorch / TensorFlow tabs are clicked. Two screenshots are
saved: build/book-screenshots/index.png and build/book-screenshots/zh-05_inference-tensorflow.png.

Skipped when build/book is missing or older than build/executed (the first `pytest tests` of
`make test` runs before the notebooks are executed; `make test-notebooks` builds the book and runs
this file again), and when no Chromium is installed outside CI (in CI that is a failure).
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("SEGKIT_BOOK", ROOT / "build" / "book"))
EXECUTED = ROOT / "build" / "executed"
SHOTS = ROOT / "build" / "book-screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]


def _chromium() -> str | None:
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).exists():
            return cand
    return None


def _book_is_current() -> str | None:
    """None when build/book renders the current build/executed, else why not."""
    stamp = BOOK / ".segkit-book.json"
    if not (BOOK / "index.html").exists() or not stamp.exists():
        return f"no book in {BOOK} (run `make book`)"
    if "SEGKIT_BOOK" in os.environ:
        return None  # an explicitly chosen book is tested as it is
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    meta = json.loads(stamp.read_text())
    if meta["executed"] != mod.fingerprint(EXECUTED, meta.get("langs", mod.GEN.LANGS)):
        return "build/book is older than build/executed (run `make book`)"
    return None


def _skip_or_fail(why: str):
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def site():
    why = _book_is_current()
    if why:
        pytest.skip(why)
    handler = functools.partial(_QuietHandler, directory=str(BOOK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(site):
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = _chromium()
    if exe is None:
        _skip_or_fail("no Chromium: apt-get install chromium (or set CHROMIUM=/path/to/chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class Page:
    """A browser page that records console errors, page errors and requests to other hosts."""

    def __init__(self, browser, site):
        self.site = site
        self.context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        self.errors: list[str] = []
        self.external: list[str] = []
        self.context.route("**/*", self._route)
        self.context.set_default_timeout(60_000)  # 2 shared cores: be patient, the pages are static
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text} @ {m.location}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} ({r.failure})"))

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.site) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, rel: str):
        self.page.goto(self.site + rel, wait_until="load")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser, site):
    p = Page(browser, site)
    yield p
    p.close()


def _pages() -> list[str]:
    return sorted(p.relative_to(BOOK).as_posix() for p in BOOK.rglob("*.html") if "_static" not in p.parts)


_IMAGES_JS = """() => Array.from(document.images).map(i => {
  i.loading = 'eager';
  return {src: i.currentSrc || i.src, complete: i.complete, w: i.naturalWidth};
})"""
_LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""
_IDS_JS = """() => Array.from(document.querySelectorAll('[id]')).map(e => e.id)"""


def test_every_page_loads_cleanly_with_decoded_images_and_working_links(tab, site):
    pages = _pages()
    assert "index.html" in pages and any(p.startswith(("en/", "zh/")) for p in pages)
    ids: dict[str, set] = {}
    links: dict[str, set] = {}
    n_images = 0
    problems = []
    for rel in pages:
        page = tab.open(rel)
        # images: all decoded (lazy ones are switched to eager first, then awaited)
        page.evaluate(_IMAGES_JS)
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=20_000)
        for img in page.evaluate(_IMAGES_JS):
            n_images += 1
            if img["w"] == 0:
                problems.append(f"{rel}: image does not decode: {img['src'][:120]}")
        ids[rel] = set(page.evaluate(_IDS_JS))
        links[rel] = set(page.evaluate(_LINKS_JS))
        if tab.errors:
            problems += [f"{rel}: {e}" for e in tab.errors]
            tab.errors.clear()
    problems += [f"request to another host: {u}" for u in sorted(set(tab.external))]

    # internal links: the target exists (any file type), and an #anchor exists on a rendered page
    checked: dict[str, bool] = {}
    for rel, hrefs in links.items():
        for href in hrefs:
            if not href.startswith(site):
                continue
            url, _, frag = href.partition("#")
            path = urllib.parse.urlsplit(url).path.lstrip("/") or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if path not in checked:
                try:
                    with urllib.request.urlopen(site + urllib.parse.quote(path), timeout=10) as r:
                        checked[path] = r.status == 200
                except urllib.error.URLError:
                    checked[path] = False
            if not checked[path]:
                problems.append(f"{rel}: broken link {href}")
            elif frag and path in ids and not {frag, urllib.parse.unquote(frag)} & ids[path]:
                problems.append(f"{rel}: link to a missing anchor {href}")
    assert not problems, "\n".join(problems[:40])
    assert n_images > len(pages), f"only {n_images} images on {len(pages)} pages: are the figures missing?"
    # every stage page of both languages is linked from the landing page
    stage_pages = {p for p in pages if p.startswith(("en/", "zh/"))}
    linked = {urllib.parse.urlsplit(h).path.lstrip("/") for h in links["index.html"] if h.startswith(site)}
    assert stage_pages <= linked, f"not on the landing page: {sorted(stage_pages - linked)}"


def _tabbed_stage() -> str:
    """A stage page with PyTorch / TensorFlow tabs (prefers 05_inference: it has the overlays)."""
    tabbed = [p for p in _pages() if p.startswith("en/") and "sd-tab-set" in (BOOK / p).read_text(encoding="utf-8")]
    assert tabbed, "no stage page has framework tabs"
    return next((p for p in tabbed if "05_" in p), tabbed[-1])


def _visible_tab(page) -> str:
    return page.evaluate("""() => {
      const set = document.querySelector('.sd-tab-set');
      const on = set.querySelector(':scope > input:checked');
      const label = on.nextElementSibling, content = label.nextElementSibling;
      const others = Array.from(set.querySelectorAll(':scope > .sd-tab-content')).filter(c => c !== content);
      if (content.offsetHeight === 0) return 'checked tab not shown';
      if (others.some(c => c.offsetHeight !== 0)) return 'several tabs shown';
      return label.textContent.trim();
    }""")


def test_language_switch_and_framework_tabs(tab):
    if not any(p.startswith("zh/") for p in _pages()) or not any(p.startswith("en/") for p in _pages()):
        pytest.skip("the book has one language (LANGS=...)")
    stage = _tabbed_stage()
    name = stage.split("/", 1)[1]
    page = tab.open(stage)
    assert page.evaluate("document.documentElement.lang").startswith("en")
    assert _visible_tab(page) == "PyTorch"
    pt_text = page.locator(".sd-tab-set > .sd-tab-content").nth(0).inner_text()
    assert "torch" in pt_text.lower()

    # framework tabs: TensorFlow shows the TensorFlow notebook and hides the PyTorch one
    page.locator(".sd-tab-set > label", has_text="TensorFlow").first.click()
    assert _visible_tab(page) == "TensorFlow"
    tf_text = page.locator(".sd-tab-set > .sd-tab-content").nth(1).inner_text()
    assert "tensorflow" in tf_text.lower() or "keras" in tf_text.lower()
    imgs = page.evaluate("""() => Array.from(document.querySelectorAll('.sd-tab-set > .sd-tab-content'))[1]
                              .querySelectorAll('.output_subarea img').length""")

    # language switch: EN -> 中文 keeps the stage and (synced tabs) the framework
    page.locator(".lang-switch a.lang-other").first.click()
    page.wait_for_load_state("load")
    assert page.url.split("?")[0].endswith(f"zh/{name}"), page.url
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert _visible_tab(page) == "TensorFlow"
    assert page.locator(".lang-switch .lang-current").first.inner_text().strip() == "中文"

    # the 中文 TensorFlow page, scrolled to its first figure
    SHOTS.mkdir(parents=True, exist_ok=True)
    if imgs:
        figure = page.locator(".sd-tab-set > .sd-tab-content").nth(1).locator(".output_subarea img").first
        figure.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -140)")
    page.screenshot(path=str(SHOTS / f"zh-{Path(name).stem}-tensorflow.png"))

    # ... and back to EN
    page.locator(".lang-switch a.lang-other").first.click()
    page.wait_for_load_state("load")
    assert page.url.split("?")[0].endswith(f"en/{name}"), page.url

    # a link from the landing page selects the tab it names (?framework=pytorch)
    page = tab.open(f"{stage}?framework=pytorch")
    assert _visible_tab(page) == "PyTorch"
    page = tab.open("index.html")
    page.screenshot(path=str(SHOTS / "index.png"))
    assert not tab.errors, tab.errors
    assert not tab.external, tab.external


def test_exercise_hint_and_solution_are_collapsed_and_open_on_click(tab):
    """Under each exercise's check cell: a hint and a solution, folded; clicking the solution shows its code."""
    page = tab.open("en/03_metrics.html")
    solution = page.locator(".sd-tab-content").nth(0).locator("details.exercise-solution").first
    assert page.locator("details.exercise-hint").count() >= 2 and solution.count() == 1
    assert solution.evaluate("d => d.open") is False
    assert not solution.locator("pre").is_visible()
    solution.locator("summary").click()
    assert solution.evaluate("d => d.open") is True
    assert "def my_mean_iou" in solution.locator("pre").inner_text()
    if any(p.startswith("zh/") for p in _pages()):
        page = tab.open("zh/03_metrics.html")
        assert page.locator("details.exercise-hint summary").first.inner_text().strip() == "提示"
    assert not tab.errors, tab.errors

