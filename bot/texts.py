"""Every user-visible text: one set of Jinja2 layouts in templates/, in three languages.

Each file is a set of macros, one per message: `texts.html(lang, "form.ask", ...)`
calls macro `ask` in templates/form.html.j2 with HTML autoescaping (for messages sent
with parse mode HTML); `texts.plain(lang, "buttons.approve")` uses *.txt.j2 without
escaping (button labels, alerts and topic names are not HTML).

The layouts are written in Traditional Chinese, the rule book's language, with every phrase
marked for translation (`{% trans %}…{% endtrans %}`, `_()`: jinja2.ext.i18n, new-style
gettext, so values are escaped in HTML). English and Simplified Chinese come from the gettext
catalogs in locales/ (see bot/catalogs.py and `make catalogs`). Dates, times and amounts go
through Babel's formatters (the `short_time`, `full_time`, `day`, `short_day`, `clock` and
`money` filters), in the language's locale.

Telegram's limit, whatever people typed: a message is at most 4,096 characters. Templates
mark the texts people typed with the `clip` filter (`{{ answer | clip }}`). `html()`
renders a message in full; only when it is over TEXT_BUDGET does it render it again with
those texts cut shorter and shorter (CLIP_STEPS) until it fits, and then `shortened()` is
true in the template, which says so and where to read the whole (e.g. `/show`).
"""

from __future__ import annotations

import functools
import gettext
import html
import io
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup

from bot import formats
from bot.config import LANGUAGES

# The repository's templates/, through the link bot/templates (so that a built wheel carries
# them as the package's data).
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The gettext catalogs, through the link bot/locales to the repository's locales/.
CATALOGS = Path(__file__).resolve().parent / "locales"

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
    """Telegram's language_code (an IETF tag: 'zh-hant', 'zh-CN', 'en-GB') → one of ours.

    Simplified where the tag says so (zh-hans, or a mainland / Singapore region), Traditional
    for any other Chinese (zh-hant, zh-tw, zh-hk, zh-mo, and plain zh: the rule book's)."""
    if not code:
        return default
    parts = code.lower().replace("_", "-").split("-")
    if parts[0] == "zh":
        return "zh-Hans" if {"hans", "cn", "sg", "my"} & set(parts[1:]) else "zh-Hant"
    if parts[0] == "en":
        return "en"
    return default


# Babel's name for each of our languages (locales/<this>/LC_MESSAGES/*.po).
BABEL_LOCALES = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans", "en": "en"}
SOURCE_LANGUAGE = "zh-Hant"  # the layouts' own text: no catalog


def template_environment(root: Path = TEMPLATES, language: str = SOURCE_LANGUAGE,
                         catalogs: Path = CATALOGS) -> Environment:
    """Jinja as the templates expect it, speaking `language` (also for tests that read their
    structure)."""
    env = Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates do not change while the bot runs: no stat per text
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language, catalogs), newstyle=True)  # type: ignore[attr-defined]
    env.filters["clip"] = clip
    env.globals["shortened"] = shortened
    env.filters.update(formats.filters(BABEL_LOCALES[language]))
    return env


def catalog_file(language: str, catalogs: Path = CATALOGS) -> Path:
    return catalogs / BABEL_LOCALES[language] / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(language: str, catalogs: Path = CATALOGS) -> gettext.NullTranslations:
    """The language's catalog, read from its .po as is (no compiled .mo to keep in step);
    the source language needs none. A missing catalog leaves the source text (check-config
    says so: missing_texts)."""
    if language == SOURCE_LANGUAGE or not catalog_file(language, catalogs).is_file():
        return gettext.NullTranslations()
    with catalog_file(language, catalogs).open("rb") as file:
        catalog = read_po(file, locale=BABEL_LOCALES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def missing_texts(root: Path = TEMPLATES, catalogs: Path = CATALOGS) -> str | None:
    """What of the installed texts is missing (e.g. a wheel built without them), or None:
    the layouts (the command menu renders) and each translated language's catalog."""
    for language in LANGUAGES:
        if language != SOURCE_LANGUAGE and not catalog_file(language, catalogs).is_file():
            return str(catalog_file(language, catalogs))
    try:
        Texts(SOURCE_LANGUAGE, root).plain(SOURCE_LANGUAGE, "commands.help")
    except TemplateNotFound as exc:
        return str(root / (exc.name or ""))
    return None


@functools.cache
def shared_environment(root: Path, language: str) -> Environment:
    """One environment per folder of templates and language, shared by every `Texts`: each
    template is compiled once per language and process, however many `Texts` are made (the
    tests make thousands)."""
    return template_environment(root, language)


class Texts:
    def __init__(self, default_language: str, root: Path = TEMPLATES) -> None:
        self.default_language = default_language
        self._root = root

    def _language(self, lang: str) -> str:
        return lang if lang in LANGUAGES else self.default_language

    def _macro(self, lang: str, name: str, extension: str) -> Any:
        file, _, macro = name.rpartition(".")
        module = shared_environment(self._root, self._language(lang)).get_template(
            f"{file}.{extension}").module
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

    def gettext(self, lang: str, words: str) -> str:
        """Rule-book words from the code (marked N_) in `lang`; anything else as it is."""
        return translations(self._language(lang)).gettext(words)
