"""Settings read from the environment, validated once at start-up.

Names follow the operating contract in ARCHITECTURE.md; a bad value fails with the
variable's name, never with a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    data_dir: Path = Path("data")
    admins: frozenset[int] = frozenset()
    timezone: str = "Asia/Shanghai"
    now: datetime | None = None
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    ops_chat_id: int | None = None
    web_port: int | None = None
    web_listen: str = "0.0.0.0"
    public_url: str | None = None
    # The console map's tile URL template; "" draws the points on a plain background.
    map_tiles: str | None = None
    # None: the SQLite file in data_dir. Else sqlite:///path or postgresql://…
    database_url: str | None = None
    # Inbox workers in this process: how many chats are handled at once.
    workers: int = 4

    def __repr__(self) -> str:
        masked = self.token.split(":", 1)[0] + ":***" if self.token else "<none>"
        return (
            f"Settings(token={masked}, api_url={self.api_url!r}, data_dir={self.data_dir!s}, "
            f"admins={sorted(self.admins)}, timezone={self.timezone!r}, now={self.now})"
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_path(self) -> Path:
        """The SQLite file (the default, or the one JIAYUAN_DATABASE_URL names)."""
        if self.database_url and self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "jiayuan.sqlite3"

    @property
    def bot_id(self) -> int | None:
        """The bot's Telegram id, the part of its token before the colon (getMe's id):
        what binds communities, updates and messages to it in a shared database."""
        head = self.token.split(":", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def uses_postgresql(self) -> bool:
        return bool(self.database_url) and not str(self.database_url).startswith("sqlite:")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, require_token: bool = True
    ) -> Settings:
        env = os.environ if env is None else env
        token = env.get("BOT_TOKEN", "").strip()
        if require_token and not token:
            raise ConfigError("BOT_TOKEN is not set: get a token from @BotFather and export it")
        if token and (
            ":" not in token
            or not token.split(":", 1)[0].isascii()
            or not token.split(":", 1)[0].isdigit()
        ):
            raise ConfigError("BOT_TOKEN does not look like a bot token (expected 123456:ABC…)")
        return cls(
            token=token,
            api_url=_url(env, "TELEGRAM_API_URL", DEFAULT_API_URL),
            data_dir=Path(env.get("JIAYUAN_DATA_DIR", "").strip() or "data"),
            admins=_admins(env.get("JIAYUAN_ADMINS", "")),
            timezone=_timezone(env.get("JIAYUAN_TZ", "").strip() or "Asia/Shanghai"),
            now=_instant(env.get("JIAYUAN_NOW", "").strip()),
            webhook_url=_optional_url(env, "JIAYUAN_WEBHOOK_URL"),
            webhook_listen=env.get("JIAYUAN_WEBHOOK_LISTEN", "0.0.0.0").strip() or "0.0.0.0",
            webhook_port=_int(env, "JIAYUAN_WEBHOOK_PORT", 8443),
            ops_chat_id=_optional_int(env, "JIAYUAN_OPS_CHAT_ID"),
            web_port=_optional_port(env, "JIAYUAN_WEB_PORT"),
            web_listen=env.get("JIAYUAN_WEB_LISTEN", "0.0.0.0").strip() or "0.0.0.0",
            public_url=_optional_url(env, "JIAYUAN_PUBLIC_URL"),
            map_tiles=env.get("JIAYUAN_MAP_TILES"),
            database_url=_database_url(env.get("JIAYUAN_DATABASE_URL", "").strip()),
            workers=_workers(env),
        )


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https:// (got {value!r})")
    return value.rstrip("/")


def _database_url(raw: str) -> str | None:
    if not raw:
        return None
    if raw.startswith("sqlite:///") and len(raw) > len("sqlite:///"):
        return raw
    if raw.startswith(("postgresql://", "postgres://")):
        return raw
    raise ConfigError(
        "JIAYUAN_DATABASE_URL must be sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"
        f" (got {raw.split('@')[-1]!r})"
    )


def _workers(env: Mapping[str, str]) -> int:
    count = _int(env, "JIAYUAN_WORKERS", 4)
    if not 1 <= count <= 64:
        raise ConfigError(f"JIAYUAN_WORKERS must be from 1 to 64 (got {count})")
    return count


def _optional_url(env: Mapping[str, str], name: str) -> str | None:
    return _url(env, name, "") if env.get(name, "").strip() else None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    port = _optional_int(env, name)
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number from 1 to 65535 (got {port})")
    return port


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    return _int(env, name, 0) if env.get(name, "").strip() else None


def _admins(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.lstrip("-").isdigit()):
            raise ConfigError(
                f"JIAYUAN_ADMINS must be comma-separated Telegram user ids (bad entry {part!r})"
            )
        ids.add(int(part))
    return frozenset(ids)


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"JIAYUAN_TZ is not a known time zone (got {name!r})") from None
    return name


def _instant(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(
            f"JIAYUAN_NOW must be an ISO-8601 instant like 2026-12-18T08:00:00+08:00 (got {raw!r})"
        ) from None
    if value.tzinfo is None:
        raise ConfigError("JIAYUAN_NOW needs a UTC offset, e.g. 2026-12-18T08:00:00+08:00")
    return value
