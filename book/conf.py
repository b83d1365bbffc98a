"""Sphinx configuration of the rendered course (`make book`).

book/build.py copies this file, _static/ and _templates/ next to the pages it generates under
build/book-src/ and runs sphinx-build there; nothing here is fetched from the network at build or
view time (the theme's fonts, icons and scripts ship inside the pinned wheels).
"""
import json
import os

_meta = json.loads(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "book.json"), encoding="utf-8").read())

project = "SegFormer teaching kit"
author = "SegFormer teaching kit contributors"
copyright = "SegFormer teaching kit contributors, Apache-2.0"
language = "en"  # the build script marks the 中文 pages lang="zh-CN" afterwards

extensions = ["myst_parser", "sphinx_design"]
myst_enable_extensions = ["colon_fence"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_html", "_extra", "_build"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_extra_path = ["_extra"]  # notebooks offered for download, copied as they are
html_css_files = ["book.css"]

html_theme = "sphinx_book_theme"
html_title = "SegFormer teaching kit"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": f"https://github.com/{_meta['repo']}",
    "repository_branch": _meta["branch"],
    "use_repository_button": True,
    "use_download_button": False,  # it would offer the generated .md; each page links its notebooks instead
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "secondary_sidebar_items": [],
    "navbar_persistent": [],  # no second search field in a top bar: the sidebar has one
}
# a set default mode: without it the theme logs "Got invalid theme mode" as a console error
html_context = {"book": _meta, "default_mode": "light"}
