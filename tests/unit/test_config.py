"""config.toml: wrong or missing keys are explained by name, never with a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w

from bot.cli import main
from bot.config import DATABASE_URL_ENV, TOKEN_ENV, ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"

MINIMAL = {"departments": [{"key": "sales", "name": "業務部"}, {"key": "order_desk", "name": "打單部"},
                           {"key": "hr", "name": "人力資源部"}, {"key": "production", "name": "生產部"},
                           {"key": "purchasing", "name": "採購部"}, {"key": "logistics", "name": "物流部"},
                           {"key": "inspection", "name": "監察部"},
                           {"key": "administration", "name": "行政部"}]}


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "1:x")
    settings = load_settings(EXAMPLE)
    assert settings.routing.product_intake == "order_desk"
    assert settings.general.timezone == "Asia/Shanghai" and settings.general.default_language == "zh-Hant"
    assert settings.database.url.startswith("sqlite+aiosqlite:///data/")
    assert settings.token == "1:x"


def test_defaults_fill_everything_but_departments() -> None:
    settings = parse_settings(MINIMAL)
    assert settings.workgroup.chat_id is None and settings.admins == []


@pytest.mark.parametrize(("data", "expected"), [
    ({}, "departments: is required"),
    ({**MINIMAL, "general": {"timezone": "Mars/Base"}}, "general.timezone: unknown timezone"),
    ({**MINIMAL, "general": {"default_language": "fr"}}, "general.default_language: must be one of"),
    ({**MINIMAL, "telegram": {"base_ulr": "x"}}, "telegram.base_ulr: is not a known setting"),
    ({**MINIMAL, "routing": {"product_intake": "desk"}}, "names department 'desk'"),
    ({**MINIMAL, "admins": ["boss"]}, "admins.0:"),
    ({"departments": [*MINIMAL["departments"][:-1], {"key": "administration", "name": "行政部",
                                                      "superior": "board"}]},
     "names department 'board'"),
    ({"departments": [{"key": "Sales Dept", "name": "x"}]}, "departments.0.key:"),
    ({**MINIMAL, "severity": {"managing_department": "board"}}, "names department 'board'"),
    ({**MINIMAL, "severity": {"resolve_warn_before": [0]}}, "severity.resolve_warn_before"),
    ({**MINIMAL, "severity": {"resolve_within_hours": 1, "resolve_warn_before": [90]}},
     "below resolve_within_hours (60 minutes)"),
    ({**MINIMAL, "feedback": {"within_hours": 0}}, "feedback.within_hours:"),
    ({**MINIMAL, "followup": {"within_hours": 1, "warn_before": [60]}},
     "followup.warn_before: minutes above 0 and below within_hours (60 minutes)"),
    ({**MINIMAL, "followup": {"minor_visitor": "anyone"}}, "followup.minor_visitor:"),
    ({**MINIMAL, "followup": {"fine": -5}}, "followup.fine:"),
    ({**MINIMAL, "web": {"listen": "8080"}}, "web.listen: host:port"),
    ({**MINIMAL, "telegram": {"mode": "webhook"}}, "needs telegram.webhook_url"),
    ({**MINIMAL, "telegram": {"mode": "webhook", "webhook_url": "https://bot.example.com/t"}},
     "and web.listen"),
    ({**MINIMAL, "telegram": {"webhook_url": "http://bot.example.com/t"}},
     "Telegram posts only to an https:// address"),
    ({**MINIMAL, "telegram": {"webhook_secret": "no spaces please"}},
     "only A-Z, a-z, 0-9, _ and -"),
    ({**MINIMAL, "telegram": {"mode": "push"}}, "telegram.mode:"),
    ({**MINIMAL, "board": {"url": "https://bot.example.com"}}, "board.url: Telegram opens only"),
    ({**MINIMAL, "board": {"url": "https://bot.example.com/board/"}}, "no / at its end"),
    ({**MINIMAL, "board": {"url": "https://bot.example.com/board"}}, "board.url needs web.listen"),
    ({**MINIMAL, "records": {"keep_years": 1}}, "records.keep_years:"),
    ({"departments": [*MINIMAL["departments"], {"key": "x", "name": "X", "head": 5}]},
     "names user 5, who has no [[members]] entry"),
])
def test_bad_settings_name_the_key(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(data)
    assert expected in str(error.value)


def test_the_first_releases_health_section_is_read_as_web() -> None:
    settings = parse_settings({**MINIMAL, "health": {"listen": "127.0.0.1:8080"}})
    assert settings.web.listen == "127.0.0.1:8080"


def test_the_database_url_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "1:x")
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+asyncpg://bot:secret@db/complaints")
    assert load_settings(EXAMPLE).database.url == "postgresql+asyncpg://bot:secret@db/complaints"


def test_webhook_mode_takes_its_address_and_a_secret_from_the_token() -> None:
    from bot.inbox import webhook_secret

    settings = parse_settings({**MINIMAL, "telegram": {
        "mode": "webhook", "webhook_url": "https://bot.example.com/telegram"},
        "web": {"listen": "0.0.0.0:8080"}}, token="123:abc")
    secret = webhook_secret(settings)
    assert len(secret) == 64 and secret == webhook_secret(settings)  # the same in each process
    assert webhook_secret(settings.model_copy(update={"token": "123:abd"})) != secret


def test_missing_token_says_where_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError) as error:
        load_settings(EXAMPLE)
    assert "@BotFather" in str(error.value) and TOKEN_ENV in str(error.value)


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "note:" not in out  # the example names someone for every role
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    del example["roles"]
    bare = tmp_path / "bare.toml"
    bare.write_bytes(tomli_w.dumps(example).encode())
    assert main(["check-config", "--config", str(bare)]) == 0
    notes = capsys.readouterr().out
    for missing in ("general_manager", "vice_president", "finance", "order_followers"):
        assert missing in notes, missing
    broken = tmp_path / "config.toml"
    broken.write_text('[general]\ntimezone = "Nowhere/City"\n', encoding="utf-8")
    assert main(["check-config", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "general.timezone" in err and "departments" in err and "Traceback" not in err
    broken.write_text("this is = not toml [", encoding="utf-8")
    assert main(["check-config", "--config", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["check-config", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "config.example.toml" in capsys.readouterr().err


def test_run_without_token_stops_with_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["run", "--config", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err.strip()
    assert "@BotFather" in err and err.count("\n") == 0
