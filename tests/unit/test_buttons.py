"""Button kinds (bot.buttons): built and read in one place, each handled by one handler."""

from __future__ import annotations

import re

import pytest
from telegram.ext import ApplicationBuilder, CallbackQueryHandler

import handlers
from bot.buttons import ALL_KINDS, APPROVAL, FORM, FORM_CHOICE, ButtonKind
from handlers.common import CONTEXT_TYPES


def test_prefixes_are_unique() -> None:
    prefixes = [kind.prefix for kind in ALL_KINDS]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize("kind", ALL_KINDS, ids=[k.prefix for k in ALL_KINDS])
def test_data_reads_back_as_its_parts_and_no_other_kind_takes_it(kind: ButtonKind) -> None:
    data = kind.data(123456789, "x", "tail")
    assert kind.parts(data) == ["123456789", "x", "tail"]
    assert re.match(kind.pattern, data)
    for other in ALL_KINDS:
        if other is not kind:
            assert other.parts(data) == []
            assert not re.match(other.pattern, data), (kind.prefix, other.prefix)


def test_a_prefix_that_begins_another_is_not_confused_with_it() -> None:
    assert FORM.parts("fn:3:paid") == []  # 'f' (forms) and 'fn' (fines)
    assert FORM.parts("f:3:keep") == ["3", "keep"]
    assert APPROVAL.parts(None) == [] and FORM_CHOICE.parts("") == []


def test_every_kind_has_exactly_one_handler() -> None:
    app = ApplicationBuilder().token("1:x").updater(None).context_types(CONTEXT_TYPES).build()
    handlers.register(app)
    patterns = [h.pattern.pattern for group in app.handlers.values() for h in group
                if isinstance(h, CallbackQueryHandler) and h.pattern is not None
                and hasattr(h.pattern, "pattern")]
    assert sorted(patterns) == sorted(kind.pattern for kind in ALL_KINDS)
