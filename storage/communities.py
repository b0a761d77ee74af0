"""Communities and their rule settings."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.errors import NotFound
from bot.domain.models import Community
from bot.domain.rules import CommunityRules
from storage.rows import Repository, Row, from_db_time, to_db_time
from storage.tickets import TicketRepository

log = logging.getLogger(__name__)


class CommunityRepository(Repository):
    async def add(self, code: str, name: str, timezone: str, now: datetime) -> Community:
        # Bound to the bot that created it; a command-line task's stays unbound until
        # a bot adopts it (storage/bots.py).
        new_id = await self._insert(
            "INSERT INTO communities (code, name, timezone, created_at, bot_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (code, name, timezone, to_db_time(now), self._bot_id),
        )
        return await self.get(new_id)

    async def get(self, community_id: int) -> Community:
        found = await self.find(community_id)
        if found is None:
            raise NotFound("errors.community_not_found")
        return found

    async def find(self, community_id: int) -> Community | None:
        row = await self._one("SELECT * FROM communities WHERE id = ?", (community_id,))
        return None if row is None else _to_community(row)

    async def find_by_code(self, code: str) -> Community | None:
        row = await self._one("SELECT * FROM communities WHERE code = ?", (code,))
        return None if row is None else _to_community(row)

    async def list_all(self) -> list[Community]:
        """The communities this bot serves (every one, for a command-line task)."""
        if self._bot_id is None:
            return await self.list_every()
        rows = await self._all(
            "SELECT * FROM communities WHERE bot_id = ? ORDER BY name, id", (self._bot_id,)
        )
        return [_to_community(r) for r in rows]

    async def list_every(self) -> list[Community]:
        """Every community in the database, whichever bot serves it (city-wide reading)."""
        rows = await self._all("SELECT * FROM communities ORDER BY name, id")
        return [_to_community(r) for r in rows]

    def serves(self, community: Community) -> bool:
        """Whether this bot may act for the community (a command-line task may for all)."""
        return self._bot_id is None or community.bot_id == self._bot_id

    async def rename(self, community_id: int, name: str, timezone: str) -> None:
        await self._exec(
            "UPDATE communities SET name = ?, timezone = ? WHERE id = ?",
            (name, timezone, community_id),
        )
        # Local 09:00 reminders and day-based deadlines move with the time zone.
        await TicketRepository(self._conn).replan_community(community_id)

    async def rules(self, community_id: int) -> CommunityRules:
        rows = await self._all(
            "SELECT key, value FROM community_settings WHERE community_id = ?", (community_id,)
        )

        def keep_default(key: str, value: str, problem: ValueError) -> None:
            log.warning(
                "stored rule ignored community_id=%s key=%s value=%r: %s",
                community_id,
                key,
                value,
                problem,
            )

        stored = {r["key"]: r["value"] for r in rows}
        return CommunityRules.from_mapping(stored, on_invalid=keep_default)

    async def set_rule(self, community_id: int, key: str, value: str) -> None:
        await self._exec(
            "INSERT INTO community_settings (community_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (community_id, key) DO UPDATE SET value = excluded.value",
            (community_id, key, value),
        )
        # E.g. accept_workdays moves when a late acceptance is reported.
        await TicketRepository(self._conn).replan_community(community_id)


def _to_community(row: Row) -> Community:
    return Community(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        timezone=row["timezone"],
        created_at=from_db_time(row["created_at"]),
        bot_id=None if row["bot_id"] is None else int(row["bot_id"]),
    )
