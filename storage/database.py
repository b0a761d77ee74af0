"""One SQLite database: a single writer connection, a few readers, and numbered migrations.

SQLite allows one writer at a time; serialising our writes behind one lock turns
``database is locked`` into orderly waiting. WAL lets readers run alongside the writer and
each other, so reads come from a small pool: a long scan (the minute tick, an export)
holds one reader while updates keep being answered from the others.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.transaction import Transaction

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)


def migration_scripts() -> list[tuple[int, str, str]]:
    """The shipped migrations as (number, name, sql), in order."""
    folder = resources.files("storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            scripts.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


READERS = 3


class Database:
    def __init__(self, path: Path, *, readers: int = READERS) -> None:
        if readers < 1:
            raise ValueError("a database needs at least one reader")
        self.path = path
        self.readers = readers
        self._writer: aiosqlite.Connection | None = None
        self._reader_conns: list[aiosqlite.Connection] = []
        # A reader serves one snapshot at a time: two must not interleave on a connection.
        self._idle_readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._write_lock = asyncio.Lock()

    async def connect(self, *, migrate: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        if migrate:
            await self.migrate()
        for _ in range(self.readers):
            conn = await self._open()
            self._reader_conns.append(conn)
            self._idle_readers.put_nowait(conn)

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def close(self) -> None:
        for conn in [*self._reader_conns, self._writer]:
            if conn is not None:
                await conn.close()
        self._reader_conns = []
        self._idle_readers = asyncio.Queue()
        self._writer = None

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._writer

    async def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names."""
        conn = self.writer
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with conn.execute("SELECT number FROM schema_migrations") as cur:
            done = {row[0] async for row in cur}
        applied = []
        for number, name, sql in migration_scripts():
            if number in done:
                continue
            # executescript would commit on its own; one explicit transaction keeps a
            # half-applied migration from ever being visible.
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
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
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Transaction]:
        """The writer with each statement committed on its own.

        For a single write that needs no company: it saves the BEGIN and COMMIT round
        trips to the writer's thread, a third of the cost of a one-row write.
        """
        async with self._write_lock:
            yield Transaction(self.writer)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        """A consistent read-only snapshot on one of the reader connections."""
        if not self._reader_conns:
            raise RuntimeError("Database.connect() was not called")
        conn = await self._idle_readers.get()
        try:
            await conn.execute("BEGIN")
            try:
                yield Transaction(conn)
            finally:
                await conn.execute("ROLLBACK")
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
                await self.writer.backup(dest)
        finally:
            await dest.close()
        tmp.replace(target)


def _split_sql(script: str) -> list[str]:
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
