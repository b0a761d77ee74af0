"""Moving a deployment from its SQLite file to an empty PostgreSQL database.

The source is first copied with SQLite's backup API (so a backup file or a data dir is
never written to) and brought up to the current migration; the target is migrated to the
same version and must hold no rows. Tables are copied with COPY in an order that puts
every referenced row first; the one cycle of the schema (people ↔ zones) is broken by
copying the back references as NULL and filling them in afterwards. Identity sequences
are moved past the copied ids, and the row counts of every table are compared.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from storage.database import SqliteDatabase
from storage.postgres import PostgresDatabase

BATCH = 5000


class TransferRefused(RuntimeError):
    """The move cannot start (the target is not empty, the source is not a database)."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class _Reference:
    column: str
    table: str
    nullable: bool


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name != 'schema_migrations' ORDER BY name"
    )
    return [r[0] for r in rows]


def _references(conn: sqlite3.Connection, table: str) -> list[_Reference]:
    not_null = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")') if r[3]}
    rows = conn.execute(f'PRAGMA foreign_key_list("{table}")')
    return [
        _Reference(column=r[3], table=r[2], nullable=r[3] not in not_null)
        for r in rows
        if r[2] != table
    ]


def copy_order(
    tables: list[str], references: dict[str, list[_Reference]]
) -> list[tuple[str, list[str]]]:
    """Tables with the columns to copy as NULL first (and fill in later) so that every
    foreign key points at a row already there."""
    placed: set[str] = set()
    order: list[tuple[str, list[str]]] = []
    remaining = list(tables)
    while remaining:
        ready = [
            t
            for t in remaining
            if all(r.table in placed or r.table not in tables for r in references[t])
        ]
        if ready:
            for t in ready:
                order.append((t, []))
                placed.add(t)
                remaining.remove(t)
            continue
        # A cycle: place a table whose missing references may wait as NULL, and fill
        # them in once every table is there.
        table = next(
            (
                t
                for t in remaining
                if all(r.nullable for r in references[t] if r.table not in placed)
            ),
            None,
        )
        if table is None:
            raise TransferRefused(f"no order satisfies the foreign keys of {remaining}")
        remaining.remove(table)
        later = [r.column for r in references[table] if r.table not in placed]
        order.append((table, later))
        placed.add(table)
    return order


async def transfer(
    sqlite_path: Path, target_url: str, *, progress: Callable[[str], None] = lambda _: None
) -> list[TableCount]:
    """Copy every row of the SQLite database at ``sqlite_path`` into the empty
    PostgreSQL database at ``target_url``; the per-table counts afterwards."""
    if not sqlite_path.is_file():  # noqa: ASYNC240 - once, before any work
        raise TransferRefused(f"no SQLite database at {sqlite_path}")
    with tempfile.TemporaryDirectory(prefix="jiayuan-move-") as scratch:
        snapshot = Path(scratch) / "source.sqlite3"
        try:
            with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as live:
                dest = sqlite3.connect(snapshot)
                live.backup(dest)
                dest.close()
        except sqlite3.DatabaseError as exc:
            raise TransferRefused(f"{sqlite_path} is not a readable database: {exc}") from exc
        source_db = SqliteDatabase(snapshot, readers=1)
        await source_db.connect()  # brings an older file up to the current version
        await source_db.close()

        target = PostgresDatabase(target_url, pool_size=2)
        await target.connect()
        try:
            with sqlite3.connect(snapshot) as source:
                return await _copy(source, target, progress)
        finally:
            await target.close()


async def _copy(
    source: sqlite3.Connection, target: PostgresDatabase, progress: Callable[[str], None]
) -> list[TableCount]:
    tables = _tables(source)
    references = {t: _references(source, t) for t in tables}
    async with target.pool.connection() as raw:
        # The cursor the pool hands out binds on the client; COPY wants a plain one.
        cur = psycopg.AsyncCursor(raw)
        for table in tables:
            await cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            found = await cur.fetchone()
            if found is not None and found[0]:
                raise TransferRefused(
                    f"the target database is not empty (table {table} has rows); "
                    "jiayuan migrate --to copies into an empty database only"
                )
        order = copy_order(tables, references)
        async with raw.transaction():
            for table, later in order:
                columns = [r[1] for r in source.execute(f'PRAGMA table_info("{table}")')]
                await _copy_table(source, cur, table, columns, later)
                progress(table)
            for table, later in order:
                if later:
                    await _fill_in(source, cur, table, later)
            await _move_sequences(cur, tables)
        # Plans from the first query on the moved data (migration 023's statistics among
        # them), not from whenever autovacuum comes by.
        await cur.execute("ANALYZE")
        counts = []
        for table in tables:
            (n_source,) = source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            await cur.execute(f"SELECT COUNT(*) FROM {table}")
            row = await cur.fetchone()
            counts.append(TableCount(table, int(n_source), int(row[0]) if row else -1))
        return counts


async def _copy_table(
    source: sqlite3.Connection,
    cur: psycopg.AsyncCursor[Any],
    table: str,
    columns: list[str],
    later: list[str],
) -> None:
    blank = [i for i, c in enumerate(columns) if c in later]
    names = ", ".join(columns)
    rows = source.execute(f'SELECT {names} FROM "{table}"')
    async with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        while batch := rows.fetchmany(BATCH):
            for row in batch:
                values = list(row)
                for i in blank:
                    values[i] = None
                await copy.write_row(values)


async def _fill_in(
    source: sqlite3.Connection, cur: psycopg.AsyncCursor[Any], table: str, columns: list[str]
) -> None:
    keys = [r[1] for r in source.execute(f'PRAGMA table_info("{table}")') if r[5]]
    assignments = ", ".join(f"{c} = %s" for c in columns)
    where = " AND ".join(f"{k} = %s" for k in keys)
    wanted = " OR ".join(f"{c} IS NOT NULL" for c in columns)
    rows = source.execute(
        f'SELECT {", ".join(columns + keys)} FROM "{table}" WHERE {wanted}'
    ).fetchall()
    if rows:
        await cur.executemany(f"UPDATE {table} SET {assignments} WHERE {where}", rows)


async def _move_sequences(cur: psycopg.AsyncCursor[Any], tables: list[str]) -> None:
    """Identity columns start after the copied ids, so the next ticket gets a new one."""
    await cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in await cur.fetchall():
        if table not in tables:
            continue
        await cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
        )
