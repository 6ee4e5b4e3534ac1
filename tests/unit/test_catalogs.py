"""The gettext catalogs: in step with the layouts, complete, and Simplified really simplified.

(`make catalogs` brings them in step; these tests say when someone forgot to, or left a
message untranslated.)
"""

from __future__ import annotations

from functools import cache

import pytest
from babel.messages.catalog import Catalog

from bot.catalogs import ROOT, catalog_path, extract, layout_files, read
from bot.commands import menu_languages, scope_menu_language
from bot.config import LANGUAGES
from bot.texts import BABEL_LOCALES, SOURCE_LANGUAGE, language_from_telegram

TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


@cache
def source() -> Catalog:
    return extract(layout_files() + sorted((ROOT / "bot").rglob("*.py")))


@cache
def catalog(language: str) -> Catalog:
    return read(catalog_path(BABEL_LOCALES[language]), BABEL_LOCALES[language])


def strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return (value or "",) if isinstance(value, str) or value is None else tuple(value)


def keys(c: Catalog) -> set[tuple[str, str | None]]:
    return {(strings(m.id)[0], m.context) for m in c if m.id}


def test_the_source_has_messages() -> None:
    assert len(keys(source())) > 500


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_has_every_message_and_no_other(language: str) -> None:
    missing = keys(source()) - keys(catalog(language))
    extra = keys(catalog(language)) - keys(source())
    assert not missing, f"run `make catalogs`: {sorted(missing)[:5]} …"
    assert not extra, f"run `make catalogs`: no longer used: {sorted(extra)[:5]} …"


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_message_is_translated_and_none_fuzzy(language: str) -> None:
    untranslated = [strings(m.id)[0] for m in catalog(language)
                    if m.id and not all(strings(m.string))]
    fuzzy = [strings(m.id)[0] for m in catalog(language) if m.id and m.fuzzy]
    assert not untranslated, f"{len(untranslated)} to translate, e.g. {untranslated[:3]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"


def test_simplified_is_simplified() -> None:
    import opencc  # a dependency: the test must not pass by skipping

    to_simplified = opencc.OpenCC("t2s.json").convert
    for message in catalog("zh-Hans"):
        for text in strings(message.string) if message.id else ():
            text = text.replace("繁體中文", "")  # the language's own name, as its readers write it
            assert to_simplified(text) == text, text


@pytest.mark.parametrize(("code", "language"), [
    ("zh-hans", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-sg", "zh-Hans"), ("zh_Hans_CN", "zh-Hans"),
    ("zh-hant", "zh-Hant"), ("zh-TW", "zh-Hant"), ("zh-hk", "zh-Hant"), ("zh", "zh-Hant"),
    ("en", "en"), ("en-GB", "en"), ("EN-us", "en"),
    ("fr", "zh-Hant"), ("", "zh-Hant"), (None, "zh-Hant"),
])
def test_telegram_language_codes(code: str | None, language: str) -> None:
    assert language_from_telegram(code, "zh-Hant") == language


@pytest.mark.parametrize(("code", "default", "shown"), [
    ("zh-hans", "zh-Hant", "zh-Hant"), ("zh-hant", "zh-Hant", "zh-Hant"), ("en-GB", "zh-Hant", "en"),
    ("fr", "zh-Hant", "zh-Hant"), (None, "en", "en"), ("zh-hans", "en", "zh-Hant"),
])
def test_the_menu_telegram_shows_without_ones_own(code: str | None, default: str, shown: str) -> None:
    # A zh-hans app gets the "zh" menu, Traditional here: such readers get their own menu.
    assert scope_menu_language(code, default) == shown


def test_menus_per_language_code() -> None:
    # Telegram keys menus by two letters: one "zh" menu, the default's Chinese.
    assert menu_languages("zh-Hant") == [("zh-Hant", None), ("en", "en")]
    assert menu_languages("zh-Hans") == [("zh-Hans", None), ("en", "en")]
    assert menu_languages("en") == [("en", None), ("zh-Hant", "zh")]
