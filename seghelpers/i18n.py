"""The language of the kit's own messages: English, or Chinese for the 中文 notebooks.

Every notebook's setup cell calls :func:`set_language` with the notebook's language (the generator
writes ``"en"`` or ``"zh"`` there). A learner's own script gets English unless it calls
``set_language("zh")`` or sets ``SEGKIT_LANG=zh``.

Messages are written where they are raised, both languages side by side::

    raise DataError(tr(f"no annotation for {name}", f"{name} 没有对应的标注"))

:func:`tr` gives the Chinese text in a Chinese session and the English otherwise. Errors and warnings
keep the English too in a Chinese session (``keep_en=True``, the default for :func:`tr`): a learner
who searches the web for the message finds the English one. Short display strings (a legend title, a
progress line) pass ``keep_en=False``.
"""
from __future__ import annotations

import os

LANGS = ("en", "zh")
_language = os.environ.get("SEGKIT_LANG", "en")
if _language not in LANGS:  # a bad environment value must not break every import
    _language = "en"


def set_language(lang: str) -> None:
    """Use ``lang`` ("en" or "zh") for the kit's messages from now on.

    Raises:
        ValueError: ``lang`` is not one of :data:`LANGS`.
    """
    global _language
    if lang not in LANGS:
        raise ValueError(f"set_language: lang must be one of {LANGS}, got {lang!r}")
    _language = lang


def language() -> str:
    """The current message language, "en" or "zh"."""
    return _language


def tr(en: str, zh: str, *, keep_en: bool = True) -> str:
    """``en`` in an English session; in a Chinese one ``zh``, followed by ``en`` on its own line
    (``keep_en=True``, for errors and warnings a learner may search for) or alone (``keep_en=False``)."""
    if _language != "zh":
        return en
    return f"{zh}\n(English: {en})" if keep_en else zh
