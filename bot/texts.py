"""Every user-visible text comes from templates/<language>/ (Jinja2).

Each file is a set of macros, one per message: `texts.html(lang, "form.ask", ...)`
calls macro `ask` in templates/<lang>/form.html.j2 with HTML autoescaping (for
messages sent with parse mode HTML); `texts.plain(lang, "buttons.approve")` uses
*.txt.j2 without escaping (button labels, alerts and topic names are not HTML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.config import LANGUAGES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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


class Texts:
    def __init__(self, default_language: str, root: Path = TEMPLATES) -> None:
        self.default_language = default_language
        self._env = Environment(
            loader=FileSystemLoader(str(root)),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def _macro(self, lang: str, name: str, extension: str) -> Any:
        lang = lang if lang in LANGUAGES else self.default_language
        file, _, macro = name.rpartition(".")
        module = self._env.get_template(f"{lang}/{file}.{extension}").module
        return getattr(module, macro)

    def html(self, lang: str, name: str, /, **params: Any) -> str:
        return str(self._macro(lang, name, "html.j2")(**params)).strip()

    def plain(self, lang: str, name: str, /, **params: Any) -> str:
        return str(self._macro(lang, name, "txt.j2")(**params)).strip()
