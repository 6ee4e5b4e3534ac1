"""Checking one typed answer against its form field.

:func:`validate_answer` returns either the value to store or an :class:`Invalid` that
names the problem with a code and parameters; the bot renders the sentence from
templates (one layout per message, in three languages), so no user-visible text lives here.

Reason codes: ``"not_text"`` (the answer is not a string, e.g. a sticker),
``"empty"`` (nothing visible), ``"too_long"`` (params ``max``, ``length``: more
characters than ``Field.max_length`` after cleaning), ``"date_unparseable"``,
``"date_invalid"``, ``"date_future"``, ``"date_too_old"`` (``"date_"`` + the
:class:`~bot.domain.dates.DateError` reason, with its params: ``date_too_old`` has
``date`` and ``earliest``, both :class:`datetime.date`).

Text is stored verbatim apart from :func:`clean_text`: ``<b>``, ``&`` and emoji are
ordinary characters here, escaping is the renderer's job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from .dates import DateError, parse_ship_date
from .fields import Field, FieldType
from .words import N_

# Runs of blank lines longer than this are shortened to this many.
MAX_BLANK_LINES = 2

# The rule book's choices, stored as written here; buttons show them translated (N_).
REQUEST_LABELS: dict[str, str] = {
    "compensation": N_("賠款"),
    "return": N_("退貨"),
    "exchange": N_("換貨"),
    "other": N_("其他"),
}

PURPOSE_LABELS: dict[str, str] = {
    "claim": N_("索賠"),
    "discipline": N_("處理"),
    "improve": N_("改進服務質量"),
}

_CHOICE_LABELS: dict[str, str] = {**REQUEST_LABELS, **PURPOSE_LABELS}

# What people type for each choice, compared after NFKC + casefold + trimming
# punctuation. The rule book's label, its Simplified spelling, the English key and
# the common synonyms all count.
_CHOICE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "compensation": ("賠款", "赔款", "賠償", "赔偿", "賠錢", "赔钱", "compensation", "compensate"),
    "return": ("退貨", "退货", "return", "returns"),
    "exchange": ("換貨", "换货", "調換", "调换", "更換", "更换", "exchange", "replacement"),
    "other": ("其他", "其它", "other", "others"),
    "claim": ("索賠", "索赔", "claim", "claims"),
    "discipline": ("處理", "处理", "discipline"),
    "improve": ("改進服務質量", "改进服务质量", "改進服務", "改进服务", "improve",
                "improvement", "improve service"),
}

# Rule 一.4: a complaint "involving" paying the customer, taking goods back or
# exchanging them. Substring matching on purpose: these words are specific enough,
# and a false positive only puts one extra line on HR's daily sheet while a miss
# drops a compensation case. Negations (不要賠償) are not detected.
_CRX_WORDS = (
    "賠款", "赔款", "賠償", "赔偿", "索賠", "索赔", "賠錢", "赔钱", "賠付", "赔付", "包賠", "包赔",
    "理賠", "理赔",
    "退貨", "退货", "退款", "退錢", "退钱", "退回", "退換", "退换",
    "換貨", "换货", "換新", "换新", "調換", "调换", "更換", "更换",
)
_CRX_ENGLISH = re.compile(r"\b(?:compensat\w*|refund\w*|return\w*|exchang\w*|replac\w*)\b")

_NEWLINES = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
_CHOICE_TRIM = " \t.。!！?？,，;；、"


@dataclass(frozen=True)
class Invalid:
    reason: str
    params: dict[str, object] = field(default_factory=dict)


def clean_text(text: str) -> str:
    """``text`` tidied for storage.

    Newlines become ``\\n``; tabs become spaces (dropping them would glue words);
    other control characters and lone surrogates are dropped; trailing spaces go
    from each line; runs of more than ``MAX_BLANK_LINES`` blank lines are shortened;
    the whole is stripped. Format characters (zero-width joiner...) stay: emoji
    sequences need them.
    """
    text = _NEWLINES.sub("\n", text).replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or not _is_control(ch))
    kept: list[str] = []
    blank_run = 0
    for line in text.split("\n"):
        line = line.rstrip()
        blank_run = blank_run + 1 if not line.strip() else 0
        if blank_run <= MAX_BLANK_LINES:
            kept.append(line)
    return "\n".join(kept).strip()


def validate_answer(f: Field, text: str, today: date) -> str | Invalid:
    """The value to store for field ``f`` answered with ``text``, or why not.

    Dates are stored ISO (``2026-11-20``); choice fields store the rule book's label
    when one was typed (see :func:`choice_value`); names are joined onto one line;
    other fields (STAMP included, should a caller check a pasted 投訴時間) are cleaned text.
    """
    if not isinstance(text, str):
        return Invalid("not_text")
    cleaned = clean_text(text)
    if not _has_visible(cleaned):
        return Invalid("empty")
    if len(cleaned) > f.max_length:
        return Invalid("too_long", {"max": f.max_length, "length": len(cleaned)})
    if f.type is FieldType.DATE:
        try:
            return parse_ship_date(cleaned, today).isoformat()
        except DateError as err:
            return Invalid(f"date_{err.reason}", dict(err.params))
    if f.type is FieldType.NAME:
        return " ".join(line.strip() for line in cleaned.splitlines() if line.strip())
    if f.type is FieldType.CHOICE:
        return choice_value(f, cleaned)
    return cleaned


def choice_value(f: Field, text: str) -> str:
    """The canonical label of the choice ``text`` names, else ``text`` unchanged."""
    typed = _choice_key(text)
    for choice in f.choices:
        synonyms = (*_CHOICE_SYNONYMS.get(choice, ()), _CHOICE_LABELS.get(choice, choice))
        if typed in {_choice_key(s) for s in synonyms}:
            return _CHOICE_LABELS.get(choice, choice)
    return text


def is_crx_request(request_text: str) -> bool:
    """Whether a 客戶要求 asks for compensation, a return or an exchange (rule 一.4)."""
    text = unicodedata.normalize("NFKC", request_text).casefold()
    return any(word in text for word in _CRX_WORDS) or bool(_CRX_ENGLISH.search(text))


def _choice_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(_CHOICE_TRIM).casefold()


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")


def _has_visible(text: str) -> bool:
    # Zero-width spaces, BOMs and joiners alone (category Cf) look empty in the chat.
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)
