"""Mini App initData: what the simulator signs as Telegram does passes; anything altered,
forged with another token, or too old is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.webapp import InitDataRefused, verify_init_data
from bot.sandbox.records import UserRecord
from bot.sandbox.webapps import init_data, launch_url, sign_init_data

TOKEN = "123456:TEST-TOKEN"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
USER = UserRecord(id=4242, first_name="刘主任", language_code="zh-hans")


def fresh(**extra: str) -> str:
    return init_data(TOKEN, USER, int(NOW.timestamp()) - 60, **extra)


def test_data_signed_as_telegram_does_names_the_user() -> None:
    user = verify_init_data(fresh(), TOKEN, NOW, HOUR)
    assert (user.telegram_id, user.first_name, user.language_code) == (4242, "刘主任", "zh-hans")


def test_the_launch_url_carries_the_data_in_its_fragment() -> None:
    data = fresh()
    url = launch_url("https://b.example/console/app#old", data)
    assert url.startswith("https://b.example/console/app#tgWebAppData=")
    fragment = dict(parse_qsl(url.split("#", 1)[1]))
    assert fragment["tgWebAppData"] == data
    assert verify_init_data(fragment["tgWebAppData"], TOKEN, NOW, HOUR).telegram_id == 4242


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (fresh().replace("4242", "4243"), "hash does not match"),
        (init_data("999:OTHER", USER, int(NOW.timestamp())), "hash does not match"),
        (init_data(TOKEN, USER, int((NOW - 2 * HOUR).timestamp())), "too old"),
        (init_data(TOKEN, USER, int((NOW + HOUR).timestamp())), "future"),
        ("", "hash does not match"),
        ("hash=abc&hash=abc", "repeated"),
        (sign_init_data(TOKEN, {"user": '{"id": 1}'}), "no auth_date"),
        (sign_init_data(TOKEN, {"auth_date": str(int(NOW.timestamp()))}), "no user"),
        (sign_init_data(TOKEN, {"auth_date": "soon", "user": "{}"}), "no auth_date"),
    ],
    ids=[
        "altered",
        "other-token",
        "old",
        "future",
        "empty",
        "repeated",
        "no-date",
        "no-user",
        "bad-date",
    ],
)
def test_altered_forged_old_or_malformed_data_is_refused(data: str, why: str) -> None:
    with pytest.raises(InitDataRefused, match=why):
        verify_init_data(data, TOKEN, NOW, HOUR)


@given(st.text(min_size=1, max_size=40), st.sampled_from(["query_id", "auth_date", "user"]))
def test_changing_any_signed_field_breaks_the_hash(value: str, field: str) -> None:
    fields = dict(parse_qsl(fresh()))
    if fields[field] == value:
        return
    fields[field] = value
    with pytest.raises(InitDataRefused):
        verify_init_data(urlencode(fields), TOKEN, NOW, HOUR)
