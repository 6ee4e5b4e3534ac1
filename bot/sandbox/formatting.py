"""Telegram text formatting: parse HTML / MarkdownV2 / Markdown into (text, entities).

Modelled on tdlib's parser (td/telegram/MessageEntity.cpp) and the "Formatting options"
section of the Bot API docs; error strings follow Telegram's ("Unsupported start tag ...").
Deliberately stricter than tdlib in one place, as the docs demand: a bare ``&`` that does not
start one of ``&lt; &gt; &amp; &quot; &#NNN; &#xHH;`` is an error.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]


class ParseError(ValueError):
    """The text can't be parsed; str(e) is the part after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}  # fmt: skip
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME = re.compile(r"[a-zA-Z0-9_-]*")


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    m = _ENTITY.match(text, i)
    if not m:
        raise ParseError(f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}")
    if m.group(1):
        return _NAMED[m.group(1)], m.end()
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ParseError(f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}")
    return chr(code), m.end()


def _parse_attrs(text: str, i: int, tag: str, tag_start: int) -> tuple[dict[str, str], int]:
    """Parse attributes after the tag name; return them and the index after '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
        if text[i] == ">":
            return attrs, i + 1
        name = _ATTR_NAME.match(text, i).group(0).lower()  # type: ignore[union-attr]
        if not name:
            raise ParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, i)}'
            )
        i += len(name)
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] != "=":
            attrs[name] = ""  # valueless attribute, e.g. <blockquote expandable>
            continue
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
        if text[i] in "'\"":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise ParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}"
                )
            raw, i = text[i + 1 : end], end + 1
        else:
            m = re.compile(r"[^\s>]*").match(text, i)
            raw, i = m.group(0), m.end()  # type: ignore[union-attr]
        value, j = "", 0
        while j < len(raw):
            if raw[j] == "&":
                ch, j = _decode_entity(raw, j)
                value += ch
            else:
                value, j = value + raw[j], j + 1
        attrs[name] = value


def _html_entity(tag: str, attrs: dict[str, str], offset: int, length: int, text: str,
                 at: int) -> Entity | None:
    kind = _HTML_TAGS[tag]
    ent: Entity = {"type": kind, "offset": offset, "length": length}
    where = f"at byte offset {_byte_offset(text, at)}"
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise ParseError(f'Tag "span" must have class "tg-spoiler" {where}')
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None  # tdlib: a link without href is plain text
        ent["url"] = href
    if tag == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise ParseError(f'Tag "tg-emoji" must have a valid attribute "emoji-id" {where}')
        ent["custom_emoji_id"] = attrs["emoji-id"]
    if tag == "tg-time":
        if not attrs.get("unix", "").isdigit():
            raise ParseError(f'Tag "tg-time" must have a valid attribute "unix" {where}')
        ent["unix_time"] = int(attrs["unix"])
        if "format" in attrs:
            ent["date_time_format"] = attrs["format"]
    if tag == "pre" and attrs.get("_language"):
        ent["language"] = attrs["_language"]
    if tag == "blockquote" and "expandable" in attrs:
        ent["type"] = "expandable_blockquote"
    return ent


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    out_len = 0  # UTF-16 length of out
    stack: list[tuple[str, dict[str, str], int, int]] = []  # tag, attrs, utf16 start, index
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            ch, i = _decode_entity(text, i)
            out.append(ch)
            out_len += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            out_len += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        start = i
        if text.startswith("</", i):
            name = _NAME.match(text, i + 2).group(0).lower()  # type: ignore[union-attr]
            i += 2 + len(name)
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise ParseError(f"Unclosed end tag at byte offset {_byte_offset(text, start)}")
            i += 1
            if not stack:
                raise ParseError(f"Unexpected end tag at byte offset {_byte_offset(text, start)}")
            tag, attrs, begin, tag_at = stack.pop()
            if name != tag:
                raise ParseError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, start)}, '
                    f'expected "</{tag}>", found "</{name}>"'
                )
            if tag == "code" and stack and stack[-1][0] == "pre":
                # <pre><code class="language-x">…</code></pre> is one pre entity with a language
                if attrs.get("class", "").startswith("language-"):
                    stack[-1][1]["_language"] = attrs["class"][len("language-") :]
                continue
            if out_len > begin and (ent := _html_entity(tag, attrs, begin, out_len - begin,
                                                        text, tag_at)):
                entities.append(ent)
            continue
        name = _NAME.match(text, i + 1).group(0).lower()  # type: ignore[union-attr]
        if name not in _HTML_TAGS:
            raise ParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, start)}'
            )
        attrs, i = _parse_attrs(text, i + 1 + len(name), name, start)
        stack.append((name, attrs, out_len, start))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough",
                 "||": "spoiler"}  # fmt: skip


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    out_len = 0
    stack: list[tuple[str, int, int]] = []  # marker, utf16 start, index
    entities: list[Entity] = []
    i, n = 0, len(text)

    def emit(s: str) -> None:
        nonlocal out_len
        out.append(s)
        out_len += utf16_len(s)

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            emit(text[i + 1])
            i += 2
            continue
        if c not in _MDV2_RESERVED or c == "\\":
            emit(c)
            i += 1
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = i + len(fence)
            while end < n and not text.startswith(fence, end):
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise ParseError(
                    f"Can't find end of {'pre' if fence == '```' else 'code'} entity at byte "
                    f"offset {_byte_offset(text, i)}"
                )
            body = re.sub(r"\\([`\\])", r"\1", text[i + len(fence) : end])
            language = ""
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            begin = out_len
            emit(body)
            ent: Entity = {"type": "pre" if fence == "```" else "code", "offset": begin,
                           "length": out_len - begin}
            if language:
                ent["language"] = language
            entities.append(ent)
            i = end + len(fence)
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote line marker; not tracked as an entity
            continue
        if c == "]" and stack and stack[-1][0] == "[":
            if not text.startswith("(", i + 1) or (close := text.find(")", i + 2)) < 0:
                raise ParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            _, begin, _ = stack.pop()
            url = text[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
            entities.append({"type": "text_link", "offset": begin, "length": out_len - begin,
                             "url": url})
            i = close + 1
            continue
        marker = "[" if c == "[" else text[i : i + 2] if text[i : i + 2] in ("__", "||") else c
        if marker not in _MDV2_MARKERS and marker != "[":
            raise ParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        if stack and stack[-1][0] == marker and marker != "[":
            _, begin, _ = stack.pop()
            if out_len > begin:
                entities.append({"type": _MDV2_MARKERS[marker], "offset": begin,
                                 "length": out_len - begin})
        else:
            stack.append((marker, out_len, i))
        i += len(marker)
    if stack:
        marker, _, at = stack[-1]
        raise ParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, at)}"
        )
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    entities: list[Entity] = []
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c not in "*_`[":
            out.append(c)
            i += 1
            continue
        fence = "```" if text.startswith("```", i) else "]" if c == "[" else c
        end = text.find(fence, i + (3 if fence == "```" else 1))
        if end < 0:
            raise ParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
            )
        body = text[i + (3 if fence == "```" else 1) : end]
        begin = utf16_len("".join(out))
        out.append(body)
        ent: Entity = {"type": "pre" if fence == "```" else kinds.get(c, "text_link"),
                       "offset": begin, "length": utf16_len(body)}
        i = end + len(fence)
        if c == "[":
            m = re.compile(r"\(([^)]*)\)").match(text, i)
            if not m:
                raise ParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            ent["url"], i = m.group(1), m.end()
        if body:
            entities.append(ent)
    return "".join(out), entities


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply parse_mode (None → plain). Raises ParseError, or ValueError for a bad mode."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError(parse_mode)
