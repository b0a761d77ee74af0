"""Builders shared by the tests: a migrated database, services, and the sample community."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import bot
from bot.clock import Clock
from bot.config import Settings
from bot.domain.access import Actor
from bot.services.container import Services
from storage.database import SqliteDatabase

EXAMPLES = Path(bot.__file__).parent / "examples"
SAMPLE_YAML = EXAMPLES / "community.yaml"
T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TOKEN = "123456:TEST-TOKEN"


def settings_for(
    data_dir: Path, *, admins: frozenset[int] = frozenset(), api_url: str = "http://127.0.0.1:1"
) -> Settings:
    return Settings(token=TOKEN, api_url=api_url, data_dir=data_dir, admins=admins)


async def open_services(data_dir: Path, *, admins: frozenset[int] = frozenset()) -> Services:
    db = SqliteDatabase(data_dir / "jiayuan.sqlite3")
    await db.connect()
    return Services.build(settings_for(data_dir, admins=admins), db, Clock(T0))


async def actor_of(
    services: Services, telegram_id: int, name: str = "测试", *, super_admin: bool = False
) -> Actor:
    actor, _ = await services.people.identify(telegram_id, name, "zh-hans", super_admin)
    return actor
