"""What an installed copy needs besides the code: the texts (shipped in the wheel, see
pyproject.toml), checked by `complaint-bot check-config`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.texts import TEMPLATES, missing_texts

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_link_next_to_the_code_is_the_repositorys_templates() -> None:
    # In a checkout bot/templates must lead to templates/ (what the wheel packs): a broken
    # or retargeted link fails here.
    assert TEMPLATES.resolve() == Path(cli.__file__).resolve().parents[1] / "templates"
    assert missing_texts() is None


def test_missing_texts_are_named(tmp_path: Path) -> None:
    assert missing_texts(tmp_path) == str(tmp_path / "zh-Hant" / "commands.txt.j2")


def test_check_config_says_the_texts_are_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 0
    assert "texts in zh-Hant, en" in capsys.readouterr().out


def test_check_config_refuses_an_install_without_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "missing_texts", lambda: missing_texts(tmp_path))
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 2
    assert "texts are not installed" in capsys.readouterr().err
