"""Telegram Mini App launch data (``initData``), checked as Telegram prescribes: the
``hash`` is an HMAC-SHA256 keyed from the bot token, so only Telegram (which holds the
token) can make data that passes; ``auth_date`` bounds how long a copy stays usable.

Pure: stdlib only, the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl


class InitDataRefused(ValueError):
    """The launch data is forged, altered, malformed or too old."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    telegram_id: int
    first_name: str
    language_code: str | None


def verify_init_data(init_data: str, token: str, now: datetime, max_age: timedelta) -> WebAppUser:
    """The user the data vouches for; raises InitDataRefused otherwise."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field is repeated")
    given = fields.pop("hash", "")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        raise InitDataRefused("hash does not match")
    try:
        signed_at = int(fields["auth_date"])
    except (KeyError, ValueError):
        raise InitDataRefused("no auth_date") from None
    age = now.timestamp() - signed_at
    if age > max_age.total_seconds():
        raise InitDataRefused("auth_date is too old")
    if age < -300:
        raise InitDataRefused("auth_date is in the future")
    try:
        user = json.loads(fields["user"])
        return WebAppUser(
            telegram_id=int(user["id"]),
            first_name=str(user.get("first_name", "")),
            language_code=user.get("language_code"),
        )
    except (KeyError, ValueError, TypeError):
        raise InitDataRefused("no user") from None
