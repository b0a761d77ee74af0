"""Processed updates and fired occurrences: the keys that make work happen once."""

from __future__ import annotations

import json
from datetime import datetime

from storage.rows import Repository, to_db_time


class UpdateLog(Repository):
    async def seen(self, update_id: int) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM processed_updates WHERE bot_id = ? AND update_id = ?",
            (self._bot, update_id),
        )
        return found is not None

    async def seen_among(self, update_ids: list[int]) -> set[int]:
        """Which of these updates were processed, in one statement for a whole batch."""
        if not update_ids:
            return set()
        rows = await self._all(
            "SELECT update_id FROM processed_updates"
            f" WHERE bot_id = ? AND update_id IN {self._json_ids()}",
            (self._bot, json.dumps(update_ids)),
        )
        return {r["update_id"] for r in rows}

    async def mark(self, update_id: int, now: datetime) -> None:
        await self._exec(
            "INSERT INTO processed_updates (bot_id, update_id, processed_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (self._bot, update_id, to_db_time(now)),
        )

    async def latest(self) -> int | None:
        """The highest update id processed (and not yet pruned), if any."""
        found = await self._scalar(
            "SELECT MAX(update_id) FROM processed_updates WHERE bot_id = ?", (self._bot,)
        )
        return int(found) if found is not None else None

    async def prune_before(self, cutoff: datetime) -> int:
        return await self._exec(
            "DELETE FROM processed_updates WHERE processed_at < ?", (to_db_time(cutoff),)
        )


class OccurrenceLog(Repository):
    async def claim(self, key: str, now: datetime) -> bool:
        """Record an occurrence; False if it already fired."""
        changed = await self._exec(
            "INSERT INTO occurrences (key, fired_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, to_db_time(now)),
        )
        return changed > 0

    async def exists(self, key: str) -> bool:
        found = await self._scalar("SELECT 1 FROM occurrences WHERE key = ?", (key,))
        return found is not None

    async def existing(self, keys: list[str]) -> set[str]:
        """Which of these keys already fired, in one statement however many there are."""
        if not keys:
            return set()
        rows = await self._all(
            f"SELECT key FROM occurrences WHERE key IN {self._json_texts()}",
            (json.dumps(keys),),
        )
        return {r["key"] for r in rows}
