"""PostgreSQL: the database several ``jiayuan run`` processes share.

psycopg 3 with client-side binding: the repositories' ``?`` become ``%s`` and values are
sent as literals PostgreSQL types from their context, as SQLite does — the same SQL runs
on both without a cast at every parameter. Writes keep SQLite's contract: one writer at a
time, across every process, through a transaction-scoped advisory lock; reads are
repeatable-read snapshots that never wait for it; queue claims (``claim()``) use
``FOR UPDATE SKIP LOCKED`` and skip the lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from storage.database import Database, migration_scripts, split_sql
from storage.rows import Dialect, Executed, Row
from storage.transaction import Transaction

log = logging.getLogger(__name__)

# Advisory lock keys (any bigint; only this application takes them in its database).
WRITER_LOCK = 0x6A69617975616E01  # "jiayuan" + 1: the serialised writers
MIGRATION_LOCK = 0x6A69617975616E02

POOL_SIZE = 10
# How long a call waits for a connection before it fails (the database is down).
CONNECT_TIMEOUT_S = 30.0


class PgRow(tuple[Any, ...]):
    """A row read by name or position, as ``sqlite3.Row`` is."""

    _names: tuple[str, ...]
    _index: dict[str, int]

    def __new__(
        cls, values: Sequence[Any], names: tuple[str, ...], index: dict[str, int]
    ) -> PgRow:
        row = super().__new__(cls, values)
        row._names = names
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_rows(cursor: Any) -> RowMaker[PgRow]:
    names = tuple(c.name for c in cursor.description or ())
    index = {name: i for i, name in enumerate(names)}

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, names, index)

    return make


class _BoolAsInteger(Dumper):
    """Flags are INTEGER 0/1 in both databases (SQLite has no boolean)."""

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> bytes:
        return self.dump(obj)


class _NumericAsNumber(Loader):
    """SUM and AVG of integers are ``numeric`` here and plain numbers in SQLite."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """``?`` → ``%s`` outside quotes, and ``%`` doubled so psycopg leaves it alone."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class PostgresConnection:
    dialect: Dialect = "postgresql"

    def __init__(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.raw = raw

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self.raw.cursor() as cur:
            await cur.execute(to_pyformat(sql), tuple(params))
            if cur.description is None:
                return []
            rows: list[Row] = await cur.fetchall()
            return rows

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Executed:
        async with self.raw.cursor() as cur:
            await cur.execute(to_pyformat(sql), tuple(params))
            return Executed(cur.rowcount, None)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.raw.cursor() as cur:
            await cur.executemany(to_pyformat(sql), [tuple(r) for r in rows])


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInteger)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool_size = pool_size
        self._pool: AsyncConnectionPool[Any] | None = None
        # One connection per process waits for the writers' lock, not the whole pool.
        self._write_lock = asyncio.Lock()

    def describe(self) -> str:
        return redacted(self.url)

    async def connect(self, *, migrate: bool = True) -> None:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            kwargs={
                "autocommit": True,
                "cursor_factory": psycopg.AsyncClientCursor,
                "row_factory": _pg_rows,
            },
            configure=_configure,
            # A connection the server dropped (a restart) is replaced, not handed out.
            check=AsyncConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT_S,
            open=False,
            name="jiayuan",
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        self._pool = pool
        if migrate:
            await self.migrate()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            raise RuntimeError("Database.connect() was not called")
        return self._pool

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self.pool.connection() as raw:
            # Every process applies migrations at start: one at a time, the others then
            # find them done.
            await raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                await raw.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(number BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                cur = await raw.execute("SELECT number FROM schema_migrations")
                done = {row[0] for row in await cur.fetchall()}
                for number, name, sql in migration_scripts("postgresql"):
                    if number in done:
                        continue
                    async with raw.transaction():
                        for statement in split_sql(sql):
                            await raw.execute(statement)
                        await raw.execute(
                            "INSERT INTO schema_migrations VALUES (%s, %s, now()::text)",
                            (number, name),
                        )
                    log.info("migration applied name=%s", name)
                    applied.append(name)
            finally:
                await raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock, self.pool.connection() as raw:
            await raw.execute("BEGIN")
            try:
                await raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
                yield Transaction(PostgresConnection(raw), self.bot_id)
            except BaseException:
                await raw.execute("ROLLBACK")
                raise
            await raw.execute("COMMIT")

    def autocommit(self) -> AbstractAsyncContextManager[Transaction]:
        # A single write here costs what a transaction costs; keep the writers' order.
        return self.transaction()

    @asynccontextmanager
    async def claim(self) -> AsyncIterator[Transaction]:
        async with self.pool.connection() as raw:
            await raw.execute("BEGIN")
            try:
                yield Transaction(PostgresConnection(raw), self.bot_id)
            except BaseException:
                await raw.execute("ROLLBACK")
                raise
            await raw.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        async with self.pool.connection() as raw:
            await raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield Transaction(PostgresConnection(raw), self.bot_id)
            finally:
                await raw.execute("ROLLBACK")

    async def backup(self, target: Path) -> None:
        raise NotImplementedError("jiayuan backup copies SQLite; use pg_dump for PostgreSQL")
