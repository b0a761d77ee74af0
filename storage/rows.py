"""Small helpers shared by the repositories: time as UTC text, rows, and the connection
both backends offer.

Repositories write one SQL for both databases: ``?`` placeholders, ``ON CONFLICT``,
``RETURNING``, ``COALESCE``. A statement that cannot be written once asks
``self._dialect`` — rare, and always next to the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


def to_db_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


class Row(Protocol):
    """A result row read by column name or position (``Row`` is one)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Executed:
    rowcount: int
    lastrowid: int | None


class Connection(Protocol):
    """One database connection inside a unit of work, whichever the backend."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Executed: ...

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class Repository:
    """Base: a repository works inside the transaction that owns the connection."""

    def __init__(self, conn: Connection, bot_id: int | None = None) -> None:
        self._conn = conn
        # The bot this process speaks as (several bots may share one database; see
        # storage/bots.py). None: no bot (a command-line task), reading every community.
        self._bot_id = bot_id

    @property
    def _bot(self) -> int:
        """The bot id stored with per-bot rows: 0 until a bot adopts them."""
        return self._bot_id or 0

    def _served(self, column: str = "community_id") -> str:
        """A condition: the row's community is one this bot serves (any, for a task).
        Takes ``self._served_params`` as its parameters."""
        return f"(? IS NULL OR {column} IN (SELECT id FROM communities WHERE bot_id = ?))"

    @property
    def _served_params(self) -> tuple[int | None, int | None]:
        return (self._bot_id, self._bot_id)

    def _per_bot(self, key: str) -> str:
        """A key of this bot's own (a lease, a sending budget): each bot has its own."""
        return f"{self._bot}/{key}"

    @property
    def _dialect(self) -> Dialect:
        return self._conn.dialect

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self._conn.fetch_all(sql, tuple(params))
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self._conn.fetch_all(sql, tuple(params))

    async def _insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """An INSERT into a table keyed by ``id``; returns the new row's id."""
        row = await self._one(sql + " RETURNING id", params)
        if row is None:
            raise RuntimeError("insert returned no row id")
        return int(row[0])

    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int:
        return (await self._conn.execute(sql, tuple(params))).rowcount

    def _limit(self, limit: int | None) -> int | None:
        """A LIMIT parameter; None is "no limit" (SQLite spells it -1, PostgreSQL NULL)."""
        if limit is None and self._dialect == "sqlite":
            return -1
        return limit

    def _json_ids(self) -> str:
        """``(SELECT …)`` of the integers in one JSON array parameter: a whole batch in
        one statement, however many (a list of ``?`` would hit the parameter limit)."""
        if self._dialect == "postgresql":
            return "(SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(? AS json)))"
        return "(SELECT value FROM json_each(?))"

    def _json_texts(self) -> str:
        """As ``_json_ids``, for strings."""
        if self._dialect == "postgresql":
            return "(SELECT value FROM json_array_elements_text(CAST(? AS json)))"
        return "(SELECT value FROM json_each(?))"

    async def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]
