"""The complaint forms of rule 二, field by field, in the template's order.

Plain data: no Telegram, no database. Labels are the rule book's own words and are
also what a pasted template is matched against; what the bot *says* about a field
lives in templates/.

Every label a pasted template may use for a field is here, in one place: ``label``
(Traditional, as printed), ``aliases`` (misprints, Simplified, shortened forms) and
``english``. The first English label is the gloss the English texts show next to the
Chinese label (templates/card.html.j2 and form.html.j2 read it from here). Labels are
marked ``N_`` for the catalogs: Simplified Chinese readers see them converted, and read
back in a paste (tests/unit/test_paste.py). The 投訴事件 heading and the words of its four
parts inside the event text live in bot/domain/paste.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.words import N_


class ComplaintKind(StrEnum):
    PRODUCT = "product"  # 《產品質量投訴》
    SERVICE = "service"  # 《服務質量投訴》

    @property
    def number_prefix(self) -> str:
        return "P" if self is ComplaintKind.PRODUCT else "S"


class FieldType(StrEnum):
    TEXT = "text"  # free text, one message
    NAME = "name"  # a person's name, prefilled from the member's registered name
    DATE = "date"  # a past-or-today calendar date (see dates.py)
    CHOICE = "choice"  # buttons offered, free text always allowed
    TEXT_PHOTOS = "text_photos"  # text plus any number of photos
    STAMP = "stamp"  # filled by the bot, never asked


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # the rule book's label, as printed on the paper template
    type: FieldType
    # Other spellings people type for the label (misprints, shortened forms).
    aliases: tuple[str, ...] = ()
    # English labels, matched case-insensitively with spaces optional. The first is what
    # the bot shows English-speaking users next to the Chinese label.
    english: tuple[str, ...] = ()
    # For CHOICE fields: the fixed choices offered as buttons (keys into templates).
    choices: tuple[str, ...] = ()
    max_length: int = 1000

    @property
    def asked(self) -> bool:
        return self.type is not FieldType.STAMP


# 客戶要求 choices that make a complaint a compensation/return/exchange case (rule 一.4).
CRX_REQUESTS = ("compensation", "return", "exchange")

PRODUCT_FIELDS: tuple[Field, ...] = (
    Field("complainant", N_("投訴人"), FieldType.NAME, aliases=("投拆人", "投诉人"),
          english=("complainant",), max_length=50),
    Field("customer", N_("客戶名稱"), FieldType.TEXT, aliases=("客户名称", "客戶", "客户"),
          english=("customer", "customer name"), max_length=200),
    Field("ship_date", N_("發貨日期"), FieldType.DATE, aliases=("发货日期", "發貨日", "出貨日期"),
          english=("ship date", "shipping date", "shipment date", "date shipped")),
    Field("brand", N_("品牌"), FieldType.CHOICE, english=("brand",), max_length=100),
    Field("spec_qty", N_("規格及數量"), FieldType.TEXT, aliases=("规格及数量", "規格數量", "规格数量"),
          english=("spec & quantity", "spec and quantity", "specs & quantity",
                   "specs and quantity", "specification & quantity",
                   "specification and quantity", "specifications and quantity",
                   "spec & qty", "spec/quantity"),
          max_length=500),
    Field("problem", N_("產品存在的質量問題"), FieldType.TEXT_PHOTOS,
          aliases=("产品存在的质量问题", "質量問題", "质量问题"),
          english=("quality problem", "product quality problem", "quality problems",
                   "quality issue", "quality issues"),
          max_length=2000),
    Field("request", N_("客戶要求"), FieldType.CHOICE, aliases=("客户要求",),
          english=("request", "customer request", "customer's request", "customer requests"),
          choices=("compensation", "return", "exchange", "other"), max_length=500),
    Field("filed_at", N_("投訴時間"), FieldType.STAMP, aliases=("投诉时间",),
          english=("filed at", "filed on", "complaint time", "time of complaint")),
)

SERVICE_FIELDS: tuple[Field, ...] = (
    Field("complainant", N_("投訴人"), FieldType.NAME, aliases=("投拆人", "投诉人"),
          english=("complainant",), max_length=50),
    Field("target", N_("投訴對象"), FieldType.CHOICE, aliases=("投诉对象",),
          english=("complaint about", "complaint against", "complained about",
                   "complaint target"),
          max_length=200),
    Field("event_time", N_("投訴事件·時間"), FieldType.TEXT, english=("event: time",), max_length=200),
    Field("event_cause", N_("投訴事件·起因"), FieldType.TEXT, english=("event: cause",),
          max_length=1000),
    Field("event_course", N_("投訴事件·過程"), FieldType.TEXT, english=("event: what happened",),
          max_length=2000),
    Field("event_result", N_("投訴事件·結果"), FieldType.TEXT, english=("event: result",),
          max_length=1000),
    Field("purpose", N_("投訴目的"), FieldType.CHOICE, aliases=("投诉目的",),
          english=("purpose", "complaint purpose", "purpose of complaint",
                   "purpose of the complaint"),
          choices=("claim", "discipline", "improve"), max_length=500),
    Field("filed_at", N_("投訴時間"), FieldType.STAMP, aliases=("投诉时间",),
          english=("filed at", "filed on", "complaint time", "time of complaint")),
)

FORMS: dict[ComplaintKind, tuple[Field, ...]] = {
    ComplaintKind.PRODUCT: PRODUCT_FIELDS,
    ComplaintKind.SERVICE: SERVICE_FIELDS,
}


def fields_of(kind: ComplaintKind) -> tuple[Field, ...]:
    return FORMS[kind]


def field_by_key(kind: ComplaintKind, key: str) -> Field:
    for field in FORMS[kind]:
        if field.key == key:
            return field
    raise KeyError(f"{kind.value} form has no field {key!r}")
