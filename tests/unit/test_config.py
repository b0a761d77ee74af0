"""Settings from the environment: contract names, clear errors, masked token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import ConfigError, Settings

TOKEN = "123456:ABC-secret"


def test_defaults_follow_the_operating_contract() -> None:
    settings = Settings.from_env({"BOT_TOKEN": TOKEN})
    assert settings.api_url == "https://api.telegram.org"
    assert str(settings.data_dir) == "data"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.admins == frozenset()
    assert settings.now is None
    assert settings.workers == 4


def test_all_variables_are_read() -> None:
    settings = Settings.from_env(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "JIAYUAN_DATA_DIR": "/tmp/jy",
            "JIAYUAN_ADMINS": "1, 2,3",
            "JIAYUAN_TZ": "Asia/Urumqi",
            "JIAYUAN_NOW": "2026-12-18T08:00:00+08:00",
            "JIAYUAN_WORKERS": "8",
        }
    )
    assert settings.workers == 8
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.admins == frozenset({1, 2, 3})
    assert settings.timezone == "Asia/Urumqi"
    assert settings.now == datetime(2026, 12, 18, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "nonsense"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_ADMINS": "12,abc"}, "JIAYUAN_ADMINS"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_TZ": "Mars/Base"}, "JIAYUAN_TZ"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_NOW": "yesterday"}, "JIAYUAN_NOW"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_NOW": "2026-12-18T08:00:00"}, "JIAYUAN_NOW"),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_WORKERS": "0"}, "JIAYUAN_WORKERS"),
        ({"BOT_TOKEN": TOKEN, "JIAYUAN_WORKERS": "many"}, "JIAYUAN_WORKERS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_token_never_appears_in_repr() -> None:
    settings = Settings.from_env({"BOT_TOKEN": TOKEN})
    assert "secret" not in repr(settings)
    assert "123456" in repr(settings)


def test_the_web_port_and_public_url_are_read_and_checked() -> None:
    from bot.config import ConfigError, Settings

    settings = Settings.from_env(
        {"BOT_TOKEN": "1:x", "JIAYUAN_WEB_PORT": "8080", "JIAYUAN_PUBLIC_URL": "https://b.cn/"}
    )
    assert (settings.web_port, settings.public_url) == (8080, "https://b.cn")
    assert Settings.from_env({"BOT_TOKEN": "1:x"}).web_port is None
    for name, value in (
        ("JIAYUAN_WEB_PORT", "70000"),
        ("JIAYUAN_WEB_PORT", "web"),
        ("JIAYUAN_PUBLIC_URL", "b.cn"),
    ):
        try:
            Settings.from_env({"BOT_TOKEN": "1:x", name: value})
        except ConfigError as error:
            assert name in str(error)
        else:
            raise AssertionError(f"{name}={value} was accepted")
