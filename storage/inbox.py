"""The durable inbox: updates stored on receipt, claimed by workers a chat at a time.

An update is stored before Telegram is told it arrived (the next getUpdates offset, or a
webhook's 200), so nothing acknowledged is lost. A worker claims the oldest unfinished
update of a chat — a chat's updates keep their order — under a lease; an update whose
worker died is taken over once the lease has run out. Lease times are wall-clock
instants the callers pass in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from storage.rows import Repository, Row, to_db_time

MAX_ATTEMPTS = 3
ERROR_CHARS = 1000


class Incoming(NamedTuple):
    """An update as received: set aside at once when ``error`` says it cannot be read."""

    update_id: int | None
    chat_key: str
    payload: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    update_id: int | None
    chat_key: str
    payload: str
    attempts: int


# The oldest unfinished update of each chat is the only one of that chat that may be
# claimed, and only when nobody holds it (waiting) or its holder's lease ran out.
_CLAIMABLE = (
    "SELECT i.id FROM inbox i"
    " WHERE i.bot_id = ? AND i.state IN ('waiting', 'working')"
    " AND (i.state = 'waiting' OR i.lease_until < ?)"
    " AND NOT EXISTS (SELECT 1 FROM inbox o WHERE o.bot_id = i.bot_id"
    "  AND o.state IN ('waiting', 'working') AND o.chat_key = i.chat_key AND o.id < i.id)"
    " ORDER BY i.id LIMIT 1"
)


class InboxRepository(Repository):
    async def store_batch(self, updates: Sequence[Incoming], now: datetime) -> None:
        """Store a batch in one statement; an update stored before is left as it was."""
        if not updates:
            return
        received = to_db_time(now)
        await self._conn.execute_many(
            "INSERT INTO inbox (bot_id, update_id, chat_key, payload, received_at, state, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (
                    self._bot,
                    u.update_id,
                    u.chat_key,
                    u.payload,
                    received,
                    "waiting" if u.error is None else "set_aside",
                    None if u.error is None else u.error[:ERROR_CHARS],
                )
                for u in updates
            ],
        )

    async def claim(self, worker: str, now: datetime, lease_s: float) -> Claimed | None:
        """Take the next update a worker may handle, with a lease; None if there is none.

        Run it in ``db.claim()``: on PostgreSQL two workers skip each other's locked rows
        instead of waiting; SQLite's single writer serialises the claims anyway.
        """
        pick = _CLAIMABLE
        if self._dialect == "postgresql":
            pick += " FOR UPDATE SKIP LOCKED"
        row = await self._one(
            "UPDATE inbox SET state = 'working', worker = ?, lease_until = ?,"
            f" attempts = attempts + 1 WHERE id = ({pick})"
            " RETURNING id, update_id, chat_key, payload, attempts",
            (worker, _until(now, lease_s), self._bot, to_db_time(now)),
        )
        return None if row is None else _to_claimed(row)

    async def claimable(self, now: datetime) -> bool:
        """Whether a claim now would find something (a cheap read for idle workers)."""
        return await self._scalar(_CLAIMABLE, (self._bot, to_db_time(now))) is not None

    async def renew(self, item_id: int, worker: str, until: datetime) -> bool:
        """Extend my lease; False if the update is no longer mine."""
        changed = await self._exec(
            "UPDATE inbox SET lease_until = ? WHERE id = ? AND worker = ? AND state = 'working'",
            (to_db_time(until), item_id, worker),
        )
        return changed > 0

    async def finish(self, item_id: int, now: datetime) -> None:
        await self._exec(
            "UPDATE inbox SET state = 'done', done_at = ?, lease_until = NULL WHERE id = ?",
            (to_db_time(now), item_id),
        )

    async def fail(
        self, item_id: int, error: str, now: datetime, max_attempts: int = MAX_ATTEMPTS
    ) -> str:
        """Back to waiting for another try, or set aside after ``max_attempts``; returns
        the new state."""
        row = await self._one(
            "UPDATE inbox SET state = CASE WHEN attempts >= ? THEN 'set_aside' ELSE 'waiting'"
            " END, error = ?, lease_until = NULL, worker = NULL,"
            " done_at = CASE WHEN attempts >= ? THEN ? ELSE NULL END"
            " WHERE id = ? RETURNING state",
            (max_attempts, error[:ERROR_CHARS], max_attempts, to_db_time(now), item_id),
        )
        return "missing" if row is None else str(row["state"])

    async def set_aside(self, item_id: int, error: str) -> None:
        """Never try this update again; it stays, with its error, for a person to read."""
        await self._exec(
            "UPDATE inbox SET state = 'set_aside', error = ?, lease_until = NULL WHERE id = ?",
            (error[:ERROR_CHARS], item_id),
        )

    async def release(self, item_id: int, worker: str) -> bool:
        """Hand an update I hold back to the queue at once (stopping mid-handling)."""
        changed = await self._exec(
            "UPDATE inbox SET state = 'waiting', worker = NULL, lease_until = NULL"
            " WHERE id = ? AND worker = ? AND state = 'working'",
            (item_id, worker),
        )
        return changed > 0

    async def requeue_working(self) -> int:
        """Every held update back to waiting: for a database only this process uses
        (SQLite), whose holders all died with the last run."""
        return await self._exec(
            "UPDATE inbox SET state = 'waiting', worker = NULL, lease_until = NULL"
            " WHERE state = 'working'"
        )

    async def prune_done(self, before: datetime) -> int:
        """Forget handled updates finished before ``before``; set-aside ones stay."""
        return await self._exec(
            "DELETE FROM inbox WHERE bot_id = ? AND state = 'done' AND done_at < ?",
            (self._bot, to_db_time(before)),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT state, COUNT(*) AS n FROM inbox WHERE bot_id = ? GROUP BY state", (self._bot,)
        )
        return {r["state"]: int(r["n"]) for r in rows}

    async def unfinished(self) -> int:
        """How many updates are waiting or being handled."""
        found = await self._scalar(
            "SELECT COUNT(*) FROM inbox WHERE bot_id = ? AND state IN ('waiting', 'working')",
            (self._bot,),
        )
        return int(found or 0)

    async def latest_update_id(self) -> int | None:
        found = await self._scalar(
            "SELECT MAX(update_id) FROM inbox WHERE bot_id = ?", (self._bot,)
        )
        return None if found is None else int(found)

    async def set_aside_list(self) -> list[tuple[int | None, str]]:
        """The updates set aside, oldest first, as (update id, error)."""
        rows = await self._all(
            "SELECT update_id, error FROM inbox WHERE bot_id = ? AND state = 'set_aside'"
            " ORDER BY id",
            (self._bot,),
        )
        return [(r["update_id"], r["error"] or "") for r in rows]

    async def state_of(self, update_id: int) -> str | None:
        found = await self._scalar(
            "SELECT state FROM inbox WHERE bot_id = ? AND update_id = ?", (self._bot, update_id)
        )
        return None if found is None else str(found)


def _until(now: datetime, seconds: float) -> str:
    return to_db_time(now + timedelta(seconds=seconds))


def _to_claimed(row: Row) -> Claimed:
    return Claimed(
        id=int(row["id"]),
        update_id=None if row["update_id"] is None else int(row["update_id"]),
        chat_key=row["chat_key"],
        payload=row["payload"],
        attempts=int(row["attempts"]),
    )
