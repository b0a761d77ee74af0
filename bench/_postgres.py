"""The PostgreSQL side of bench_database.py: a throwaway server, the generated district
moved into it with the product's own ``storage.transfer``, and PostgreSQL's own plans
of the statements the measured calls send.

The server is the tests' ``Cluster`` (initdb into a temp dir, loopback only, fsync off:
durability costs nothing the reads measured here pay, and the catch-up tick's commits
would otherwise measure this machine's disk). Stopped and deleted at the end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
_COST = re.compile(r"\s+\(cost=[^)]*\)")


@contextmanager
def cluster() -> Iterator[Any]:
    from tests.postgres_cluster import Cluster

    server = Cluster().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Moved:
    transfer_s: float
    vacuum_s: float
    counts: list[Any]  # storage.transfer.TableCount
    size_bytes: int
    version: str


async def move(sqlite_path: Path, url: str) -> Moved:
    """Copy the district in (``storage.transfer``: migrate, COPY, sequences, counts), then
    VACUUM ANALYZE it: the statistics a live database's autovacuum would have gathered,
    and no autovacuum of a million fresh rows starting in the middle of the timings."""
    from storage.transfer import transfer

    began = time.perf_counter()
    counts = await transfer(sqlite_path, url)
    moved = time.perf_counter() - began
    began = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("VACUUM (ANALYZE)")
        vacuumed = time.perf_counter() - began
        cur = await conn.execute(
            "SELECT pg_database_size(current_database()), current_setting('server_version')"
        )
        row = await cur.fetchone()
    assert row is not None
    return Moved(moved, vacuumed, counts, int(row[0]), str(row[1]).split()[0])


@contextmanager
def capture_sql(sink: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    """Record every statement (with its parameters) a repository sends to PostgreSQL."""
    from storage.postgres import PostgresConnection

    original_fetch_all = PostgresConnection.fetch_all
    original_execute = PostgresConnection.execute

    async def fetch_all(self: Any, sql: str, params: Any = ()) -> Any:
        sink.append((sql, tuple(params or ())))
        return await original_fetch_all(self, sql, params)

    async def execute(self: Any, sql: str, params: Any = ()) -> Any:
        sink.append((sql, tuple(params or ())))
        return await original_execute(self, sql, params)

    PostgresConnection.fetch_all = fetch_all  # type: ignore[method-assign]
    PostgresConnection.execute = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        PostgresConnection.fetch_all = original_fetch_all  # type: ignore[method-assign]
        PostgresConnection.execute = original_execute  # type: ignore[method-assign]


class Planner:
    """EXPLAIN on a connection of its own, parameters bound on the client as the product
    binds them (so the planner sees the same literals)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)

    def close(self) -> None:
        self.conn.close()

    def plan(self, sql: str, params: tuple[Any, ...]) -> list[str]:
        from storage.postgres import to_pyformat

        values = tuple(int(v) if isinstance(v, bool) else v for v in params)
        try:
            with self.conn.cursor() as cur:
                cur.execute(f"EXPLAIN {to_pyformat(sql)}", values)
                lines = [str(r[0]) for r in cur.fetchall()]
        except psycopg.Error as exc:
            return [f"(no plan: {str(exc).splitlines()[0]})"]
        return [_COST.sub("", line).strip().removeprefix("-> ").strip() for line in lines]

    def server_ms(self, sql: str, params: tuple[Any, ...], runs: int = 5) -> float | None:
        """The median time the server spends on a read (planning and execution, from
        EXPLAIN ANALYZE), without the round trip; None for a statement that writes."""
        from storage.postgres import to_pyformat

        if sql.lstrip().split(None, 1)[0].upper() != "SELECT":
            return None
        values = tuple(int(v) if isinstance(v, bool) else v for v in params)
        times = []
        try:
            with self.conn.cursor() as cur:
                for _ in range(runs):
                    cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {to_pyformat(sql)}", values)
                    (doc,) = cur.fetchone() or ([{}],)
                    top = doc[0]
                    times.append(top["Planning Time"] + top["Execution Time"])
        except (psycopg.Error, KeyError):
            return None
        return sorted(times)[len(times) // 2]


def seq_scans(plan: list[str], sizes: dict[str, int], large: int) -> list[str]:
    flagged = []
    for line in plan:
        match = SEQ_SCAN.search(line)
        if match and sizes.get(match.group(1), 0) > large:
            flagged.append(f"{line} ({sizes[match.group(1)]:,} rows)")
    return flagged


def compact(plan: list[str]) -> list[str]:
    """The plan's nodes and their index conditions; filters and sort keys left out."""
    keep = ("Index Cond", "Recheck Cond", "Hash Cond", "Join Filter")
    out = []
    for line in plan:
        if ":" in line.split("(")[0] and not line.startswith(keep):
            continue
        out.append(line)
    return out


async def table_sizes(db: Any) -> dict[str, int]:
    async with db.read() as tx:
        names = await tx.conn.fetch_all(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        sizes = {}
        for (name,) in names:
            (count,) = next(iter(await tx.conn.fetch_all(f"SELECT COUNT(*) FROM {name}")))
            sizes[str(name)] = int(count)
    return sizes


async def hop_costs(db: Any, url: str, samples: int = 500) -> dict[str, list[float]]:
    """What one query costs as a round trip, by the way it is sent."""
    out: dict[str, list[float]] = {"psycopg": [], "fetch_all": [], "read()": []}
    with psycopg.connect(url, autocommit=True) as plain:
        for _ in range(samples):
            began = time.perf_counter()
            plain.execute("SELECT 1").fetchone()
            out["psycopg"].append(time.perf_counter() - began)
    async with db.pool.connection() as raw:
        from storage.postgres import PostgresConnection

        conn = PostgresConnection(raw)
        for _ in range(samples):
            began = time.perf_counter()
            await conn.fetch_all("SELECT 1")
            out["fetch_all"].append(time.perf_counter() - began)
    for _ in range(samples):
        began = time.perf_counter()
        async with db.read() as tx:
            await tx.conn.fetch_all("SELECT 1")
        out["read()"].append(time.perf_counter() - began)
    return out
