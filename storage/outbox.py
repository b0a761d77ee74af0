"""The durable outbox: messages written with the state change that caused them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.rows import Repository, Row, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    not_before: datetime


class OutboxRepository(Repository):
    async def add(
        self,
        chat_id: int,
        payload: dict[str, Any],
        now: datetime,
        *,
        kind: str = "text",
        dedupe_key: str | None = None,
        batch: str | None = None,
    ) -> int | None:
        """Queue a message; with a dedupe_key, a second identical request is ignored."""
        row = await self._one(
            "INSERT INTO outbox (bot_id, chat_id, kind, payload, dedupe_key, not_before,"
            " created_at, batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (
                self._bot,
                chat_id,
                kind,
                json.dumps(payload, ensure_ascii=False),
                dedupe_key,
                to_db_time(now),
                to_db_time(now),
                batch,
            ),
        )
        return None if row is None else int(row[0])

    async def due(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        rows = await self._all(
            "SELECT * FROM outbox WHERE bot_id = ? AND status = 'pending' AND not_before <= ?"
            " ORDER BY not_before, id LIMIT ?",
            (self._bot, to_db_time(now), limit),
        )
        return [_to_item(r) for r in rows]

    async def claim_due(
        self, sender: str, now: datetime, limit: int, lease_s: float
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` due messages as being sent by ``sender``, with a lease.

        Two senders never hold one message, and a chat being sent by another sender is
        left to it, so a chat's messages keep their order. Run it in ``db.claim()``.
        """
        at = to_db_time(now)
        pick = (
            "SELECT o.id FROM outbox o"
            " WHERE o.bot_id = ? AND ((o.status = 'pending' AND o.not_before <= ?)"
            "  OR (o.status = 'sending' AND o.lease_until < ?))"
            " AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.bot_id = o.bot_id"
            "  AND s.chat_id = o.chat_id"
            "  AND s.status = 'sending' AND s.lease_until >= ? AND s.sender <> ?)"
            " ORDER BY o.not_before, o.id LIMIT ?"
        )
        if self._dialect == "postgresql":
            pick += " FOR UPDATE SKIP LOCKED"
        rows = await self._all(
            "UPDATE outbox SET status = 'sending', sender = ?, lease_until = ?"
            f" WHERE id IN ({pick}) RETURNING *",
            (
                sender,
                to_db_time(now + timedelta(seconds=lease_s)),
                self._bot,
                at,
                at,
                at,
                sender,
                limit,
            ),
        )
        items = [_to_item(r) for r in rows]
        return sorted(items, key=lambda i: (i.not_before, i.id))

    async def release(self, item_ids: list[int], sender: str) -> int:
        """Hand back claimed messages this sender did not get to (due again at once)."""
        if not item_ids:
            return 0
        return await self._exec(
            "UPDATE outbox SET status = 'pending', sender = NULL, lease_until = NULL"
            f" WHERE id IN {self._json_ids()} AND status = 'sending' AND sender = ?",
            (json.dumps(item_ids), sender),
        )

    async def requeue_sending(self) -> int:
        """Every claimed message back to pending: for a database only this process uses
        (SQLite), whose senders all died with the last run."""
        return await self._exec(
            "UPDATE outbox SET status = 'pending', sender = NULL, lease_until = NULL"
            " WHERE bot_id = ? AND status = 'sending'",
            (self._bot,),
        )

    async def unsettled(self, now: datetime) -> int:
        """How many messages are due now or being sent."""
        found = await self._scalar(
            "SELECT COUNT(*) FROM outbox WHERE bot_id = ?"
            " AND ((status = 'pending' AND not_before <= ?) OR status = 'sending')",
            (self._bot, to_db_time(now)),
        )
        return int(found or 0)

    async def next_due_at(self) -> datetime | None:
        value = await self._scalar(
            "SELECT MIN(not_before) FROM outbox WHERE bot_id = ? AND status = 'pending'",
            (self._bot,),
        )
        return None if value is None else from_db_time(value)

    async def mark_sent(self, item_id: int, now: datetime) -> None:
        await self._exec(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db_time(now), item_id),
        )

    async def retry_later(self, item_id: int, not_before: datetime, error: str) -> None:
        await self._exec(
            "UPDATE outbox SET status = 'pending', attempts = attempts + 1, not_before = ?,"
            " last_error = ? WHERE id = ?",
            (to_db_time(not_before), error[:500], item_id),
        )

    async def postpone(self, item_id: int, not_before: datetime) -> None:
        """Flood control pushed it back; that is not a failed attempt."""
        await self._exec(
            "UPDATE outbox SET status = 'pending', not_before = ? WHERE id = ?",
            (to_db_time(not_before), item_id),
        )

    async def hold_chat(self, chat_id: int, after_id: int, not_before: datetime) -> int:
        """Push back what is queued for a chat after an item that has to wait.

        A later message must not overtake the one Telegram made wait: a chat's messages
        arrive in the order they were queued.
        """
        return await self._exec(
            "UPDATE outbox SET not_before = ? WHERE not_before < ? AND bot_id = ?"
            " AND chat_id = ? AND status IN ('pending', 'sending') AND id > ?",
            (to_db_time(not_before), to_db_time(not_before), self._bot, chat_id, after_id),
        )

    async def prune_finished(self, before: datetime, limit: int = 5000) -> int:
        """Forget up to ``limit`` messages that were settled (sent, failed, blocked) and
        were due before ``before``; an announcement still waiting for its delivery
        report keeps its rows. Returns how many were deleted."""
        return await self._exec(
            "DELETE FROM outbox WHERE id IN ("
            " SELECT id FROM outbox WHERE status IN ('sent', 'failed', 'blocked')"
            " AND not_before < ?"
            " AND (batch IS NULL OR batch NOT IN"
            "  (SELECT 'ann:' || id FROM announcements WHERE reported_at IS NULL))"
            " LIMIT ?)",
            (to_db_time(before), limit),
        )

    async def give_up(self, item_id: int, status: str, error: str) -> None:
        await self._exec(
            "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            (status, error[:500], item_id),
        )

    async def skip_chat(self, chat_id: int, status: str) -> int:
        """Stop everything queued for a chat that can no longer be reached."""
        return await self._exec(
            "UPDATE outbox SET status = ? WHERE bot_id = ? AND chat_id = ?"
            " AND status IN ('pending', 'sending')",
            (status, self._bot, chat_id),
        )

    async def count_by_status(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE bot_id = ? GROUP BY status",
            (self._bot,),
        )
        return {r["status"]: r["n"] for r in rows}


def _to_item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        attempts=row["attempts"],
        not_before=from_db_time(row["not_before"]),
    )
