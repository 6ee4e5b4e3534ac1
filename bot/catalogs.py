"""The gettext catalogs: extracted from the layouts with Babel, English kept by people,
Simplified Chinese converted from the Traditional source with OpenCC.

    python -m bot.catalogs          # `make catalogs`: after changing any text in templates/

writes locales/messages.pot (every message of templates/ and the labels marked `N_` in the
code), then brings each catalog in step with it: messages that are new get an empty English
translation (to fill in: the completeness test fails until then) and a Simplified one made by
OpenCC's Taiwan-to-mainland conversion with phrases (tw2sp: 訊息 → 消息, not only the
characters), marked with the comment `# opencc: not reviewed` until a person who has read it
deletes that line. A translation already in a catalog is kept, with its comments and flags, so
a person's correction of the converted text stays; messages no longer used are dropped (a
changed message is a new one: translated again). Comments in a layout that start with
`Translators:` reach the catalogs, next to their message.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.config import LANGUAGES
from bot.texts import BABEL_LOCALES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
LOCALES = ROOT / "locales"
TEMPLATE_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true", "newstyle_gettext": "true",
                    "extensions": ""}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "npgettext": ((1, "c"), 2, 3), "N_": None}
COMMENT_TAGS = ("Translators:",)
# Babel's names of the languages with a catalog (all but the layouts' own).
TRANSLATED = tuple(BABEL_LOCALES[lang] for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
UNREVIEWED = "opencc: not reviewed"
SIMPLIFY = "tw2sp"  # OpenCC: Traditional (Taiwan) to Simplified with mainland phrases


def layout_files(root: Path = TEMPLATES) -> list[Path]:
    return sorted(p for p in root.glob("*.j2") if p.is_file())


def extract(files: Iterable[Path]) -> Catalog:
    """Every message of these layouts (and Python files: their `N_` labels)."""
    catalog = Catalog(locale="zh_Hant", project="complaint-bot", charset="utf-8")
    for path in files:
        method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
        options: dict[str, Any] = {} if path.suffix == ".py" else TEMPLATE_OPTIONS
        for line, message, comments, context in extract_from_file(
                method, str(path), keywords=KEYWORDS, comment_tags=COMMENT_TAGS, options=options,
                strip_comment_tags=True):
            flags = {"python-format"} if "%(" in "".join(_strings(message)) else set()
            catalog.add(message, locations=[(str(path.relative_to(ROOT)), line)],
                        auto_comments=comments, context=context, flags=flags)
    return catalog


def _strings(message: str | Sequence[str]) -> tuple[str, ...]:
    return (message,) if isinstance(message, str) else tuple(message)


def read(path: Path, locale: str) -> Catalog:
    if not path.is_file():
        return Catalog(locale=locale, project="complaint-bot", charset="utf-8")
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def write(path: Path, catalog: Catalog) -> None:
    """Write the catalog, unless only its dates would change (no churn in the repository)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, sort_output=False,
             include_previous=False)
    if path.is_file() and _undated(path.read_bytes()) == _undated(buffer.getvalue()):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _undated(po: bytes) -> list[bytes]:
    return [line for line in po.splitlines()
            if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))]


def brought_in_step(template: Catalog, old: Catalog, locale: str,
                    fill: Any = None) -> Catalog:
    """`template`'s messages with `old`'s translations, comments and flags; `fill(msgid)`
    for the missing ones (marked UNREVIEWED)."""
    new = Catalog(locale=locale, project="complaint-bot", charset="utf-8")
    for message in template:
        if not message.id:
            continue
        kept = old.get(message.id, message.context)
        string: Any = kept.string if kept is not None else None
        comments = list(kept.user_comments) if kept is not None else []
        flags = set(message.flags) | ({"fuzzy"} if kept is not None and kept.fuzzy else set())
        if not _translated(string) and fill is not None:
            string = tuple(fill(s) for s in _strings(message.id)) if message.pluralizable \
                else fill(message.id)
            if message.pluralizable:
                string = string[: new.num_plurals] + (string[-1],) * (new.num_plurals - len(string))
            comments = [*comments, UNREVIEWED] if UNREVIEWED not in comments else comments
        if string is None:
            string = ("",) * new.num_plurals if message.pluralizable else ""
        new[message.id] = Message(message.id, string, locations=message.locations, flags=flags,
                                  auto_comments=message.auto_comments, user_comments=comments,
                                  context=message.context)
    return new


def _translated(string: Any) -> bool:
    return bool(string) and all(_strings(string))


def simplifier() -> Any:
    import opencc

    converter = opencc.OpenCC(f"{SIMPLIFY}.json" if not SIMPLIFY.endswith(".json") else SIMPLIFY)
    return converter.convert


def catalog_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


def update() -> Catalog:
    template = extract(layout_files() + sorted((ROOT / "bot").rglob("*.py")))
    write(LOCALES / "messages.pot", template)
    for locale in TRANSLATED:
        path = catalog_path(locale)
        fill = simplifier() if locale == "zh_Hans" else None
        write(path, brought_in_step(template, read(path, locale), locale, fill))
    return template


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bot.catalogs", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    print(f"{len(update())} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
