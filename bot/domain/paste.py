"""Reading a filled-in paper template pasted into the chat.

Staff fill the rule book's 《產品質量投訴》 / 《服務質量投訴》 templates by hand and paste
them as one message. :func:`parse_template` turns such a message into field values;
:func:`looks_like_template` tells a paste apart from an ordinary message.

What is understood:

* A label is recognised at the start of a line, after optional spaces and an optional
  number or bullet (``1.``, ``1、``, ``(1)``, ``①``, ``一、``, ``-``, ``•``), and must be
  followed by a colon, full-width ``：`` or half-width ``:``, possibly after spaces.
  Labels are the rule book's (``Field.label``) and ``Field.aliases`` (so the 投拆人
  misprint), in Traditional or Simplified characters or a mix, with full-width or
  half-width punctuation, ``\\u3000`` spaces, and the pinyin left by the rule book's
  encoding damage (``發(fā)貨日期``).
* English labels (``Field.english``: what the bot shows English-speaking users, such
  as ``Ship date:``, ``Spec & quantity:``, ``Complaint about:``, and a few synonyms)
  are recognised the same way, in any letter case (full-width letters too); spaces
  inside a label are optional (``Shipdate:``, ``Spec&quantity:``). So is the bot's
  own English rendering, the Chinese label with its gloss: ``投訴人 (complainant):``.
* A parenthetical between label and colon is skipped, colon inside or not:
  ``投訴目的(希望達到的結果:如索賠、處理、改進服務質量)：``.
* A non-label line continues the field above it (joined with ``\\n``); blank lines
  are ignored. Lines before the first label are ``unknown_lines``.
* The value after 投訴事件 (English ``Event:`` / ``The event:``) may be split into
  sub-parts ``時間：… 起因：… 過程：… 結果：…`` (or 原因 for 起因, 經過 for 過程; in
  English ``Time:`` / ``Date:``, ``Cause:`` / ``Reason:``, ``What happened:`` /
  ``Course:`` / ``Process:``, ``Result:`` / ``Outcome:``), on one line or on several;
  a gloss in brackets may sit before the colon (``時間 (time):``, as the bot's English
  card shows them). They become ``event_time`` / ``event_cause`` / ``event_course`` /
  ``event_result``. Event text outside any sub-part is 過程: it goes to
  ``event_course``, ahead of a labelled 過程. An English part word counts only at the
  start of the text or a line, or after one of ``,;.。、``: "Delivery time: 3 pm"
  stays text. Labels such as ``投訴事件·時間``, ``事件時間``, ``Event: time``,
  ``Event time``, ``Event — time`` name a part directly.
* Values are returned raw but stripped; empty values and placeholders made only of
  ``_``, spaces and 年月日時分 (the template's ``_年_月_日_時_分``) are omitted.
  ``filed_at`` (投訴時間) is returned raw, never parsed.

Decisions:

* A repeated label: the last non-empty occurrence wins (someone correcting a line
  appends it; an empty leftover template line never erases a value).
* The kind comes from the labels that belong to one form only (客戶名稱, 品牌… vs.
  投訴對象, 投訴事件…). Labels of both forms: the title decides, else the form with
  more labels, else ``None``. Only shared labels (投訴人, 投訴時間): the title decides.
  Titles are 《產品質量投訴》 / 《服務質量投訴》 (brackets optional, Simplified too,
  填寫格式 or 表 after it) or the English ``Product quality complaint`` / ``Service
  quality complaint`` (any case, ``form`` after it optional); a gloss in brackets may
  follow either.
  Once the kind is known, lines labelled for the other form go to ``unknown_lines``.
* Only one label per line is read; a second label later on the same line is value.

Nothing here raises on any ``str``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .fields import FORMS, ComplaintKind

# Internal key of the 投訴事件 heading's own text (merged into event_course).
_EVENT = "event"
# The 投訴事件 heading's names and the names of its four parts (each also a marker
# inside the event text); the field labels themselves are in fields.py. English names
# are lower case; the first of each is what the English card shows (event_gloss in
# templates/card.html.j2).
_EVENT_NAMES = ("投訴事件",)
_EVENT_NAMES_EN = ("event", "the event", "complaint event")
_EVENT_PART_NAMES: dict[str, tuple[str, ...]] = {
    "event_time": ("時間",),
    "event_cause": ("起因", "原因"),
    "event_course": ("過程", "經過"),
    "event_result": ("結果",),
}
_EVENT_PART_NAMES_EN: dict[str, tuple[str, ...]] = {
    "event_time": ("time", "date"),
    "event_cause": ("cause", "reason"),
    "event_course": ("what happened", "course", "process"),
    "event_result": ("result", "outcome"),
}
# Between an English heading and a part's name in a label: "Event: time", "Event time",
# "Event - time", "The event — time" (as the English form asks for the part).
_EVENT_JOINERS_EN = (":", "", "-", "—", "–")
_EVENT_KEYS = frozenset({_EVENT, *_EVENT_PART_NAMES})


# --- folding: one character in, one character out --------------------------------
# Matching runs on a folded copy of each line and values are cut from the original at
# the same offsets, so the fold must keep every string's length.
def _fold_table() -> dict[int, str]:
    # Full-width ASCII becomes ASCII, and letters lower case (full-width ones too):
    # English labels match in any case. ASCII letters only: str.lower() changes the
    # length of some others ("İ").
    table = {code: chr(code - 0xFEE0).lower() for code in range(0xFF01, 0xFF5F)}
    table.update({code: chr(code).lower() for code in range(ord("A"), ord("Z") + 1)})
    pairs = {
        "\u3000": " ", "︰": ":", "﹕": ":", "∶": ":", "﹙": "(", "﹚": ")", "’": "'", "‘": "'",
        "・": "·", "‧": "·", "•": "·", "∙": "·", "⋅": "·", "･": "·",
        # Traditional -> Simplified, just the characters of labels and titles.
        "訴": "诉", "戶": "户", "戸": "户", "稱": "称", "發": "发", "貨": "货", "規": "规",
        "數": "数", "產": "产", "産": "产", "質": "质", "問": "问", "題": "题", "時": "时",
        "間": "间", "對": "对", "過": "过", "經": "经", "結": "结", "號": "号", "務": "务",
        "寫": "写", "處": "处", "進": "进",
    }
    table.update({ord(k): v for k, v in pairs.items()})
    return table


_FOLD = _fold_table()


def _fold(text: str) -> str:
    return text.translate(_FOLD)


# --- labels -----------------------------------------------------------------------
_BULLET = (
    r"(?:[0-9]{1,2}\s*[.)、]|\([0-9]{1,2}\)|[①-⑳]|[一二三四五六七八九十]{1,3}\s*[、.]"
    r"|[-*+·●○◆◇■□▪►▶>])"
)
_LINE_START = rf"\s*(?:{_BULLET}\s*)?"
# The rule book's encoding damage left pinyin after some characters: 發(fā), 規(guī).
_PINYIN = r"(?:\([a-z\u00e0-\u00fc\u0100-\u01dc]{1,6}\))?"
_SUFFIX_AND_COLON = r"(?:\s*\([^()]*\))?\s*:"


def _label_names() -> dict[str, str]:
    """Folded label -> field key, for every label recognised at a line start."""
    names: dict[str, str] = {}

    def add(label: str, key: str) -> None:
        folded = _fold(label)
        if names.setdefault(folded, key) != key:
            raise AssertionError(f"label {label!r} means two fields")
        if re.match(_BULLET, folded):  # _any_label() shares the optional bullet
            raise AssertionError(f"label {label!r} starts like a bullet")

    for form in FORMS.values():
        for f in form:
            for label in (f.label, *f.aliases, *f.english):
                add(label, f.key)
    for name in (*_EVENT_NAMES, *_EVENT_NAMES_EN):
        add(name, _EVENT)
    for key, parts in _EVENT_PART_NAMES.items():
        for part in parts:
            for prefix in ("投訴事件·", "投訴事件", "事件"):
                add(prefix + part, key)
    for key, parts in _EVENT_PART_NAMES_EN.items():
        for part in parts:
            for heading in _EVENT_NAMES_EN:
                for joiner in _EVENT_JOINERS_EN:
                    add(f"{heading}{joiner} {part}", key)
    return names


def _label_pattern(folded_label: str) -> str:
    # Spaces may sit between the characters of a label ("投 訴 人"), and the spaces
    # written in one are optional ("ship date", "shipdate", "ship  date").
    body = r"[ \t]*".join(
        re.escape(ch) + ("" if ch.isascii() else _PINYIN) for ch in folded_label if ch != " "
    )
    return body + _SUFFIX_AND_COLON


@functools.cache
def _any_label() -> tuple[re.Pattern[str], list[str]]:
    """Longest first, so 客戶名稱 is tried before 客戶. One regex, an alternative (a group)
    per label, tried in this order: one match per line rather than one per label. (No
    label starts with a bullet's character, so the line start can be shared.) Built at the
    first paste, not at import: a tenth of a second of every start-up."""
    labels = sorted(_label_names().items(), key=lambda item: -len(item[0]))
    pattern = re.compile(
        _LINE_START + "(?:" + "|".join(f"({_label_pattern(name)})" for name, _ in labels) + ")")
    return pattern, [key for _, key in labels]

# A marker starts the text or follows a space or separator, so 處理結果: stays text.
# An English one starts the text or follows a separator, so "Delivery time:" stays text.
# A gloss in brackets may come before the colon: "時間 (time):".
def _event_marker() -> re.Pattern[str]:
    chinese = "|".join(_fold(name) for names in _EVENT_PART_NAMES.values() for name in names)
    english = "|".join(r"\s+".join(map(re.escape, name.split()))
                       for names in _EVENT_PART_NAMES_EN.values() for name in names)
    return re.compile(
        rf"(?:(?:^|(?<=[\s,;、。.]))(?:{_BULLET}\s*)?(?P<part>{chinese})"
        rf"|(?:^|(?<=[,;、。.]))\s*(?:{_BULLET}\s*)?(?P<part_en>{english}))"
        r"(?:\s*\([^()]*\))?\s*:"
    )


_EVENT_MARKER = _event_marker()
_EVENT_PART_KEYS = {
    _fold(name): key
    for names_of in (_EVENT_PART_NAMES, _EVENT_PART_NAMES_EN)
    for key, names in names_of.items()
    for name in names
}

_TITLE_WORDS = r"(?:(产品|服务)质量投诉|(product|service)[ \t-]*quality[ \t]*complaint)"
_TITLE_IN_BRACKETS = re.compile(rf"《\s*{_TITLE_WORDS}\s*》")
# Matched against the stripped line. Each \s* follows a required token: two optional
# runs of spaces side by side would backtrack quadratically on long blank runs.
_TITLE_ALONE = re.compile(
    rf"(?:{_BULLET}\s*)?(?:[【\[<]\s*)?{_TITLE_WORDS}\s*(?:[】\]>]\s*)?"
    r"(?:(?:填写格式|表|form)\s*)?(?:\([^()]*\)\s*)?:?"
)
_TITLE_KINDS = {
    "产品": ComplaintKind.PRODUCT, "服务": ComplaintKind.SERVICE,
    "product": ComplaintKind.PRODUCT, "service": ComplaintKind.SERVICE,
}

_PLACEHOLDER = re.compile(r"[\s_\-—–/.·年月日时分秒号:]*")
_PART_TRAILING = " \t\u3000,;，；、"

_FORM_KEYS: dict[ComplaintKind, frozenset[str]] = {
    ComplaintKind.PRODUCT: frozenset(f.key for f in FORMS[ComplaintKind.PRODUCT]),
    ComplaintKind.SERVICE: frozenset(f.key for f in FORMS[ComplaintKind.SERVICE]) | {_EVENT},
}
_EXCLUSIVE_KEYS: dict[ComplaintKind, frozenset[str]] = {
    ComplaintKind.PRODUCT: _FORM_KEYS[ComplaintKind.PRODUCT] - _FORM_KEYS[ComplaintKind.SERVICE],
    ComplaintKind.SERVICE: _FORM_KEYS[ComplaintKind.SERVICE] - _FORM_KEYS[ComplaintKind.PRODUCT],
}
_ALL_KEYS = _FORM_KEYS[ComplaintKind.PRODUCT] | _FORM_KEYS[ComplaintKind.SERVICE]

# --- public API -------------------------------------------------------------------
@dataclass
class PastedForm:
    kind: ComplaintKind | None
    values: dict[str, str]
    unknown_lines: list[str]


def looks_like_template(text: str) -> bool:
    """Whether two distinct labels of one form start lines of ``text``."""
    scan = _scan(text)
    keys = {seg.key for seg in scan.segments if seg.starts_line}
    return any(len(keys & form_keys) >= 2 for form_keys in _FORM_KEYS.values())


def parse_template(text: str) -> PastedForm:
    """The kind, field values and leftover lines of a pasted template."""
    scan = _scan(text)
    kind = _infer_kind({seg.key for seg in scan.segments}, scan.titles)
    allowed = _FORM_KEYS[kind] if kind is not None else _ALL_KEYS
    values: dict[str, str] = {}
    unknown = dict(scan.unknown)
    for seg in scan.segments:
        if seg.key not in allowed:
            unknown.update((no, scan.lines[no]) for no in seg.line_nos)
            continue
        value = _join(seg.values)
        if value:
            values[seg.key] = value  # later segments overwrite: last non-empty wins
    _merge_event_text(values)
    return PastedForm(kind, values, [unknown[no] for no in sorted(unknown)])


# --- scanning ---------------------------------------------------------------------
@dataclass
class _Segment:
    """One labelled stretch of text: the label's key and its value pieces."""

    key: str
    starts_line: bool  # the label opened a line (what looks_like_template counts)
    line_nos: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


@dataclass
class _Scan:
    lines: dict[int, str] = field(default_factory=dict)  # line number -> stripped line
    segments: list[_Segment] = field(default_factory=list)
    unknown: dict[int, str] = field(default_factory=dict)
    titles: list[ComplaintKind] = field(default_factory=list)


def _scan(text: str) -> _Scan:
    scan = _Scan()
    current: _Segment | None = None
    for no, raw in enumerate(text.splitlines()):
        if not raw.strip():
            continue
        scan.lines[no] = raw.strip()
        folded = _fold(raw)
        hit = _match_label(folded)
        if hit is not None:
            key, end = hit
            current = _Segment(key, starts_line=True)
            scan.segments.append(current)
            current = _add_value(scan, current, no, raw[end:], folded[end:], whole_line=False)
        elif (title := _title_kind(folded)) is not None:
            scan.titles.append(title)
            current = None  # text under a title belongs to no field yet
        elif current is None:
            scan.unknown[no] = raw.strip()
        else:
            current = _add_value(scan, current, no, raw, folded, whole_line=True)
    return scan


def _match_label(folded_line: str) -> tuple[str, int] | None:
    """The field key of the label opening the line, and where its value starts."""
    any_label, keys = _any_label()
    m = any_label.match(folded_line)
    if m is None or m.lastindex is None:
        return None
    return keys[m.lastindex - 1], m.end()


def _title_kind(folded_line: str) -> ComplaintKind | None:
    m = _TITLE_IN_BRACKETS.search(folded_line) or _TITLE_ALONE.fullmatch(folded_line.strip())
    return _TITLE_KINDS[m.group(1) or m.group(2)] if m else None


def _add_value(
    scan: _Scan, current: _Segment, no: int, raw: str, folded: str, *, whole_line: bool
) -> _Segment:
    """Add one line's value text to ``current``; returns the segment now open.

    Inside the 投訴事件 block the text is cut at sub-part markers (時間：, 起因：...),
    each opening a segment of its own.
    """
    if no not in current.line_nos:
        current.line_nos.append(no)
    if current.key not in _EVENT_KEYS:
        current.values.append(raw.strip())
        return current
    start = 0
    for m in _EVENT_MARKER.finditer(folded):
        # A separator before the next marker belongs to neither part: "11月20日，起因：".
        current.values.append(raw[start : m.start()].strip().rstrip(_PART_TRAILING))
        opens_line = whole_line and not raw[: m.start()].strip()
        part = m.group("part") or " ".join(m.group("part_en").split())
        current = _Segment(_EVENT_PART_KEYS[part], starts_line=opens_line)
        current.line_nos.append(no)
        scan.segments.append(current)
        start = m.end()
    current.values.append(raw[start:].strip())
    return current


# --- assembling -------------------------------------------------------------------
def _infer_kind(keys: set[str], titles: list[ComplaintKind]) -> ComplaintKind | None:
    counts = {kind: len(keys & only) for kind, only in _EXCLUSIVE_KEYS.items()}
    title = titles[0] if len(set(titles)) == 1 else None
    present = [kind for kind, count in counts.items() if count]
    if len(present) == 1:
        return present[0]
    if not present or title is not None:
        return title
    product, service = counts[ComplaintKind.PRODUCT], counts[ComplaintKind.SERVICE]
    if product == service:
        return None
    return ComplaintKind.PRODUCT if product > service else ComplaintKind.SERVICE


def _join(pieces: list[str]) -> str:
    kept = [p.strip() for p in pieces if p.strip() and not _is_placeholder(p)]
    return "\n".join(kept)


def _is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(_fold(value)) is not None


def _merge_event_text(values: dict[str, str]) -> None:
    """Unlabelled 投訴事件 text is its 過程; a labelled 過程 follows it."""
    text = values.pop(_EVENT, "")
    if text:
        course = values.get("event_course", "")
        values["event_course"] = f"{text}\n{course}" if course else text
