"""config.toml for rules 一.4 and 三: [roles], [sheet], departments' vice-presidents and the
chains' [deadlines] — wrong values are refused with a message naming the key."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest

from bot.config import ConfigError, parse_settings

DEPARTMENTS: list[dict[str, Any]] = [{"key": "sales", "name": "業務部", "head": 11, "members": [12]},
               {"key": "order_desk", "name": "打單部"}, {"key": "hr", "name": "人力資源部"},
               {"key": "production", "name": "生產部"}, {"key": "purchasing", "name": "採購部"},
               {"key": "logistics", "name": "物流部"}, {"key": "inspection", "name": "監察部"},
               {"key": "administration", "name": "行政部"}, {"key": "finance", "name": "財務部"}]
MEMBERS = [{"id": uid, "name": f"user {uid}"} for uid in (11, 12, 20, 21, 22, 30, 31, 40)]
BASE: dict[str, Any] = {"departments": DEPARTMENTS, "members": MEMBERS}


def with_(**sections: Any) -> dict[str, Any]:
    return {**BASE, **sections}


def sales(**changes: Any) -> list[dict[str, Any]]:
    return [{**DEPARTMENTS[0], **changes}, *DEPARTMENTS[1:]]


def test_roles_and_sheet_default_to_nobody_and_the_rule_book() -> None:
    settings = parse_settings(BASE)
    assert settings.roles.general_manager is None and settings.roles.gm_assistants == []
    assert settings.roles.order_followers == [] and settings.roles.order_desk_assistants == []
    assert settings.roles.finance is None
    assert settings.sheet.enabled and settings.sheet.compile_at == time(17, 30)
    assert settings.sheet.morning_at == time(9, 0)
    assert all(d.vice_president is None for d in settings.departments)


def test_roles_naming_members_are_accepted() -> None:
    settings = parse_settings(with_(
        roles={"general_manager": 20, "gm_assistants": [21], "order_followers": [30, 31],
               "order_desk_assistants": [22], "finance": "finance"},
        departments=sales(vice_president=40),
        sheet={"compile_at": "17:30", "morning_at": "09:15", "enabled": False}))
    assert settings.roles.general_manager == 20 and settings.roles.gm_assistants == [21]
    assert settings.roles.order_followers == [30, 31]
    assert settings.roles.order_desk_assistants == [22] and settings.roles.finance == "finance"
    assert settings.departments[0].vice_president == 40
    assert settings.sheet.compile_at == time(17, 30) and settings.sheet.morning_at == time(9, 15)
    assert not settings.sheet.enabled


@pytest.mark.parametrize(("roles", "expected"), [
    ({"general_manager": 99}, "roles.general_manager names user 99, who has no [[members]] entry"),
    ({"gm_assistants": [21, 98]}, "roles.gm_assistants names user 98, who has no [[members]] entry"),
    ({"order_followers": [97]}, "roles.order_followers names user 97, who has no [[members]] entry"),
    ({"order_desk_assistants": [96]},
     "roles.order_desk_assistants names user 96, who has no [[members]] entry"),
    ({"finance": "accounts"}, "roles.finance names department 'accounts'"),
    ({"finance": "Finance Dept"}, "roles.finance names department 'Finance Dept'"),
    ({"general_manager": "boss"}, "roles.general_manager:"),
    ({"cfo": 20}, "roles.cfo: is not a known setting"),
])
def test_bad_roles_name_the_key(roles: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(roles=roles))
    assert expected in str(error.value)


def test_a_vice_president_must_be_a_member() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(departments=sales(vice_president=95)))
    assert "department 'sales' names user 95, who has no [[members]] entry" in str(error.value)


@pytest.mark.parametrize("chain_step", ["sheet.head_sign", "sheet.gm_decision", "freight.closed"])
def test_chain_deadlines_are_never_fined(chain_step: str) -> None:
    chain, step = chain_step.split(".")
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(deadlines={chain: {step: {"fines": True}}}))
    assert f"deadlines.{chain}.{step}.fines" in str(error.value)
    # Saying so explicitly, or changing the time, is fine.
    settings = parse_settings(with_(deadlines={chain: {step: {"fines": False, "minutes": 15}}}))
    assert settings.deadlines[chain][step].minutes == 15


def test_chain_deadline_steps_are_checked() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(deadlines={"sheet": {"sign_everything": {"minutes": 5}}}))
    assert "deadlines.sheet.sign_everything: no such step" in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(deadlines={"freight": {"vp_opinion": {"minutes": 5}}}))
    assert "deadlines.freight.vp_opinion: no such step" in str(error.value)


@pytest.mark.parametrize(("sheet", "expected"), [
    ({"compile_at": "25:00"}, "sheet.compile_at:"),
    ({"morning_at": "soon"}, "sheet.morning_at:"),
    ({"compile": "17:30"}, "sheet.compile: is not a known setting"),
])
def test_bad_sheet_settings_name_the_key(sheet: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_(sheet=sheet))
    assert expected in str(error.value)


@pytest.mark.parametrize(("sheet", "message"), [
    ({"compile_at": "18:30"}, "sheet.compile_at (18:30) must fall in the working day"),
    ({"compile_at": "08:00"}, "sheet.compile_at (08:00) must fall in the working day"),
    ({"morning_at": "07:30"}, "sheet.morning_at (07:30) must fall in the working day"),
])
def test_sheet_times_must_fall_in_the_working_day(sheet: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_settings(with_(sheet=sheet))


def test_sheet_times_are_free_around_the_clock() -> None:
    settings = parse_settings(with_(sheet={"compile_at": "23:00"}, calendar={"mode": "24x7"}))
    assert settings.sheet.compile_at.hour == 23
