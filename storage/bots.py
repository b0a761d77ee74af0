"""Which bot serves which community, when several bots share one database.

Telegram's sending limits are per bot, so a city runs one bot (one token, one set of
processes) per sub-district over one database. Each community is bound to the bot that
serves it; update ids, chats, the outbox, leases and sending budgets are per bot
(storage/migrations/021_bots.sql). A community nobody has bound yet — made by a
command-line task, or in a database from before bots were counted — is adopted by the
first bot that starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import NotFound
from storage.rows import Repository


@dataclass(frozen=True, slots=True)
class Adopted:
    communities: int
    rows: int  # messages, updates, processed keys, refusals and groups taken over


@dataclass(frozen=True, slots=True)
class BotCommunities:
    bot_id: int | None  # None: not yet bound
    codes: tuple[str, ...]


class BotRepository(Repository):
    async def adopt(self, bot_id: int, *, everything: bool = False) -> Adopted:
        """Bind what no bot serves yet to ``bot_id`` (per-bot rows of bot 0: written
        before bots were counted, or by a command-line task).

        ``everything``: every community and its chats, whichever bot served them — for a
        database only one bot can use (a SQLite file), whose token may have changed.
        """
        if bot_id <= 0:
            raise ValueError("a bot id is a positive number")
        communities = await self._exec(
            "UPDATE communities SET bot_id = ? WHERE bot_id IS NULL"
            + (" OR bot_id <> ?" if everything else ""),
            (bot_id, bot_id) if everything else (bot_id,),
        )
        others, params = ("bot_id <> ?", (bot_id,)) if everything else ("bot_id = 0", ())
        rows = await self._exec(f"UPDATE outbox SET bot_id = ? WHERE {others}", (bot_id, *params))
        # A group both bots were bound in keeps the new bot's binding.
        rows += await self._exec(
            f"UPDATE group_chats SET bot_id = ? WHERE {others}"
            " AND NOT EXISTS (SELECT 1 FROM group_chats m WHERE m.bot_id = ?"
            " AND m.chat_id = group_chats.chat_id)",
            (bot_id, *params, bot_id),
        )
        # Update ids are another bot's numbering, and a refusal was another bot's: only
        # the unbound ones are taken over.
        for table, key in (
            ("inbox", "update_id"),
            ("processed_updates", "update_id"),
            ("unreachable_people", "person_id"),
        ):
            rows += await self._exec(
                f"UPDATE {table} SET bot_id = ? WHERE bot_id = 0"
                f" AND NOT EXISTS (SELECT 1 FROM {table} m WHERE m.bot_id = ?"
                f" AND m.{key} = {table}.{key})",
                (bot_id, bot_id),
            )
        return Adopted(communities, rows)

    async def any_unbound(self) -> bool:
        found = await self._scalar("SELECT 1 FROM communities WHERE bot_id IS NULL LIMIT 1")
        return found is not None

    async def bind(self, code: str, bot_id: int) -> int:
        """Move a community (and its group chats) to another bot; returns the groups moved.

        The new bot must be added to those groups in Telegram to post there.
        """
        found = await self._scalar("SELECT id FROM communities WHERE code = ?", (code,))
        if found is None:
            raise NotFound("errors.community_not_found")
        await self._exec("UPDATE communities SET bot_id = ? WHERE id = ?", (bot_id, found))
        return await self._exec(
            "UPDATE group_chats SET bot_id = ? WHERE community_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM group_chats m WHERE m.bot_id = ?"
            " AND m.chat_id = group_chats.chat_id)",
            (bot_id, found, bot_id),
        )

    async def served(self) -> list[BotCommunities]:
        """Each bot with the codes of the communities it serves, unbound ones first."""
        rows = await self._all("SELECT bot_id, code FROM communities ORDER BY bot_id, code")
        grouped: dict[int | None, list[str]] = {}
        for row in rows:
            bot = None if row["bot_id"] is None else int(row["bot_id"])
            grouped.setdefault(bot, []).append(row["code"])
        ordered = sorted(grouped.items(), key=lambda item: (item[0] is not None, item[0] or 0))
        return [BotCommunities(bot, tuple(codes)) for bot, codes in ordered]
