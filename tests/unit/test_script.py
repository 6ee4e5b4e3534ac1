"""A department's name typed in Simplified or Traditional Chinese matches (bot/domain/script.py)."""

from __future__ import annotations

import pytest

from bot.domain.script import same_name


@pytest.mark.parametrize(("typed", "name"), [
    ("生產部", "生產部"), ("生产部", "生產部"), ("采购部", "採購部"), ("人力资源部", "人力資源部"),
    (" 物流部 ", "物流部"), ("Sales", "Sales"),
])
def test_either_script_matches(typed: str, name: str) -> None:
    assert same_name(typed, name)


@pytest.mark.parametrize(("typed", "name"), [
    ("生产部", "採購部"), ("", "生產部"), ("生產", "生產部"), ("sales", "Sales"),
])
def test_other_names_do_not(typed: str, name: str) -> None:
    assert not same_name(typed, name)
