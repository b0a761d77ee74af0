"""Group chats bound to a community."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import GroupChat
from storage.rows import Repository, Row, from_db_time, to_db_time


class GroupRepository(Repository):
    async def bind(
        self, chat_id: int, community_id: int, title: str, bound_by: int, now: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO group_chats"
            " (bot_id, chat_id, community_id, title, bound_by, bound_at, active)"
            " VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (bot_id, chat_id) DO UPDATE SET"
            " community_id = excluded.community_id, title = excluded.title,"
            " bound_by = excluded.bound_by, bound_at = excluded.bound_at, active = 1",
            (self._bot, chat_id, community_id, title, bound_by, to_db_time(now)),
        )

    async def find(self, chat_id: int) -> GroupChat | None:
        row = await self._one(
            "SELECT * FROM group_chats WHERE bot_id = ? AND chat_id = ?", (self._bot, chat_id)
        )
        return None if row is None else _to_group(row)

    async def list_by_community(self, community_id: int) -> list[GroupChat]:
        rows = await self._all(
            "SELECT * FROM group_chats WHERE community_id = ? AND active = 1"
            " AND (? IS NULL OR bot_id = ?) ORDER BY bound_at, bot_id",
            # A bot posts only to the groups it was added to; a command-line task sees all.
            (community_id, self._bot_id, self._bot_id),
        )
        return [_to_group(r) for r in rows]

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Carry a binding over when Telegram upgrades a group to a supergroup."""
        # The supergroup may already have a row of its own (bound again after the
        # upgrade): the old group's binding replaces it.
        mine = (self._bot,)
        exists = await self._scalar(
            "SELECT 1 FROM group_chats WHERE bot_id = ? AND chat_id = ?", (*mine, old_chat_id)
        )
        if exists:
            await self._exec(
                "DELETE FROM group_chats WHERE bot_id = ? AND chat_id = ?", (*mine, new_chat_id)
            )
        changed = await self._exec(
            "UPDATE group_chats SET chat_id = ? WHERE bot_id = ? AND chat_id = ?",
            (new_chat_id, *mine, old_chat_id),
        )
        await self._exec(
            "UPDATE outbox SET chat_id = ? WHERE bot_id = ? AND chat_id = ?",
            (new_chat_id, *mine, old_chat_id),
        )
        return changed > 0

    async def deactivate(self, chat_id: int) -> None:
        await self._exec(
            "UPDATE group_chats SET active = 0 WHERE bot_id = ? AND chat_id = ?",
            (self._bot, chat_id),
        )


def _to_group(row: Row) -> GroupChat:
    return GroupChat(
        chat_id=row["chat_id"],
        community_id=row["community_id"],
        title=row["title"],
        bound_by=row["bound_by"],
        bound_at=from_db_time(row["bound_at"]),
        active=bool(row["active"]),
    )
