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

    # One round trip to aiosqlite's thread per statement: execute_fetchall for reads, and
    # the cursor's attributes (plain properties) for writes, instead of a cursor context.
    async def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._conn.execute_fetchall(sql, tuple(params))
        for row in rows:
            found: sqlite3.Row = row
            return found
        return None

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def _insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        cur = await self._conn.execute(sql, tuple(params))
        if cur.lastrowid is None:
            raise RuntimeError("insert returned no row id")
        return cur.lastrowid

    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int:
        cur = await self._conn.execute(sql, tuple(params))
        return cur.rowcount

    async def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]
