"""What an installed copy needs besides the code: the texts (shipped in the wheel, see
pyproject.toml), checked by `complaint-bot check-config`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.texts import CATALOGS, TEMPLATES, missing_texts

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_links_next_to_the_code_are_the_repositorys_templates_and_catalogs() -> None:
    # In a checkout bot/templates and bot/locales must lead to templates/ and locales/ (what
    # the wheel packs): a broken or retargeted link fails here.
    assert TEMPLATES.resolve() == Path(cli.__file__).resolve().parents[1] / "templates"
    assert CATALOGS.resolve() == Path(cli.__file__).resolve().parents[1] / "locales"
    assert missing_texts() is None


def test_missing_texts_are_named(tmp_path: Path) -> None:
    assert missing_texts(tmp_path) == str(tmp_path / "commands.txt.j2")
    assert missing_texts(TEMPLATES, tmp_path) == str(tmp_path / "zh_Hans" / "LC_MESSAGES" / "messages.po")


def test_check_config_says_the_texts_are_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 0
    assert "texts in zh-Hant, zh-Hans, en" in capsys.readouterr().out


def test_check_config_refuses_an_install_without_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "missing_texts", lambda: missing_texts(tmp_path))
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 2
    assert "texts are not installed" in capsys.readouterr().err
