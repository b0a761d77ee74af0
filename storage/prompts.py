"""The question each person is asked to answer next, its payload kept as JSON."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.prompts import BadPayload, Prompt, from_json, to_json
from storage.rows import Repository, from_db_time, to_db_time

log = logging.getLogger(__name__)


class PromptRepository(Repository):
    async def get(self, person_id: int, now: datetime) -> Prompt | None:
        """The person's open question; an expired or unreadable one counts as none."""
        row = await self._one(
            "SELECT kind, payload, expires_at FROM prompts WHERE person_id = ? AND expires_at > ?",
            (person_id, to_db_time(now)),
        )
        if row is None:
            return None
        try:
            payload = from_json(row["kind"], row["payload"])
        except BadPayload:
            log.warning("unreadable prompt person=%s kind=%s", person_id, row["kind"])
            return None
        return Prompt(payload, from_db_time(row["expires_at"]))

    async def put(self, person_id: int, prompt: Prompt) -> None:
        """Ask: a person has one open question, so a new one replaces the last."""
        await self._exec(
            "INSERT INTO prompts (person_id, kind, payload, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET kind = excluded.kind, "
            "payload = excluded.payload, expires_at = excluded.expires_at",
            (person_id, prompt.kind.value, to_json(prompt.payload), to_db_time(prompt.expires_at)),
        )

    async def clear(self, person_id: int) -> bool:
        return await self._exec("DELETE FROM prompts WHERE person_id = ?", (person_id,)) > 0
