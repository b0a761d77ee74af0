"""The database: SQLite (the embedded default) or PostgreSQL (several processes), one API.

Both backends keep the same contract for the code above them: ``transaction()`` is a
write unit of work whose writes are serialised (SQLite allows one writer; on PostgreSQL
an advisory lock gives every process the same guarantee, so read-then-write code stays
correct), ``read()`` is a consistent read-only snapshot, and ``claim()`` is a short write
for the queue claims (inbox, outbox, leases) that are safe to run side by side.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.rows import Dialect, Executed, Row
from storage.transaction import Transaction

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)

READERS = 3


def migration_scripts(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """The shipped migrations of a backend as (number, name, sql), in order.

    PostgreSQL has its own files under the same numbers and names: one history, two
    spellings of the DDL.
    """
    folder = resources.files("storage") / "migrations"
    if dialect == "postgresql":
        folder = folder / "postgresql"
    scripts = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            scripts.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


class Database(abc.ABC):
    dialect: Dialect
    # The bot a process speaks as (storage/bots.py); None for a command-line task.
    bot_id: int | None = None

    @abc.abstractmethod
    async def connect(self, *, migrate: bool = True) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write unit of work: commit on a clean exit, roll back on any error."""

    @abc.abstractmethod
    def autocommit(self) -> AbstractAsyncContextManager[Transaction]:
        """The writer with each statement committed on its own (single writes)."""

    @abc.abstractmethod
    def read(self) -> AbstractAsyncContextManager[Transaction]:
        """A consistent read-only snapshot."""

    @abc.abstractmethod
    def claim(self) -> AbstractAsyncContextManager[Transaction]:
        """A short write transaction that need not wait for the serialised writers."""

    @abc.abstractmethod
    async def backup(self, target: Path) -> None: ...

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the data lives, for logs and messages (no password)."""

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def open_database(url: str | None, sqlite_path: Path, *, bot_id: int | None = None) -> Database:
    """The database a URL names: PostgreSQL for ``postgresql://…``, else the SQLite file;
    ``bot_id`` is the bot the process speaks as, when it is one."""
    db: Database
    if url and url.startswith(("postgresql://", "postgres://")):
        from storage.postgres import PostgresDatabase

        db = PostgresDatabase(url)
    else:
        db = SqliteDatabase(sqlite_path)
    db.bot_id = bot_id
    return db


class SqliteConnection:
    """aiosqlite behind the repositories' connection protocol."""

    dialect: Dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # One round trip to aiosqlite's thread per statement.
        return list(await self.raw.execute_fetchall(sql, tuple(params)))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Executed:
        cur = await self.raw.execute(sql, tuple(params))
        return Executed(cur.rowcount, cur.lastrowid)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.raw.executemany(sql, [tuple(r) for r in rows])


class SqliteDatabase(Database):
    """One SQLite file: a single writer connection, a few readers, WAL.

    SQLite allows one writer at a time; serialising our writes behind one lock turns
    ``database is locked`` into orderly waiting. WAL lets readers run alongside the
    writer and each other, so a long scan (the minute tick, an export) holds one reader
    while updates keep being answered from the others.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, readers: int = READERS) -> None:
        if readers < 1:
            raise ValueError("a database needs at least one reader")
        self.path = path
        self.readers = readers
        self._writer: SqliteConnection | None = None
        self._reader_conns: list[SqliteConnection] = []
        # A reader serves one snapshot at a time: two must not interleave on a connection.
        self._idle_readers: asyncio.Queue[SqliteConnection] = asyncio.Queue()
        self._write_lock = asyncio.Lock()

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    async def connect(self, *, migrate: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        if migrate:
            await self.migrate()
        for _ in range(self.readers):
            conn = await self._open()
            self._reader_conns.append(conn)
            self._idle_readers.put_nowait(conn)

    async def _open(self) -> SqliteConnection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return SqliteConnection(conn)

    async def close(self) -> None:
        for conn in [*self._reader_conns, self._writer]:
            if conn is not None:
                await conn.raw.close()
        self._reader_conns = []
        self._idle_readers = asyncio.Queue()
        self._writer = None

    @property
    def writer(self) -> SqliteConnection:
        if self._writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._writer

    async def migrate(self) -> list[str]:
        conn = self.writer.raw
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with conn.execute("SELECT number FROM schema_migrations") as cur:
            done = {row[0] async for row in cur}
        applied = []
        for number, name, sql in migration_scripts("sqlite"):
            if number in done:
                continue
            # executescript would commit on its own; one explicit transaction keeps a
            # half-applied migration from ever being visible.
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in split_sql(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (number, name)
                )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            log.info("migration applied name=%s", name)
            applied.append(name)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE; commit on a clean exit, roll back on any error."""
        async with self._write_lock:
            conn = self.writer
            await conn.raw.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn, self.bot_id)
            except BaseException:
                await conn.raw.execute("ROLLBACK")
                raise
            await conn.raw.execute("COMMIT")

    def claim(self) -> AbstractAsyncContextManager[Transaction]:
        # SQLite has one writer either way.
        return self.transaction()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Transaction]:
        """For a single write that needs no company: it saves the BEGIN and COMMIT round
        trips to the writer's thread, a third of the cost of a one-row write."""
        async with self._write_lock:
            yield Transaction(self.writer, self.bot_id)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        if not self._reader_conns:
            raise RuntimeError("Database.connect() was not called")
        conn = await self._idle_readers.get()
        try:
            await conn.raw.execute("BEGIN")
            try:
                yield Transaction(conn, self.bot_id)
            finally:
                await conn.raw.execute("ROLLBACK")
        finally:
            self._idle_readers.put_nowait(conn)

    async def backup(self, target: Path) -> None:
        """Copy the live database consistently with SQLite's online backup API."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.unlink(missing_ok=True)
        dest = await aiosqlite.connect(tmp)
        try:
            async with self._write_lock:
                await self.writer.raw.backup(dest)
        finally:
            await dest.close()
        tmp.replace(target)


def split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations use no triggers with inner ;)."""
    statements, buffer = [], []
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buffer.append(line)
        if sqlite3.complete_statement("\n".join(buffer)):
            statements.append("\n".join(buffer).strip())
            buffer = []
    if "".join(buffer).strip():
        statements.append("\n".join(buffer).strip())
    return [s for s in statements if s]
