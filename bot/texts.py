"""Every user-visible text comes from templates/<language>/ (Jinja2).

Each file is a set of macros, one per message: `texts.html(lang, "form.ask", ...)`
calls macro `ask` in templates/<lang>/form.html.j2 with HTML autoescaping (for
messages sent with parse mode HTML); `texts.plain(lang, "buttons.approve")` uses
*.txt.j2 without escaping (button labels, alerts and topic names are not HTML).

Telegram's limit, whatever people typed: a message is at most 4,096 characters. Templates
mark the texts people typed with the `clip` filter (`{{ answer | clip }}`). `html()`
renders a message in full; only when it is over TEXT_BUDGET does it render it again with
those texts cut shorter and shorter (CLIP_STEPS) until it fits, and then `shortened()` is
true in the template, which says so and where to read the whole (e.g. `/show`).
"""

from __future__ import annotations

import functools
import html
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup

from bot.config import LANGUAGES

# The repository's templates/, through the link bot/templates (so that a built wheel carries
# them as the package's data).
TEMPLATES = Path(__file__).resolve().parent / "templates"

TEXT_BUDGET = 4000  # Telegram takes 4,096 characters after HTML parsing; keep a margin
# The longest a clipped text may be in each try, from "as typed" down; the last one fits any
# message of the bot (tests/unit/test_limits.py renders every one at its worst).
CLIP_STEPS: tuple[int | None, ...] = (None, 1200, 600, 300, 150, 80, 40)
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]*>")
_clip_at: ContextVar[int | None] = ContextVar("clip_at", default=None)


def visible_length(text: str) -> int:
    """What Telegram counts of an HTML text: tags dropped, entities decoded, UTF-16 units."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def clip(value: Any) -> Any:
    """A typed text, cut to the current try's length (see the module's docstring)."""
    limit = _clip_at.get()
    if limit is None or isinstance(value, Markup) or not isinstance(value, str):
        return value
    return value if len(value) <= limit else value[: limit - 1].rstrip() + ELLIPSIS


def shortened() -> bool:
    """True while a message is rendered with its typed texts cut to fit."""
    return _clip_at.get() is not None


def language_from_telegram(code: str | None, default: str) -> str:
    """Telegram's language_code (e.g. 'zh-hant', 'zh-hans', 'en-GB') → one of ours."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("zh"):
        return "zh-Hant"
    if code.startswith("en"):
        return "en"
    return default


def template_environment(root: Path = TEMPLATES) -> Environment:
    """Jinja as the templates expect it (also for tests that read their structure)."""
    env = Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates do not change while the bot runs: no stat per text
    )
    env.filters["clip"] = clip
    env.globals["shortened"] = shortened
    return env


def missing_texts(root: Path = TEMPLATES) -> str | None:
    """What of the installed texts is missing (e.g. a wheel built without them), or None:
    every language's command menu renders."""
    texts = Texts(LANGUAGES[0], root)
    for lang in LANGUAGES:
        try:
            texts.plain(lang, "commands.help")
        except TemplateNotFound as exc:
            return str(root / (exc.name or ""))
    return None


@functools.cache
def shared_environment(root: Path) -> Environment:
    """One environment per folder of templates, shared by every `Texts`: each template is
    compiled once per process, however many `Texts` are made (the tests make thousands)."""
    return template_environment(root)


class Texts:
    def __init__(self, default_language: str, root: Path = TEMPLATES) -> None:
        self.default_language = default_language
        self._env = shared_environment(root)

    def _macro(self, lang: str, name: str, extension: str) -> Any:
        lang = lang if lang in LANGUAGES else self.default_language
        file, _, macro = name.rpartition(".")
        module = self._env.get_template(f"{lang}/{file}.{extension}").module
        return getattr(module, macro)

    def html(self, lang: str, name: str, /, **params: Any) -> str:
        """The message, within Telegram's limit: typed texts are cut only if need be."""
        macro = self._macro(lang, name, "html.j2")
        text = ""
        for limit in CLIP_STEPS:
            token = _clip_at.set(limit)
            try:
                text = str(macro(**params)).strip()
            finally:
                _clip_at.reset(token)
            if visible_length(text) <= TEXT_BUDGET:
                break
        return text

    def unfitted_html(self, lang: str, name: str, /, **params: Any) -> str:
        """The text in full, however long (the caller pages it: bot.views.record_pages)."""
        return str(self._macro(lang, name, "html.j2")(**params)).strip()

    def plain(self, lang: str, name: str, /, **params: Any) -> str:
        return str(self._macro(lang, name, "txt.j2")(**params)).strip()
