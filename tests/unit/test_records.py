"""The case library's lesson and tags as typed, and a record as one self-contained file."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot import views
from bot.domain.fields import ComplaintKind
from bot.domain.workflow import Status
from bot.services.cases import read_lesson
from bot.texts import LANGUAGES, Texts
from tests.unit.test_templates import FILED_AT, HISTORY, HOSTILE, card_view


@pytest.mark.parametrize(("typed", "lesson", "tags"), [
    ("先查庫存 #物流 #承諾", "先查庫存", ["物流", "承諾"]),
    ("#物流 先查庫存\n再承諾 #物流", "先查庫存\n再承諾", ["物流"]),  # a tag once
    ("#物流 #承諾", "", ["物流", "承諾"]),  # no lesson: refused by the service
    ("C# 的程式 #軟體", "C# 的程式", ["軟體"]),  # a lone # is text
])
def test_a_lesson_and_its_tags_as_typed(typed: str, lesson: str, tags: list[str]) -> None:
    assert read_lesson(typed) == (lesson, tags)


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""
        self.images: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_data(self, data: str) -> None:
        self.text += data


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_record_file_is_one_page_with_its_photos_inside(lang: str) -> None:
    view = card_view(ComplaintKind.PRODUCT, Status.CLOSED)
    photo = "iVBORw0KGgo" + "A" * 20  # a PNG's base64
    data = views.record_document(Texts("zh-Hant"), lang, view, HISTORY, [photo, None],
                                 FILED_AT)
    page = Page(data.decode("utf-8"))
    assert page.tags[:2] == ["html", "head"] and "title" in page.tags
    assert page.images == [f"data:image/png;base64,{photo}"]  # one fetched, one gone
    assert HOSTILE in page.text and "<b>x</b>" not in data.decode()  # user text escaped
    assert "P-2026-0001" in page.text
