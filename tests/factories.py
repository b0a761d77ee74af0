"""Builders shared by the tests: a migrated database, services, and the sample community."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg

import bot
from bot.clock import Clock
from bot.config import Settings
from bot.domain.access import Actor
from bot.services.container import Services
from storage.database import Database, SqliteDatabase, open_database
from tests import backend

EXAMPLES = Path(bot.__file__).parent / "examples"
SAMPLE_YAML = EXAMPLES / "community.yaml"
T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TOKEN = "123456:TEST-TOKEN"
# A broken constraint, as either backend reports it.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


def settings_for(
    data_dir: Path, *, admins: frozenset[int] = frozenset(), api_url: str = "http://127.0.0.1:1"
) -> Settings:
    return Settings(
        token=TOKEN,
        api_url=api_url,
        data_dir=data_dir,
        admins=admins,
        database_url=backend.database_url(),
    )


async def open_services(data_dir: Path, *, admins: frozenset[int] = frozenset()) -> Services:
    settings = settings_for(data_dir, admins=admins)
    db = open_database(settings.database_url, settings.database_path)
    await db.connect()
    return Services.build(settings, db, Clock(T0))


def database_for_test(sqlite_path: Path, *, bot_id: int | None = None) -> Database:
    """The current test's database: this SQLite file, or its own PostgreSQL database;
    ``bot_id``: the bot it speaks as (None: a command-line task's view)."""
    url = backend.database_url()
    db = open_database(url, sqlite_path) if url else SqliteDatabase(sqlite_path)
    db.bot_id = bot_id
    return db


async def actor_of(
    services: Services, telegram_id: int, name: str = "测试", *, super_admin: bool = False
) -> Actor:
    actor, _ = await services.people.identify(telegram_id, name, "zh-hans", super_admin)
    return actor
