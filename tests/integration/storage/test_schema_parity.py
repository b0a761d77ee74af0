"""The two spellings of the migrations build one schema: same tables, columns, keys, indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from storage.database import SqliteDatabase, migration_scripts

pytestmark = pytest.mark.sqlite_only  # compares the backends itself


def _sqlite_schema(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        columns = {
            t: [
                (r[1], bool(r[3]) or bool(r[5])) for r in conn.execute(f'PRAGMA table_info("{t}")')
            ]
            for t in tables
        }
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
        foreign = {
            (t, r[3], r[2])
            for t in tables
            for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')
        }
    return {"tables": tables, "columns": columns, "indexes": indexes, "foreign keys": foreign}


def _postgres_schema(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' ORDER BY table_name"
            )
        ]
        columns = {
            t: [
                (r[0], r[1] == "NO")
                for r in conn.execute(
                    "SELECT column_name, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                    (t,),
                )
            ]
            for t in tables
        }
        # Indexes we named (PostgreSQL also names those behind keys and UNIQUE).
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        }
        foreign = {
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text"
                " FROM pg_constraint c JOIN pg_attribute a"
                " ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                " WHERE c.contype = 'f'"
            )
        }
    return {"tables": tables, "columns": columns, "indexes": indexes, "foreign keys": foreign}


def test_both_backends_have_the_same_migrations() -> None:
    sqlite = [(n, name) for n, name, _ in migration_scripts("sqlite")]
    postgres = [(n, name) for n, name, _ in migration_scripts("postgresql")]
    assert sqlite == postgres


async def test_both_spellings_build_the_same_schema(tmp_path: Path, pg_database: str) -> None:
    async with SqliteDatabase(tmp_path / "schema.sqlite3"):
        pass
    sqlite = _sqlite_schema(tmp_path / "schema.sqlite3")
    postgres = _postgres_schema(pg_database)
    for part in ("tables", "columns", "indexes", "foreign keys"):
        assert sqlite[part] == postgres[part], part
