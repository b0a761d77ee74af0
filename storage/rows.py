"""Small helpers shared by the repositories: time as UTC text, and row access."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import aiosqlite


def to_db_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


class Repository:
    """Base: a repository works inside the transaction that owns the connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, tuple(params)) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def _insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._conn.execute(sql, tuple(params)) as cur:
            if cur.lastrowid is None:
                raise RuntimeError("insert returned no row id")
            return cur.lastrowid

    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return cur.rowcount

    async def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]
